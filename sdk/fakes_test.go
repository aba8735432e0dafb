package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/swelego/swelego/sdk"
)

// kinds is a plugin implementing every kind: it streams what it is given
// and records what it receives, so tests check both directions.
type kinds struct {
	mu sync.Mutex

	tasks     []sdk.Task
	mutations []sdk.Mutation
	tools     []sdk.ToolSchema

	gotConfig  sdk.Config
	gotInject  sdk.InjectRequest
	gotTool    sdk.ToolRequest
	gotTraj    sdk.Trajectory
	gotStats   []sdk.TrajectoryStats
	gotVerify  sdk.VerifyRequest
	gotRank    sdk.RankRequest
	gotLog     string
	gotLang    []any   // the language requests, in order
	lentInject [2]bool // sandbox, model
}

func (k *kinds) plugin() *sdk.Plugin {
	return &sdk.Plugin{
		Name: "kinds", Version: "1.2.3", Description: "every kind",
		TaskSource: k, BugInjector: k, ToolSet: k, LossMasker: k, Curriculum: k, Verifier: k, LogParser: k, Language: k,
		Schemas: map[sdk.Kind]sdk.Schema{sdk.KindVerifier: {
			Attributes: map[string]sdk.Attribute{
				"threshold": {Type: sdk.TypeNumber, Description: "minimum score"},
				"tests":     {Type: sdk.TypeStringList, Required: true},
			},
			Blocks: map[string]sdk.BlockType{"judge": {Nesting: sdk.NestingSingle, Schema: sdk.Schema{
				Attributes: map[string]sdk.Attribute{"prompt": {Type: sdk.TypeString}},
			}}},
		}},
	}
}

func (k *kinds) Tasks(ctx context.Context, cfg sdk.Config, send func(sdk.Task) error) error {
	k.record(func() { k.gotConfig = cfg })
	for _, t := range k.tasks {
		if err := send(t); err != nil {
			return err
		}
	}
	return nil
}

func (k *kinds) Mutations(ctx context.Context, req sdk.InjectRequest, send func(sdk.Mutation) error) error {
	k.record(func() {
		k.lentInject = [2]bool{req.Sandbox != nil, req.Model != nil}
		req.Sandbox, req.Model = nil, nil
		k.gotInject = req
	})
	for _, m := range k.mutations {
		if err := send(m); err != nil {
			return err
		}
	}
	return nil
}

func (k *kinds) Tools(ctx context.Context, cfg sdk.Config) ([]sdk.ToolSchema, error) {
	k.record(func() { k.gotConfig = cfg })
	return k.tools, nil
}

func (k *kinds) Execute(ctx context.Context, req sdk.ToolRequest) (sdk.ToolResult, error) {
	if req.Sandbox == nil {
		return sdk.ToolResult{}, fmt.Errorf("execute %s: sandbox: %w", req.Call.Function.Name, sdk.ErrNotLent)
	}
	res, err := req.Sandbox.Exec(ctx, req.Call.Function.Arguments, 0)
	if err != nil {
		return sdk.ToolResult{}, err
	}
	k.record(func() { req.Sandbox = nil; k.gotTool = req })
	return sdk.ToolResult{Output: res.Output, ExitCode: res.ExitCode, Finished: req.Call.Function.Name == "finish"}, nil
}

func (k *kinds) Mask(ctx context.Context, cfg sdk.Config, t sdk.Trajectory) ([]sdk.LossWeight, error) {
	k.record(func() { k.gotTraj = t })
	var ws []sdk.LossWeight
	for i, m := range t.Messages {
		if m.Role == "assistant" {
			w := sdk.LossWeight{Index: i, Weight: 1}
			if m.TurnMask != nil && *m.TurnMask {
				w = sdk.LossWeight{Index: i, Weight: 0, Reason: "turn_mask"}
			}
			ws = append(ws, w)
		}
	}
	return ws, nil
}

