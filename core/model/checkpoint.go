package model

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/swelego/swelego/core/backend"
	"github.com/swelego/swelego/core/safetensors"
)

// Load reads a Hugging Face model folder — config.json and
// model.safetensors, or the shards model.safetensors.index.json lists — onto
// be. Tensors of any of the dtypes safetensors converts (F32, BF16, F16) load
// as float32; tensors the model does not use (a tied lm_head.weight, rotary
// buffers) are ignored, and a missing one is an error wrapping
// safetensors.ErrNotFound.
func Load(ctx context.Context, dir string, be backend.Backend) (*Model, error) {
	cfg, err := ReadConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	m, err := New(be, cfg)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	if err := m.LoadWeights(ctx, dir); err != nil {
		return nil, err
	}
	return m, nil
}

// LoadWeights reads the weights of the checkpoint folder dir into the
// model's parameters, as Load does, without reading its config.json: the
// caller knows the folder was written for this model (a resumed run).
func (m *Model) LoadWeights(ctx context.Context, dir string) error {
	set, err := safetensors.OpenSet(dir, "model")
	if err != nil {
		return fmt.Errorf("load %s: %w", dir, err)
	}
	defer set.Close()
	for _, p := range m.params {
		if err := ctx.Err(); err != nil {
			return err
		}
		host := make([]float32, p.Value.Len())
		if err := set.ReadFloat32(p.Name, host); err != nil {
			return fmt.Errorf("load %s: %w", dir, err)
		}
		m.be.Upload(p.Value, host)
	}
	return nil
}

// Save writes config.json and model.safetensors (in dtype F32 or BF16) to
// dir, creating it, in the layout transformers and vLLM load. With tied
// embeddings there is no lm_head.weight, as transformers writes it.
func (m *Model) Save(ctx context.Context, dir string, dtype safetensors.DType) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	cfg := m.Config
	if cfg.extra == nil {
		cfg.extra = map[string]json.RawMessage{}
	} else {
		extra := make(map[string]json.RawMessage, len(cfg.extra))
		for k, v := range cfg.extra {
			extra[k] = v
		}
		cfg.extra = extra
	}
	torchDType := `"float32"`
	if dtype == safetensors.BF16 {
		torchDType = `"bfloat16"`
	}
	cfg.extra["torch_dtype"] = json.RawMessage(torchDType)
	js, err := cfg.JSON()
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, "config.json"), append(js, '\n')); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	tensors := make([]safetensors.Tensor, 0, len(m.params))
	for _, p := range m.params {
		host := make([]float32, p.Value.Len())
		m.be.Download(host, p.Value)
		tensors = append(tensors, safetensors.Tensor{Name: p.Name, Shape: p.Shape, Data: host})
	}
	// transformers refuses a safetensors file without format metadata.
	meta := map[string]string{"format": "pt"}
	if err := safetensors.Write(ctx, filepath.Join(dir, "model.safetensors"), dtype, tensors, meta); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	return nil
}

// writeFileAtomic writes data to a temporary file next to path and renames
// it into place.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
