package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/core/pipeline"
	"github.com/swelego/swelego/core/trainer"
	"github.com/swelego/swelego/sdk"
)

// ErrNotRun is wrapped when a directory holds no run (no run.json).
var ErrNotRun = errors.New("not a run directory")

// Kinds of stage, from the block type of a stage's address.
const (
	KindTasks     = "tasks"     // source.PLUGIN.NAME
	KindSynthetic = "synthetic" // source.synthetic.NAME
	KindRollout   = "rollout"
	KindEval      = "eval"
	KindSFT       = "sft"
	KindTTS       = "tts"
)

// Run is what a run directory holds, read once.
type Run struct {
	Dir    string
	Info   engine.RunInfo
	Stages []*Stage // in the order their states were started
}

// Stage is one stage's state and the records it wrote.
type Stage struct {
	Address string
	Kind    string
	Name    string // the block's last label
	State   engine.StageState

	Tasks        []sdk.Task
	Yield        map[string]pipeline.Yield
	Rejected     []pipeline.Rejection
	Trajectories []sdk.Trajectory
	Results      []harness.Result
	EvalReport   *harness.Report
	Metrics      []trainer.Metrics
	Masks        []Mask
	Checkpoint   string // the published model folder, when there is one
	TTS          *pipeline.TTSReport
	TTSErrors    int
	// Workers counts what each swelego worker did for the stage, when its
	// items went over a queue (pipeline.WorkersFile).
	Workers map[string]pipeline.WorkerCount
}

// Mask is one masked assistant turn of an sft stage (its masks output).
type Mask struct {
	ID      string  `json:"id"` // INSTANCE/ATTEMPT
	Message int     `json:"message"`
	Weight  float64 `json:"weight"`
	Reason  string  `json:"reason,omitempty"`
}

// Stage returns the stage at address, or nil.
func (r *Run) Stage(address string) *Stage {
	for _, s := range r.Stages {
		if s.Address == address {
			return s
		}
	}
	return nil
}

// kindOf returns the kind of the stage at address.
func kindOf(address string) string {
	parts := strings.Split(address, ".")
	switch {
	case len(parts) >= 2 && parts[0] == "source" && parts[1] == "synthetic":
		return KindSynthetic
	case parts[0] == "source":
		return KindTasks
	}
	return parts[0]
}

// Load reads the run directory dir: its run.json, every stage state and
// the outputs of the stages it knows.
func Load(dir string) (*Run, error) {
	r := &Run{Dir: dir}
	data, err := os.ReadFile(filepath.Join(dir, "run.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load report of %s: %w", dir, ErrNotRun)
	}
	if err != nil {
		return nil, fmt.Errorf("load report: %w", err)
	}
	if err := json.Unmarshal(data, &r.Info); err != nil {
		return nil, fmt.Errorf("load report: run.json: %w", err)
	}
	states, err := filepath.Glob(filepath.Join(dir, "state", "*.json"))
	if err != nil {
		return nil, fmt.Errorf("load report: %w", err)
	}
	for _, p := range states {
		var st engine.StageState
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("load report: %w", err)
		}
		if err := json.Unmarshal(data, &st); err != nil {
			return nil, fmt.Errorf("load report: %s: %w", p, err)
		}
		s := &Stage{Address: st.Address, Kind: kindOf(st.Address), State: st}
		s.Name = st.Address[strings.LastIndex(st.Address, ".")+1:]
		if err := s.load(r.stageDir(st.Address)); err != nil {
			return nil, fmt.Errorf("load report: stage %s: %w", st.Address, err)
		}
		r.Stages = append(r.Stages, s)
	}
	sort.SliceStable(r.Stages, func(i, j int) bool {
		a, b := r.Stages[i].State.Started, r.Stages[j].State.Started
		if !a.Equal(b) {
			return a.Before(b)
		}
		return r.Stages[i].Address < r.Stages[j].Address
	})
	return r, nil
}

