package sdk

import (
	"errors"
	"testing"
)

func TestCheckGradable(t *testing.T) {
	real := Task{InstanceID: "r-1", BaseCommit: "abc", TestPatch: "diff", FailToPass: StringList{"t"}}
	with := func(t Task, f func(*Task)) Task { f(&t); return t }
	tests := []struct {
		name  string
		task  Task
		field string // "" when the task is gradable
	}{
		{name: "swe-bench task", task: real},
		{name: "no FAIL_TO_PASS", task: with(real, func(t *Task) { t.FailToPass = nil }), field: "FAIL_TO_PASS"},
		{name: "no base_commit", task: with(real, func(t *Task) { t.BaseCommit = "" }), field: "base_commit"},
		{name: "no test_patch", task: with(real, func(t *Task) { t.TestPatch = "" }), field: "test_patch"},
		{name: "real with source set", task: with(real, func(t *Task) { t.Source, t.TestPatch = SourceReal, "" }), field: "test_patch"},
		{name: "swelego synthetic task: tests in the repository", task: with(real, func(t *Task) {
			t.Source, t.TestPatch, t.EnvironmentSetupCommit = SourceSynthetic, "", "env"
		})},
		{name: "synthetic with only environment_setup_commit", task: with(real, func(t *Task) {
			t.Source, t.TestPatch, t.BaseCommit, t.EnvironmentSetupCommit = SourceSynthetic, "", "", "env"
		})},
		{name: "synthetic without any commit", task: with(real, func(t *Task) { t.Source, t.BaseCommit = SourceSynthetic, "" }), field: "base_commit"},
		{name: "synthetic without FAIL_TO_PASS", task: with(real, func(t *Task) { t.Source, t.FailToPass = SourceSynthetic, nil }), field: "FAIL_TO_PASS"},
		{name: "swe-smith task: patch introduces the bug", task: with(real, func(t *Task) { t.PatchDirection, t.TestPatch = PatchIntroduces, "" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.task.CheckGradable()
			var fe *TaskFieldError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field || fe.InstanceID != tt.task.InstanceID):
				t.Fatalf("err = %v, want a TaskFieldError for %s", err, tt.field)
			}
		})
	}
}
