// Package infer generates text with a model.Model: a continuous-batching
// loop that decodes every running request in one batch step over its own
// KV cache (new requests' prompts join the step as they arrive), with
// greedy or temperature / top-p sampling from a per-request seed, the
// log-probabilities of the chosen tokens and their best alternatives, and
// end-of-sequence tokens. It also reads and writes the metadata that says
// which tokenizer and chat template a checkpoint was trained with.
//
// It knows tokens, not text or HTTP: stop strings, chat templates and the
// OpenAI protocol belong to the serve package.
package infer
