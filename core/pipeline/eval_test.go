package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/core/taskenv"
	"github.com/swelego/swelego/plugins/golang"
	"github.com/swelego/swelego/plugins/python"
	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/jsonl"
)

// gradeStage runs Evaluator.Grade as an incremental stage, as the eval
// stage and `swelego eval` do.
type gradeStage struct {
	ev    *Evaluator
	tasks []sdk.Task
	preds []sdk.Prediction
}

func (s *gradeStage) Address() string     { return "eval.t" }
func (s *gradeStage) DependsOn() []string { return nil }
func (s *gradeStage) Fingerprint() string { return "fp" }
func (s *gradeStage) Incremental() bool   { return true }
func (s *gradeStage) Run(ctx context.Context, sc *engine.StageContext) error {
	s.ev.Logger = sc.Logger
	_, err := s.ev.Grade(ctx, sc, s.tasks, s.preds)
	return err
}

func bundledTasks(t *testing.T, ids ...string) []sdk.Task {
	t.Helper()
	f, err := os.Open("../../examples/tasks/bundled.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []sdk.Task
	dec := jsonl.NewDecoder(f, "bundled.jsonl")
	for {
		var task sdk.Task
		if err := dec.Next(&task); err != nil {
			break
		}
		if slices.Contains(ids, task.InstanceID) {
			out = append(out, task)
		}
	}
	return out
}

// logged returns the instance ids of the log lines with message msg.
func logged(out []byte, msg string) []string {
	var ids []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var l struct {
			Msg        string `json:"msg"`
			InstanceID string `json:"instance_id"`
		}
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == msg {
			ids = append(ids, l.InstanceID)
		}
	}
	slices.Sort(ids)
	return ids
}

