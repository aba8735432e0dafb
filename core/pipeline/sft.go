package pipeline

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/swelego/swelego/core/backend"
	"github.com/swelego/swelego/core/chattemplate"
	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/infer"
	"github.com/swelego/swelego/core/model"
	"github.com/swelego/swelego/core/optim"
	"github.com/swelego/swelego/core/safetensors"
	"github.com/swelego/swelego/core/sftdata"
	"github.com/swelego/swelego/core/tokenizer"
	"github.com/swelego/swelego/core/trainer"
	"github.com/swelego/swelego/core/trajfmt"
	"github.com/swelego/swelego/hcl"
	"github.com/swelego/swelego/sdk"
)

// Outputs and folders of an sft stage.
const (
	// MetricsOutput holds one record per optimiser step (trainer.Metrics).
	MetricsOutput = "metrics"
	// MasksOutput holds one record per masked assistant turn: which
	// trajectory, which message, the weight and the masker's reason.
	MasksOutput = "masks"
	// ModelDir is the folder, inside the stage's directory, where the
	// trained model is published (Hugging Face layout, with the tokenizer's
	// files when it was loaded from a folder, and infer.MetaFile naming the
	// tokenizer and chat template): runs/…/sft.NAME/model.
	ModelDir = "model"
	// CheckpointsDir holds the step checkpoints a killed run resumes from.
	CheckpointsDir = "checkpoints"
	// ShareGPTDir holds the prepared data as LLaMA-Factory ShareGPT with
	// turn_mask, and its dataset_info.json.
	ShareGPTDir = "sharegpt"
)

// Default plugins of an sft stage without masker or curriculum blocks.
const (
	DefaultMasker     = "errormask"
	DefaultCurriculum = "curriculum"
)

// sftConfig is an sft block decoded once; hcl's checks have already
// rejected values out of range.
type sftConfig struct {
	Trajectories string // a rollout address, or a file
	FromRollout  bool
	Include      []string
	ToolSet      string // toolset block address, "" for the default
	Tokenizer    string
	Template     string
	ModelConfig  string
	Checkpoint   string
	InitStd      float64
	Backend      string
	Device       int
	Precision    string
	Epochs       float64
	GlobalBatch  int
	MicroBatch   int
	LR           float64
	MinLRRatio   float64
	WeightDecay  float64
	WarmupRatio  float64
	MaxGradNorm  float64
	MaxSeqLen    int
	Overflow     sftdata.Overflow
	Packing      bool
	Seed         uint64
	SaveEvery    int
	Keep         int
	DType        safetensors.DType
}

// decodeSFT turns an sft block's settings (the paper's defaults: 4
// epochs, global batch 64, lr 1e-4, weight decay 0.01, clipping at 1.0,
// warmup ratio 0.1, the qwen3 template, resolved and semi-resolved
// trajectories; paths resolved against the recipe's folder) into the
// stage's configuration.
func decodeSFT(b *hcl.SFT) sftConfig {
	c := sftConfig{
		Trajectories: b.Trajectories.Path,
		Include:      b.Include,
		ToolSet:      b.Toolset,
		Tokenizer:    b.Tokenizer,
		Template:     b.Template,
		ModelConfig:  b.Model.Config,
		Checkpoint:   b.Model.Checkpoint,
		InitStd:      b.Model.InitStd,
		Backend:      b.Backend,
		Device:       b.Device,
		Precision:    b.Precision,
		Epochs:       b.Epochs,
		GlobalBatch:  b.GlobalBatch,
		MicroBatch:   b.MicroBatch,
		LR:           b.LR,
		MinLRRatio:   b.MinLRRatio,
		WeightDecay:  b.WeightDecay,
		WarmupRatio:  b.WarmupRatio,
		MaxGradNorm:  b.MaxGradNorm,
		MaxSeqLen:    b.MaxSeqLen,
		Overflow:     sftdata.Overflow(b.Overflow),
		Packing:      b.Packing,
		Seed:         b.Seed,
		SaveEvery:    b.SaveEvery,
		Keep:         b.KeepCheckpoints,
		DType:        safetensors.F32,
	}
	if ref := b.Trajectories.Ref; ref != "" {
		c.Trajectories, c.FromRollout = ref, true
	}
	if b.DType == "bfloat16" {
		c.DType = safetensors.BF16
	}
	return c
}

