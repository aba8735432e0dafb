package report

import (
	"bytes"
	"fmt"
	"image/color"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/swelego/swelego/core/harness"
)

// Plot is one figure of the report: its title and its SVG, ready to
// inline (no XML prolog, ids made unique by Prefix).
type Plot struct {
	ID    string
	Title string
	SVG   string
}

var (
	blue   = color.RGBA{R: 0x2c, G: 0x7f, B: 0xb8, A: 0xff}
	orange = color.RGBA{R: 0xd9, G: 0x5f, B: 0x0e, A: 0xff}
	grey   = color.RGBA{R: 0x66, G: 0x66, B: 0x66, A: 0xff}
	green  = color.RGBA{R: 0x31, G: 0xa3, B: 0x54, A: 0xff}
)

// renderSVG draws p as SVG of w×h.
func renderSVG(p *plot.Plot, id string, w, h vg.Length) (string, error) {
	c := vgsvg.New(w, h)
	p.Draw(draw.New(c))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return "", fmt.Errorf("plot %s: %w", id, err)
	}
	s := b.String()
	if i := strings.Index(s, "<svg"); i > 0 {
		s = s[i:] // drop the XML prolog: the SVG is inlined in HTML
	}
	// vgsvg names its clip paths and glyphs with ids of its own; several
	// plots on one page would share them.
	s = strings.ReplaceAll(s, `id="`, `id="`+id+`-`)
	s = strings.ReplaceAll(s, `url(#`, `url(#`+id+`-`)
	s = strings.ReplaceAll(s, `href="#`, `href="#`+id+`-`)
	return s, nil
}

// sftPlots draws the loss and learning rate per step, with the
// curriculum's stage boundaries, and the training throughput.
func sftPlots(s *Stage) ([]Plot, error) {
	if len(s.Metrics) == 0 {
		return nil, nil
	}
	var loss, lr, tps plotter.XYs
	var bounds []float64
	var stages []string
	for i, m := range s.Metrics {
		x := float64(m.Step)
		loss = append(loss, plotter.XY{X: x, Y: m.Loss})
		lr = append(lr, plotter.XY{X: x, Y: m.LR})
		tps = append(tps, plotter.XY{X: x, Y: m.TokensPerSec})
		if i == 0 || m.Stage != s.Metrics[i-1].Stage {
			if i > 0 {
				bounds = append(bounds, x-0.5)
			}
			stages = append(stages, m.Stage)
		}
	}
	var out []Plot
	add := func(id, title, ylabel string, pts plotter.XYs, c color.Color, withBounds bool) error {
		p := plot.New()
		p.Title.Text = title
		p.X.Label.Text = "step"
		p.Y.Label.Text = ylabel
		p.Legend.Top = true
		p.Add(plotter.NewGrid())
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color = c
		p.Add(l)
		if withBounds {
			lo, hi := minMax(pts)
			for _, x := range bounds {
				b, err := plotter.NewLine(plotter.XYs{{X: x, Y: lo}, {X: x, Y: hi}})
				if err != nil {
					return err
				}
				b.Color, b.Dashes = grey, []vg.Length{vg.Points(4), vg.Points(3)}
				p.Add(b)
			}
			if len(bounds) > 0 {
				p.Legend.Add("curriculum stage boundary ("+strings.Join(stages, " → ")+")", &plotter.Line{LineStyle: draw.LineStyle{Color: grey, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}})
			}
		}
		svg, err := renderSVG(p, id, 7*vg.Inch, 3.5*vg.Inch)
		if err != nil {
			return err
		}
		out = append(out, Plot{ID: id, Title: title, SVG: svg})
		return nil
	}
	id := slug(s.Address)
	if err := add(id+"-loss", s.Address+": training loss per step", "loss", loss, blue, true); err != nil {
		return nil, err
	}
	if err := add(id+"-lr", s.Address+": learning rate per step", "learning rate", lr, orange, true); err != nil {
		return nil, err
	}
	if err := add(id+"-tps", s.Address+": tokens/s per step", "tokens/s", tps, green, false); err != nil {
		return nil, err
	}
	return out, nil
}

