package model_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/swelego/swelego/core/backend/cpu"
	"github.com/swelego/swelego/core/model"
	"github.com/swelego/swelego/core/safetensors"
)

// torchPython finds a python3 that imports torch (Debian's python3-torch
// lives under /usr/bin/python3, which a pyenv shim may shadow) or skips.
func torchPython(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if err := exec.Command(py, "-c", "import torch, numpy").Run(); err == nil {
			return py
		}
	}
	t.Skip("skipping: no python3 with torch and numpy (apt-get install python3-torch python3-numpy)")
	return ""
}

func runReference(t *testing.T, args ...string) {
	t.Helper()
	py := torchPython(t)
	cmd := exec.Command(py, append([]string{filepath.Join("testdata", "reference.py")}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("reference.py %v: %v\n%s", args, err, out)
	}
}

type checkInput struct {
	Batch    int     `json:"batch"`
	Seq      int     `json:"seq"`
	Tokens   []int32 `json:"tokens"`
	Segments []int32 `json:"segments,omitempty"`
}

func readLogits(t *testing.T, dir string) []float32 {
	t.Helper()
	f, err := safetensors.Open(filepath.Join(dir, "check_logits.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, _ := f.Info("logits")
	out := make([]float32, info.Len())
	if err := f.ReadFloat32("logits", out); err != nil {
		t.Fatal(err)
	}
	return out
}

func logitsOf(t *testing.T, m *model.Model, in checkInput) []float32 {
	t.Helper()
	b := &model.Batch{B: in.Batch, T: in.Seq, Tokens: in.Tokens, Segments: in.Segments}
	if _, err := m.Forward(b, 0); err != nil {
		t.Fatal(err)
	}
	out := make([]float32, m.Logits().Len())
	m.Backend().Download(out, m.Logits())
	return out
}

// A checkpoint swelego writes is read by the PyTorch reference, which gets
// the same logits.
func TestPyTorchReadsOurCheckpoint(t *testing.T) {
	torchPython(t)
	g := loadGolden(t, "yarn_packed")
	m, _ := newGoldenModel(t, g)
	for _, dtype := range []safetensors.DType{safetensors.F32, safetensors.BF16} {
		t.Run(string(dtype), func(t *testing.T) {
			dir := t.TempDir()
			if err := m.Save(context.Background(), dir, dtype); err != nil {
				t.Fatal(err)
			}
			in := checkInput{Batch: g.batch.B, Seq: g.batch.T, Tokens: g.batch.Tokens, Segments: g.batch.Segments}
			js, _ := json.Marshal(in)
			if err := os.WriteFile(filepath.Join(dir, "check_input.json"), js, 0o644); err != nil {
				t.Fatal(err)
			}
			runReference(t, "--check-checkpoint", dir)
			// Compare with the model as saved (rounded to bf16 when so).
			saved, err := model.Load(context.Background(), dir, m.Backend())
			if err != nil {
				t.Fatal(err)
			}
			if e := relErr(logitsOf(t, saved, in), readLogits(t, dir)); e > 1e-4 {
				t.Errorf("logits: relative error %.3g", e)
			}
			if dtype == safetensors.F32 {
				if e := relErr(logitsOf(t, m, in), g.tensors["logits"]); e > 1e-4 {
					t.Errorf("round trip changed the model: %.3g", e)
				}
			}
		})
	}
}

// A checkpoint the PyTorch reference writes — single file or shards, F32 or
// BF16 — loads in swelego and gives the reference's logits.
func TestWeReadPyTorchCheckpoint(t *testing.T) {
	torchPython(t)
	cases := []struct {
		name   string
		dtype  string
		shards string
	}{
		{"f32 single file", "F32", "1"},
		{"bf16 three shards", "BF16", "3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			runReference(t, "--write-checkpoint", dir, "--dtype", c.dtype, "--shards", c.shards)
			be := cpu.New(0)
			defer be.Close()
			m, err := model.Load(context.Background(), dir, be)
			if err != nil {
				t.Fatal(err)
			}
			var in checkInput
			js, err := os.ReadFile(filepath.Join(dir, "check_input.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(js, &in); err != nil {
				t.Fatal(err)
			}
			if e := relErr(logitsOf(t, m, in), readLogits(t, dir)); e > 1e-4 {
				t.Errorf("logits: relative error %.3g", e)
			}
		})
	}
}

// Save then Load gives back every parameter bit for bit in F32, and keeps
// the config's fields, including ones the model does not use.
func TestSaveLoadRoundTrip(t *testing.T) {
	cfg, err := model.ParseConfig([]byte(`{"hidden_size":32,"num_hidden_layers":1,"num_attention_heads":2,
		"num_key_value_heads":1,"head_dim":16,"intermediate_size":48,"vocab_size":50,"tie_word_embeddings":true,
		"attention_bias":true,"bos_token_id":7,"rope_scaling":{"rope_type":"yarn","factor":2,"original_max_position_embeddings":16},
		"max_position_embeddings":32}`))
	if err != nil {
		t.Fatal(err)
	}
	be := cpu.New(1)
	defer be.Close()
	m, err := model.New(be, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.InitRandom(5, 0.1)
	dir := t.TempDir()
	if err := m.Save(context.Background(), dir, safetensors.F32); err != nil {
		t.Fatal(err)
	}
	m2, err := model.Load(context.Background(), dir, be)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range m.Params() {
		a, b := make([]float32, p.Value.Len()), make([]float32, p.Value.Len())
		be.Download(a, p.Value)
		be.Download(b, m2.Params()[i].Value)
		for j := range a {
			if a[j] != b[j] {
				t.Fatalf("%s[%d]: %v → %v", p.Name, j, a[j], b[j])
			}
		}
	}
	var raw map[string]any
	js, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	if err := json.Unmarshal(js, &raw); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"bos_token_id": 7.0, "model_type": "qwen3", "torch_dtype": "float32", "tie_word_embeddings": true} {
		if raw[k] != want {
			t.Errorf("config.json %s = %v, want %v", k, raw[k], want)
		}
	}
	f, err := safetensors.Open(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, ok := f.Info("lm_head.weight"); ok {
		t.Error("tied checkpoint has lm_head.weight")
	}
	if f.Metadata["format"] != "pt" {
		t.Errorf("metadata %v lacks format=pt", f.Metadata)
	}
}

func TestLoadMissingTensor(t *testing.T) {
	g := loadGolden(t, "tied_bias")
	m, _ := newGoldenModel(t, g)
	dir := t.TempDir()
	if err := m.Save(context.Background(), dir, safetensors.F32); err != nil {
		t.Fatal(err)
	}
	// Rewrite the weights without one tensor.
	f, err := safetensors.Open(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	var ts []safetensors.Tensor
	for _, info := range f.Tensors {
		if info.Name == "model.layers.1.mlp.up_proj.weight" {
			continue
		}
		d := make([]float32, info.Len())
		if err := f.ReadFloat32(info.Name, d); err != nil {
			t.Fatal(err)
		}
		ts = append(ts, safetensors.Tensor{Name: info.Name, Shape: info.Shape, Data: d})
	}
	f.Close()
	if err := safetensors.Write(context.Background(), filepath.Join(dir, "model.safetensors"), safetensors.F32, ts, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := model.Load(context.Background(), dir, m.Backend()); !errors.Is(err, safetensors.ErrNotFound) {
		t.Errorf("got %v, want ErrNotFound", err)
	}
}
