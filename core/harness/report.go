package harness

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/jsonl"
)

// ReadPredictions reads a predictions file in any of the layouts
// DecodePredictions reads.
func ReadPredictions(path string) ([]sdk.Prediction, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read predictions: %w", err)
	}
	defer f.Close()
	preds, err := DecodePredictions(f, path)
	if err != nil {
		return nil, fmt.Errorf("read predictions: %w", err)
	}
	return preds, nil
}

// DecodePredictions reads predictions, in file order, from any of:
//
//   - SWE-bench's predictions: JSON Lines or a JSON array of
//     {instance_id, model_name_or_path, model_patch};
//   - SWE-agent's preds.json: one JSON object keyed by instance id, each
//     value such a record (its instance_id, else the key, names it);
//   - OpenHands' output.jsonl: one JSON object per line with instance_id
//     and test_result.git_patch (the patch), the model being
//     metadata.llm_config.model; its other fields (history, metadata,
//     instruction, metrics, …) are ignored.
//
// A record with a model_patch field is SWE-bench's even in a file of
// OpenHands lines. A null or missing patch reads as "" (an empty patch). A
// record without instance_id, or one that is not an object, is an error
// naming the file (name) and the line. Duplicates are kept in order; see
// LatestPredictions.
func DecodePredictions(r io.ReadSeeker, name string) ([]sdk.Prediction, error) {
	// One JSON object alone is SWE-agent's dict or a single record; an
	// array, or several values, go through the JSON Lines decoder.
	var bom [3]byte
	n, _ := io.ReadFull(r, bom[:])
	skip := int64(0)
	if n == len(bom) && string(bom[:]) == "\uFEFF" {
		skip = int64(n) // a UTF-8 byte order mark, as editors on Windows write
	}
	if _, err := r.Seek(skip, io.SeekStart); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(r)
	var first json.RawMessage
	err := dec.Decode(&first)
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err == nil && len(first) > 0 && first[0] == '{' {
		start := skip + dec.InputOffset() - int64(len(first))
		var next json.RawMessage
		if err := dec.Decode(&next); errors.Is(err, io.EOF) {
			line := 1 + bytes.Count(readPrefix(r, start), []byte("\n"))
			return decodeObject(first, name, line)
		}
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	jd := jsonl.NewDecoder(r, name)
	var out []sdk.Prediction
	for {
		raw, line, err := jd.NextRaw()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		p, err := decodePrediction(raw, "")
		if err != nil {
			return nil, &jsonl.Error{File: name, Line: line, Err: err}
		}
		out = append(out, p)
	}
}

// readPrefix returns the first n bytes of r (for line numbers), leaving r
// wherever it is.
func readPrefix(r io.ReadSeeker, n int64) []byte {
	if n <= 0 {
		return nil
	}
	pos, err := r.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil
	}
	defer r.Seek(pos, io.SeekStart)
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(r, n))
	return b
}

// decodeObject reads a file that is one JSON object starting on line: a
// single prediction record, or SWE-agent's dict keyed by instance id.
func decodeObject(obj json.RawMessage, name string, line int) ([]sdk.Prediction, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(obj, &probe); err != nil {
		return nil, &jsonl.Error{File: name, Line: line, Err: err}
	}
	if _, ok := probe["instance_id"]; ok || len(probe) == 0 {
		if len(probe) == 0 {
			return nil, nil
		}
		p, err := decodePrediction(obj, "")
		if err != nil {
			return nil, &jsonl.Error{File: name, Line: line, Err: err}
		}
		return []sdk.Prediction{p}, nil
	}
	// SWE-agent's preds.json: walk the keys in file order.
	dec := json.NewDecoder(bytes.NewReader(obj))
	dec.Token() // {
	var out []sdk.Prediction
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, &jsonl.Error{File: name, Line: line, Err: err}
		}
		key, _ := tok.(string)
		at := line + bytes.Count(obj[:dec.InputOffset()], []byte("\n"))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, &jsonl.Error{File: name, Line: at, Err: err}
		}
		p, err := decodePrediction(raw, key)
		if err != nil {
			return nil, &jsonl.Error{File: name, Line: at, Err: fmt.Errorf("key %q: %w", key, err)}
		}
		out = append(out, p)
	}
	return out, nil
}

// predictionRecord is what DecodePredictions reads of a record: SWE-bench's
// fields and OpenHands' patch and model.
type predictionRecord struct {
	InstanceID      string  `json:"instance_id"`
	ModelNameOrPath string  `json:"model_name_or_path"`
	ModelPatch      *string `json:"model_patch"`
	TestResult      *struct {
		GitPatch *string `json:"git_patch"`
	} `json:"test_result"`
	Metadata json.RawMessage `json:"metadata"`
}

// decodePrediction reads one record; key, when set, is its key in
// SWE-agent's dict.
func decodePrediction(raw json.RawMessage, key string) (sdk.Prediction, error) {
	var rec predictionRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return sdk.Prediction{}, err
	}
	if rec.InstanceID == "" {
		rec.InstanceID = key
	}
	if rec.InstanceID == "" {
		return sdk.Prediction{}, errors.New("record has no instance_id")
	}
	if key != "" && rec.InstanceID != key {
		return sdk.Prediction{}, fmt.Errorf("record's instance_id %q differs from its key", rec.InstanceID)
	}
	p := sdk.Prediction{InstanceID: rec.InstanceID, ModelNameOrPath: rec.ModelNameOrPath}
	switch {
	case rec.ModelPatch != nil:
		p.ModelPatch = *rec.ModelPatch
	case rec.TestResult != nil:
		if rec.TestResult.GitPatch != nil {
			p.ModelPatch = *rec.TestResult.GitPatch
		}
		if p.ModelNameOrPath == "" {
			p.ModelNameOrPath = openHandsModel(rec.Metadata)
		}
	}
	return p, nil
}

