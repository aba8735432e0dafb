package swetools

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"strings"
	"time"

	"github.com/swelego/swelego/sdk"
)

// Version is the plugin's version.
const Version = "0.1.0"

// The tool names, as OpenHands' CodeAct agent calls them.
const (
	ToolExecuteBash = "execute_bash"
	ToolEditor      = "str_replace_editor"
	ToolThink       = "think"
	ToolFinish      = "finish"
)

// Defaults of Config.
const (
	DefaultRoot       = sdk.RepoDir
	DefaultStateDir   = "/tmp/.swelego-swetools"
	DefaultMaxOutput  = 30000
	DefaultTimeout    = 30  // seconds
	DefaultMaxTimeout = 600 // seconds
)

// Config is the tool set's configuration, the `config` of a recipe's
// toolset block. Zero values take the defaults.
type Config struct {
	// Root is the repository root inside the sandbox: the shell starts
	// there and the editor refuses paths outside it.
	Root string `json:"root"`
	// MaxOutput bounds the bytes of an observation's output (counted
	// on the raw output); a longer output keeps its first and last
	// halves around a marker saying how much was left out.
	MaxOutput int `json:"max_output"`
	// Timeout is the soft timeout of execute_bash in seconds: a command
	// that prints nothing new for this long returns what it printed so far.
	Timeout float64 `json:"timeout"`
	// MaxTimeout caps, in seconds, how long one execute_bash call waits,
	// whatever timeout the model asks for.
	MaxTimeout float64 `json:"max_timeout"`
	// StateDir is the folder inside the sandbox that holds the shell
	// session and the editor's undo history.
	StateDir string `json:"state_dir"`
}

// Schema is the configuration the tool set accepts.
var Schema = sdk.Schema{Attributes: map[string]sdk.Attribute{
	"root":        {Type: sdk.TypeString, Description: "repository root inside the sandbox; the shell starts there and the editor only works under it (default /testbed)"},
	"max_output":  {Type: sdk.TypeNumber, Default: DefaultMaxOutput, Description: "largest output of one observation in bytes; longer output keeps its head and tail around a marker"},
	"timeout":     {Type: sdk.TypeNumber, Default: DefaultTimeout, Description: "seconds without new output after which execute_bash returns while the command still runs"},
	"max_timeout": {Type: sdk.TypeNumber, Default: DefaultMaxTimeout, Description: "longest wait of one execute_bash call in seconds, whatever timeout the model asks for"},
	"state_dir":   {Type: sdk.TypeString, Description: "folder in the sandbox for the shell session and the editor's undo history (default /tmp/.swelego-swetools)"},
}}

// ErrConfig is returned (wrapped) for a configuration the tool set cannot
// use.
var ErrConfig = errors.New("invalid swetools configuration")

// decodeConfig reads cfg and fills in the defaults.
func decodeConfig(cfg sdk.Config) (Config, error) {
	var c Config
	if err := cfg.Decode(&c); err != nil {
		return c, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if c.Root == "" {
		c.Root = DefaultRoot
	}
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir
	}
	if c.MaxOutput == 0 {
		c.MaxOutput = DefaultMaxOutput
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxTimeout == 0 {
		c.MaxTimeout = DefaultMaxTimeout
	}
	switch {
	case !path.IsAbs(c.Root) || strings.ContainsAny(c.Root, "\x00\n"):
		return c, fmt.Errorf("%w: root %q is not an absolute path", ErrConfig, c.Root)
	case !path.IsAbs(c.StateDir) || strings.ContainsAny(c.StateDir, "\x00\n"):
		return c, fmt.Errorf("%w: state_dir %q is not an absolute path", ErrConfig, c.StateDir)
	case c.MaxOutput < 200:
		return c, fmt.Errorf("%w: max_output %d is below 200", ErrConfig, c.MaxOutput)
	case c.Timeout < 0 || c.MaxTimeout < 0:
		return c, fmt.Errorf("%w: timeouts must be positive", ErrConfig)
	}
	c.Root = path.Clean(c.Root)
	c.StateDir = path.Clean(c.StateDir)
	c.Timeout = min(c.Timeout, c.MaxTimeout)
	return c, nil
}

func (c Config) softTimeout() time.Duration { return seconds(c.Timeout) }
func (c Config) hardTimeout() time.Duration { return seconds(c.MaxTimeout) }

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// New returns the plugin: a tool set.
func New() *sdk.Plugin {
	return &sdk.Plugin{
		Name:        "swetools",
		Version:     Version,
		Description: "OpenHands-compatible agent tools: execute_bash, str_replace_editor, think, finish",
		ToolSet:     &ToolSet{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))},
		Schemas:     map[sdk.Kind]sdk.Schema{sdk.KindToolSet: Schema},
	}
}

