package verifiers

import (
	"math"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
)

// FuzzFindJudgement splits the input into tokens at '|' and gives each
// token the next tokens as alternatives: whatever the tokens, the finder
// does not panic, the judgement token holds the first non-space character
// after the last tag, and a score is a probability.
func FuzzFindJudgement(f *testing.F) {
	f.Add("<judgement>|YES|</judgement>")
	f.Add("<|judg|ement|>YES|>NO")
	f.Add("ok <judgment>| |\n|Yes|No")
	f.Add("<judgement>")
	f.Add("<JUDGEMENT>nO</judgement>|<judgement>|é|YES")
	f.Fuzz(func(t *testing.T, s string) {
		parts := strings.Split(s, "|")
		tokens := make([]sdk.TokenLogprob, len(parts))
		for i, p := range parts {
			tokens[i] = sdk.TokenLogprob{Token: p, Logprob: -float64(i % 7)}
			for j := i; j < len(parts) && j < i+4; j++ {
				tokens[i].TopLogprobs = append(tokens[i].TopLogprobs, sdk.TokenLogprob{Token: parts[j], Logprob: -float64(j%5) - 0.5})
			}
		}
		j, err := FindJudgement(tokens)
		if err != nil {
			return
		}
		if j.Index < 0 || j.Index >= len(tokens) || tokens[j.Index].Token != j.Chosen {
			t.Fatalf("judgement token %d of %d", j.Index, len(tokens))
		}
		p, _, err := j.PYes()
		if err == nil && (math.IsNaN(p) || p < 0 || p > 1) {
			t.Fatalf("score %g", p)
		}
	})
}

// FuzzAddedFiles reads any text as a patch: no panic, and every path it
// returns stays inside the repository.
func FuzzAddedFiles(f *testing.F) {
	f.Add("diff --git a/x_test.go b/x_test.go\nnew file mode 100644\n--- /dev/null\n+++ b/x_test.go\n@@ -0,0 +1 @@\n+func TestX(t *testing.T) {}\n")
	f.Add("--- /dev/null\n+++ \"b/a b.py\"\t2024-01-01\n+x\n--- /dev/null\n+++ b/../../etc/passwd\n+y\n")
	f.Fuzz(func(t *testing.T, patch string) {
		for _, a := range AddedFiles(patch) {
			if a.Path == "" || strings.HasPrefix(a.Path, "/") || a.Path == ".." || strings.HasPrefix(a.Path, "../") {
				t.Fatalf("path %q", a.Path)
			}
			goTestNames(a.Lines)
		}
	})
}

// FuzzParseReports reads any bytes as a JUnit report and as go test -json
// output: no panic, and every status is one of SWE-bench's.
func FuzzParseReports(f *testing.F) {
	f.Add([]byte(`<testsuites><testsuite><testcase classname="t.test_a" name="test_x"><skipped type="pytest.xfail"/></testcase></testsuite></testsuites>`))
	f.Add([]byte("{\"Action\":\"pass\",\"Package\":\"p\",\"Test\":\"TestA\"}\nbuild failed\n"))
	valid := map[sdk.TestStatus]bool{sdk.TestPassed: true, sdk.TestFailed: true, sdk.TestError: true, sdk.TestSkipped: true, sdk.TestXFail: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		junit, _ := ParseJUnit(data)
		for _, statuses := range []map[string]sdk.TestStatus{junit, ParseGoTestJSON(data)} {
			for id, st := range statuses {
				if !valid[st] {
					t.Fatalf("status %q of %q", st, id)
				}
			}
		}
	})
}
