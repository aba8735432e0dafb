package report

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/sdk"
)

var (
	//go:embed assets/report.html.tmpl
	pageTemplate string
	//go:embed assets/report.css
	pageCSS string
	//go:embed assets/report.js
	pageJS string
)

// MaxTrajectories caps the trajectories the viewer embeds, so a report of
// a large run stays a file a browser opens; trajectories with a masked or
// an error turn come first.
const MaxTrajectories = 200

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"slug":    slug,
	"svg":     func(s string) template.HTML { return template.HTML(s) }, // drawn by gonum/plot here, not outside input
	"seconds": stageSeconds,
	"pct": func(a, b int) string {
		if b == 0 {
			return "–"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(a)/float64(b))
	},
	"steps": func(s *Stage) []string {
		var out []string
		for _, r := range s.Rejected {
			if !slices.Contains(out, r.Step) {
				out = append(out, r.Step)
			}
		}
		slices.Sort(out)
		return out
	},
	"trajID":   trajID,
	"errTurns": func(t sdk.Trajectory) int { return errorTurns([]sdk.Trajectory{t}) },
	"passed": func(m map[string]harness.Status) int {
		n := 0
		for _, st := range m {
			if harness.Passed(st) {
				n++
			}
		}
		return n
	},
	"outcomeClass": func(st harness.Status) string {
		if harness.Passed(st) {
			return "st-resolved"
		}
		return "st-error"
	},
	"diff":      diffHTML,
	"firstLine": firstLine,
}).Parse(pageTemplate))

// pageData is what the template renders.
type pageData struct {
	Run          *Run
	CSS          template.CSS
	JS           template.JS
	Stages       []*Stage
	Failures     []Failure
	Plots        []Plot
	Tasks        []*Stage
	Synthetic    []*Stage
	Rollouts     []*Stage
	Evals        []*Stage
	SFT          []*Stage
	TTS          []*Stage
	Trajectories []viewTrajectory
	Omitted      int
}

// viewTrajectory is one trajectory as the viewer shows it.
type viewTrajectory struct {
	ID, Stage  string
	T          *sdk.Trajectory
	Messages   []viewMessage
	Masked     int
	ErrorTurns int
}

type viewMessage struct {
	Role, Content string
	Turn          int // 1-based, for assistant messages
	ErrorTurn     bool
	Masked        bool
	MaskReason    string
	Calls         []viewCall
}

type viewCall struct{ Name, Args string }

