package pluginhost

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-version"

	"github.com/swelego/swelego/sdk"
)

// Errors a caller may test for with errors.Is.
var (
	// ErrProtocolMismatch: the plugin speaks another major protocol version.
	ErrProtocolMismatch = errors.New("plugin protocol version mismatch")
	// ErrCrashed: the plugin process died during a call; it is restarted
	// for the next call.
	ErrCrashed = errors.New("plugin process crashed")
	// ErrKind: the plugin does not serve the kind asked for.
	ErrKind = errors.New("plugin does not serve this kind")
	// ErrVersion: the plugin's version does not meet the recipe's constraint.
	ErrVersion = errors.New("plugin version does not meet the constraint")
)

// MaxRestarts bounds how often one plugin is restarted after crashes
// before the host gives up on it.
const MaxRestarts = 20

// Options configure a Host.
type Options struct {
	// Dir is the recipe's folder: relative plugin sources resolve against
	// it and plugin processes run in it, so relative paths in plugin
	// configuration mean the same to the plugin as to the recipe's author.
	Dir string
	// SearchPath lists folders holding swelego-plugin-NAME binaries.
	SearchPath []string
	// Decls are the recipe's plugin blocks by name.
	Decls map[string]Decl
	// Builtins are the plugins built into this binary, served by running
	// Self with the arguments `plugin serve NAME`.
	Builtins map[string]func() *sdk.Plugin
	// Self is the swelego executable (os.Executable when empty).
	Self string
	// Lock checks plugin binaries before they run; nil disables checking.
	Lock *Lock
	// UpdateLock re-records checksums instead of checking them.
	UpdateLock bool
	// Reattach is the value of SWELEGO_REATTACH_PLUGINS: plugins already
	// running (under a debugger) to connect to instead of starting.
	Reattach string
	// Logger receives the host's and the plugins' log lines.
	Logger hclog.Logger
	// StartTimeout bounds the wait for a plugin to complete the handshake
	// (DefaultStartTimeout when zero).
	StartTimeout time.Duration
}

// Host owns the plugin processes of one swelego invocation.
type Host struct {
	opts     Options
	reattach map[string]sdk.ReattachConfig

	mu      sync.Mutex
	plugins map[string]*process
	closed  bool

	langMu sync.Mutex
	langs  map[string]Language // languageIndex, built on first use
}

// New returns a host; no process starts until a plugin is asked for.
func New(opts Options) (*Host, error) {
	if opts.Logger == nil {
		opts.Logger = hclog.New(&hclog.LoggerOptions{Name: "swelego", Level: hclog.Warn, Output: os.Stderr})
	}
	if opts.Self == "" {
		self, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find swelego executable: %w", err)
		}
		opts.Self = self
	}
	h := &Host{opts: opts, plugins: map[string]*process{}}
	if opts.Reattach != "" {
		r, err := sdk.ParseReattach(opts.Reattach)
		if err != nil {
			return nil, fmt.Errorf("SWELEGO_REATTACH_PLUGINS: %w", err)
		}
		h.reattach = r
	}
	return h, nil
}

