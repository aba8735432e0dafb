package sdk

import "fmt"

// TaskFieldError says which field a task lacks to be graded.
type TaskFieldError struct {
	InstanceID string
	Field      string // the JSON key: base_commit, FAIL_TO_PASS, test_patch
	Why        string
}

func (e *TaskFieldError) Error() string {
	return fmt.Sprintf("task %q has no %s: %s", e.InstanceID, e.Field, e.Why)
}

// CheckGradable reports, as a *TaskFieldError, the first field t lacks to
// be graded the way its kind of task is:
//
//   - FAIL_TO_PASS, for every task: without a test that the fix must make
//     pass, any patch that keeps PASS_TO_PASS passing grades resolved;
//   - base_commit, for a real task (the commit its repository is checked
//     out at); a synthetic task may have environment_setup_commit instead,
//     the commit its bug is injected into;
//   - test_patch, for a real task whose patch fixes the bug (SWE-bench,
//     SWE-rebench, SWE-Gym): its tests come with the fix. Synthetic tasks
//     (SWE-smith's, swelego's synthetic source) and tasks whose patch
//     introduces the bug test with the tests the repository already has,
//     so their test_patch may be empty.
//
// A task source reading files calls it for every record and names the
// file and line of a task it refuses.
func (t Task) CheckGradable() error {
	synthetic := t.Source == SourceSynthetic
	switch {
	case len(t.FailToPass) == 0:
		return &TaskFieldError{t.InstanceID, "FAIL_TO_PASS", "without a test the fix must make pass, any patch would grade resolved"}
	case t.BaseCommit == "" && !(synthetic && t.EnvironmentSetupCommit != ""):
		why := "the commit to check the repository out at"
		if synthetic {
			why += " (a synthetic task may give environment_setup_commit instead)"
		}
		return &TaskFieldError{t.InstanceID, "base_commit", why}
	case t.TestPatch == "" && !synthetic && t.PatchDirection != PatchIntroduces:
		return &TaskFieldError{t.InstanceID, "test_patch", "a real task's tests come with its fix, and without them its FAIL_TO_PASS tests do not exist"}
	}
	return nil
}
