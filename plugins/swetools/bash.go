package swetools

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/swelego/swelego/sdk"
)

// The sandbox side of execute_bash: shell.sh runs one call, runner.sh one
// command of the session (see the comments at their top).
var (
	//go:embed scripts/shell.sh
	shellScript string
	//go:embed scripts/runner.sh
	runnerScript string
)

// runnerName names the runner's file in the session folder after its
// content, so a session written by another version of the plugin gets the
// runner of this one.
var runnerName = func() string {
	sum := sha256.Sum256([]byte(runnerScript))
	return "runner-" + hex.EncodeToString(sum[:6]) + ".sh"
}()

// maxInline is the largest base64 text put into one Exec's command line;
// Linux refuses a single argument over 128 KiB.
const maxInline = 96 << 10

// Control keys execute_bash understands as input to a running command.
const (
	keyInterrupt = "C-c"
	keyEOF       = "C-d"
	keySuspend   = "C-z"
)

// shellReport is what shell.sh printed.
type shellReport struct {
	Mode      string // persistent | reaped
	State     string // running | done | killed | idle | needprobe
	Exit      int
	HasExit   bool
	PrevExit  *int
	Cwd       string
	Elapsed   int
	Refused   bool // a new command while one runs
	Stopped   bool // stopped at the time limit (reaped mode)
	Input     string
	Signal    string
	Fail      string
	Output    clipped
	HasOutput bool
}

// parseShellReport reads shell.sh's key=value lines. It never fails:
// a line it cannot read is skipped, so a state folder the agent has
// tampered with gives odd values, not a crash.
func parseShellReport(out string) shellReport {
	r := shellReport{Exit: -1}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimRight(line, "\r"), "=")
		if !ok {
			continue
		}
		switch k {
		case "mode":
			r.Mode = v
		case "state":
			r.State = v
		case "exit":
			if n, err := strconv.Atoi(v); err == nil {
				r.Exit, r.HasExit = n, true
			}
		case "prev_exit":
			if n, err := strconv.Atoi(v); err == nil {
				r.PrevExit = &n
			}
		case "cwd":
			if b, err := base64.StdEncoding.DecodeString(v); err == nil {
				r.Cwd = strings.ToValidUTF8(strings.TrimSuffix(string(b), "\n"), "\uFFFD")
			}
		case "elapsed":
			r.Elapsed, _ = strconv.Atoi(v)
		case "refused":
			r.Refused = true
		case "stopped":
			r.Stopped = true
		case "input":
			r.Input = v
		case "signal":
			r.Signal = v
		case "fail":
			r.Fail = v
		case "total":
			r.Output.Total, _ = strconv.ParseInt(v, 10, 64)
			r.HasOutput = true
		case "head":
			r.Output.Head, _ = base64.StdEncoding.DecodeString(v)
		case "tail":
			r.Output.Tail, _ = base64.StdEncoding.DecodeString(v)
		}
	}
	if r.Output.Total < int64(len(r.Output.Head)+len(r.Output.Tail)) {
		r.Output.Total = int64(len(r.Output.Head) + len(r.Output.Tail))
	}
	return r
}

