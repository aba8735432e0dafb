package sftdata

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Stage is one curriculum stage: examples (indices into the prepared
// examples) trained for Epochs passes, possibly fractional.
type Stage struct {
	Name     string
	Examples []int
	Epochs   float64
}

// Step is one optimiser step: the rows of its global batch, each row the
// indices of the examples packed into it.
type Step struct {
	// Stage is the curriculum stage's index and StageName its name.
	Stage     int
	StageName string
	// Epoch is the training progress at the end of the step, in epochs
	// over the stage's examples summed across stages (4.0 at the end of a
	// 4-epoch run).
	Epoch float64
	Rows  [][]int
}

// PlanOptions say how stages become steps.
type PlanOptions struct {
	Seed        uint64
	GlobalBatch int // rows per optimiser step
	SeqLen      int // a packed row's capacity in tokens
	Packing     bool
}

// MakePlan lays out every optimiser step of a run. Each stage is trained
// in turn: for each pass over it the stage's examples are shuffled with a
// generator seeded from (seed, stage, pass), laid out as rows (packed when
// asked), and cut into global batches; a last, smaller batch of a pass is
// kept (no data is dropped). A fractional pass trains the first share of
// one more shuffle. The plan depends only on its inputs, so a resumed run
// finds its place by step number.
func MakePlan(examples []*Example, stages []Stage, o PlanOptions) ([]Step, error) {
	if o.GlobalBatch < 1 {
		return nil, fmt.Errorf("global batch %d: must be at least 1", o.GlobalBatch)
	}
	var steps []Step
	done := 0.0
	for si, st := range stages {
		if st.Epochs < 0 || math.IsNaN(st.Epochs) || math.IsInf(st.Epochs, 0) {
			return nil, fmt.Errorf("stage %s: %v epochs", st.Name, st.Epochs)
		}
		for _, i := range st.Examples {
			if i < 0 || i >= len(examples) {
				return nil, fmt.Errorf("stage %s: example %d of %d", st.Name, i, len(examples))
			}
		}
		n := len(st.Examples)
		if n == 0 {
			continue
		}
		for pass := 0; float64(pass) < st.Epochs; pass++ {
			share := min(1, st.Epochs-float64(pass))
			take := int(math.Round(share * float64(n)))
			if take == 0 {
				break
			}
			r := rand.New(rand.NewPCG(o.Seed, uint64(si)<<32|uint64(pass)))
			order := make([]int, n)
			for k, p := range r.Perm(n) {
				order[k] = st.Examples[p]
			}
			order = order[:take]
			rows := Pack(examples, order, o.SeqLen, o.Packing)
			for start := 0; start < len(rows); start += o.GlobalBatch {
				end := min(start+o.GlobalBatch, len(rows))
				step := Step{Stage: si, StageName: st.Name}
				for _, row := range rows[start:end] {
					step.Rows = append(step.Rows, row.Examples)
				}
				step.Epoch = done + float64(pass) + share*float64(end)/float64(len(rows))
				steps = append(steps, step)
			}
		}
		done += st.Epochs
	}
	return steps, nil
}

// RowOf lays out the examples of one planned row again.
func RowOf(examples []*Example, indices []int) Row {
	var r Row
	for _, i := range indices {
		r.add(examples[i], i)
	}
	return r
}