// TestEvalGrade runs one eval stage again and again over the same run
// directory: an instance whose repository is missing is not graded (no
// result is stored, the stage fails naming it and why) and is graded on
// the next run once the repository is there, while the grades already made
// are kept; nothing is graded twice; duplicate predictions grade the last
// one once; a changed prediction is graded again; --retry-errors grades
// stored errors again; instance ids restrict the report. No sandbox is
// opened: the patches are empty or not diffs.
func TestEvalGrade(t *testing.T) {
	const t1, t2 = "textkit__textkit-1", "textkit__textkit-2"
	tasks := bundledTasks(t, t1, t2)
	if len(tasks) != 2 {
		t.Fatalf("%d bundled tasks", len(tasks))
	}
	repos := t.TempDir()
	run, err := engine.Open(filepath.Join(t.TempDir(), "run"))
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	envs := taskenv.New(taskenv.Options{Store: t.TempDir(), Languages: language.NewSet(language.Static(python.Language{}, golang.Language{})), DefaultLanguage: "python", RepoDirs: []string{repos}})
	pred := func(id, patch string) sdk.Prediction {
		return sdk.Prediction{InstanceID: id, ModelNameOrPath: "m", ModelPatch: patch}
	}
	results := func() map[string]harness.Result {
		out := map[string]harness.Result{}
		engine.ReadRecords(run.OutputPath("eval.t", ResultsOutput), func(_ int, raw json.RawMessage) error {
			var r harness.Result
			json.Unmarshal(raw, &r)
			out[r.InstanceID] = r
			return nil
		})
		return out
	}
	steps := []struct {
		name        string
		before      func()
		preds       []sdk.Prediction
		ids         []string
		retry       bool
		wantGraded  []string
		wantFailed  string // an instance the infrastructure failed, and why
		wantErr     string
		wantResults map[string]string // instance -> status
		wantDups    []string          // instances warned about
		wantTotal   int               // of the report
	}{
		{name: "missing repository", preds: []sdk.Prediction{pred(t1, "not a diff"), pred(t2, "")},
			wantGraded: []string{t2}, wantFailed: t1 + `: environment "textkit"`,
			wantResults: map[string]string{t2: harness.ResultEmptyPatch}, wantTotal: 2},
		{name: "still missing", preds: []sdk.Prediction{pred(t1, "not a diff"), pred(t2, "")},
			wantFailed: t1, wantResults: map[string]string{t2: harness.ResultEmptyPatch}, wantTotal: 2},
		{name: "repository found", before: func() {
			data, err := os.ReadFile("../../examples/repos/textkit.bundle")
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(repos, "textkit.bundle"), data, 0o644)
		}, preds: []sdk.Prediction{pred(t1, "not a diff"), pred(t2, "")},
			wantGraded: []string{t1}, wantResults: map[string]string{t1: harness.ResultError, t2: harness.ResultEmptyPatch}, wantTotal: 2},
		{name: "nothing new", preds: []sdk.Prediction{pred(t1, "not a diff"), pred(t2, "")},
			wantResults: map[string]string{t1: harness.ResultError, t2: harness.ResultEmptyPatch}, wantTotal: 2},
		{name: "retry errors", preds: []sdk.Prediction{pred(t1, "not a diff"), pred(t2, "")}, retry: true,
			wantGraded: []string{t1}, wantResults: map[string]string{t1: harness.ResultError, t2: harness.ResultEmptyPatch}, wantTotal: 2},
		{name: "retry errors of the selected instances only", preds: []sdk.Prediction{pred(t1, "not a diff"), pred(t2, "")}, ids: []string{t2}, retry: true,
			wantResults: map[string]string{t1: harness.ResultError, t2: harness.ResultEmptyPatch}, wantTotal: 1},
		{name: "duplicates grade the last once", preds: []sdk.Prediction{pred(t1, "not a diff"), pred(t2, ""), pred(t1, ""), pred(t1, "")},
			wantGraded: []string{t1}, wantDups: []string{t1}, wantResults: map[string]string{t1: harness.ResultEmptyPatch, t2: harness.ResultEmptyPatch}, wantTotal: 2},
		{name: "instance ids", preds: []sdk.Prediction{pred(t1, ""), pred(t2, "")}, ids: []string{t2},
			wantResults: map[string]string{t1: harness.ResultEmptyPatch, t2: harness.ResultEmptyPatch}, wantTotal: 1},
		{name: "unknown instance id", preds: []sdk.Prediction{pred(t1, "")}, ids: []string{"nope__nope-1"},
			wantErr: "instance ids not among the tasks: nope__nope-1", wantResults: map[string]string{t1: harness.ResultEmptyPatch, t2: harness.ResultEmptyPatch}},
	}
	for _, step := range steps {
		if step.before != nil {
			step.before()
		}
		var out bytes.Buffer
		st := &gradeStage{tasks: tasks, preds: step.preds, ev: &Evaluator{Envs: envs, Workers: 2, InstanceIDs: step.ids, RetryErrors: step.retry}}
		err := run.Execute(context.Background(), []engine.Stage{st}, engine.ExecOptions{Out: &out})
		var ng *NotGradedError
		switch {
		case step.wantFailed != "":
			if !errors.As(err, &ng) || len(ng.Failures) != 1 || !strings.Contains(err.Error(), step.wantFailed) {
				t.Fatalf("%s: err = %v, want a NotGradedError with %q\n%s", step.name, err, step.wantFailed, out.String())
			}
		case step.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), step.wantErr) {
				t.Fatalf("%s: err = %v, want %q", step.name, err, step.wantErr)
			}
		case err != nil:
			t.Fatalf("%s: %v\n%s", step.name, err, out.String())
		}
		if got := logged(out.Bytes(), "graded"); !slices.Equal(got, step.wantGraded) {
			t.Errorf("%s: graded %v, want %v", step.name, got, step.wantGraded)
		}
		if got := logged(out.Bytes(), "duplicate predictions: grading the last one, as SWE-bench does"); !slices.Equal(got, step.wantDups) {
			t.Errorf("%s: warned of duplicates for %v, want %v", step.name, got, step.wantDups)
		}
		got := results()
		if len(got) != len(step.wantResults) {
			t.Errorf("%s: %d results, want %d: %v", step.name, len(got), len(step.wantResults), got)
		}
		for id, status := range step.wantResults {
			if got[id].Status != status || got[id].Infra {
				t.Errorf("%s: %s is %s (infra %v), want %s", step.name, id, got[id].Status, got[id].Infra, status)
			}
		}
		if step.wantErr != "" {
			continue
		}
		var rep harness.Report
		data, err := os.ReadFile(filepath.Join(run.StageDir("eval.t"), ReportFile))
		if err != nil || json.Unmarshal(data, &rep) != nil {
			t.Fatalf("%s: report: %v", step.name, err)
		}
		if rep.TotalInstances != step.wantTotal {
			t.Errorf("%s: report over %d instances, want %d", step.name, rep.TotalInstances, step.wantTotal)
		}
		if step.wantFailed != "" && !slices.Equal(rep.ErrorIDs, []string{t1}) {
			t.Errorf("%s: report's error ids %v, want the instance not graded", step.name, rep.ErrorIDs)
		}
	}

	// The instance's folder says why it was not graded, then holds its
	// patch once graded.
	dir := filepath.Join(run.StageDir("eval.t"), LogsDir, t2)
	if _, err := os.Stat(dir); err != nil {
		t.Error(err)
	}
}

