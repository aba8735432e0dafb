package swetools

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/swelego/swelego/sdk"
)

// modes runs f against a sandbox that keeps processes between Execs and
// one that kills them, as the docker and bwrap backends do.
func modes(t *testing.T, f func(t *testing.T, reap bool)) {
	for _, reap := range []bool{false, true} {
		name := "persistent"
		if reap {
			name = "reaped"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f(t, reap)
		})
	}
}

func wantOutput(t *testing.T, res sdk.ToolResult, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(res.Output, p) {
			t.Errorf("output lacks %q:\n%s", p, res.Output)
		}
	}
}

func TestBashSession(t *testing.T) {
	modes(t, func(t *testing.T, reap bool) {
		e := newEnv(t, reap, nil)
		if err := os.Mkdir(e.path("sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			name, command string
			exit          int
			want          []string
		}{
			{"starts in the root", "pwd", 0, []string{e.sb.root + "\n", "[Current working directory: " + e.sb.root + "]", "[Command finished with exit code 0]"}},
			{"cd and export", "cd sub && export GREETING='hello world' && NOTEXPORTED=1 && unset HOME", 0, nil},
			{"they persist", `pwd; echo "$GREETING"; echo "home=${HOME-unset} plain=${NOTEXPORTED-unset}"`, 0,
				[]string{e.path("sub") + "\n", "hello world\n", "home=unset plain=1", "[Current working directory: " + e.path("sub") + "]"}},
			{"arrays persist", "arr=(a b c); declare -A m=([k]=v); readonly RO=1", 0, nil},
			{"arrays after", `echo "${arr[1]} ${m[k]} $RO"`, 0, []string{"b v 1\n"}},
			{"functions persist", "greet() { echo \"hi $1\"; }", 0, nil},
			{"function call", "greet there", 0, []string{"hi there"}},
			{"exit code", "false", 1, []string{"[Command finished with exit code 1]"}},
			{"exit keeps the session", "cd .. && exit 3", 3, []string{"[Command finished with exit code 3]"}},
			{"after exit", "pwd", 0, []string{"[Current working directory: " + e.sb.root + "]"}},
			{"stderr is shown", "echo oops >&2; ls /nonexistent-swetools", 2, []string{"oops", "No such file or directory"}},
			{"command not found", "no-such-command-xyz", 127, []string{"no-such-command-xyz: command not found"}},
			{"syntax error", "if then", 2, []string{"syntax error"}},
			{"several lines", "a=1\nb=2\necho $((a+b))", 0, []string{"3\n"}},
			{"stdin is not a terminal", "cat; echo read-done", 0, nil},
			{"binary output", `printf 'ok\xff\xfe\n'`, 0, []string{"ok\uFFFD"}},
			{"colour codes are dropped", `printf '\033[31mred\033[0m\n'`, 0, []string{"red\n"}},
		}
		for _, s := range steps {
			if s.name == "stdin is not a terminal" && !reap {
				// With a session, stdin waits for is_input; covered below.
				continue
			}
			res := e.bash(s.command)
			if res.ExitCode != s.exit || res.Error {
				t.Errorf("%s: exit code %d (error %v), want %d:\n%s", s.name, res.ExitCode, res.Error, s.exit, res.Output)
			}
			wantOutput(t, res, s.want...)
			if strings.Contains(res.Output, "\x1b") || !utf8.ValidString(res.Output) {
				t.Errorf("%s: output is not clean text: %q", s.name, res.Output)
			}
		}
		// The state lives in the sandbox: a fresh tool set (a restarted
		// plugin) continues the same session.
		e.ts = &ToolSet{}
		res := e.bash(`echo "$GREETING"; pwd`)
		wantOutput(t, res, "hello world", e.sb.root)
	})
}

// pgidOf is the process group of the session's current job.
func pgidOf(t *testing.T, e *env) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.state, "shell", "pgid"))
	if err != nil {
		t.Fatal(err)
	}
	pg, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pg <= 1 {
		t.Fatalf("bad pgid %q", b)
	}
	return pg
}

