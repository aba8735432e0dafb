// Package openai holds the JSON shapes of OpenAI's chat-completions API
// (POST /chat/completions: the request, the completion, the streamed
// chunk, the error body) as swelego writes and reads them: the client in
// core/llm, the server in core/serve and the stand-in server of
// core/llm/llmtest all use these structs, and wire_test.go pins the JSON
// each one makes, so a wrong tag shows there rather than hiding behind the
// same tag on both sides.
//
// It holds shapes only: checking values and turning them into sdk types is
// the business of the client and the servers.
package openai
