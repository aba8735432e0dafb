package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/swelego/swelego/core/queue"
	"github.com/swelego/swelego/core/taskenv"
	"github.com/swelego/swelego/hcl"
	"github.com/swelego/swelego/sdk"
)

// ItemRepos are where the worker of a queue item finds the repositories
// it needs: the recipe's environments, folders holding repositories (a
// path every worker shares: a queue's repos = "shared"), and git bundles
// in the queue's object store (repos = "object_store"), which the worker
// fetches into its cache. Every item kind embeds it, so its fields are the
// item's own in JSON.
type ItemRepos struct {
	Environments []taskenv.Environment `json:"environments,omitempty"`
	RepoDirs     []string              `json:"repo_dirs,omitempty"`
	Bundles      []RepoBundle          `json:"repo_bundles,omitempty"`
}

// RepoBundle is a repository's git bundle in the queue's object store.
type RepoBundle struct {
	queue.Object
	// Name is the bundle's file name on the worker: what repo.Locate finds
	// for its repository (NAME.bundle, OWNER__NAME.bundle), unless
	// Environment is set.
	Name string `json:"name"`
	// Environment, when set, is the environment whose git source the
	// bundle is.
	Environment string `json:"environment,omitempty"`
}

// Uploader stores files in the queue's object store (queue.Client).
type Uploader interface {
	Upload(ctx context.Context, path string) (queue.Object, error)
}

// Fetcher fetches objects of the queue's object store (queue.Client).
type Fetcher interface {
	Fetch(ctx context.Context, o queue.Object, dest string) error
}

// RepoShipper makes the ItemRepos of a coordinator's items: with
// repos = "shared" the environments and folders as they are (absolute);
// with "object_store" the bundle of the repository an item needs,
// uploaded once per run (a repository folder is bundled first, with every
// ref), and no path of the coordinator's.
type RepoShipper struct {
	mode     string
	uploader Uploader
	envs     []taskenv.Environment
	dirs     []string
	log      *slog.Logger

	mu   sync.Mutex
	sent map[string]RepoBundle // by source path
}