// openHandsModel returns metadata.llm_config.model of an OpenHands record,
// or "OpenHands" when it has none.
func openHandsModel(meta json.RawMessage) string {
	var m struct {
		LLMConfig struct {
			Model string `json:"model"`
		} `json:"llm_config"`
	}
	if json.Unmarshal(meta, &m) == nil && m.LLMConfig.Model != "" {
		return m.LLMConfig.Model
	}
	return "OpenHands"
}

// LatestPredictions keeps the last record of each instance id, as
// SWE-bench does when it turns the predictions into a dict: an id stays
// where it first appeared, with its last record. dups counts the records
// of each id that had more than one.
func LatestPredictions(preds []sdk.Prediction) (out []sdk.Prediction, dups map[string]int) {
	at := make(map[string]int, len(preds))
	for _, p := range preds {
		if i, ok := at[p.InstanceID]; ok {
			out[i] = p
			if dups == nil {
				dups = map[string]int{}
			}
			if dups[p.InstanceID] == 0 {
				dups[p.InstanceID] = 1
			}
			dups[p.InstanceID]++
			continue
		}
		at[p.InstanceID] = len(out)
		out = append(out, p)
	}
	return out, dups
}

// ReportSchemaVersion is the schema_version of SWE-bench's run report.
const ReportSchemaVersion = 2

// Report is SWE-bench's run report (make_run_report), key for key.
type Report struct {
	TotalInstances      int      `json:"total_instances"`
	SubmittedInstances  int      `json:"submitted_instances"`
	CompletedInstances  int      `json:"completed_instances"`
	ResolvedInstances   int      `json:"resolved_instances"`
	UnresolvedInstances int      `json:"unresolved_instances"`
	EmptyPatchInstances int      `json:"empty_patch_instances"`
	ErrorInstances      int      `json:"error_instances"`
	CompletedIDs        []string `json:"completed_ids"`
	IncompleteIDs       []string `json:"incomplete_ids"`
	EmptyPatchIDs       []string `json:"empty_patch_ids"`
	SubmittedIDs        []string `json:"submitted_ids"`
	ResolvedIDs         []string `json:"resolved_ids"`
	UnresolvedIDs       []string `json:"unresolved_ids"`
	ErrorIDs            []string `json:"error_ids"`
	SchemaVersion       int      `json:"schema_version"`
}

// NewReport builds the run report as SWE-bench's make_run_report does,
// joining predictions and results to tasks by instance id (the last of
// duplicates wins):
//
//   - a task without a prediction is incomplete;
//   - a prediction whose model_patch is empty is empty_patch;
//   - a prediction without a result, or whose result is "error", is an
//     error (SWE-bench writes no report.json for it);
//   - otherwise the task is completed, and resolved when its result is
//     "resolved", unresolved when it is anything else ("partial" included).
//
// submitted counts every distinct prediction id, also those of no task, as
// SWE-bench does. Every id list is sorted and never null.
func NewReport(tasks []sdk.Task, preds []sdk.Prediction, results []Result) Report {
	predByID := make(map[string]sdk.Prediction, len(preds))
	for _, p := range preds {
		predByID[p.InstanceID] = p
	}
	resByID := make(map[string]Result, len(results))
	for _, r := range results {
		resByID[r.InstanceID] = r
	}
	sets := map[string]map[string]bool{}
	add := func(set, id string) {
		if sets[set] == nil {
			sets[set] = map[string]bool{}
		}
		sets[set][id] = true
	}
	for _, t := range tasks {
		id := t.InstanceID
		p, ok := predByID[id]
		if !ok {
			add("incomplete", id)
			continue
		}
		if p.ModelPatch == "" {
			add("empty", id)
			continue
		}
		r, ok := resByID[id]
		if !ok || r.Status == ResultError || r.Status == "" {
			add("error", id)
			continue
		}
		add("completed", id)
		if r.Status == ResultResolved {
			add("resolved", id)
		} else {
			add("unresolved", id)
		}
	}
	for id := range predByID {
		add("submitted", id)
	}
	ids := func(set string) []string {
		out := make([]string, 0, len(sets[set]))
		for id := range sets[set] {
			out = append(out, id)
		}
		sort.Strings(out)
		return out
	}
	rep := Report{
		TotalInstances: len(tasks),
		CompletedIDs:   ids("completed"),
		IncompleteIDs:  ids("incomplete"),
		EmptyPatchIDs:  ids("empty"),
		SubmittedIDs:   ids("submitted"),
		ResolvedIDs:    ids("resolved"),
		UnresolvedIDs:  ids("unresolved"),
		ErrorIDs:       ids("error"),
		SchemaVersion:  ReportSchemaVersion,
	}
	rep.SubmittedInstances = len(rep.SubmittedIDs)
	rep.CompletedInstances = len(rep.CompletedIDs)
	rep.ResolvedInstances = len(rep.ResolvedIDs)
	rep.UnresolvedInstances = len(rep.UnresolvedIDs)
	rep.EmptyPatchInstances = len(rep.EmptyPatchIDs)
	rep.ErrorInstances = len(rep.ErrorIDs)
	return rep
}
