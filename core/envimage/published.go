package envimage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/swelego/swelego/core/sandbox"
)

// ErrNoEngine is returned by Published when no Docker Engine answers: a
// published image is pulled, loaded and exported through the engine, also
// for the bwrap backend.
var ErrNoEngine = errors.New("a published image needs a Docker Engine to pull, load and export it")

// PublishedSpec names a published task image: one whose repository is at
// /testbed already (SWE-bench's sweb.eval.* images, SWE-smith's,
// SWE-rebench's and SWE-Lego's image_name).
type PublishedSpec struct {
	// Ref is the image reference, such as
	// swebench/sweb.eval.x86_64.django_1776_django-11099:latest.
	Ref string
	// Archives are `docker save` archives loaded, in order, when Ref is not
	// in the engine, before it is pulled: air-gapped machines bring their
	// images this way.
	Archives []string
	// DockerConfig is the Docker config file whose auths give registry
	// credentials (DockerConfigFile() when empty).
	DockerConfig string
	// Progress, when set, is told how a pull or load goes.
	Progress func(PullProgress)
}

// PullProgress is what a pull or load has done so far: bytes of all the
// layers the engine reported, and the last status line.
type PullProgress struct {
	Ref          string
	Status       string
	Current      int64
	Total        int64
	Done, Layers int // layers complete, layers seen
}

// PublishedImage is a published image made ready for both backends.
type PublishedImage struct {
	// Image is what sandboxes start from: the published image's file
	// system with /testbed emptied and the sandbox user added, as a root
	// file system folder and as a Docker image
	// (swelego/img-<name>:<hash12>).
	Image sandbox.Image
	// ID is the published image's id (sha256:…).
	ID string
	// Repo is a folder holding /testbed as the image shipped it, history
	// and all. Nothing may write to it; sandboxes get sanitised copies.
	Repo string
}

// publishedVersion changes whenever Published changes what it makes of an
// image, so folders made by older code are not reused.
const publishedVersion = "published/1"

// Published makes the published image spec names usable: found in the
// Docker Engine, else loaded from spec.Archives, else pulled with the
// credentials of the Docker config; then its file system is exported once
// (cached under store by the image id), its /testbed moved out to
// PublishedImage.Repo, the sandbox user added, and the result imported as
// the image sandboxes start from. It needs root and a Docker Engine.
func Published(ctx context.Context, spec PublishedSpec, store string) (PublishedImage, error) {
	named, err := reference.ParseNormalizedNamed(spec.Ref)
	if err != nil {
		return PublishedImage{}, fmt.Errorf("image %q: %w", spec.Ref, err)
	}
	named = reference.TagNameOnly(named)
	ref := named.String()
	cli := dockerClient(ctx)
	if cli == nil {
		return PublishedImage{}, fmt.Errorf("image %s: %w", ref, ErrNoEngine)
	}
	defer cli.Close()
	info, err := cli.ImageInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		if err = obtain(ctx, cli, spec, named); err == nil {
			info, err = cli.ImageInspect(ctx, ref)
		}
	}
	if err != nil {
		return PublishedImage{}, fmt.Errorf("image %s: %w", ref, err)
	}
	if store, err = filepath.Abs(store); err != nil {
		return PublishedImage{}, err
	}
	hash := hashOf(recipeVersion, publishedVersion, info.ID)
	name := fmt.Sprintf("swelego/img-%s:%s", imageName(reference.Path(named)), hash[:12])
	out := PublishedImage{
		Image: sandbox.Image{Name: name, RootFS: filepath.Join(store, "rootfs", hash)},
		ID:    info.ID,
		Repo:  filepath.Join(store, "published", hash, "testbed"),
	}
	var env []string
	if info.Config != nil {
		env = info.Config.Env
	}
	build := func(ctx context.Context, dir string, log io.Writer) error {
		if err := export(ctx, cli, ref, dir, log); err != nil {
			return err
		}
		return adopt(dir, out.Repo, env)
	}
	inputs := map[string]any{"ref": ref, "id": info.ID}
	if err := ensure(ctx, store, hash, out.Image, meta{Name: name, Kind: "published", Inputs: inputs}, build); err != nil {
		return PublishedImage{}, fmt.Errorf("image %s: %w", ref, err)
	}
	if _, err := os.Stat(filepath.Join(out.Repo, ".git")); err != nil {
		return PublishedImage{}, fmt.Errorf("image %s: the repository it shipped at %s: %w", ref, sandbox.RepoDir, err)
	}
	return out, nil
}

// obtain brings the image into the engine: from the archives, else from
// its registry.
func obtain(ctx context.Context, cli *client.Client, spec PublishedSpec, named reference.Named) error {
	ref := named.String()
	for _, a := range spec.Archives {
		if err := load(ctx, cli, a, ref, spec.Progress); err != nil {
			return err
		}
		if _, err := cli.ImageInspect(ctx, ref); err == nil {
			return nil
		}
	}
	auth, err := RegistryAuth(spec.DockerConfig, reference.Domain(named))
	if err != nil {
		return err
	}
	rc, err := cli.ImagePull(ctx, ref, image.PullOptions{RegistryAuth: auth})
	if err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	defer rc.Close()
	if err := pullProgress(rc, ref, spec.Progress); err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	return nil
}

