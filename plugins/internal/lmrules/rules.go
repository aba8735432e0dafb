package lmrules

import "errors"

// The LM rules: a model the host lends rewrites one function. They run
// only when the configuration names them in rules, and then only with a
// model (the synthetic source's model = model.NAME); without one the
// injector fails with ErrNoModel rather than quietly proposing nothing.
const (
	// Modify asks the model to put one subtle bug into a function and
	// return the whole function (SWE-smith's lm_modify).
	Modify = "lm_modify"
	// Rewrite shows the model the file with one function's body removed
	// (signature and documentation kept) and asks it to write the function
	// again; where its version differs from the original is the candidate
	// bug (SWE-smith's lm_rewrite). Many rewrites are correct: validation
	// drops those.
	Rewrite = "lm_rewrite"
)

// Rules lists the LM rules. Unlike the procedural rules they are off
// unless named.
var Rules = []string{Modify, Rewrite}

// IsRule reports whether r names an LM rule.
func IsRule(r string) bool { return r == Modify || r == Rewrite }

// ErrNoModel: the configuration names an LM rule but the host lent no
// model for the call.
var ErrNoModel = errors.New("the lm_modify and lm_rewrite rules need a model: set model = model.NAME on the synthetic source")

// Defaults of the LM settings.
const (
	DefaultCalls    = 20 // model calls per injection (model_calls)
	DefaultParallel = 4  // model calls in flight at once (model_parallel)
	// ContextBytes bounds the part of the file lm_rewrite shows.
	ContextBytes = 8000
)
