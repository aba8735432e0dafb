// Package tokenizer encodes text into token ids for training: tiktoken's
// built-in encodings (cl100k_base, o200k_base, offline, on tiktoken-go)
// and byte-level BPE tokenizers loaded from a Hugging Face tokenizer folder
// as Qwen2 and Qwen3 ship them, encoded by Hugging Face's merge-rank BPE
// so that ids match what transformers and vLLM give the same model.
//
// It knows no chat format: templates (package chattemplate) decide which
// special tokens go where and insert them by id.
package tokenizer
