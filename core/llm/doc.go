// Package llm talks to chat models for the agent loop: a client for
// OpenAI-compatible chat-completions endpoints (vLLM, SGLang, llama.cpp,
// Ollama, OpenAI) with retries, timeouts and native tool calls, and text
// function-call formats (OpenHands' and Qwen's) that let a model without
// native tool calls drive the same loop.
//
// It does not run agents or tools (core/agent does) and it does not serve
// models; the stand-in server for tests lives in llm/llmtest.
package llm
