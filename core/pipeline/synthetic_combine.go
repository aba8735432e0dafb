package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/swelego/swelego/core/diff"
	"github.com/swelego/swelego/hcl"
	"github.com/swelego/swelego/sdk"
)

// Defaults of the combine block.
const (
	defaultCombineMaxTasks = 5
	// combineAttempts bounds the combinations validated per task wanted.
	combineAttempts = 4
)

// combineSettings are a synthetic source's combine block.
type combineSettings struct {
	per                string // "file" or "package" (the file's directory)
	minBugs, maxBugs   int
	maxTasks, attempts int
}

// readCombine reads the combine block; ok is false when there is none.
func readCombine(b *hcl.Combine) (c combineSettings, ok bool) {
	if b == nil {
		return c, false
	}
	c.per = b.Per
	if c.per == "" {
		c.per = "file"
	}
	c.minBugs = max(b.MinBugs, 2)
	c.maxBugs = max(b.MaxBugs, c.minBugs)
	c.maxTasks = b.MaxTasks
	if c.maxTasks <= 0 {
		c.maxTasks = defaultCombineMaxTasks
	}
	c.attempts = combineAttempts * c.maxTasks
	return c, true
}

// combination is a set of validated single-bug tasks to merge.
type combination struct {
	group string
	parts []sdk.Task
}

// id names the combined task after its parts.
func (c combination) id(repo string) string {
	ids := make([]string, len(c.parts))
	for i, p := range c.parts {
		ids[i] = p.InstanceID
	}
	sum := sha256.Sum256([]byte(strings.Join(ids, "\x00")))
	return strings.ReplaceAll(repo, "/", "__") + ".combine." + hex.EncodeToString(sum[:5])
}

