// Package python is the first-party language plugin for Python. Its
// language (Language) says what a Python environment's image holds, builds
// pytest commands that report through both the -rA summary and a JUnit
// report, and grades a run only when the two agree (ParseTestRun), with a
// py_compile check for candidate bugs. Its bug injector follows SWE-smith:
// procedural modifiers parse a file with tree-sitter-python and apply one
// small named rewrite (change an operator, drop a loop, swap two
// statements, …), and the LM rules lm_modify and lm_rewrite have a model
// the host lends rewrite one function; every candidate is a unified diff
// that replaces one byte range. Its log parser reads pytest output with
// the code ParseTestRun uses.
//
// Mutate is the pure core of the procedural rules, usable without a plugin
// host; New wraps everything as a plugin serving the language,
// bug_injector and log_parser kinds. Whether a candidate compiles and
// breaks a test is not decided here: the synthetic source of the pipeline
// checks and validates.
package python