// WriteHTML writes the run's report as one self-contained HTML page: its
// styles, script and plots are inline and it loads nothing.
func WriteHTML(w io.Writer, r *Run) error {
	d := pageData{Run: r, CSS: template.CSS(pageCSS), JS: template.JS(pageJS), Stages: r.Ordered(), Failures: r.Failures()}
	var traj []viewTrajectory
	for _, s := range d.Stages {
		switch s.Kind {
		case KindTasks:
			d.Tasks = append(d.Tasks, s)
		case KindSynthetic:
			d.Synthetic = append(d.Synthetic, s)
			d.Tasks = append(d.Tasks, s)
			if p, err := yieldPlot(s); err != nil {
				return err
			} else if p != nil {
				d.Plots = append(d.Plots, *p)
			}
		case KindRollout:
			d.Rollouts = append(d.Rollouts, s)
		case KindEval:
			d.Evals = append(d.Evals, s)
			if p, err := evalPlot(s); err != nil {
				return err
			} else if p != nil {
				d.Plots = append(d.Plots, *p)
			}
		case KindSFT:
			d.SFT = append(d.SFT, s)
			ps, err := sftPlots(s)
			if err != nil {
				return err
			}
			d.Plots = append(d.Plots, ps...)
		case KindTTS:
			d.TTS = append(d.TTS, s)
			d.Rollouts = append(d.Rollouts, s)
			if p, err := ttsPlot(s); err != nil {
				return err
			} else if p != nil {
				d.Plots = append(d.Plots, *p)
			}
		}
		for i := range s.Trajectories {
			traj = append(traj, r.view(s.Address, &s.Trajectories[i]))
		}
	}
	// Trajectories worth a look first: masked turns, then error turns.
	slices.SortStableFunc(traj, func(a, b viewTrajectory) int {
		return boolRank(b.Masked > 0) - boolRank(a.Masked > 0)
	})
	if len(traj) > MaxTrajectories {
		d.Omitted = len(traj) - MaxTrajectories
		traj = traj[:MaxTrajectories]
	}
	d.Trajectories = traj
	var b bytes.Buffer
	if err := page.Execute(&b, d); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// WriteHTMLFile writes the report to path atomically.
func WriteHTMLFile(path string, r *Run) error {
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".report-*.html")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("write report: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

func trajID(stage string, t sdk.Trajectory) string {
	return "traj-" + slug(stage) + "-" + slug(t.InstanceID) + "-" + fmt.Sprint(t.Attempt)
}

// view lays out trajectory t of stage for the viewer: each assistant
// message with its turn's error flag and the sft masker's verdict.
func (r *Run) view(stage string, t *sdk.Trajectory) viewTrajectory {
	v := viewTrajectory{ID: trajID(stage, *t), Stage: stage, T: t}
	masks := map[int]Mask{}
	for _, m := range r.masksOf(t) {
		masks[m.Message] = m
	}
	turn := 0
	for i, m := range t.Messages {
		vm := viewMessage{Role: m.Role, Content: m.Content}
		if m.Role == "assistant" {
			turn++
			vm.Turn = turn
			if turn-1 < len(t.Turns) && t.Turns[turn-1].Error {
				vm.ErrorTurn = true
				v.ErrorTurns++
			}
			if mk, ok := masks[i]; ok {
				vm.Masked, vm.MaskReason = true, fmt.Sprintf("%s (weight %g)", orNone(mk.Reason), mk.Weight)
			} else if (m.TurnMask != nil && *m.TurnMask) || (m.LossWeight != nil && *m.LossWeight == 0) {
				vm.Masked, vm.MaskReason = true, "marked in the trajectory (turn_mask / loss_weight)"
			}
			if vm.Masked {
				v.Masked++
			}
		}
		if m.Role == "tool" && m.Name != "" {
			vm.Role = "tool"
		}
		for _, c := range m.ToolCalls {
			vm.Calls = append(vm.Calls, viewCall{Name: c.Function.Name, Args: prettyJSON(c.Function.Arguments)})
		}
		v.Messages = append(v.Messages, vm)
	}
	return v
}

func orNone(s string) string {
	if s == "" {
		return "no reason given"
	}
	return s
}

func prettyJSON(s string) string {
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return s
	}
	return string(b)
}

// diffHTML escapes a unified diff and marks its added, removed and hunk
// lines.
func diffHTML(d string) template.HTML {
	var b strings.Builder
	for _, line := range strings.SplitAfter(d, "\n") {
		cls := ""
		switch {
		case strings.HasPrefix(line, "+++"), strings.HasPrefix(line, "---"):
		case strings.HasPrefix(line, "+"):
			cls = "add"
		case strings.HasPrefix(line, "-"):
			cls = "del"
		case strings.HasPrefix(line, "@@"):
			cls = "hunk"
		}
		if cls == "" {
			b.WriteString(html.EscapeString(line))
			continue
		}
		fmt.Fprintf(&b, `<span class="%s">%s</span>`, cls, html.EscapeString(line))
	}
	return template.HTML(b.String())
}

func stageSeconds(s *Stage) string {
	if s.State.Ended.IsZero() || s.State.Started.IsZero() {
		return ""
	}
	return fmt.Sprintf("%.1f", s.State.Ended.Sub(s.State.Started).Seconds())
}

// MaskedTurns counts the masked assistant turns of trajectory t of stage.
func (d pageData) MaskedTurns(stage string, t sdk.Trajectory) int {
	return d.Run.view(stage, &t).Masked
}
