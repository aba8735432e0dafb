package pipeline

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/core/sandbox"
	"github.com/swelego/swelego/core/taskenv"
	"github.com/swelego/swelego/plugins/golang"
	"github.com/swelego/swelego/plugins/python"
	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/jsonl"
)

// BenchmarkEvalBundled grades the gold patches of the bundled tasks with 1
// and 2 workers on each backend and reports tasks per minute. Images are
// built before the timer starts.
func BenchmarkEvalBundled(b *testing.B) {
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		b.Skipf("docker info fails: %v\n%s", err, out)
	}
	ctx := context.Background()
	f, err := os.Open("../../examples/tasks/bundled.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	var tasks []sdk.Task
	dec := jsonl.NewDecoder(f, "bundled.jsonl")
	for {
		var t sdk.Task
		if dec.Next(&t) != nil {
			break
		}
		tasks = append(tasks, t)
	}
	f.Close()
	preds, err := LoadPredictions(PredictGold, tasks)
	if err != nil {
		b.Fatal(err)
	}
	store := filepath.Join(os.TempDir(), "swelego-test-cache")
	for _, name := range []string{"docker", "bwrap"} {
		backend, err := sandbox.New(ctx, name, sandbox.Options{})
		if err != nil {
			b.Fatal(err)
		}
		envs := taskenv.New(taskenv.Options{Store: store, Languages: language.NewSet(language.Static(python.Language{}, golang.Language{})), DefaultLanguage: "python", Backend: backend, RepoDirs: []string{"../../examples/repos"}})
		for _, t := range tasks {
			if _, err := envs.Image(ctx, t); err != nil {
				b.Fatal(err)
			}
		}
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers-%d", name, workers), func(b *testing.B) {
				for b.Loop() {
					w, err := engine.OpenWriter(filepath.Join(b.TempDir(), "results.jsonl"), engine.KeyField("instance_id"))
					if err != nil {
						b.Fatal(err)
					}
					ev := &Evaluator{Envs: envs, Workers: workers, Logger: discardLogger()}
					r, err := ev.Run(ctx, tasks, preds, w, nil)
					w.Close()
					if err != nil {
						b.Fatal(err)
					}
					if r.ResolvedInstances != len(tasks) {
						b.Fatalf("%d of %d resolved", r.ResolvedInstances, len(tasks))
					}
				}
				b.ReportMetric(float64(len(tasks)*b.N)/b.Elapsed().Minutes(), "tasks/min")
			})
		}
		if c, ok := backend.(interface{ Close() error }); ok {
			c.Close()
		}
	}
}
