// Package chattemplate renders a conversation the way a model is trained on
// it: text and special tokens in the model's chat format, each piece with
// the training weight of its tokens, then token ids and per-token weights
// through a tokenizer.
//
// Two templates: qwen3 (ChatML with tools in the system message and
// <tool_call> / <tool_response> blocks, without a thinking block, as
// SWE-Lego trains Qwen3) and openhands (OpenHands' text function calls in
// ChatML, the shape `trajectories export` writes). Only assistant content,
// its tool-call text and its end-of-turn token are trained; system, user
// and tool messages always have weight 0. Which assistant turns are trained
// is the loss masker's decision, passed in as one weight per message.
//
// It does not decide the weights (loss maskers do) and does not batch or
// pack (package sftdata does).
package chattemplate
