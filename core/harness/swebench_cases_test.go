package harness

import (
	"reflect"
	"strings"
	"testing"
)

// The cases below replay SWE-bench v5's own grading and log-parser tests
// (swebench 5.0.2: tests/test_grading_*.py and tests/test_log_parsers_*.py)
// against this package. Each names the SWE-bench test it comes from, gives
// SWE-bench's expected outcome, and either agrees with it or says why
// swelego differs on purpose (differ != ""); then it checks swelego's own
// outcome (ours), so a difference is never an accident.

// sweGradeCase replays test_passed / test_failed / test_maintained.
type sweGradeCase struct {
	source string
	id     string
	sm     map[string]Status
	// SWE-bench's answers.
	passed, failed, maintained bool
	// differ says why swelego's answer differs; then ours* hold it.
	differ                                 string
	oursPassed, oursFailed, oursMaintained bool
}

// passedFailed answers SWE-bench's three questions the way Grade does.
func passedFailed(id string, sm map[string]Status, r Rules) (passed, failed, maintained bool) {
	st, ok := ResolveTruncated(id, sm)
	passed = ok && Passed(st)
	maintained = ok && r.Maintained(st)
	// Grade puts every expected test that does not pass in the failure
	// list: SWE-bench's test_failed is "missing, FAILED, ERROR or
	// SKIPPED", and for the statuses a parser reports that is !passed.
	failed = !passed
	return
}

