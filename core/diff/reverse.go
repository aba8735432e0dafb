package diff

import (
	"fmt"
	"regexp"
	"strings"
)

var hunkRangesRe = regexp.MustCompile(`(?s)^@@ -(\S+) \+(\S+) @@(.*)$`)

// Reverse swaps the sides of a unified diff of modified text files: the -
// and + lines, the old and new ranges of each hunk, the ---/+++ names. It
// refuses a diff that creates, deletes or renames a file or changes a
// binary one.
func Reverse(d string) (string, error) {
	lines := strings.SplitAfter(d, "\n")
	var b strings.Builder
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "diff --git "), strings.HasPrefix(l, "index "):
			b.WriteString(l)
		case strings.HasPrefix(l, "--- ") && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "+++ "):
			b.WriteString("--- " + strings.TrimPrefix(lines[i+1], "+++ "))
			b.WriteString("+++ " + strings.TrimPrefix(l, "--- "))
			i++
		case strings.HasPrefix(l, "@@"):
			m := hunkRangesRe.FindStringSubmatch(l)
			if m == nil {
				return "", fmt.Errorf("bad hunk header %q", strings.TrimSpace(l))
			}
			b.WriteString("@@ -" + m[2] + " +" + m[1] + " @@" + m[3])
		case strings.HasPrefix(l, "-"):
			b.WriteString("+" + l[1:])
		case strings.HasPrefix(l, "+"):
			b.WriteString("-" + l[1:])
		case strings.HasPrefix(l, "new file mode"), strings.HasPrefix(l, "deleted file mode"), strings.HasPrefix(l, "rename "), strings.HasPrefix(l, "Binary files"):
			return "", fmt.Errorf("cannot reverse %q", strings.TrimSpace(l))
		default:
			b.WriteString(l)
		}
	}
	return b.String(), nil
}
