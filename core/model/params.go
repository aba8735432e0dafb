package model

import (
	"fmt"

	"github.com/swelego/swelego/core/backend"
)

type paramShape struct {
	name  string
	shape []int
}

func (p paramShape) size() int {
	n := 1
	for _, d := range p.shape {
		n *= d
	}
	return n
}

// paramShapes lists the trainable tensors in the order of a Hugging Face
// Qwen3ForCausalLM state dict.
func paramShapes(c *Config) []paramShape {
	C, H, KV, D, I, V := c.HiddenSize, c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim, c.IntermediateSize, c.VocabSize
	ps := []paramShape{{"model.embed_tokens.weight", []int{V, C}}}
	for l := range c.NumHiddenLayers {
		p := fmt.Sprintf("model.layers.%d.", l)
		add := func(name string, shape ...int) { ps = append(ps, paramShape{p + name, shape}) }
		add("self_attn.q_proj.weight", H*D, C)
		if c.AttentionBias {
			add("self_attn.q_proj.bias", H*D)
		}
		add("self_attn.k_proj.weight", KV*D, C)
		if c.AttentionBias {
			add("self_attn.k_proj.bias", KV*D)
		}
		add("self_attn.v_proj.weight", KV*D, C)
		if c.AttentionBias {
			add("self_attn.v_proj.bias", KV*D)
		}
		add("self_attn.o_proj.weight", C, H*D)
		if c.AttentionBias {
			add("self_attn.o_proj.bias", C)
		}
		add("self_attn.q_norm.weight", D)
		add("self_attn.k_norm.weight", D)
		add("mlp.gate_proj.weight", I, C)
		add("mlp.up_proj.weight", I, C)
		add("mlp.down_proj.weight", C, I)
		add("input_layernorm.weight", C)
		add("post_attention_layernorm.weight", C)
	}
	ps = append(ps, paramShape{"model.norm.weight", []int{C}})
	if !c.TieWordEmbeddings {
		ps = append(ps, paramShape{"lm_head.weight", []int{V, C}})
	}
	return ps
}

// weights names the tensors of one copy of the parameters (the values or
// the gradients). Biases are nil unless attention_bias is set.
type weights struct {
	embed  backend.Tensor
	layers []layerWeights
	norm   backend.Tensor
	lmHead backend.Tensor // the embedding when tied
}

type layerWeights struct {
	q, k, v, o         backend.Tensor
	qBias, kBias       backend.Tensor
	vBias, oBias       backend.Tensor
	qNorm, kNorm       backend.Tensor
	gate, up, down     backend.Tensor
	inputNorm, attNorm backend.Tensor
}

// bind points w's fields at the tensors of byName.
func (w *weights) bind(c *Config, byName map[string]backend.Tensor) {
	w.embed = byName["model.embed_tokens.weight"]
	w.norm = byName["model.norm.weight"]
	w.lmHead = byName["lm_head.weight"]
	if c.TieWordEmbeddings {
		w.lmHead = w.embed
	}
	w.layers = make([]layerWeights, c.NumHiddenLayers)
	for l := range w.layers {
		p := fmt.Sprintf("model.layers.%d.", l)
		w.layers[l] = layerWeights{
			q: byName[p+"self_attn.q_proj.weight"], k: byName[p+"self_attn.k_proj.weight"],
			v: byName[p+"self_attn.v_proj.weight"], o: byName[p+"self_attn.o_proj.weight"],
			qBias: byName[p+"self_attn.q_proj.bias"], kBias: byName[p+"self_attn.k_proj.bias"],
			vBias: byName[p+"self_attn.v_proj.bias"], oBias: byName[p+"self_attn.o_proj.bias"],
			qNorm: byName[p+"self_attn.q_norm.weight"], kNorm: byName[p+"self_attn.k_norm.weight"],
			gate: byName[p+"mlp.gate_proj.weight"], up: byName[p+"mlp.up_proj.weight"],
			down:      byName[p+"mlp.down_proj.weight"],
			inputNorm: byName[p+"input_layernorm.weight"], attNorm: byName[p+"post_attention_layernorm.weight"],
		}
	}
}
