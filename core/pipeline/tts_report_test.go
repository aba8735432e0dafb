package pipeline

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNewTTSReport computes a report over three tasks by hand: one mixed
// (the rollouts of TestTTSAtK), one all resolved, one none.
func TestNewTTSReport(t *testing.T) {
	var mix []ScoredRollout
	for _, r := range mixed {
		mix = append(mix, ScoredRollout{Index: r.Index, Resolved: r.Resolved, Score: r.Score, Selection: r.Score})
	}
	all := []ScoredRollout{{Index: 1, Resolved: true, Score: 0.9, Selection: 0.9}, {Index: 2, Resolved: true, Score: 0.7, Selection: 0.7}, {Index: 3, Resolved: true, Score: 0.2, Selection: 0.2}, {Index: 4, Resolved: true, Score: 0.6, Selection: 0.6}}
	none := []ScoredRollout{{Index: 1, Score: 0.3, Selection: 0.3}, {Index: 2, Score: 0.95, Selection: 0.95}, {Index: 3, Score: 0.3, Selection: 0.3}, {Index: 4, Score: 0, Selection: 0}}
	r := NewTTSReport("tts.x", "judge", false, 4, []TaskRollouts{{"a", mix}, {"b", all}, {"c", none}})
	if r.Tasks != 3 || r.Rollouts != 12 || r.Resolved != 6 || r.SubmittedResolved != 1 {
		t.Errorf("tasks %d rollouts %d resolved %d picks %d", r.Tasks, r.Rollouts, r.Resolved, r.SubmittedResolved)
	}
	// pass@1 = (2/4 + 1 + 0)/3; TTS@K from TestTTSAtK's mixed values plus 1 and 0.
	want := []TTSPoint{
		{K: 1, PassAt1: 0.5, TTSAtK: (0.5 + 1) / 3, PassAtK: (0.5 + 1) / 3},
		{K: 2, PassAt1: 0.5, TTSAtK: (2.0/6 + 1) / 3, PassAtK: (5.0/6 + 1) / 3},
		{K: 4, PassAt1: 0.5, TTSAtK: (0 + 1.0) / 3, PassAtK: (1 + 1.0) / 3},
	}
	if len(r.Curve) != len(want) {
		t.Fatalf("curve %+v", r.Curve)
	}
	for i, w := range want {
		g := r.Curve[i]
		if g.K != w.K || !near(g.PassAt1, w.PassAt1) || !near(g.TTSAtK, w.TTSAtK) || !near(g.PassAtK, w.PassAtK) {
			t.Errorf("K=%d: got %+v, want %+v", w.K, g, w)
		}
	}
	// AUC over all 12: resolved {0.8,0.1,0.9,0.7,0.2,0.6} against
	// unresolved {0.9,0.5,0.3,0.95,0.3,0}: wins counted pair by pair.
	wins := 0.0
	for _, p := range []float64{0.8, 0.1, 0.9, 0.7, 0.2, 0.6} {
		for _, q := range []float64{0.9, 0.5, 0.3, 0.95, 0.3, 0} {
			if p > q {
				wins++
			} else if p == q {
				wins += 0.5
			}
		}
	}
	if r.AUC == nil || !near(*r.AUC, wins/36) {
		t.Errorf("AUC %v, want %v", r.AUC, wins/36)
	}
	if r.PerTask[0].Pick != 1 || r.PerTask[0].PickResolved || r.PerTask[2].Pick != 2 {
		t.Errorf("picks %+v", r.PerTask)
	}

	dir := t.TempDir()
	if err := writeTTSReport(dir, r); err != nil {
		t.Fatal(err)
	}
	back, err := ReadTTSReport(filepath.Join(dir, TTSReportFile))
	if err != nil || back.Tasks != 3 || len(back.Curve) != 3 {
		t.Fatalf("read back %+v, %v", back, err)
	}
	svg, err := os.ReadFile(filepath.Join(dir, TTSPlotSVG))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(svg, new(struct{})); err != nil || !bytes.Contains(svg, []byte("TTS@K")) {
		t.Errorf("report.svg is no SVG with the curves' legend: %v", err)
	}
	f, err := os.Open(filepath.Join(dir, TTSPlotPNG))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if img, err := png.Decode(f); err != nil || img.Bounds().Dx() < 100 {
		t.Errorf("report.png: %v", err)
	}
	var text strings.Builder
	if err := r.WriteText(&text); err != nil || !strings.Contains(text.String(), "pass@K") || strings.Count(text.String(), "\n") != 5 {
		t.Errorf("text report:\n%s", text.String())
	}
}
