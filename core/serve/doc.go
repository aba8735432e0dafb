// Package serve answers OpenAI's chat-completions protocol over a swelego
// checkpoint: GET /v1/models and POST /v1/chat/completions, streaming
// (server-sent events) and not, with the checkpoint's chat template and
// tokenizer turning messages into a prompt, the infer engine decoding
// concurrent requests in one batch, stop strings, log-probabilities, and
// the template's text function calls parsed back into tool_calls. Bad
// requests get OpenAI-style error bodies and the server keeps serving.
//
// It is not a general model server: one model, n = 1, no embeddings or
// legacy completions.
package serve
