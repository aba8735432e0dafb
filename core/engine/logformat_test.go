package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestLogFormat runs a stage that logs a warning with a duration under
// each format and checks what reaches Out, which is not a terminal here.
func TestLogFormat(t *testing.T) {
	for _, tc := range []struct {
		format string
		json   bool
		want   []string
	}{
		{format: "", json: true},
		{format: LogAuto, json: true},
		{format: LogJSON, json: true},
		{format: LogText, want: []string{"WRN", "slow step", "took=1.5s", "stage=work.a"}},
	} {
		t.Run("format="+tc.format, func(t *testing.T) {
			r, err := Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			st := &fakeStage{addr: "work.a", run: func(ctx context.Context, sc *StageContext) error {
				sc.Logger.Warn("slow step", "took", 1500*time.Millisecond)
				return nil
			}}
			var out bytes.Buffer
			if err := r.Execute(context.Background(), []Stage{st}, ExecOptions{Out: &out, LogFormat: tc.format}); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out.String(), "\x1b[") {
				t.Errorf("colour codes on a writer that is not a terminal:\n%s", out.String())
			}
			var found bool
			for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				if !tc.json {
					if strings.Contains(line, "slow step") {
						found = true
						for _, w := range tc.want {
							if !strings.Contains(line, w) {
								t.Errorf("the line lacks %q: %s", w, line)
							}
						}
					}
					if strings.HasPrefix(line, "{") {
						t.Errorf("a JSON line in text logs: %s", line)
					}
					continue
				}
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("not a JSON line: %q", line)
				}
				if rec["msg"] == "slow step" {
					found = true
					if rec["level"] != "WARN" || rec["took"] != 1.5 {
						t.Errorf("level %v, took %v; want WARN and 1.5 (seconds)", rec["level"], rec["took"])
					}
				}
			}
			if !found {
				t.Errorf("no line of the warning:\n%s", out.String())
			}
		})
	}
}
