package harness

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
)

func TestGrade(t *testing.T) {
	f2p := []string{"t.py::f1", "t.py::f2"}
	p2p := []string{"t.py::p1", "t.py::p2"}
	pass := map[string]Status{"t.py::f1": StatusPassed, "t.py::f2": StatusPassed, "t.py::p1": StatusPassed, "t.py::p2": StatusPassed}
	with := func(kv ...string) map[string]Status {
		m := map[string]Status{}
		for k, v := range pass {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = Status(kv[i+1])
			}
		}
		return m
	}
	cases := []struct {
		name     string
		f2p, p2p []string
		parsed   map[string]Status
		want     string
	}{
		{"everything passes", f2p, p2p, pass, ResolvedFull},
		{"XFAIL passes", f2p, p2p, with("t.py::f1", "XFAIL", "t.py::p1", "XFAIL"), ResolvedFull},
		{"skipped FAIL_TO_PASS fails", f2p[:1], p2p, with("t.py::f1", "SKIPPED"), ResolvedNo},
		{"skipped PASS_TO_PASS is not maintained", f2p, p2p, with("t.py::p1", "SKIPPED"), ResolvedNo},
		{"XPASS fails (SWE-bench never parses it)", f2p[:1], p2p, with("t.py::f1", "XPASS"), ResolvedNo},
		{"missing fails", f2p[:1], p2p, with("t.py::f1", ""), ResolvedNo},
		{"ERROR fails", f2p[:1], p2p, with("t.py::f1", "ERROR"), ResolvedNo},
		{"some FAIL_TO_PASS: partial", f2p, p2p, with("t.py::f2", "FAILED"), ResolvedPartial},
		{"some FAIL_TO_PASS but a PASS_TO_PASS broke", f2p, p2p, with("t.py::f2", "FAILED", "t.py::p2", "FAILED"), ResolvedNo},
		{"no FAIL_TO_PASS passes", f2p, p2p, with("t.py::f1", "FAILED", "t.py::f2", ""), ResolvedNo},
		{"all FAIL_TO_PASS, one PASS_TO_PASS missing", f2p, p2p, with("t.py::p2", ""), ResolvedNo},
		{"no FAIL_TO_PASS tests at all counts as 1", nil, p2p, pass, ResolvedFull},
		{"no tests at all", nil, nil, map[string]Status{}, ResolvedFull},
		{"truncated expected id", []string{"t.py::f[a"}, nil, map[string]Status{"t.py::f[a b]": StatusPassed}, ResolvedFull},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ts := Grade(c.f2p, c.p2p, c.parsed)
			if got != c.want {
				t.Errorf("resolution %s, want %s (%+v)", got, c.want, ts)
			}
			if n := len(ts.FailToPass.Success) + len(ts.FailToPass.Failure); n != len(c.f2p) {
				t.Errorf("FAIL_TO_PASS outcome covers %d of %d tests", n, len(c.f2p))
			}
			if n := len(ts.PassToPass.Success) + len(ts.PassToPass.Failure); n != len(c.p2p) {
				t.Errorf("PASS_TO_PASS outcome covers %d of %d tests", n, len(c.p2p))
			}
		})
	}
	// SWE-bench's test_maintained, on request.
	parity := Rules{SkippedMaintains: true}
	if got, _ := parity.Grade(f2p, p2p, with("t.py::p1", "SKIPPED")); got != ResolvedFull {
		t.Errorf("SkippedMaintains: skipped PASS_TO_PASS gives %s", got)
	}
	if got, _ := parity.Grade(f2p[:1], p2p, with("t.py::f1", "SKIPPED")); got != ResolvedNo {
		t.Errorf("SkippedMaintains: skipped FAIL_TO_PASS gives %s", got)
	}
	for res, st := range map[string]string{ResolvedFull: ResultResolved, ResolvedPartial: ResultPartial, ResolvedNo: ResultUnresolved} {
		if StatusOf(res) != st {
			t.Errorf("StatusOf(%s) = %s", res, StatusOf(res))
		}
	}
}

func TestNewReport(t *testing.T) {
	tasks := []sdk.Task{
		{InstanceID: "r__r-1"}, {InstanceID: "r__r-2"}, {InstanceID: "r__r-3"}, {InstanceID: "r__r-4"},
		{InstanceID: "r__r-5"}, {InstanceID: "r__r-6"}, {InstanceID: "r__r-7"},
	}
	preds := []sdk.Prediction{
		{InstanceID: "r__r-1", ModelPatch: "p"},
		{InstanceID: "r__r-2", ModelPatch: "p"},
		{InstanceID: "r__r-3", ModelPatch: "p"},
		{InstanceID: "r__r-4", ModelPatch: ""},
		{InstanceID: "r__r-5", ModelPatch: "p"},
		{InstanceID: "r__r-6", ModelPatch: "first"},
		{InstanceID: "r__r-6", ModelPatch: "p"},  // the last duplicate wins
		{InstanceID: "other-1", ModelPatch: "p"}, // not a task: submitted only
	}
	results := []Result{
		{InstanceID: "r__r-1", Status: ResultResolved},
		{InstanceID: "r__r-2", Status: ResultPartial},
		{InstanceID: "r__r-3", Status: ResultError},
		{InstanceID: "r__r-4", Status: ResultEmptyPatch},
		// r__r-5 has no result: an error, as SWE-bench without report.json.
		{InstanceID: "r__r-6", Status: ResultUnresolved},
		// r__r-7 has no prediction: incomplete.
	}
	rep := NewReport(tasks, preds, results)
	checkGolden(t, "testdata/report/report.golden.json", rep)

	want := Report{
		TotalInstances: 7, SubmittedInstances: 7, CompletedInstances: 3, ResolvedInstances: 1,
		UnresolvedInstances: 2, EmptyPatchInstances: 1, ErrorInstances: 2,
		CompletedIDs:  []string{"r__r-1", "r__r-2", "r__r-6"},
		IncompleteIDs: []string{"r__r-7"},
		EmptyPatchIDs: []string{"r__r-4"},
		SubmittedIDs:  []string{"other-1", "r__r-1", "r__r-2", "r__r-3", "r__r-4", "r__r-5", "r__r-6"},
		ResolvedIDs:   []string{"r__r-1"},
		UnresolvedIDs: []string{"r__r-2", "r__r-6"},
		ErrorIDs:      []string{"r__r-3", "r__r-5"},
		SchemaVersion: 2,
	}
	if !reflect.DeepEqual(rep, want) {
		t.Errorf("got %+v\nwant %+v", rep, want)
	}

	// SWE-bench's keys, every list an array even when empty.
	data, _ := json.Marshal(NewReport(nil, nil, nil))
	var m map[string]any
	json.Unmarshal(data, &m)
	for _, k := range []string{"total_instances", "submitted_instances", "completed_instances", "resolved_instances",
		"unresolved_instances", "empty_patch_instances", "error_instances", "completed_ids", "incomplete_ids",
		"empty_patch_ids", "submitted_ids", "resolved_ids", "unresolved_ids", "error_ids", "schema_version"} {
		v, ok := m[k]
		if !ok {
			t.Errorf("report lacks %q", k)
		}
		if strings.HasSuffix(k, "_ids") {
			if _, isList := v.([]any); !isList {
				t.Errorf("%s = %v, want []", k, v)
			}
		}
	}
	if len(m) != 15 {
		t.Errorf("report has %d keys: %s", len(m), data)
	}
}

