package pluginhost

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/swelego/swelego/sdk"
)

// exitedSoon reports whether the plugin process has exited or exits within
// a moment: a crash reaches the caller as a broken connection slightly
// before the process is reaped.
func exitedSoon(raw *plugin.Client) bool {
	deadline := time.Now().Add(500 * time.Millisecond)
	for {
		if raw.Exited() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TaskSource returns plugin name's task source, supervised by the host.
func (h *Host) TaskSource(ctx context.Context, name string) (sdk.TaskSource, error) {
	p, err := h.kind(ctx, name, sdk.KindTaskSource)
	return taskSource{p}, err
}

// BugInjector returns plugin name's bug injector, supervised by the host.
func (h *Host) BugInjector(ctx context.Context, name string) (sdk.BugInjector, error) {
	p, err := h.kind(ctx, name, sdk.KindBugInjector)
	return bugInjector{p}, err
}

// ToolSet returns plugin name's tool set, supervised by the host.
func (h *Host) ToolSet(ctx context.Context, name string) (sdk.ToolSet, error) {
	p, err := h.kind(ctx, name, sdk.KindToolSet)
	return toolSet{p}, err
}

// LossMasker returns plugin name's loss masker, supervised by the host.
func (h *Host) LossMasker(ctx context.Context, name string) (sdk.LossMasker, error) {
	p, err := h.kind(ctx, name, sdk.KindLossMasker)
	return lossMasker{p}, err
}

// Curriculum returns plugin name's curriculum, supervised by the host.
func (h *Host) Curriculum(ctx context.Context, name string) (sdk.Curriculum, error) {
	p, err := h.kind(ctx, name, sdk.KindCurriculum)
	return curriculum{p}, err
}

// Verifier returns plugin name's verifier, supervised by the host. The
// value also implements sdk.Ranker: its Rank returns an error matching
// sdk.ErrNotServed when the plugin's verifier does not rank.
func (h *Host) Verifier(ctx context.Context, name string) (sdk.Verifier, error) {
	p, err := h.kind(ctx, name, sdk.KindVerifier)
	return verifier{p}, err
}

// LogParser returns plugin name's test-log parser, supervised by the host.
func (h *Host) LogParser(ctx context.Context, name string) (sdk.LogParser, error) {
	p, err := h.kind(ctx, name, sdk.KindLogParser)
	return logParser{p}, err
}

type logParser struct{ p *process }

func (k logParser) ParseLog(ctx context.Context, cfg sdk.Config, log string) (out map[string]sdk.TestStatus, err error) {
	err = k.p.call(ctx, func(c *sdk.Client) error { out, err = c.LogParser().ParseLog(ctx, cfg, log); return err })
	return out, err
}

type taskSource struct{ p *process }

func (k taskSource) Tasks(ctx context.Context, cfg sdk.Config, send func(sdk.Task) error) error {
	return k.p.call(ctx, func(c *sdk.Client) error { return c.TaskSource().Tasks(ctx, cfg, send) })
}

type bugInjector struct{ p *process }

func (k bugInjector) Mutations(ctx context.Context, req sdk.InjectRequest, send func(sdk.Mutation) error) error {
	return k.p.call(ctx, func(c *sdk.Client) error { return c.BugInjector().Mutations(ctx, req, send) })
}

type toolSet struct{ p *process }

func (k toolSet) Tools(ctx context.Context, cfg sdk.Config) (out []sdk.ToolSchema, err error) {
	err = k.p.call(ctx, func(c *sdk.Client) error { out, err = c.ToolSet().Tools(ctx, cfg); return err })
	return out, err
}

func (k toolSet) Execute(ctx context.Context, req sdk.ToolRequest) (out sdk.ToolResult, err error) {
	err = k.p.call(ctx, func(c *sdk.Client) error { out, err = c.ToolSet().Execute(ctx, req); return err })
	return out, err
}

type lossMasker struct{ p *process }

func (k lossMasker) Mask(ctx context.Context, cfg sdk.Config, t sdk.Trajectory) (out []sdk.LossWeight, err error) {
	err = k.p.call(ctx, func(c *sdk.Client) error { out, err = c.LossMasker().Mask(ctx, cfg, t); return err })
	return out, err
}

type curriculum struct{ p *process }

func (k curriculum) Stages(ctx context.Context, cfg sdk.Config, stats []sdk.TrajectoryStats) (out []sdk.CurriculumStage, err error) {
	err = k.p.call(ctx, func(c *sdk.Client) error { out, err = c.Curriculum().Stages(ctx, cfg, stats); return err })
	return out, err
}

type verifier struct{ p *process }

func (k verifier) Verify(ctx context.Context, req sdk.VerifyRequest) (out sdk.Score, err error) {
	err = k.p.call(ctx, func(c *sdk.Client) error { out, err = c.Verifier().Verify(ctx, req); return err })
	return out, err
}

var _ sdk.Ranker = verifier{}

func (k verifier) Rank(ctx context.Context, req sdk.RankRequest) (out map[string]float64, err error) {
	err = k.p.call(ctx, func(c *sdk.Client) error {
		r, ok := c.Verifier().(sdk.Ranker)
		if !ok {
			return fmt.Errorf("plugin client does not rank: %w", sdk.ErrNotServed)
		}
		out, err = r.Rank(ctx, req)
		return err
	})
	return out, err
}
