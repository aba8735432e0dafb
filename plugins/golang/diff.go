package golang

import "github.com/swelego/swelego/plugins/internal/unidiff"

// edit replaces src[start:end] with text.
type edit struct {
	start, end int
	text       string
}

func (e edit) unidiff() unidiff.Edit {
	return unidiff.Edit{Start: e.start, End: e.end, Text: e.text}
}

// apply returns the source with the edit made; src is left as is.
func (e edit) apply(src []byte) []byte { return e.unidiff().Apply(src) }

// unifiedDiff writes the git-style unified diff that turns src into
// e.apply(src), for a file called name: one hunk of the lines the edit
// touches, three lines of context.
func unifiedDiff(name string, src []byte, e edit) string {
	return unidiff.Unified(name, src, e.unidiff())
}
