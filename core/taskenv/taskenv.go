package taskenv

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/swelego/swelego/core/envimage"
	"github.com/swelego/swelego/core/gitsafe"
	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/core/repo"
	"github.com/swelego/swelego/core/sandbox"
	"github.com/swelego/swelego/sdk"
)

// Environment is where a repository's tests run.
type Environment struct {
	Name     string   // environment name; tasks refer to it by Task.Environment
	Repo     string   // the repository it serves ("owner/name")
	Git      string   // where the repository's history comes from (bundle, folder or URL)
	Language string   // the language (a plugin serves it): its base image, test runner and log parser
	Release  string   // Debian release of the base image (default bookworm)
	Packages []string // extra Debian packages in the base image
	Setup    []string // commands run in the repository, network allowed, when the image is built
	TestCmd  string   // test command; empty means the language's runner on the task's tests
	Parser   string   // a plugin serving log_parser that reads the test output in place of the language; usually empty

	// A published image as the environment (see ImageRef): the repository
	// is at /testbed in it already and nothing is built.
	Image          string   // image reference for every task of the environment
	ImageNaming    string   // any scheme hcl accepts (SWE-bench's, the only one): a task's image is named after its instance id (envimage.SWEBenchRef)
	ImageNamespace string   // what leads a named image: a namespace, optionally after a registry host
	ImageArchives  []string // `docker save` archives loaded when an image is missing, before pulling it
}

// ImageRef is the published image a task runs in, "" when its environment
// is built instead: the task's own image (its image field, else the
// image_name SWE-smith, SWE-rebench and SWE-Lego records carry), else the
// environment's Image, else the name its ImageNaming gives the task.
func (e Environment) ImageRef(t sdk.Task) string {
	if t.Image != "" {
		return t.Image
	}
	if raw, ok := t.Extra["image_name"]; ok {
		var name string
		if json.Unmarshal(raw, &name) == nil && strings.TrimSpace(name) != "" {
			return strings.TrimSpace(name)
		}
	}
	if e.Image != "" {
		return e.Image
	}
	if e.ImageNaming != "" { // hcl and the CLI accept SWE-bench's scheme only

		return envimage.SWEBenchRef(e.ImageNamespace, t.InstanceID)
	}
	return ""
}

// Options configure a Manager.
type Options struct {
	// Store holds images and repository mirrors (default: DefaultStore()).
	Store string
	// Backend opens the sandboxes.
	Backend sandbox.Backend
	// Environments are the recipe's environment blocks.
	Environments []Environment
	// RepoDirs are searched for a repository no environment names a source
	// for (repo.Locate).
	RepoDirs []string
	// Languages resolve the languages environments and tasks name.
	Languages *language.Set
	// DefaultLanguage is the language of an environment and task that name
	// none; empty means such a task is an error (language.ErrNone). Core
	// knows no language: whoever knows which plugins exist sets it (the
	// swelego command sets the first-party default).
	DefaultLanguage string
	// Images apply to the environment of a task no environment block
	// serves, and fill the image fields an environment leaves empty.
	Images ImageDefaults
	// RunID labels the sandboxes.
	RunID string
	// Limits apply to every sandbox.
	Limits sandbox.Limits
	Logger *slog.Logger
}

// ImageDefaults are the image settings of environments that give none.
type ImageDefaults struct {
	Naming    string   // Environment.ImageNaming
	Namespace string   // Environment.ImageNamespace
	Archives  []string // Environment.ImageArchives
	// DockerConfig is the Docker config file with registry credentials
	// (envimage.DockerConfigFile() when empty).
	DockerConfig string
	// Progress, when set, is told how pulls and loads go.
	Progress func(envimage.PullProgress)
}

// DefaultStore is $SWELEGO_CACHE if set, else $XDG_CACHE_HOME/swelego
// (~/.cache/swelego), or /var/cache/swelego for root: the bwrap backend reads
// root file systems as the sandbox user, who cannot enter root's home.
func DefaultStore() string {
	if d := os.Getenv("SWELEGO_CACHE"); d != "" {
		return d
	}
	if os.Geteuid() == 0 {
		return "/var/cache/swelego"
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "swelego")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "swelego")
	}
	return filepath.Join(os.TempDir(), "swelego-cache")
}

