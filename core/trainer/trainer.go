package trainer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/swelego/swelego/core/model"
	"github.com/swelego/swelego/core/optim"
	"github.com/swelego/swelego/core/safetensors"
	"github.com/swelego/swelego/core/sftdata"
)

// Options configure a run.
type Options struct {
	Optim optim.Config
	// LR is the peak learning rate, WarmupRatio the share of steps of
	// linear warmup and MinLRRatio the floor of the cosine decay.
	LR, WarmupRatio, MinLRRatio float64
	// MicroBatch is the number of rows per forward/backward pass.
	MicroBatch int
	// SaveEvery writes a checkpoint every so many steps (0: only at the
	// end); Keep is how many step checkpoints to keep (0: all).
	SaveEvery, Keep int
	// Dir holds the checkpoints.
	Dir string
	// PlanID fingerprints the plan and the data; a checkpoint made under
	// another plan is not resumed from.
	PlanID string
	// OnStep is called after every step the run makes (not for the steps
	// a resumed run skips), after the step's checkpoint if it has one.
	OnStep func(Metrics) error
}

// Metrics describe one optimiser step.
type Metrics struct {
	Step  int     `json:"step"` // 1-based
	Epoch float64 `json:"epoch"`
	// Stage is the curriculum stage.
	Stage         string  `json:"stage"`
	Loss          float64 `json:"loss"`
	LR            float64 `json:"lr"`
	GradNorm      float64 `json:"grad_norm"`
	Tokens        int     `json:"tokens"`
	TrainedTokens int     `json:"trained_tokens"`
	TokensPerSec  float64 `json:"tokens_per_sec"`
	Seconds       float64 `json:"seconds"`
}

// Result says what a run did.
type Result struct {
	// ResumedFrom is the step of the checkpoint the run resumed from (0
	// when it started fresh); Steps is the plan's length.
	ResumedFrom, Steps int
	// Checkpoint is the folder of the last checkpoint.
	Checkpoint string
}

// ErrPlan is wrapped when the checkpoint directory holds checkpoints of
// another plan.
var ErrPlan = errors.New("checkpoint of another plan")

// progress is progress.json.
type progress struct {
	Step   int    `json:"step"`
	PlanID string `json:"plan_id"`
}

