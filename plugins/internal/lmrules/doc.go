// Package lmrules is the part of SWE-smith's LM rules (lm_modify and
// lm_rewrite: a model rewrites one function) that does not depend on the
// language: the rule names and defaults, the model-calling loop (budget,
// parallel calls, order), reading code out of a reply, the checks a reply
// passes and the candidate it becomes, and the counts of what was dropped.
//
// A first-party language plugin finds the functions (Target), writes the
// prompts and reads a function back with its own parser (Language); this
// package imports only sdk and the standard library, like the plugins.
package lmrules
