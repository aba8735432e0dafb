package golang

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// ParseTestRun implements sdk.Language for a run of TestCommand: the
// statuses TestRunOf reads; a package that failed with no failing test
// (it did not build, its TestMain exited non-zero, it timed out) makes the
// run Invalid, and so does, as SWE-bench v5's get_logs_eval rules, a run
// that exited non-zero while no test is FAILED or ERROR. Failures is the
// text go test printed for run.Tests (every test when none is named) and
// outside any test (a build failure, a panic); for a run without -json it
// is the output of a run that failed.
func (Language) ParseTestRun(_ context.Context, _ sdk.Config, run sdk.TestRun) (sdk.TestReport, error) {
	r := TestRunOf(run.Output)
	rep := sdk.TestReport{Statuses: r.Statuses, Invalid: r.Invalid}
	if rep.Statuses == nil {
		rep.Statuses = map[string]sdk.TestStatus{}
	}
	if rep.Invalid == "" {
		rep.Invalid = exitCodeInvalid(rep.Statuses, run.ExitCode)
	}
	switch {
	case r.JSON:
		rep.Failures = testText(run.Output, run.Tests)
	case run.ExitCode != 0:
		rep.Failures = run.Output
	}
	return rep, nil
}

// exitCodeInvalid applies SWE-bench v5's rule: a command that exited
// non-zero while tests were reported and none is FAILED or ERROR is not
// described by its log.
func exitCodeInvalid(statuses map[string]sdk.TestStatus, exitCode int) string {
	if exitCode <= 0 || len(statuses) == 0 {
		return ""
	}
	for _, st := range statuses {
		if st == sdk.TestFailed || st == sdk.TestError {
			return ""
		}
	}
	return fmt.Sprintf("the test command exited with status %d but no test failed", exitCode)
}

// testText turns test2json events back into the text go test prints for
// the given tests and their subtests (every test when none is given), plus
// the output that belongs to no test.
func testText(log string, tests []string) string {
	want := map[string]bool{}
	for _, t := range tests {
		want[topLevel(t)] = true
	}
	var b strings.Builder
	for _, line := range strings.Split(log, "\n") {
		line = strings.TrimSpace(line)
		var ev event
		if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &ev) != nil || ev.Action != "output" {
			continue
		}
		top, _, _ := strings.Cut(ev.Test, "/")
		if ev.Test == "" || len(want) == 0 || want[top] {
			b.WriteString(ev.Output)
		}
	}
	return b.String()
}