// Train runs the steps of plan after the last checkpoint in o.Dir (all of
// them when there is none), checkpointing as configured and at the end.
func Train(ctx context.Context, m *model.Model, examples []*sftdata.Example, plan []sftdata.Step, o Options) (Result, error) {
	if o.MicroBatch < 1 {
		o.MicroBatch = 1
	}
	res := Result{Steps: len(plan)}
	opt := optim.NewAdamW(m.Backend(), m.Params(), o.Optim)
	sched := optim.Schedule{Peak: o.LR, Warmup: int(math.Ceil(o.WarmupRatio * float64(len(plan)))), Total: len(plan), MinRatio: o.MinLRRatio}

	start, dir, err := latest(o.Dir)
	if err != nil {
		return res, err
	}
	if dir != "" {
		var p progress
		if err := readJSON(filepath.Join(dir, "progress.json"), &p); err != nil {
			return res, err
		}
		if p.PlanID != o.PlanID {
			return res, fmt.Errorf("%w: %s was made for plan %s, this run's is %s (remove the folder to start again)", ErrPlan, dir, p.PlanID, o.PlanID)
		}
		if err := m.LoadWeights(ctx, dir); err != nil {
			return res, fmt.Errorf("resume: %w", err)
		}
		if err := opt.Load(ctx, dir); err != nil {
			return res, fmt.Errorf("resume: %w", err)
		}
		res.ResumedFrom, res.Checkpoint = start, dir
	}

	for s := start; s < len(plan); s++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		began := time.Now()
		met, err := step(m, opt, examples, plan[s], o.MicroBatch, sched.LR(s))
		if err != nil {
			return res, fmt.Errorf("step %d: %w", s+1, err)
		}
		met.Step, met.Epoch, met.Stage = s+1, plan[s].Epoch, plan[s].StageName
		met.Seconds = time.Since(began).Seconds()
		met.TokensPerSec = float64(met.Tokens) / max(met.Seconds, 1e-9)
		if math.IsNaN(met.Loss) || math.IsInf(met.Loss, 0) {
			return res, fmt.Errorf("step %d: loss is %v", s+1, met.Loss)
		}
		if s+1 == len(plan) || (o.SaveEvery > 0 && (s+1)%o.SaveEvery == 0) {
			if res.Checkpoint, err = save(ctx, m, opt, o, s+1); err != nil {
				return res, err
			}
		}
		if o.OnStep != nil {
			if err := o.OnStep(met); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// step runs one global batch: every micro-batch's gradient accumulated with
// the loss normalised by the trained tokens of the whole batch, then one
// clipped AdamW update.
func step(m *model.Model, opt *optim.AdamW, examples []*sftdata.Example, st sftdata.Step, micro int, lr float64) (Metrics, error) {
	rows := make([]sftdata.Row, len(st.Rows))
	var met Metrics
	for i, idx := range st.Rows {
		rows[i] = sftdata.RowOf(examples, idx)
		met.Tokens += rows[i].Len()
		met.TrainedTokens += rows[i].Trained()
	}
	m.ZeroGrad()
	for lo := 0; lo < len(rows); lo += micro {
		b := Batch(rows[lo:min(lo+micro, len(rows))])
		loss, err := m.ForwardBackward(b, float64(max(met.TrainedTokens, 1)))
		if err != nil {
			return met, err
		}
		met.Loss += loss
	}
	met.LR = lr
	met.GradNorm = opt.Step(lr)
	return met, nil
}

// padMultiple rounds a micro-batch's length up, so that rows of similar
// lengths share one set of activation buffers.
const padMultiple = 64

// Batch lays rows out as one model batch, padded to a common length: pad
// positions hold token 0 with weight 0 in a segment of their own.
func Batch(rows []sftdata.Row) *model.Batch {
	T := 0
	for _, r := range rows {
		T = max(T, r.Len())
	}
	T = (T + padMultiple - 1) / padMultiple * padMultiple
	b := &model.Batch{B: len(rows), T: T,
		Tokens: make([]int32, len(rows)*T), Targets: make([]int32, len(rows)*T),
		Weights: make([]float32, len(rows)*T), Segments: make([]int32, len(rows)*T)}
	for i, r := range rows {
		o := i * T
		copy(b.Tokens[o:], r.Tokens)
		copy(b.Targets[o:], r.Targets)
		copy(b.Weights[o:], r.Weights)
		copy(b.Segments[o:], r.Segments)
		pad := int32(len(r.Examples))
		for t := r.Len(); t < T; t++ {
			b.Segments[o+t] = pad
		}
	}
	return b
}

const stepPrefix = "step-"

func stepDir(dir string, step int) string {
	return filepath.Join(dir, fmt.Sprintf("%s%08d", stepPrefix, step))
}

// save writes the checkpoint of step and removes checkpoints beyond Keep.
func save(ctx context.Context, m *model.Model, opt *optim.AdamW, o Options, step int) (string, error) {
	final := stepDir(o.Dir, step)
	tmp := final + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return "", err
	}
	if err := m.Save(ctx, tmp, safetensors.F32); err != nil {
		return "", err
	}
	if err := opt.Save(ctx, tmp); err != nil {
		return "", err
	}
	if err := writeJSON(filepath.Join(tmp, "progress.json"), progress{Step: step, PlanID: o.PlanID}); err != nil {
		return "", err
	}
	if err := os.RemoveAll(final); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	if err := syncDir(o.Dir); err != nil {
		return "", err
	}
	if o.Keep > 0 {
		steps, err := checkpoints(o.Dir)
		if err != nil {
			return "", err
		}
		for len(steps) > o.Keep {
			if err := os.RemoveAll(stepDir(o.Dir, steps[0])); err != nil {
				return "", err
			}
			steps = steps[1:]
		}
	}
	return final, nil
}

// checkpoints lists the steps of the complete checkpoints in dir, oldest
// first.
func checkpoints(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var steps []int
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, stepPrefix) || strings.HasSuffix(name, ".tmp") {
			continue
		}
		var n int
		if _, err := fmt.Sscanf(name, stepPrefix+"%d", &n); err == nil && n > 0 {
			steps = append(steps, n)
		}
	}
	sort.Ints(steps)
	return steps, nil
}

// latest returns the step and folder of the newest checkpoint in dir.
func latest(dir string) (int, string, error) {
	steps, err := checkpoints(dir)
	if err != nil || len(steps) == 0 {
		return 0, "", err
	}
	n := steps[len(steps)-1]
	return n, stepDir(dir, n), nil
}

// Latest returns the folder of the newest complete checkpoint in dir, or ""
// when there is none.
func Latest(dir string) (string, error) {
	_, d, err := latest(dir)
	return d, err
}

func writeJSON(path string, v any) error {
	js, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(js, '\n'), 0o644)
}

func readJSON(path string, v any) error {
	js, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(js, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