// combine merges validated bugs of one file (or package) into harder
// tasks, as SWE-smith's combine step does: combinations of min_bugs to
// max_bugs tasks of a group whose diffs apply together are validated
// through the harness, and kept when they have ≥1 PASS_TO_PASS and their
// FAIL_TO_PASS holds every part's (so no bug masks another). Groups take
// turns, so one large file does not take every slot; at most max_tasks are
// kept and 4×max_tasks validated.
func (r *synthRun) combine(ctx context.Context) error {
	cs, ok := readCombine(r.cfg.Combine)
	if !ok {
		return nil
	}
	groups := map[string][]sdk.Task{}
	for _, t := range r.singles() {
		o, _ := Origin(t)
		key := o.File
		if cs.per == "package" {
			key = path.Dir(o.File)
		}
		groups[key] = append(groups[key], t)
	}
	var keys []string
	for k, ts := range groups {
		if len(ts) >= cs.minBugs {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	// One queue of combinations per group, smallest first.
	queues := make([][]combination, len(keys))
	for i, k := range keys {
		ts := groups[k]
		sort.Slice(ts, func(a, b int) bool { return ts[a].InstanceID < ts[b].InstanceID })
		for n := cs.minBugs; n <= cs.maxBugs && n <= len(ts); n++ {
			for _, idx := range choose(len(ts), n, cs.attempts) {
				c := combination{group: k}
				for _, j := range idx {
					c.parts = append(c.parts, ts[j])
				}
				queues[i] = append(queues[i], c)
			}
		}
	}
	modifier := "combine/" + cs.per
	repoName := r.cfg.Repo
	kept, tried := 0, 0
	for round := 0; kept < cs.maxTasks && tried < cs.attempts; round++ {
		progressed := false
		for i := range queues {
			if round >= len(queues[i]) || kept >= cs.maxTasks || tried >= cs.attempts {
				continue
			}
			progressed = true
			c := queues[i][round]
			id := c.id(repoName)
			r.count(modifier, func(y *Yield) { y.Candidates++ })
			if _, ok := r.priorTasks[id]; ok {
				r.count(modifier, func(y *Yield) { y.Compiled++; y.Validated++; y.Kept++ })
				kept++
				tried++
				continue
			}
			if rej, ok := r.priorRejected[id]; ok {
				r.count(modifier, func(y *Yield) {
					countRejection(y, rej.Step)
					if afterCompile(rej.Step) {
						y.Compiled++
					}
				})
				if rej.Step != StepApply {
					tried++
				}
				continue
			}
			ok, validated, err := r.combineOne(ctx, c, id, modifier, cs.per)
			if err != nil {
				return err
			}
			if ok {
				kept++
			}
			if validated {
				tried++
			}
		}
		if !progressed {
			break
		}
	}
	return nil
}

// singles are the validated single-bug tasks: from this run and earlier
// ones.
func (r *synthRun) singles() []sdk.Task {
	r.ymu.Lock()
	defer r.ymu.Unlock()
	var out []sdk.Task
	seen := map[string]bool{}
	for _, t := range append(slices.Clone(r.kept), mapValues(r.priorTasks)...) {
		o, ok := Origin(t)
		if !ok || o.Block == "combine" || o.File == "" || seen[t.InstanceID] {
			continue
		}
		seen[t.InstanceID] = true
		out = append(out, t)
	}
	return out
}

func mapValues(m map[string]sdk.Task) []sdk.Task {
	out := make([]sdk.Task, 0, len(m))
	for _, k := range sortedTaskIDs(m) {
		out = append(out, m[k])
	}
	return out
}

func sortedTaskIDs(m map[string]sdk.Task) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// combineOne validates one combination and writes its task or rejection;
// validated is false when the bugs did not apply together (nothing ran).
func (r *synthRun) combineOne(ctx context.Context, c combination, id, modifier, per string) (kept, validated bool, err error) {
	fixes := make([]string, len(c.parts))
	var parts, files []string
	union := map[string]bool{}
	for i, p := range c.parts {
		fixes[i] = p.Patch
		parts = append(parts, p.InstanceID)
		o, _ := Origin(p)
		if !slices.Contains(files, o.File) {
			files = append(files, o.File)
		}
		for _, f := range p.FailToPass {
			union[f] = true
		}
	}
	rejectWith := func(rej Rejection) (bool, bool, error) {
		rej.InstanceID, rej.Injector, rej.Kind, rej.File = id, modifier, "combine", strings.Join(files, ",")
		return false, rej.Step != StepApply, r.record(ctx, modifier, rej)
	}
	// The bug of a part is its fix reversed: apply the fixes in reverse
	// to get the combined bug; overlapping bugs do not apply together.
	mutations, err := reversedAll(fixes)
	if err != nil {
		return rejectWith(Rejection{Step: StepApply, Reason: err.Error()})
	}
	if _, err := reverseDiff(ctx, r.envs, r.env, r.commit, mutations); err != nil {
		if ctx.Err() != nil {
			return false, false, ctx.Err()
		}
		return rejectWith(Rejection{Step: StepApply, Reason: "the bugs do not apply together: " + err.Error()})
	}
	r.count(modifier, func(y *Yield) { y.Compiled++ })
	t, rej, err := r.validate(ctx, id, modifier, mutations)
	if err != nil {
		return false, false, err
	}
	if rej != nil {
		return rejectWith(*rej)
	}
	var missing []string
	for f := range union {
		if !slices.Contains([]string(t.FailToPass), f) {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return rejectWith(Rejection{Step: StepValidate, Reason: fmt.Sprintf("the combination hides a part's failures: %s no longer fail", strings.Join(missing, ", "))})
	}
	origin := SyntheticOrigin{Block: "combine", Per: per, Parts: parts, Files: files}
	origin.Statement = r.writeStatement(ctx, &t, mutations)
	if err := setOrigin(&t, origin); err != nil {
		return false, true, err
	}
	r.count(modifier, func(y *Yield) { y.Validated++; y.Kept++ })
	return true, true, r.tasks.Append(ctx, id, t)
}

// reversedAll turns fix patches into the mutations that introduce their
// bugs (each diff with its sides swapped).
func reversedAll(fixes []string) ([]string, error) {
	out := make([]string, len(fixes))
	for i, f := range fixes {
		m, err := diff.Reverse(f)
		if err != nil {
			return nil, fmt.Errorf("part %d: %w", i+1, err)
		}
		out[i] = m
	}
	return out, nil
}

// choose returns up to limit n-subsets of {0..k-1}, in lexicographic order.
func choose(k, n, limit int) [][]int {
	var out [][]int
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	for len(out) < limit {
		out = append(out, slices.Clone(idx))
		i := n - 1
		for i >= 0 && idx[i] == k-n+i {
			i--
		}
		if i < 0 {
			break
		}
		idx[i]++
		for j := i + 1; j < n; j++ {
			idx[j] = idx[j-1] + 1
		}
	}
	return out
}
