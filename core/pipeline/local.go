package pipeline

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"runtime"

	"github.com/zclconf/go-cty/cty"

	"github.com/swelego/swelego/core/backend/cpu"
	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/infer"
	"github.com/swelego/swelego/core/llm"
	"github.com/swelego/swelego/core/serve"
	"github.com/swelego/swelego/hcl"
	"github.com/swelego/swelego/sdk"
)

// localConfig is a model block with provider = "local", decoded once: a
// checkpoint served by swelego itself.
type localConfig struct {
	// Checkpoint is the model folder: an sft stage's published model or
	// a folder path (relative to the recipe).
	Checkpoint string
	// Stage is the sft stage the checkpoint comes from, "" for a path.
	Stage    string
	MaxBatch int
}

func decodeLocal(m *hcl.Model) localConfig {
	return localConfig{Stage: m.Checkpoint.Ref, Checkpoint: m.Checkpoint.Path, MaxBatch: m.MaxBatch}
}

// openEndpoint makes the client of a model block served over HTTP, shared
// by a stage's items: an OpenAI-compatible endpoint (provider openai), or
// the block's checkpoint served by swelego on a loopback port for as long
// as the stage runs (provider local). Call stop when the stage is done.
func (s *stageBase) openEndpoint(ctx context.Context, sc *engine.StageContext, b *hcl.Block) (m sdk.Model, name string, stop func(), err error) {
	mc, err := settingsOf[hcl.Model](b)
	if err != nil {
		return nil, "", nil, err
	}
	if mc.Provider != "local" {
		m, name, err = s.endpoint(b)
		return m, name, func() {}, err
	}
	lc := decodeLocal(mc)
	if lc.Stage == "" && lc.Checkpoint == "" {
		return nil, "", nil, fmt.Errorf("%s: provider local needs checkpoint (an sft stage, or a model folder)", b.Address)
	}
	if lc.Stage != "" {
		lc.Checkpoint = filepath.Join(sc.Run.StageDir(lc.Stage), ModelDir)
	}
	be := cpu.New(runtime.GOMAXPROCS(0))
	ck, err := serve.Load(ctx, lc.Checkpoint, be, serve.LoadOptions{})
	if err != nil {
		be.Close()
		return nil, "", nil, fmt.Errorf("%s: %w", b.Address, err)
	}
	name = mc.Name
	if name == "" {
		name = b.Address
	}
	srv, err := serve.New(ck, serve.Options{Name: name, Logger: sc.Logger, Engine: infer.Options{MaxBatch: lc.MaxBatch}})
	if err != nil {
		be.Close()
		return nil, "", nil, fmt.Errorf("%s: %w", b.Address, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		be.Close()
		return nil, "", nil, fmt.Errorf("%s: %w", b.Address, err)
	}
	srvCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(srvCtx, ln); err != nil {
			sc.Logger.Error("local model server", "model", b.Address, "error", err)
		}
	}()
	url := "http://" + ln.Addr().String() + "/v1"
	sc.Logger.Info("serving the local model", "model", b.Address, "checkpoint", lc.Checkpoint, "url", url)
	cfg, err := LLMConfig(b.Address, mc)
	if err != nil {
		cancel()
		<-done
		be.Close()
		return nil, "", nil, err
	}
	cfg.Provider, cfg.BaseURL, cfg.Model = "openai", url, name
	if m, err = llm.New(cfg); err != nil {
		cancel()
		<-done
		be.Close()
		return nil, "", nil, fmt.Errorf("%s: %w", b.Address, err)
	}
	stop = func() {
		cancel()
		<-done
		be.Close()
	}
	return m, name, stop, nil
}

// newModelSettings are the model block's settings earlier builds did not
// have; left unset, they stay out of fingerprints, so rollouts made before
// them are not asked to rerun.
var newModelSettings = map[string]bool{"checkpoint": true, "max_batch": true}

// withoutNull returns the object v without the named attributes that are
// null.
func withoutNull(v cty.Value, names map[string]bool) cty.Value {
	if v == (cty.Value{}) || !v.IsKnown() || v.IsNull() || !v.Type().IsObjectType() {
		return v
	}
	attrs := map[string]cty.Value{}
	for name, av := range v.AsValueMap() {
		if names[name] && av.IsNull() {
			continue
		}
		attrs[name] = av
	}
	return cty.ObjectVal(attrs)
}
