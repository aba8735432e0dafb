package harness_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/core/sandbox"
	"github.com/swelego/swelego/core/taskenv"
	"github.com/swelego/swelego/sdk"
)

// These tests grade predictions the way an attacker would write them, and
// the shapes real repositories have, with real pytest and go test runs in
// real sandboxes of both backends (images cached across packages in
// os.TempDir()/swelego-test-cache, as the other packages' tests do).

var forgeCache = filepath.Join(os.TempDir(), "swelego-test-cache")

// fixtureRepo is a git repository made for one test, with named commits.
type fixtureRepo struct {
	dir     string
	commits map[string]string
}

func gitIn(t testing.TB, dir string, args ...string) string {
	t.Helper()
	c := exec.Command("git", args...)
	c.Dir = dir
	c.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t", "GIT_CONFIG_NOSYSTEM=1")
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func putFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// newFixture makes a repository whose first commit, "base", holds files.
func newFixture(t testing.TB, files map[string]string) *fixtureRepo {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	gitIn(t, dir, "init", "-q", "-b", "main")
	putFiles(t, dir, files)
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "base")
	return &fixtureRepo{dir: dir, commits: map[string]string{"base": gitIn(t, dir, "rev-parse", "HEAD")}}
}

// commit records files on top of the commit named from as a new commit
// named name.
func (r *fixtureRepo) commit(t testing.TB, name, from string, files map[string]string) {
	t.Helper()
	gitIn(t, r.dir, "checkout", "-q", r.commits[from])
	putFiles(t, r.dir, files)
	gitIn(t, r.dir, "add", "-A")
	gitIn(t, r.dir, "commit", "-q", "-m", name)
	r.commits[name] = gitIn(t, r.dir, "rev-parse", "HEAD")
	gitIn(t, r.dir, "branch", name) // reachable, so clones of the repository have it
	gitIn(t, r.dir, "checkout", "-q", "main")
}

// patch is the diff that turns the commit named from into one with files
// changed as given.
func (r *fixtureRepo) patch(t testing.TB, from string, files map[string]string) string {
	t.Helper()
	wt := filepath.Join(t.TempDir(), "wt")
	gitIn(t, r.dir, "worktree", "add", "-q", "--detach", wt, r.commits[from])
	defer gitIn(t, r.dir, "worktree", "remove", "--force", wt)
	putFiles(t, wt, files)
	gitIn(t, wt, "add", "-A")
	return gitIn(t, wt, "diff", "--cached") + "\n"
}

// forgeOpeners returns an Opener per sandbox backend over the environment
// env, and the task prepared for it.
func forgeOpeners(t *testing.T, env taskenv.Environment) map[string]harness.Opener {
	t.Helper()
	if testing.Short() {
		t.Skip("builds environment images")
	}
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		t.Skipf("docker info fails, so there is no Docker Engine to test against: %v\n%s", err, out)
	}
	out := map[string]harness.Opener{}
	for _, name := range []string{"docker", "bwrap"} {
		b, err := sandbox.New(context.Background(), name, sandbox.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c, ok := b.(interface{ Close() error }); ok {
			t.Cleanup(func() { c.Close() })
		}
		m := taskenv.New(taskenv.Options{Store: forgeCache, Backend: b, Environments: []taskenv.Environment{env}, Languages: language.NewSet(harness.TestLanguages)})
		out[name] = func(ctx context.Context, task sdk.Task) (harness.Sandbox, error) { return m.Open(ctx, task) }
	}
	return out
}

// gradeCase is one prediction and what grading must make of it.
type gradeCase struct {
	name  string
	patch string
	edit  func(*sdk.Task)
	// want is the Result status; resolved cases must resolve, every other
	// case must not.
	want string
	// invalid, when set, must be in Result.Invalid (the run was rejected
	// as a whole); errHas in Result.Error.
	invalid, errHas string
	// statuses are observed statuses the result must show.
	statuses map[string]harness.Status
	// discarded are the files of the patch put back before the tests ran.
	discarded []string
}