// ttsPlot draws pass@1, TTS@K and pass@K against K.
func ttsPlot(s *Stage) (*Plot, error) {
	r := s.TTS
	if r == nil || len(r.Curve) == 0 {
		return nil, nil
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: pass@K and TTS@K (%d tasks, verifier %s)", s.Address, r.Tasks, r.Verifier)
	p.X.Label.Text = "K (rollouts per task)"
	p.Y.Label.Text = "resolved rate"
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top = false
	var ticks []plot.Tick
	for _, pt := range r.Curve {
		ticks = append(ticks, plot.Tick{Value: float64(pt.K), Label: strconv.Itoa(pt.K)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Add(plotter.NewGrid())
	for _, c := range []struct {
		name string
		v    func(i int) float64
		col  color.Color
	}{
		{"pass@K (oracle pick)", func(i int) float64 { return r.Curve[i].PassAtK }, blue},
		{"TTS@K (verifier's pick)", func(i int) float64 { return r.Curve[i].TTSAtK }, orange},
		{"pass@1", func(i int) float64 { return r.Curve[i].PassAt1 }, grey},
	} {
		pts := make(plotter.XYs, len(r.Curve))
		for i, pt := range r.Curve {
			pts[i] = plotter.XY{X: float64(pt.K), Y: c.v(i)}
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		l.Color, sc.Color = c.col, c.col
		p.Add(l, sc)
		p.Legend.Add(c.name, l, sc)
	}
	id := slug(s.Address) + "-curve"
	svg, err := renderSVG(p, id, 6*vg.Inch, 4*vg.Inch)
	if err != nil {
		return nil, err
	}
	return &Plot{ID: id, Title: p.Title.Text, SVG: svg}, nil
}

// yieldPlot draws candidates, validated and kept per injector rule.
func yieldPlot(s *Stage) (*Plot, error) {
	if len(s.Yield) == 0 {
		return nil, nil
	}
	rules := make([]string, 0, len(s.Yield))
	for r := range s.Yield {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	series := []struct {
		name string
		v    func(string) float64
		col  color.Color
	}{
		{"candidates", func(r string) float64 { return float64(s.Yield[r].Candidates) }, grey},
		{"validated", func(r string) float64 { return float64(s.Yield[r].Validated) }, blue},
		{"kept", func(r string) float64 { return float64(s.Yield[r].Kept) }, green},
	}
	p := plot.New()
	p.Title.Text = s.Address + ": yield per rule"
	p.Y.Label.Text = "candidates"
	p.Add(plotter.NewGrid())
	w := vg.Points(8)
	for i, sr := range series {
		vals := make(plotter.Values, len(rules))
		for j, r := range rules {
			vals[j] = sr.v(r)
		}
		bars, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return nil, err
		}
		bars.Color, bars.LineStyle.Width = sr.col, 0
		bars.Offset = vg.Length(i-1) * w
		p.Add(bars)
		p.Legend.Add(sr.name, bars)
	}
	p.Legend.Top = true
	p.NominalX(rules...)
	p.X.Tick.Label.Rotation = 0.6
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	id := slug(s.Address) + "-yield"
	svg, err := renderSVG(p, id, vg.Length(max(6*72, 40*len(rules)+150)), 4.5*vg.Inch)
	if err != nil {
		return nil, err
	}
	return &Plot{ID: id, Title: p.Title.Text, SVG: svg}, nil
}

// evalStatuses are the statuses of a harness result, in display order.
var evalStatuses = []string{harness.ResultResolved, harness.ResultPartial, harness.ResultUnresolved, harness.ResultEmptyPatch, harness.ResultError}

// evalPlot draws how many instances ended in each status.
func evalPlot(s *Stage) (*Plot, error) {
	if len(s.Results) == 0 {
		return nil, nil
	}
	counts := map[string]int{}
	for _, r := range s.Results {
		counts[r.Status]++
	}
	names := slices.Clone(evalStatuses)
	for st := range counts {
		if !slices.Contains(names, st) {
			names = append(names, st)
		}
	}
	vals := make(plotter.Values, len(names))
	for i, n := range names {
		vals[i] = float64(counts[n])
	}
	p := plot.New()
	p.Title.Text = s.Address + ": eval status breakdown"
	p.Y.Label.Text = "instances"
	p.Add(plotter.NewGrid())
	bars, err := plotter.NewBarChart(vals, vg.Points(24))
	if err != nil {
		return nil, err
	}
	bars.Color, bars.LineStyle.Width = blue, 0
	p.Add(bars)
	p.NominalX(names...)
	id := slug(s.Address) + "-status"
	svg, err := renderSVG(p, id, 5*vg.Inch, 3*vg.Inch)
	if err != nil {
		return nil, err
	}
	return &Plot{ID: id, Title: p.Title.Text, SVG: svg}, nil
}

func minMax(pts plotter.XYs) (lo, hi float64) {
	lo, hi = pts[0].Y, pts[0].Y
	for _, p := range pts {
		lo, hi = min(lo, p.Y), max(hi, p.Y)
	}
	return lo, hi
}

// slug turns an address into an HTML id.
func slug(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '-'
	}, s)
}
