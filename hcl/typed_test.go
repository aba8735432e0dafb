package hcl

import "testing"

// TestTypedBroken: values of core blocks that decode but are wrong —
// fractions and zeros where whole numbers ≥ 1 go, sizes and durations
// that do not parse, paths to nothing, misspelt enum values, references
// to the wrong block — are reported at validate with file:line:col and a
// snippet (testdata/typed/NAME.golden), before any stage runs.
func TestTypedBroken(t *testing.T) {
	cases := []string{
		"workers_fraction",      // workers = 2.5
		"memory_words",          // memory = "2 gigs"
		"memory_zero",           // a size of 0 bytes, 0 CPUs
		"null_required",         // tasks = null
		"missing_bundle",        // a git bundle that is not there (a URL is fine)
		"missing_predictions",   // an eval's predictions file
		"missing_trajectories",  // an sft's trajectory file
		"missing_candidates",    // a tts's candidates file
		"missing_tokenizer",     // a tokenizer folder and a model config
		"checkpoint_not_folder", // a file where a model folder goes; max_batch = 0
		"zero_count",            // attempts, workers, max_turns = 0
		"negative_count",        // max_candidates, reruns < 0
		"bad_duration",          // "10 minutes", "-5s"
		"enum_typo",             // did you mean "docker", "openai", "openhands"?
		"list_enum_typo",        // a misspelt status in a list, overflow
		"unknown_attribute",     // wokers: did you mean workers?
		"wrong_type",            // a string for a list, for a number
		"wrong_reference",       // tasks = model.X
		"missing_block",         // model.teachr: did you mean model.teacher?
		"combine_values",        // combine's per misspelt
		"combine_range",         // combine's max_bugs < min_bugs
	}
	listed := map[string]bool{}
	for _, name := range cases {
		listed[name] = true
		t.Run(name, func(t *testing.T) { checkBroken(t, "typed", name, Options{}) })
	}
	checkListed(t, "typed", listed)
}