func runGradeCases(t *testing.T, openers map[string]harness.Opener, base sdk.Task, cases []gradeCase) {
	t.Helper()
	ctx := context.Background()
	lang, err := language.NewSet(harness.TestLanguages).Get(ctx, base.Language)
	if err != nil {
		t.Fatal(err)
	}
	for backend, open := range openers {
		for _, c := range cases {
			t.Run(backend+"/"+c.name, func(t *testing.T) {
				task := base
				task.FailToPass = append([]string{}, base.FailToPass...)
				task.PassToPass = append([]string{}, base.PassToPass...)
				if c.edit != nil {
					c.edit(&task)
				}
				r := harness.Evaluate(ctx, open, task, c.patch, harness.Options{Language: lang, Timeout: 3 * time.Minute})
				if r.Status != c.want || (c.want != harness.ResultResolved) == r.Resolved() {
					t.Fatalf("status %q, want %q; invalid %q; error %q\nF2P %v\nP2P %v\nlog:\n%s", r.Status, c.want, r.Invalid, r.Error, r.FailToPass, r.PassToPass, r.Log)
				}
				if c.invalid != "" && !strings.Contains(r.Invalid, c.invalid) {
					t.Errorf("invalid = %q, want it to say %q\nlog:\n%s", r.Invalid, c.invalid, r.Log)
				}
				if c.invalid == "" && r.Invalid != "" {
					t.Errorf("run rejected: %s", r.Invalid)
				}
				if c.errHas != "" && !strings.Contains(r.Error, c.errHas) {
					t.Errorf("error = %q, want it to say %q", r.Error, c.errHas)
				}
				if strings.Join(r.Discarded, ",") != strings.Join(c.discarded, ",") {
					t.Errorf("discarded %v, want %v", r.Discarded, c.discarded)
				}
				for id, want := range c.statuses {
					got, ok := r.FailToPass[id]
					if !ok {
						got = r.PassToPass[id]
					}
					if got != want {
						t.Errorf("%s: observed %q, want %q", id, got, want)
					}
				}
			})
		}
	}
}

// pyFiles is a small package with the shapes real repositories have: a
// test class inheriting its tests from a mixin in another module, and a
// parametrised id with a character above U+FFFF and a space, kept as is
// by the repository's pytest.ini (pytest escapes it as "#x1F600" in the
// JUnit report).
var pyFiles = map[string]string{
	"pytest.ini":         "[pytest]\ndisable_test_id_escaping_and_forfeit_all_rights_to_community_support = true\n",
	"calc/__init__.py":   "",
	"calc/ops.py":        "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n\n\ndef sub(a, b):\n    return a - b\n",
	"tests/__init__.py":  "",
	"tests/mixins.py":    "from calc import ops\n\n\nclass OpsMixin:\n    def test_add_inherited(self):\n        assert ops.add(2, 3) == 5\n\n    def test_sub_inherited(self):\n        assert ops.sub(5, 3) == 2\n",
	"tests/test_ops.py":  "import pytest\n\nfrom calc import ops\nfrom tests.mixins import OpsMixin\n\n\nclass TestOps(OpsMixin):\n    def test_mul(self):\n        assert ops.mul(2, 3) == 6\n\n\ndef test_add():\n    assert ops.add(1, 1) == 2\n\n\n@pytest.mark.parametrize(\"n\", [4], ids=[\"smile \U0001F600\"])\ndef test_add_param(n):\n    assert ops.add(n, n) == 2 * n\n\n\ndef test_plain():\n    assert ops.sub(1, 1) == 0\n",
	"tests/test_more.py": "from calc import ops\n\n\ndef test_more():\n    assert ops.mul(1, 5) == 5\n",
}

var pyFix = map[string]string{"calc/ops.py": "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n\n\ndef sub(a, b):\n    return a - b\n"}

const emojiID = "tests/test_ops.py::test_add_param[smile \U0001F600]"

