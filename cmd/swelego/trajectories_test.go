package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
)

// TestTrajectoriesExportSkips: export writes only training data. Records
// with status error are skipped and counted; a record that is not a
// trajectory, or nothing left to export, fails with a message naming why.
func TestTrajectoriesExportSkips(t *testing.T) {
	traj := func(id, status string) string {
		tr := sdk.Trajectory{InstanceID: id, Attempt: 1, Status: status, Messages: []sdk.Message{
			{Role: "system", Content: "You are a software engineer."},
			{Role: "user", Content: "Fix the bug in " + id + "."},
			{Role: "assistant", Content: "Fixed."},
		}}
		if status == sdk.StatusError {
			tr.Messages, tr.Error = nil, "open sandbox: image build failed"
		}
		b, _ := json.Marshal(tr)
		return string(b) + "\n"
	}
	task := `{"instance_id":"a__a-1","repo":"a/a","base_commit":"c","FAIL_TO_PASS":["t"]}` + "\n"
	tests := []struct {
		name     string
		content  string
		args     []string
		wantCode int
		wantOut  int    // records written
		wantErr  string // in stderr
	}{
		{name: "errored skipped and counted", content: traj("a-1", sdk.StatusResolved) + traj("a-2", sdk.StatusError) + traj("a-3", sdk.StatusUnresolved),
			wantOut: 2, wantErr: "exported 2 trajectories (sharegpt, openhands calls); skipped 1 with status error"},
		{name: "only resolved", content: traj("a-1", sdk.StatusResolved) + traj("a-2", sdk.StatusError) + traj("a-3", sdk.StatusUnresolved), args: []string{"--only-resolved"},
			wantOut: 1, wantErr: "skipped 1 with status error (the attempt or its grading failed: not training data), 1 not resolved"},
		{name: "a task file", content: traj("a-1", sdk.StatusResolved) + task, wantCode: 1,
			wantErr: "trajs.jsonl:2: not a swelego trajectory (it has no instance_id or no messages)"},
		{name: "nothing left", content: traj("a-2", sdk.StatusError), wantCode: 1, wantErr: "no trajectories to export; skipped 1 with status error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "trajs.jsonl")
			writeFile(t, in, tt.content)
			out := filepath.Join(dir, "out.jsonl")
			args := append([]string{"trajectories", "export", "-o", out}, tt.args...)
			_, errOut, code := swelego(t, dir, append(args, in)...)
			if code != tt.wantCode || !strings.Contains(errOut, tt.wantErr) {
				t.Fatalf("exit %d, want %d; stderr %q, want it to hold %q", code, tt.wantCode, errOut, tt.wantErr)
			}
			if tt.wantCode == 0 {
				if got := len(readJSONL(t, out)); got != tt.wantOut {
					t.Errorf("%d records written, want %d", got, tt.wantOut)
				}
			}
		})
	}
}
