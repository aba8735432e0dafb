package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swelego/swelego/core/agent"
	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/core/llm"
	"github.com/swelego/swelego/core/llm/llmtest"
	"github.com/swelego/swelego/plugins/golang"
	"github.com/swelego/swelego/plugins/python"
	"github.com/swelego/swelego/sdk"
)

// checkoutDir is a read-only sandbox over a git checkout: what the oracle
// reads of a task's base files.
type checkoutDir string

func (d checkoutDir) Exec(context.Context, string, time.Duration) (sdk.ExecResult, error) {
	return sdk.ExecResult{}, errors.New("read-only")
}
func (d checkoutDir) ReadFile(_ context.Context, p string) ([]byte, error) {
	return os.ReadFile(filepath.Join(string(d), strings.TrimPrefix(p, "/testbed/")))
}
func (d checkoutDir) WriteFile(context.Context, string, []byte) error { return errors.New("read-only") }
func (d checkoutDir) Diff(context.Context) (string, error)            { return "", errors.New("read-only") }

// oracleEndpoint makes a stand-in OpenAI-compatible server play the oracle
// for the bundled tasks: each request is matched to its task by the
// problem statement in the task prompt and answered with the oracle's next
// step, as native tool calls or as text in format. faults, keyed by the
// server's request number (from 1), are served instead of the answer.
type oracleEndpoint struct {
	t       *testing.T
	format  llm.Format
	tasks   []sdk.Task
	faults  map[int]llmtest.Reply
	mu      sync.Mutex
	n       int
	oracles map[string]*agent.Oracle
	skipped map[string]int // faults that became assistant messages, per task
}

func (e *oracleEndpoint) oracle(task sdk.Task) (*agent.Oracle, error) {
	if o := e.oracles[task.InstanceID]; o != nil {
		return o, nil
	}
	dir := e.t.TempDir()
	bundle := abs(e.t, "../../examples/repos/"+filepath.Base(task.Repo)+".bundle")
	if out, err := exec.Command("git", "clone", "-q", bundle, dir).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	if out, err := exec.Command("git", "-C", dir, "checkout", "-q", "--detach", task.BaseCommit).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	lang, err := language.NewSet(language.Static(python.Language{}, golang.Language{})).Get(context.Background(), cmp.Or(task.Language, defaultLanguage))
	if err != nil {
		return nil, err
	}
	o, err := agent.NewOracle(context.Background(), checkoutDir(dir), task, agent.OracleOptions{ErrorRate: 0.2, Seed: 9, Language: lang})
	if err != nil {
		return nil, err
	}
	e.oracles[task.InstanceID] = o
	return o, nil
}

func (e *oracleEndpoint) serve(req llmtest.Request) llmtest.Reply {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n++
	msgs := req.Chat.Messages
	var task *sdk.Task
	for i := range e.tasks {
		if len(msgs) > 1 && strings.Contains(msgs[1].Text(), e.tasks[i].ProblemStatement) {
			task = &e.tasks[i]
		}
	}
	if task == nil {
		return llmtest.Error(400, "invalid_request_error", "no bundled task in the prompt")
	}
	if f, ok := e.faults[e.n]; ok {
		if f.Completion != nil { // a malformed call: the agent keeps it as a turn
			e.skipped[task.InstanceID]++
		}
		return f
	}
	o, err := e.oracle(*task)
	if err != nil {
		return llmtest.Error(500, "server_error", err.Error())
	}
	steps := -e.skipped[task.InstanceID]
	for _, m := range msgs {
		if m.Role == "assistant" {
			steps++
		}
	}
	history := make([]sdk.Message, steps)
	for i := range history {
		history[i].Role = "assistant"
	}
	resp, err := o.Chat(context.Background(), sdk.ChatRequest{Messages: history})
	if err != nil {
		return llmtest.Error(500, "server_error", err.Error())
	}
	if e.format == llm.FormatNative {
		var calls []llmtest.ToolCall
		for _, c := range resp.Message.ToolCalls {
			calls = append(calls, llmtest.Call(c.Function.Name, c.Function.Arguments))
		}
		r := llmtest.Calls(calls...)
		text := resp.Message.Content
		r.Completion.Choices[0].Message.Content = &text
		return r.WithUsage(resp.Usage.PromptTokens, resp.Usage.CompletionTokens)
	}
	rendered, err := llm.RenderMessages(e.format, []sdk.Message{resp.Message}, nil)
	if err != nil {
		return llmtest.Error(500, "server_error", err.Error())
	}
	return llmtest.Text(rendered[0].Content).WithUsage(resp.Usage.PromptTokens, resp.Usage.CompletionTokens)
}