// ToolSet serves the four tools. It keeps no state of its own: one value
// may serve any number of sandboxes at once, and a restarted plugin picks
// up where the last one left off.
//
// execute_bash keeps a shell session on top of the sandbox's one-shot Exec:
// each command runs under setsid in the background of its call with its
// output in a file, and the working folder, variables and functions are
// saved under Config.StateDir when it ends. The first call probes whether
// a process may outlive its Exec. Where it may (persistent), a command
// still running at the timeout keeps running, and later calls wait for it,
// feed its stdin (a FIFO) or interrupt it. Where the sandbox kills what an
// Exec leaves behind, as the docker and bwrap backends do (reaped), the
// command is stopped at the timeout and the observation says so. The
// helpers need bash, coreutils, util-linux (flock, setsid -f), sed, grep
// and find in the sandbox, and a writable StateDir.
type ToolSet struct {
	// Logger receives the agent's thoughts (think) at debug level; nil
	// discards them.
	Logger *slog.Logger
}

var _ sdk.ToolSet = (*ToolSet)(nil)

// Tools declares the four tools.
func (t *ToolSet) Tools(ctx context.Context, cfg sdk.Config) ([]sdk.ToolSchema, error) {
	c, err := decodeConfig(cfg)
	if err != nil {
		return nil, err
	}
	return toolSchemas(c), nil
}

// Execute runs one tool call. A call the model got wrong (an unknown tool,
// arguments that are not JSON, a missing or mistyped parameter, a failed
// edit) is an observation with Error set; an error is returned only when
// the configuration is invalid or the sandbox cannot be reached.
func (t *ToolSet) Execute(ctx context.Context, req sdk.ToolRequest) (sdk.ToolResult, error) {
	res, err := t.execute(ctx, req)
	// Observations travel as protobuf strings, which must be valid UTF-8.
	res.Output = strings.ToValidUTF8(res.Output, "\uFFFD")
	return res, err
}

func (t *ToolSet) execute(ctx context.Context, req sdk.ToolRequest) (sdk.ToolResult, error) {
	c, err := decodeConfig(req.Config)
	if err != nil {
		return sdk.ToolResult{}, err
	}
	name := req.Call.Function.Name
	spec, ok := specs[name]
	if !ok {
		return failure("Error: there is no tool named %q. The tools are execute_bash, str_replace_editor, think and finish.", name), nil
	}
	a, msg := parseArgs(spec, req.Call.Function.Arguments)
	if msg != "" {
		return failure("%s", msg), nil
	}
	needSandbox := name == ToolExecuteBash || name == ToolEditor
	if needSandbox && req.Sandbox == nil {
		return sdk.ToolResult{}, fmt.Errorf("swetools: %s: %w", name, sdk.ErrNotLent)
	}
	switch name {
	case ToolExecuteBash:
		return bash(ctx, req.Sandbox, c, a)
	case ToolEditor:
		return edit(ctx, req.Sandbox, c, a)
	case ToolThink:
		if t.Logger != nil {
			t.Logger.Debug("think", "thought", a.strs["thought"])
		}
		return sdk.ToolResult{Output: "Your thought has been logged."}, nil
	default: // finish
		msg := strings.TrimSpace(a.strs["message"])
		if msg == "" {
			msg = "The task is finished."
		}
		return sdk.ToolResult{Output: msg, Finished: true}, nil
	}
}

// failure is an observation telling the model its call went wrong.
func failure(format string, args ...any) sdk.ToolResult {
	return sdk.ToolResult{Output: fmt.Sprintf(format, args...), ExitCode: 1, Error: true}
}
