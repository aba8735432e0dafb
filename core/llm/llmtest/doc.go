// Package llmtest is a stand-in for an OpenAI-compatible chat-completions
// server, for tests: it listens on 127.0.0.1, speaks the real wire protocol
// (the JSON shapes of OpenAI and vLLM, errors with their status codes),
// answers from a script of replies or a function, and records every request
// it received so tests can check what a client sent.
//
// It is not a model: nothing is generated. Stop and Start take the listener
// down and up again on the same port to test connection failures.
package llmtest
