package envimage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/swelego/swelego/core/sandbox"
)

// storeLabel labels every image imported from a store with the store's
// folder, so Prune removes only images of its own store.
const storeLabel = "swelego.store"

// dockerClient is a client of the Docker Engine, or nil when none answers.
func dockerClient(ctx context.Context) *client.Client {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(pctx); err != nil {
		cli.Close()
		return nil
	}
	return cli
}

func imported(ctx context.Context, cli *client.Client, name string) bool {
	_, err := cli.ImageInspect(ctx, name)
	return err == nil
}

// importRootFS imports the root file system dir as the Docker image name
// (`tar -C dir -c . | docker import - name`, through the Engine API), with
// the image environment as ENV, the sandbox user and /testbed as defaults.
func importRootFS(ctx context.Context, cli *client.Client, dir, name, store string) error {
	var changes []string
	for _, kv := range dedupeEnv(readEnv(dir)) {
		k, v, _ := strings.Cut(kv, "=")
		changes = append(changes, "ENV "+k+"="+strconv.Quote(v))
	}
	changes = append(changes,
		fmt.Sprintf("USER %d:%d", sandbox.UID, sandbox.GID),
		"WORKDIR "+sandbox.RepoDir,
		`CMD ["/bin/bash"]`,
		"LABEL "+storeLabel+"="+strconv.Quote(store))
	var tarErr bytes.Buffer
	cmd := exec.CommandContext(ctx, "tar", "--numeric-owner", "--one-file-system", "-C", dir, "-cf", "-", ".")
	cmd.Stderr = &tarErr
	stream, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("tar: %w", err)
	}
	rc, err := cli.ImageImport(ctx, image.ImportSource{Source: stream, SourceName: "-"}, name,
		image.ImportOptions{Changes: changes})
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return fmt.Errorf("docker import: %w", err)
	}
	err = readProgress(rc)
	rc.Close()
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return fmt.Errorf("docker import: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("tar: %w: %s", err, strings.TrimSpace(tarErr.String()))
	}
	return nil
}

// readProgress drains the Engine's JSON progress stream, returning the
// error it reports, if any.
func readProgress(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var msg struct {
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if msg.Error != "" {
			return errors.New(msg.Error)
		}
	}
}

var hashName = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Prune removes what store holds besides keep: root file systems under
// store/rootfs and the Docker images imported from this store (images of
// other stores are left alone). Images still used by a container, and
// root file systems being built, stay.
func Prune(ctx context.Context, store string, keep []sandbox.Image) error {
	store, err := filepath.Abs(store)
	if err != nil {
		return err
	}
	keepName, keepRoot := map[string]bool{}, map[string]bool{}
	for _, img := range keep {
		if img.Name != "" {
			keepName[img.Name] = true
		}
		if img.RootFS != "" {
			if abs, err := filepath.Abs(img.RootFS); err == nil {
				keepRoot[filepath.Clean(abs)] = true
			}
		}
	}
	var errs []error
	if cli := dockerClient(ctx); cli != nil {
		defer cli.Close()
		list, err := cli.ImageList(ctx, image.ListOptions{Filters: filters.NewArgs(filters.Arg("label", storeLabel+"="+store))})
		if err != nil {
			errs = append(errs, fmt.Errorf("list images: %w", err))
		}
		for _, img := range list {
			for _, tag := range img.RepoTags {
				if keepName[tag] {
					continue
				}
				_, err := cli.ImageRemove(ctx, tag, image.RemoveOptions{PruneChildren: true})
				if err != nil && !cerrdefs.IsNotFound(err) {
					errs = append(errs, fmt.Errorf("remove image %s: %w", tag, err))
				}
			}
		}
	}
	rootDir := filepath.Join(store, "rootfs")
	entries, err := os.ReadDir(rootDir)
	if err != nil && !os.IsNotExist(err) {
		errs = append(errs, err)
	}
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() {
			continue
		}
		var hash string
		switch {
		case hashName.MatchString(name):
			if keepRoot[filepath.Join(rootDir, name)] {
				continue
			}
			hash = name
		case strings.HasPrefix(name, ".tmp-") && len(name) > 5+64 && hashName.MatchString(name[5:69]):
			hash = name[5:69]
		default:
			continue
		}
		if err := removeLocked(filepath.Join(rootDir, hash+".lock"), func() error {
			dir := filepath.Join(rootDir, name)
			if name == hash {
				_ = os.Remove(filepath.Join(rootDir, hash+".json"))
				// What a published image shipped at /testbed (Published).
				_ = os.RemoveAll(filepath.Join(store, "published", hash))
				return os.RemoveAll(dir)
			}
			cleanup(dir)
			_ = os.Remove(dir + ".log")
			return nil
		}); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("prune %s: %w", store, err)
	}
	return nil
}

// removeLocked runs remove while holding the lock file, skipping it when a
// build holds the lock.
func removeLocked(lockFile string, remove func() error) error {
	f, err := os.OpenFile(lockFile, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := flock(f, false); err != nil {
		return nil // being built
	}
	defer funlock(f)
	return remove()
}
