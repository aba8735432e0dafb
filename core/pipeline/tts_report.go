package pipeline

import (
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Files of a tts stage's report, in its stage directory.
const (
	TTSReportFile = "report.json" // TTSReport
	TTSPlotSVG    = "report.svg"  // pass@1, TTS@K and pass@K against K
	TTSPlotPNG    = "report.png"
)

// TTSReport is what a tts stage that rolls out a model reports over the
// tasks whose k rollouts are all graded and scored.
type TTSReport struct {
	Stage    string `json:"stage"`
	Verifier string `json:"verifier"` // the verifier plugin's name
	// VerifierPlugin is where that plugin came from: built in, or the
	// binary's path.
	VerifierPlugin string `json:"verifier_plugin,omitempty"`
	// Ranked says the picks follow the verifier's set-level Rank; TTS@K
	// then orders each subset by the ranks of the whole set.
	Ranked   bool `json:"ranked"`
	K        int  `json:"k"`                 // rollouts asked per task
	Tasks    int  `json:"tasks"`             // tasks in the report
	Rollouts int  `json:"rollouts"`          // their rollouts
	Resolved int  `json:"resolved_rollouts"` // of which the harness resolved
	// PassAt1 is the mean resolved share of a task's rollouts.
	PassAt1 float64 `json:"pass_at_1"`
	// AUC is the ROC AUC of the verifier's scores on resolved against
	// unresolved rollouts (ties count 1/2); null when a class is empty.
	AUC *float64 `json:"auc"`
	// SelectionAUC is the same over the selection scores, when the
	// verifier ranks.
	SelectionAUC *float64 `json:"selection_auc,omitempty"`
	// Curve gives, for K = 1, 2, 4, … and k, the three estimates averaged
	// over tasks.
	Curve []TTSPoint `json:"curve"`
	// SubmittedResolved counts the tasks whose submitted pick (from all
	// their rollouts) is resolved.
	SubmittedResolved int `json:"submitted_resolved"`
	// PerTask lists every task in the report.
	PerTask []TTSTask `json:"per_task"`
}

// TTSPoint is one K of a report's curve.
type TTSPoint struct {
	K       int     `json:"k"`
	PassAt1 float64 `json:"pass_at_1"`
	TTSAtK  float64 `json:"tts_at_k"`
	PassAtK float64 `json:"pass_at_k"`
}

// TTSTask is one task of a report: its rollouts in the stage's selection
// order and the one submitted.
type TTSTask struct {
	InstanceID string `json:"instance_id"`
	Rollouts   int    `json:"rollouts"`
	Resolved   int    `json:"resolved"`
	// Order is the rollouts' indices, first the one submitted.
	Order        []int `json:"order"`
	Pick         int   `json:"pick"`
	PickResolved bool  `json:"pick_resolved"`
}

// ScoredRollout is one rollout as a report is computed from it: its index,
// its grade, the verifier's score and the score the stage selects by (the
// verifier's rank when it ranks, else Score).
type ScoredRollout struct {
	Index     int
	Resolved  bool
	Score     float64
	Selection float64
}

// TaskRollouts are the rollouts of one task.
type TaskRollouts struct {
	InstanceID string
	Rollouts   []ScoredRollout
}

// NewTTSReport computes a report from every task's scored rollouts.
func NewTTSReport(stage, verifier string, ranked bool, k int, tasks []TaskRollouts) TTSReport {
	r := TTSReport{Stage: stage, Verifier: verifier, Ranked: ranked, K: k, Curve: []TTSPoint{}, PerTask: []TTSTask{}}
	var byScore, bySelection []Rollout
	selection := make([][]Rollout, 0, len(tasks))
	for _, t := range tasks {
		if len(t.Rollouts) == 0 {
			continue
		}
		sel := make([]Rollout, len(t.Rollouts))
		c := 0
		for i, ro := range t.Rollouts {
			sel[i] = Rollout{Index: ro.Index, Resolved: ro.Resolved, Score: ro.Selection}
			byScore = append(byScore, Rollout{Index: ro.Index, Resolved: ro.Resolved, Score: ro.Score})
			if ro.Resolved {
				c++
			}
		}
		bySelection = append(bySelection, sel...)
		selection = append(selection, sel)
		order := SelectionOrder(sel)
		tt := TTSTask{InstanceID: t.InstanceID, Rollouts: len(sel), Resolved: c, Pick: order[0].Index, PickResolved: order[0].Resolved}
		for _, o := range order {
			tt.Order = append(tt.Order, o.Index)
		}
		if tt.PickResolved {
			r.SubmittedResolved++
		}
		r.PerTask = append(r.PerTask, tt)
		r.Tasks++
		r.Rollouts += len(sel)
		r.Resolved += c
	}
	r.AUC = AUC(byScore)
	if ranked {
		r.SelectionAUC = AUC(bySelection)
	}
	if r.Tasks == 0 {
		return r
	}
	for _, K := range ReportKs(k) {
		p := TTSPoint{K: K}
		for i, sel := range selection {
			t := r.PerTask[i]
			p.PassAt1 += PassAtK(t.Rollouts, t.Resolved, 1)
			p.PassAtK += PassAtK(t.Rollouts, t.Resolved, K)
			p.TTSAtK += TTSAtK(sel, K)
		}
		n := float64(r.Tasks)
		p.PassAt1, p.PassAtK, p.TTSAtK = p.PassAt1/n, p.PassAtK/n, p.TTSAtK/n
		r.Curve = append(r.Curve, p)
	}
	r.PassAt1 = r.Curve[0].PassAt1
	return r
}

// WriteText prints the report as a short table.
func (r TTSReport) WriteText(w io.Writer) error {
	auc := "n/a (one class is empty)"
	if r.AUC != nil {
		auc = strconv.FormatFloat(*r.AUC, 'f', 3, 64)
	}
	how := "by score"
	if r.Ranked {
		how = "by the verifier's rank"
	}
	verifier := r.Verifier
	if r.VerifierPlugin != "" {
		verifier = r.VerifierPlugin
	}
	_, err := fmt.Fprintf(w, "%s: %d tasks × %d rollouts (%d of %d resolved), verifier %s picking %s, AUC %s; %d of %d picks resolved\n",
		r.Stage, r.Tasks, r.K, r.Resolved, r.Rollouts, verifier, how, auc, r.SubmittedResolved, r.Tasks)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  %4s  %8s  %8s  %8s\n", "K", "pass@1", "TTS@K", "pass@K")
	for _, p := range r.Curve {
		if _, err := fmt.Fprintf(w, "  %4d  %8.3f  %8.3f  %8.3f\n", p.K, p.PassAt1, p.TTSAtK, p.PassAtK); err != nil {
			return err
		}
	}
	return nil
}

// ReadTTSReport reads a report a tts stage wrote.
func ReadTTSReport(path string) (TTSReport, error) {
	var r TTSReport
	data, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// writeTTSReport writes the report and its plot (SVG and PNG) to dir.
func writeTTSReport(dir string, r TTSReport) error {
	if err := writeJSON(filepath.Join(dir, TTSReportFile), r); err != nil {
		return err
	}
	if len(r.Curve) == 0 {
		return nil
	}
	p, err := ttsPlot(r)
	if err != nil {
		return err
	}
	for _, name := range []string{TTSPlotSVG, TTSPlotPNG} {
		tmp := filepath.Join(dir, "tmp-"+name)
		if err := p.Save(6*vg.Inch, 4*vg.Inch, tmp); err != nil {
			return fmt.Errorf("plot: %w", err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// ttsPlot draws pass@1, TTS@K and pass@K against K (gonum.org/v1/plot).
func ttsPlot(r TTSReport) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: %d tasks, verifier %s", r.Stage, r.Tasks, r.Verifier)
	p.X.Label.Text = "K (rollouts per task)"
	p.Y.Label.Text = "resolved rate"
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top = false // bottom right: the curves rise to the right
	var ticks []plot.Tick
	for _, pt := range r.Curve {
		ticks = append(ticks, plot.Tick{Value: float64(pt.K), Label: strconv.Itoa(pt.K)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Add(plotter.NewGrid())
	curves := []struct {
		name  string
		value func(TTSPoint) float64
		color color.RGBA
		shape draw.GlyphDrawer
	}{
		{"pass@K (oracle pick)", func(t TTSPoint) float64 { return t.PassAtK }, color.RGBA{R: 0x2c, G: 0x7f, B: 0xb8, A: 0xff}, draw.TriangleGlyph{}},
		{"TTS@K (verifier's pick)", func(t TTSPoint) float64 { return t.TTSAtK }, color.RGBA{R: 0xd9, G: 0x5f, B: 0x0e, A: 0xff}, draw.CircleGlyph{}},
		{"pass@1", func(t TTSPoint) float64 { return t.PassAt1 }, color.RGBA{R: 0x66, G: 0x66, B: 0x66, A: 0xff}, draw.SquareGlyph{}},
	}
	for _, c := range curves {
		pts := make(plotter.XYs, len(r.Curve))
		for i, pt := range r.Curve {
			pts[i].X, pts[i].Y = float64(pt.K), c.value(pt)
		}
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		line.Color, points.Color, points.Shape = c.color, c.color, c.shape
		p.Add(line, points)
		p.Legend.Add(c.name, line, points)
	}
	return p, nil
}
