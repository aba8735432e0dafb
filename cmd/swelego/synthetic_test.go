package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/core/llm/llmtest"
	"github.com/swelego/swelego/core/pipeline"
	"github.com/swelego/swelego/sdk"
)

// synthTasks reads a synthetic source's tasks.
func synthTasks(t *testing.T, work, name string) []sdk.Task {
	t.Helper()
	var out []sdk.Task
	for _, rec := range readJSONL(t, filepath.Join(work, "source", "synthetic", name, "tasks.jsonl")) {
		raw, _ := json.Marshal(rec)
		var task sdk.Task
		if err := json.Unmarshal(raw, &task); err != nil {
			t.Fatal(err)
		}
		out = append(out, task)
	}
	return out
}

// checkYield checks the yield report's columns add up: every candidate is
// a duplicate, over the limit, not applied, rejected by the compile check
// or compiled, and compiled ≥ validated ≥ kept.
func checkYield(t *testing.T, work, name string) map[string]pipeline.Yield {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(work, "source", "synthetic", name, pipeline.YieldFile))
	if err != nil {
		t.Fatalf("no yield report: %v", err)
	}
	var y map[string]pipeline.Yield
	if err := json.Unmarshal(data, &y); err != nil {
		t.Fatal(err)
	}
	for mod, r := range y {
		if r.Candidates != r.Duplicates+r.OverLimit+r.NotApplied+r.CompileFailed+r.Compiled || r.Compiled < r.Validated || r.Validated < r.Kept {
			t.Errorf("%s: yield of %s does not add up: %+v", name, mod, r)
		}
	}
	return y
}

// checkTask checks what every synthetic task must hold.
func checkTask(t *testing.T, task sdk.Task) pipeline.SyntheticOrigin {
	t.Helper()
	if len(task.FailToPass) == 0 || len(task.PassToPass) == 0 || task.Language == "" || task.Source != sdk.SourceSynthetic || task.PatchDirection != sdk.PatchFixes {
		t.Errorf("task %s: F2P %d, P2P %d, language %q, source %q, direction %q", task.InstanceID, len(task.FailToPass), len(task.PassToPass), task.Language, task.Source, task.PatchDirection)
	}
	o, ok := pipeline.Origin(task)
	if !ok || o.Statement == "" {
		t.Errorf("task %s has no synthetic origin: %v", task.InstanceID, task.Extra)
	}
	if !strings.HasPrefix(task.Injector, o.Plugin+"/") && o.Block != "combine" {
		t.Errorf("task %s: injector %q, origin %+v", task.InstanceID, task.Injector, o)
	}
	for _, l := range changedCode(task.Patch) {
		if strings.Contains(squashSpace(task.ProblemStatement), l) {
			t.Errorf("%s: the problem statement quotes the changed line %q:\n%s", task.InstanceID, l, task.ProblemStatement)
		}
	}
	return o
}

// changedCode returns the removed and added lines of a patch that carry
// code (an operator or a bracket), without white space.
func changedCode(patch string) []string {
	var out []string
	for _, l := range strings.Split(patch, "\n") {
		if len(l) < 2 || (l[0] != '+' && l[0] != '-') || strings.HasPrefix(l, "+++") || strings.HasPrefix(l, "---") {
			continue
		}
		if s := squashSpace(l[1:]); len(s) >= 6 && strings.ContainsAny(s, "=<>+-*/()[]{}.:") {
			out = append(out, s)
		}
	}
	return out
}

func squashSpace(s string) string { return strings.Join(strings.Fields(s), "") }

