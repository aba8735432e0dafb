package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/agext/levenshtein"
	"github.com/lmittmann/tint"
	"golang.org/x/term"
)

// ExecOptions tunes Execute.
type ExecOptions struct {
	// Only selects the stages to run, with everything they depend on;
	// empty selects all.
	Only []string
	// Rerun discards the state and outputs of these stages before running
	// them again (they are selected too). A finished stage that depends on
	// one of them must be rerun as well, or Execute refuses to start.
	Rerun []string
	// Parallel is the number of stages that may run at once; default 1.
	Parallel int
	// Out receives logs and progress; default os.Stderr. On a terminal,
	// running stages get progress bars and logs are text; otherwise logs
	// and progress are JSON lines (LogFormat changes that).
	Out io.Writer
	// LogLevel filters the logs; default slog.LevelInfo.
	LogLevel slog.Leveler
	// LogFormat is LogAuto (the default: text with progress bars on a
	// terminal, JSON lines elsewhere), LogText or LogJSON.
	LogFormat string
	// ProgressEvery is the least time between two progress lines of a stage
	// when Out is not a terminal; default 5s.
	ProgressEvery time.Duration
}

// ExecError is returned by Execute when stages failed.
type ExecError struct {
	// Failed lists the stages that returned an error, in the order they
	// failed.
	Failed []StageError
	// Blocked lists the stages not run because a dependency failed.
	Blocked []string
}

// StageError is the error of one failed stage.
type StageError struct {
	Address string
	Err     error
}

func (e *ExecError) Error() string {
	var b strings.Builder
	if len(e.Failed) == 1 {
		b.WriteString("1 stage failed: ")
	} else {
		fmt.Fprintf(&b, "%d stages failed: ", len(e.Failed))
	}
	for i, f := range e.Failed {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %v", f.Address, f.Err)
	}
	if len(e.Blocked) > 0 {
		fmt.Fprintf(&b, " (not run because a dependency failed: %s)", strings.Join(e.Blocked, ", "))
	}
	return b.String()
}

// Unwrap returns the stages' errors.
func (e *ExecError) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		errs[i] = f.Err
	}
	return errs
}

type action int

const (
	actRun action = iota
	actSkip
	// actCheck: the stage is done and up to date unless a dependency that
	// runs again in this Execute changes its outputs; decided when the
	// dependencies are done.
	actCheck
)

type nodeStatus int

const (
	nodePending nodeStatus = iota
	nodeRunning
	nodeDone
	nodeFailed
	nodeBlocked
)

type node struct {
	stage      Stage
	addr       string
	idx        int
	deps       []*node
	dependents []*node
	inScope    bool
	rerun      bool
	state      *StageState // persisted state before this Execute, if any
	action     action
	waiting    int // dependencies not done yet
	status     nodeStatus
	generation string
	lineage    string
}

var addressRE = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)

// Execute runs stages in dependency order, up to opts.Parallel at once,
// and persists each stage's state under DIR/state. A stage already done
// with the same fingerprint and unchanged inputs is skipped as up to date;
// an interrupted or failed stage runs again and resumes from its outputs;
// a finished Incremental stage runs again to pick up new items, and keeps
// its generation when it finds none.
//
// Before running anything Execute checks the graph (ErrInvalidGraph) and
// the selected stages' state: a stage whose fingerprint changed since it
// ran (ErrFingerprintChanged), or a finished stage whose dependency was or
// will be rebuilt (ErrStaleInput), stops Execute with an error telling the
// user to rerun it with --rerun ADDRESS, so that outputs of different
// configurations are never mixed.
//
// A failed stage stops its dependents while independent stages go on; the
// result is then an *ExecError. When ctx is cancelled Execute starts
// nothing more, waits for running stages to return, leaves them "running"
// so the next Execute resumes them, and returns an error wrapping
// ctx.Err().
func (r *Run) Execute(ctx context.Context, stages []Stage, opts ExecOptions) error {
	r.mu.Lock()
	switch {
	case r.closed:
		r.mu.Unlock()
		return fmt.Errorf("execute: run %s %w", r.dir, ErrClosed)
	case r.executing:
		r.mu.Unlock()
		return fmt.Errorf("execute: run %s is already executing", r.dir)
	}
	r.executing = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.executing = false
		r.mu.Unlock()
	}()

	nodes, err := buildGraph(stages)
	if err != nil {
		return err
	}
	order, err := topoOrder(nodes)
	if err != nil {
		return err
	}
	if err := selectScope(nodes, opts.Only, opts.Rerun); err != nil {
		return err
	}
	if err := r.plan(order); err != nil {
		return err
	}

	e := newExecutor(r, opts)
	defer e.close()
	all := make([]string, len(nodes))
	for i, n := range nodes {
		all[i] = n.addr
	}
	for _, n := range order {
		if n.inScope && n.rerun {
			if err := r.discardStage(n.addr, all); err != nil {
				return err
			}
			e.logger.Info("discarded previous state and outputs", "stage", n.addr)
			n.state = nil
		}
	}
	return e.schedule(ctx, nodes)
}

