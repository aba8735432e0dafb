package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
)

// ErrConfig is wrapped by every error about an unusable config.json.
var ErrConfig = errors.New("invalid model config")

// Config is the part of a Hugging Face Qwen3 config.json the model uses.
// Fields the model does not use are kept as read and written back on save.
type Config struct {
	HiddenSize            int          `json:"hidden_size"`
	NumHiddenLayers       int          `json:"num_hidden_layers"`
	NumAttentionHeads     int          `json:"num_attention_heads"`
	NumKeyValueHeads      int          `json:"num_key_value_heads"`
	HeadDim               int          `json:"head_dim"`
	IntermediateSize      int          `json:"intermediate_size"`
	VocabSize             int          `json:"vocab_size"`
	RMSNormEps            float64      `json:"rms_norm_eps"`
	RopeTheta             float64      `json:"rope_theta"`
	RopeScaling           *RopeScaling `json:"rope_scaling"`
	TieWordEmbeddings     bool         `json:"tie_word_embeddings"`
	MaxPositionEmbeddings int          `json:"max_position_embeddings"`
	AttentionBias         bool         `json:"attention_bias"`

	extra map[string]json.RawMessage
}

// RopeScaling is config.json's rope_scaling. Supported types: "default",
// "linear" and "yarn".
type RopeScaling struct {
	RopeType                      string   `json:"rope_type"`
	Type                          string   `json:"type,omitempty"` // older spelling of rope_type
	Factor                        float64  `json:"factor,omitempty"`
	OriginalMaxPositionEmbeddings int      `json:"original_max_position_embeddings,omitempty"`
	AttentionFactor               *float64 `json:"attention_factor,omitempty"`
	BetaFast                      float64  `json:"beta_fast,omitempty"`
	BetaSlow                      float64  `json:"beta_slow,omitempty"`
	Mscale                        float64  `json:"mscale,omitempty"`
	MscaleAllDim                  float64  `json:"mscale_all_dim,omitempty"`
	Truncate                      *bool    `json:"truncate,omitempty"`
}

func (r *RopeScaling) kind() string {
	if r == nil {
		return "default"
	}
	if r.RopeType != "" {
		return r.RopeType
	}
	if r.Type != "" {
		return r.Type
	}
	return "default"
}

