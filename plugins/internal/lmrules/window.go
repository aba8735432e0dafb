package lmrules

import "strings"

// Window cuts s to about limit bytes around [from, to), at line
// boundaries, marking what was left out with a line holding marker (a
// comment of the language). A short s comes back whole.
func Window(s string, from, to, limit int, marker string) string {
	if len(s) <= limit {
		return s
	}
	lo := max(0, min(from, to-limit*3/4))
	hi := min(len(s), max(to, lo+limit))
	if lo > 0 {
		if i := strings.IndexByte(s[lo:], '\n'); i >= 0 && lo+i < from {
			lo += i + 1
		} else {
			lo = strings.LastIndexByte(s[:from], '\n') + 1
		}
	}
	if hi < len(s) {
		if i := strings.LastIndexByte(s[:hi], '\n'); i >= to {
			hi = i + 1
		} else if j := strings.IndexByte(s[to:], '\n'); j >= 0 {
			hi = to + j + 1
		} else {
			hi = len(s)
		}
	}
	out := s[lo:hi]
	if lo > 0 {
		out = marker + "\n" + out
	}
	if hi < len(s) {
		if !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		out += marker + "\n"
	}
	return out
}