// Manager opens sandboxes for tasks.
type Manager struct {
	opts  Options
	repos *repo.Cache

	mu     sync.Mutex
	images map[string]*imageBuild

	// trace, when set (by benchmarks), is told how long each step of Open
	// took.
	trace func(phase string, d time.Duration)
}

type imageBuild struct {
	done chan struct{}
	img  sandbox.Image
	pub  envimage.PublishedImage // for a published image
	err  error
}

// New returns a Manager.
func New(opts Options) *Manager {
	if opts.Store == "" {
		opts.Store = DefaultStore()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Manager{opts: opts, repos: repo.NewCache(filepath.Join(opts.Store, "repos")), images: map[string]*imageBuild{}}
}

// Environment returns the environment of a task: the one it names, else the
// one serving its repository, else a default for its language whose
// repository is found in RepoDirs.
func (m *Manager) Environment(t sdk.Task) (Environment, error) {
	for _, e := range m.opts.Environments {
		if t.Environment != "" && e.Name == t.Environment {
			return m.complete(e, t)
		}
	}
	for _, e := range m.opts.Environments {
		if e.Repo != "" && e.Repo == t.Repo {
			return m.complete(e, t)
		}
	}
	name := t.Environment
	if name == "" {
		name = path.Base(t.Repo)
	}
	return m.complete(Environment{Name: name, Repo: t.Repo, Language: t.Language}, t)
}

func (m *Manager) complete(e Environment, t sdk.Task) (Environment, error) {
	d := m.opts.Images
	if e.Image == "" && e.ImageNaming == "" {
		e.ImageNaming = d.Naming
	}
	if e.ImageNamespace == "" {
		e.ImageNamespace = d.Namespace
	}
	if len(e.ImageArchives) == 0 {
		e.ImageArchives = d.Archives
	}
	if e.Repo == "" {
		e.Repo = t.Repo
	}
	if e.Language == "" {
		e.Language = t.Language
	}
	if e.Language == "" {
		e.Language = m.opts.DefaultLanguage
	}
	if e.Language == "" {
		return Environment{}, fmt.Errorf("environment %q: %w: neither it nor the task names one, and no default is set", e.Name, language.ErrNone)
	}
	if e.Release == "" {
		e.Release = "bookworm"
	}
	if e.Git == "" && e.ImageRef(t) == "" {
		src, err := repo.Locate(m.opts.RepoDirs, e.Repo)
		if err != nil {
			return Environment{}, fmt.Errorf("environment %q: %w", e.Name, err)
		}
		e.Git = src
	}
	return e, nil
}

// Prepare fills in what the harness needs to know of a task from its
// environment: language and test command.
func (m *Manager) Prepare(t sdk.Task) (sdk.Task, error) {
	e, err := m.Environment(t)
	if err != nil {
		return t, err
	}
	if t.Language == "" {
		t.Language = e.Language
	}
	if t.TestCmd == "" {
		t.TestCmd = e.TestCmd
	}
	if t.Environment == "" {
		t.Environment = e.Name
	}
	return t, nil
}

// Language returns the language of a task's environment, as the plugin
// serving it describes it.
func (m *Manager) Language(ctx context.Context, t sdk.Task) (*language.Language, error) {
	e, err := m.Environment(t)
	if err != nil {
		return nil, err
	}
	return m.language(ctx, e)
}

func (m *Manager) language(ctx context.Context, e Environment) (*language.Language, error) {
	l, err := m.opts.Languages.Get(ctx, e.Language)
	if err != nil {
		return nil, fmt.Errorf("environment %q: %w", e.Name, err)
	}
	return l, nil
}

// Image returns the environment image of a task, building it the first
// time: the language's base image, then the repository at the task's
// environment commit with the environment's setup run in it.
func (m *Manager) Image(ctx context.Context, t sdk.Task) (sandbox.Image, error) {
	e, err := m.Environment(t)
	if err != nil {
		return sandbox.Image{}, err
	}
	if ref := e.ImageRef(t); ref != "" {
		p, err := m.published(ctx, e, ref)
		return p.Image, err
	}
	commit := t.EnvironmentSetupCommit
	if commit == "" {
		commit = t.BaseCommit
	}
	key := e.Name + "@" + commit
	m.mu.Lock()
	b, ok := m.images[key]
	if !ok {
		b = &imageBuild{done: make(chan struct{})}
		m.images[key] = b
		go func() {
			defer close(b.done)
			b.img, b.err = m.build(context.WithoutCancel(ctx), e, commit)
		}()
	}
	m.mu.Unlock()
	select {
	case <-b.done:
		return b.img, b.err
	case <-ctx.Done():
		return sandbox.Image{}, ctx.Err()
	}
}

// published returns the published image ref made ready for sandboxes
// (envimage.Published), once per Manager.
func (m *Manager) published(ctx context.Context, e Environment, ref string) (envimage.PublishedImage, error) {
	key := "image:" + ref
	m.mu.Lock()
	b, ok := m.images[key]
	if !ok {
		b = &imageBuild{done: make(chan struct{})}
		m.images[key] = b
		go func() {
			defer close(b.done)
			m.opts.Logger.Info("preparing published image", "environment", e.Name, "image", ref)
			spec := envimage.PublishedSpec{Ref: ref, Archives: e.ImageArchives, DockerConfig: m.opts.Images.DockerConfig, Progress: m.opts.Images.Progress}
			b.pub, b.err = envimage.Published(context.WithoutCancel(ctx), spec, m.imageStore())
			if b.err != nil {
				b.err = fmt.Errorf("environment %q: %w", e.Name, b.err)
			}
			b.img = b.pub.Image
		}()
	}
	m.mu.Unlock()
	select {
	case <-b.done:
		return b.pub, b.err
	case <-ctx.Done():
		return envimage.PublishedImage{}, ctx.Err()
	}
}

func (m *Manager) build(ctx context.Context, e Environment, commit string) (sandbox.Image, error) {
	m.opts.Logger.Info("preparing environment image", "environment", e.Name, "commit", commit)
	ctx = envimage.LogSteps(ctx, m.opts.Logger)
	lang, err := m.language(ctx, e)
	if err != nil {
		return sandbox.Image{}, err
	}
	img := lang.Spec.Image
	base, err := envimage.BuildBase(ctx, envimage.BaseSpec{Release: e.Release, Name: lang.Name(), Image: img, Packages: e.Packages}, m.imageStore())
	if err != nil {
		return sandbox.Image{}, fmt.Errorf("environment %q: base image: %w", e.Name, err)
	}
	dir, err := os.MkdirTemp("", "swelego-env-")
	if err != nil {
		return sandbox.Image{}, err
	}
	defer os.RemoveAll(dir)
	checkout := filepath.Join(dir, "repo")
	if err := m.repos.Checkout(ctx, e.Git, commit, checkout); err != nil {
		return sandbox.Image{}, fmt.Errorf("environment %q: %w", e.Name, err)
	}
	// The language's directories for its caches, its setup when the
	// environment has none, and its cache warming, all while the network
	// is allowed.
	spec := envimage.EnvSpec{Name: e.Name, Base: base, Repo: checkout, Setup: e.Setup, Warm: img.Warm}
	for _, d := range img.OwnedDirs {
		spec.RootSetup = append(spec.RootSetup, fmt.Sprintf("install -d -o %d -g %d %s", sandbox.UID, sandbox.GID, shellQuote(d)))
	}
	if len(spec.Setup) == 0 {
		spec.Setup = img.Setup
	}
	env, err := envimage.BuildEnv(ctx, spec, m.imageStore())
	if err != nil {
		return sandbox.Image{}, fmt.Errorf("environment %q: %w", e.Name, err)
	}
	return env, nil
}

func (m *Manager) imageStore() string { return filepath.Join(m.opts.Store, "images") }

// ErrNotReproduced is returned when a synthetic task's buggy tree does not
// give the base commit the task records.
var ErrNotReproduced = errors.New("synthetic task's tree does not reproduce its base commit")

// SyntheticBase makes dest the buggy tree of a synthetic task and returns
// its commit id. A real task's base commit is in the repository's history;
// a synthetic task's is not: its buggy tree is the environment commit with
// the bug applied (the reverse of Patch when PatchDirection is fix),
// committed as a fresh single-commit history (gitsafe.Fresh), whose id must
// be BaseCommit when the task records one. A task without a base commit
// yet (a candidate being validated) gets the id it should record.
func SyntheticBase(ctx context.Context, repos *repo.Cache, src string, t sdk.Task, dest string) (string, error) {
	from := t.EnvironmentSetupCommit
	if from == "" {
		return "", errors.New("a synthetic task needs environment_setup_commit: the commit its bug is injected into")
	}
	if err := repos.Checkout(ctx, src, from, dest); err != nil {
		return "", err
	}
	commit, err := injectBug(ctx, dest, t)
	if err != nil {
		return "", fmt.Errorf("%s: %w", from, err)
	}
	if t.BaseCommit != "" && commit != t.BaseCommit {
		return "", fmt.Errorf("%w: got %s, the task records %s", ErrNotReproduced, commit, t.BaseCommit)
	}
	return commit, nil
}

// Resolve returns the commit rev names in the environment's repository.
func (m *Manager) Resolve(ctx context.Context, e Environment, rev string) (string, error) {
	return m.repos.Resolve(ctx, e.Git, rev)
}

// SyntheticBase makes dest the buggy tree of synthetic task t in
// environment e and returns the base commit t should record.
func (m *Manager) SyntheticBase(ctx context.Context, e Environment, t sdk.Task, dest string) (string, error) {
	return SyntheticBase(ctx, m.repos, e.Git, t, dest)
}

// Checkout makes dest a sanitised checkout of the environment's repository
// at commit.
func (m *Manager) Checkout(ctx context.Context, e Environment, commit, dest string) error {
	return m.repos.Checkout(ctx, e.Git, commit, dest)
}

// Open opens a fresh sandbox for a task: its environment image, with the
// repository checked out at the task's base commit and sanitised. The
// sanitised checkout is made once per (repository, base commit) and shared
// by the sandboxes opened after (repo.Cache.Prepared); each sandbox gets a
// copy of its own, so nothing written in one reaches the shared checkout
// or another sandbox.
func (m *Manager) Open(ctx context.Context, t sdk.Task) (sandbox.Sandbox, error) {
	if m.opts.Backend == nil {
		return nil, errors.New("taskenv: no sandbox backend")
	}
	e, err := m.Environment(t)
	if err != nil {
		return nil, err
	}
	lang, err := m.language(ctx, e)
	if err != nil {
		return nil, err
	}
	img, err := m.Image(ctx, t)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	co, err := m.prepared(ctx, e, t)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.InstanceID, err)
	}
	m.phase("checkout", start)
	start = time.Now()
	sb, err := m.opts.Backend.Open(ctx, sandbox.Spec{Image: img, Repo: co.Dir, Commit: co.Commit, Limits: m.opts.Limits, RunID: m.opts.RunID})
	// The backend copied the checkout; it may be evicted now.
	co.Release()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.InstanceID, err)
	}
	m.phase("sandbox", start)
	// A published image is what its publisher made: the language's
	// readying of images it builds does not apply.
	if open := lang.Spec.Image.Open; open != "" && e.ImageRef(t) == "" {
		// The language readies the sandbox before anyone uses it (a warm
		// cache put in place), so an agent's commands, like the harness's
		// test runs, start from it.
		start = time.Now()
		if _, err := sb.Exec(ctx, open, 5*time.Minute); err != nil {
			sb.Close(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("%s: open the %s sandbox: %w", t.InstanceID, lang.Name(), err)
		}
		m.phase("seed", start)
	}
	return sb, nil
}

