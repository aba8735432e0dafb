package lmrules

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"

	"github.com/swelego/swelego/sdk"
)

// Budget bounds the model calls of one injection.
type Budget struct {
	Seed     uint64 // draws the targets asked about when there are more than Calls
	Calls    int    // at most this many model calls
	Parallel int    // calls in flight at once (fewer than 1 counts as 1)
}

// Run picks at most b.Calls of the targets (at random, with b.Seed; they
// are shuffled in place, then put in file order: file, offset, rule), asks
// the model about each, b.Parallel calls at a time, and sends the
// candidates in the targets' order, however the calls interleave. A
// failed call is counted and skipped; when every call fails, the first
// error is returned. An error of send stops the run and is returned.
func (l Language) Run(ctx context.Context, model sdk.Model, targets []Target, b Budget, send func(sdk.Mutation) error) (Stats, error) {
	var stats Stats
	if len(targets) > b.Calls {
		g := rand.New(rand.NewPCG(b.Seed, 0x6c6d))
		g.Shuffle(len(targets), func(i, j int) { targets[i], targets[j] = targets[j], targets[i] })
		targets = targets[:b.Calls]
		// back to file order, so candidates come out as the files do
		sortTargets(targets)
	}
	type answer struct {
		reply string
		err   error
	}
	answers := make([]answer, len(targets))
	sem := make(chan struct{}, max(b.Parallel, 1))
	var wg sync.WaitGroup
	for i, t := range targets {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			resp, err := model.Chat(ctx, l.Prompt(t))
			answers[i] = answer{resp.Message.Content, err}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return stats, err
	}
	var firstErr error
	for i, t := range targets {
		stats.Calls++
		a := answers[i]
		if a.err != nil {
			if firstErr == nil {
				firstErr = a.err
			}
			stats.drop(DropError)
			continue
		}
		m, why := l.Mutation(t, a.reply)
		if why != "" {
			stats.drop(why)
			continue
		}
		stats.Candidates++
		if err := send(m); err != nil {
			return stats, err
		}
	}
	if firstErr != nil && stats.Dropped[DropError] == stats.Calls {
		return stats, fmt.Errorf("%s injector: every model call failed: %w", l.Injector, firstErr)
	}
	return stats, nil
}

func sortTargets(ts []Target) {
	slices.SortStableFunc(ts, func(a, b Target) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return strings.Compare(a.Rule, b.Rule)
	})
}

// Stats counts what became of the LM rules' model calls.
type Stats struct {
	Calls      int            `json:"calls"`
	Candidates int            `json:"candidates"`
	Dropped    map[string]int `json:"dropped,omitempty"`
}

func (s *Stats) drop(reason string) {
	if s.Dropped == nil {
		s.Dropped = map[string]int{}
	}
	s.Dropped[reason]++
}

// String summarises the counts for a log line.
func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d model calls, %d candidates", s.Calls, s.Candidates)
	for _, r := range []string{DropNoCode, DropSignature, DropUnchanged, DropSyntax, DropError} {
		if n := s.Dropped[r]; n > 0 {
			fmt.Fprintf(&b, ", %d dropped (%s)", n, strings.ReplaceAll(r, "_", " "))
		}
	}
	return b.String()
}
