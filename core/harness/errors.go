package harness

import (
	"errors"
	"fmt"

	"github.com/swelego/swelego/core/diff"
)

// Errors a caller may test for with errors.Is.
var (
	// ErrNotPatch: the text is not a unified or git diff (no file headers
	// or hunks, malformed hunks, binary data).
	ErrNotPatch = diff.ErrNotPatch
	// ErrUnsafePatch: the patch touches a path outside the repository (an
	// absolute path, a ".." component, .git/, a symlink leading out).
	ErrUnsafePatch = diff.ErrUnsafePatch
	// ErrApply: none of git apply, git apply --reject and patch --fuzz could
	// apply the patch.
	ErrApply = errors.New("patch does not apply")
	// ErrNoResults: the test run left no trustworthy results: the
	// harness's markers are missing (the run was cut short) or the run was
	// not made by WrapCommand with the same nonce.
	ErrNoResults = errors.New("test run produced no results")
	// ErrInvalidRun: the test run as a whole cannot be trusted (see
	// sdk.TestReport.Invalid); Evaluate grades such a run unresolved, Validate
	// refuses a fixed tree that gives one.
	ErrInvalidRun = errors.New("the test run cannot be graded")
	// ErrTimeout: the test command ran past Options.Timeout (SWE-bench's
	// TESTS_TIMEOUT); the result is final.
	ErrTimeout = errors.New("tests timed out")
	// ErrNoLanguage: Options name no language to run and read the tests
	// with.
	ErrNoLanguage = errors.New("no language")
	// ErrNoFailToPass: validation found no test that fails on the broken
	// tree and passes on the fixed one, so the task cannot be kept.
	ErrNoFailToPass = errors.New("no FAIL_TO_PASS test")
	// ErrTestsDoNotRun: validation found no test that passes on the fixed
	// tree (the repository as it was before the bug): the test command
	// does not run there at all (a missing module search path, an import error, a
	// runner that is not installed), so no candidate of the environment can
	// be validated until the command is fixed. A ValidationError carries the
	// run's log.
	ErrTestsDoNotRun = errors.New("the tests do not run at base")
)

// ValidationError is a failed validation run with what it printed, so the
// reason a candidate was rejected can be read without rerunning it.
type ValidationError struct {
	// Side is "broken" or "fixed".
	Side string
	// ExitCode is the test command's exit status (-1 when it did not run).
	ExitCode int
	// Log is the run's output, cut to Options.MaxLogBytes.
	Log string
	Err error
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("%s tree: %v (exit status %d)", e.Side, e.Err, e.ExitCode)
}

func (e *ValidationError) Unwrap() error { return e.Err }
