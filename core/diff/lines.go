package diff

import (
	"regexp"
	"strconv"
	"strings"
)

// Line is one removed or added line of a diff.
type Line struct {
	// File is the repository path of its section (the "+++ b/" name).
	File string
	// Op is '-' for a removed line, '+' for an added one.
	Op byte
	// N is its number: in the old file for a removed line, in the new
	// file for an added one.
	N int
	// Text is the line without its - or +.
	Text string
}

var hunkStartRe = regexp.MustCompile(`^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@`)

// ChangedLines returns the removed and added lines of a diff in order,
// with their numbers. Lines before the first "+++ b/" name are left out;
// the numbers count on from hunk to hunk of the text given.
func ChangedLines(d string) []Line {
	var out []Line
	var file string
	oldN, newN := 0, 0
	for _, l := range strings.Split(d, "\n") {
		switch {
		case strings.HasPrefix(l, "+++ "), strings.HasPrefix(l, "--- "), strings.HasPrefix(l, "diff --git "):
			if name, ok := strings.CutPrefix(l, "+++ b/"); ok {
				file = name
			}
			continue
		}
		if m := hunkStartRe.FindStringSubmatch(l); m != nil {
			oldN, _ = strconv.Atoi(m[1])
			newN, _ = strconv.Atoi(m[2])
			continue
		}
		if l == "" || file == "" {
			continue
		}
		switch l[0] {
		case ' ':
			oldN++
			newN++
		case '-':
			out = append(out, Line{File: file, Op: '-', N: oldN, Text: l[1:]})
			oldN++
		case '+':
			out = append(out, Line{File: file, Op: '+', N: newN, Text: l[1:]})
			newN++
		}
	}
	return out
}
