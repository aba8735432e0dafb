package engine

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"
)

// Progress counts the items of a stage. On a terminal it draws a bar with
// done/total, rate and ETA; otherwise it logs a structured "progress" line
// at most every few seconds and once at Finish. A total below zero means
// unknown (a streaming source): only the count and rate are shown. Progress
// is safe for concurrent use.
type Progress struct {
	label  string
	logger *slog.Logger
	board  *board // nil when not on a terminal
	every  time.Duration
	start  time.Time
	now    func() time.Time

	mu       sync.Mutex
	done     int64
	skipped  int64
	total    int64
	lastLog  time.Time
	finished bool
	bar      *progressbar.ProgressBar
	onFinish func(ProgressState)
	// note is a short status shown after the counts (a training loss).
	note []any
}

// Note sets key/value pairs shown after the counts on the terminal and
// added to the progress log lines, such as the last training loss.
func (p *Progress) Note(kv ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.note = kv
}

// ProgressState is a snapshot of a Progress, as recorded in a StageState.
type ProgressState struct {
	Done    int64 `json:"done"`
	Skipped int64 `json:"skipped,omitempty"`
	Total   int64 `json:"total"` // -1 when unknown
}

func newProgress(label string, logger *slog.Logger, b *board, every time.Duration, total int) *Progress {
	p := &Progress{label: label, logger: logger, board: b, every: every, now: time.Now, total: normTotal(total)}
	p.start = p.now()
	p.lastLog = p.start
	if b != nil {
		p.bar = p.newBar()
		b.add(p)
	}
	return p
}

func normTotal(n int) int64 {
	if n < 0 {
		return -1
	}
	return int64(n)
}

// newBar makes the progressbar that renders this Progress. It never writes
// anywhere itself: the board draws its String() among the other stages'.
func (p *Progress) newBar() *progressbar.ProgressBar {
	total := p.total
	if total == 0 {
		total = 1 // progressbar refuses a zero maximum
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(io.Discard),
		progressbar.OptionSetDescription(p.label),
		progressbar.OptionSetWidth(24),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionSetElapsedTime(false),
		progressbar.OptionSetSpinnerChangeInterval(0), // no goroutine of its own
		progressbar.OptionEnableColorCodes(false),
		progressbar.OptionSetTheme(progressbar.Theme{Saucer: "=", SaucerHead: ">", SaucerPadding: " ", BarStart: "[", BarEnd: "]"}),
	}
	if p.total < 0 {
		opts = append(opts, progressbar.OptionShowTotalBytes(false))
	}
	bar := progressbar.NewOptions64(total, opts...)
	if p.done > 0 {
		bar.Set64(min(p.done, total))
	}
	bar.RenderBlank()
	return bar
}

// Add records n more items done.
func (p *Progress) Add(n int) { p.add(int64(n), 0) }

// Skip records n items done by an earlier attempt (a resumed stage): they
// count as done but not in the rate.
func (p *Progress) Skip(n int) { p.add(int64(n), int64(n)) }

func (p *Progress) add(n, skipped int64) {
	p.mu.Lock()
	p.done += n
	p.skipped += skipped
	var attrs []any
	switch {
	case p.finished:
	case p.bar != nil:
		if p.total >= 0 && p.done > p.total {
			p.total = p.done
			p.bar.ChangeMax64(p.total)
		}
		p.bar.Add64(n)
	default:
		if now := p.now(); now.Sub(p.lastLog) >= p.every {
			p.lastLog = now
			attrs = p.attrsLocked(now, false)
		}
	}
	p.mu.Unlock()
	// Logging happens outside p.mu: on a terminal the log goes through the
	// board, which locks p.mu to draw.
	if attrs != nil {
		p.logger.Info("progress", attrs...)
	}
}

// SetTotal sets the number of items; below zero means unknown.
func (p *Progress) SetTotal(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = normTotal(n)
	if p.bar != nil && !p.finished {
		p.bar = p.newBar()
	}
}

// State returns the current counts.
func (p *Progress) State() ProgressState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return ProgressState{Done: p.done, Skipped: p.skipped, Total: p.total}
}

// Finish stops the display and reports the final counts. Later calls do
// nothing; Add and Skip still count but show nothing.
func (p *Progress) Finish() {
	p.mu.Lock()
	if p.finished {
		p.mu.Unlock()
		return
	}
	p.finished = true
	attrs := p.attrsLocked(p.now(), true)
	st := ProgressState{Done: p.done, Skipped: p.skipped, Total: p.total}
	onFinish := p.onFinish
	p.mu.Unlock()
	// The board is told outside p.mu: it locks p.mu while drawing.
	if p.board != nil {
		p.board.remove(p)
	}
	p.logger.Info("progress", attrs...)
	if onFinish != nil {
		onFinish(st)
	}
}