func TestReadPredictions(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	cases := []struct {
		name, content string
		want          []sdk.Prediction
		errHas        string
	}{
		{"jsonl with a null patch", `{"instance_id":"a","model_name_or_path":"m","model_patch":"diff"}

{"instance_id":"b","model_name_or_path":"m","model_patch":null}
`, []sdk.Prediction{{InstanceID: "a", ModelNameOrPath: "m", ModelPatch: "diff"}, {InstanceID: "b", ModelNameOrPath: "m", ModelPatch: ""}}, ""},
		{"json array", `[{"instance_id":"a","model_name_or_path":"m","model_patch":"x","extra":1},
 {"instance_id":"b","model_name_or_path":"m"}]`, []sdk.Prediction{{InstanceID: "a", ModelNameOrPath: "m", ModelPatch: "x"}, {InstanceID: "b", ModelNameOrPath: "m", ModelPatch: ""}}, ""},
		{"empty file", "", nil, ""},
		{"missing id", "{\"instance_id\":\"a\"}\n{\"model_patch\":\"x\"}\n", nil, ":2: record has no instance_id"},
		{"broken line", "{\"instance_id\":\"a\"}\n{oops\n", nil, ":2: not a JSON record"},
		{"wrong type", "{\"instance_id\":\"a\",\"model_patch\":3}\n", nil, ":1:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := write(strings.ReplaceAll(c.name, " ", "_")+".jsonl", c.content)
			got, err := ReadPredictions(p)
			if c.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), c.errHas) || !strings.Contains(err.Error(), p) {
					t.Fatalf("err = %v, want one naming %s and %q", err, p, c.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
	if _, err := ReadPredictions(filepath.Join(dir, "nope.jsonl")); err == nil {
		t.Error("missing file read")
	}
}

// TestResolveTruncated follows SWE-bench v5's _resolve_case: only ids cut
// inside their brackets fall back to prefixes, and only when the matches
// agree on pass or fail.
func TestResolveTruncated(t *testing.T) {
	parsed := map[string]Status{
		"tests/t.py::test_x[a b-1]":         StatusPassed,
		"tests/t.py::test_long_name_cut...": StatusPassed,
		"tests/t.py::test_y[p q]":           StatusPassed,
		"tests/t.py::test_y[p r]":           StatusFailed,
		"tests/t.py::test_z[one two]":       StatusPassed,
		"tests/t.py::test_z[one three]":     StatusXFail,
		"tests/t.py::test_w[k 1]":           StatusFailed,
		"tests/t.py::test_w[k 2]":           StatusSkipped,
		"tests/...":                         StatusPassed,
	}
	cases := []struct {
		id     string
		want   Status
		found  bool
		reason string
	}{
		{"tests/t.py::test_x[a b-1]", StatusPassed, true, "exact"},
		{"tests/t.py::test_x[a", StatusPassed, true, "cut inside its brackets, one match"},
		{"tests/t.py::test_long_name_cut_by_a_tool", "", false, "a reported id ending in ... is not a wildcard"},
		{"tests/t.py::test_anything", "", false, "nor is tests/..."},
		{"tests/t.py::test_y[p", "", false, "matches disagree on pass or fail"},
		{"tests/t.py::test_z[one", StatusXFail, true, "PASSED and XFAIL agree (first in sorted order)"},
		{"tests/t.py::test_w[k", StatusFailed, true, "FAILED and SKIPPED both fail"},
		{"tests/t.py::test_x", "", false, "balanced brackets: exact match only"},
		{"tests/t.py::test_x[a b-1", StatusPassed, true, "one bracket open"},
		{"handles foo] gracefully", "", false, "a surplus ] is no truncation"},
	}
	for _, c := range cases {
		st, ok := ResolveTruncated(c.id, parsed)
		if ok != c.found || st != c.want {
			t.Errorf("%s: %q: got %q %v, want %q %v", c.reason, c.id, st, ok, c.want, c.found)
		}
	}
	if len(parsed) != 9 {
		t.Error("ResolveTruncated modified its input")
	}
}
