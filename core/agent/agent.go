package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"text/template"
	"time"

	"github.com/swelego/swelego/sdk"
)

// DefaultMaxTurns is the turn limit of an episode whose Options set none
// (SWE-Lego's teacher rollouts used 100).
const DefaultMaxTurns = 100

// RepoDir is where a sandbox holds the task's repository.
const RepoDir = "/testbed"

// Reasons an episode stops, recorded in Trajectory.StopReason.
const (
	StopFinished    = "finished"
	StopMaxTurns    = "max_turns"
	StopTokenBudget = "token_budget"
	StopTimeLimit   = "time_limit"
	StopModelError  = "model_error"
)

// Options configure an episode. Model and Tools are required.
type Options struct {
	Model sdk.Model
	// ModelName is recorded in Trajectory.Model and sent as the request's
	// model.
	ModelName  string
	Tools      sdk.ToolSet
	ToolConfig sdk.Config
	// MaxTurns bounds the assistant turns; 0 means DefaultMaxTurns.
	MaxTurns int
	// TokenBudget bounds the total tokens (prompt + completion, summed over
	// calls) the model may use; 0 means no bound.
	TokenBudget int
	// TimeLimit bounds the wall-clock time of the episode; 0 means none.
	TimeLimit time.Duration
	// SystemPrompt and TaskPrompt are text/template texts over Prompt;
	// empty means DefaultSystemPrompt and DefaultTaskPrompt.
	SystemPrompt, TaskPrompt string
	Temperature              *float64
	MaxTokens                int
	Seed                     int64
	// HarnessFiles are base names of files the final patch leaves out
	// besides tests and caches: the task's language's harness files
	// (sdk.LanguageSpec.HarnessFiles), which grading would undo anyway.
	HarnessFiles []string
	Logger       *slog.Logger
}

// Prompt is what the prompt templates see.
type Prompt struct {
	Task    sdk.Task
	RepoDir string
}

// ToolCallError is implemented by errors a model client returns when the
// model's reply held a tool call it could not read (a text-format call with
// bad syntax, say). The episode goes on: the reply is kept as the assistant
// message and Observation is sent back to the model as an error.
type ToolCallError interface {
	error
	// Reply is the assistant message as the model wrote it.
	Reply() sdk.Message
	// Observation tells the model what was wrong with its call.
	Observation() string
}

// continuePrompt is sent when the model replies without a tool call.
const continuePrompt = "Continue working on the task with the tools you have. When the task is solved, or you cannot make more progress, call the finish tool."

