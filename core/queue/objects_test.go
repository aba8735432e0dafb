package queue_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/swelego/swelego/core/queue"
	"github.com/swelego/swelego/core/queue/queuetest"
)

// TestObjects: a worker does not make the bucket; a file uploaded is
// named by its digest and sent once (a
// second upload, by another client, stores nothing new); workers' slots
// fetching it at the same time into one cache leave one whole file; an
// object whose content is not its digest's is an error and leaves no
// file; a name that is no digest is refused before any download.
func TestObjects(t *testing.T) {
	url := queuetest.Start(t)
	ctx := context.Background()
	dir := t.TempDir()
	// Larger than one chunk of the object store (128 KiB).
	content := bytes.Repeat([]byte("a git bundle, say\n"), 20000)
	src := filepath.Join(dir, "textkit.bundle")
	if err := os.WriteFile(src, content, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	want := queue.Object{Digest: hex.EncodeToString(sum[:]), Size: int64(len(content))}

	// A worker before any upload: an error, and no bucket made.
	early := connect(t, url, "early worker", queue.Options{})
	if err := early.Fetch(ctx, want, filepath.Join(t.TempDir(), "x.bundle")); !errors.Is(err, jetstream.ErrBucketNotFound) {
		t.Errorf("fetch before any upload: %v, want %v", err, jetstream.ErrBucketNotFound)
	}

	coord := connect(t, url, "coordinator", queue.Options{})
	o, err := coord.Upload(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if o != want {
		t.Fatalf("uploaded %+v, want %+v", o, want)
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	obs, err := js.ObjectStore(ctx, queue.ObjectsBucket)
	if err != nil {
		t.Fatal(err)
	}
	first, err := obs.GetInfo(ctx, "sha256-"+want.Digest)
	if err != nil {
		t.Fatal(err)
	}
	again, err := connect(t, url, "another run", queue.Options{}).Upload(ctx, src)
	if err != nil || again != want {
		t.Fatalf("second upload: %+v, %v", again, err)
	}
	second, err := obs.GetInfo(ctx, "sha256-"+want.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if second.NUID != first.NUID {
		t.Errorf("the second upload stored the object again")
	}

	worker := connect(t, url, "worker", queue.Options{})
	cache := filepath.Join(t.TempDir(), "objects", want.Digest, "textkit.bundle")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = worker.Fetch(ctx, want, cache)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("fetch %d: %v", i, err)
		}
	}
	if got, err := os.ReadFile(cache); err != nil || !bytes.Equal(got, content) {
		t.Errorf("fetched %d bytes (%v), want %d", len(got), err, len(content))
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(cache), ".fetch-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// Another content stored under a digest's name.
	forged := queue.Object{Digest: hex.EncodeToString(make([]byte, 32)), Size: 5}
	if _, err := obs.PutBytes(ctx, "sha256-"+forged.Digest, []byte("other")); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "forged.bundle")
	if err := worker.Fetch(ctx, forged, dest); !errors.Is(err, queue.ErrDigestMismatch) {
		t.Errorf("fetch of a forged object: %v, want %v", err, queue.ErrDigestMismatch)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Errorf("a forged object left a file: %v", err)
	}
	if err := worker.Fetch(ctx, queue.Object{Digest: "../../etc"}, dest); err == nil {
		t.Errorf("a name that is no digest was fetched")
	}
	missing := queue.Object{Digest: hex.EncodeToString(bytes.Repeat([]byte{1}, 32))}
	if err := worker.Fetch(ctx, missing, dest); !errors.Is(err, jetstream.ErrObjectNotFound) {
		t.Errorf("fetch of a missing object: %v, want %v", err, jetstream.ErrObjectNotFound)
	}
}
