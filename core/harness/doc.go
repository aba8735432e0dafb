// Package harness runs a task's tests in a sandbox and grades the outcome
// exactly as SWE-bench does: it applies patches safely, runs the test
// command the task's language gives (an sdk.Language, through package
// language) wrapped so that results printed by the code under test cannot
// pass for real ones, has the language read per-test statuses from the
// run, and decides resolved, partial, unresolved, error or empty_patch.
// Validate computes a candidate task's
// FAIL_TO_PASS and PASS_TO_PASS lists as SWE-smith does, dropping flaky
// tests; NewReport writes SWE-bench's run report.
//
// It knows no test runner: the language's plugin does, and must refuse a
// run whose result channels disagree (sdk.TestReport.Invalid); the
// harness keeps what does not depend on the runner: the nonce markers,
// SWE-bench's exit-code rule and grading rules, and the reset of the
// runner's own files a model patch touched.
//
// It does not open sandboxes (package sandbox does, through an Opener) and
// does not decide which tasks or predictions to run (the pipeline does).
package harness
