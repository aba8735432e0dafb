package trajfmt

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/jsonl"
)

// Writer writes trajectories as JSON Lines records.
type Writer struct {
	w    *bufio.Writer
	opts Options
}

// NewWriter returns a Writer to w; call Flush at the end.
func NewWriter(w io.Writer, opts Options) *Writer {
	return &Writer{w: bufio.NewWriter(w), opts: opts}
}

// Write encodes t as one line.
func (w *Writer) Write(t sdk.Trajectory) error {
	rec, err := Encode(t, w.opts)
	if err != nil {
		return err
	}
	if _, err := w.w.Write(rec); err != nil {
		return err
	}
	return w.w.WriteByte('\n')
}

// Flush writes out what is buffered.
func (w *Writer) Flush() error { return w.w.Flush() }

// Export writes trajs to w as JSON Lines.
func Export(ctx context.Context, w io.Writer, trajs []sdk.Trajectory, opts Options) error {
	tw := NewWriter(w, opts)
	for _, t := range trajs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := tw.Write(t); err != nil {
			return err
		}
	}
	return tw.Flush()
}

// Reader reads records from a JSON Lines file or a JSON array of records.
type Reader struct {
	dec  *jsonl.Decoder
	name string
	opts Options
}

// NewReader reads from r; name is used in errors (file:line).
func NewReader(r io.Reader, name string, opts Options) *Reader {
	return &Reader{dec: jsonl.NewDecoder(r, name), name: name, opts: opts}
}

// Next returns the next trajectory, io.EOF after the last. A bad record
// gives a *jsonl.Error naming the file and line; reading may go on.
func (r *Reader) Next() (sdk.Trajectory, error) {
	raw, line, err := r.dec.NextRaw()
	if err != nil {
		return sdk.Trajectory{}, err
	}
	t, err := Decode(raw, r.opts)
	if err != nil {
		return sdk.Trajectory{}, &jsonl.Error{File: r.name, Line: line, Err: err}
	}
	return t, nil
}

// Import reads every trajectory of r; it stops at the first bad record.
func Import(ctx context.Context, r io.Reader, name string, opts Options) ([]sdk.Trajectory, error) {
	tr := NewReader(r, name, opts)
	var out []sdk.Trajectory
	for {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		t, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, t)
	}
}

// DatasetEntry is one entry of LLaMA-Factory's data/dataset_info.json.
type DatasetEntry struct {
	FileName   string            `json:"file_name"`
	Formatting string            `json:"formatting"`
	Columns    map[string]string `json:"columns"`
	Tags       map[string]string `json:"tags"`
}

// DatasetInfo is the dataset_info.json entry for a ShareGPT export in
// fileName. Tool calls are text inside assistant messages, so no message
// has the function tag; the observation tag is the observation role, or
// "tool" (which no message has) when results are user messages, because
// LLaMA-Factory must not read user messages as observations.
func DatasetInfo(fileName string, opts Options) (DatasetEntry, error) {
	role, err := opts.observationRole()
	if err != nil {
		return DatasetEntry{}, err
	}
	if role == "user" {
		role = "tool"
	}
	return DatasetEntry{
		FileName:   fileName,
		Formatting: "sharegpt",
		Columns:    map[string]string{"messages": "messages"},
		Tags: map[string]string{
			"role_tag":        "role",
			"content_tag":     "content",
			"user_tag":        "user",
			"assistant_tag":   "assistant",
			"observation_tag": role,
			"function_tag":    "function_call",
			"system_tag":      "system",
		},
	}, nil
}

// WriteDatasetInfo sets entry name of the dataset_info.json at path,
// keeping the other entries, and replaces the file atomically.
func WriteDatasetInfo(path, name string, entry DatasetEntry) error {
	info := map[string]json.RawMessage{}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &info); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if info == nil {
			info = map[string]json.RawMessage{}
		}
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	raw, err := json.Marshal(entry)
	if err != nil {
		return err
	}
	info[name] = raw
	out, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".dataset_info-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(out, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
