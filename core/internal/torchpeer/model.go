package torchpeer

import (
	"testing"

	"github.com/swelego/swelego/core/backend/cpu"
	"github.com/swelego/swelego/core/model"
)

// NewModel is swelego's side of a comparison: a model of config (JSON) on
// the CPU backend with all its threads, its weights drawn at random (seed
// 1, std 0.02). The backend closes when tb's test or benchmark run ends.
func NewModel(tb testing.TB, config string) (*model.Model, model.Config, *cpu.Backend) {
	tb.Helper()
	cfg, err := model.ParseConfig([]byte(config))
	if err != nil {
		tb.Fatal(err)
	}
	be := cpu.New(0)
	tb.Cleanup(be.Close)
	m, err := model.New(be, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	m.InitRandom(1, 0.02)
	return m, cfg, be
}