// shellQuote quotes s for POSIX sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// prepared returns the shared sanitised checkout of the task's repository
// at its base commit. A synthetic task's (see SyntheticBase) is keyed by
// everything that makes it: source, environment commit, patch and its
// direction; its commit is checked against the one the task records on
// every use.
func (m *Manager) prepared(ctx context.Context, e Environment, t sdk.Task) (*repo.Checkout, error) {
	if ref := e.ImageRef(t); ref != "" {
		return m.shipped(ctx, e, ref, t)
	}
	if t.Source != sdk.SourceSynthetic {
		return m.repos.Prepared(ctx, e.Git, t.BaseCommit)
	}
	from := t.EnvironmentSetupCommit
	if from != "" {
		var err error
		if from, err = m.repos.CommitID(ctx, e.Git, from); err != nil {
			return nil, err
		}
	}
	key := repo.Key("synthetic", e.Git, from, string(t.PatchDirection), t.Patch)
	co, err := m.repos.Shared(ctx, key, func(ctx context.Context, dest string) (string, error) {
		u := t
		u.EnvironmentSetupCommit = from
		u.BaseCommit = "" // the entry holds whatever the inputs give; checked below
		return SyntheticBase(ctx, m.repos, e.Git, u, dest)
	})
	if err != nil {
		return nil, err
	}
	if t.BaseCommit != "" && co.Commit != t.BaseCommit {
		co.Release()
		return nil, fmt.Errorf("%w: got %s, the task records %s", ErrNotReproduced, co.Commit, t.BaseCommit)
	}
	return co, nil
}

