package envimage

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/swelego/swelego/core/sandbox"
	"github.com/swelego/swelego/sdk"
)

// recipeVersion changes whenever the steps below change what an image
// holds, so images built by older code are not reused.
const recipeVersion = "envimage/1"

// Defaults of BaseSpec.
const (
	DefaultRelease = "bookworm"
	DefaultMirror  = "http://deb.debian.org/debian"
)

// BaseSpec says what base image to build.
type BaseSpec struct {
	// Release is the Debian release (DefaultRelease if empty).
	Release string
	// Packages are Debian packages to install besides Image's.
	Packages []string
	// Name names the image, swelego/base-<Name>:<hash>: the language whose
	// Image it holds ("" names it debian).
	Name string
	// Image is what the language adds to the base: Debian packages (git is
	// always installed), packages from the release's backports, symbolic
	// links and environment variables. Its other fields concern
	// environment images and are not read here.
	Image sdk.ImageSpec
	// Mirror is the Debian mirror (DefaultMirror if empty).
	Mirror string
}

// LanguageBase is the base image of a language as its plugin describes it.
func LanguageBase(spec sdk.LanguageSpec) BaseSpec {
	return BaseSpec{Name: spec.Name, Image: spec.Image}
}

// EnvSpec says what environment image to build for a repository.
type EnvSpec struct {
	// Name names the image: swelego/env-<name>:<hash>.
	Name string
	// Base is the image to start from; its RootFS must exist.
	Base sandbox.Image
	// Repo is a host folder holding the repository at its environment
	// commit. It is copied to /testbed for the setup commands; /testbed is
	// emptied afterwards, since every sandbox brings its own copy.
	Repo string
	// RootSetup are shell commands run as root (in /, network allowed)
	// before Setup, for what needs root: apt-get install and the like.
	RootSetup []string
	// Setup are shell commands run in /testbed as the sandbox user with
	// network allowed, e.g. `go mod download` or `pip install --user -e .`.
	Setup []string
	// Warm are shell commands run like Setup after it, whose failure is
	// ignored: they fill caches every sandbox starts from (a language's
	// ImageSpec.Warm).
	Warm []string
	// Env are KEY=VALUE pairs added to the image's environment.
	Env []string
}

// basePackages are installed in every base image.
var basePackages = []string{"git"}

// baseEnv is the environment every image starts with.
var baseEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LANG=C.UTF-8",
	"HOME=/home/swelego",
}

// meta is stored beside each root file system as <hash>.json.
type meta struct {
	Name    string    `json:"name"`
	Kind    string    `json:"kind"` // base | env
	Inputs  any       `json:"inputs"`
	Created time.Time `json:"created"`
}

// BuildBase builds (or finds in store) the base image spec describes: a
// minbase Debian with the packages of spec, a user swelego (uid 1000) and
// a /testbed it owns. The root file system goes to store/rootfs/<hash>; the
// Docker image, named swelego/base-<name>:<hash12>, is imported when a
// Docker Engine answers (a later call imports it if it was missing). It
// needs root and debootstrap.
func BuildBase(ctx context.Context, spec BaseSpec, store string) (sandbox.Image, error) {
	release, mirror := cmp.Or(spec.Release, DefaultRelease), cmp.Or(spec.Mirror, DefaultMirror)
	name, hash, inputs := planBase(spec)
	pkgs := inputs["packages"].([]string)
	env := inputs["env"].([]string)
	backports := spec.Image.Backports
	store, err := filepath.Abs(store)
	if err != nil {
		return sandbox.Image{}, err
	}
	img := sandbox.Image{Name: name, RootFS: filepath.Join(store, "rootfs", hash)}
	build := func(ctx context.Context, dir string, log io.Writer) error {
		if err := debootstrap(ctx, store, dir, release, mirror, pkgs, log); err != nil {
			return err
		}
		if len(backports) > 0 {
			if err := installBackports(ctx, dir, release, mirror, backports, log); err != nil {
				return err
			}
		}
		for link, target := range spec.Image.Links {
			if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
				return err
			}
		}
		return customise(dir, env)
	}
	err = ensure(ctx, store, hash, img, meta{Name: name, Kind: "base", Inputs: inputs}, build)
	if err != nil {
		return sandbox.Image{}, fmt.Errorf("build base image %s: %w", name, err)
	}
	return img, nil
}