func buildGraph(stages []Stage) ([]*node, error) {
	var errs []error
	nodes := make([]*node, 0, len(stages))
	byAddr := make(map[string]*node, len(stages))
	for i, s := range stages {
		addr := s.Address()
		switch {
		case !addressRE.MatchString(addr):
			errs = append(errs, fmt.Errorf("stage address %q: want dot-separated names of letters, digits, '_' and '-'", addr))
			continue
		case strings.Split(addr, ".")[0] == "state":
			errs = append(errs, fmt.Errorf("stage address %q: %q is reserved for the run's state files", addr, "state"))
			continue
		case byAddr[addr] != nil:
			errs = append(errs, fmt.Errorf("stage %s is defined twice", addr))
			continue
		}
		n := &node{stage: s, addr: addr, idx: i}
		nodes = append(nodes, n)
		byAddr[addr] = n
	}
	for _, n := range nodes {
		for _, d := range n.stage.DependsOn() {
			dep := byAddr[d]
			if dep == nil {
				errs = append(errs, fmt.Errorf("stage %s depends on unknown stage %q", n.addr, d))
				continue
			}
			if slices.Contains(n.deps, dep) {
				continue
			}
			n.deps = append(n.deps, dep)
			dep.dependents = append(dep.dependents, n)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidGraph, errors.Join(errs...))
	}
	return nodes, nil
}

