package main

import (
	"testing"

	"github.com/swelego/swelego/core/harness"
)

// skipsItsBreakage fixes textkit__textkit-1 and makes word_count skip the
// test that calls it (test_count_strips_punctuation, a PASS_TO_PASS test)
// whenever pytest is loaded: a patch skipping its way past PASS_TO_PASS.
const skipsItsBreakage = `diff --git a/textkit/count.py b/textkit/count.py
index 6fdc360..0229d7c 100644
--- a/textkit/count.py
+++ b/textkit/count.py
@@ -1,5 +1,11 @@
 def word_count(text):
     """Count words, case-insensitively: {"the": 2, "cat": 1}."""
+    import sys
+
+    if "pytest" in sys.modules:
+        import pytest
+
+        pytest.skip("counting is not supported here")
     counts = {}
     for word in text.split():
         word = word.strip(".,;:!?\"'()")
diff --git a/textkit/slug.py b/textkit/slug.py
index 33e2df9..0a62e16 100644
--- a/textkit/slug.py
+++ b/textkit/slug.py
@@ -6,4 +6,4 @@ def slugify(text, sep="-"):
     """Turn text into a lower-case URL slug: "Hello, World!" -> "hello-world"."""
     text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
     words = re.findall(r"[A-Za-z0-9]+", text)
-    return sep.join(words)
+    return sep.join(words).lower()
`

// TestEvalSkippedPassToPass: by default a skipped PASS_TO_PASS test is not
// maintained, so the patch does not resolve; --skipped-pass-to-pass
// maintained grades it as SWE-bench v5 does.
func TestEvalSkippedPassToPass(t *testing.T) {
	t.Parallel() // waits on sandboxes more than it computes
	requireDocker(t)
	if testing.Short() {
		t.Skip("builds environment images")
	}
	const id, p2p = "textkit__textkit-1", "tests/test_basic.py::test_count_strips_punctuation"
	preds := writePredictions(t, map[string]string{id: skipsItsBreakage}, id)
	for _, c := range []struct {
		rule string
		want string
	}{{"fail", harness.ResultUnresolved}, {"maintained", harness.ResultResolved}} {
		o := runEvalCLI(t, "bwrap", preds, "--skipped-pass-to-pass", c.rule)
		r := o.results[id]
		if r.Status != c.want || r.PassToPass[p2p] != harness.StatusSkipped {
			t.Errorf("%s: %s, %s observed %q; want %s, SKIPPED\n%s", c.rule, r.Status, p2p, r.PassToPass[p2p], c.want, r.Log)
		}
		for f2p, st := range r.FailToPass {
			if st != harness.StatusPassed {
				t.Errorf("%s: FAIL_TO_PASS %s is %s", c.rule, f2p, st)
			}
		}
	}
}