// ParseConfig decodes a config.json, fills Qwen3's defaults for absent
// optional fields (num_key_value_heads = heads, head_dim = hidden/heads,
// rms_norm_eps 1e-6, rope_theta 10000) and validates it.
func ParseConfig(js []byte) (Config, error) {
	var c Config
	if err := json.Unmarshal(js, &c); err != nil {
		return Config{}, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if err := json.Unmarshal(js, &c.extra); err != nil {
		return Config{}, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	// transformers ≥ 5 nests the rope settings in rope_parameters.
	if rp, ok := c.extra["rope_parameters"]; ok && c.RopeScaling == nil {
		var p struct {
			RopeTheta float64 `json:"rope_theta"`
			RopeScaling
		}
		if err := json.Unmarshal(rp, &p); err != nil {
			return Config{}, fmt.Errorf("%w: rope_parameters: %v", ErrConfig, err)
		}
		if p.RopeTheta != 0 && c.RopeTheta == 0 {
			c.RopeTheta = p.RopeTheta
		}
		if p.RopeScaling.kind() != "default" {
			rs := p.RopeScaling
			c.RopeScaling = &rs
		}
	}
	if c.NumKeyValueHeads == 0 {
		c.NumKeyValueHeads = c.NumAttentionHeads
	}
	if c.HeadDim == 0 && c.NumAttentionHeads > 0 {
		c.HeadDim = c.HiddenSize / c.NumAttentionHeads
	}
	if c.RMSNormEps == 0 {
		c.RMSNormEps = 1e-6
	}
	if c.RopeTheta == 0 {
		c.RopeTheta = 10000
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// ReadConfig reads and parses path (a config.json).
func ReadConfig(path string) (Config, error) {
	js, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	c, err := ParseConfig(js)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Validate checks the sizes fit together.
func (c *Config) Validate() error {
	pos := map[string]int{
		"hidden_size": c.HiddenSize, "num_hidden_layers": c.NumHiddenLayers,
		"num_attention_heads": c.NumAttentionHeads, "num_key_value_heads": c.NumKeyValueHeads,
		"head_dim": c.HeadDim, "intermediate_size": c.IntermediateSize, "vocab_size": c.VocabSize,
	}
	for _, k := range []string{"hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim", "intermediate_size", "vocab_size"} {
		if pos[k] <= 0 {
			return fmt.Errorf("%w: %s must be positive, got %d", ErrConfig, k, pos[k])
		}
	}
	if c.NumAttentionHeads%c.NumKeyValueHeads != 0 {
		return fmt.Errorf("%w: num_attention_heads %d is not a multiple of num_key_value_heads %d", ErrConfig, c.NumAttentionHeads, c.NumKeyValueHeads)
	}
	if c.HeadDim%2 != 0 {
		return fmt.Errorf("%w: head_dim %d must be even for RoPE", ErrConfig, c.HeadDim)
	}
	if c.RMSNormEps < 0 || c.RopeTheta <= 1 {
		return fmt.Errorf("%w: rms_norm_eps %g / rope_theta %g out of range", ErrConfig, c.RMSNormEps, c.RopeTheta)
	}
	switch k := c.RopeScaling.kind(); k {
	case "default":
	case "linear", "yarn":
		if c.RopeScaling.Factor <= 0 && !(k == "yarn" && c.RopeScaling.OriginalMaxPositionEmbeddings > 0 && c.MaxPositionEmbeddings > 0) {
			return fmt.Errorf("%w: rope_scaling %s needs a positive factor", ErrConfig, k)
		}
	default:
		return fmt.Errorf("%w: rope_scaling type %q is not supported (default, linear, yarn)", ErrConfig, k)
	}
	return nil
}

// JSON renders the config as a Hugging Face config.json: every field read
// from the original file, with the model's fields as they are now, and the
// Qwen3 architecture named.
func (c *Config) JSON() ([]byte, error) {
	out := map[string]any{}
	for k, v := range c.extra {
		out[k] = v
	}
	known, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var km map[string]json.RawMessage
	if err := json.Unmarshal(known, &km); err != nil {
		return nil, err
	}
	for k, v := range km {
		out[k] = v
	}
	if c.RopeScaling == nil {
		delete(out, "rope_scaling")
	}
	if _, ok := out["rope_parameters"]; ok {
		// Keep the nested form in step with the flat fields we wrote.
		delete(out, "rope_parameters")
	}
	if _, ok := out["model_type"]; !ok {
		out["model_type"] = "qwen3"
	}
	if _, ok := out["architectures"]; !ok {
		out["architectures"] = []string{"Qwen3ForCausalLM"}
	}
	if _, ok := out["hidden_act"]; !ok {
		out["hidden_act"] = "silu"
	}
	return json.MarshalIndent(out, "", "  ")
}

// NumParams is the number of trainable parameters (tied embeddings counted
// once).
func (c *Config) NumParams() int {
	n := 0
	for _, s := range paramShapes(c) {
		n += s.size()
	}
	return n
}

// RoPEFrequencies returns the inverse frequency of each rotated pair
// (head_dim/2 values) and the attention factor that scales cos and sin,
// as Hugging Face's rope utilities compute them for the config's rope type.
//
// For YaRN, an explicit factor wins; without one it is
// max_position_embeddings / original_max_position_embeddings, as current
// transformers releases do (some older ones let the ratio override factor).
func (c *Config) RoPEFrequencies() (inv []float32, attnFactor float64) {
	dim := c.HeadDim
	base := c.RopeTheta
	half := dim / 2
	inv = make([]float32, half)
	pos := make([]float64, half) // base^(2i/dim), in float32 like torch
	for i := range half {
		pos[i] = float64(float32(math.Pow(base, float64(float32(2*i)/float32(dim)))))
		inv[i] = float32(1 / pos[i])
	}
	rs := c.RopeScaling
	switch rs.kind() {
	case "linear":
		for i := range inv {
			inv[i] = float32(float64(inv[i]) / rs.Factor)
		}
		return inv, 1
	case "yarn":
		return c.yarn(pos)
	}
	return inv, 1
}

func (c *Config) yarn(pos []float64) ([]float32, float64) {
	rs := c.RopeScaling
	dim := float64(c.HeadDim)
	base := c.RopeTheta
	factor := rs.Factor
	orig := float64(rs.OriginalMaxPositionEmbeddings)
	if orig == 0 {
		orig = float64(c.MaxPositionEmbeddings)
	}
	if factor == 0 {
		factor = float64(c.MaxPositionEmbeddings) / orig
	}
	mscale := func(scale, m float64) float64 {
		if scale <= 1 {
			return 1
		}
		return 0.1*m*math.Log(scale) + 1
	}
	var attn float64
	switch {
	case rs.AttentionFactor != nil:
		attn = *rs.AttentionFactor
	case rs.Mscale != 0 && rs.MscaleAllDim != 0:
		attn = mscale(factor, rs.Mscale) / mscale(factor, rs.MscaleAllDim)
	default:
		attn = mscale(factor, 1)
	}
	betaFast, betaSlow := rs.BetaFast, rs.BetaSlow
	if betaFast == 0 {
		betaFast = 32
	}
	if betaSlow == 0 {
		betaSlow = 1
	}
	// The dimension at which a wavelength makes num rotations over the
	// original context.
	corr := func(num float64) float64 {
		return dim * math.Log(orig/(num*2*math.Pi)) / (2 * math.Log(base))
	}
	low, high := corr(betaFast), corr(betaSlow)
	if rs.Truncate == nil || *rs.Truncate {
		low, high = math.Floor(low), math.Ceil(high)
	}
	low, high = math.Max(low, 0), math.Min(high, dim-1)
	if low == high {
		high += 0.001
	}
	inv := make([]float32, len(pos))
	for i := range pos {
		ramp := float32((float64(float32(i)) - low) / (high - low))
		ramp = min(max(ramp, 0), 1)
		extra := 1 - ramp // weight of the unscaled (extrapolated) frequency
		fExtra := float32(1 / pos[i])
		fInter := float32(1 / (factor * pos[i]))
		inv[i] = fInter*(1-extra) + fExtra*extra
	}
	return inv, attn
}