// BuildEnv builds (or finds in store) the environment image of a
// repository: the base's root file system with the setup commands run over
// the repository, named swelego/env-<name>:<hash12> and cached by a hash of
// the base, the repository's tree (its git tree id when it is a clean git
// work tree, else its files) and the commands. It needs root and bwrap.
func BuildEnv(ctx context.Context, spec EnvSpec, store string) (sandbox.Image, error) {
	if spec.Base.RootFS == "" {
		return sandbox.Image{}, errors.New("build environment image: the base has no root file system")
	}
	if _, err := os.Stat(spec.Base.RootFS); err != nil {
		return sandbox.Image{}, fmt.Errorf("build environment image: base: %w", err)
	}
	if spec.Repo == "" {
		return sandbox.Image{}, errors.New("build environment image: no repository")
	}
	repoKey, err := repoKey(ctx, spec.Repo)
	if err != nil {
		return sandbox.Image{}, fmt.Errorf("build environment image: %w", err)
	}
	inputs := map[string]any{"base": spec.Base.Name, "base_rootfs": filepath.Base(spec.Base.RootFS),
		"repo": repoKey, "root_setup": spec.RootSetup, "setup": spec.Setup, "env": spec.Env}
	if len(spec.Warm) > 0 {
		inputs["warm"] = spec.Warm
	}
	hash := hashOf(recipeVersion, "env", inputs)
	name := fmt.Sprintf("swelego/env-%s:%s", imageName(spec.Name), hash[:12])
	store, err = filepath.Abs(store)
	if err != nil {
		return sandbox.Image{}, err
	}
	img := sandbox.Image{Name: name, RootFS: filepath.Join(store, "rootfs", hash)}
	build := func(ctx context.Context, dir string, log io.Writer) error {
		if err := run(ctx, log, "cp", "-a", "--reflink=auto", spec.Base.RootFS+"/.", dir); err != nil {
			return fmt.Errorf("copy base: %w", err)
		}
		if len(spec.Env) > 0 {
			env := append(readEnv(dir), spec.Env...)
			if err := writeEnv(dir, env); err != nil {
				return err
			}
		}
		testbed := filepath.Join(dir, sandbox.RepoDir)
		if err := run(ctx, log, "cp", "-a", spec.Repo+"/.", testbed); err != nil {
			return fmt.Errorf("copy repository: %w", err)
		}
		if err := run(ctx, log, "chown", "-R", fmt.Sprintf("%d:%d", sandbox.UID, sandbox.GID), testbed); err != nil {
			return err
		}
		for _, c := range spec.RootSetup {
			if err := setup(ctx, dir, c, true, log); err != nil {
				return err
			}
		}
		for _, c := range spec.Setup {
			if err := setup(ctx, dir, c, false, log); err != nil {
				return err
			}
		}
		for _, c := range spec.Warm {
			if err := setup(ctx, dir, c, false, log); err != nil {
				fmt.Fprintf(log, "warming failed, ignored: %v\n", err)
			}
		}
		return emptyDir(testbed)
	}
	err = ensure(ctx, store, hash, img, meta{Name: name, Kind: "env", Inputs: inputs}, build)
	if err != nil {
		return sandbox.Image{}, fmt.Errorf("build environment image %s: %w", name, err)
	}
	return img, nil
}

// planBase names the base image of spec and hashes its inputs. The inputs
// are those of the presets core once held, so that images built before
// languages became plugins keep their hashes when a plugin describes the
// same packages, links and environment.
func planBase(spec BaseSpec) (name, hash string, inputs map[string]any) {
	pkgs := slices.Concat(basePackages, spec.Image.Packages, spec.Packages)
	var backports []string
	if len(spec.Image.Backports) > 0 {
		backports = sortedUnique(slices.Clone(spec.Image.Backports))
	}
	var links map[string]string
	if len(spec.Image.Links) > 0 {
		links = spec.Image.Links
	}
	inputs = map[string]any{
		"release":   cmp.Or(spec.Release, DefaultRelease),
		"mirror":    cmp.Or(spec.Mirror, DefaultMirror),
		"packages":  sortedUnique(pkgs),
		"backports": backports,
		"links":     links,
		"env":       append(slices.Clone(baseEnv), spec.Image.Env...),
		"language":  spec.Name,
	}
	hash = hashOf(recipeVersion, "base", inputs)
	return fmt.Sprintf("swelego/base-%s:%s", imageName(cmp.Or(spec.Name, "debian")), hash[:12]), hash, inputs
}