func (h *Host) builtinNames() []string {
	names := make([]string, 0, len(h.opts.Builtins))
	for n := range h.opts.Builtins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Close kills every plugin process the host started.
func (h *Host) Close() {
	h.mu.Lock()
	h.closed = true
	procs := h.plugins
	h.plugins = map[string]*process{}
	h.mu.Unlock()
	for _, p := range procs {
		p.kill()
	}
}

// Locate resolves a plugin name without starting it.
func (h *Host) Locate(name string) (Location, error) { return h.resolve(name) }

// Info starts the plugin if needed and returns what it reports of itself.
func (h *Host) Info(ctx context.Context, name string) (sdk.Info, error) {
	p, err := h.process(name)
	if err != nil {
		return sdk.Info{}, err
	}
	var info sdk.Info
	err = p.call(ctx, func(c *sdk.Client) error {
		var err error
		info, err = c.Info(ctx)
		return err
	})
	return info, err
}

// ConfigSchema returns the configuration schema plugin name serves for kind;
// it is what the recipe decoder checks a block against.
func (h *Host) ConfigSchema(ctx context.Context, name string, kind sdk.Kind) (sdk.Schema, error) {
	p, err := h.kind(ctx, name, kind)
	if err != nil {
		return sdk.Schema{}, err
	}
	var s sdk.Schema
	err = p.call(ctx, func(c *sdk.Client) error {
		var err error
		s, err = c.ConfigSchema(ctx, kind)
		return err
	})
	return s, err
}

// ValidateConfig asks plugin name to check cfg, a configuration of kind,
// beyond its schema; it is what `swelego validate` reports at the
// attributes of the recipe. A plugin that checks nothing, or was built
// before the call existed, has no diagnostics.
func (h *Host) ValidateConfig(ctx context.Context, name string, kind sdk.Kind, cfg sdk.Config) (sdk.Diagnostics, error) {
	p, err := h.kind(ctx, name, kind)
	if err != nil {
		return nil, err
	}
	var diags sdk.Diagnostics
	err = p.call(ctx, func(c *sdk.Client) error {
		var err error
		diags, err = c.ValidateConfig(ctx, kind, cfg)
		return err
	})
	return diags, err
}

// process returns the supervised process of a plugin, created on first use.
func (h *Host) process(name string) (*process, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errors.New("plugin host is closed")
	}
	if p, ok := h.plugins[name]; ok {
		return p, nil
	}
	p := &process{host: h, name: name}
	if rc, ok := h.reattach[name]; ok {
		r, err := rc.ClientReattach()
		if err != nil {
			return nil, fmt.Errorf("SWELEGO_REATTACH_PLUGINS: %s: %w", name, err)
		}
		p.reattach = r
	} else {
		loc, err := h.resolve(name)
		if err != nil {
			return nil, err
		}
		p.loc = loc
	}
	h.plugins[name] = p
	return p, nil
}

// kind returns the process of a plugin after checking it serves kind.
func (h *Host) kind(ctx context.Context, name string, kind sdk.Kind) (*process, error) {
	p, err := h.process(name)
	if err != nil {
		return nil, err
	}
	if _, err := p.client(ctx); err != nil {
		return nil, err
	}
	if !p.info.Serves(kind) {
		return nil, fmt.Errorf("%w: plugin %s serves %v, not %s", ErrKind, p.describe(), p.info.Kinds, kind)
	}
	return p, nil
}

// process is one plugin's process, started lazily and restarted after it
// crashes.
type process struct {
	host     *Host
	name     string
	loc      Location
	reattach *plugin.ReattachConfig

	mu       sync.Mutex
	raw      *plugin.Client
	sdk      *sdk.Client
	info     sdk.Info
	restarts int
	// startErr is why the process never completed the handshake; it is
	// not started again.
	startErr error
}

func (p *process) describe() string {
	if p.reattach != nil {
		return fmt.Sprintf("%s (reattached, pid %d)", p.name, p.reattach.Pid)
	}
	return p.loc.String()
}

// client returns a live connection, starting or restarting the process.
func (p *process) client(ctx context.Context) (*sdk.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.raw != nil && !p.raw.Exited() {
		return p.sdk, nil
	}
	if p.startErr != nil {
		return nil, p.startErr
	}
	if p.raw != nil {
		p.raw.Kill()
		p.raw = nil
		p.restarts++
		if p.restarts > MaxRestarts {
			return nil, fmt.Errorf("plugin %s crashed %d times; giving up on it", p.describe(), p.restarts)
		}
		p.host.opts.Logger.Warn("restarting plugin after a crash", "plugin", p.name, "restarts", p.restarts)
	}
	raw, c, err := p.start()
	if errors.Is(err, ErrHandshake) {
		p.startErr = err
	}
	if err != nil {
		return nil, err
	}
	info, err := c.Info(ctx)
	if err != nil {
		raw.Kill()
		return nil, fmt.Errorf("plugin %s: info: %w", p.describe(), err)
	}
	if err := p.checkVersion(info); err != nil {
		raw.Kill()
		return nil, err
	}
	p.raw, p.sdk, p.info = raw, c, info
	return c, nil
}

var protoVersionRE = regexp.MustCompile(`Plugin version: (\d+)`)

