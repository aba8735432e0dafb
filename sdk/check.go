package sdk

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// This file checks the answers of loss maskers, curricula and rankers
// against their kinds' contracts (see LossMasker, Curriculum and Ranker), so
// the host and plugin tests apply the same rules.

// ErrContract is wrapped by the errors of ResolveLossWeights, CheckStages
// and CheckRanking: a plugin's answer breaks its kind's contract.
var ErrContract = errors.New("plugin answer breaks the contract")

// ResolveLossWeights checks a loss masker's answer for t and returns the
// weight every message trains with: the masker's weight for an assistant
// message, 1 for an assistant message it gave none, and 0 for system, user
// and tool messages, which chat templates never train (a weight the masker
// gave one of them is ignored). The error wraps ErrContract.
func ResolveLossWeights(t Trajectory, ws []LossWeight) ([]float64, error) {
	out := make([]float64, len(t.Messages))
	set := make([]bool, len(t.Messages))
	for i, m := range t.Messages {
		if m.Role == "assistant" {
			out[i] = 1
		}
	}
	for _, w := range ws {
		switch {
		case w.Index < 0 || w.Index >= len(t.Messages):
			return nil, fmt.Errorf("%w: weight for message %d of a trajectory with %d messages", ErrContract, w.Index, len(t.Messages))
		case set[w.Index]:
			return nil, fmt.Errorf("%w: two weights for message %d", ErrContract, w.Index)
		case math.IsNaN(w.Weight) || math.IsInf(w.Weight, 0) || w.Weight < 0:
			return nil, fmt.Errorf("%w: weight %g for message %d is not a finite number >= 0", ErrContract, w.Weight, w.Index)
		}
		set[w.Index] = true
		if t.Messages[w.Index].Role == "assistant" {
			out[w.Index] = w.Weight
		}
	}
	return out, nil
}

// CheckStages checks a curriculum's answer for stats: every id is one of
// the stats' ids and appears at most once in its stage, and the epochs of
// the stages that have ids are all 0 or all finite and > 0 (stages with no
// ids are not looked at; the host drops them). It returns how many of the
// stats' ids are in no stage. The error wraps ErrContract.
func CheckStages(stats []TrajectoryStats, stages []CurriculumStage) (untrained int, err error) {
	known := make(map[string]bool, len(stats))
	for _, s := range stats {
		known[s.ID] = false
	}
	zero, positive := 0, 0
	for i, st := range stages {
		if len(st.IDs) == 0 {
			continue
		}
		seen := make(map[string]bool, len(st.IDs))
		for _, id := range st.IDs {
			if _, ok := known[id]; !ok {
				return 0, fmt.Errorf("%w: stage %d (%q) names %q, which is not a trajectory of the run", ErrContract, i+1, st.Name, id)
			}
			if seen[id] {
				return 0, fmt.Errorf("%w: stage %d (%q) names %q twice", ErrContract, i+1, st.Name, id)
			}
			seen[id] = true
			known[id] = true
		}
		switch {
		case math.IsNaN(st.Epochs) || math.IsInf(st.Epochs, 0) || st.Epochs < 0:
			return 0, fmt.Errorf("%w: stage %d (%q) has %g epochs", ErrContract, i+1, st.Name, st.Epochs)
		case st.Epochs == 0:
			zero++
		default:
			positive++
		}
	}
	if zero > 0 && positive > 0 {
		return 0, fmt.Errorf("%w: %d stages set their epochs and %d do not; set all or none", ErrContract, positive, zero)
	}
	for _, trained := range known {
		if !trained {
			untrained++
		}
	}
	return untrained, nil
}

// CheckRanking checks a ranker's answer to req: every candidate's key has
// a score, no other key has one, and every score is finite. A request
// whose candidates repeat a key is refused too, since its answer could not
// tell them apart. The error wraps ErrContract.
func CheckRanking(req RankRequest, scores map[string]float64) error {
	seen := make(map[string]bool, len(req.Candidates))
	for i, c := range req.Candidates {
		if seen[c.Key] {
			return fmt.Errorf("%w: candidate %d repeats the key %q", ErrContract, i+1, c.Key)
		}
		seen[c.Key] = true
		v, ok := scores[c.Key]
		switch {
		case !ok:
			return fmt.Errorf("%w: no selection score for candidate %q", ErrContract, c.Key)
		case math.IsNaN(v) || math.IsInf(v, 0):
			return fmt.Errorf("%w: selection score %g for candidate %q is not a finite number", ErrContract, v, c.Key)
		}
	}
	if len(scores) != len(seen) {
		for _, k := range sortedKeys(scores) {
			if !seen[k] {
				return fmt.Errorf("%w: selection score for %q, which is not a candidate of the task", ErrContract, k)
			}
		}
	}
	return nil
}

// sortedKeys returns m's keys in order, so an error names the same key
// every time.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
