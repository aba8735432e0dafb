package sdk_test

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"sort"
	"strings"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

// patchSize is a verifier that prefers small patches. Its configuration
// block has one attribute, max_lines.
type patchSize struct{}

type patchSizeConfig struct {
	MaxLines int `json:"max_lines"`
}

func (patchSize) Verify(ctx context.Context, req sdk.VerifyRequest) (sdk.Score, error) {
	cfg := patchSizeConfig{MaxLines: 100} // defaults, then what the recipe set
	if err := req.Config.Decode(&cfg); err != nil {
		return sdk.Score{}, err
	}
	lines := strings.Count(req.Patch, "\n")
	if lines > cfg.MaxLines {
		return sdk.Score{Value: 0, Label: "too big"}, nil
	}
	return sdk.Score{Value: 1 - float64(lines)/float64(cfg.MaxLines), Label: "ok"}, nil
}

// ValidateConfig makes patchSize a sdk.ConfigValidator: `swelego validate`
// reports what it finds at the attribute, with file, line and column.
func (patchSize) ValidateConfig(ctx context.Context, req sdk.ValidateConfigRequest) (sdk.ValidateConfigResponse, error) {
	var cfg patchSizeConfig
	if err := req.Config.Decode(&cfg); err != nil {
		return sdk.ValidateConfigResponse{}, err
	}
	var resp sdk.ValidateConfigResponse
	if cfg.MaxLines < 1 {
		resp.Diagnostics = append(resp.Diagnostics, sdk.Errorf(sdk.Attr("max_lines"), "Invalid max_lines",
			"max_lines must be at least 1, not %d.", cfg.MaxLines))
	}
	return resp, nil
}

// patchSizePlugin is what the plugin binary serves.
var patchSizePlugin = &sdk.Plugin{
	Name:     "patch-size",
	Version:  "0.1.0",
	Verifier: patchSize{},
	Schemas: map[sdk.Kind]sdk.Schema{
		sdk.KindVerifier: {Attributes: map[string]sdk.Attribute{
			"max_lines": {Type: sdk.TypeNumber, Default: 100, Description: "patches longer than this score 0"},
		}},
	},
}

// The main function of a plugin binary, swelego-plugin-patch-size: serve
// the plugin to the host that starts it, or with -debug serve it for a
// debugger and print the SWELEGO_REATTACH_PLUGINS line to give the host.
func Example_serve() {
	debug := flag.Bool("debug", false, "serve for a debugger")
	flag.Parse()
	if *debug {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		if err := sdk.Debug(ctx, patchSizePlugin); err != nil {
			log.Fatal(err)
		}
		return
	}
	sdk.Serve(patchSizePlugin)
}

