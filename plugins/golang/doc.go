// Package golang is the first-party language plugin for Go. Its language
// (Language) says what a Go environment's image holds, including a build
// cache warmed when the image is built and put in place when a sandbox
// opens, builds go test -json commands and reads their output
// (ParseTestRun: a package that fails without a failing test invalidates
// the run), with a go build check for candidate bugs. Its bug injector
// follows SWE-smith: procedural modifiers parse each file with go/parser
// and propose small, named, local mutations (an operator changed, an if
// condition inverted, a loop removed, …), and the LM rules lm_modify and
// lm_rewrite have a model the host lends rewrite one function; each
// candidate is a unified diff that replaces one byte range. Its log parser
// reads go test output with the code ParseTestRun uses.
//
// Mutate is the pure core of the procedural rules and works on one file's
// bytes; New wraps everything as a plugin serving the language,
// bug_injector and log_parser kinds over the sandbox and model the host
// lends. Every mutation is checked to parse; whether it compiles or makes
// a test fail is for the synthetic source of the pipeline.
package golang