// forgeConftest keeps pytest from collecting the FAIL_TO_PASS file,
// overwrites the JUnit report at exit (its path is in PYTEST_ADDOPTS) and
// prints a short summary of its own, with a "..." id as a wildcard.
const forgeConftest = `import atexit, os, re, sys

collect_ignore = ["tests/test_ops.py"]

IDS = ["tests/test_ops.py::test_add", "tests/test_ops.py::TestOps::test_add_inherited",
       "tests/test_ops.py::TestOps::test_mul", "tests/test_ops.py::TestOps::test_sub_inherited",
       "tests/test_ops.py::test_plain"]

def _forge():
    m = re.search(r"--junitxml=(\S+)", os.environ.get("PYTEST_ADDOPTS", ""))
    if m:
        with open(m.group(1), "w") as f:
            f.write("<testsuites><testsuite")
    out = ["=========================== short test summary info ============================", "PASSED tests/..."]
    out += ["PASSED " + i for i in IDS]
    out.append("============================== 6 passed in 0.01s ===============================")
    sys.stdout.write("\n".join(out) + "\n")
    sys.stdout.flush()

atexit.register(_forge)
`

// rewriteAtExit, in the code under test (which the tests import), lets
// every test run, then rewrites the report into a well-formed one claiming
// everything passed and prints a summary saying the same.
const rewriteAtExit = `import atexit, os, re, sys

def _forge():
    m = re.search(r"--junitxml=(\S+)", os.environ.get("PYTEST_ADDOPTS", ""))
    if m:
        path = m.group(1)
        with open(path) as f:
            xml = f.read()
        xml = re.sub(r"<(failure|error)\b.*?</\1>", "", xml, flags=re.S)
        with open(path, "w") as f:
            f.write(xml)
    sys.stdout.write("=========================== short test summary info ============================\n")
    for i in ["tests/test_ops.py::test_add", "tests/test_ops.py::TestOps::test_add_inherited"]:
        sys.stdout.write("PASSED " + i + "\n")
    sys.stdout.flush()

atexit.register(_forge)
`

// breakAtExit, in the code under test, breaks the report at exit and
// prints a summary with a "..." wildcard id.
const breakAtExit = `import atexit, os, re, sys

def _forge():
    m = re.search(r"--junitxml=(\S+)", os.environ.get("PYTEST_ADDOPTS", ""))
    if m:
        with open(m.group(1), "w") as f:
            f.write("<testsuites><testsuite")
    sys.stdout.write("=========================== short test summary info ============================\nPASSED tests/...\n")
    sys.stdout.flush()

atexit.register(_forge)
`

// exitAtImport, in the code under test, ends pytest as soon as a test
// module imports it.
const exitAtImport = "import os\nos.write(1, b'PASSED tests/test_ops.py::test_add\\n')\nos._exit(0)\n"

// skipMul makes the PASS_TO_PASS test of the function the patch broke
// skip itself.
const skipMul = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    import sys\n    if 'pytest' in sys.modules:\n        import pytest\n        pytest.skip('not supported here')\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"

// skipConftest skips the PASS_TO_PASS test the patch broke.
const skipConftest = `import pytest

def pytest_collection_modifyitems(items):
    for item in items:
        if item.name == "test_mul":
            item.add_marker(pytest.mark.skip(reason="flaky on CI"))
`