// TestEvalLogs: the per-instance folder holds what SWE-bench's holds.
func TestEvalLogs(t *testing.T) {
	ts := &harness.TestsStatus{FailToPass: harness.Outcome{Success: []string{"f"}}, PassToPass: harness.Outcome{Success: []string{"p"}}}
	tests := []struct {
		name   string
		id     string
		patch  string
		result harness.Result
		dir    string
		files  map[string]string // name -> a substring of it
	}{
		{name: "graded", id: "a__a-1", patch: "diff --git a/x b/x", dir: "a__a-1",
			result: harness.Result{Status: harness.ResultResolved, PatchApplied: true, TestsStatus: ts, Log: "1 passed"},
			files:  map[string]string{"patch.diff": "diff --git", "test_output.txt": "1 passed", "report.json": `"resolved": true`}},
		{name: "not graded", id: "../b", patch: "diff", dir: "..%2Fb",
			result: harness.Result{Status: harness.ResultError, Error: "open sandbox: image", Infra: true},
			files:  map[string]string{"patch.diff": "diff", "run_instance.log": "infrastructure error"}},
		{name: "patch did not apply", id: "..", patch: "diff", dir: "%2E%2E",
			result: harness.Result{Status: harness.ResultError, Error: "model patch: does not apply", Log: "error: patch failed"},
			files:  map[string]string{"patch.diff": "diff", "run_instance.log": "does not apply", "test_output.txt": "patch failed"}},
		{name: "empty patch", id: "c", dir: "c", result: harness.Result{Status: harness.ResultEmptyPatch}, files: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := &Evaluator{LogDir: t.TempDir()}
			tt.result.InstanceID = tt.id
			if err := ev.writeLogs(sdk.Prediction{InstanceID: tt.id, ModelPatch: tt.patch}, tt.result); err != nil {
				t.Fatal(err)
			}
			entries, err := os.ReadDir(filepath.Join(ev.LogDir, tt.dir))
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != len(tt.files) {
				t.Errorf("%d files, want %d", len(entries), len(tt.files))
			}
			for name, want := range tt.files {
				data, err := os.ReadFile(filepath.Join(ev.LogDir, tt.dir, name))
				if err != nil || !strings.Contains(string(data), want) {
					t.Errorf("%s: %q, %v; want it to hold %q", name, data, err, want)
				}
			}
			if tt.files["report.json"] != "" {
				var rep map[string]struct {
					Applied     bool                           `json:"patch_successfully_applied"`
					TestsStatus map[string]map[string][]string `json:"tests_status"`
				}
				data, _ := os.ReadFile(filepath.Join(ev.LogDir, tt.dir, "report.json"))
				if err := json.Unmarshal(data, &rep); err != nil || !rep[tt.id].Applied || len(rep[tt.id].TestsStatus) != 4 ||
					rep[tt.id].TestsStatus["PASS_TO_FAIL"]["failure"] == nil {
					t.Errorf("report.json is not SWE-bench's: %s", data)
				}
			}
		})
	}
}

// TestEvalFingerprint: settings that change grades change the
// fingerprint; workers and instance_ids do not.
func TestEvalFingerprint(t *testing.T) {
	recipe := func(eval, sandbox string) string {
		return "source \"swebench\" \"a\" {}\n" + sandbox + "\neval \"e\" {\n  tasks = source.swebench.a\n  predictions = \"gold\"\n" + eval + "}\n"
	}
	base := recipe("", "")
	tests := []struct {
		name string
		src  string
		same bool
	}{
		{name: "workers", src: recipe("  workers = 8\n", ""), same: true},
		{name: "instance_ids", src: recipe("  instance_ids = [\"x\"]\n", ""), same: true},
		{name: "backend", src: recipe("  backend = \"bwrap\"\n", "")},
		{name: "predictions", src: strings.Replace(base, `"gold"`, `"empty"`, 1)},
		{name: "sandbox timeout", src: recipe("", "sandbox {\n  timeout = \"1m\"\n}\n")},
		{name: "sandbox memory", src: recipe("", "sandbox {\n  memory = \"1g\"\n}\n")},
	}
	fp := func(src string) string {
		stages, err := Stages(loadRecipe(t, src), nil, testLanguages)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range stages {
			if s.Address() == "eval.e" {
				return s.Fingerprint()
			}
		}
		t.Fatal("no eval stage")
		return ""
	}
	want := fp(base)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fp(tt.src); (got == want) != tt.same {
				t.Errorf("fingerprint %s, base %s: same = %v, want %v", got, want, got == want, tt.same)
			}
		})
	}
}

// TestPreviousFingerprints: the fingerprints earlier builds of swelego
// computed for this recipe (taken from them) are accepted, so their runs
// are not asked to rerun although workers no longer counts.
func TestPreviousFingerprints(t *testing.T) {
	rec := loadRecipe(t, `source "swebench" "a" {}
sandbox {
  memory = "2g"
}
model "m" {
  provider = "oracle"
}
toolset "swe" {
  plugin = "swetools"
}
rollout "r" {
  tasks   = source.swebench.a
  model   = model.m
  toolset = toolset.swe
  workers = 2
}
eval "e" {
  tasks       = source.swebench.a
  predictions = rollout.r
  workers     = 2
}
`)
	earlier := map[string]string{"source.swebench.a": "40f96912cfc6af9d", "rollout.r": "3535aede92a2662b", "eval.e": "5c49e28fe65c7615"}
	stages, err := Stages(rec, nil, testLanguages)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stages {
		t.Run(s.Address(), func(t *testing.T) {
			h, ok := s.(engine.FingerprintHistory)
			if !ok {
				t.Fatal("no FingerprintHistory")
			}
			fp := earlier[s.Address()]
			if s.Fingerprint() != fp && !slices.Contains(h.PreviousFingerprints(), fp) {
				t.Errorf("fingerprint %s, previous %v: the earlier %s is not accepted", s.Fingerprint(), h.PreviousFingerprints(), fp)
			}
		})
	}
}