func (k *kinds) Stages(ctx context.Context, cfg sdk.Config, stats []sdk.TrajectoryStats) ([]sdk.CurriculumStage, error) {
	k.record(func() { k.gotStats = stats })
	easy, hard := sdk.CurriculumStage{Name: "easy", Epochs: 1.5}, sdk.CurriculumStage{Name: "hard", Epochs: 2.5}
	for _, s := range stats {
		if s.Turns <= 20 {
			easy.IDs = append(easy.IDs, s.ID)
		} else {
			hard.IDs = append(hard.IDs, s.ID)
		}
	}
	return []sdk.CurriculumStage{easy, hard}, nil
}

func (k *kinds) Verify(ctx context.Context, req sdk.VerifyRequest) (sdk.Score, error) {
	k.record(func() { k.gotVerify = req })
	return sdk.Score{Value: 0.75, Label: "YES", Details: fmt.Sprintf("%d bytes of patch", len(req.Patch)), Parts: map[string]float64{"p_yes": 0.75, "pass_rate": 0.5}}, nil
}

// Rank scores each candidate by its "pass_rate" part, then its value, so
// the test sees the request's scores arrive with their parts.
func (k *kinds) Rank(ctx context.Context, req sdk.RankRequest) (map[string]float64, error) {
	k.record(func() { k.gotRank = req })
	out := make(map[string]float64, len(req.Candidates))
	for _, c := range req.Candidates {
		out[c.Key] = 10*c.Score.Parts["pass_rate"] + c.Score.Value
	}
	return out, nil
}

func (k *kinds) record(f func()) {
	k.mu.Lock()
	defer k.mu.Unlock()
	f()
}

// judge is a generative verifier: it runs the tests in the lent sandbox,
// asks the lent model and scores P(YES)/(P(YES)+P(NO)).
type judge struct {
	mu   sync.Mutex
	kept sdk.Sandbox // the last lent sandbox, kept past its call
}

func (j *judge) Verify(ctx context.Context, req sdk.VerifyRequest) (sdk.Score, error) {
	j.mu.Lock()
	j.kept = req.Sandbox
	j.mu.Unlock()
	if req.Model == nil {
		return sdk.Score{}, fmt.Errorf("judge %s: model: %w", req.Task.InstanceID, sdk.ErrNotLent)
	}
	if req.Sandbox == nil {
		return sdk.Score{}, fmt.Errorf("judge %s: sandbox: %w", req.Task.InstanceID, sdk.ErrNotLent)
	}
	if err := req.Sandbox.WriteFile(ctx, "fix.patch", []byte(req.Patch)); err != nil {
		return sdk.Score{}, err
	}
	res, err := req.Sandbox.Exec(ctx, "pytest -rA", time.Minute)
	if err != nil {
		return sdk.Score{}, err
	}
	diff, err := req.Sandbox.Diff(ctx)
	if err != nil {
		return sdk.Score{}, err
	}
	readme, err := req.Sandbox.ReadFile(ctx, "README")
	if err != nil {
		return sdk.Score{}, err
	}
	prompt := fmt.Sprintf("README: %d bytes\nDiff:\n%s\nTests:\n%s", len(readme), diff, res.Output)
	resp, err := req.Model.Chat(ctx, sdk.ChatRequest{
		Messages: []sdk.Message{{Role: "user", Content: prompt}},
		Logprobs: true, TopLogprobs: 2,
	})
	if err != nil {
		return sdk.Score{}, err
	}
	var yes, no float64
	for _, tl := range resp.Logprobs[0].TopLogprobs {
		switch tl.Token {
		case "YES":
			yes = math.Exp(tl.Logprob)
		case "NO":
			no = math.Exp(tl.Logprob)
		}
	}
	return sdk.Score{Value: yes / (yes + no), Label: strings.TrimSpace(resp.Message.Content)}, nil
}

func (j *judge) keptSandbox() sdk.Sandbox {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.kept
}

// hostSandbox is the host's side of a sandbox: files in memory.
type hostSandbox struct {
	mu    sync.Mutex
	files map[string][]byte
	execs []string
}

func newHostSandbox() *hostSandbox { return &hostSandbox{files: map[string][]byte{}} }