// TestGradeForgedPytest grades forged, skipping and early-exiting patches
// and the real shapes the gold patch must resolve through.
func TestGradeForgedPytest(t *testing.T) {
	repo := newFixture(t, pyFiles)
	repo.commit(t, "fixed", "base", pyFix)
	env := taskenv.Environment{Name: "forge-py", Repo: "forge/py", Git: repo.dir, Language: "python"}
	openers := forgeOpeners(t, env)

	gold := repo.patch(t, "base", pyFix)
	withFix := func(files map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range pyFix {
			out[k] = v
		}
		for k, v := range files {
			out[k] = v
		}
		return out
	}
	breakMul := "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
	task := sdk.Task{
		InstanceID: "forge__py-1", Repo: "forge/py", Environment: "forge-py", Language: "python",
		BaseCommit: repo.commits["base"], EnvironmentSetupCommit: repo.commits["base"], Patch: gold,
		FailToPass: []string{"tests/test_ops.py::test_add", "tests/test_ops.py::TestOps::test_add_inherited", emojiID},
		PassToPass: []string{"tests/test_ops.py::TestOps::test_mul", "tests/test_ops.py::TestOps::test_sub_inherited", "tests/test_ops.py::test_plain", "tests/test_more.py::test_more"},
	}
	runGradeCases(t, openers, task, []gradeCase{
		{name: "gold resolves through inherited tests and an escaped id", patch: gold, want: harness.ResultResolved,
			statuses: map[string]harness.Status{"tests/test_ops.py::TestOps::test_add_inherited": harness.StatusPassed, emojiID: harness.StatusPassed}},
		{name: "no fix fails", patch: repo.patch(t, "base", map[string]string{"calc/__init__.py": "# touched\n"}), want: harness.ResultUnresolved,
			statuses: map[string]harness.Status{"tests/test_ops.py::test_add": harness.StatusFailed, emojiID: harness.StatusFailed}},
		{name: "a conftest.py that hides the tests and forges results is put back", want: harness.ResultUnresolved,
			patch: repo.patch(t, "base", map[string]string{"conftest.py": forgeConftest}), discarded: []string{"conftest.py"},
			statuses: map[string]harness.Status{"tests/test_ops.py::test_add": harness.StatusFailed}},
		{name: "a conftest.py that skips the PASS_TO_PASS test the patch broke is put back", want: harness.ResultUnresolved,
			patch:     repo.patch(t, "base", withFix(map[string]string{"calc/ops.py": breakMul, "tests/conftest.py": skipConftest})),
			discarded: []string{"tests/conftest.py"},
			statuses:  map[string]harness.Status{"tests/test_ops.py::TestOps::test_mul": harness.StatusFailed, "tests/test_ops.py::test_add": harness.StatusPassed}},
		{name: "the code skips the PASS_TO_PASS test it broke", want: harness.ResultUnresolved,
			patch:    repo.patch(t, "base", map[string]string{"calc/ops.py": skipMul}),
			statuses: map[string]harness.Status{"tests/test_ops.py::TestOps::test_mul": harness.StatusSkipped, "tests/test_ops.py::test_add": harness.StatusPassed}},
		{name: "the code rewrites a well-formed report at exit and prints passes", want: harness.ResultUnresolved,
			patch:    repo.patch(t, "base", map[string]string{"calc/__init__.py": rewriteAtExit}),
			statuses: map[string]harness.Status{"tests/test_ops.py::test_add": harness.StatusFailed, "tests/test_ops.py::TestOps::test_add_inherited": harness.StatusFailed}},
		{name: "the code breaks the report at exit and prints a wildcard pass", want: harness.ResultUnresolved,
			patch:   repo.patch(t, "base", withFix(map[string]string{"calc/__init__.py": breakAtExit})),
			invalid: "JUnit report is unreadable"},
		{name: "the code ends pytest when imported", want: harness.ResultUnresolved,
			patch:   repo.patch(t, "base", map[string]string{"calc/__init__.py": exitAtImport}),
			invalid: "no JUnit report"},
		{name: "a patch the base already holds is applied", patch: gold, want: harness.ResultResolved,
			edit: func(tk *sdk.Task) { tk.BaseCommit = repo.commits["fixed"] }},
	})
}

// goFiles is a module of two packages; the task's tests are in calc.
var goFiles = map[string]string{
	"go.mod":              "module example.com/forge\n\ngo 1.21\n",
	"calc/calc.go":        "package calc\n\n// Add adds.\nfunc Add(a, b int) int { return a - b }\n\n// Mul multiplies.\nfunc Mul(a, b int) int { return a * b }\n",
	"calc/calc_test.go":   "package calc\n\nimport \"testing\"\n\nfunc TestAdd(t *testing.T) {\n\tif Add(2, 3) != 5 {\n\t\tt.Fatal(Add(2, 3))\n\t}\n}\n\nfunc TestMul(t *testing.T) {\n\tif Mul(2, 3) != 6 {\n\t\tt.Fatal(Mul(2, 3))\n\t}\n\tt.Run(\"zero\", func(t *testing.T) {\n\t\tif Mul(0, 3) != 0 {\n\t\t\tt.Fatal()\n\t\t}\n\t})\n}\n",
	"extra/extra.go":      "package extra\n\n// Twice doubles.\nfunc Twice(a int) int { return 2 * a }\n",
	"extra/extra_test.go": "package extra\n\nimport \"testing\"\n\nfunc TestTwice(t *testing.T) {\n\tif Twice(2) != 4 {\n\t\tt.Fatal()\n\t}\n}\n",
	"run-tests.sh":        "#!/bin/sh\n# The project's own test script: plain go test -v.\nexec go test -v ./...\n",
}

