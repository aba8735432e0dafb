package swebench

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

const sampleJSONL = `{"instance_id":"a__a-1","repo":"a/a","base_commit":"c1","test_patch":"diff","FAIL_TO_PASS":"[\"t1\"]","PASS_TO_PASS":[],"image_name":"x"}
{"instance_id":"b__b-2","repo":"b/b","FAIL_TO_PASS":["t2"],"PASS_TO_PASS":"[]","source":"synthetic","patch_direction":"introduce","environment_setup_commit":"c2"}
{"instance_id":"a__a-3","repo":"a/a","base_commit":"c3","test_patch":"diff","FAIL_TO_PASS":["t3"]}
`

// incomplete holds records that lack a field grading needs, after a good
// one; line 4 is a SWE-smith task without test_patch or base_commit.
const incomplete = `{"instance_id":"ok","repo":"a/a","base_commit":"c","test_patch":"diff","FAIL_TO_PASS":["t"]}
{"instance_id":"no-f2p","repo":"a/a","base_commit":"c","test_patch":"diff","FAIL_TO_PASS":"[]"}
{"instance_id":"no-base","repo":"a/a","test_patch":"diff","FAIL_TO_PASS":["t"]}
{"instance_id":"smith","repo":"a/a","patch":"diff","FAIL_TO_PASS":["t"],"environment_setup_commit":"c"}
{"instance_id":"no-test-patch","repo":"a/a","base_commit":"c","FAIL_TO_PASS":["t"]}
`

func gz(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func TestTasks(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"t.jsonl":          sampleJSONL,
		"t.json":           "[\n" + strings.Join(strings.Split(strings.TrimSpace(sampleJSONL), "\n"), ",\n") + "\n]\n",
		"t.jsonl.gz":       gz(sampleJSONL),
		"bad.jsonl":        "{\"instance_id\":\"ok\",\"base_commit\":\"c\",\"test_patch\":\"d\",\"FAIL_TO_PASS\":[\"t\"]}\n{nope\n{\"repo\":\"no id\"}\n{\"instance_id\":\"ok2\",\"base_commit\":\"c\",\"test_patch\":\"d\",\"FAIL_TO_PASS\":[\"t\"]}\n",
		"incomplete.jsonl": incomplete,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		cfg     string
		want    string // instance ids, space separated
		wantErr string
	}{
		{name: "jsonl", cfg: `{"path":"t.jsonl"}`, want: "a__a-1 b__b-2 a__a-3"},
		{name: "json array", cfg: `{"path":"t.json"}`, want: "a__a-1 b__b-2 a__a-3"},
		{name: "gzip", cfg: `{"path":"t.jsonl.gz"}`, want: "a__a-1 b__b-2 a__a-3"},
		{name: "instance filter", cfg: `{"path":"t.jsonl","instance_ids":["a__a-3","b__b-2"]}`, want: "b__b-2 a__a-3"},
		{name: "repo filter and limit", cfg: `{"path":"t.jsonl","repos":["a/a"],"limit":1}`, want: "a__a-1"},
		{name: "malformed line", cfg: `{"path":"bad.jsonl"}`, wantErr: "bad.jsonl:2:"},
		{name: "skip invalid", cfg: `{"path":"bad.jsonl","skip_invalid":true}`, want: "ok ok2"},
		{name: "no FAIL_TO_PASS", cfg: `{"path":"incomplete.jsonl"}`, wantErr: `incomplete.jsonl:2: task "no-f2p" has no FAIL_TO_PASS`},
		{name: "no base_commit", cfg: `{"path":"incomplete.jsonl","instance_ids":["no-base"]}`, wantErr: `incomplete.jsonl:3: task "no-base" has no base_commit`},
		{name: "no test_patch", cfg: `{"path":"incomplete.jsonl","instance_ids":["no-test-patch"]}`, wantErr: `incomplete.jsonl:5: task "no-test-patch" has no test_patch`},
		{name: "swe-smith tasks as synthetic", cfg: `{"path":"incomplete.jsonl","instance_ids":["smith"],"source":"synthetic","patch_direction":"introduce"}`, want: "smith"},
		{name: "swe-smith task read as real", cfg: `{"path":"incomplete.jsonl","instance_ids":["smith"]}`, wantErr: `incomplete.jsonl:4: task "smith" has no base_commit`},
		{name: "skip incomplete", cfg: `{"path":"incomplete.jsonl","skip_invalid":true}`, want: "ok"},
		{name: "missing file", cfg: `{"path":"nope.jsonl"}`, wantErr: "nope.jsonl"},
		{name: "bad source value", cfg: `{"path":"t.jsonl","source":"fake"}`, wantErr: "source"},
		{name: "no path", cfg: `{}`, wantErr: "path is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := strings.ReplaceAll(tt.cfg, `"path":"`, `"path":"`+dir+"/")
			var ids []string
			var warned []error
			src := Source{Warn: func(err error) { warned = append(warned, err) }}
			err := src.Tasks(context.Background(), sdk.Config(cfg), func(task sdk.Task) error {
				ids = append(ids, task.InstanceID)
				return nil
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(ids, " "); got != tt.want {
				t.Errorf("tasks %q, want %q", got, tt.want)
			}
			if tt.name == "skip invalid" && len(warned) != 2 {
				t.Errorf("warned %d times, want 2 (bad JSON, missing id): %v", len(warned), warned)
			}
			if tt.name == "skip incomplete" && len(warned) != 4 {
				t.Errorf("warned %d times, want 4 (no FAIL_TO_PASS, base_commit, test_patch twice): %v", len(warned), warned)
			}
		})
	}
}

// TestTasksOverGRPC reads through the plugin protocol and checks the
// records keep SWE-bench's fields and defaults.
func TestTasksOverGRPC(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.jsonl")
	if err := os.WriteFile(path, []byte(sampleJSONL), 0o644); err != nil {
		t.Fatal(err)
	}
	c := sdktest.Connect(t, New())
	schema, err := c.ConfigSchema(context.Background(), sdk.KindTaskSource)
	if err != nil || !schema.Attributes["path"].Required {
		t.Fatalf("schema %+v, %v", schema, err)
	}
	var got []sdk.Task
	err = c.TaskSource().Tasks(context.Background(), sdk.Config(`{"path":"`+path+`"}`), func(task sdk.Task) error {
		got = append(got, task)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d tasks", len(got))
	}
	if got[0].FailToPass[0] != "t1" || got[0].Source != sdk.SourceReal || got[0].PatchDirection != sdk.PatchFixes || string(got[0].Extra["image_name"]) != `"x"` {
		t.Errorf("first task %+v", got[0])
	}
	if got[1].Source != sdk.SourceSynthetic || got[1].PatchDirection != sdk.PatchIntroduces {
		t.Errorf("second task kept its own source/direction? %+v", got[1])
	}
	stop := errors.New("stop")
	n := 0
	err = c.TaskSource().Tasks(context.Background(), sdk.Config(`{"path":"`+path+`"}`), func(sdk.Task) error {
		n++
		return stop
	})
	if n != 1 || !errors.Is(err, stop) && (err == nil || !strings.Contains(err.Error(), "stop")) {
		t.Errorf("early stop: %d tasks, err %v", n, err)
	}
}
