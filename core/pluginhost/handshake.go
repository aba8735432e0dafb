package pluginhost

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/swelego/swelego/sdk"
)

// DefaultStartTimeout is how long a plugin has to complete the go-plugin
// handshake (print its address line on stdout) before the host gives up.
const DefaultStartTimeout = 10 * time.Second

// ErrHandshake: the plugin process did not complete the go-plugin
// handshake: it printed something else on stdout, exited, or said nothing
// in time. The host does not start it again.
var ErrHandshake = errors.New("plugin did not complete the handshake")

// handshakeLine shows the shape of the line a plugin prints on stdout to
// complete the handshake: core protocol, app protocol, network, address,
// wire protocol.
var handshakeLine = fmt.Sprintf("%d|%d|unix|/tmp/plugin…|grpc", plugin.CoreProtocolVersion, sdk.ProtocolVersion)

// unrecognisedRE finds the stdout line go-plugin could not read.
var unrecognisedRE = regexp.MustCompile(`(?s)^Unrecognized remote plugin message: (.*?)(\n|$)`)

// startWatch collects what a starting plugin says, to explain a failed
// handshake in one line: the start of its stderr, and its process.
type startWatch struct {
	cmd    *exec.Cmd
	stderr headBuffer
	// started turns true once the handshake succeeded; until then the
	// go-plugin logger's lines about the process are dropped (the host's
	// error says what happened).
	started atomic.Bool
}

// killGroup kills the process group of a plugin that failed to start, so a
// script's children (a sleep holding stdout open) die with it and go-plugin's
// Kill, which waits for the pipes to close, returns.
func (w *startWatch) killGroup() {
	if w.cmd == nil || w.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-w.cmd.Process.Pid, syscall.SIGKILL)
}

func (w *startWatch) processState() *os.ProcessState {
	if w.cmd == nil {
		return nil
	}
	return w.cmd.ProcessState
}

// explain turns go-plugin's error for a failed start into one line that
// says what was started and what was expected. Call it once the process
// was killed (its exit status is known then). Errors that are not about
// the handshake come back unchanged.
func (w *startWatch) explain(what string, timeout time.Duration, err error) error {
	msg := err.Error()
	var got, how string
	switch {
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		how = fmt.Sprintf("within %s", timeout)
		got = "nothing"
	case strings.Contains(msg, "plugin exited before we could connect"),
		strings.Contains(msg, "Failed to read any lines from plugin's stdout"):
		how = "before it exited"
		if st := w.processState(); st != nil {
			how = fmt.Sprintf("before it exited (%s)", st)
		}
		got = "nothing"
	case unrecognisedRE.MatchString(msg):
		line := unrecognisedRE.FindStringSubmatch(msg)[1]
		how = "(nothing may be printed on stdout before it)"
		got = quoteHead(line)
		if line == "" {
			got = "an empty line"
		}
	default:
		return err
	}
	out := fmt.Sprintf("plugin %s did not complete the handshake %s: expected a line like %s on stdout, got %s", what, how, handshakeLine, got)
	if s := w.stderr.firstLine(); s != "" {
		out += "; stderr: " + quoteHead(s)
	}
	return &handshakeError{msg: out}
}

// handshakeError is a failed handshake explained; errors.Is finds
// ErrHandshake in it.
type handshakeError struct{ msg string }

func (e *handshakeError) Error() string        { return e.msg }
func (e *handshakeError) Is(target error) bool { return target == ErrHandshake }

// quoteHead quotes the first 80 bytes of s.
func quoteHead(s string) string {
	const max = 80
	if len(s) > max {
		return fmt.Sprintf("%q…", s[:max])
	}
	return fmt.Sprintf("%q", s)
}

// headBuffer keeps the first bytes written to it.
type headBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

const headBufferSize = 1024

func (b *headBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := headBufferSize - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// firstLine is the first non-empty line written, trimmed.
func (b *headBuffer) firstLine() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range strings.Split(b.buf.String(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

// startLogger is the logger go-plugin gets: the host's, except that the
// lines go-plugin writes about a process that failed to start ("plugin
// process exited", "plugin failed to exit gracefully") are dropped, the
// host's error saying what happened in one line.
type startLogger struct {
	hclog.Logger
	w *startWatch
}

var _ hclog.Logger = startLogger{}

// startNoise are go-plugin's messages about a process it is killing or
// that exited, which a failed start explains better.
var startNoise = map[string]bool{"plugin process exited": true, "plugin failed to exit gracefully": true}

func (l startLogger) quiet(msg string) bool { return !l.w.started.Load() && startNoise[msg] }

func (l startLogger) Log(level hclog.Level, msg string, args ...interface{}) {
	if !l.quiet(msg) {
		l.Logger.Log(level, msg, args...)
	}
}

func (l startLogger) Info(msg string, args ...interface{}) {
	if !l.quiet(msg) {
		l.Logger.Info(msg, args...)
	}
}

func (l startLogger) Warn(msg string, args ...interface{}) {
	if !l.quiet(msg) {
		l.Logger.Warn(msg, args...)
	}
}

func (l startLogger) Error(msg string, args ...interface{}) {
	if !l.quiet(msg) {
		l.Logger.Error(msg, args...)
	}
}

func (l startLogger) With(args ...interface{}) hclog.Logger {
	return startLogger{Logger: l.Logger.With(args...), w: l.w}
}

func (l startLogger) Named(name string) hclog.Logger {
	return startLogger{Logger: l.Logger.Named(name), w: l.w}
}

func (l startLogger) ResetNamed(name string) hclog.Logger {
	return startLogger{Logger: l.Logger.ResetNamed(name), w: l.w}
}