// TestSyntheticRecipe runs examples/synthetic: the built-in injectors'
// mutations of the bundled repositories are compile-checked and validated
// into tasks in both languages, validated bugs of one file or package are
// combined into harder tasks whose FAIL_TO_PASS holds every part's, each
// task's own fix resolves it and an empty patch resolves none.
func TestSyntheticRecipe(t *testing.T) {
	t.Parallel() // waits on sandboxes more than it computes
	requireDocker(t)
	if testing.Short() {
		t.Skip("builds environment images and validates mutations")
	}
	work := t.TempDir()
	recipe := abs(t, "../../examples/synthetic/recipe.hcl")
	// Docker is not what this test is about: bubblewrap runs the same
	// images with less overhead per sandbox. Nor are flaky tests (core/harness
	// tests that check): each tree's tests run once.
	cmd := swelegoCmd(t.TempDir(), "run", recipe, "--workdir", work, "-var", "sandbox_backend=bwrap", "-var", "reruns=1")
	cmd.Env = append(cmd.Env, "SWELEGO_CACHE="+testCache)
	var runOut, runErr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &runOut, &runErr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s\n%s", err, tail(runErr.String(), 4000), runOut.String())
	}
	checkSummaryGolden(t, "synthetic", runOut.String(), work)
	t.Run("report", func(t *testing.T) {
		checkRunReport(t, work, reportWant{sections: []string{"summary", "plots", "tasks", "synthetic", "eval"}, plots: 4})
	})
	byLang := map[string]int{}
	combined := 0
	var files []string
	for _, name := range []string{"textkit", "semver"} {
		files = append(files, filepath.Join(work, "source", "synthetic", name, "tasks.jsonl"))
		tasks := synthTasks(t, work, name)
		byID := map[string]sdk.Task{}
		for _, task := range tasks {
			byID[task.InstanceID] = task
		}
		for _, task := range tasks {
			o := checkTask(t, task)
			if strings.Contains(task.ProblemStatement, task.Patch) {
				t.Errorf("%s: the problem statement shows the fix", task.InstanceID)
			}
			if o.Statement != pipeline.StatementTemplate {
				t.Errorf("%s: statement by %q without a model", task.InstanceID, o.Statement)
			}
			if o.Block != "combine" {
				byLang[task.Language]++
				continue
			}
			combined++
			if !strings.HasPrefix(task.Injector, "combine/") || len(o.Parts) < 2 {
				t.Errorf("combined task %s: injector %q, parts %v", task.InstanceID, task.Injector, o.Parts)
			}
			for _, p := range o.Parts {
				part, ok := byID[p]
				if !ok {
					t.Errorf("%s: part %s is not a task", task.InstanceID, p)
					continue
				}
				for _, f := range part.FailToPass {
					if !slices.Contains([]string(task.FailToPass), f) {
						t.Errorf("%s: part %s's failing test %s passes in the combination", task.InstanceID, p, f)
					}
				}
			}
		}
		var report harness.Report
		data, err := os.ReadFile(filepath.Join(work, "eval", name, "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(data, &report)
		if report.ResolvedInstances != report.TotalInstances || report.TotalInstances != len(tasks) {
			t.Errorf("%s: gold patches resolve %d of %d (%d tasks)", name, report.ResolvedInstances, report.TotalInstances, len(tasks))
		}
		checkYield(t, work, name)
	}
	if byLang["python"]+byLang["go"] < 10 || byLang["python"] == 0 || byLang["go"] == 0 {
		t.Fatalf("validated single-bug tasks by language: %v, want at least 10 across Python and Go", byLang)
	}
	if combined == 0 {
		t.Errorf("no combined task")
	}
	t.Logf("single-bug tasks by language %v, combined tasks %d", byLang, combined)
	for _, f := range files {
		o := runEvalCLI(t, "bwrap", "empty", "--recipe", recipe, "--tasks", f)
		if o.report.ResolvedInstances != 0 || o.report.EmptyPatchInstances != o.report.TotalInstances {
			t.Errorf("%s: empty predictions: %d resolved, %d empty of %d", f, o.report.ResolvedInstances, o.report.EmptyPatchInstances, o.report.TotalInstances)
		}
	}
}

// standIn is the chat model behind the LM recipe test: an llmtest server
// whose handler acts like a model on the prompts swelego sends, the same
// way whatever order the calls come in. lm_modify: the function with its
// first comparison or arithmetic operator changed (== and !=, < and <=, +
// and -, …); a Python function without one gets prose and no code; a Go
// method, or a Go function without one, gets a call to a helper that does
// not exist, which does not compile. lm_rewrite (Python): the function with a
// body that returns None, for half of the functions (by name) after a
// nonlocal statement CPython refuses to compile. Problem statements: an
// issue naming the failing tests; every third one also quotes every line
// the stand-in changed, so the stage must fall back to its template when
// that is the task's own line.
type standIn struct {
	n       atomic.Int64
	mu      sync.Mutex
	changed []string
}

var (
	codeBlockRe = regexp.MustCompile("(?s)```(python|go)\n(.*?)\n```")
	testLineRe  = regexp.MustCompile(`(?m)^- (\S+)$`)
	swaps       = map[string]string{" == ": " != ", " != ": " == ", " < ": " <= ", " > ": " >= ", " <= ": " < ", " >= ": " > ", " + ": " - ", " - ": " + "}
)

// breakFirstOperator changes the operator that comes first in the body of
// fn; ok is false when there is none.
func breakFirstOperator(fn string) (out, line string, ok bool) {
	body := max(strings.Index(fn, "\n"), 0)
	at, op := -1, ""
	for from := range swaps {
		if i := strings.Index(fn[body:], from); i >= 0 && (at < 0 || body+i < at || body+i == at && len(from) > len(op)) {
			at, op = body+i, from
		}
	}
	if at < 0 {
		return fn, "", false
	}
	out = fn[:at] + swaps[op] + fn[at+len(op):]
	ls := strings.LastIndexByte(out[:at], '\n') + 1
	le := strings.IndexByte(out[at:], '\n')
	if le < 0 {
		le = len(out) - at
	}
	return out, strings.TrimSpace(out[ls : at+le]), true
}

func (s *standIn) reply(req llmtest.Request) llmtest.Reply {
	n := s.n.Add(1)
	var user string
	for _, m := range req.Chat.Messages {
		if m.Role == "user" && m.Content != nil {
			user = *m.Content
		}
	}
	block := codeBlockRe.FindStringSubmatch(user)
	switch {
	case strings.Contains(user, "exactly one subtle bug") && block != nil:
		lang, fn := block[1], block[2]
		out, line, ok := breakFirstOperator(fn)
		switch {
		case lang == "go" && strings.HasPrefix(fn, "func ("):
			out = strings.Replace(fn, "{\n", "{\n\t_ = undefinedHelper\n", 1)
		case ok:
			s.mu.Lock()
			s.changed = append(s.changed, line)
			s.mu.Unlock()
		case lang == "go":
			out = strings.Replace(fn, "{\n", "{\n\t_ = undefinedHelper\n", 1)
		default:
			return llmtest.Text("This function is fine as it is; I would rather not change it.")
		}
		return llmtest.Text("Here is the function with the change:\n\n```" + lang + "\n" + out + "\n```\n")
	case strings.Contains(user, "has been removed") && block != nil:
		lines := strings.Split(block[2], "\n")
		var fn []string
		for i, l := range lines {
			if strings.TrimSpace(l) != "..." {
				continue
			}
			start := i
			for start > 0 && !strings.HasPrefix(strings.TrimSpace(lines[start]), "def ") {
				start--
			}
			indent := l[:len(l)-3]
			fn = append(fn, lines[start:i]...)
			if len(strings.Fields(lines[start])[1])%2 == 0 {
				fn = append(fn, indent+"nonlocal swelego_missing")
			}
			fn = append(fn, indent+"return None")
			break
		}
		return llmtest.Text("```python\n" + strings.Join(fn, "\n") + "\n```")
	case strings.Contains(user, "Write the GitHub issue"):
		tests := testLineRe.FindAllStringSubmatch(user, -1)
		var b strings.Builder
		fmt.Fprintf(&b, "Title: regression in %d test(s)\n\n", len(tests))
		b.WriteString("After updating, these tests fail although they passed before:\n\n")
		for _, m := range tests {
			fmt.Fprintf(&b, "- %s\n", m[1])
		}
		b.WriteString("\nExpected: the tests pass. Actual: they fail with an assertion error.\n")
		if n%3 == 0 {
			s.mu.Lock()
			for _, l := range s.changed {
				fmt.Fprintf(&b, "\nI suspect this line: `%s`\n", l)
			}
			s.mu.Unlock()
		}
		return llmtest.Text(b.String())
	}
	return llmtest.Text("I do not understand the request.")
}

// TestSyntheticLMRecipe runs examples/synthetic/lm.hcl against a local
// stand-in for an OpenAI-compatible endpoint: the model is lent to the
// python and golang injectors through the plugin protocol, its lm_modify
// and lm_rewrite candidates are compile-checked (non-compiling ones are
// counted and rejected as such) and validated into tasks that the gold
// patch resolves, and it writes problem statements that never show the
// changed lines (a reply that quotes one falls back to the template).
func TestSyntheticLMRecipe(t *testing.T) {
	t.Parallel() // waits on sandboxes more than it computes
	requireDocker(t)
	if testing.Short() {
		t.Skip("builds environment images and validates mutations")
	}
	srv := llmtest.NewServer(t)
	model := &standIn{}
	srv.Handle(model.reply)
	work := t.TempDir()
	recipe := abs(t, "../../examples/synthetic/lm.hcl")
	cmd := swelegoCmd(t.TempDir(), "run", recipe, "--workdir", work, "-var", "model_url="+srv.URL(), "-var", "model_calls=8", "-var", "sandbox_backend=bwrap")
	cmd.Env = append(cmd.Env, "SWELEGO_CACHE="+testCache)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, tail(string(out), 6000))
	}

	byModel := 0
	lmTasks := map[string]int{}
	all := map[string]sdk.Task{}
	for _, name := range []string{"textkit", "semver"} {
		tasks := synthTasks(t, work, name)
		for _, task := range tasks {
			all[task.InstanceID] = task
			o := checkTask(t, task)
			if o.Statement == pipeline.StatementModel {
				byModel++
				if !strings.HasPrefix(task.ProblemStatement, "Title: regression") {
					t.Errorf("%s: statement by the model is not the model's reply:\n%s", task.InstanceID, task.ProblemStatement)
				}
			}
			if strings.Contains(task.Injector, "/lm_") {
				lmTasks[name]++
			}
		}
		var report harness.Report
		data, err := os.ReadFile(filepath.Join(work, "eval", name, "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(data, &report)
		if report.ResolvedInstances != report.TotalInstances || report.TotalInstances != len(tasks) {
			t.Errorf("%s: gold patches resolve %d of %d (%d tasks)", name, report.ResolvedInstances, report.TotalInstances, len(tasks))
		}
		y := checkYield(t, work, name)
		failed := 0
		for mod, r := range y {
			if strings.Contains(mod, "/lm_") {
				failed += r.CompileFailed
			}
		}
		if failed == 0 {
			t.Errorf("%s: no LM candidate failed the compile check (yield %+v)", name, y)
		}
	}
	if lmTasks["textkit"] == 0 || lmTasks["semver"] == 0 {
		t.Errorf("validated LM tasks by source: %v, want some in both", lmTasks)
		for _, name := range []string{"textkit", "semver"} {
			dir := filepath.Join(work, "source", "synthetic", name)
			y, _ := os.ReadFile(filepath.Join(dir, pipeline.YieldFile))
			rej, _ := os.ReadFile(filepath.Join(dir, "rejected.jsonl"))
			t.Logf("%s yield:\n%s\nrejected:\n%s", name, y, tail(string(rej), 6000))
		}
	}
	if byModel == 0 {
		t.Error("no problem statement was written by the model")
	}
	t.Logf("%d tasks, %d statements by the model, LM tasks by source %v", len(all), byModel, lmTasks)

	// What the model was shown: statement prompts name the failing tests
	// and never a line the task's bug changed.
	statements := 0
	for _, req := range srv.Requests() {
		var user string
		for _, m := range req.Chat.Messages {
			if m.Role == "user" && m.Content != nil {
				user = *m.Content
			}
		}
		if !strings.Contains(user, "Write the GitHub issue") {
			continue
		}
		statements++
		var tests []string
		for _, m := range testLineRe.FindAllStringSubmatch(user, -1) {
			tests = append(tests, m[1])
		}
		for _, task := range all {
			if !slices.Equal(tests, []string(task.FailToPass)) {
				continue
			}
			for _, l := range changedCode(task.Patch) {
				if strings.Contains(squashSpace(user), l) {
					t.Errorf("%s: the statement prompt shows the changed line %q", task.InstanceID, l)
				}
			}
		}
	}
	if statements < len(all) {
		t.Errorf("%d statement prompts for %d tasks", statements, len(all))
	}
}

// ledgerRepo makes a git repository of testdata/srclayout/repo, committed
// with a fixed author and date, and returns its folder.
func ledgerRepo(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ledger")
	if out, err := exec.Command("cp", "-a", abs(t, "testdata/srclayout/repo"), dir).CombinedOutput(); err != nil {
		t.Fatalf("copy the fixture: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"-c", "commit.gpgsign=false", "commit", "-q", "-m", "ledger"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=swelego tests", "GIT_AUTHOR_EMAIL=tests@swelego.invalid",
			"GIT_COMMITTER_NAME=swelego tests", "GIT_COMMITTER_EMAIL=tests@swelego.invalid",
			"GIT_AUTHOR_DATE=2026-01-01T12:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T12:00:00Z",
			"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

// synthRejections reads a synthetic source's rejections.
func synthRejections(t *testing.T, work, name string) []pipeline.Rejection {
	t.Helper()
	path := filepath.Join(work, "source", "synthetic", name, "rejected.jsonl")
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	var out []pipeline.Rejection
	for _, rec := range readJSONL(t, path) {
		raw, _ := json.Marshal(rec)
		var r pipeline.Rejection
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestSyntheticSrcLayout runs a synthetic source over a src-layout
// repository whose tests import the package only when src/ is on the path,
// four times in one run directory. With a test runner that is not
// installed, or without PYTHONPATH in the environment's test_cmd, nothing
// runs on the original tree: every candidate validated is rejected as "the
// tests do not run at base" with the runner's or the import error in its
// log, validation stops after five of them, and the stage fails saying so.
// With the test command fixed, the run refuses to resume from those
// verdicts (the environment is part of the stage's configuration) until
// told --rerun; then validation runs the environment's command and keeps
// tasks, whose gold patch resolves them when evaluated with the same
// command. Each time, the candidate that leaves `nonlocal total` without a
// binding is refused by the compile check.
func TestSyntheticSrcLayout(t *testing.T) {
	t.Parallel() // waits on sandboxes more than it computes
	requireDocker(t)
	if testing.Short() {
		t.Skip("builds an environment image and validates mutations")
	}
	repoDir := ledgerRepo(t)
	recipe := abs(t, "testdata/srclayout/recipe.hcl")
	work := t.TempDir()
	const (
		noRunner = "python3 -m nosuchrunner"
		noPath   = "python3 -m pytest -p no:cacheprovider"
		withPath = "PYTHONPATH=src python3 -m pytest -p no:cacheprovider"
	)
	// Six candidates compile. Validated one at a time without PYTHONPATH,
	// the stage gives up after five that do not run at base.
	steps := []struct {
		name, testCmd string
		workers       int
		rerun         bool
		ok            bool     // the run succeeds
		want          []string // in the run's output, and in each StepBase rejection's log
	}{
		{"runner not installed", noRunner, 1, false, false,
			[]string{"the tests do not run at base", `"` + noRunner + `"`, "No module named nosuchrunner", "the first 5 candidates validated, so the other 1 were not tried"}},
		{"no PYTHONPATH", noPath, 1, true, false,
			[]string{"the tests do not run at base", `"` + noPath + `"`, "No module named 'ledger'", "the first 5 candidates validated, so the other 1 were not tried", "--rerun source.synthetic.ledger"}},
		{"fixed, resumed", withPath, 1, false, false, []string{"different configuration", "--rerun source.synthetic.ledger"}},
		{"fixed, rerun", withPath, 2, true, true, nil},
	}
	for _, st := range steps {
		args := []string{"run", recipe, "--workdir", work, "-var", "repo_git=" + repoDir, "-var", "test_cmd=" + st.testCmd, "-var", fmt.Sprintf("workers=%d", st.workers)}
		if st.rerun {
			args = append(args, "--rerun", "source.synthetic.ledger")
		}
		cmd := swelegoCmd(t.TempDir(), args...)
		cmd.Env = append(cmd.Env, "SWELEGO_CACHE="+testCache)
		out, err := cmd.CombinedOutput()
		if st.ok != (err == nil) {
			t.Fatalf("%s: run error %v, want success %v:\n%s", st.name, err, st.ok, tail(string(out), 6000))
		}
		for _, want := range st.want {
			if !strings.Contains(string(out), want) {
				t.Errorf("%s: the run's output lacks %q:\n%s", st.name, want, tail(string(out), 6000))
			}
		}
		if st.name == "fixed, resumed" {
			continue // nothing ran
		}

		rejected := synthRejections(t, work, "ledger")
		compileRefused := false
		for _, r := range rejected {
			if r.Step == pipeline.StepCompile && strings.Contains(r.Reason, "no binding for nonlocal 'total'") {
				compileRefused = true
			}
		}
		if !compileRefused {
			t.Errorf("%s: the candidate leaving `nonlocal total` unbound was not refused by the compile check; rejections: %+v", st.name, rejected)
		}
		y := checkYield(t, work, "ledger")
		var validated, base int
		for _, r := range y {
			validated += r.Validated
			base += r.TestsDoNotRun
		}
		tasks := synthTasks(t, work, "ledger")

		if !st.ok {
			if base != 5 || base != validated {
				t.Errorf("%s: yield: %d of %d validated candidates counted as not running at base, want all: %+v", st.name, base, validated, y)
			}
			for _, r := range rejected {
				if r.Step == pipeline.StepCompile || r.Step == pipeline.StepApply {
					continue
				}
				if r.Step != pipeline.StepBase || !strings.HasPrefix(r.Reason, "the tests do not run at base") {
					t.Errorf("%s: %s: step %q, reason %q; want the tests do not run at base", st.name, r.InstanceID, r.Step, r.Reason)
				}
				if !strings.Contains(r.Log, st.want[2]) {
					t.Errorf("%s: %s: the log kept does not show %q:\n%s", st.name, r.InstanceID, st.want[2], r.Log)
				}
			}
			if len(tasks) != 0 {
				t.Errorf("%s: %d tasks kept although no test runs at base", st.name, len(tasks))
			}
			continue
		}

		if len(tasks) == 0 {
			t.Fatalf("%s: no task kept; rejections: %+v", st.name, rejected)
		}
		inherited := false
		for _, task := range tasks {
			checkTask(t, task)
			if task.TestCmd != "" {
				t.Errorf("%s: the task copies the environment's test command %q", task.InstanceID, task.TestCmd)
			}
			if slices.Contains([]string(task.PassToPass), "tests/test_account.py::TestAccount::test_deposit") {
				inherited = true
			}
		}
		if !inherited {
			t.Errorf("no task's PASS_TO_PASS holds a test TestAccount inherits from its mixin: %v", tasks[0].PassToPass)
		}
		if base != 0 {
			t.Errorf("%d candidates rejected as not running at base with PYTHONPATH set", base)
		}
		var report harness.Report
		data, err := os.ReadFile(filepath.Join(work, "eval", "ledger", "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(data, &report)
		if report.ResolvedInstances != len(tasks) || report.TotalInstances != len(tasks) {
			t.Errorf("gold patches resolve %d of %d (%d tasks)", report.ResolvedInstances, report.TotalInstances, len(tasks))
		}
		t.Logf("%d tasks, yield %+v", len(tasks), y)
	}
}
