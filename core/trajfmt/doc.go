// Package trajfmt exports trajectories to the text forms fine-tuning tools
// read — LLaMA-Factory's ShareGPT files in OpenAI message style, and
// OpenHands' text function-call messages — and imports them back into
// sdk.Trajectory with native tool calls, so that export → import gives the
// trajectory back (Normalize says exactly what is kept).
//
// It does not tokenise, mask or template anything (core/prepare does); the
// tool-call text itself comes from core/llm.
package trajfmt