// gone reports whether no process of group pg is left.
func gone(pg int) bool {
	for range 100 {
		if err := syscall.Kill(-pg, 0); errors.Is(err, syscall.ESRCH) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func TestBashLongRunningInterrupt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false, nil)
	start := time.Now()
	res := e.call(ToolExecuteBash, map[string]any{"command": "cd /; echo started; sleep 600; echo never", "timeout": 1})
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the call took %v", took)
	}
	if res.ExitCode != -1 || res.Error {
		t.Errorf("running command: exit code %d, error %v", res.ExitCode, res.Error)
	}
	wantOutput(t, res, "started", "still running after 1 seconds", `"C-c" with is_input=true`)
	pg := pgidOf(t, e)
	if gone(pg) {
		t.Fatal("the command did not keep running")
	}

	res = e.bash("echo other")
	if !res.Error || !strings.Contains(res.Output, "previous command is still running") {
		t.Errorf("a second command was not refused: %+v", res)
	}

	res = e.call(ToolExecuteBash, map[string]any{"command": "", "is_input": "true", "timeout": 1})
	if res.ExitCode != -1 || strings.Contains(res.Output, "started") {
		t.Errorf("poll: exit code %d, output %q (output already shown must not repeat)", res.ExitCode, res.Output)
	}

	res = e.call(ToolExecuteBash, map[string]any{"command": "C-c", "is_input": true})
	if res.ExitCode != 130 || res.Error {
		t.Errorf("C-c: exit code %d, error %v:\n%s", res.ExitCode, res.Error, res.Output)
	}
	wantOutput(t, res, "[The command was interrupted.]", "[Command finished with exit code 130]")
	if strings.Contains(res.Output, "never") {
		t.Error("the rest of the command line ran after C-c")
	}
	if !gone(pg) {
		t.Error("processes of the interrupted command are still alive")
	}
	// The session goes on where the interrupted command left it.
	res = e.bash("pwd")
	wantOutput(t, res, "[Current working directory: /]")

	res = e.call(ToolExecuteBash, map[string]any{"command": "C-c", "is_input": true})
	if !res.Error || !strings.Contains(res.Output, "nothing to interrupt") {
		t.Errorf("C-c with nothing running: %+v", res)
	}
}

func TestBashInterruptEscalates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false, nil)
	// A command that ignores SIGINT needs the second C-c, which kills it.
	res := e.call(ToolExecuteBash, map[string]any{"command": "trap '' INT; echo stubborn; sleep 600", "timeout": 1})
	wantOutput(t, res, "stubborn")
	pg := pgidOf(t, e)
	res = e.call(ToolExecuteBash, map[string]any{"command": "C-c", "is_input": true})
	if res.ExitCode != -1 {
		t.Errorf("first C-c: exit code %d:\n%s", res.ExitCode, res.Output)
	}
	wantOutput(t, res, "still running after C-c")
	res = e.call(ToolExecuteBash, map[string]any{"command": "C-c", "is_input": true})
	wantOutput(t, res, "killed")
	if !gone(pg) {
		t.Error("processes of the killed command are still alive")
	}
	res = e.bash("echo next")
	if res.ExitCode != 0 || !strings.Contains(res.Output, "next") {
		t.Errorf("after the kill: %+v", res)
	}
}

func TestBashSoftTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false, map[string]any{"timeout": 1})
	// Output that keeps coming holds the call; silence ends it.
	start := time.Now()
	res := e.bash("for i in 1 2 3; do echo tick $i; sleep 0.5; done; sleep 600")
	if took := time.Since(start); took < 1500*time.Millisecond {
		t.Errorf("returned after %v, before the output stopped", took)
	}
	wantOutput(t, res, "tick 1", "tick 3", "printed nothing new for 1 seconds")
	e.call(ToolExecuteBash, map[string]any{"command": "C-c", "is_input": true})
}

func TestBashInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false, nil)
	res := e.call(ToolExecuteBash, map[string]any{"command": `read -r name; echo "hello $name"; read -r again; echo "and $again"`, "timeout": 1})
	if res.ExitCode != -1 {
		t.Fatalf("read did not wait for input:\n%s", res.Output)
	}
	res = e.call(ToolExecuteBash, map[string]any{"command": "world", "is_input": "true", "timeout": 1})
	wantOutput(t, res, "hello world")
	if res.ExitCode != -1 {
		t.Errorf("after one line: exit code %d", res.ExitCode)
	}
	res = e.call(ToolExecuteBash, map[string]any{"command": "moon", "is_input": true})
	wantOutput(t, res, "and moon", "[Command finished with exit code 0]")
	if strings.Contains(res.Output, "hello world") {
		t.Error("output already shown was repeated")
	}

	// C-d ends the input of a command reading to the end.
	res = e.call(ToolExecuteBash, map[string]any{"command": "wc -l", "timeout": 1})
	if res.ExitCode != -1 {
		t.Fatalf("wc did not wait for input:\n%s", res.Output)
	}
	e.call(ToolExecuteBash, map[string]any{"command": "one\ntwo", "is_input": true, "timeout": 1})
	res = e.call(ToolExecuteBash, map[string]any{"command": "C-d", "is_input": true})
	wantOutput(t, res, "2\n", "[Command finished with exit code 0]")

	// Input for a command that ended since the last call is not sent; the
	// end of the command is reported instead.
	res = e.call(ToolExecuteBash, map[string]any{"command": "sleep 1; echo late", "timeout": 0.2})
	if res.ExitCode != -1 {
		t.Fatalf("sleep did not outlast the timeout:\n%s", res.Output)
	}
	time.Sleep(1500 * time.Millisecond)
	res = e.call(ToolExecuteBash, map[string]any{"command": "too late", "is_input": true})
	wantOutput(t, res, "late\n", "already ended, so the input was not sent", "[Command finished with exit code 0]")

	res = e.call(ToolExecuteBash, map[string]any{"command": "text", "is_input": true})
	if !res.Error || !strings.Contains(res.Output, "no command is running") {
		t.Errorf("input with nothing running: %+v", res)
	}
	res = e.call(ToolExecuteBash, map[string]any{"command": "", "is_input": true})
	if !res.Error || !strings.Contains(res.Output, "no command is running") {
		t.Errorf("poll with nothing running: %+v", res)
	}
	res = e.call(ToolExecuteBash, map[string]any{"command": "C-z", "is_input": true})
	if !res.Error || !strings.Contains(res.Output, "not supported") {
		t.Errorf("C-z: %+v", res)
	}
}

func TestBashReaped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true, nil)
	res := e.call(ToolExecuteBash, map[string]any{"command": "echo begun; sleep 600", "timeout": 1})
	wantOutput(t, res, "begun", "was stopped: this sandbox does not keep commands running", "at most 600 seconds")
	if res.Error || res.ExitCode == 0 {
		t.Errorf("stopped command: exit code %d, error %v", res.ExitCode, res.Error)
	}
	if !gone(pgidOf(t, e)) {
		t.Error("the stopped command is still alive")
	}
	res = e.call(ToolExecuteBash, map[string]any{"command": "", "is_input": true})
	if !res.Error {
		t.Errorf("poll after a stopped command: %+v", res)
	}
	// A command reading stdin gets the end of input at once.
	res = e.bash("read -r x; echo \"got [$x] $?\"")
	wantOutput(t, res, "got [] 1")
}

