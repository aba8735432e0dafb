package harness

import (
	"time"
)

// Result statuses of Evaluate.
const (
	// ResultResolved: every FAIL_TO_PASS and every PASS_TO_PASS test passes
	// (SWE-bench's RESOLVED_FULL).
	ResultResolved = "resolved"
	// ResultPartial: some but not all FAIL_TO_PASS tests pass and every
	// PASS_TO_PASS test passes (RESOLVED_PARTIAL; not resolved).
	ResultPartial = "partial"
	// ResultUnresolved: anything else that was graded (RESOLVED_NO).
	ResultUnresolved = "unresolved"
	// ResultError: the patch did not apply, the tests timed out or produced
	// no results, or the sandbox failed; nothing was graded.
	ResultError = "error"
	// ResultEmptyPatch: the prediction had no patch; nothing was run.
	ResultEmptyPatch = "empty_patch"
)

// SWE-bench's resolution values (ResolvedStatus).
const (
	ResolvedFull    = "RESOLVED_FULL"
	ResolvedPartial = "RESOLVED_PARTIAL"
	ResolvedNo      = "RESOLVED_NO"
)

// Outcome lists the tests of one group that succeeded and failed, as in the
// tests_status of SWE-bench's report.json.
type Outcome struct {
	Success []string `json:"success"`
	Failure []string `json:"failure"`
}

// TestsStatus is SWE-bench's tests_status: the FAIL_TO_PASS and
// PASS_TO_PASS outcomes of one graded run.
type TestsStatus struct {
	FailToPass Outcome `json:"FAIL_TO_PASS"`
	PassToPass Outcome `json:"PASS_TO_PASS"`
}

// Result is the graded outcome of one prediction.
type Result struct {
	InstanceID string `json:"instance_id"`
	// Status is one of ResultResolved, ResultPartial, ResultUnresolved,
	// ResultError, ResultEmptyPatch.
	Status string `json:"status"`
	// Resolution is SWE-bench's RESOLVED_FULL / RESOLVED_PARTIAL /
	// RESOLVED_NO; empty when nothing was graded.
	Resolution   string `json:"resolution,omitempty"`
	PatchApplied bool   `json:"patch_successfully_applied"`
	// FailToPass and PassToPass give the observed status of every expected
	// test (StatusMissing when the run did not report it).
	FailToPass  map[string]Status `json:"FAIL_TO_PASS,omitempty"`
	PassToPass  map[string]Status `json:"PASS_TO_PASS,omitempty"`
	TestsStatus *TestsStatus      `json:"tests_status,omitempty"`
	// ExitCode is the test command's exit status (-1 when it did not run).
	ExitCode int    `json:"exit_code"`
	TimedOut bool   `json:"timed_out,omitempty"`
	Error    string `json:"error,omitempty"`
	// Infra marks an error result that the infrastructure caused (the
	// sandbox or its image could not be opened, a command could not be
	// run, the context was cancelled): it says nothing about the
	// prediction and must not be stored as its final grade.
	Infra    bool          `json:"infra_error,omitempty"`
	Duration time.Duration `json:"duration,omitempty"`
	// Log is the test run's output, cut to Options.MaxLogBytes in the middle.
	Log string `json:"log,omitempty"`
}

// Resolved reports whether r counts as resolved.
func (r Result) Resolved() bool { return r.Status == ResultResolved }

// Passed reports whether a FAIL_TO_PASS test with status st passes under
// SWE-bench's test_passed: PASSED or XFAIL. Missing, FAILED, ERROR,
// SKIPPED and XPASS (missing for SWE-bench) fail.
func Passed(st Status) bool { return st == StatusPassed || st == StatusXFail }

// Maintained reports whether a PASS_TO_PASS test with status st passes
// under SWE-bench's test_maintained: like Passed, and a SKIPPED test also
// counts (SWE-bench harness grading.py, EvalType.PASS_AND_FAIL).
func Maintained(st Status) bool { return Passed(st) || st == StatusSkipped }

// Grade grades a run's statuses against the expected tests as SWE-bench's
// get_eval_tests_report and get_resolution_status do. A group with no tests
// counts as fully passing (compute_fail_to_pass returns 1 for it), so a task
// without FAIL_TO_PASS tests is resolved when its PASS_TO_PASS tests pass.
// Test ids missing from parsed are matched with MatchTruncated first.
// It returns the SWE-bench resolution and the per-group outcome.
func Grade(failToPass, passToPass []string, parsed map[string]Status) (string, TestsStatus) {
	all := make([]string, 0, len(failToPass)+len(passToPass))
	all = append(append(all, failToPass...), passToPass...)
	sm := MatchTruncated(all, parsed)
	ts := TestsStatus{
		FailToPass: Outcome{Success: []string{}, Failure: []string{}},
		PassToPass: Outcome{Success: []string{}, Failure: []string{}},
	}
	for _, id := range failToPass {
		if st, ok := sm[id]; ok && Passed(st) {
			ts.FailToPass.Success = append(ts.FailToPass.Success, id)
		} else {
			ts.FailToPass.Failure = append(ts.FailToPass.Failure, id)
		}
	}
	for _, id := range passToPass {
		if st, ok := sm[id]; ok && Maintained(st) {
			ts.PassToPass.Success = append(ts.PassToPass.Success, id)
		} else {
			ts.PassToPass.Failure = append(ts.PassToPass.Failure, id)
		}
	}
	return resolution(ts), ts
}

func resolution(ts TestsStatus) string {
	ratio := func(o Outcome) float64 {
		n := len(o.Success) + len(o.Failure)
		if n == 0 {
			return 1
		}
		return float64(len(o.Success)) / float64(n)
	}
	f2p, p2p := ratio(ts.FailToPass), ratio(ts.PassToPass)
	switch {
	case f2p == 1 && p2p == 1:
		return ResolvedFull
	case f2p > 0 && f2p < 1 && p2p == 1:
		return ResolvedPartial
	}
	return ResolvedNo
}

// StatusOf maps a SWE-bench resolution to a Result status.
func StatusOf(resolution string) string {
	switch resolution {
	case ResolvedFull:
		return ResultResolved
	case ResolvedPartial:
		return ResultPartial
	}
	return ResultUnresolved
}

// observed returns the status of each id in sm, StatusMissing when absent.
func observed(ids []string, sm map[string]Status) map[string]Status {
	out := make(map[string]Status, len(ids))
	for _, id := range ids {
		if st, ok := sm[id]; ok {
			out[id] = st
		} else {
			out[id] = StatusMissing
		}
	}
	return out
}