func (s *hostSandbox) Exec(ctx context.Context, cmd string, timeout time.Duration) (sdk.ExecResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.execs = append(s.execs, fmt.Sprintf("%s (%s)", cmd, timeout))
	if cmd == "false" {
		return sdk.ExecResult{Output: "", ExitCode: 1}, nil
	}
	return sdk.ExecResult{Output: "PASSED tests/test_x.py::test_fix\n", ExitCode: 0}, nil
}

func (s *hostSandbox) ReadFile(ctx context.Context, path string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.files[path]
	if !ok {
		return nil, fmt.Errorf("read %s: %w", path, fs.ErrNotExist)
	}
	return b, nil
}

func (s *hostSandbox) WriteFile(ctx context.Context, path string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path] = data
	return nil
}

func (s *hostSandbox) Diff(ctx context.Context) (string, error) {
	return "diff --git a/x.py b/x.py\n-bug\n+fix\n", nil
}

// hostModel is the host's side of a model: it answers YES with P=0.8.
type hostModel struct {
	mu  sync.Mutex
	got []sdk.ChatRequest
}

func (m *hostModel) Chat(ctx context.Context, req sdk.ChatRequest) (sdk.ChatResponse, error) {
	m.mu.Lock()
	m.got = append(m.got, req)
	m.mu.Unlock()
	return sdk.ChatResponse{
		Message:      sdk.Message{Role: "assistant", Content: "YES"},
		FinishReason: "stop",
		Logprobs: []sdk.TokenLogprob{{Token: "YES", Logprob: math.Log(0.8), TopLogprobs: []sdk.TokenLogprob{
			{Token: "YES", Logprob: math.Log(0.8)}, {Token: "NO", Logprob: math.Log(0.2)},
		}}},
		Usage: sdk.Usage{PromptTokens: 10, CompletionTokens: 1, TotalTokens: 11},
	}, nil
}

// failing is a plugin whose every kind fails with err.
type failing struct{ err error }

func (f failing) plugin() *sdk.Plugin {
	return &sdk.Plugin{Name: "failing", TaskSource: f, BugInjector: f, ToolSet: f, LossMasker: f, Curriculum: f, Verifier: f, Language: f}
}

func (f failing) Tasks(context.Context, sdk.Config, func(sdk.Task) error) error { return f.err }
func (f failing) Mutations(context.Context, sdk.InjectRequest, func(sdk.Mutation) error) error {
	return f.err
}
func (f failing) Tools(context.Context, sdk.Config) ([]sdk.ToolSchema, error) { return nil, f.err }
func (f failing) Execute(context.Context, sdk.ToolRequest) (sdk.ToolResult, error) {
	return sdk.ToolResult{}, f.err
}
func (f failing) Mask(context.Context, sdk.Config, sdk.Trajectory) ([]sdk.LossWeight, error) {
	return nil, f.err
}
func (f failing) Stages(context.Context, sdk.Config, []sdk.TrajectoryStats) ([]sdk.CurriculumStage, error) {
	return nil, f.err
}
func (f failing) Verify(context.Context, sdk.VerifyRequest) (sdk.Score, error) {
	return sdk.Score{}, f.err
}
func (f failing) Rank(context.Context, sdk.RankRequest) (map[string]float64, error) {
	return nil, f.err
}

var errBoom = errors.New("boom: the implementation failed")

// ParseLog reads "ok NAME" and "not ok NAME" lines, as TAP does.
func (k *kinds) ParseLog(_ context.Context, cfg sdk.Config, log string) (map[string]sdk.TestStatus, error) {
	k.mu.Lock()
	k.gotConfig, k.gotLog = cfg, log
	k.mu.Unlock()
	out := map[string]sdk.TestStatus{}
	for _, line := range strings.Split(log, "\n") {
		if name, ok := strings.CutPrefix(line, "not ok "); ok {
			out[name] = sdk.TestFailed
		} else if name, ok := strings.CutPrefix(line, "ok "); ok {
			out[name] = sdk.TestPassed
		}
	}
	return out, nil
}