func TestBashTruncation(t *testing.T) {
	modes(t, func(t *testing.T, reap bool) {
		e := newEnv(t, reap, map[string]any{"max_output": 1000})
		res := e.bash("seq 1 100000")
		if !res.Truncated {
			t.Error("Truncated is not set")
		}
		if !strings.HasPrefix(res.Output, "1\n2\n3\n") {
			t.Errorf("the head is missing: %.40q", res.Output)
		}
		wantOutput(t, res, "99999\n100000\n[Current working directory:", "bytes of output omitted here")
		total := len(seqOutput(100000))
		want := "[... " + strconv.Itoa(total-1000) + " bytes of output omitted here ...]"
		if !strings.Contains(res.Output, want) {
			t.Errorf("want marker %q in:\n%s", want, res.Output)
		}
		if len(res.Output) > 1400 {
			t.Errorf("output of %d bytes", len(res.Output))
		}
		// Cuts inside a multi-byte character leave valid text.
		res = e.bash("for i in $(seq 2000); do printf 'é'; done")
		if !res.Truncated || !utf8.ValidString(res.Output) || strings.Contains(res.Output, "\uFFFD") {
			t.Errorf("multi-byte output: truncated %v, %q", res.Truncated, res.Output)
		}
		res = e.bash("echo short")
		if res.Truncated {
			t.Error("short output marked truncated")
		}
	})
}

func seqOutput(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		b.WriteString(strconv.Itoa(i))
		b.WriteByte('\n')
	}
	return b.String()
}

func TestBashLargeCommand(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true, nil)
	body := strings.Repeat("0123456789abcdef\n", 12000) // ~200 KiB, over one command line
	res := e.bash("cat > big.txt <<'EOF'\n" + body + "EOF\nwc -c < big.txt")
	wantOutput(t, res, strconv.Itoa(len(body))+"\n")
	if got := e.read("big.txt"); got != body {
		t.Errorf("the file has %d bytes, want %d", len(got), len(body))
	}
}

func TestBashParameters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true, map[string]any{"max_timeout": 2})
	for _, tc := range []struct {
		name string
		args string
		want string
		err  bool
	}{
		{"is_input as a boolean", `{"command": "echo a", "is_input": false}`, "a\n", false},
		{"is_input as a string", `{"command": "echo b", "is_input": "false"}`, "b\n", false},
		{"timeout as a string", `{"command": "echo c", "timeout": "5"}`, "c\n", false},
		{"timeout over the cap", `{"command": "sleep 30", "timeout": 100}`, "2-second timeout", false},
		{"negative timeout", `{"command": "echo d", "timeout": -1}`, "positive number", true},
		{"bad is_input", `{"command": "echo e", "is_input": "maybe"}`, `"is_input" of execute_bash must be a boolean`, true},
		{"security_risk is ignored", `{"command": "echo f", "security_risk": "LOW"}`, "f\n", false},
	} {
		start := time.Now()
		res := e.call(ToolExecuteBash, tc.args)
		if res.Error != tc.err || !strings.Contains(res.Output, tc.want) {
			t.Errorf("%s: error %v, output:\n%s", tc.name, res.Error, res.Output)
		}
		if time.Since(start) > 20*time.Second {
			t.Errorf("%s: took %v", tc.name, time.Since(start))
		}
	}
}

// TestBashConcurrentSandboxes runs two sessions through one tool set at
// once: nothing of one may leak into the other.
func TestBashConcurrentSandboxes(t *testing.T) {
	t.Parallel()
	ts := &ToolSet{}
	envs := []*env{newEnv(t, false, nil), newEnv(t, false, nil)}
	done := make(chan struct{})
	for i, e := range envs {
		e.ts = ts
		go func() {
			defer func() { done <- struct{}{} }()
			e.bash("export WHO=" + strconv.Itoa(i) + " && mkdir -p d" + strconv.Itoa(i) + " && cd d" + strconv.Itoa(i))
		}()
	}
	<-done
	<-done
	for i, e := range envs {
		res := e.bash(`echo "who=$WHO"`)
		wantOutput(t, res, "who="+strconv.Itoa(i)+"\n", "d"+strconv.Itoa(i)+"]")
	}
}
