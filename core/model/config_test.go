package model_test

import (
	"errors"
	"math"
	"testing"

	"github.com/swelego/swelego/core/internal/torchpeer"
	"github.com/swelego/swelego/core/model"
)

func TestParseConfig(t *testing.T) {
	const base = `"hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"intermediate_size":128,"vocab_size":256`
	cases := []struct {
		name  string
		js    string
		check func(t *testing.T, c model.Config)
		err   error
	}{
		{"defaults", `{` + base + `}`, func(t *testing.T, c model.Config) {
			if c.NumKeyValueHeads != 4 || c.HeadDim != 16 || c.RMSNormEps != 1e-6 || c.RopeTheta != 10000 {
				t.Errorf("defaults: %+v", c)
			}
		}, nil},
		{"yarn", `{` + base + `,"rope_scaling":{"rope_type":"yarn","factor":4,"original_max_position_embeddings":32768}}`,
			func(t *testing.T, c model.Config) {
				_, attn := c.RoPEFrequencies()
				if want := 0.1*math.Log(4) + 1; math.Abs(attn-want) > 1e-12 {
					t.Errorf("attention factor %v, want %v", attn, want)
				}
			}, nil},
		{"yarn without factor uses the context ratio", `{` + base + `,"max_position_embeddings":131072,"rope_scaling":{"type":"yarn","original_max_position_embeddings":32768}}`,
			func(t *testing.T, c model.Config) {
				_, attn := c.RoPEFrequencies()
				if want := 0.1*math.Log(4) + 1; math.Abs(attn-want) > 1e-12 {
					t.Errorf("attention factor %v, want %v", attn, want)
				}
			}, nil},
		{"transformers 5 rope_parameters", `{` + base + `,"rope_parameters":{"rope_type":"linear","factor":2,"rope_theta":500000}}`,
			func(t *testing.T, c model.Config) {
				inv, _ := c.RoPEFrequencies()
				if c.RopeTheta != 500000 || inv[0] != 0.5 {
					t.Errorf("rope_theta %v, inv[0] %v", c.RopeTheta, inv[0])
				}
			}, nil},
		{"default frequencies", `{` + base + `}`, func(t *testing.T, c model.Config) {
			inv, attn := c.RoPEFrequencies()
			if len(inv) != 8 || inv[0] != 1 || math.Abs(float64(inv[1])-math.Pow(10000, -2.0/16)) > 1e-7 || attn != 1 {
				t.Errorf("inv %v attn %v", inv, attn)
			}
		}, nil},
		{"heads not a multiple of kv heads", `{` + base + `,"num_key_value_heads":3}`, nil, model.ErrConfig},
		{"odd head_dim", `{` + base + `,"head_dim":15}`, nil, model.ErrConfig},
		{"missing vocab", `{"hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"intermediate_size":128}`, nil, model.ErrConfig},
		{"unsupported rope", `{` + base + `,"rope_scaling":{"rope_type":"longrope","factor":2}}`, nil, model.ErrConfig},
		{"yarn without factor or lengths", `{` + base + `,"rope_scaling":{"rope_type":"yarn"}}`, nil, model.ErrConfig},
		{"not json", `{`, nil, model.ErrConfig},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := model.ParseConfig([]byte(c.js))
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("got %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, cfg)
		})
	}
}

func TestNumParams124M(t *testing.T) {
	cfg, err := model.ParseConfig([]byte(torchpeer.Config124M))
	if err != nil {
		t.Fatal(err)
	}
	if n := cfg.NumParams(); n < 120e6 || n > 128e6 {
		t.Errorf("124M config has %d parameters", n)
	}
}