// ensure makes img exist: the root file system (built by build into a
// temporary folder, renamed into place only when complete) and, when a
// Docker Engine answers, the Docker image. A lock serialises builders of
// the same hash, in this process or another.
func ensure(ctx context.Context, store, hash string, img sandbox.Image, m meta,
	build func(ctx context.Context, dir string, log io.Writer) error) error {
	rootDir := filepath.Join(store, "rootfs")
	if err := os.MkdirAll(rootDir, 0o755); err != nil {
		return err
	}
	unlock, err := lock(ctx, filepath.Join(rootDir, hash+".lock"))
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Stat(img.RootFS); os.IsNotExist(err) {
		if !isRoot() {
			return errors.New("building a root file system needs root")
		}
		tmp, err := os.MkdirTemp(rootDir, ".tmp-"+hash+"-")
		if err != nil {
			return err
		}
		// The sandbox user must reach the tree for setup commands.
		if err := os.Chmod(tmp, 0o755); err != nil {
			return err
		}
		log, err := os.Create(tmp + ".log")
		if err != nil {
			return err
		}
		err = buildReporting(ctx, m.Name, tmp, log, build)
		log.Close()
		if err != nil {
			cleanup(tmp)
			err = fmt.Errorf("%w\n%s", err, tail(tmp+".log", 30))
			os.Remove(tmp + ".log")
			return err
		}
		os.Remove(tmp + ".log")
		m.Created = time.Now().UTC()
		data, _ := json.MarshalIndent(m, "", "  ")
		if err := os.WriteFile(filepath.Join(rootDir, hash+".json"), data, 0o644); err != nil {
			cleanup(tmp)
			return err
		}
		if err := os.Rename(tmp, img.RootFS); err != nil {
			cleanup(tmp)
			return err
		}
	} else if err != nil {
		return err
	}
	cli := dockerClient(ctx)
	if cli == nil {
		return nil
	}
	defer cli.Close()
	if imported(ctx, cli, img.Name) {
		return nil
	}
	return importRootFS(ctx, cli, img.RootFS, img.Name, store)
}

// lock takes an exclusive lock on file, waiting for it as long as ctx lets.
func lock(ctx context.Context, file string) (func(), error) {
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		if err := flock(f, false); err == nil {
			return func() { _ = funlock(f); f.Close() }, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// repoKey names the content of a repository folder: its git tree id when it
// is a clean git work tree, else a hash of its files.
func repoKey(ctx context.Context, dir string) (string, error) {
	if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
		git := func(args ...string) (string, error) {
			// The repository's own config may not run anything here.
			cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir, "-c", "safe.directory=*",
				"-c", "core.fsmonitor=false", "-c", "core.untrackedCache=false"}, args...)...)
			cmd.Env = append(os.Environ(), "GIT_OPTIONAL_LOCKS=0")
			out, err := cmd.Output()
			return strings.TrimSpace(string(out)), err
		}
		tree, err := git("rev-parse", "HEAD^{tree}")
		if err == nil {
			status, err := git("status", "--porcelain", "--untracked-files=all")
			if err == nil && status == "" {
				return "git-tree:" + tree, nil
			}
		}
	}
	h, err := hashFiles(dir)
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", dir, err)
	}
	return "files:" + h, nil
}

func hashOf(parts ...any) string {
	data, err := json.Marshal(parts)
	if err != nil {
		panic(err) // only plain values are hashed
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

var badNameChars = regexp.MustCompile(`[^a-z0-9._-]+`)

// imageName makes s fit a Docker repository name component.
func imageName(s string) string {
	s = strings.Trim(badNameChars.ReplaceAllString(strings.ToLower(s), "-"), "-._")
	if s == "" {
		s = "repo"
	}
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

func sortedUnique(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}