// Run plays one episode of task in sb and returns its trajectory. The
// trajectory's FinalPatch is the sandbox's diff without test files. An error
// is returned only when ctx ends or the tool set cannot be reached; a model
// that fails ends the episode with StopModelError in the trajectory.
func Run(ctx context.Context, sb sdk.Sandbox, task sdk.Task, opts Options) (sdk.Trajectory, error) {
	if opts.Model == nil || opts.Tools == nil {
		return sdk.Trajectory{}, errors.New("agent: a model and a tool set are required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	maxTurns := opts.MaxTurns
	if maxTurns <= 0 {
		maxTurns = DefaultMaxTurns
	}
	tr := sdk.Trajectory{InstanceID: task.InstanceID, Model: opts.ModelName, Seed: opts.Seed}
	system, user, err := RenderPrompts(opts.SystemPrompt, opts.TaskPrompt, task)
	if err != nil {
		return tr, err
	}
	tools, err := opts.Tools.Tools(ctx, opts.ToolConfig)
	if err != nil {
		return tr, fmt.Errorf("agent: list tools: %w", err)
	}
	tr.Messages = []sdk.Message{{Role: "system", Content: system}, {Role: "user", Content: user}}

	episode := ctx
	if opts.TimeLimit > 0 {
		var cancel context.CancelFunc
		episode, cancel = context.WithTimeout(ctx, opts.TimeLimit)
		defer cancel()
	}
	// timedOut tells an episode deadline from the caller's cancellation.
	timedOut := func() bool { return ctx.Err() == nil && episode.Err() != nil }

	for turn := 0; ; turn++ {
		if turn >= maxTurns {
			tr.StopReason = StopMaxTurns
			break
		}
		if opts.TokenBudget > 0 && tr.Usage.TotalTokens >= opts.TokenBudget {
			tr.StopReason = StopTokenBudget
			break
		}
		if timedOut() {
			tr.StopReason = StopTimeLimit
			break
		}
		start := time.Now()
		req := sdk.ChatRequest{Model: opts.ModelName, Messages: tr.Messages, Tools: tools, Temperature: opts.Temperature, MaxTokens: opts.MaxTokens}
		resp, err := opts.Model.Chat(episode, req)
		var callErr ToolCallError
		switch {
		case err == nil:
		case errors.As(err, &callErr):
			msg := callErr.Reply()
			msg.Role = "assistant"
			msg.ToolCalls = nil
			tr.Messages = append(tr.Messages, msg, sdk.Message{Role: "user", Content: callErr.Observation()})
			tr.Turns = append(tr.Turns, sdk.Turn{ExitCode: -1, Error: true, Duration: time.Since(start)})
			addUsage(&tr.Usage, resp.Usage)
			log.Info("malformed tool call", "instance_id", task.InstanceID, "turn", turn, "error", callErr.Error())
			continue
		case ctx.Err() != nil:
			return tr, ctx.Err()
		case timedOut():
			tr.StopReason = StopTimeLimit
		default:
			tr.StopReason = StopModelError
			log.Warn("model call failed; episode ends", "instance_id", task.InstanceID, "turn", turn, "error", err)
		}
		if tr.StopReason != "" {
			break
		}
		addUsage(&tr.Usage, resp.Usage)
		msg := resp.Message
		msg.Role = "assistant"
		tr.Messages = append(tr.Messages, msg)
		meta := sdk.Turn{}
		if len(msg.ToolCalls) == 0 {
			tr.Messages = append(tr.Messages, sdk.Message{Role: "user", Content: continuePrompt})
			meta.Duration = time.Since(start)
			tr.Turns = append(tr.Turns, meta)
			continue
		}
		finished := false
		for _, call := range msg.ToolCalls {
			res, err := opts.Tools.Execute(episode, sdk.ToolRequest{Config: opts.ToolConfig, Call: call, Sandbox: sb})
			if err != nil {
				if ctx.Err() != nil {
					return tr, ctx.Err()
				}
				if !timedOut() {
					return tr, fmt.Errorf("agent: tool %s: %w", call.Function.Name, err)
				}
				res = sdk.ToolResult{Output: "The time limit of the episode was reached while this tool ran.", ExitCode: -1, Error: true}
			}
			tr.Messages = append(tr.Messages, sdk.Message{Role: "tool", Content: res.Output, Name: call.Function.Name, ToolCallID: call.ID})
			meta.ExitCode = res.ExitCode
			meta.Error = meta.Error || res.Error || notRunnable(call, res)
			meta.Truncated = meta.Truncated || res.Truncated
			if res.Finished {
				finished = true
				break
			}
		}
		meta.Duration = time.Since(start)
		tr.Turns = append(tr.Turns, meta)
		if finished {
			tr.StopReason = StopFinished
			break
		}
	}
	// The patch is read after the episode's deadline too: use ctx.
	patch, err := FinalPatch(ctx, sb, opts.HarnessFiles...)
	if err != nil {
		return tr, fmt.Errorf("agent: final patch: %w", err)
	}
	tr.FinalPatch = patch
	return tr, nil
}

// notRunnable reports a shell command the shell could not run (exit 126:
// not executable, 127: not found). Other non-zero exits — a failing test
// run, grep finding nothing — are what the agent asked for, not errors.
func notRunnable(call sdk.ToolCall, res sdk.ToolResult) bool {
	return call.Function.Name == "execute_bash" && (res.ExitCode == 126 || res.ExitCode == 127)
}

func addUsage(u *sdk.Usage, add sdk.Usage) {
	u.PromptTokens += add.PromptTokens
	u.CompletionTokens += add.CompletionTokens
	u.TotalTokens += add.TotalTokens
	if add.TotalTokens == 0 {
		u.TotalTokens += add.PromptTokens + add.CompletionTokens
	}
}

// RenderPrompts renders the system and task prompt templates (defaults when
// empty) for task.
func RenderPrompts(systemTmpl, taskTmpl string, task sdk.Task) (system, user string, err error) {
	if systemTmpl == "" {
		systemTmpl = DefaultSystemPrompt
	}
	if taskTmpl == "" {
		taskTmpl = DefaultTaskPrompt
	}
	data := Prompt{Task: task, RepoDir: RepoDir}
	if system, err = render("system_prompt", systemTmpl, data); err != nil {
		return "", "", err
	}
	if user, err = render("task_prompt", taskTmpl, data); err != nil {
		return "", "", err
	}
	return system, user, nil
}

func render(name, text string, data Prompt) (string, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", fmt.Errorf("agent: %s template: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("agent: %s template: %w", name, err)
	}
	return strings.TrimSpace(b.String()), nil
}

// toolArgs encodes tool-call arguments as the JSON text a model sends:
// compact, with &, < and > as they are (models do not escape them).
func toolArgs(v map[string]any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // maps of strings and numbers always encode
	}
	return strings.TrimSuffix(b.String(), "\n")
}