// topoOrder orders nodes so that dependencies come first, keeping the
// given order where the graph allows, or reports a cycle.
func topoOrder(nodes []*node) ([]*node, error) {
	const (
		white = iota
		grey
		black
	)
	color := make(map[*node]int, len(nodes))
	var order []*node
	var stack []*node
	var visit func(n *node) error
	visit = func(n *node) error {
		switch color[n] {
		case black:
			return nil
		case grey:
			i := slices.Index(stack, n)
			var path []string
			for _, s := range stack[i:] {
				path = append(path, s.addr)
			}
			path = append(path, n.addr)
			return fmt.Errorf("%w: dependency cycle %s", ErrInvalidGraph, strings.Join(path, " -> "))
		}
		color[n] = grey
		stack = append(stack, n)
		for _, d := range n.deps {
			if err := visit(d); err != nil {
				return err
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
		order = append(order, n)
		return nil
	}
	for _, n := range nodes {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return order, nil
}

func selectScope(nodes []*node, only, rerun []string) error {
	byAddr := make(map[string]*node, len(nodes))
	addrs := make([]string, 0, len(nodes))
	for _, n := range nodes {
		byAddr[n.addr] = n
		addrs = append(addrs, n.addr)
	}
	unknown := func(flag, a string) error {
		near, best := "", 3 // within two edits
		for _, o := range addrs {
			if d := levenshtein.Distance(a, o, nil); d < best {
				near, best = fmt.Sprintf(" (did you mean %q?)", o), d
			}
		}
		return fmt.Errorf("%s %s: no such stage%s; stages: %s", flag, a, near, strings.Join(addrs, ", "))
	}
	var errs []error
	var roots []*node
	for _, a := range only {
		if n := byAddr[a]; n != nil {
			roots = append(roots, n)
		} else {
			errs = append(errs, unknown("--only", a))
		}
	}
	for _, a := range rerun {
		if n := byAddr[a]; n != nil {
			n.rerun = true
			roots = append(roots, n)
		} else {
			errs = append(errs, unknown("--rerun", a))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidGraph, errors.Join(errs...))
	}
	if len(only) == 0 {
		for _, n := range nodes {
			n.inScope = true
		}
		return nil
	}
	var mark func(n *node)
	mark = func(n *node) {
		if n.inScope {
			return
		}
		n.inScope = true
		for _, d := range n.deps {
			mark(d)
		}
	}
	for _, n := range roots {
		mark(n)
	}
	return nil
}

// plan loads the state of the selected stages and decides which run and
// which are up to date, refusing configurations that would mix outputs.
//
// A finished stage is up to date when its dependencies are and still hold
// the generations it was built from. An incremental stage (see
// Incremental) runs again every time, and catches up when a dependency
// grew (same lineage, new generation). A finished stage that is not
// incremental, whose dependency runs again but may change nothing (an
// incremental stage, or one resuming after an interruption without having
// been rebuilt), is decided once that dependency is done (actCheck).
func (r *Run) plan(order []*node) error {
	var errs []error
	for _, n := range order {
		if !n.inScope {
			continue
		}
		n.action = actRun
		if n.rerun {
			continue
		}
		st, ok, err := r.StageState(n.addr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			continue
		}
		n.state = &st
		n.lineage = st.Lineage
		if fp := n.stage.Fingerprint(); !sameConfiguration(n.stage, st.Fingerprint) {
			what := "is done"
			if st.Status != StatusDone {
				what = "has partial outputs"
			}
			errs = append(errs, fmt.Errorf("%w: stage %s %s from a different configuration (fingerprint %s, now %s); rerun it with --rerun %s to discard its outputs",
				ErrFingerprintChanged, n.addr, what, short(st.Fingerprint), short(fp), n.addr))
			continue
		}
		if st.Status != StatusDone {
			continue // running (interrupted) or failed: resume
		}
		n.generation = st.Generation
		incremental := isIncremental(n.stage)
		action := actSkip
		if incremental {
			action = actRun
		}
		for _, d := range n.deps {
			// grown: d's outputs still extend those n was built from —
			// the same lineage, or (state written before lineages) the
			// very generation n was built from — and d is not rebuilt.
			grown := !d.rerun && (d.lineage != "" && st.InputLineages[d.addr] == d.lineage ||
				d.state != nil && d.state.Generation != "" && st.Inputs[d.addr] == d.state.Generation)
			var stale error
			switch {
			case d.action != actSkip && !grown:
				stale = fmt.Errorf("%w: stage %s was built from the outputs of %s, which will run again; rerun it too with --rerun %s",
					ErrStaleInput, n.addr, d.addr, n.addr)
			case d.action == actSkip && st.Inputs[d.addr] == d.generation:
				// unchanged
			case !incremental && d.state != nil && st.Inputs[d.addr] != d.state.Generation,
				d.action == actSkip && !(incremental && grown):
				stale = fmt.Errorf("%w: stage %s was built from earlier outputs of %s, which has been rebuilt since; rerun it with --rerun %s",
					ErrStaleInput, n.addr, d.addr, n.addr)
			case incremental:
				// catches up with what d has added or will add
			default:
				if action == actSkip {
					action = actCheck
				}
			}
			if stale != nil {
				errs = append(errs, stale)
				action = actRun
				break
			}
		}
		n.action = action
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}

// staleInputs says why a finished stage that waited for its dependencies
// (actCheck) cannot be kept: a dependency's outputs changed in this run.
func staleInputs(n *node) error {
	for _, d := range n.deps {
		if n.state.Inputs[d.addr] != d.generation {
			return fmt.Errorf("%w: stage %s was built from earlier outputs of %s, which changed in this run; rerun it with --rerun %s",
				ErrStaleInput, n.addr, d.addr, n.addr)
		}
	}
	return nil
}

func short(fp string) string {
	if fp == "" {
		return `""`
	}
	if len(fp) > 12 {
		return fp[:12]
	}
	return fp
}

type executor struct {
	run      *Run
	parallel int
	logger   *slog.Logger
	board    *board
	every    time.Duration
}

func newExecutor(r *Run, opts ExecOptions) *executor {
	e := &executor{run: r, parallel: max(opts.Parallel, 1), every: opts.ProgressEvery}
	if e.every <= 0 {
		e.every = 5 * time.Second
	}
	out := opts.Out
	if out == nil {
		out = os.Stderr
	}
	level := opts.LogLevel
	if level == nil {
		level = slog.LevelInfo
	}
	if !isTerminal(out) || opts.LogFormat == LogJSON {
		e.logger = slog.New(NewLogHandler(out, opts.LogFormat, level))
		return e
	}
	fd := int(out.(*os.File).Fd())
	e.board = newBoard(out, func() int {
		if w, _, err := term.GetSize(fd); err == nil && w > 0 {
			return w
		}
		return 80
	}, 200*time.Millisecond)
	e.logger = slog.New(NewTextHandler(e.board, level, Colour()))
	return e
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// NewLogHandler is the handler of logs written to out in format (LogAuto,
// LogText or LogJSON; "" is LogAuto): text, in colour when out is a
// terminal, or JSON lines, durations in seconds in both.
func NewLogHandler(out io.Writer, format string, level slog.Leveler) slog.Handler {
	terminal := isTerminal(out)
	if format == LogJSON || format != LogText && !terminal {
		return slog.NewJSONHandler(out, &slog.HandlerOptions{Level: level, ReplaceAttr: jsonSeconds})
	}
	return NewTextHandler(out, level, terminal && Colour())
}

// The log formats of ExecOptions.LogFormat.
const (
	LogAuto = "auto"
	LogText = "text"
	LogJSON = "json"
)

// LogFormats are the values ExecOptions.LogFormat takes.
var LogFormats = []string{LogAuto, LogText, LogJSON}

// NewTextHandler is the handler of human-readable logs: the time, the
// level (in colour when colour is set), the message and its attributes,
// durations in seconds.
func NewTextHandler(w io.Writer, level slog.Leveler, colour bool) slog.Handler {
	return tint.NewHandler(w, &tint.Options{Level: level, TimeFormat: time.TimeOnly, NoColor: !colour,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Value.Kind() == slog.KindDuration {
				return slog.String(a.Key, fmt.Sprintf("%.1fs", a.Value.Duration().Seconds()))
			}
			return a
		}})
}

// jsonSeconds writes durations as seconds in JSON logs.
func jsonSeconds(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.Float64(a.Key, math.Round(a.Value.Duration().Seconds()*1000)/1000)
	}
	return a
}

// Colour reports whether a terminal's logs may use colour: not when
// NO_COLOR is set or TERM is dumb.
func Colour() bool {
	return os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

func (e *executor) close() {
	if e.board != nil {
		e.board.close()
	}
}

type outcome int

const (
	outDone outcome = iota
	outFailed
	outInterrupted
)

type result struct {
	n   *node
	out outcome
	err error
}

func (e *executor) schedule(ctx context.Context, nodes []*node) error {
	var ready []*node
	push := func(n *node) {
		i, _ := slices.BinarySearchFunc(ready, n.idx, func(a *node, idx int) int { return a.idx - idx })
		ready = slices.Insert(ready, i, n)
	}
	for _, n := range nodes {
		if !n.inScope {
			continue
		}
		n.waiting = len(n.deps)
		if n.waiting == 0 {
			push(n)
		}
	}
	release := func(n *node) {
		for _, d := range n.dependents {
			if !d.inScope {
				continue
			}
			d.waiting--
			if d.waiting == 0 && d.status == nodePending {
				push(d)
			}
		}
	}
	var failed []StageError
	var blocked []string
	var block func(n *node)
	block = func(n *node) {
		for _, d := range n.dependents {
			if d.inScope && d.status == nodePending {
				d.status = nodeBlocked
				blocked = append(blocked, d.addr)
				e.logger.Warn("stage not run: a dependency failed", "stage", d.addr, "dependency", n.addr)
				block(d)
			}
		}
	}

	results := make(chan result)
	running, interrupted := 0, 0
	for {
		for len(ready) > 0 && ctx.Err() == nil {
			n := ready[0]
			if n.action == actCheck {
				if err := staleInputs(n); err != nil {
					ready = ready[1:]
					n.status = nodeFailed
					e.logger.Error("stage is stale", "stage", n.addr, "error", err)
					failed = append(failed, StageError{Address: n.addr, Err: err})
					block(n)
					continue
				}
				n.action = actSkip
			}
			if n.action == actSkip {
				ready = ready[1:]
				n.status = nodeDone
				e.logger.Info("up to date", "stage", n.addr)
				release(n)
				continue
			}
			if running >= e.parallel {
				break
			}
			ready = ready[1:]
			n.status = nodeRunning
			running++
			go func() { results <- e.runStage(ctx, n) }()
		}
		if running == 0 {
			break
		}
		res := <-results
		running--
		switch res.out {
		case outDone:
			res.n.status = nodeDone
			release(res.n)
		case outFailed:
			res.n.status = nodeFailed
			failed = append(failed, StageError{Address: res.n.addr, Err: res.err})
			block(res.n)
		case outInterrupted:
			res.n.status = nodePending
			interrupted++
		}
	}

	var errs []error
	if len(failed) > 0 {
		errs = append(errs, &ExecError{Failed: failed, Blocked: blocked})
	}
	if err := ctx.Err(); err != nil {
		e.logger.Warn("run interrupted; run the same command again to resume", "stages_interrupted", interrupted)
		errs = append(errs, fmt.Errorf("run interrupted (run the same command again to resume): %w", err))
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

func (e *executor) runStage(ctx context.Context, n *node) result {
	logger := e.logger.With("stage", n.addr)
	st := &StageState{
		Address:     n.addr,
		Status:      StatusRunning,
		Fingerprint: n.stage.Fingerprint(),
		Attempts:    1,
		Started:     time.Now().UTC(),
	}
	if n.state != nil {
		st.Attempts = n.state.Attempts + 1
		st.Generation, st.Lineage = n.state.Generation, n.state.Lineage
	}
	if st.Lineage == "" {
		id, err := newID()
		if err != nil {
			return result{n: n, out: outFailed, err: err}
		}
		st.Lineage = id
	}
	n.lineage = st.Lineage
	if len(n.deps) > 0 {
		st.Inputs = make(map[string]string, len(n.deps))
		st.InputLineages = make(map[string]string, len(n.deps))
		for _, d := range n.deps {
			st.Inputs[d.addr] = d.generation
			st.InputLineages[d.addr] = d.lineage
		}
	}
	if err := e.run.writeStageState(st); err != nil {
		logger.Error("stage failed", "error", err)
		return result{n: n, out: outFailed, err: err}
	}
	if n.state != nil && n.state.Status == StatusDone {
		logger.Info("stage runs again for new items", "attempt", st.Attempts)
	} else if st.Attempts > 1 {
		logger.Info("stage resumed", "attempt", st.Attempts, "previous_status", n.state.Status)
	} else {
		logger.Info("stage started")
	}

	sc := &StageContext{
		Run:     e.run,
		Address: n.addr,
		Logger:  logger,
		Attempt: st.Attempts,
		outputs: make(map[string]*Writer),
	}
	sc.newProgress = func(total int) *Progress {
		return newProgress(n.addr, logger, e.board, e.every, total)
	}
	err := runSafely(ctx, n.stage, sc)
	outputs, items, counts, changed, cerr := sc.finish()
	if err == nil {
		err = cerr
	}
	st.Outputs, st.Items, st.Counts = outputs, items, counts
	elapsed := time.Since(st.Started).Round(time.Millisecond)

	if err != nil && ctx.Err() != nil {
		// Leave the state "running": the next Execute resumes the stage.
		logger.Warn("stage interrupted", "elapsed", elapsed.String(), "error", err)
		return result{n: n, out: outInterrupted, err: err}
	}
	st.Ended = time.Now().UTC()
	if err != nil {
		st.Status, st.Error = StatusFailed, err.Error()
		if werr := e.run.writeStageState(st); werr != nil {
			logger.Error("cannot record stage failure", "error", werr)
		}
		logger.Error("stage failed", "elapsed", elapsed.String(), "error", err)
		return result{n: n, out: outFailed, err: err}
	}
	// A stage that was done and changed nothing keeps its generation, so
	// its dependents stay up to date.
	gen := st.Generation
	unchanged := !changed && n.state != nil && n.state.Status == StatusDone && gen != ""
	if !unchanged {
		gen, err = newID()
	}
	if err == nil {
		st.Status, st.Generation = StatusDone, gen
		err = e.run.writeStageState(st)
	}
	if err != nil {
		logger.Error("stage failed", "error", err)
		return result{n: n, out: outFailed, err: err}
	}
	n.generation = gen
	if unchanged {
		logger.Info("stage done: nothing new", "elapsed", elapsed.String())
	} else {
		logger.Info("stage done", "elapsed", elapsed.String())
	}
	return result{n: n, out: outDone}
}

// runSafely runs the stage, turning a panic into an error.
func runSafely(ctx context.Context, s Stage, sc *StageContext) (err error) {
	defer func() {
		if v := recover(); v != nil {
			sc.Logger.Error("stage panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return s.Run(ctx, sc)
}
