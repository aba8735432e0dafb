package pipeline

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/core/queue"
	"github.com/swelego/swelego/core/queue/queuetest"
	"github.com/swelego/swelego/core/sandbox"
	"github.com/swelego/swelego/core/taskenv"
	"github.com/swelego/swelego/hcl"
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
	tasks, preds := bundledGold(b)
	store := benchStore
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

// benchStore is the image and repository cache the tests share.
var benchStore = filepath.Join(os.TempDir(), "swelego-test-cache")

// benchLanguages are the first-party languages the bundled tasks use.
func benchLanguages() *language.Set {
	return language.NewSet(language.Static(python.Language{}, golang.Language{}))
}

// bundledGold reads the bundled tasks and their gold predictions.
func bundledGold(b *testing.B) ([]sdk.Task, []sdk.Prediction) {
	b.Helper()
	f, err := os.Open("../../examples/tasks/bundled.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var tasks []sdk.Task
	dec := jsonl.NewDecoder(f, "bundled.jsonl")
	for {
		var t sdk.Task
		if dec.Next(&t) != nil {
			break
		}
		tasks = append(tasks, t)
	}
	preds, err := LoadPredictions(PredictGold, tasks)
	if err != nil {
		b.Fatal(err)
	}
	return tasks, preds
}

// BenchmarkEvalQueue grades the gold patches of the bundled tasks on bwrap
// here with 1, 2 and 4 workers, and through an embedded NATS JetStream
// server with 1, 2 and 4 swelego workers (Worker.Handle, one slot each,
// in this process), and reports tasks per minute: on one machine the
// queue's figures show what it costs against the local ones (its cost per
// item alone: core/queue's BenchmarkQueueOverhead); across machines they
// grow with the workers. Images are built, and one round graded, before
// the timer starts.
func BenchmarkEvalQueue(b *testing.B) {
	if _, err := exec.LookPath("bwrap"); err != nil {
		b.Skip("bwrap is not installed")
	}
	ctx := context.Background()
	tasks, preds := bundledGold(b)
	b.Setenv("SWELEGO_CACHE", benchStore) // the workers' store
	backend, err := sandbox.New(ctx, "bwrap", sandbox.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer backend.Close()
	repos, _ := filepath.Abs("../../examples/repos")
	envs := taskenv.New(taskenv.Options{Store: benchStore, Languages: benchLanguages(), DefaultLanguage: "python", Backend: backend, RepoDirs: []string{repos}})
	for _, t := range tasks {
		if _, err := envs.Image(ctx, t); err != nil {
			b.Fatal(err)
		}
	}
	grade := func(b *testing.B, ev *Evaluator) {
		w, err := engine.OpenWriter(filepath.Join(b.TempDir(), "results.jsonl"), engine.KeyField("instance_id"))
		if err != nil {
			b.Fatal(err)
		}
		defer w.Close()
		r, err := ev.Run(ctx, tasks, preds, w, nil)
		if err != nil {
			b.Fatal(err)
		}
		if r.ResolvedInstances != len(tasks) {
			b.Fatalf("%d of %d resolved", r.ResolvedInstances, len(tasks))
		}
	}
	// Each figure is a warm one: one untimed round first, so checkouts and
	// images are ready in every worker as they are in a long run.
	for _, workers := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("local/workers-%d", workers), func(b *testing.B) {
			grade(b, &Evaluator{Envs: envs, Workers: workers, Logger: discardLogger()})
			for b.Loop() {
				grade(b, &Evaluator{Envs: envs, Workers: workers, Logger: discardLogger()})
			}
			b.ReportMetric(float64(len(tasks)*b.N)/b.Elapsed().Minutes(), "tasks/min")
		})
	}
	pool := make([]*Worker, 4)
	for i := range pool {
		pool[i] = &Worker{Backend: backend, Languages: benchLanguages(), DefaultLanguage: "python", RunID: "bench"}
	}
	for _, workers := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("queue/workers-%d", workers), func(b *testing.B) {
			url := queuetest.Start(b)
			drain := make(chan struct{})
			var wg sync.WaitGroup
			for i := range workers {
				c, err := queue.Connect(ctx, url, queue.Options{Name: fmt.Sprintf("w%d", i)})
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				w := pool[i]
				wg.Add(1)
				go func() {
					defer wg.Done()
					c.Work(ctx, drain, w.Handle, queue.WorkOptions{Slots: 1, Kinds: WorkerKinds})
				}()
			}
			defer wg.Wait()
			defer close(drain)
			coord, err := queue.Connect(ctx, url, queue.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer coord.Close()
			round := 0
			remote := func() *Evaluator {
				round++
				return &Evaluator{Envs: envs, Logger: discardLogger(),
					Remote: &QueueGrader{Client: coord, Job: queue.JobID("bench", fmt.Sprint(round)), Repos: NewRepoShipper(hcl.QueueReposShared, nil, nil, []string{repos}, nil)}}
			}
			grade(b, remote())
			for b.Loop() {
				grade(b, remote())
			}
			b.ReportMetric(float64(len(tasks)*b.N)/b.Elapsed().Minutes(), "tasks/min")
		})
	}
}