// NewRepoShipper makes the shipper of a stage's items; mode is a queue
// block's repos (empty: object_store), up uploads (unused when shared).
func NewRepoShipper(mode string, up Uploader, envs []taskenv.Environment, dirs []string, log *slog.Logger) *RepoShipper {
	if mode == "" {
		mode = hcl.QueueReposObjectStore
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &RepoShipper{mode: mode, uploader: up, envs: envs, dirs: absPaths(dirs), log: log, sent: map[string]RepoBundle{}}
}

// base is what every item carries: with shared paths the environments
// and folders; else the environments without their local git sources
// (paths of the coordinator's), which bundles replace.
func (s *RepoShipper) base() ItemRepos {
	if s.mode == hcl.QueueReposShared {
		return ItemRepos{Environments: s.envs, RepoDirs: s.dirs}
	}
	envs := slices.Clone(s.envs)
	for i := range envs {
		if isLocal(envs[i].Git) {
			envs[i].Git = ""
		}
	}
	return ItemRepos{Environments: envs}
}

// Base is what an item carries when the coordinator could not tell
// which repository it needs (its repository is found nowhere here): the
// worker then fails to find it, and the item is parked with that error.
func (s *RepoShipper) Base() ItemRepos { return s.base() }

// For is what an item validated or graded in environment env carries;
// env is as the coordinator's taskenv.Manager completes it (its Git the
// local bundle or folder found, a URL, or empty for a published image).
func (s *RepoShipper) For(ctx context.Context, env taskenv.Environment) (ItemRepos, error) {
	r := s.base()
	if s.mode != hcl.QueueReposShared && s.mode != hcl.QueueReposObjectStore {
		return r, fmt.Errorf("queue repos %q: want %s or %s", s.mode, hcl.QueueReposObjectStore, hcl.QueueReposShared)
	}
	if s.mode == hcl.QueueReposShared || !isLocal(env.Git) {
		return r, nil
	}
	b, err := s.ship(ctx, env.Git)
	if err != nil {
		return r, fmt.Errorf("repository %s: %w", env.Repo, err)
	}
	for _, e := range s.envs {
		if e.Name == env.Name && e.Git != "" {
			b.Environment = env.Name
		}
	}
	r.Bundles = []RepoBundle{b}
	return r, nil
}

// ForTask is what an item of task t carries: the repository of the
// environment envs finds for it, shipped as For ships it. A task whose
// repository is found nowhere here gets Base, with a warning: the
// workers will not find it either, and the item is parked with their
// error, as a local run records the failure.
func (s *RepoShipper) ForTask(ctx context.Context, envs *taskenv.Manager, t sdk.Task) (ItemRepos, error) {
	env, err := envs.Environment(t)
	if err != nil {
		s.log.Warn("the task's repository is not found here; its workers will not find it either", "instance_id", t.InstanceID, "error", err)
		return s.Base(), nil
	}
	r, err := s.For(ctx, env)
	if err != nil {
		return r, fmt.Errorf("%s: %w", t.InstanceID, err)
	}
	return r, nil
}

// repoShipper makes the shipper of the stage's items over c.
func (s *stageBase) repoShipper(c *queue.Client, log *slog.Logger) *RepoShipper {
	return NewRepoShipper(s.queue.Repos, c, EnvironmentsOf(s.recipe), s.repoDirs(), log)
}

// probeEnvironments is a manager that finds the stage's tasks'
// environments and repositories, and opens no sandbox.
func (s *stageBase) probeEnvironments() *taskenv.Manager {
	return taskenv.New(taskenv.Options{Environments: EnvironmentsOf(s.recipe), DefaultLanguage: s.defaultLanguage,
		Languages: s.languages, RepoDirs: s.repoDirs()})
}

// ship uploads the bundle at src, or a bundle of the repository folder at
// src, once.
func (s *RepoShipper) ship(ctx context.Context, src string) (RepoBundle, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.sent[src]; ok {
		return b, nil
	}
	if s.uploader == nil {
		return RepoBundle{}, errors.New("no object store to upload its bundle to")
	}
	file, name := src, filepath.Base(src)
	if fi, err := os.Stat(src); err == nil && fi.IsDir() {
		tmp, err := os.MkdirTemp("", "swelego-bundle-")
		if err != nil {
			return RepoBundle{}, err
		}
		defer os.RemoveAll(tmp)
		name = strings.TrimSuffix(name, ".git") + ".bundle"
		file = filepath.Join(tmp, name)
		if err := bundleFolder(ctx, src, file); err != nil {
			return RepoBundle{}, err
		}
	}
	o, err := s.uploader.Upload(ctx, file)
	if err != nil {
		return RepoBundle{}, err
	}
	b := RepoBundle{Object: o, Name: name}
	s.sent[src] = b
	s.log.Info("queue: repository in the object store", "source", src, "digest", o.Digest, "bytes", o.Size)
	return b, nil
}

// bundleFolder writes a git bundle of every ref of the repository at dir
// (what a mirror of it would hold) to file.
func bundleFolder(ctx context.Context, dir, file string) error {
	cmd := exec.CommandContext(ctx, "git", "-c", "pack.threads=1", "-C", dir, "bundle", "create", file, "--all")
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("bundle the repository folder %s for the workers (git bundle create --all): %w: %s", dir, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// isLocal reports whether a git source is a file or folder here (not a
// URL).
func isLocal(src string) bool {
	if src == "" || strings.Contains(src, "://") {
		return false
	}
	_, err := os.Stat(src)
	return err == nil
}

// ObjectsDir is the folder of a worker's cache (taskenv's store) that
// holds the bundles fetched from the queue's object store, one folder per
// digest.
const ObjectsDir = "queue-repos"

// managerFor returns the environment manager of an item's repositories,
// fetching the bundles it names that this worker lacks first.
func (w *Worker) managerFor(ctx context.Context, r ItemRepos) (*taskenv.Manager, error) {
	envs, dirs := slices.Clone(r.Environments), []string{}
	for _, b := range r.Bundles {
		if !b.Valid() || b.Name == "" || b.Name != filepath.Base(b.Name) || b.Name == "." || b.Name == ".." {
			return nil, fmt.Errorf("repository bundle %q (%s): not a file name and a SHA-256 digest", b.Name, b.Digest)
		}
		if w.Objects == nil {
			return nil, fmt.Errorf("repository bundle %s: this worker has no object store to fetch it from", b.Name)
		}
		store := w.Store
		if store == "" {
			store = taskenv.DefaultStore()
		}
		dir := filepath.Join(store, ObjectsDir, b.Digest)
		path := filepath.Join(dir, b.Name)
		if err := w.Objects.Fetch(ctx, b.Object, path); err != nil {
			return nil, fmt.Errorf("repository bundle %s: %w", b.Name, err)
		}
		if b.Environment == "" {
			dirs = append(dirs, dir)
			continue
		}
		i := slices.IndexFunc(envs, func(e taskenv.Environment) bool { return e.Name == b.Environment })
		if i < 0 {
			return nil, fmt.Errorf("repository bundle %s: the item has no environment %q", b.Name, b.Environment)
		}
		envs[i].Git = path
	}
	return w.manager(envs, append(dirs, r.RepoDirs...)), nil
}
