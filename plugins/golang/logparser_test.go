package golang

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

func TestParseTestJSON(t *testing.T) {
	cases := []struct {
		name string
		log  string
		want map[string]sdk.TestStatus
	}{
		{"pass fail skip",
			`{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"pass","Package":"p","Test":"TestA"}
{"Action":"run","Package":"p","Test":"TestB"}
{"Action":"output","Package":"p","Test":"TestB","Output":"--- PASS: TestC\n"}
{"Action":"fail","Package":"p","Test":"TestB"}
{"Action":"skip","Package":"p","Test":"TestD"}
`, map[string]sdk.TestStatus{"TestA": sdk.TestPassed, "TestB": sdk.TestFailed, "TestD": sdk.TestSkipped}},
		{"subtests", `{"Action":"run","Package":"p","Test":"TestA/x"}
{"Action":"pass","Package":"p","Test":"TestA/x"}
{"Action":"pass","Package":"p","Test":"TestA"}
`, map[string]sdk.TestStatus{"TestA/x": sdk.TestPassed, "TestA": sdk.TestPassed}},
		{"a crash fails what was running", `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Output":"panic: boom\n"}
{"Action":"fail","Package":"p"}
`, map[string]sdk.TestStatus{"TestA": sdk.TestFailed}},
		{"still running at the end is missing", `{"Action":"run","Package":"p","Test":"TestA"}
`, map[string]sdk.TestStatus{}},
		{"a failure in any package wins", `{"Action":"fail","Package":"p","Test":"TestA"}
{"Action":"pass","Package":"q","Test":"TestA"}
`, map[string]sdk.TestStatus{"TestA": sdk.TestFailed}},
		{"printed lines do not count", "--- PASS: TestA (0.00s)\nok  \tp\t0.1s\n{not json\n", map[string]sdk.TestStatus{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ParseTestJSON(c.log); !maps.Equal(got, c.want) {
				t.Errorf("got %v\nwant %v", got, c.want)
			}
		})
	}
}

// TestLogParserThroughPlugin serves the parser over the plugin protocol.
func TestLogParserThroughPlugin(t *testing.T) {
	c := sdktest.Connect(t, New())
	got, err := c.LogParser().ParseLog(context.Background(), nil, `{"Action":"pass","Package":"p","Test":"TestA"}`)
	if err != nil || got["TestA"] != sdk.TestPassed {
		t.Fatalf("ParseLog = %v, %v", got, err)
	}
	info, err := c.Info(context.Background())
	if err != nil || !info.Serves(sdk.KindLogParser) || !info.Serves(sdk.KindBugInjector) {
		t.Errorf("info = %+v, %v", info, err)
	}
}

// FuzzParseTestJSON: any log parses without a panic into known statuses.
func FuzzParseTestJSON(f *testing.F) {
	f.Add(`{"Action":"run","Package":"p","Test":"TestA"}` + "\n" + `{"Action":"fail","Package":"p"}`)
	f.Add(`{"Action":"pass","Test":"T"}`)
	f.Add("not json\n{")
	f.Fuzz(func(t *testing.T, log string) {
		for _, st := range ParseTestJSON(log) {
			switch st {
			case sdk.TestPassed, sdk.TestFailed, sdk.TestSkipped:
			default:
				t.Fatalf("status %q", st)
			}
		}
	})
}

// FuzzParseTestRun: any output parses without a panic into a report that
// keeps the kind's contract, and a test passes only with a pass event of
// its own (or, in plain text, a "--- PASS" line of its own).
func FuzzParseTestRun(f *testing.F) {
	for _, name := range []string{"sample.json", "whole.json", "whole-v.txt"} {
		data, err := os.ReadFile(filepath.Join("testdata", "gotest", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data), 1)
	}
	f.Add("=== RUN   TestA\n--- PASS: TestA (0.00s)\nok  \tp\t0.1s\n", 0)
	f.Fuzz(func(t *testing.T, output string, exit int) {
		rep, err := Language{}.ParseTestRun(context.Background(), nil, sdk.TestRun{Output: output, ExitCode: exit})
		if err != nil {
			t.Fatal(err)
		}
		if err := sdk.CheckTestReport(rep); err != nil {
			t.Fatal(err)
		}
		passed := map[string]bool{}
		for _, ev := range events(output) {
			if ev.Action == "pass" {
				passed[ev.Test] = true
			}
		}
		json := TestRunOf(output).JSON
		var text strings.Builder
		for _, l := range strings.Split(output, "\n") {
			text.WriteString(strings.TrimSpace(plainLine(l)) + "\n")
		}
		for id, st := range rep.Statuses {
			if st != sdk.TestPassed {
				continue
			}
			if json && !passed[id] || !json && !strings.Contains(text.String(), "--- PASS: "+id+" (") {
				t.Fatalf("%s passed without a pass of its own", id)
			}
		}
	})
}
