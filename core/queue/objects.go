package queue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// ObjectsBucket is the object store bucket files travel through
// (repository bundles), each named after its content's digest.
const ObjectsBucket = "SWELEGO_REPOS"

// ErrDigestMismatch is returned by Fetch when what the store holds under
// an object's name is not the content its digest names.
var ErrDigestMismatch = errors.New("the object's content does not match its digest")

// Object is a file in the ObjectsBucket: named by the SHA-256 of its
// content, so that the same file uploaded twice, by one run or by many, is
// stored once.
type Object struct {
	// Digest is the hex SHA-256 of the content.
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

var digestRe = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Valid reports whether o names an object: a hex SHA-256 digest (what an
// item from the network says is checked before it names a file).
func (o Object) Valid() bool { return digestRe.MatchString(o.Digest) }

// name is the object's name in the bucket.
func (o Object) name() string { return "sha256-" + o.Digest }

// objects returns the objects bucket; create makes it when it is missing
// (an uploader's call: a worker only reads what a coordinator uploaded).
func (c *Client) objects(ctx context.Context, create bool) (jetstream.ObjectStore, error) {
	c.objMu.Lock()
	defer c.objMu.Unlock()
	if c.obs != nil {
		return c.obs, nil
	}
	obs, err := c.js.ObjectStore(ctx, ObjectsBucket)
	if create && errors.Is(err, jetstream.ErrBucketNotFound) {
		obs, err = c.js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
			Bucket: ObjectsBucket, Description: "swelego: repository bundles by content digest", Storage: jetstream.FileStorage,
		})
	}
	if err != nil {
		return nil, fmt.Errorf("object store %s: %w", ObjectsBucket, err)
	}
	c.obs = obs
	return obs, nil
}

// Upload stores the file at path in the ObjectsBucket under its digest
// and returns the object; a file the bucket holds already (same digest and
// size) is not sent again.
func (c *Client) Upload(ctx context.Context, path string) (Object, error) {
	o, err := digestFile(path)
	if err != nil {
		return o, err
	}
	obs, err := c.objects(ctx, true)
	if err != nil {
		return o, err
	}
	if info, err := obs.GetInfo(ctx, o.name()); err == nil && !info.Deleted && int64(info.Size) == o.Size {
		return o, nil
	} else if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return o, fmt.Errorf("object store %s: look up %s: %w", ObjectsBucket, path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return o, err
	}
	defer f.Close()
	if _, err := obs.Put(ctx, jetstream.ObjectMeta{Name: o.name(), Description: filepath.Base(path)}, f); err != nil {
		return o, fmt.Errorf("object store %s: upload %s: %w", ObjectsBucket, path, err)
	}
	c.opts.Logger.Info("queue: uploaded", "file", path, "digest", o.Digest, "bytes", o.Size)
	return o, nil
}

// Fetch makes dest hold object o: a file already there is taken as it is
// (Fetch only ever puts there a file of o's digest); else the object is
// downloaded beside it, its digest checked, and renamed into place, so
// that two fetches of one object, in this process or another sharing the
// folder, never leave a partial file.
func (c *Client) Fetch(ctx context.Context, o Object, dest string) error {
	if !o.Valid() {
		return fmt.Errorf("object %q: not a SHA-256 digest", o.Digest)
	}
	if _, err := os.Stat(dest); err == nil {
		return nil
	}
	l := c.fetchLock(dest)
	l.Lock()
	defer l.Unlock()
	if _, err := os.Stat(dest); err == nil {
		return nil // fetched by another slot meanwhile
	}
	obs, err := c.objects(ctx, false)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".fetch-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	r, err := obs.Get(ctx, o.name())
	if err != nil {
		return fmt.Errorf("object store %s: fetch %s: %w", ObjectsBucket, o.Digest, err)
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), r)
	if err != nil {
		return fmt.Errorf("object store %s: fetch %s: %w", ObjectsBucket, o.Digest, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != o.Digest {
		return fmt.Errorf("object store %s: object %s: %w (got %s, %d bytes)", ObjectsBucket, o.Digest, ErrDigestMismatch, got, n)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return err
	}
	c.opts.Logger.Info("queue: fetched", "digest", o.Digest, "bytes", n, "file", dest)
	return nil
}

func (c *Client) fetchLock(dest string) *sync.Mutex {
	c.objMu.Lock()
	defer c.objMu.Unlock()
	if c.fetching == nil {
		c.fetching = map[string]*sync.Mutex{}
	}
	l, ok := c.fetching[dest]
	if !ok {
		l = &sync.Mutex{}
		c.fetching[dest] = l
	}
	return l
}

// digestFile returns the object the file at path would be.
func digestFile(path string) (Object, error) {
	f, err := os.Open(path)
	if err != nil {
		return Object{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return Object{}, fmt.Errorf("%s: %w", path, err)
	}
	return Object{Digest: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}