// shellCall is one run of shell.sh.
type shellCall struct {
	act     string
	cmd     string // start: the command
	input   string // input: text for stdin
	idle    time.Duration
	wall    time.Duration
	limit   int
	inlined bool // the command goes in the script (else it was uploaded)
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

// script is the shell text of the call.
func (sc shellCall) script(c Config) string {
	cmd64 := ""
	if sc.inlined {
		cmd64 = base64.StdEncoding.EncodeToString([]byte(sc.cmd))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "S=%s ROOT=%s ACT=%s IDLE=%s WALL=%s LIMIT=%d CMD64=%s IN64=%s RUNNER=%s\n",
		quote(shellDir(c)), quote(c.Root), sc.act, ms(sc.idle), ms(sc.wall), sc.limit,
		quote(cmd64), quote(base64.StdEncoding.EncodeToString([]byte(sc.input))), runnerName)
	b.WriteString("write_runner() {\n\tcat >\"$S/$RUNNER\" <<'__SWETOOLS_RUNNER__'\n")
	b.WriteString(runnerScript)
	b.WriteString("__SWETOOLS_RUNNER__\n}\n")
	b.WriteString(shellScript)
	return b.String()
}

func shellDir(c Config) string { return path.Join(c.StateDir, "shell") }

// run runs the call in sb, probing first how the sandbox treats processes
// that outlive an Exec if this session has not been probed yet.
func (sc shellCall) run(ctx context.Context, sb sdk.Sandbox, c Config) (shellReport, error) {
	for attempt := 0; ; attempt++ {
		r, err := execHelper(ctx, sb, sc.script(c), sc.wall+time.Minute)
		if err != nil {
			return r, err
		}
		if r.State != "needprobe" {
			return r, nil
		}
		if attempt > 0 {
			return r, fmt.Errorf("swetools: the shell session in %s cannot record its mode", shellDir(c))
		}
		if err := probe(ctx, sb, c); err != nil {
			return r, err
		}
	}
}

func execHelper(ctx context.Context, sb sdk.Sandbox, script string, timeout time.Duration) (shellReport, error) {
	res, err := sb.Exec(ctx, script, timeout)
	if err != nil {
		return shellReport{}, fmt.Errorf("swetools: exec: %w", err)
	}
	r := parseShellReport(res.Output)
	if r.Fail != "" {
		return r, fmt.Errorf("swetools: shell helper: %s", r.Fail)
	}
	if res.ExitCode != 0 || (r.State == "" && r.Mode == "") {
		return r, fmt.Errorf("swetools: the shell helper failed in the sandbox (exit code %d): %s",
			res.ExitCode, strings.TrimSpace(clean(firstN(res.Output, 2000))))
	}
	return r, nil
}

func firstN(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// probe finds out whether a process started by one Exec is still alive
// in the next (persistent) or killed when its Exec returns (reaped), and
// records it in the session's mode file.
func probe(ctx context.Context, sb sdk.Sandbox, c Config) error {
	for _, act := range []string{"probe1", "probe2"} {
		sc := shellCall{act: act, wall: time.Second, limit: 1}
		res, err := sb.Exec(ctx, sc.script(c), time.Minute)
		if err != nil {
			return fmt.Errorf("swetools: probe the sandbox: %w", err)
		}
		if r := parseShellReport(res.Output); res.ExitCode != 0 || (act == "probe2" && r.Mode == "") {
			return fmt.Errorf("swetools: probe the sandbox: the helper failed (exit code %d): %s",
				res.ExitCode, strings.TrimSpace(clean(firstN(res.Output, 2000))))
		}
	}
	return nil
}

// upload writes data to file in the sandbox through Exec, in pieces small
// enough for a command line.
func upload(ctx context.Context, sb sdk.Sandbox, file string, data []byte) error {
	enc := base64.StdEncoding.EncodeToString(data)
	op := ">"
	for first := true; first || enc != ""; first = false {
		n := min(len(enc), maxInline)
		piece := enc[:n]
		enc = enc[n:]
		script := fmt.Sprintf("umask 077; mkdir -p %s && printf %%s %s | base64 -d %s %s",
			quote(path.Dir(file)), quote(piece), op, quote(file))
		res, err := sb.Exec(ctx, script, time.Minute)
		if err != nil {
			return fmt.Errorf("swetools: upload the command: %w", err)
		}
		if res.ExitCode != 0 {
			return fmt.Errorf("swetools: upload the command: exit code %d: %s", res.ExitCode, strings.TrimSpace(clean(firstN(res.Output, 2000))))
		}
		op = ">>"
	}
	return nil
}

// bash runs execute_bash.
func bash(ctx context.Context, sb sdk.Sandbox, c Config, a callArgs) (sdk.ToolResult, error) {
	command := a.strs["command"]
	isInput := a.bools["is_input"]
	sc := shellCall{idle: c.softTimeout(), wall: c.hardTimeout(), limit: c.MaxOutput}
	if t, ok := a.nums["timeout"]; ok {
		if t <= 0 {
			return failure("Error: timeout must be a positive number of seconds, not %g.", t), nil
		}
		// An explicit timeout is a wall-clock limit, capped by the config.
		sc.idle, sc.wall = 0, min(seconds(t), c.hardTimeout())
	}
	key := strings.TrimSpace(command)
	switch {
	case key == keySuspend:
		return failure("Error: C-z (suspend) is not supported: the shell has no job control. Use C-c with is_input=true to interrupt the running command, or start a long command in the background (`cmd > /tmp/log 2>&1 &`) and read its log."), nil
	case key == keyInterrupt:
		sc.act = "interrupt"
	case key == keyEOF:
		sc.act = "eof"
	case key == "":
		sc.act = "poll"
	case isInput:
		sc.act, sc.input = "input", command
		if !strings.HasSuffix(sc.input, "\n") {
			sc.input += "\n"
		}
		if len(sc.input) > maxInline/2 {
			return failure("Error: the input is %d bytes long; send at most %d bytes at a time.", len(sc.input), maxInline/2), nil
		}
	default:
		sc.act, sc.cmd = "start", command
		sc.inlined = base64.StdEncoding.EncodedLen(len(command)) <= maxInline
		if !sc.inlined {
			if err := upload(ctx, sb, path.Join(shellDir(c), "cmd.next"), []byte(command)); err != nil {
				return sdk.ToolResult{}, err
			}
		}
	}
	r, err := sc.run(ctx, sb, c)
	if err != nil {
		return sdk.ToolResult{}, err
	}
	return bashObservation(sc, c, r), nil
}

// bashObservation renders a report for the model.
func bashObservation(sc shellCall, c Config, r shellReport) sdk.ToolResult {
	var res sdk.ToolResult
	var b strings.Builder
	var notes []string
	if r.Refused {
		return failure("Error: the previous command is still running (for %d s), so this one was not started. %s",
			r.Elapsed, howToContinue())
	}
	switch {
	case r.PrevExit != nil && *r.PrevExit == -1:
		notes = append(notes, "[The previous command had been killed before this one started; output it printed after the last observation was not shown.]")
	case r.PrevExit != nil:
		notes = append(notes, fmt.Sprintf("[The previous command had ended with exit code %d before this one started; output it printed after the last observation was not shown.]", *r.PrevExit))
	}
	if r.State == "idle" {
		switch sc.act {
		case "poll":
			return failure("Error: no command is running, so there is no output to wait for. Send a command with is_input=false to run it.")
		case "input", "eof":
			return failure("Error: no command is running, so the input was not sent. Send a command with is_input=false to run it.")
		case "interrupt":
			return failure("Error: no command is running, so there is nothing to interrupt.")
		}
	}
	if r.HasOutput {
		out, truncated := r.Output.text()
		b.WriteString(out)
		res.Truncated = truncated
	}
	switch {
	case r.Input == "failed":
		notes = append(notes, "[The input could not be written: the command is not reading its standard input.]")
	case r.Input == "" && (sc.act == "input" || sc.act == "eof") && r.State != "running":
		notes = append(notes, "[The command had already ended, so the input was not sent.]")
	case r.Signal == "" && sc.act == "interrupt" && r.State != "running":
		notes = append(notes, "[The command had already ended before C-c.]")
	}
	switch r.State {
	case "done":
		res.ExitCode = r.Exit
		if r.Stopped {
			notes = append(notes, stoppedNote(sc, c))
		} else if r.Signal != "" {
			notes = append(notes, "[The command was interrupted.]")
		}
		notes = append(notes, "[Current working directory: "+r.Cwd+"]", fmt.Sprintf("[Command finished with exit code %d]", r.Exit))
	case "killed":
		res.ExitCode = -1
		if r.Stopped {
			notes = append(notes, stoppedNote(sc, c))
		} else {
			notes = append(notes, "[The command was killed before it could finish; the working directory and environment are as they were before it started.]")
		}
		notes = append(notes, "[Current working directory: "+r.Cwd+"]", "[Command killed, no exit code]")
	case "running":
		res.ExitCode = -1
		var why string
		switch {
		case sc.act == "interrupt" && r.Signal == "INT":
			why = "The command is still running after C-c; send C-c again (is_input=true) to kill it."
		case sc.act == "interrupt":
			why = "The command is still running after it was killed."
		case sc.idle > 0:
			why = fmt.Sprintf("The command has printed nothing new for %g seconds and is still running (for %d s now).", sc.idle.Seconds(), r.Elapsed)
		default:
			why = fmt.Sprintf("The command is still running after %g seconds.", sc.wall.Seconds())
		}
		notes = append(notes, "["+why+" "+howToContinue()+"]")
	}
	if len(notes) > 0 {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteString("\n")
		}
		b.WriteString(strings.Join(notes, "\n"))
	}
	res.Output = b.String()
	return res
}

func howToContinue() string {
	return `Send an empty command with is_input=true to wait for more output, "C-c" with is_input=true to interrupt it, or other text with is_input=true to write it to the command's standard input.`
}

func stoppedNote(sc shellCall, c Config) string {
	why := fmt.Sprintf("ran for the %g-second timeout", sc.wall.Seconds())
	if sc.idle > 0 {
		why = fmt.Sprintf("printed nothing new for %g seconds", sc.idle.Seconds())
	}
	return fmt.Sprintf("[The command %s and was stopped: this sandbox does not keep commands running between calls. If it needs longer, run it again with a larger timeout (at most %g seconds), or make it faster.]",
		why, c.MaxTimeout)
}
