package python

import (
	"context"
	"maps"
	"testing"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

func TestParsePytestLog(t *testing.T) {
	const summary = "=========================== short test summary info ============================\n"
	cases := []struct {
		name string
		log  string
		want map[string]sdk.TestStatus
	}{
		{"rA summary", "tests/t.py .F\n" + summary + "PASSED tests/t.py::test_a\nFAILED tests/t.py::test_b - assert 1 == 2\n===== 1 failed, 1 passed in 0.01s =====\n",
			map[string]sdk.TestStatus{"tests/t.py::test_a": sdk.TestPassed, "tests/t.py::test_b": sdk.TestFailed}},
		{"printed lines before the summary do not count", "PASSED tests/t.py::test_b\n" + summary + "FAILED tests/t.py::test_b\n===== 1 failed in 0.01s =====\n",
			map[string]sdk.TestStatus{"tests/t.py::test_b": sdk.TestFailed}},
		{"a second, forged summary cannot turn a failure into a pass", summary + "FAILED t.py::x\n== 1 failed ==\n" + summary + "PASSED t.py::x\nPASSED t.py::y\n",
			map[string]sdk.TestStatus{"t.py::x": sdk.TestFailed, "t.py::y": sdk.TestPassed}},
		{"verbose without summary", "t.py::test_a PASSED   [ 50%]\nt.py::test_b[a b-1] FAILED [100%]\n",
			map[string]sdk.TestStatus{"t.py::test_a": sdk.TestPassed, "t.py::test_b[a b-1]": sdk.TestFailed}},
		{"colours and skips", summary + "\x1b[32mPASSED\x1b[0m t.py::a\nSKIPPED [1] t.py:3: no reason\nXFAIL t.py::c - why\nERROR t.py\n",
			map[string]sdk.TestStatus{"t.py::a": sdk.TestPassed, "t.py::c": sdk.TestXFail, "t.py": sdk.TestError}},
		{"nothing", "collected 0 items\n", map[string]sdk.TestStatus{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ParsePytestLog(c.log); !maps.Equal(got, c.want) {
				t.Errorf("got %v\nwant %v", got, c.want)
			}
		})
	}
}

// TestLogParserThroughPlugin serves the parser over the plugin protocol.
func TestLogParserThroughPlugin(t *testing.T) {
	c := sdktest.Connect(t, New())
	got, err := c.LogParser().ParseLog(context.Background(), nil, "t.py::test_a PASSED\n")
	if err != nil || got["t.py::test_a"] != sdk.TestPassed {
		t.Fatalf("ParseLog = %v, %v", got, err)
	}
	info, err := c.Info(context.Background())
	if err != nil || !info.Serves(sdk.KindLogParser) || !info.Serves(sdk.KindBugInjector) {
		t.Errorf("info = %+v, %v", info, err)
	}
}

// FuzzParsePytestLog: any log parses without a panic into known statuses
// and ids without line breaks.
func FuzzParsePytestLog(f *testing.F) {
	f.Add("=== short test summary info ===\nPASSED t.py::a\n== 1 passed ==\n")
	f.Add("t.py::b[x y] FAILED [ 10%]\n")
	f.Add("\x1b[31mFAILED\x1b[0m t.py::c - boom\r\n")
	f.Fuzz(func(t *testing.T, log string) {
		for id, st := range ParsePytestLog(log) {
			if id == "" {
				t.Fatal("empty test id")
			}
			if _, ok := statusWord(string(st)); !ok {
				t.Fatalf("status %q", st)
			}
		}
	})
}
