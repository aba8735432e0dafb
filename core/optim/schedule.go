package optim

import "math"

// Schedule is a linear warmup from 0 to Peak over Warmup steps, then a
// half cosine from Peak down to MinRatio·Peak at step Total — transformers'
// get_cosine_with_min_lr_schedule_with_warmup (MinRatio 0 is
// get_cosine_schedule_with_warmup). Steps count optimiser updates from 0,
// so the first update uses LR(0), which is 0 when there is a warmup, as in
// the Hugging Face Trainer.
type Schedule struct {
	Peak     float64
	Warmup   int
	Total    int
	MinRatio float64
}

// LR is the learning rate of update number step (0-based).
func (s Schedule) LR(step int) float64 {
	if step < s.Warmup {
		return s.Peak * float64(step) / float64(max(1, s.Warmup))
	}
	progress := float64(step-s.Warmup) / float64(max(1, s.Total-s.Warmup))
	progress = min(progress, 1)
	f := 0.5 * (1 + math.Cos(math.Pi*progress))
	return s.Peak * (f*(1-s.MinRatio) + s.MinRatio)
}
