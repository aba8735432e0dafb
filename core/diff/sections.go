package diff

import "strings"

// Sections cuts a git diff at each "diff --git" line, each section keeping
// its text byte for byte; text before the first one is dropped.
func Sections(d string) []string {
	var secs []string
	start := -1
	for i := 0; i < len(d); {
		end := strings.IndexByte(d[i:], '\n')
		if end < 0 {
			end = len(d)
		} else {
			end += i + 1
		}
		if strings.HasPrefix(d[i:], "diff --git ") {
			if start >= 0 {
				secs = append(secs, d[start:i])
			}
			start = i
		}
		i = end
	}
	if start >= 0 {
		secs = append(secs, d[start:])
	}
	return secs
}

// ChangedFiles lists the files a diff changes: the names of its "+++ b/"
// lines, in order (a deleted file, "+++ /dev/null", is not listed).
func ChangedFiles(d string) []string {
	var out []string
	for _, l := range strings.Split(d, "\n") {
		if name, ok := strings.CutPrefix(l, "+++ b/"); ok {
			out = append(out, strings.TrimRight(name, "\t\r"))
		}
	}
	return out
}