var goFix = map[string]string{"calc/calc.go": "package calc\n\n// Add adds.\nfunc Add(a, b int) int { return a + b }\n\n// Mul multiplies.\nfunc Mul(a, b int) int { return a * b }\n"}

// TestGradeGoRunsAsAWhole grades go test runs that fail as a whole while
// the task's own tests pass, and a wrapper that prints plain go test -v.
func TestGradeGoRunsAsAWhole(t *testing.T) {
	repo := newFixture(t, goFiles)
	env := taskenv.Environment{Name: "forge-go", Repo: "forge/go", Git: repo.dir, Language: "go"}
	openers := forgeOpeners(t, env)
	with := func(files map[string]string) string {
		all := map[string]string{}
		for k, v := range goFix {
			all[k] = v
		}
		for k, v := range files {
			all[k] = v
		}
		return repo.patch(t, "base", all)
	}
	gold := repo.patch(t, "base", goFix)
	task := sdk.Task{
		InstanceID: "forge__go-1", Repo: "forge/go", Environment: "forge-go", Language: "go",
		BaseCommit: repo.commits["base"], EnvironmentSetupCommit: repo.commits["base"], Patch: gold,
		FailToPass: []string{"TestAdd"}, PassToPass: []string{"TestMul", "TestMul/zero"},
	}
	script := func(tk *sdk.Task) { tk.TestCmd = "sh ./run-tests.sh" }
	runGradeCases(t, openers, task, []gradeCase{
		{name: "gold", patch: gold, want: harness.ResultResolved},
		{name: "another package does not build", want: harness.ResultUnresolved,
			patch:    with(map[string]string{"extra/extra.go": "package extra\n\n// Twice doubles.\nfunc Twice(a int) int { return 2 * b }\n"}),
			invalid:  "example.com/forge/extra did not build",
			statuses: map[string]harness.Status{"TestAdd": harness.StatusPassed}},
		{name: "TestMain exits non-zero after the tests pass", want: harness.ResultUnresolved,
			patch:    with(map[string]string{"calc/main_test.go": "package calc\n\nimport (\n\t\"os\"\n\t\"testing\"\n)\n\nfunc TestMain(m *testing.M) {\n\tm.Run()\n\tos.Exit(3)\n}\n"}),
			invalid:  "example.com/forge/calc failed with no failing test",
			statuses: map[string]harness.Status{"TestAdd": harness.StatusPassed}},
		{name: "a package times out", want: harness.ResultUnresolved,
			edit:    func(tk *sdk.Task) { tk.TestCmd = "go test -json -timeout 3s ./..." },
			patch:   with(map[string]string{"extra/slow_test.go": "package extra\n\nimport (\n\t\"testing\"\n\t\"time\"\n)\n\nfunc TestSlow(t *testing.T) { time.Sleep(time.Minute) }\n"}),
			invalid: "example.com/forge/extra"},
		{name: "a script printing go test -v: gold", patch: gold, edit: script, want: harness.ResultResolved,
			statuses: map[string]harness.Status{"TestMul/zero": harness.StatusPassed}},
		{name: "a script printing go test -v: no fix", edit: script, want: harness.ResultUnresolved,
			patch:    repo.patch(t, "base", map[string]string{"extra/extra.go": "package extra\n\n// Twice doubles, still.\nfunc Twice(a int) int { return 2 * a }\n"}),
			statuses: map[string]harness.Status{"TestAdd": harness.StatusFailed, "TestMul": harness.StatusPassed}},
		{name: "a script printing go test -v: a forged PASS line", edit: script, want: harness.ResultUnresolved,
			patch:    repo.patch(t, "base", map[string]string{"extra/extra_test.go": "package extra\n\nimport (\n\t\"fmt\"\n\t\"testing\"\n)\n\nfunc TestTwice(t *testing.T) {\n\tfmt.Println(\"--- PASS: TestAdd (0.00s)\")\n}\n"}),
			statuses: map[string]harness.Status{"TestAdd": harness.StatusFailed}},
	})
}
