package envimage

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Step is a step of an image build, as a build's progress reports it: the
// image, the step (a command the build runs, a phase of debootstrap, or
// the latest line of a long step) and the time since the build began.
type Step struct {
	Image   string
	Step    string
	Elapsed time.Duration
}

type stepsKey struct{}

// WithSteps returns a context whose image builds report their steps to fn,
// from the build's goroutine. Builds found in the cache report nothing.
func WithSteps(ctx context.Context, fn func(Step)) context.Context {
	return context.WithValue(ctx, stepsKey{}, fn)
}

// LogSteps returns a context whose image builds log each step as an info
// line "building image" with the image, the step and the seconds elapsed.
func LogSteps(ctx context.Context, logger *slog.Logger) context.Context {
	return WithSteps(ctx, func(s Step) {
		logger.Info("building image", "image", s.Image, "step", s.Step, "elapsed_s", s.Elapsed.Round(time.Second).Seconds())
	})
}

func stepsFrom(ctx context.Context) func(Step) {
	fn, _ := ctx.Value(stepsKey{}).(func(Step))
	return fn
}

// quietFor is how long a step may run before its latest output line is
// reported, to show the build is alive.
const quietFor = 10 * time.Second

// maxStepLen clips a reported step.
const maxStepLen = 100

// stepWriter passes a build's log through to log and reports its steps:
// each command the build runs ("+ …" lines), each phase of debootstrap
// ("I: Retrieving …" then "I: Validating …"), and, when a step has said
// nothing reported for quietFor, its latest line.
type stepWriter struct {
	log   io.Writer
	image string
	fn    func(Step)
	start time.Time
	now   func() time.Time

	mu        sync.Mutex
	partial   []byte
	phase     string // the last debootstrap phase reported
	lastShown time.Time
}

func newStepWriter(image string, fn func(Step), log io.Writer) *stepWriter {
	w := &stepWriter{log: log, image: image, fn: fn, now: time.Now}
	w.start = w.now()
	w.lastShown = w.start
	return w
}

func (w *stepWriter) Write(p []byte) (int, error) {
	n, err := w.log.Write(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexAny(w.partial, "\r\n")
		if i < 0 {
			break
		}
		w.line(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) > 4096 { // a line without end: keep its head
		w.partial = w.partial[:4096]
	}
	return n, err
}

// line reports line when it starts a step, or when the step has been
// quiet long enough.
func (w *stepWriter) line(line string) {
	line = strings.TrimSpace(line)
	if line == "" {
		return
	}
	now := w.now()
	switch {
	case strings.HasPrefix(line, "+ "):
		w.phase = ""
	case strings.HasPrefix(line, "I: "):
		phase, _, _ := strings.Cut(strings.TrimPrefix(line, "I: "), " ")
		if phase == w.phase && now.Sub(w.lastShown) < quietFor {
			return
		}
		w.phase = phase
	default:
		if now.Sub(w.lastShown) < quietFor {
			return
		}
	}
	w.lastShown = now
	if r := []rune(line); len(r) > maxStepLen {
		line = string(r[:maxStepLen]) + "…"
	}
	w.fn(Step{Image: w.image, Step: line, Elapsed: now.Sub(w.start)})
}

// done reports the end of a successful build.
func (w *stepWriter) done() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fn(Step{Image: w.image, Step: "done", Elapsed: w.now().Sub(w.start)})
}

// buildReporting runs build with its log, reporting the steps of image's
// build when ctx asks for them (WithSteps).
func buildReporting(ctx context.Context, image, dir string, log io.Writer,
	build func(ctx context.Context, dir string, log io.Writer) error) error {
	fn := stepsFrom(ctx)
	if fn == nil {
		return build(ctx, dir, log)
	}
	w := newStepWriter(image, fn, log)
	if err := build(ctx, dir, w); err != nil {
		return err
	}
	w.done()
	return nil
}
