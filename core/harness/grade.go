package harness

import (
	"strings"
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
	// Invalid says why the test run as a whole was not trusted (a missing
	// or broken runner report, a package that failed with no failing
	// test, a non-zero exit with no failing test): every expected
	// test then fails. FailToPass and PassToPass still show what the run
	// reported.
	Invalid string `json:"invalid_run,omitempty"`
	// ExitCode is the test command's exit status (-1 when it did not run).
	ExitCode int    `json:"exit_code"`
	TimedOut bool   `json:"timed_out,omitempty"`
	Error    string `json:"error,omitempty"`
	// Infra marks an error result that the infrastructure caused (the
	// sandbox or its image could not be opened, a command could not be
	// run, the context was cancelled): it says nothing about the
	// prediction and must not be stored as its final grade.
	Infra bool `json:"infra_error,omitempty"`
	// Discarded lists the files of the model patch that were put back as
	// the base has them before the tests ran (the language's harness
	// files: see Evaluate).
	Discarded []string      `json:"discarded_files,omitempty"`
	Duration  time.Duration `json:"duration,omitempty"`
	// Log is the test run's output, cut to Options.MaxLogBytes in the middle.
	Log string `json:"log,omitempty"`
}

// Resolved reports whether r counts as resolved.
func (r Result) Resolved() bool { return r.Status == ResultResolved }

// Passed reports whether a FAIL_TO_PASS test with status st passes under
// SWE-bench's test_passed: PASSED or XFAIL. Missing, FAILED, ERROR,
// SKIPPED and XPASS (missing for SWE-bench) fail.
func Passed(st Status) bool { return st == StatusPassed || st == StatusXFail }

// Rules are the grading rules where swelego departs from SWE-bench v5 on
// purpose, each with a switch back to SWE-bench's behaviour. The zero
// value is swelego's default.
type Rules struct {
	// SkippedMaintains counts a skipped PASS_TO_PASS test as maintained,
	// as SWE-bench v5's test_maintained does. Off by default: a
	// PASS_TO_PASS test passed on both trees when the task was validated,
	// so a skip now means something (often the patch: a harness file
	// that skips, an import guard) stopped it from running, and a patch must
	// not be able to skip its way to resolved.
	SkippedMaintains bool
}

// Maintained reports whether a PASS_TO_PASS test with status st is
// maintained: like Passed, and, with SkippedMaintains, a SKIPPED test too.
func (r Rules) Maintained(st Status) bool {
	return Passed(st) || r.SkippedMaintains && st == StatusSkipped
}

// Grade grades a run's statuses under the default Rules.
func Grade(failToPass, passToPass []string, parsed map[string]Status) (string, TestsStatus) {
	return Rules{}.Grade(failToPass, passToPass, parsed)
}

// Grade grades a run's statuses against the expected tests as SWE-bench's
// get_eval_tests_report and get_resolution_status do, under r. A group
// with no tests counts as fully passing (compute_fail_to_pass returns 1 for
// it), so a task without FAIL_TO_PASS tests is resolved when its
// PASS_TO_PASS tests pass (task loading refuses such tasks). An expected id
// missing from parsed is looked up with ResolveTruncated. It returns the
// SWE-bench resolution and the per-group outcome.
func (r Rules) Grade(failToPass, passToPass []string, parsed map[string]Status) (string, TestsStatus) {
	ts := TestsStatus{
		FailToPass: Outcome{Success: []string{}, Failure: []string{}},
		PassToPass: Outcome{Success: []string{}, Failure: []string{}},
	}
	for _, id := range failToPass {
		if st, ok := ResolveTruncated(id, parsed); ok && Passed(st) {
			ts.FailToPass.Success = append(ts.FailToPass.Success, id)
		} else {
			ts.FailToPass.Failure = append(ts.FailToPass.Failure, id)
		}
	}
	for _, id := range passToPass {
		if st, ok := ResolveTruncated(id, parsed); ok && r.Maintained(st) {
			ts.PassToPass.Success = append(ts.PassToPass.Success, id)
		} else {
			ts.PassToPass.Failure = append(ts.PassToPass.Failure, id)
		}
	}
	return resolution(ts), ts
}

// ResolveTruncated returns the status of the expected test id in parsed.
// An id that is not there is looked up as SWE-bench's _resolve_case does,
// and only then: when it has more "[" than "]" (SWE-bench Verified holds
// 676 parametrised ids cut in the middle of their parameters), the
// reported ids it is a prefix of stand for it, provided they agree on pass
// or fail (PASSED and XFAIL pass alike); the status of the first of them
// in sorted order is returned. Any other id must match exactly: there is
// no wildcard, so a test that did not run is never found.
func ResolveTruncated(id string, parsed map[string]Status) (Status, bool) {
	if st, ok := parsed[id]; ok {
		return st, true
	}
	if id == "" || strings.Count(id, "[") <= strings.Count(id, "]") {
		return "", false
	}
	var first string
	var pass, fail bool
	for got, st := range parsed {
		if !strings.HasPrefix(got, id) {
			continue
		}
		if Passed(st) {
			pass = true
		} else {
			fail = true
		}
		if first == "" || got < first {
			first = got
		}
	}
	if first == "" || pass && fail {
		return "", false
	}
	return parsed[first], true
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

// observed returns the status of each id in parsed (found as Grade finds
// it), StatusMissing when absent.
func observed(ids []string, parsed map[string]Status) map[string]Status {
	out := make(map[string]Status, len(ids))
	for _, id := range ids {
		if st, ok := ResolveTruncated(id, parsed); ok {
			out[id] = st
		} else {
			out[id] = StatusMissing
		}
	}
	return out
}
