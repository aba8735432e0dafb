package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/swelego/swelego/core/diff"
	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/core/queue"
	"github.com/swelego/swelego/core/queue/queuetest"
	"github.com/swelego/swelego/core/taskenv"
	"github.com/swelego/swelego/hcl"
	"github.com/swelego/swelego/sdk"
)

// remoteSynthStage is a synthetic source of textkit (examples/repos)
// whose injectors gave cands: Run validates them through the queue
// (synthRun.validateAll, what syntheticStage.Run does once it has the
// candidates), combines the bugs validated, writes the records and the
// yield report.
type remoteSynthStage struct {
	cfg    *hcl.Synthetic
	client *queue.Client
	cands  []synthCandidate
	store  string
}

func (s *remoteSynthStage) Address() string     { return "source.synthetic.textkit" }
func (s *remoteSynthStage) DependsOn() []string { return nil }
func (s *remoteSynthStage) Fingerprint() string { return "fp" }

func (s *remoteSynthStage) Run(ctx context.Context, sc *engine.StageContext) error {
	bundle, err := filepath.Abs("../../examples/repos/textkit.bundle")
	if err != nil {
		return err
	}
	envList := []taskenv.Environment{{Name: "textkit", Repo: "swelego-examples/textkit", Git: bundle, Language: "python"}}
	envs := taskenv.New(taskenv.Options{Environments: envList, Store: s.store})
	st := &syntheticStage{stageBase: stageBase{block: &hcl.Block{Address: s.Address()}}, cfg: s.cfg}
	r := &synthRun{syntheticStage: st, sc: sc, envs: envs, yield: map[string]*Yield{}}
	if r.env, err = envs.Environment(sdk.Task{Repo: s.cfg.Repo, Environment: "textkit"}); err != nil {
		return err
	}
	if r.commit, err = envs.Resolve(ctx, r.env, "HEAD"); err != nil {
		return err
	}
	r.remote = &QueueValidator{Client: s.client, Job: queue.JobID(sc.Run.ID(), s.Address())}
	if r.itemRepos, err = NewRepoShipper("", s.client, envList, nil, sc.Logger).For(ctx, r.env); err != nil {
		return err
	}
	if r.tasks, err = sc.OpenOutput(TasksOutput, engine.KeyField("instance_id")); err != nil {
		return err
	}
	defer r.tasks.Close()
	if r.rejected, err = sc.OpenOutput(RejectedOutput, engine.KeyField("instance_id")); err != nil {
		return err
	}
	defer r.rejected.Close()
	return r.validateAll(ctx, s.cands)
}

// startHandler runs handler on the queue at url, one item at a time,
// until the test ends.
func startHandler(t *testing.T, url string, handler queue.Handler) {
	t.Helper()
	wc, err := queue.Connect(context.Background(), url, queue.Options{Name: "w0"})
	if err != nil {
		t.Fatal(err)
	}
	drain, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		wc.Work(context.Background(), drain, handler, queue.WorkOptions{Slots: 1, Kinds: WorkerKinds})
	}()
	t.Cleanup(func() { close(drain); <-done; wc.Close() })
}

// decodeValidate reads a validate item as a worker does.
func decodeValidate(it queue.Item) (ValidateItem, error) {
	var item ValidateItem
	err := json.Unmarshal(it.Payload, &item)
	return item, err
}

