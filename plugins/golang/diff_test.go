package golang

import "github.com/swelego/swelego/plugins/internal/unidiff"

// splitLines splits s after each newline, keeping a last line without one;
// the tests read diffs and sources with it.
func splitLines(s string) []string { return unidiff.SplitLines(s) }