// load loads a `docker save` archive into the engine.
func load(ctx context.Context, cli *client.Client, archive, ref string, progress func(PullProgress)) error {
	f, err := os.Open(archive)
	if err != nil {
		return fmt.Errorf("load image archive: %w", err)
	}
	defer f.Close()
	resp, err := cli.ImageLoad(ctx, f, client.ImageLoadWithQuiet(true))
	if err != nil {
		return fmt.Errorf("load image archive %s: %w", archive, err)
	}
	defer resp.Body.Close()
	if err := pullProgress(resp.Body, ref, progress); err != nil {
		return fmt.Errorf("load image archive %s: %w", archive, err)
	}
	return nil
}

// pullProgress reads the engine's JSON progress stream to its end,
// reporting it, and returns the error the stream carries.
func pullProgress(r io.Reader, ref string, report func(PullProgress)) error {
	type layer struct {
		current, total int64
		done           bool
	}
	layers := map[string]*layer{}
	var order []string
	last := time.Time{}
	dec := json.NewDecoder(r)
	for {
		var msg struct {
			ID             string `json:"id"`
			Status         string `json:"status"`
			ProgressDetail struct {
				Current int64 `json:"current"`
				Total   int64 `json:"total"`
			} `json:"progressDetail"`
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		err := dec.Decode(&msg)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if msg.Error != "" {
			return errors.New(msg.Error)
		}
		if msg.ID != "" && msg.Status != "" && !strings.HasPrefix(msg.Status, "Pulling from") {
			l := layers[msg.ID]
			if l == nil {
				l = &layer{}
				layers[msg.ID] = l
				order = append(order, msg.ID)
			}
			switch {
			case msg.Status == "Downloading":
				l.current, l.total = msg.ProgressDetail.Current, msg.ProgressDetail.Total
			case msg.Status == "Pull complete" || msg.Status == "Already exists":
				l.done = true
				l.current = l.total
			}
		}
		if report == nil || time.Since(last) < 2*time.Second && msg.ID != "" {
			continue
		}
		last = time.Now()
		p := PullProgress{Ref: ref, Status: strings.TrimSpace(msg.Status + " " + msg.ID), Layers: len(order)}
		for _, id := range order {
			l := layers[id]
			p.Current += l.current
			p.Total += l.total
			if l.done {
				p.Done++
			}
		}
		report(p)
	}
	return nil
}

// export writes the file system of image ref into dir: a container is
// created (never started), exported and removed.
func export(ctx context.Context, cli *client.Client, ref, dir string, log io.Writer) error {
	fmt.Fprintf(log, "+ export %s\n", ref)
	c, err := cli.ContainerCreate(ctx, &container.Config{Image: ref, Cmd: []string{"/bin/sh"}, Labels: map[string]string{storeLabel + ".export": "1"}},
		&container.HostConfig{NetworkMode: "none"}, nil, nil, "")
	if err != nil {
		return fmt.Errorf("export: create container: %w", err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_ = cli.ContainerRemove(rctx, c.ID, container.RemoveOptions{Force: true})
	}()
	rc, err := cli.ContainerExport(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer rc.Close()
	cmd := exec.CommandContext(ctx, "tar", "--numeric-owner", "--same-permissions", "-C", dir, "-xf", "-")
	cmd.Stdin = rc
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = toolEnv
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("export: tar: %w", err)
	}
	return nil
}

// adopt makes the exported file system dir one sandboxes can start from:
// its /testbed moves to repo, the image's environment becomes the image
// environment file (HOME the sandbox user's), and the sandbox user, its
// home, an empty /testbed it owns and the system git config are added.
func adopt(dir, repo string, env []string) error {
	testbed := filepath.Join(dir, sandbox.RepoDir)
	if fi, err := os.Lstat(testbed); err != nil || !fi.IsDir() {
		return fmt.Errorf("the image has no %s folder: it is not a task image", sandbox.RepoDir)
	}
	if err := os.RemoveAll(filepath.Dir(repo)); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(repo), 0o755); err != nil {
		return err
	}
	if err := os.Rename(testbed, repo); err != nil {
		return fmt.Errorf("move the shipped repository out: %w", err)
	}
	if len(env) == 0 {
		env = baseEnv[:1] // PATH
	}
	env = append(append([]string{"LANG=C.UTF-8"}, env...), "HOME=/home/swelego")
	if data, err := os.ReadFile(filepath.Join(dir, "etc/gitconfig")); err == nil {
		// customise writes its own; keep the image's settings after it.
		defer func() {
			f, err := os.OpenFile(filepath.Join(dir, "etc/gitconfig"), os.O_APPEND|os.O_WRONLY, 0o644)
			if err == nil {
				f.Write(append([]byte("\n"), data...))
				f.Close()
			}
		}()
	}
	return customise(dir, env)
}
