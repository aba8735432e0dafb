package agent_test

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/swelego/swelego/core/agent"
	"github.com/swelego/swelego/core/pluginhost"
	"github.com/swelego/swelego/sdk"
)

// outOfProcessTools builds the standalone swetools plugin and starts it
// through the plugin host, as a run does.
func outOfProcessTools(b *testing.B) sdk.ToolSet {
	b.Helper()
	dir := b.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "swelego-plugin-swetools"), "../../plugins/swetools/cmd/swelego-plugin-swetools")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build swetools: %v\n%s", err, out)
	}
	host, err := pluginhost.New(pluginhost.Options{Dir: dir, SearchPath: []string{dir}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(host.Close)
	ts, err := host.ToolSet(context.Background(), "swetools")
	if err != nil {
		b.Fatal(err)
	}
	return ts
}

// loopModel runs `true` through execute_bash forever.
type loopModel struct{}

func (loopModel) Chat(ctx context.Context, req sdk.ChatRequest) (sdk.ChatResponse, error) {
	return sdk.ChatResponse{Message: sdk.Message{Role: "assistant", ToolCalls: []sdk.ToolCall{{ID: "c", Type: "function",
		Function: sdk.FunctionCall{Name: "execute_bash", Arguments: `{"command":"true"}`}}}}}, nil
}

// BenchmarkTurnOverhead measures one agent turn whose model answers at once
// and whose tool runs `true` — the loop, the tool's round trip through the
// out-of-process swetools plugin and the sandbox callback — next to a bare
// Exec of `true` in the same sandbox, per backend.
func BenchmarkTurnOverhead(b *testing.B) {
	ctx := context.Background()
	ts := outOfProcessTools(b)
	task := bundled(b)[0]
	for name, m := range managers(b) {
		task, err := m.Prepare(task)
		if err != nil {
			b.Fatal(err)
		}
		sb, err := m.Open(ctx, task)
		if err != nil {
			b.Fatal(err)
		}
		var bare, turn time.Duration
		b.Run(name+"/bare-exec", func(b *testing.B) {
			start := time.Now()
			for range b.N {
				if res, err := sb.Exec(ctx, "true", time.Minute); err != nil || res.ExitCode != 0 {
					b.Fatal(res, err)
				}
			}
			bare = time.Since(start) / time.Duration(b.N)
		})
		b.Run(name+"/agent-turn", func(b *testing.B) {
			// The first turn opens the tool's shell state; measure the rest.
			const warm = 1
			tr, err := agent.Run(ctx, sb, task, agent.Options{Model: loopModel{}, Tools: ts, MaxTurns: warm})
			if err != nil || len(tr.Turns) != warm {
				b.Fatal(err)
			}
			b.ResetTimer()
			start := time.Now()
			tr, err = agent.Run(ctx, sb, task, agent.Options{Model: loopModel{}, Tools: ts, MaxTurns: b.N})
			if err != nil {
				b.Fatal(err)
			}
			if len(tr.Turns) != b.N {
				b.Fatalf("%d turns, want %d", len(tr.Turns), b.N)
			}
			turn = time.Since(start) / time.Duration(b.N)
		})
		sb.Close(ctx)
		if bare > 0 && turn > 0 {
			fmt.Printf("%s: agent turn %v (loop + plugin round trip + tool script + exec) vs bare exec %v: overhead %v per turn\n", name, turn.Round(time.Microsecond), bare.Round(time.Microsecond), (turn - bare).Round(time.Microsecond))
		}
	}
}