func (p *process) start() (*plugin.Client, *sdk.Client, error) {
	h := p.host
	watch := &startWatch{}
	timeout := cmp.Or(h.opts.StartTimeout, DefaultStartTimeout)
	cfg := &plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.PluginSets(),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Managed:          true,
		Logger:           startLogger{Logger: h.opts.Logger.Named(p.name), w: watch},
		Stderr:           &watch.stderr,
		SyncStderr:       os.Stderr,
		StartTimeout:     timeout,
	}
	if p.reattach != nil {
		v := p.reattach.ProtocolVersion
		if v == 0 {
			v = sdk.ProtocolVersion
		}
		set, err := sdk.PluginSetFor(v)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %s: %w", ErrProtocolMismatch, p.describe(), err)
		}
		cfg.Reattach = p.reattach
		cfg.Plugins = set
		cfg.AutoMTLS = false
	} else {
		var cmd *exec.Cmd
		if p.loc.Builtin {
			cmd = exec.Command(h.opts.Self, "plugin", "serve", p.loc.Serves)
		} else {
			cmd = exec.Command(p.loc.Path)
			if h.opts.Lock != nil {
				sum, err := h.opts.Lock.check(p.loc, h.opts.UpdateLock)
				if err != nil {
					return nil, nil, err
				}
				cfg.SecureConfig = &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
			}
		}
		cmd.Dir = h.opts.Dir
		// The plugin dies with the host even when the host is SIGKILLed;
		// in a process group of its own, whatever it started dies with it
		// when it fails to start.
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
		cfg.Cmd = cmd
		watch.cmd = cmd
	}
	raw := plugin.NewClient(cfg)
	rpc, err := raw.Client()
	if err != nil {
		watch.killGroup()
		raw.Kill()
		if m := protoVersionRE.FindStringSubmatch(err.Error()); m != nil {
			return nil, nil, fmt.Errorf("%w: plugin %s speaks protocol version %s, this swelego speaks version %d; rebuild the plugin against a matching swelego sdk", ErrProtocolMismatch, p.describe(), m[1], sdk.ProtocolVersion)
		}
		if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
			return nil, nil, fmt.Errorf("%w: plugin %s changed after it was checked", ErrChecksumMismatch, p.describe())
		}
		if err := watch.explain(p.describe(), timeout, err); errors.Is(err, ErrHandshake) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("start plugin %s: %w", p.describe(), err)
	}
	v, err := rpc.Dispense(sdk.DispenseName)
	if err != nil {
		raw.Kill()
		return nil, nil, fmt.Errorf("start plugin %s: %w", p.describe(), err)
	}
	c, ok := v.(*sdk.Client)
	if !ok {
		raw.Kill()
		return nil, nil, fmt.Errorf("start plugin %s: unexpected client type %T", p.describe(), v)
	}
	watch.started.Store(true)
	return raw, c, nil
}

func (p *process) checkVersion(info sdk.Info) error {
	decl := p.host.opts.Decls[p.name]
	if decl.Version != "" {
		want, err := version.NewConstraint(decl.Version)
		if err != nil {
			return fmt.Errorf("plugin %q: version constraint %q: %w", p.name, decl.Version, err)
		}
		have, err := version.NewVersion(info.Version)
		if err != nil {
			return fmt.Errorf("%w: plugin %s reports version %q, which is not a version", ErrVersion, p.describe(), info.Version)
		}
		if !want.Check(have) {
			return fmt.Errorf("%w: plugin %s is version %s, the recipe asks for %s", ErrVersion, p.describe(), info.Version, decl.Version)
		}
	}
	if l := p.host.opts.Lock; l != nil && !p.loc.Builtin && p.reattach == nil {
		return l.setVersion(p.name, info.Version)
	}
	return nil
}

// call runs fn with a live client. If the process died during the call,
// the error says so (wrapping ErrCrashed) and the next call restarts it.
func (p *process) call(ctx context.Context, fn func(*sdk.Client) error) error {
	c, err := p.client(ctx)
	if err != nil {
		return err
	}
	err = fn(c)
	if err == nil {
		return nil
	}
	if errors.Is(err, sdk.ErrNotServed) || errors.Is(err, sdk.ErrContract) {
		return err // the plugin answered: it is alive, no crash to wait for
	}
	p.mu.Lock()
	raw := p.raw
	p.mu.Unlock()
	if raw != nil && ctx.Err() == nil && exitedSoon(raw) {
		return fmt.Errorf("%w: plugin %s: %w", ErrCrashed, p.describe(), err)
	}
	return err
}

func (p *process) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.raw != nil {
		p.raw.Kill()
		p.raw = nil
	}
}
