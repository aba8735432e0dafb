package python

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
)

// The forgery cases of core/harness's grading tests that are about
// pytest's result channels, run for real through TestCommand and
// ParseTestRun: hostile code in the package under test (which every test
// imports) forges the summary, rewrites or breaks the JUnit report, or
// ends pytest early; and the real shapes an honest run must still read
// (an inherited test reported under its mixin's file, an id pytest's
// report escapes).

// opsFiles is a small repository whose add is broken; calc/__init__.py is
// where a case puts its hostile code.
var opsFiles = map[string]string{
	"pytest.ini":        "[pytest]\ndisable_test_id_escaping_and_forfeit_all_rights_to_community_support = true\n",
	"calc/ops.py":       "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n",
	"tests/__init__.py": "",
	"tests/mixins.py":   "from calc import ops\n\n\nclass OpsMixin:\n    def test_add_inherited(self):\n        assert ops.add(2, 3) == 5\n\n    def test_mul_inherited(self):\n        assert ops.mul(2, 3) == 6\n",
	"tests/test_ops.py": "import pytest\n\nfrom calc import ops\nfrom tests.mixins import OpsMixin\n\n\nclass TestOps(OpsMixin):\n    def test_mul(self):\n        assert ops.mul(2, 3) == 6\n\n\ndef test_add():\n    assert ops.add(1, 1) == 2\n\n\n@pytest.mark.parametrize(\"n\", [4], ids=[\"smile \U0001F600\"])\ndef test_mul_param(n):\n    assert ops.mul(n, 1) == n\n",
}

const emojiID = "tests/test_ops.py::test_mul_param[smile \U0001F600]"

// rewriteAtExit strips the failures from the JUnit report at exit and
// prints a summary that passes the broken tests.
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

// breakAtExit breaks the report at exit and prints a summary with a "..."
// wildcard id.
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

// exitAtImport ends pytest as soon as a test module imports the package.
const exitAtImport = "import os\nos.write(1, b'PASSED tests/test_ops.py::test_add\\n')\nos._exit(0)\n"

func TestRealPytestForgery(t *testing.T) {
	base := pythonWithPytest(t) + " -m pytest --no-header -rA --tb=no -p no:cacheprovider"
	P, F := sdk.TestPassed, sdk.TestFailed
	honest := map[string]sdk.TestStatus{
		"tests/test_ops.py::test_add":                    F,
		"tests/test_ops.py::TestOps::test_add_inherited": F,
		"tests/test_ops.py::TestOps::test_mul_inherited": P,
		"tests/test_ops.py::TestOps::test_mul":           P,
		emojiID:                                          P,
	}
	cases := []struct {
		name, init string
		want       map[string]sdk.TestStatus
		invalid    string
	}{
		{"honest: an inherited test and an escaped id", "", honest, ""},
		{"the code rewrites the report at exit and prints passes", rewriteAtExit, honest, ""},
		{"the code breaks the report at exit and prints a wildcard pass", breakAtExit,
			map[string]sdk.TestStatus{"tests/test_ops.py::test_add": F, "tests/test_ops.py::TestOps::test_add_inherited": F}, "JUnit report is unreadable"},
		{"the code ends pytest when imported", exitAtImport, map[string]sdk.TestStatus{}, "no JUnit report"},
	}
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{"calc/__init__.py": c.init}
			for k, v := range opsFiles {
				files[k] = v
			}
			for name, src := range files {
				if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			tests := []string{"tests/test_ops.py::test_add", "tests/test_ops.py::TestOps::test_mul", emojiID}
			cmd, err := Language{}.TestCommand(ctx, nil, sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, Base: base, Tests: tests, ReportDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			run := runAsHost(t, dir, cmd, tests)
			rep, err := Language{}.ParseTestRun(ctx, nil, run)
			if err != nil {
				t.Fatal(err)
			}
			if c.init == "" && !strings.Contains(run.Files[cmd.ReadFiles[0]], `name="test_mul_param[smile #x1F600]"`) {
				t.Errorf("pytest did not escape the id in its report, which the case is about:\n%s", run.Files[cmd.ReadFiles[0]])
			}
			if !reflect.DeepEqual(rep.Statuses, c.want) {
				t.Errorf("statuses %v\nwant %v\n%s", rep.Statuses, c.want, run.Output)
			}
			switch {
			case c.invalid == "" && rep.Invalid != "":
				t.Errorf("invalid: %s\n%s", rep.Invalid, run.Output)
			case c.invalid != "" && !strings.Contains(rep.Invalid, c.invalid):
				t.Errorf("invalid %q, want it to say %q\n%s", rep.Invalid, c.invalid, run.Output)
			}
		})
	}
}