func (r *Run) stageDir(address string) string {
	return filepath.Join(r.Dir, filepath.FromSlash(strings.ReplaceAll(address, ".", "/")))
}

func (s *Stage) load(dir string) error {
	out := func(name string) string { return filepath.Join(dir, name+".jsonl") }
	if _, err := readJSON(filepath.Join(dir, pipeline.WorkersFile), &s.Workers); err != nil {
		return err
	}
	var err error
	switch s.Kind {
	case KindTasks:
		s.Tasks, err = readAll[sdk.Task](out(pipeline.TasksOutput))
	case KindSynthetic:
		if s.Tasks, err = readAll[sdk.Task](out(pipeline.TasksOutput)); err == nil {
			s.Rejected, err = readAll[pipeline.Rejection](out(pipeline.RejectedOutput))
		}
		if err == nil {
			_, err = readJSON(filepath.Join(dir, pipeline.YieldFile), &s.Yield)
		}
	case KindRollout:
		s.Trajectories, err = readAll[sdk.Trajectory](out(pipeline.TrajectoriesOutput))
	case KindEval:
		if s.Results, err = readAll[harness.Result](out(pipeline.ResultsOutput)); err == nil {
			var rep harness.Report
			var ok bool
			if ok, err = readJSON(filepath.Join(dir, pipeline.ReportFile), &rep); ok {
				s.EvalReport = &rep
			}
		}
	case KindSFT:
		if s.Metrics, err = readAll[trainer.Metrics](out(pipeline.MetricsOutput)); err == nil {
			s.Masks, err = readAll[Mask](out(pipeline.MasksOutput))
		}
		if m := filepath.Join(dir, pipeline.ModelDir); isDir(m) {
			s.Checkpoint = m
		}
	case KindTTS:
		if s.Trajectories, err = readAll[sdk.Trajectory](out(pipeline.TrajectoriesOutput)); err != nil {
			return err
		}
		var errs []json.RawMessage
		if errs, err = readAll[json.RawMessage](out(pipeline.ErrorsOutput)); err != nil {
			return err
		}
		s.TTSErrors = len(errs)
		var rep pipeline.TTSReport
		var ok bool
		if ok, err = readJSON(filepath.Join(dir, pipeline.TTSReportFile), &rep); ok {
			s.TTS = &rep
		}
	}
	return err
}

// readAll reads every record of a JSON Lines output; a missing file has
// none.
func readAll[T any](path string) ([]T, error) {
	var out []T
	err := engine.ReadRecords(path, func(line int, raw json.RawMessage) error {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		out = append(out, v)
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return out, err
}

// readJSON reads a JSON file into v; ok is false when it does not exist.
func readJSON(path string, v any) (ok bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// Trajectory finds the trajectory of instance id (attempt 0: the first)
// among the stages' trajectories, and the sft masks that apply to it.
func (r *Run) Trajectory(address, instanceID string, attempt int) (*sdk.Trajectory, []Mask) {
	for _, s := range r.Stages {
		if address != "" && s.Address != address {
			continue
		}
		for i := range s.Trajectories {
			t := &s.Trajectories[i]
			if t.InstanceID == instanceID && (attempt == 0 || t.Attempt == attempt) {
				return t, r.masksOf(t)
			}
		}
	}
	return nil, nil
}

// masksOf returns the sft masks of trajectory t (keyed INSTANCE/ATTEMPT).
func (r *Run) masksOf(t *sdk.Trajectory) []Mask {
	key := fmt.Sprintf("%s/%d", t.InstanceID, t.Attempt)
	var out []Mask
	for _, s := range r.Stages {
		for _, m := range s.Masks {
			if m.ID == key {
				out = append(out, m)
			}
		}
	}
	return out
}

func jsonMarshal(v any) ([]byte, error) { return json.MarshalIndent(v, "", "  ") }
