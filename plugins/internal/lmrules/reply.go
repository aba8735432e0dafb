package lmrules

import (
	"regexp"
	"slices"
	"strings"
)

// fenceRe matches a fenced code block and its tag; an unterminated fence
// runs to the end of the reply.
var fenceRe = regexp.MustCompile("(?s)```[ \\t]*([A-Za-z0-9_+-]*)[^\\n]*\\n(.*?)(?:\\n[ \\t]*```|\\z)")

// FindInReply looks for code where models put it in a reply and returns
// what find first accepts, trying in turn: the fenced code blocks tagged
// with one of tags (lower case), the other fenced blocks, the whole reply,
// and the reply from the first match of start on (code after prose, with
// no fence).
func FindInReply[F any](reply string, tags []string, start *regexp.Regexp, find func(code string) (F, bool)) (F, bool) {
	var tries, other []string
	for _, m := range fenceRe.FindAllStringSubmatch(reply, -1) {
		if slices.Contains(tags, strings.ToLower(m[1])) {
			tries = append(tries, m[2])
		} else {
			other = append(other, m[2])
		}
	}
	tries = append(tries, other...)
	tries = append(tries, reply)
	if loc := start.FindStringIndex(reply); loc != nil {
		tries = append(tries, reply[loc[0]:])
	}
	for _, code := range tries {
		if f, ok := find(code); ok {
			return f, true
		}
	}
	var none F
	return none, false
}
