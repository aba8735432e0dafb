package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/hcl"
	"github.com/swelego/swelego/sdk"
)

const fixDiff = `diff --git a/pkg/calc.py b/pkg/calc.py
--- a/pkg/calc.py
+++ b/pkg/calc.py
@@ -1,4 +1,4 @@
 def clamp(x, lo, hi):
-    if x <= lo:
+    if x < lo:
         return lo
     return x
`

func TestChoose(t *testing.T) {
	cases := []struct {
		name        string
		k, n, limit int
		want        [][]int
	}{
		{"pairs of three", 3, 2, 10, [][]int{{0, 1}, {0, 2}, {1, 2}}},
		{"limited", 4, 2, 2, [][]int{{0, 1}, {0, 2}}},
		{"all", 3, 3, 10, [][]int{{0, 1, 2}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := choose(c.k, c.n, c.limit); !reflect.DeepEqual(got, c.want) {
				t.Errorf("choose(%d, %d) = %v, want %v", c.k, c.n, got, c.want)
			}
		})
	}
}

func TestReadCombine(t *testing.T) {
	cases := []struct {
		name string
		c    *hcl.Combine
		ok   bool
		want combineSettings
	}{
		{"absent", nil, false, combineSettings{}},
		{"defaults", &hcl.Combine{Per: "file", MinBugs: 2, MaxTasks: 5}, true, combineSettings{per: "file", minBugs: 2, maxBugs: 2, maxTasks: 5, attempts: 20}},
		{"package, up to 3", &hcl.Combine{Per: "package", MinBugs: 2, MaxBugs: 3, MaxTasks: 2}, true, combineSettings{per: "package", minBugs: 2, maxBugs: 3, maxTasks: 2, attempts: 8}},
		{"more bugs", &hcl.Combine{Per: "file", MinBugs: 3, MaxTasks: 0}, true, combineSettings{per: "file", minBugs: 3, maxBugs: 3, maxTasks: 5, attempts: 20}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := readCombine(c.c)
			if ok != c.ok || got != c.want {
				t.Errorf("readCombine = %+v, %v; want %+v, %v", got, ok, c.want, c.ok)
			}
		})
	}
}

// TestStatementChecks: the lines a bug changed are found in both
// directions of its diff, scrubbed from the failure output and refused in
// a model's statement.
func TestStatementChecks(t *testing.T) {
	ch := changedLines([]string{fixDiff})
	if len(ch.text) != 2 || !ch.lines["pkg/calc.py"][2] {
		t.Fatalf("changed lines = %+v", ch)
	}
	log := "pkg/calc.py:2: in clamp\n    if x < lo:\nE   assert 0 == 1\ntests/test_calc.py:5: AssertionError\n"
	if got := ch.scrub(log); got != "E   assert 0 == 1\ntests/test_calc.py:5: AssertionError\n" {
		t.Errorf("scrub =\n%s", got)
	}
	cases := []struct {
		name, reply, why string
	}{
		{"good", "clamp returns the lower bound too late\n\nCalling clamp(0, 0, 3) gives 3, I expected 0.", ""},
		{"fenced", "```markdown\nclamp is wrong for values on the lower bound: clamp(0, 0, 3) is not 0.\n```", ""},
		{"quotes the bug", "The problem is in clamp: `if x<lo:` should include the bound, so everything goes wrong.", "the reply quotes a line the bug changed"},
		{"quotes the fix", "Please change it to `if x <= lo:` in pkg/calc.py and it will work again fine.", "the reply quotes a line the bug changed"},
		{"diff", "Fix:\ndiff --git a/pkg/calc.py b/pkg/calc.py\n@@ -1 +1 @@\n", "the reply shows a diff"},
		{"empty", "  ", "the reply is empty or too short"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text, why := checkStatement(c.reply, ch)
			if why != c.why {
				t.Fatalf("why = %q, want %q", why, c.why)
			}
			if why == "" && (strings.Contains(text, "```") || !strings.HasSuffix(text, "\n")) {
				t.Errorf("text = %q", text)
			}
		})
	}
}