// Calling the verifier as the host does, over gRPC, with the plugin served
// in-process. In a test, sdktest.Connect(t, patchSizePlugin) does the same
// and shuts the plugin down when the test ends.
func Example_verifier() {
	client, stop, err := sdktest.Start(patchSizePlugin)
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	ctx := context.Background()

	schema, err := client.ConfigSchema(ctx, sdk.KindVerifier)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("max_lines:", schema.Attributes["max_lines"].Type)

	score, err := client.Verifier().Verify(ctx, sdk.VerifyRequest{
		Config: sdk.Config(`{"max_lines": 10}`),
		Task:   sdk.Task{InstanceID: "astropy__astropy-12907"},
		Patch:  "diff --git a/x.py b/x.py\n-bug\n+fix\n",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("score: %.1f %s\n", score.Value, score.Label)
	// Output:
	// max_lines: number
	// score: 0.7 ok
}

// The host asks a plugin to check its configuration when it validates a
// recipe; a kind implementation that is a sdk.ConfigValidator answers.
func ExampleConfigValidator() {
	client, stop, err := sdktest.Start(patchSizePlugin)
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	for _, cfg := range []sdk.Config{sdk.Config(`{"max_lines": 40}`), sdk.Config(`{"max_lines": 0}`)} {
		diags, err := client.ValidateConfig(context.Background(), sdk.KindVerifier, cfg)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %d diagnostics\n", cfg, len(diags))
		for _, d := range diags {
			fmt.Printf("  %s at %s: %s %s\n", d.Severity, d.Path, d.Summary, d.Detail)
		}
	}
	// Output:
	// {"max_lines": 40}: 0 diagnostics
	// {"max_lines": 0}: 1 diagnostics
	//   error at max_lines: Invalid max_lines max_lines must be at least 1, not 0.
}

// A plugin receives its recipe block evaluated, as JSON; Decode fills a
// struct that already holds the defaults.
func ExampleConfig_Decode() {
	type settings struct {
		MaxLines  int      `json:"max_lines"`
		Languages []string `json:"languages"`
		Strict    bool     `json:"strict"`
	}
	for _, cfg := range []sdk.Config{
		sdk.Config(`{"max_lines": 40, "languages": ["python", "go"]}`),
		nil, // an empty block
	} {
		s := settings{MaxLines: 100, Strict: true}
		if err := cfg.Decode(&s); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%+v\n", s)
	}
	// Output:
	// {MaxLines:40 Languages:[python go] Strict:true}
	// {MaxLines:100 Languages:[] Strict:true}
}

// The host reads SWELEGO_REATTACH_PLUGINS to attach to plugins served by
// Debug instead of starting them.
func ExampleParseReattach() {
	configs, err := sdk.ParseReattach(`{"patch-size":{"Protocol":"grpc","ProtocolVersion":1,"Pid":4242,"Test":true,"Addr":{"Network":"unix","String":"/tmp/plugin3921"}}}`)
	if err != nil {
		log.Fatal(err)
	}
	rc := configs["patch-size"]
	fmt.Println(rc.Pid, rc.Addr.Network, rc.Addr.String)
	// Output: 4242 unix /tmp/plugin3921
}

// firstTurnOnly is a loss masker that trains the first assistant turn of a
// trajectory and masks the others.
type firstTurnOnly struct{}

func (firstTurnOnly) Mask(ctx context.Context, cfg sdk.Config, t sdk.Trajectory) ([]sdk.LossWeight, error) {
	var ws []sdk.LossWeight
	first := true
	for i, m := range t.Messages {
		if m.Role != "assistant" {
			continue // system, user and tool messages are never trained
		}
		if first {
			first = false
			continue // no entry: the turn keeps weight 1
		}
		ws = append(ws, sdk.LossWeight{Index: i, Weight: 0, Reason: "not the first turn"})
	}
	return ws, nil
}

// A loss masker answers with a weight per message it changes; the host
// checks the answer and resolves it to a weight per message.
func Example_lossMasker() {
	client, stop, err := sdktest.Start(&sdk.Plugin{Name: "first-turn", LossMasker: firstTurnOnly{}})
	if err != nil {
		log.Fatal(err)
	}
	defer stop()

	traj := sdk.Trajectory{InstanceID: "astropy__astropy-12907", Messages: []sdk.Message{
		{Role: "system", Content: "You are a software engineer."},
		{Role: "user", Content: "Fix the issue."},
		{Role: "assistant", Content: "Let me look.", ToolCalls: []sdk.ToolCall{{ID: "c1", Type: "function", Function: sdk.FunctionCall{Name: "execute_bash", Arguments: `{"command":"ls"}`}}}},
		{Role: "tool", Content: "setup.py\n", ToolCallID: "c1"},
		{Role: "assistant", Content: "Done.", ToolCalls: []sdk.ToolCall{{ID: "c2", Type: "function", Function: sdk.FunctionCall{Name: "finish", Arguments: `{}`}}}},
	}}
	ws, err := client.LossMasker().Mask(context.Background(), nil, traj)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("answer: %+v\n", ws)
	weights, err := sdk.ResolveLossWeights(traj, ws)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("weights:", weights)
	// Output:
	// answer: [{Index:4 Weight:0 Reason:not the first turn}]
	// weights: [0 0 1 0 0]
}

// shortFirst is a curriculum of two stages: trajectories of at most
// max_turns assistant turns, then all of them.
type shortFirst struct{}

func (shortFirst) Stages(ctx context.Context, cfg sdk.Config, stats []sdk.TrajectoryStats) ([]sdk.CurriculumStage, error) {
	c := struct {
		MaxTurns int `json:"max_turns"`
	}{MaxTurns: 10}
	if err := cfg.Decode(&c); err != nil {
		return nil, err
	}
	short := sdk.CurriculumStage{Name: "short", Epochs: 1}
	all := sdk.CurriculumStage{Name: "all", Epochs: 3}
	for _, s := range stats {
		if s.Turns <= c.MaxTurns {
			short.IDs = append(short.IDs, s.ID)
		}
		all.IDs = append(all.IDs, s.ID) // stages may overlap
	}
	return []sdk.CurriculumStage{short, all}, nil
}

// A curriculum answers with stages in training order; the host checks them
// against the statistics it sent.
func Example_curriculum() {
	client, stop, err := sdktest.Start(&sdk.Plugin{Name: "short-first", Curriculum: shortFirst{}})
	if err != nil {
		log.Fatal(err)
	}
	defer stop()

	stats := []sdk.TrajectoryStats{{ID: "a", Turns: 8}, {ID: "b", Turns: 40}, {ID: "c", Turns: 12}}
	stages, err := client.Curriculum().Stages(context.Background(), sdk.Config(`{"max_turns": 12}`), stats)
	if err != nil {
		log.Fatal(err)
	}
	for _, st := range stages {
		fmt.Printf("%s: %v for %g epochs\n", st.Name, st.IDs, st.Epochs)
	}
	untrained, err := sdk.CheckStages(stats, stages)
	fmt.Println("untrained:", untrained, "error:", err)
	// Output:
	// short: [a c] for 1 epochs
	// all: [a b c] for 3 epochs
	// untrained: 0 error: <nil>
}

// bestOfTopHalf is a set-level verifier: Verify scores a candidate alone,
// Rank keeps the better half by that score and then prefers the candidate
// whose tests pass most often.
type bestOfTopHalf struct{}

func (bestOfTopHalf) Verify(ctx context.Context, req sdk.VerifyRequest) (sdk.Score, error) {
	lines := float64(strings.Count(req.Patch, "\n"))
	return sdk.Score{Value: 1 / (1 + lines), Parts: map[string]float64{"pass_rate": float64(len(req.Patch) % 3)}}, nil
}

func (bestOfTopHalf) Rank(ctx context.Context, req sdk.RankRequest) (map[string]float64, error) {
	byValue := append([]sdk.RankCandidate(nil), req.Candidates...)
	sort.SliceStable(byValue, func(i, j int) bool { return byValue[i].Score.Value > byValue[j].Score.Value })
	keep := (len(byValue) + 1) / 2
	out := make(map[string]float64, len(byValue))
	for i, c := range byValue {
		out[c.Key] = c.Score.Parts["pass_rate"] // in [0, 2]
		if i < keep {
			out[c.Key] += 10 // the top half is always picked before the rest
		}
	}
	return out, nil
}

// A verifier that ranks: the host scores every candidate of a task with
// Verify, then asks Rank once for the selection scores and submits the
// highest (the first in its own order on a tie).
func Example_ranker() {
	client, stop, err := sdktest.Start(&sdk.Plugin{Name: "top-half", Verifier: bestOfTopHalf{}})
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	ctx := context.Background()

	task := sdk.Task{InstanceID: "astropy__astropy-12907"}
	patches := map[string]string{"r0": "a\n", "r1": "ab\n", "r2": "a\nb\nc\n", "r3": "a\nb\n"}
	req := sdk.RankRequest{Task: task}
	for _, key := range []string{"r0", "r1", "r2", "r3"} {
		score, err := client.Verifier().Verify(ctx, sdk.VerifyRequest{Task: task, Patch: patches[key]})
		if err != nil {
			log.Fatal(err)
		}
		req.Candidates = append(req.Candidates, sdk.RankCandidate{Key: key, Score: score})
	}
	scores, err := client.Verifier().(sdk.Ranker).Rank(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	best := req.Candidates[0].Key
	for _, c := range req.Candidates {
		fmt.Printf("%s value %.2f selection %g\n", c.Key, c.Score.Value, scores[c.Key])
		if scores[c.Key] > scores[best] {
			best = c.Key
		}
	}
	fmt.Println("submit", best)
	// Output:
	// r0 value 0.50 selection 12
	// r1 value 0.50 selection 10
	// r2 value 0.25 selection 0
	// r3 value 0.33 selection 1
	// submit r0
}