func TestSWEBenchGradingCases(t *testing.T) {
	const (
		trunc   = "tests/test_grading_truncated_ids.py::"
		skipped = "tests/test_grading_skipped.py::"
	)
	P, F, S, X := StatusPassed, StatusFailed, StatusSkipped, StatusXFail
	long := "tests/test_text.py::test_callable_analyzer_error[file-AttributeError-'str'"
	cases := []sweGradeCase{
		{source: trunc + "test_exact_match_still_exact", id: "tests/test_a.py::test_x[case-1]",
			sm: map[string]Status{"tests/test_a.py::test_x[case-1]": P}, passed: true, maintained: true},
		{source: trunc + "test_missing_balanced_id_is_failed_no_fallback", id: "tests/test_a.py::test_x[case-1]",
			sm: map[string]Status{"tests/test_a.py::test_x[case-1-extended]": P}, failed: true},
		{source: trunc + "test_truncated_id_unique_prefix_match", id: "astropy/units/tests/test_format.py::test_ogip_grammar_fail[log(photon",
			sm: map[string]Status{"astropy/units/tests/test_format.py::test_ogip_grammar_fail[log(photon / m**2 s)]": P}, passed: true, maintained: true},
		{source: trunc + "test_truncated_id_no_match_is_failed", id: "tests/test_a.py::test_x[log(photon",
			sm: map[string]Status{"tests/test_b.py::test_y[other]": P}, failed: true},
		{source: trunc + "test_truncated_id_ambiguous_same_status_ok", id: "tests/test_a.py::test_x[args1-No",
			sm: map[string]Status{"tests/test_a.py::test_x[args1-None]": P, "tests/test_a.py::test_x[args1-No-value]": P}, passed: true, maintained: true},
		{source: trunc + "test_truncated_id_ambiguous_mixed_status_conservative", id: "tests/test_a.py::test_x[args1-No",
			sm: map[string]Status{"tests/test_a.py::test_x[args1-None]": P, "tests/test_a.py::test_x[args1-No-value]": F}, failed: true},
		{source: trunc + "test_truncated_failed_id_reports_failed", id: "tests/test_a.py::test_x[log(photon",
			sm: map[string]Status{"tests/test_a.py::test_x[log(photon / m**2 s)]": F}, failed: true},
		{source: trunc + "test_mixed_passed_and_xfail_matches_resolve", id: long,
			sm: map[string]Status{
				long + " object has no attribute 'read'-CountVectorizer]":   P,
				long + " object has no attribute 'read'-TfidfVectorizer]":   P,
				long + " object has no attribute 'read'-HashingVectorizer]": X,
			}, passed: true, maintained: true},
		{source: trunc + "test_surplus_closing_bracket_is_not_a_truncation", id: "handles foo] gracefully",
			sm: map[string]Status{"handles foo] gracefully and more": P}, failed: true},
		{source: skipped + "test_skipped_f2p_is_a_failure", id: "t", sm: map[string]Status{"t": S}, failed: true,
			// SWE-bench maintains a skipped test; see the next case.
			maintained: true, differ: "a skipped PASS_TO_PASS test is not maintained by default (Rules.SkippedMaintains restores SWE-bench's rule)",
			oursFailed: true},
		{source: skipped + "test_skipped_p2p_is_maintained", id: "t", sm: map[string]Status{"t": S}, failed: true, maintained: true,
			differ:     "a PASS_TO_PASS test passed on both trees at validation; a skip now is what a patch that breaks it and skips it looks like, so by default it is not maintained; Rules.SkippedMaintains gives SWE-bench's answer",
			oursFailed: true},
		{source: skipped + "test_skipped_p2p_is_maintained (PASSED)", id: "t", sm: map[string]Status{"t": P}, passed: true, maintained: true},
		{source: skipped + "test_skipped_p2p_is_maintained (FAILED)", id: "t", sm: map[string]Status{"t": F}, failed: true},
	}
	for _, c := range cases {
		t.Run(c.source, func(t *testing.T) {
			passed, failed, maintained := passedFailed(c.id, c.sm, Rules{})
			want := [3]bool{c.passed, c.failed, c.maintained}
			if c.differ != "" {
				want = [3]bool{c.oursPassed, c.oursFailed, c.oursMaintained}
				// The switch gives SWE-bench's answer back.
				p, f, m := passedFailed(c.id, c.sm, Rules{SkippedMaintains: true})
				if m != c.maintained || p != c.passed {
					t.Errorf("with SkippedMaintains: passed %v maintained %v, SWE-bench %v %v (failed %v)", p, m, c.passed, c.maintained, f)
				}
			}
			if got := [3]bool{passed, failed, maintained}; got != want {
				t.Errorf("passed/failed/maintained = %v, want %v (SWE-bench: %v %v %v; differ: %q)", got, want, c.passed, c.failed, c.maintained, c.differ)
			}
		})
	}

	// tests/test_grading_skipped.py's report-level cases.
	t.Run(skipped+"test_all_skipped_f2p_is_not_resolved", func(t *testing.T) {
		res, ts := Grade([]string{"t_a", "t_b"}, []string{"t_c"}, map[string]Status{"t_a": S, "t_b": S, "t_c": P})
		if res != ResolvedNo || len(ts.FailToPass.Success) != 0 || !reflect.DeepEqual(ts.FailToPass.Failure, []string{"t_a", "t_b"}) {
			t.Errorf("%s %+v", res, ts)
		}
	})
	t.Run(skipped+"test_skipped_p2p_does_not_block_resolution", func(t *testing.T) {
		sm := map[string]Status{"t_a": P, "t_c": S}
		// Differ on purpose (see above): swelego's default blocks it.
		if res, ts := Grade([]string{"t_a"}, []string{"t_c"}, sm); res != ResolvedNo || !reflect.DeepEqual(ts.PassToPass.Failure, []string{"t_c"}) {
			t.Errorf("default rules: %s %+v", res, ts)
		}
		if res, ts := (Rules{SkippedMaintains: true}).Grade([]string{"t_a"}, []string{"t_c"}, sm); res != ResolvedFull || !reflect.DeepEqual(ts.PassToPass.Success, []string{"t_c"}) {
			t.Errorf("SkippedMaintains: %s %+v", res, ts)
		}
	})
}

