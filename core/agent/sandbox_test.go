package agent_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swelego/swelego/core/agent"
	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/core/sandbox"
	"github.com/swelego/swelego/core/taskenv"
	"github.com/swelego/swelego/plugins/golang"
	"github.com/swelego/swelego/plugins/python"
	"github.com/swelego/swelego/plugins/swetools"
	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/jsonl"
	"github.com/swelego/swelego/sdk/sdktest"
)

// testCache is shared with the other packages' tests (see core/sandbox).
var testCache = filepath.Join(os.TempDir(), "swelego-test-cache")

func bundled(t testing.TB) []sdk.Task {
	t.Helper()
	f, err := os.Open("../../examples/tasks/bundled.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := jsonl.NewDecoder(f, "bundled.jsonl")
	var out []sdk.Task
	for {
		var task sdk.Task
		if err := dec.Next(&task); err != nil {
			return out
		}
		out = append(out, task)
	}
}

// managers opens both sandbox backends over the bundled repositories.
func managers(t testing.TB) map[string]*taskenv.Manager {
	t.Helper()
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		t.Skipf("docker info fails, so there is no Docker Engine to test against: %v\n%s", err, out)
	}
	out := map[string]*taskenv.Manager{}
	for _, name := range []string{"docker", "bwrap"} {
		b, err := sandbox.New(context.Background(), name, sandbox.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c, ok := b.(interface{ Close() error }); ok {
			t.Cleanup(func() { c.Close() })
		}
		out[name] = taskenv.New(taskenv.Options{Store: testCache, Backend: b, RepoDirs: []string{"../../examples/repos"},
			Languages: language.NewSet(language.Static(python.Language{}, golang.Language{})), DefaultLanguage: "python"})
	}
	return out
}

// tools serves the swetools plugin over the real plugin protocol.
func tools(t testing.TB) sdk.ToolSet {
	t.Helper()
	return sdktest.Connect(t, swetools.New()).ToolSet()
}

// TestOracleEpisodeResolves plays the oracle, with mistakes, through the
// swetools plugin in real sandboxes of both backends, and grades the final
// patch with the harness.
func TestOracleEpisodeResolves(t *testing.T) {
	if testing.Short() {
		t.Skip("builds environment images")
	}
	ctx := context.Background()
	tasks := bundled(t)
	picked := []sdk.Task{tasks[0], tasks[len(tasks)-1]} // one Python, one Go task
	ts := tools(t)
	for name, m := range managers(t) {
		for _, task := range picked {
			t.Run(name+"/"+task.InstanceID, func(t *testing.T) {
				task, err := m.Prepare(task)
				if err != nil {
					t.Fatal(err)
				}
				sb, err := m.Open(ctx, task)
				if err != nil {
					t.Fatal(err)
				}
				defer sb.Close(ctx)
				lang, err := m.Language(ctx, task)
				if err != nil {
					t.Fatal(err)
				}
				oracle, err := agent.NewOracle(ctx, sb, task, agent.OracleOptions{ErrorRate: 0.5, Seed: 11, Language: lang})
				if err != nil {
					t.Fatal(err)
				}
				tr, err := agent.Run(ctx, sb, task, agent.Options{Model: oracle, ModelName: agent.OracleName, Tools: ts})
				if err != nil {
					t.Fatal(err)
				}
				if tr.StopReason != agent.StopFinished {
					t.Fatalf("stop reason %q\n%s", tr.StopReason, transcript(tr))
				}
				errs := 0
				for _, turn := range tr.Turns {
					if turn.Error {
						errs++
					}
				}
				if errs == 0 {
					t.Errorf("error_rate 0.5 gave no error turn\n%s", transcript(tr))
				}
				open := func(ctx context.Context, t sdk.Task) (harness.Sandbox, error) { return m.Open(ctx, t) }
				r := harness.Evaluate(ctx, open, task, tr.FinalPatch, harness.Options{Language: lang})
				if !r.Resolved() {
					t.Fatalf("final patch: %s (%s)\n%s\n%s", r.Status, r.Error, tr.FinalPatch, transcript(tr))
				}
			})
		}
	}
}

func transcript(tr sdk.Trajectory) string {
	var b strings.Builder
	for _, m := range tr.Messages {
		fmt.Fprintf(&b, "--- %s: %s\n", m.Role, clip(m.Content, 600))
		for _, c := range m.ToolCalls {
			fmt.Fprintf(&b, "    call %s %s\n", c.Function.Name, clip(c.Function.Arguments, 300))
		}
	}
	return b.String()
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// commandModel issues the given tool calls one per turn, then finishes.
type commandModel struct{ calls [][2]string }

func (m *commandModel) Chat(ctx context.Context, req sdk.ChatRequest) (sdk.ChatResponse, error) {
	n := 0
	for _, msg := range req.Messages {
		if msg.Role == "assistant" {
			n++
		}
	}
	name, args := "finish", `{"message":"done"}`
	if n < len(m.calls) {
		name, args = m.calls[n][0], m.calls[n][1]
	}
	return sdk.ChatResponse{Message: sdk.Message{Role: "assistant", ToolCalls: []sdk.ToolCall{{ID: fmt.Sprint("call_", n), Type: "function", Function: sdk.FunctionCall{Name: name, Arguments: args}}}}}, nil
}

// TestAgentIsolation has an agent try the network (a listener on the
// host's loopback) and write outside the repository, through the tools, on
// both backends: the network attempts fail and nothing outside the sandbox
// changes.
func TestAgentIsolation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds environment images")
	}
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var hits atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			hits.Add(1)
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	marker := filepath.Join(os.TempDir(), fmt.Sprintf("swelego-escape-%d", time.Now().UnixNano()))
	home, _ := os.UserHomeDir()
	homeMarker := filepath.Join(home, filepath.Base(marker))
	task := bundled(t)[0]
	ts := tools(t)
	bash := func(cmd string) [2]string { return [2]string{"execute_bash", fmt.Sprintf(`{"command":%q}`, cmd)} }
	for name, m := range managers(t) {
		t.Run(name, func(t *testing.T) {
			task, err := m.Prepare(task)
			if err != nil {
				t.Fatal(err)
			}
			sb, err := m.Open(ctx, task)
			if err != nil {
				t.Fatal(err)
			}
			defer sb.Close(ctx)
			model := &commandModel{calls: [][2]string{
				bash(fmt.Sprintf("exec 3<>/dev/tcp/127.0.0.1/%d && echo CONNECTED", port)),
				bash(fmt.Sprintf(`python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:%d', timeout=3)" && echo FETCHED`, port)),
				bash("git -C /testbed ls-remote https://127.0.0.1:1/x.git && echo CLONED"),
				bash(fmt.Sprintf("echo pwned > %s; echo pwned > %s; echo pwned >> /etc/hosts; touch /usr/bin/swelego-escape; true", marker, homeMarker)),
				{"str_replace_editor", fmt.Sprintf(`{"command":"create","path":%q,"file_text":"pwned"}`, marker+"-editor")},
				{"str_replace_editor", `{"command":"create","path":"/testbed/../etc/swelego-escape","file_text":"pwned"}`},
			}}
			tr, err := agent.Run(ctx, sb, task, agent.Options{Model: model, Tools: ts, MaxTurns: 10})
			if err != nil {
				t.Fatal(err)
			}
			for _, msg := range tr.Messages {
				for _, word := range []string{"CONNECTED", "FETCHED", "CLONED"} {
					if msg.Role == "tool" && strings.Contains(msg.Content, word) {
						t.Errorf("network reached from the sandbox: %s", msg.Content)
					}
				}
			}
			if tr.FinalPatch != "" {
				t.Errorf("writes outside the repository show up in the patch:\n%s", tr.FinalPatch)
			}
			for _, msg := range tr.Messages[len(tr.Messages)-4:] {
				if msg.Role == "tool" && strings.Contains(msg.Content, "pwned") {
					t.Errorf("the editor wrote outside the repository: %s", msg.Content)
				}
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the host listener got %d connections from sandboxes", n)
	}
	for _, p := range []string{marker, marker + "-editor", homeMarker, "/usr/bin/swelego-escape", "/etc/swelego-escape"} {
		if _, err := os.Stat(p); err == nil {
			os.Remove(p)
			t.Errorf("%s was created on the host", p)
		}
	}
	if data, err := os.ReadFile("/etc/hosts"); err == nil && strings.Contains(string(data), "pwned") {
		t.Errorf("/etc/hosts of the host was changed")
	}
}

// TestLongRunningCommand drives execute_bash's session through the plugin
// in real sandboxes: on docker, which keeps processes between Execs, a
// command outlives its call, takes input and stops on C-c; on bwrap, whose
// process namespace ends with each Exec, it is stopped at its time limit
// and the observation says so.
func TestLongRunningCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds environment images")
	}
	ctx := context.Background()
	task := bundled(t)[0]
	ts := tools(t)
	for name, m := range managers(t) {
		t.Run(name, func(t *testing.T) {
			task, err := m.Prepare(task)
			if err != nil {
				t.Fatal(err)
			}
			sb, err := m.Open(ctx, task)
			if err != nil {
				t.Fatal(err)
			}
			defer sb.Close(ctx)
			n := 0
			bash := func(args string) sdk.ToolResult {
				t.Helper()
				n++
				res, err := ts.Execute(ctx, sdk.ToolRequest{Sandbox: sb, Call: sdk.ToolCall{ID: fmt.Sprint(n), Type: "function",
					Function: sdk.FunctionCall{Name: "execute_bash", Arguments: args}}})
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			first := bash(`{"command": "for i in $(seq 1 120); do echo tick $i; sleep 0.5; done", "timeout": 3}`)
			if !strings.Contains(first.Output, "tick 1") {
				t.Fatalf("no output from the running command: %+v", first)
			}
			if name == "bwrap" {
				if !strings.Contains(first.Output, "was stopped") {
					t.Errorf("bwrap: the observation does not say the command was stopped:\n%s", first.Output)
				}
				return
			}
			if !strings.Contains(first.Output, "still running") || first.ExitCode != -1 {
				dbg, _ := sb.Exec(ctx, "cd /tmp/.swelego-swetools/shell && ls -la && cat mode probe.pid; for p in /proc/[0-9]*; do echo $p $(tr '\\0' ' ' < $p/cmdline | head -c 40); done", time.Minute)
				t.Logf("the session's state in the sandbox:\n%s", dbg.Output)
				t.Fatalf("docker: the command did not keep running (exit %d):\n%s", first.ExitCode, first.Output)
			}
			more := bash(`{"command": "", "is_input": "true", "timeout": 2}`)
			if !strings.Contains(more.Output, "tick") {
				t.Errorf("no new output after waiting:\n%s", more.Output)
			}
			stop := bash(`{"command": "C-c", "is_input": "true"}`)
			if stop.ExitCode != 130 {
				t.Errorf("C-c: exit %d, want 130:\n%s", stop.ExitCode, stop.Output)
			}
			// A process may end between the glob and the read: the loop's own
			// stderr (where bash reports a redirection that fails) is dropped.
			left := bash(`{"command": "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done 2>/dev/null | grep -c 'seq 1 12[0]' || true"}`)
			if !strings.HasPrefix(strings.TrimSpace(left.Output), "0") {
				t.Errorf("the interrupted command is still running:\n%s", left.Output)
			}
			read := bash(`{"command": "read -r line; echo got $line", "timeout": 2}`)
			if !strings.Contains(read.Output, "still running") {
				t.Fatalf("read did not wait for input:\n%s", read.Output)
			}
			got := bash(`{"command": "hello sandbox", "is_input": "true"}`)
			if !strings.Contains(got.Output, "got hello sandbox") || got.ExitCode != 0 {
				t.Errorf("input did not reach the command (exit %d):\n%s", got.ExitCode, got.Output)
			}
		})
	}
}