func tokenizerBuiltin(name string) bool { return name == "cl100k_base" || name == "o200k_base" }

// sftStage fine-tunes a model on trajectories: `sft "NAME" { … }`.
type sftStage struct {
	stageBase
	cfg *hcl.SFT
}

// Fingerprint adds the tool set's plugin and the default masker and
// curriculum plugins to the block's.
func (s *sftStage) Fingerprint() string {
	h := sha256.New()
	io.WriteString(h, s.stageBase.Fingerprint())
	plugin := DefaultToolSet
	if b := s.recipe.Block(s.cfg.Toolset); b != nil {
		plugin = b.Plugin
		fmt.Fprintf(h, "\ntoolset %s", b.Config)
	}
	s.writePlugin(h, plugin)
	if s.cfg.Masker == nil {
		s.writePlugin(h, DefaultMasker)
	}
	if s.cfg.Curriculum == nil {
		s.writePlugin(h, DefaultCurriculum)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func (s *sftStage) Run(ctx context.Context, sc *engine.StageContext) error {
	return s.run(ctx, sc, decodeSFT(s.cfg))
}

func (s *sftStage) run(ctx context.Context, sc *engine.StageContext, c sftConfig) error {
	if s.host == nil {
		return errors.New("no plugin host")
	}
	// The backend opens first: a recipe asking for one this binary lacks
	// fails before any work.
	be, err := trainer.OpenBackend(trainer.BackendOptions{Name: c.Backend, Device: c.Device, Precision: c.Precision})
	if err != nil {
		return err
	}
	defer be.Close()
	trajs, err := s.trajectories(ctx, sc, c)
	if err != nil {
		return err
	}
	tools, err := s.tools(ctx)
	if err != nil {
		return err
	}
	tok, err := tokenizer.Load(ctx, c.Tokenizer)
	if err != nil {
		return fmt.Errorf("tokenizer: %w", err)
	}
	tmpl, err := chattemplate.Get(c.Template)
	if err != nil {
		return err
	}
	examples, err := s.prepare(ctx, sc, c, trajs, sftdata.Options{Tokenizer: tok, Template: tmpl, Tools: tools,
		MaxSeqLen: c.MaxSeqLen, Overflow: c.Overflow})
	if err != nil {
		return err
	}
	if len(examples) == 0 {
		return errors.New("no trajectory left to train on (see the stage's counts)")
	}
	stages, err := s.curriculum(ctx, sc, c, examples)
	if err != nil {
		return err
	}
	plan, err := sftdata.MakePlan(examples, stages, sftdata.PlanOptions{Seed: c.Seed, GlobalBatch: c.GlobalBatch,
		SeqLen: c.MaxSeqLen, Packing: c.Packing})
	if err != nil {
		return err
	}
	sc.Logger.Info("sft plan", "examples", len(examples), "stages", len(stages), "steps", len(plan),
		"tokenizer", tok.Name(), "template", tmpl.Name())

	m, err := s.model(ctx, c, be, tok)
	if err != nil {
		return err
	}
	metrics, err := sc.OpenOutput(MetricsOutput, engine.KeyFields("step"))
	if err != nil {
		return err
	}
	defer metrics.Close()
	prog := sc.Progress(len(plan))
	defer prog.Finish()
	ckpts := filepath.Join(sc.Dir(), CheckpointsDir)
	if done, _ := trainer.Latest(ckpts); done != "" {
		sc.Logger.Info("resuming", "checkpoint", done)
	}
	skipped := false
	res, err := trainer.Train(ctx, m, examples, plan, trainer.Options{
		Optim: optim.Config{WeightDecay: c.WeightDecay, MaxGradNorm: c.MaxGradNorm},
		LR:    c.LR, WarmupRatio: c.WarmupRatio, MinLRRatio: c.MinLRRatio,
		MicroBatch: c.MicroBatch, SaveEvery: c.SaveEvery, Keep: c.Keep,
		Dir: ckpts, PlanID: planID(examples, plan),
		OnStep: func(met trainer.Metrics) error {
			if !skipped {
				skipped = true
				prog.Skip(met.Step - 1)
			}
			prog.Note("loss", fmt.Sprintf("%.4f", met.Loss), "lr", fmt.Sprintf("%.2e", met.LR))
			prog.Add(1)
			sc.Logger.Debug("step", "step", met.Step, "loss", met.Loss, "lr", met.LR, "grad_norm", met.GradNorm)
			// A resumed run repeats the steps after its checkpoint; the
			// first run's records of them stand (the steps are the same).
			if key := fmt.Sprint(met.Step); !metrics.Has(key) {
				return metrics.Append(ctx, key, met)
			}
			return nil
		},
	})
	if err != nil {
		return err
	}
	if res.ResumedFrom > 0 {
		sc.Logger.Info("resumed", "from_step", res.ResumedFrom, "steps", res.Steps)
	}
	return s.publish(ctx, sc, c, m, tok)
}

// trajectories reads the input and keeps the statuses asked for. Records
// without a status (curated data such as SWE-Lego's release) are kept.
func (s *sftStage) trajectories(ctx context.Context, sc *engine.StageContext, c sftConfig) ([]sdk.Trajectory, error) {
	var all []sdk.Trajectory
	if c.FromRollout {
		path := sc.OutputPath(c.Trajectories, TrajectoriesOutput)
		err := engine.ReadRecords(path, func(line int, raw json.RawMessage) error {
			var t sdk.Trajectory
			if err := json.Unmarshal(raw, &t); err != nil {
				return fmt.Errorf("%s:%d: %w", path, line, err)
			}
			all = append(all, t)
			return nil
		})
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no trajectories at %s: run %s first", path, c.Trajectories)
		}
		if err != nil {
			return nil, err
		}
	} else {
		f, err := os.Open(c.Trajectories)
		if err != nil {
			return nil, fmt.Errorf("trajectories: %w", err)
		}
		defer f.Close()
		all, err = trajfmt.Import(ctx, bufio.NewReader(f), c.Trajectories, trajfmt.Options{})
		if err != nil {
			return nil, fmt.Errorf("trajectories: %w", err)
		}
	}
	var out []sdk.Trajectory
	for _, t := range all {
		if t.Status == "" || slices.Contains(c.Include, t.Status) {
			out = append(out, t)
			continue
		}
		sc.Count("skipped_status."+t.Status, 1)
	}
	sc.Count("trajectories", int64(len(all)))
	return out, nil
}

// tools asks the tool set for the schemas the template describes.
func (s *sftStage) tools(ctx context.Context) ([]sdk.ToolSchema, error) {
	plugin, cfg := DefaultToolSet, sdk.Config(nil)
	if ref := s.cfg.Toolset; ref != "" {
		b := s.recipe.Block(ref)
		if b == nil {
			return nil, fmt.Errorf("toolset %q is not in the recipe", ref)
		}
		plugin, cfg = b.Plugin, b.Config
	}
	ts, err := s.host.ToolSet(ctx, plugin)
	if err != nil {
		return nil, fmt.Errorf("tool set: %w", err)
	}
	tools, err := ts.Tools(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("tool set %s: %w", plugin, err)
	}
	return tools, nil
}

// maskRecord is one masked assistant turn.
type maskRecord struct {
	ID      string  `json:"id"`
	Message int     `json:"message"`
	Weight  float64 `json:"weight"`
	Reason  string  `json:"reason,omitempty"`
}

// prepare masks, renders and tokenizes every trajectory, and writes the
// masked data as ShareGPT for other trainers.
func (s *sftStage) prepare(ctx context.Context, sc *engine.StageContext, c sftConfig, trajs []sdk.Trajectory, opts sftdata.Options) ([]*sftdata.Example, error) {
	plugin, cfg := DefaultMasker, sdk.Config(nil)
	if nb := s.cfg.Masker; nb != nil {
		plugin, cfg = nb.Plugin, nb.Config
	}
	masker, err := s.host.LossMasker(ctx, plugin)
	if err != nil {
		return nil, fmt.Errorf("loss masker: %w", err)
	}
	masks, err := sc.OpenOutput(MasksOutput, engine.KeyFields("id", "message"))
	if err != nil {
		return nil, err
	}
	defer masks.Close()
	share, err := newShareGPT(filepath.Join(sc.Dir(), ShareGPTDir), opts.Tools)
	if err != nil {
		return nil, err
	}
	defer share.abort()

	var examples []*sftdata.Example
	seen := map[string]bool{}
	for _, t := range trajs {
		id := sftdata.Key(t)
		if seen[id] {
			return nil, fmt.Errorf("trajectory %s appears twice", id)
		}
		seen[id] = true
		lw, err := masker.Mask(ctx, cfg, t)
		if err != nil {
			return nil, fmt.Errorf("loss masker %s on %s: %w", plugin, id, err)
		}
		weights, err := sdk.ResolveLossWeights(t, lw)
		if err != nil {
			return nil, fmt.Errorf("loss masker %s on %s: %w", plugin, id, err)
		}
		for _, w := range lw {
			if t.Messages[w.Index].Role == "assistant" && w.Weight != 1 {
				rec := maskRecord{ID: id, Message: w.Index, Weight: w.Weight, Reason: w.Reason}
				if key := fmt.Sprintf("%s/%d", id, w.Index); !masks.Has(key) {
					if err := masks.Append(ctx, key, rec); err != nil {
						return nil, err
					}
				}
			}
		}
		ex, err := sftdata.Prepare(t, weights, opts)
		switch {
		case errors.Is(err, sftdata.ErrTooLong):
			sc.Count("dropped_too_long", 1)
			continue
		case errors.Is(err, sftdata.ErrNothingTrained):
			sc.Count("dropped_nothing_trained", 1)
			continue
		case err != nil:
			return nil, fmt.Errorf("trajectory %s: %w", id, err)
		}
		if ex.Truncated {
			sc.Count("truncated", 1)
		}
		sc.Count("masked_turns", int64(ex.Masked))
		sc.Count("assistant_turns", int64(ex.Turns))
		if err := share.add(t, weights); err != nil {
			return nil, err
		}
		examples = append(examples, ex)
	}
	sc.Count("examples", int64(len(examples)))
	return examples, share.commit()
}

// curriculum asks the curriculum plugin for the stages and checks them.
func (s *sftStage) curriculum(ctx context.Context, sc *engine.StageContext, c sftConfig, examples []*sftdata.Example) ([]sftdata.Stage, error) {
	plugin, cfg := DefaultCurriculum, sdk.Config(nil)
	if nb := s.cfg.Curriculum; nb != nil {
		plugin, cfg = nb.Plugin, nb.Config
	}
	cur, err := s.host.Curriculum(ctx, plugin)
	if err != nil {
		return nil, fmt.Errorf("curriculum: %w", err)
	}
	stats := make([]sdk.TrajectoryStats, len(examples))
	index := make(map[string]int, len(examples))
	for i, ex := range examples {
		stats[i] = sdk.TrajectoryStats{ID: ex.ID, Turns: ex.Turns, Tokens: len(ex.IDs)}
		index[ex.ID] = i
	}
	got, err := cur.Stages(ctx, cfg, stats)
	if err != nil {
		return nil, fmt.Errorf("curriculum %s: %w", plugin, err)
	}
	untrained, err := sdk.CheckStages(stats, got)
	if err != nil {
		return nil, fmt.Errorf("curriculum %s: %w", plugin, err)
	}
	share := 0.0
	var kept []sdk.CurriculumStage
	for _, st := range got {
		if len(st.IDs) > 0 { // stages with no ids are dropped
			kept = append(kept, st)
			share += st.Epochs
		}
	}
	if len(kept) == 0 {
		return nil, fmt.Errorf("curriculum %s put no trajectory in any stage", plugin)
	}
	out := make([]sftdata.Stage, len(kept))
	for k, st := range kept {
		out[k] = sftdata.Stage{Name: st.Name, Epochs: st.Epochs}
		if share == 0 {
			out[k].Epochs = c.Epochs / float64(len(kept))
		}
		for _, id := range st.IDs {
			out[k].Examples = append(out[k].Examples, index[id])
		}
		sc.Logger.Info("curriculum stage", "stage", st.Name, "trajectories", len(st.IDs), "epochs", out[k].Epochs)
	}
	if n := untrained; n > 0 {
		sc.Logger.Warn("trajectories in no curriculum stage are not trained", "count", n)
		sc.Count("not_in_curriculum", int64(n))
	}
	return out, nil
}

// model makes the model to train: a checkpoint's weights, or a config's
// shape with random weights from the seed.
func (s *sftStage) model(ctx context.Context, c sftConfig, be backend.Backend, tok tokenizer.Tokenizer) (*model.Model, error) {
	var m *model.Model
	if c.Checkpoint != "" {
		var err error
		if m, err = model.Load(ctx, c.Checkpoint, be); err != nil {
			return nil, err
		}
	} else {
		cfg, err := model.ReadConfig(c.ModelConfig)
		if err != nil {
			return nil, err
		}
		if m, err = model.New(be, cfg); err != nil {
			return nil, fmt.Errorf("model %s: %w", c.ModelConfig, err)
		}
		m.InitRandom(c.Seed, c.InitStd)
	}
	if v := tok.VocabSize(); v > m.Config.VocabSize {
		return nil, fmt.Errorf("tokenizer %s has %d ids but the model's vocabulary has %d", tok.Name(), v, m.Config.VocabSize)
	}
	return m, nil
}

// publish writes the trained model to the stage's model folder, with the
// tokenizer's files when it came from a folder, so the folder loads as one
// Hugging Face model.
func (s *sftStage) publish(ctx context.Context, sc *engine.StageContext, c sftConfig, m *model.Model, tok tokenizer.Tokenizer) error {
	dir := filepath.Join(sc.Dir(), ModelDir)
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := m.Save(ctx, tmp, c.DType); err != nil {
		return err
	}
	if fi, err := os.Stat(c.Tokenizer); err == nil && fi.IsDir() {
		for _, name := range []string{"tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt", "special_tokens_map.json", "generation_config.json"} {
			data, err := os.ReadFile(filepath.Join(c.Tokenizer, name))
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(tmp, name), data, 0o644); err != nil {
				return err
			}
		}
	}
	// Which tokenizer and template the model reads, for serve.
	meta := infer.Meta{Tokenizer: infer.MetaOwnTokenizer, Template: c.Template}
	if tokenizerBuiltin(c.Tokenizer) {
		meta.Tokenizer = c.Tokenizer
	}
	if err := infer.WriteMeta(tmp, meta); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

// planID fingerprints the prepared data and the plan, so a checkpoint is
// only resumed under the same ones.
func planID(examples []*sftdata.Example, plan []sftdata.Step) string {
	h := sha256.New()
	var buf [4]byte
	for _, ex := range examples {
		io.WriteString(h, ex.ID)
		for k, id := range ex.IDs {
			binary.LittleEndian.PutUint32(buf[:], uint32(id))
			h.Write(buf[:])
			binary.LittleEndian.PutUint32(buf[:], math.Float32bits(ex.Weights[k]))
			h.Write(buf[:])
		}
	}
	for _, st := range plan {
		fmt.Fprintf(h, "|%d", st.Stage)
		for _, row := range st.Rows {
			fmt.Fprint(h, row)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