func TestStatementPrompt(t *testing.T) {
	ctx := context.Background()
	py, gol := refLanguage(t, "python"), refLanguage(t, "go")
	task := sdk.Task{Repo: "o/r", FailToPass: []string{"tests/t.py::test_a"}, PassToPass: []string{"x", "y"}}
	repro, err := reproduction(ctx, py, task)
	if err != nil {
		t.Fatal(err)
	}
	req := statementPrompt(task, "E   assert 1 == 2\n", repro)
	user := req.Messages[len(req.Messages)-1].Content
	for _, want := range []string{"tests/t.py::test_a", "2 other tests", "assert 1 == 2", "python3 -m pytest -q --tb=short 'tests/t.py::test_a'", "do not propose a fix"} {
		if !strings.Contains(user, want) {
			t.Errorf("prompt lacks %q:\n%s", want, user)
		}
	}
	// The command is the language's, for the first test only, on the
	// environment's test command when it has one.
	if got, _ := reproduction(ctx, gol, sdk.Task{FailToPass: []string{"TestA/sub", "TestB"}}); got != "go test ./... -run '^(TestA)$'" {
		t.Errorf("go reproduction = %q", got)
	}
	srcLayout := sdk.Task{FailToPass: []string{"tests/t.py::test_a"}, TestCmd: "PYTHONPATH=src python3 -m pytest"}
	if got, _ := reproduction(ctx, py, srcLayout); got != "PYTHONPATH=src python3 -m pytest 'tests/t.py::test_a'" {
		t.Errorf("reproduction with the environment's test command = %q", got)
	}
	if got, err := reproduction(ctx, py, sdk.Task{}); got != "" || err != nil {
		t.Errorf("reproduction without a failing test = %q, %v", got, err)
	}
}

// TestOrigin round-trips the origin through a task's JSON.
func TestOrigin(t *testing.T) {
	var task sdk.Task
	o := SyntheticOrigin{Block: "combine", Per: "file", Parts: []string{"a", "b"}, Files: []string{"x.py"}, Statement: StatementTemplate}
	if err := setOrigin(&task, o); err != nil {
		t.Fatal(err)
	}
	data, err := task.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var back sdk.Task
	if err := back.UnmarshalJSON(data); err != nil {
		t.Fatal(err)
	}
	got, ok := Origin(back)
	if !ok || !reflect.DeepEqual(got, o) {
		t.Errorf("Origin = %+v, %v", got, ok)
	}
	if _, ok := Origin(sdk.Task{}); ok {
		t.Error("a task without origin has one")
	}
}