// rate returns items per second over this attempt, skipped items excluded.
func (p *Progress) rateLocked(now time.Time) float64 {
	secs := now.Sub(p.start).Seconds()
	if secs <= 0 {
		return 0
	}
	return float64(p.done-p.skipped) / secs
}

func (p *Progress) etaLocked(rate float64) (time.Duration, bool) {
	if p.total < 0 || rate <= 0 {
		return 0, false
	}
	left := float64(p.total - p.done)
	if left < 0 {
		left = 0
	}
	secs := left / rate
	if secs > float64(math.MaxInt64/int64(time.Second)) {
		return 0, false
	}
	return time.Duration(secs * float64(time.Second)), true
}

func (p *Progress) attrsLocked(now time.Time, final bool) []any {
	rate := p.rateLocked(now)
	attrs := []any{"done", p.done}
	if p.total >= 0 {
		attrs = append(attrs, "total", p.total)
	}
	attrs = append(attrs, "rate_per_sec", math.Round(rate*100)/100)
	if eta, ok := p.etaLocked(rate); ok && !final {
		attrs = append(attrs, "eta_sec", int64(math.Ceil(eta.Seconds())))
	}
	if p.skipped > 0 {
		attrs = append(attrs, "skipped", p.skipped)
	}
	attrs = append(attrs, p.note...)
	if final {
		attrs = append(attrs, "elapsed_sec", math.Round(now.Sub(p.start).Seconds()*10)/10, "final", true)
	}
	return attrs
}

// line renders the progress for the terminal board.
func (p *Progress) line() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == nil {
		return ""
	}
	s := strings.TrimSpace(strings.TrimPrefix(p.bar.String(), "\r"))
	rate := p.rateLocked(p.now())
	s += fmt.Sprintf(" %s/s", formatRate(rate))
	if eta, ok := p.etaLocked(rate); ok {
		s += " eta " + eta.Round(time.Second).String()
	}
	for i := 0; i+1 < len(p.note); i += 2 {
		s += fmt.Sprintf(" %v %v", p.note[i], p.note[i+1])
	}
	return s
}

func formatRate(r float64) string {
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f", r)
	case r >= 10:
		return fmt.Sprintf("%.1f", r)
	default:
		return fmt.Sprintf("%.2f", r)
	}
}

// board draws the bars of the running stages at the bottom of a terminal
// and lets log lines scroll above them: it is the io.Writer of the
// terminal's log handler.
type board struct {
	out   io.Writer
	width func() int

	mu    sync.Mutex
	bars  []*Progress
	drawn int // bar lines on screen below the log
	stop  chan struct{}
	done  chan struct{}
}

func newBoard(out io.Writer, width func() int, every time.Duration) *board {
	b := &board{out: out, width: width, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-t.C:
				b.redraw(nil)
			}
		}
	}()
	return b
}

// Write prints log output above the bars.
func (b *board) Write(p []byte) (int, error) {
	if err := b.redraw(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (b *board) add(p *Progress) {
	b.mu.Lock()
	b.bars = append(b.bars, p)
	b.mu.Unlock()
	b.redraw(nil)
}

func (b *board) remove(p *Progress) {
	b.mu.Lock()
	for i, q := range b.bars {
		if q == p {
			b.bars = append(b.bars[:i], b.bars[i+1:]...)
			break
		}
	}
	b.mu.Unlock()
	b.redraw(nil)
}

// redraw erases the bars, writes log text and draws the bars again, in
// one write so the terminal does not flicker.
func (b *board) redraw(log []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var buf bytes.Buffer
	if b.drawn > 0 {
		fmt.Fprintf(&buf, "\r\x1b[%dA\x1b[J", b.drawn)
	}
	buf.Write(log)
	width := b.width()
	b.drawn = 0
	for _, p := range b.bars {
		buf.WriteString(clip(p.line(), width-1))
		buf.WriteByte('\n')
		b.drawn++
	}
	_, err := b.out.Write(buf.Bytes())
	return err
}

// close stops redrawing and erases the bars.
func (b *board) close() {
	close(b.stop)
	<-b.done
	b.mu.Lock()
	b.bars = nil
	b.mu.Unlock()
	b.redraw(nil)
}

func clip(s string, width int) string {
	if width <= 0 || utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:width])
}