// TestRolloutThroughEndpoint runs full rollouts against a local stand-in
// OpenAI-compatible server, with native tool calls (a Python and a Go
// task) and with each text format (one task each). The native run also
// meets a 429, a 500, a hung response that hits the client's timeout and a
// malformed tool call, and still resolves.
func TestRolloutThroughEndpoint(t *testing.T) {
	t.Parallel() // waits on sandboxes more than it computes
	requireDocker(t)
	if testing.Short() {
		t.Skip("opens sandboxes for bundled tasks")
	}
	byFormat := map[llm.Format][]string{
		llm.FormatNative:    {"textkit__textkit-2", "semver__semver-3"},
		llm.FormatOpenHands: {"textkit__textkit-2"},
		llm.FormatQwen:      {"semver__semver-3"},
	}
	for _, format := range []llm.Format{llm.FormatNative, llm.FormatOpenHands, llm.FormatQwen} {
		t.Run(string(format), func(t *testing.T) {
			ids := byFormat[format]
			var tasks []sdk.Task
			for _, task := range bundledTaskList(t) {
				if slices.Contains(ids, task.InstanceID) {
					tasks = append(tasks, task)
				}
			}
			quoted := make([]string, len(ids))
			for i, id := range ids {
				quoted[i] = strconv.Quote(id)
			}
			srv := llmtest.NewServer(t)
			ep := &oracleEndpoint{t: t, format: format, tasks: tasks, oracles: map[string]*agent.Oracle{}, skipped: map[string]int{}}
			if format == llm.FormatNative {
				ep.faults = map[int]llmtest.Reply{
					2: llmtest.RateLimited("0"),
					4: llmtest.ServerError(),
					6: llmtest.Hang(),
					8: llmtest.Calls(llmtest.Call("str_replace_editor", `{"command": "view", "path": "/testbed"`)),
				}
			}
			srv.Handle(ep.serve)
			dir := t.TempDir()
			recipe := fmt.Sprintf(`source "swebench" "bundled" {
  path         = %q
  instance_ids = [%s]
}
environment "textkit" {
  repo     = "swelego-examples/textkit"
  git      = %q
  language = "python"
}
environment "semver" {
  repo     = "swelego-examples/semver"
  git      = %q
  language = "go"
}
sandbox {
  backend = "bwrap"
}
model "standin" {
  provider    = "openai"
  base_url    = %q
  name        = "stand-in"
  api_key_env = "STANDIN_KEY"
  format      = %q
  timeout     = "3s"
  max_retries = 3
}
rollout "agent" {
  tasks     = source.swebench.bundled
  model     = model.standin
  max_turns = 60
  workers   = 1
}
`, abs(t, bundledTasks), strings.Join(quoted, ", "), abs(t, "../../examples/repos/textkit.bundle"), abs(t, "../../examples/repos/semver.bundle"), srv.URL(), format)
			writeFile(t, filepath.Join(dir, "recipe.hcl"), recipe)
			work := filepath.Join(dir, "run")
			cmd := swelegoCmd(dir, "run", "recipe.hcl", "--workdir", work)
			cmd.Env = append(cmd.Env, "SWELEGO_CACHE="+testCache, "STANDIN_KEY=sk-standin-secret-4242")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, tail(string(out), 4000))
			}
			if strings.Contains(string(out), "sk-standin-secret-4242") {
				t.Errorf("the API key shows in the run's output")
			}
			trs := readTrajectories(t, filepath.Join(work, "rollout", "agent", "trajectories.jsonl"))
			if len(trs) != len(tasks) {
				t.Fatalf("%d trajectories, want %d", len(trs), len(tasks))
			}
			errorTurns := 0
			for _, tr := range trs {
				if tr.Status != sdk.StatusResolved || tr.Model != "stand-in" || tr.StopReason != agent.StopFinished {
					t.Errorf("%s: status %s, model %q, stop %q, error %q", tr.InstanceID, tr.Status, tr.Model, tr.StopReason, tr.Error)
				}
				if tr.Usage.TotalTokens == 0 {
					t.Errorf("%s: no usage recorded", tr.InstanceID)
				}
				calls := 0
				for _, m := range tr.Messages {
					calls += len(m.ToolCalls)
				}
				if calls < 5 {
					t.Errorf("%s: %d tool calls in the trajectory", tr.InstanceID, calls)
				}
				for _, turn := range tr.Turns {
					if turn.Error {
						errorTurns++
					}
				}
			}
			reqs := srv.Requests()
			for _, r := range reqs {
				if got := r.Header.Get("Authorization"); got != "Bearer sk-standin-secret-4242" {
					t.Fatalf("request without the key: Authorization %q", got)
				}
				if native := len(r.Chat.Tools) > 0; native != (format == llm.FormatNative) {
					t.Fatalf("format %s: request with %d tools", format, len(r.Chat.Tools))
				}
			}
			if format != llm.FormatNative {
				marker := map[llm.Format]string{llm.FormatOpenHands: "<function=", llm.FormatQwen: "<tool_call>"}[format]
				if !strings.Contains(reqs[0].Chat.Messages[0].Text(), marker) {
					t.Errorf("the system prompt does not teach the %s format", format)
				}
			}
			if format == llm.FormatNative && errorTurns == 0 {
				t.Errorf("the malformed tool call did not become an error turn")
			}
		})
	}
}

// bundledTaskList reads the bundled tasks.
func bundledTaskList(t *testing.T) []sdk.Task {
	var out []sdk.Task
	for _, rec := range readJSONL(t, abs(t, bundledTasks)) {
		raw, _ := json.Marshal(rec)
		var task sdk.Task
		if err := json.Unmarshal(raw, &task); err != nil {
			t.Fatal(err)
		}
		out = append(out, task)
	}
	return out
}