// TestLogExcerpt: the one-line summary of a run in which the tests do not
// run names the error and ends with the run's last lines. The pytest log
// is a real one: a src-layout repository's tests run without src/ on the
// path.
func TestLogExcerpt(t *testing.T) {
	pytest, err := os.ReadFile("testdata/base-import-error.log")
	if err != nil {
		t.Fatal(err)
	}
	// A runner's own phrases come from its language (the Python
	// plugin's, say): the host knows only exceptions, errors and the
	// shell's.
	runner := []string{`No module named`}
	cases := []struct {
		name, log  string
		n          int
		errorLines []string
		want       string
	}{
		{"pytest import error", string(pytest), 2, nil,
			"E   ModuleNotFoundError: No module named 'ledger' | … | !!!!!!!!!!!!!!!!!!! Interrupted: 3 errors during collection !!!!!!!!!!!!!!!!!!!! | ============================== 3 errors in 0.15s ==============================="},
		{"runner not installed, its language's pattern", ">>>>> swelego test output start N\n/usr/bin/python3: No module named pytest\n\n>>>>> swelego test output end N exit=1\nlast\n", 1, runner,
			"/usr/bin/python3: No module named pytest | … | last"},
		{"runner not installed, no language pattern", ">>>>> swelego test output start N\n/usr/bin/python3: No module named pytest\n\n>>>>> swelego test output end N exit=1\nlast\n", 1, nil,
			"last"},
		{"a language pattern with its own flags", "pkg: CANNOT FIND PACKAGE x\nFAIL\n", 1, []string{`(?i)cannot find package`},
			"pkg: CANNOT FIND PACKAGE x | … | FAIL"},
		{"a pattern that does not compile is left out", "bash: line 3: pytest: command not found\nsomething after\n", 1, []string{`(`},
			"bash: line 3: pytest: command not found | … | something after"},
		{"no error line", "collected 0 items\n\n= no tests ran in 0.01s =\n", 5, runner,
			"collected 0 items | = no tests ran in 0.01s ="},
		{"empty", "", 5, nil, ""},
		{"long line cut between runes", strings.Repeat("é", 200) + "\n", 1, nil, strings.Repeat("é", 150) + "…"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := logExcerpt(c.log, c.n, c.errorLines); got != c.want {
				t.Errorf("logExcerpt =\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

// TestSyntheticFingerprintEnvironment: the environment a synthetic source
// validates in is part of its configuration, where it reads the history
// from is not.
func TestSyntheticFingerprintEnvironment(t *testing.T) {
	recipe := func(env string) string {
		return "environment \"e\" {\n  repo = \"o/r\"\n  language = \"python\"\n" + env + "}\n" +
			"source \"synthetic\" \"s\" {\n  repo = \"o/r\"\n  environment = environment.e\n  injector \"python\" {}\n}\n"
	}
	fingerprint := func(env string) string {
		t.Helper()
		stages, err := Stages(loadRecipe(t, recipe(env), "elsewhere/r.bundle"), nil, testLanguages)
		if err != nil || len(stages) != 1 {
			t.Fatalf("stages: %v, %v", stages, err)
		}
		return stages[0].Fingerprint()
	}
	base := fingerprint("")
	cases := []struct {
		name, env string
		same      bool
	}{
		{"same", "", true},
		{"git source moved", "  git = \"elsewhere/r.bundle\"\n", true},
		{"test_cmd", "  test_cmd = \"PYTHONPATH=src python3 -m pytest\"\n", false},
		{"setup", "  setup = [\"pip install -e .\"]\n", false},
		{"packages", "  packages = [\"libxml2-dev\"]\n", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := fingerprint(c.env); (got == base) != c.same {
				t.Errorf("fingerprint %s, without the change %s; want the same: %v", got, base, c.same)
			}
		})
	}
}

// TestSyntheticPreviousFingerprint: a run an earlier build made (whose
// fingerprint hashed workers and not the environment; taken from that
// build) is resumed, not refused, after the upgrade.
func TestSyntheticPreviousFingerprint(t *testing.T) {
	rec := loadRecipe(t, `environment "e" {
  repo     = "o/r"
  language = "python"
  test_cmd = "PYTHONPATH=src python3 -m pytest"
}
source "synthetic" "s" {
  repo        = "o/r"
  environment = environment.e
  workers     = 2
  injector "python" {
    rules = ["change_operator"]
  }
  injector "python" {
    rules = ["remove_assignment"]
  }
}
`)
	const earlier = "34ed097f293206ec"
	stages, err := Stages(rec, nil, testLanguages)
	if err != nil || len(stages) != 1 {
		t.Fatalf("stages: %v, %v", stages, err)
	}
	h, ok := stages[0].(engine.FingerprintHistory)
	if !ok {
		t.Fatal("no FingerprintHistory")
	}
	if prev := h.PreviousFingerprints(); !slices.Contains(prev, earlier) {
		t.Errorf("previous fingerprints %v lack the earlier build's %s", prev, earlier)
	}
	if stages[0].Fingerprint() == earlier {
		t.Error("the fingerprint does not cover the environment")
	}
}

// TestCompileCommandPython runs the compile check the python language
// plugin gives (CheckCommand, as compileCheck asks for it) against real
// python3 on code that parses (ast.parse and tree-sitter accept it) but
// that CPython's compiler refuses in its symbol-table and code-generation
// passes, as `python3 -m py_compile` does: the check must reject all of it
// and accept the same shapes written correctly.
func TestCompileCommandPython(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	check, err := refLanguage(t, "python").CheckCommand(context.Background(), []string{"pkg/mod.py"})
	if err != nil || check == "" {
		t.Fatalf("CheckCommand = %q, %v", check, err)
	}
	cases := []struct {
		name, src, want string // want: "" compiles, else a part of the error
	}{
		{"nonlocal without binding", "def outer():\n    def inner():\n        nonlocal count\n        count += 1\n        return count\n    return inner\n", "no binding for nonlocal 'count' found"},
		{"nonlocal with binding", "def outer():\n    count = 0\n    def inner():\n        nonlocal count\n        count += 1\n        return count\n    return inner\n", ""},
		{"nonlocal at module level", "nonlocal x\n", "nonlocal declaration not allowed at module level"},
		{"return outside function", "x = 1\nreturn x\n", "'return' outside function"},
		{"duplicate argument", "def f(a, a):\n    return a\n", "duplicate argument 'a'"},
		{"await outside async", "def f(x):\n    return await x\n", "'await' outside async function"},
		{"await inside async", "async def f(x):\n    return await x\n", ""},
		{"async comprehension outside async", "def f(xs):\n    return [x async for x in xs]\n", "asynchronous comprehension outside of an asynchronous function"},
		{"break outside loop", "def f():\n    break\n", "'break' outside loop"},
		{"parameter and global", "def f(a):\n    global a\n    return a\n", "is parameter and global"},
	}
	// Every source parses: what refuses them is the compiler.
	var sources []string
	for _, c := range cases {
		sources = append(sources, c.src)
	}
	parse := exec.Command("python3", "-c", "import ast, json, sys\nfor s in json.load(sys.stdin): ast.parse(s)")
	data, _ := json.Marshal(sources)
	parse.Stdin = strings.NewReader(string(data))
	if out, err := parse.CombinedOutput(); err != nil {
		t.Fatalf("ast.parse refuses a case, which then does not test the compiler: %v\n%s", err, out)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			t.Cleanup(func() { os.RemoveAll(filepath.Join("/tmp/swelego-pycache", dir)) })
			if err := os.MkdirAll(filepath.Join(dir, "pkg"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "pkg", "mod.py"), []byte(c.src), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("bash", "-c", check)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			switch {
			case c.want == "" && err != nil:
				t.Errorf("the check rejects valid code: %v\n%s", err, out)
			case c.want != "" && err == nil:
				t.Errorf("the check accepts code python3 cannot compile")
			case c.want != "" && !strings.Contains(string(out), c.want):
				t.Errorf("the check's output lacks %q:\n%s", c.want, out)
			}
		})
	}
}