// TestSWEBenchLogCases replays get_logs_eval's cases
// (tests/test_grading_spoofed_output.py, test_grading_marker_fallback.py):
// a log with its recorded exit status is accepted with a status map, or
// not. SWE-bench's parse_log_pytest reads text alone, so the cases run
// through a registered text parser (ParsePytest); what the pytest kind adds
// on top (the JUnit report) is a deliberate difference checked in
// TestParseRunJUnit and the forge tests.
func TestSWEBenchLogCases(t *testing.T) {
	const kind = "swebench-pytest-text"
	RegisterParser(kind, ParserFunc(ParsePytest))
	const (
		spoof  = "tests/test_grading_spoofed_output.py::"
		marker = "tests/test_grading_marker_fallback.py::"
	)
	cases := []struct {
		source   string
		inside   string // the log between the markers
		outside  string // printed before the start marker
		exitCode int    // -1: none recorded
		found    bool
		sm       map[string]Status
		differ   string
		oursErr  bool // with differ: ParseRun fails (no results)
	}{
		{source: spoof + "test_forged_passed_lines_are_not_graded", inside: "PASSED test_a", exitCode: 1, found: false},
		{source: spoof + "test_genuine_pass_is_graded", inside: "PASSED test_a", exitCode: 0, found: true, sm: map[string]Status{"test_a": StatusPassed}},
		{source: spoof + "test_genuine_failure_is_graded", inside: "FAILED test_a", exitCode: 1, found: true, sm: map[string]Status{"test_a": StatusFailed}},
		{source: spoof + "test_logs_without_a_recorded_exit_code_are_unaffected", inside: "PASSED test_a", exitCode: -1, found: true, sm: map[string]Status{"test_a": StatusPassed}},
		{source: spoof + "test_failing_reset_does_not_reject_a_passing_run", inside: "PASSED test_a", exitCode: 0, found: true, sm: map[string]Status{"test_a": StatusPassed}},
		{source: marker + "test_results_inside_markers_are_used", inside: "PASSED tests/test_a.py::test_in", exitCode: -1, found: true,
			sm: map[string]Status{"tests/test_a.py::test_in": StatusPassed}},
		{source: marker + "test_results_outside_markers_fall_back_to_whole_log", outside: "PASSED tests/test_a.py::test_outside", exitCode: -1, found: true,
			sm:     map[string]Status{"tests/test_a.py::test_outside": StatusPassed},
			differ: "only what the test command printed between markers carrying a fresh nonce counts: the wrapper merges stderr into stdout, so results cannot land outside, and text outside is not the run's"},
		{source: marker + "test_missing_markers_still_reports_not_found", exitCode: -1, found: false, oursErr: true},
		{source: marker + "test_empty_results_without_evidence_is_not_found", inside: "Chrome failed 2 times (cannot start). Giving up.", exitCode: -1, found: false},
	}
	for _, c := range cases {
		t.Run(c.source, func(t *testing.T) {
			nonce := NewNonce()
			log := c.outside + "\n" + startMarker(nonce) + "\n" + c.inside + "\n" + endMarker(nonce) + " exit=0\n"
			if strings.Contains(c.source, "missing_markers") {
				log = "PASSED tests/test_a.py::test_x\n"
			}
			run, err := ParseRun(kind, log, nonce, c.exitCode)
			if c.oursErr {
				if err == nil {
					t.Fatalf("no error for %q", log)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// SWE-bench's found is "a non-empty status map it trusts".
			found := run.Invalid == "" && len(run.Statuses) > 0
			if c.differ != "" {
				if found {
					t.Errorf("found %v; swelego differs on purpose: %s", run.Statuses, c.differ)
				}
				return
			}
			if found != c.found {
				t.Fatalf("found = %v (invalid %q, %v), SWE-bench %v", found, run.Invalid, run.Statuses, c.found)
			}
			if c.found && !reflect.DeepEqual(run.Statuses, c.sm) {
				t.Errorf("status map %v, SWE-bench %v", run.Statuses, c.sm)
			}
		})
	}
}
