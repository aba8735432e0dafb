package python

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// ParseTestRun implements sdk.Language for a run of TestCommand: the
// statuses of the -rA summaries (ParsePytestSummary) reconciled with the
// JUnit report (ReconcileJUnit), so that a pass must be in both. A run
// whose report is missing, broken or not xunit1 is Invalid and keeps the
// summary's failures only. As SWE-bench v5's get_logs_eval does, a run
// that exited non-zero while no test is FAILED or ERROR is Invalid too:
// the log does not describe the run that happened. Failures is pytest's
// FAILURES (else ERRORS) section to the end of the output.
func (Language) ParseTestRun(_ context.Context, _ sdk.Config, run sdk.TestRun) (sdk.TestReport, error) {
	summary := ParsePytestSummary(run.Output)
	rep := sdk.TestReport{Failures: failures(run.Output)}
	statuses, err := ReconcileJUnit([]byte(junitOf(run.Files)), summary)
	if err != nil {
		// The channels disagree: no pass is confirmed, so none is shown.
		rep.Invalid = err.Error()
		statuses = map[string]sdk.TestStatus{}
		for id, st := range summary {
			if !passes(st) {
				statuses[id] = st
			}
		}
	} else {
		// Both channels agree; an exit status they do not explain makes
		// the run invalid but keeps what they observed, as the go plugin
		// and the host's own check do (the host grades every test of an
		// invalid run as failed).
		rep.Invalid = exitCodeInvalid(statuses, run.ExitCode)
	}
	rep.Statuses = statuses
	return rep, nil
}

// junitOf returns the JUnit report among the files a run left, "" when it
// is missing.
func junitOf(files map[string]string) string {
	for p, data := range files {
		if path.Base(p) == JUnitFile {
			return data
		}
	}
	return ""
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

// failures returns the output from pytest's FAILURES section header (or,
// when there is none, its ERRORS header) to the end: tracebacks,
// assertion messages and the summary.
func failures(output string) string {
	for _, head := range []string{"= FAILURES =", "= ERRORS ="} {
		if i := strings.Index(output, head); i >= 0 {
			return output[strings.LastIndexByte(output[:i], '\n')+1:]
		}
	}
	return ""
}