// phase reports how long a step of Open took since start to the trace
// hook benchmarks set.
func (m *Manager) phase(name string, start time.Time) {
	if m.trace != nil {
		m.trace(name, time.Since(start))
	}
}

// shipped returns the shared sanitised copy of the repository a published
// image shipped at /testbed: history, tags, remotes and everything else
// git keeps are cut back to the task's base commit (HEAD as shipped when
// the task names none) by gitsafe.Sanitize, while the files the image's
// set-up built beside the repository (untracked and ignored ones) stay.
// A synthetic task (a SWE-smith record, whose patch introduces its bug)
// gets the bug applied and a fresh single-commit history, as SyntheticBase
// does for built environments.
func (m *Manager) shipped(ctx context.Context, e Environment, ref string, t sdk.Task) (*repo.Checkout, error) {
	p, err := m.published(ctx, e, ref)
	if err != nil {
		return nil, err
	}
	synthetic := t.Source == sdk.SourceSynthetic || t.PatchDirection == sdk.PatchIntroduces
	base := t.BaseCommit
	if synthetic {
		base = t.EnvironmentSetupCommit
	}
	var key string
	if synthetic {
		key = repo.Key("image", p.ID, base, "synthetic", string(t.PatchDirection), t.Patch)
	} else {
		key = repo.Key("image", p.ID, base)
	}
	co, err := m.repos.Shared(ctx, key, func(ctx context.Context, dest string) (string, error) {
		if out, err := exec.CommandContext(ctx, "cp", "-a", "--reflink=auto", p.Repo, dest).CombinedOutput(); err != nil {
			return "", fmt.Errorf("copy the repository %s shipped: %w: %s", ref, err, strings.TrimSpace(string(out)))
		}
		rev := cmp.Or(base, "HEAD")
		if err := gitsafe.Sanitize(ctx, dest, rev, gitsafe.Options{KeepUntracked: true}); err != nil {
			return "", fmt.Errorf("the repository %s shipped: %w", ref, err)
		}
		if synthetic {
			return injectBug(ctx, dest, t)
		}
		out, err := exec.CommandContext(ctx, "git", "-C", dest, "rev-parse", "HEAD").Output()
		if err != nil {
			return "", fmt.Errorf("the repository %s shipped: %w", ref, err)
		}
		return strings.TrimSpace(string(out)), nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.InstanceID, err)
	}
	if synthetic && t.BaseCommit != "" && co.Commit != t.BaseCommit {
		co.Release()
		return nil, fmt.Errorf("%w: got %s, the task records %s", ErrNotReproduced, co.Commit, t.BaseCommit)
	}
	return co, nil
}

// injectBug applies a synthetic task's bug to the checkout dest (the
// reverse of its patch when the patch fixes) and gives it a fresh
// single-commit history, whose id it returns.
func injectBug(ctx context.Context, dest string, t sdk.Task) (string, error) {
	args := []string{"apply", "--whitespace=nowarn"}
	if t.PatchDirection != sdk.PatchIntroduces {
		args = append(args, "-R") // the patch is the fix: reverse it to get the bug
	}
	cmd := exec.CommandContext(ctx, "git", append(args, "-")...)
	cmd.Dir = dest
	cmd.Stdin = strings.NewReader(t.Patch)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("inject the bug: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return gitsafe.Fresh(ctx, dest)
}