// TestRemoteSyntheticGiveUp: a synthetic source whose environment's tests
// do not run, validated over the queue, stops after baseGiveUp candidates
// rejected at base: the stage fails with harness.ErrTestsDoNotRun naming
// the candidates not tried, the items still queued are withdrawn (none of
// the job's is left in the work stream, and the worker runs no other),
// and only the rejections received are recorded.
func TestRemoteSyntheticGiveUp(t *testing.T) {
	url := queuetest.Start(t)
	const n = 12
	var ran atomic.Int32
	release := make(chan struct{})
	startHandler(t, url, func(ctx context.Context, it queue.Item) (json.RawMessage, error) {
		if ran.Add(1) > baseGiveUp {
			<-release // the item in hand when the stage gives up
		}
		return json.Marshal(ValidateResult{Input: inputDigest(it.Payload),
			Rejection: &Rejection{Step: StepBase, Reason: "the tests do not run at base: exit status 5", Log: "ERROR: file or directory not found: tests\n"}})
	})
	coord, err := queue.Connect(context.Background(), url, queue.Options{AckWait: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer coord.Close()
	var cands []synthCandidate
	for i := range n {
		cands = append(cands, synthCandidate{Mutation: sdk.Mutation{ID: fmt.Sprint(i), Kind: "change_operator", File: "textkit/wrap.py", Diff: fmt.Sprintf("diff %d", i)},
			plugin: "python", id: fmt.Sprintf("swelego-examples__textkit.change_operator.%02d", i)})
	}
	st := &remoteSynthStage{cfg: &hcl.Synthetic{Repo: "swelego-examples/textkit"}, client: coord, cands: cands, store: t.TempDir()}
	run, err := engine.Open(filepath.Join(t.TempDir(), "run"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = run.Execute(ctx, []engine.Stage{st}, engine.ExecOptions{Out: &out})
	if !errors.Is(err, harness.ErrTestsDoNotRun) || !strings.Contains(err.Error(), "were not tried") {
		t.Fatalf("stage: %v, want %v naming the candidates not tried\n%s", err, harness.ErrTestsDoNotRun, out.String())
	}

	// Nothing of the job is left in the work stream.
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ws, err := js.Stream(ctx, queue.WorkStream)
	if err != nil {
		t.Fatal(err)
	}
	job := queue.JobID(run.ID(), st.Address())
	info, err := ws.Info(ctx, jetstream.WithSubjectFilter("swelego.work."+job+".>"))
	if err != nil {
		t.Fatal(err)
	}
	if len(info.State.Subjects) != 0 {
		t.Errorf("%d items of the job left in the work stream", len(info.State.Subjects))
	}
	close(release)
	time.Sleep(1500 * time.Millisecond) // a worker's wait for its next item
	if got := ran.Load(); got > baseGiveUp+1 {
		t.Errorf("the worker ran %d items; want %d and at most the one in hand when the stage gave up", got, baseGiveUp)
	}
	var rejected int
	engine.ReadRecords(run.OutputPath(st.Address(), RejectedOutput), func(int, json.RawMessage) error { rejected++; return nil })
	if rejected != baseGiveUp {
		t.Errorf("%d rejections recorded, want %d", rejected, baseGiveUp)
	}
}

// TestRemoteCombination: a combination of two validated bugs of one file
// goes to a worker as one item (both mutations, no compile check); its
// task is stored as a local run stores it (origin of the combine block
// with its parts and file, the combine modifier, a statement, counted in
// the yield report).
func TestRemoteCombination(t *testing.T) {
	// Two bugs of textkit/wrap.py at HEAD that apply together.
	tmp := t.TempDir()
	co := filepath.Join(tmp, "textkit")
	if out, err := exec.Command("git", "clone", "-q", "../../examples/repos/textkit.bundle", co).CombinedOutput(); err != nil {
		t.Fatalf("clone: %v: %s", err, out)
	}
	mutate := func(old, new string) string {
		t.Helper()
		path := filepath.Join(co, "textkit", "wrap.py")
		src, err := os.ReadFile(path)
		if err != nil || !bytes.Contains(src, []byte(old)) {
			t.Fatalf("wrap.py lacks %q: %v", old, err)
		}
		os.WriteFile(path, bytes.Replace(src, []byte(old), []byte(new), 1), 0o644)
		d, err := exec.Command("git", "-C", co, "diff").Output()
		if err != nil {
			t.Fatal(err)
		}
		exec.Command("git", "-C", co, "checkout", "-q", ".").Run()
		return string(d)
	}
	breaks := map[string]string{ // a mutation's line → the test it breaks
		"if width < 0:":                     "tests/test_basic.py::test_wrap_rejects_zero_width",
		"len(line) + 1 + len(word) < width": "tests/test_basic.py::test_wrap_single_word",
	}
	cands := []synthCandidate{
		{Mutation: sdk.Mutation{ID: "m1", Kind: "change_constant", File: "textkit/wrap.py", Diff: mutate("if width < 1:", "if width < 0:")},
			plugin: "python", id: "swelego-examples__textkit.change_constant.m1"},
		{Mutation: sdk.Mutation{ID: "m2", Kind: "change_operator", File: "textkit/wrap.py", Diff: mutate("len(word) <= width", "len(word) < width")},
			plugin: "python", id: "swelego-examples__textkit.change_operator.m2"},
	}

	url := queuetest.Start(t)
	var mu sync.Mutex
	var combos []ValidateItem
	startHandler(t, url, func(ctx context.Context, it queue.Item) (json.RawMessage, error) {
		item, err := decodeValidate(it)
		if err != nil {
			return nil, err
		}
		if len(item.Mutations) > 1 {
			mu.Lock()
			combos = append(combos, item)
			mu.Unlock()
		}
		// What validation finds: the fix undoes each mutation, each breaks
		// its test.
		task := sdk.Task{InstanceID: item.InstanceID, Repo: item.Repo, Source: sdk.SourceSynthetic, Injector: item.Injector,
			Language: "python", Environment: item.Environment, EnvironmentSetupCommit: item.Commit, BaseCommit: "buggy-" + item.InstanceID,
			PatchDirection: sdk.PatchFixes, Version: "synthetic", PassToPass: []string{"tests/test_basic.py::test_slug_keeps_digits"}}
		for _, m := range item.Mutations {
			fix, err := diff.Reverse(m)
			if err != nil {
				return nil, err
			}
			task.Patch += fix
			for _, l := range strings.Split(m, "\n") {
				for line, test := range breaks {
					if strings.HasPrefix(l, "+") && !strings.HasPrefix(l, "+++") && strings.Contains(l, line) {
						task.FailToPass = append(task.FailToPass, test)
					}
				}
			}
		}
		slices.Sort(task.FailToPass)
		return json.Marshal(ValidateResult{Task: &task, BaseRan: true, Input: inputDigest(it.Payload)})
	})
	coord, err := queue.Connect(context.Background(), url, queue.Options{AckWait: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer coord.Close()
	st := &remoteSynthStage{client: coord, cands: cands, store: t.TempDir(),
		cfg: &hcl.Synthetic{Repo: "swelego-examples/textkit", Combine: &hcl.Combine{Per: "file", MinBugs: 2, MaxBugs: 2, MaxTasks: 1}}}
	run, err := engine.Open(filepath.Join(tmp, "run"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run.Execute(ctx, []engine.Stage{st}, engine.ExecOptions{Out: &out}); err != nil {
		t.Fatalf("stage: %v\n%s", err, out.String())
	}

	mu.Lock()
	if len(combos) != 1 || combos[0].Compile || len(combos[0].Bundles) != 1 {
		t.Errorf("combination items sent: %+v, want one of two mutations, no compile check, with the repository's bundle", combos)
	}
	mu.Unlock()
	var tasks []sdk.Task
	engine.ReadRecords(run.OutputPath(st.Address(), TasksOutput), func(_ int, raw json.RawMessage) error {
		var task sdk.Task
		err := json.Unmarshal(raw, &task)
		tasks = append(tasks, task)
		return err
	})
	if len(tasks) != 3 {
		t.Fatalf("%d tasks stored, want the two bugs and their combination", len(tasks))
	}
	combo, parts := tasks[2], tasks[:2] // the bugs in the order validated
	slices.SortFunc(parts, func(a, b sdk.Task) int { return strings.Compare(a.InstanceID, b.InstanceID) })
	o, ok := Origin(combo)
	wantF2P := []string{breaks["if width < 0:"], breaks["len(line) + 1 + len(word) < width"]}
	slices.Sort(wantF2P)
	switch {
	case !ok || o.Block != "combine" || o.Per != "file" || !slices.Equal(o.Parts, []string{cands[0].id, cands[1].id}) || !slices.Equal(o.Files, []string{"textkit/wrap.py"}):
		t.Errorf("combination's origin %+v", o)
	case combo.InstanceID != (combination{parts: parts}).id("swelego-examples/textkit") || combo.Injector != "combine/file":
		t.Errorf("combination stored as %s by %s", combo.InstanceID, combo.Injector)
	case !slices.Equal(combo.FailToPass, wantF2P) || combo.ProblemStatement == "":
		t.Errorf("combination FAIL_TO_PASS %v (want %v), statement %q", combo.FailToPass, wantF2P, combo.ProblemStatement)
	}
	var yield map[string]Yield
	data, _ := os.ReadFile(filepath.Join(run.StageDir(st.Address()), YieldFile))
	json.Unmarshal(data, &yield)
	if y := yield["combine/file"]; y.Candidates != 1 || y.Kept != 1 {
		t.Errorf("combine/file yield %+v, want 1 candidate kept", y)
	}
}
