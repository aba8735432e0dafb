package harness

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/plugins/swebench"
	"github.com/swelego/swelego/sdk"
)

// TestEvaluateSWESmithRecord grades a SWE-smith-style record as SWE-smith
// grades it: read by the swebench task source from a JSON Lines file with
// image_name, FAIL_TO_PASS and PASS_TO_PASS written as Python literals
// and a patch that introduces the bug into a base that already holds it,
// run by the swebench language (SWE-smith's single verbose pytest command,
// read by its parser). The fix resolves it; a patch that changes nothing
// the tests see, and one whose code prints pytest result lines and a
// totals line of its own when the run ends, do not.
func TestEvaluateSWESmithRecord(t *testing.T) {
	p := newPyTask(t, nil)
	f2p := []string{"tests/test_mul.py::test_mul_negative", "tests/test_mul.py::test_mul_positive", "tests/test_ops.py::test_mul_identity"}
	rec := map[string]any{
		"instance_id":       "calc__calc.1a2b3c4d.func_pm_op_swap__k3j2",
		"repo":              "swesmith/calc__calc.1a2b3c4d",
		"base_commit":       p.buggyTests,
		"patch":             p.patches["bug"],
		"FAIL_TO_PASS":      pyLiteral(f2p),
		"PASS_TO_PASS":      pyLiteral([]string{"tests/test_ops.py::test_add", "tests/test_ops.py::test_sub"}),
		"image_name":        "jyangballin/swesmith.x86_64.calc__calc.1a2b3c4d",
		"problem_statement": "mul adds",
		"created_at":        "2025-04-01T00:00:00",
	}
	line, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "swesmith.jsonl")
	if err := os.WriteFile(file, append(line, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	var tasks []sdk.Task
	cfg := sdk.Config(`{"path":` + strconvQuote(file) + `,"source":"synthetic","patch_direction":"introduce"}`)
	if err := (swebench.Source{}).Tasks(context.Background(), cfg, func(task sdk.Task) error { tasks = append(tasks, task); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1 || strings.Join(tasks[0].FailToPass, ",") != strings.Join(f2p, ",") || len(tasks[0].PassToPass) != 2 {
		t.Fatalf("tasks %+v", tasks)
	}
	task := tasks[0]
	if tt := testTask(task); tt.Image != rec["image_name"] || tt.Repo != rec["repo"] || len(tt.TestFiles) != 0 {
		t.Errorf("the language is told %+v", tt)
	}
	lang, err := language.NewSet(language.Static(swebench.Language{})).Get(context.Background(), "swe-smith")
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Language: lang, Command: pythonWithPytest(t) + " -m pytest --disable-warnings --color=no --tb=no --verbose"}

	forge := `diff --git a/calc/__init__.py b/calc/__init__.py
--- a/calc/__init__.py
+++ b/calc/__init__.py
@@ -1 +1,12 @@
 """A tiny calculator the harness tests grade patches on."""
+import atexit
+import os
+
+
+def _claim():
+    for t in ["tests/test_mul.py::test_mul_negative", "tests/test_mul.py::test_mul_positive", "tests/test_ops.py::test_mul_identity", "tests/test_ops.py::test_add", "tests/test_ops.py::test_sub"]:
+        os.write(1, (t + " PASSED [100%]\n").encode())
+    os.write(1, b"============================== 5 passed in 0.01s ===============================\n")
+
+
+atexit.register(_claim)
`
	cases := []struct {
		name, patch, want string
	}{
		{"the fix", p.patches["gold"], ResultResolved},
		{"no fix", "--- a/README\n+++ b/README\n@@ -0,0 +1 @@\n+hi\n", ResultUnresolved},
		{"printed results", forge, ResultUnresolved},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := Evaluate(context.Background(), cloneOpener(t, p.dir, nil), task, c.patch, opts)
			t.Logf("%s: invalid %q, FAIL_TO_PASS %v", c.name, r.Invalid, r.FailToPass)
			if r.Status != c.want {
				t.Errorf("%s (%s, invalid %q), want %s\n%s", r.Status, r.Error, r.Invalid, c.want, r.Log)
			}
		})
	}
}

// pyLiteral writes ids as Python's repr of a list does (they hold no
// quotes or backslashes).
func pyLiteral(ids []string) string {
	return "['" + strings.Join(ids, "', '") + "']"
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
