// Package model is the Qwen3 decoder written out by hand: configured from a
// Hugging Face config.json, with one explicit forward and one explicit
// backward per layer over a backend.Backend, weighted cross-entropy for
// supervised fine-tuning, and checkpoints in the Hugging Face folder layout.
//
// It does not tokenise, batch or schedule training (see the data preparation
// and optim packages), and it has no autograd: a new op needs its backward
// written next to its forward.
package model
