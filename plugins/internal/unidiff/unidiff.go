package unidiff

import (
	"bytes"
	"fmt"
	"strings"
)

// contextLines is how many unchanged lines a hunk shows on each side.
const contextLines = 3

// Edit replaces Src[Start:End] with Text.
type Edit struct {
	Start, End int
	Text       string
}

// Apply returns src with the edit made; src is left as is.
func (e Edit) Apply(src []byte) []byte {
	out := make([]byte, 0, len(src)-(e.End-e.Start)+len(e.Text))
	out = append(out, src[:e.Start]...)
	out = append(out, e.Text...)
	return append(out, src[e.End:]...)
}

// Between writes the diff that turns old into new for a file called name,
// as one hunk around the single region where they differ: the edit from
// the first differing byte to the last. Identical files give "".
func Between(name string, old, new []byte) string {
	if bytes.Equal(old, new) {
		return ""
	}
	p := 0
	for p < len(old) && p < len(new) && old[p] == new[p] {
		p++
	}
	s := 0
	for s < len(old)-p && s < len(new)-p && old[len(old)-1-s] == new[len(new)-1-s] {
		s++
	}
	return Unified(name, old, Edit{Start: p, End: len(old) - s, Text: string(new[p : len(new)-s])})
}

// Unified writes the git-style unified diff that turns src into
// e.Apply(src), for a file called name: one hunk of the lines the edit
// changes, three lines of context, "\ No newline at end of file" where a
// shown line has no newline. Both git apply and patch -p1 accept it.
func Unified(name string, src []byte, e Edit) string {
	// The lines the edit touches, before and after it.
	a := lineStart(src, e.Start)
	b := lineEnd(src, e.End)
	oldLines := SplitLines(string(src[a:b]))
	newLines := SplitLines(string(src[a:e.Start]) + e.Text + string(src[e.End:b]))

	// Keep only the lines that differ.
	p := 0
	for p < len(oldLines) && p < len(newLines) && oldLines[p] == newLines[p] {
		p++
	}
	s := 0
	for s < len(oldLines)-p && s < len(newLines)-p && oldLines[len(oldLines)-1-s] == newLines[len(newLines)-1-s] {
		s++
	}
	changedStart := a + totalLen(oldLines[:p])
	changedEnd := b - totalLen(oldLines[len(oldLines)-s:])
	oldChanged := oldLines[p : len(oldLines)-s]
	newChanged := newLines[p : len(newLines)-s]

	before := linesBefore(src, changedStart, contextLines)
	after := linesAfter(src, changedEnd, contextLines)
	first := bytes.Count(src[:changedStart], []byte("\n")) + 1 - len(before)

	var w strings.Builder
	fmt.Fprintf(&w, "diff --git a/%s b/%s\n--- a/%s\n+++ b/%s\n", name, name, name, name)
	oldCount := len(before) + len(oldChanged) + len(after)
	newCount := len(before) + len(newChanged) + len(after)
	fmt.Fprintf(&w, "@@ -%s +%s @@\n", hunkRange(first, oldCount), hunkRange(first, newCount))
	for _, l := range before {
		writeLine(&w, ' ', l)
	}
	for _, l := range oldChanged {
		writeLine(&w, '-', l)
	}
	for _, l := range newChanged {
		writeLine(&w, '+', l)
	}
	for _, l := range after {
		writeLine(&w, ' ', l)
	}
	return w.String()
}

// hunkRange formats one side of a hunk header as git does: the count is
// left out when it is 1, and an empty side names the line before it.
func hunkRange(first, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", first-1)
	case 1:
		return fmt.Sprintf("%d", first)
	}
	return fmt.Sprintf("%d,%d", first, count)
}

func writeLine(w *strings.Builder, prefix byte, line string) {
	w.WriteByte(prefix)
	w.WriteString(line)
	if !strings.HasSuffix(line, "\n") {
		w.WriteString("\n\\ No newline at end of file\n")
	}
}

// SplitLines splits s after each newline; a last line without one is kept.
func SplitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func totalLen(lines []string) int {
	n := 0
	for _, l := range lines {
		n += len(l)
	}
	return n
}

// lineStart is the offset of the start of the line holding offset off.
func lineStart(src []byte, off int) int {
	return bytes.LastIndexByte(src[:off], '\n') + 1
}

// lineEnd is the offset just past the newline ending the line holding
// offset off (len(src) for a last line without one).
func lineEnd(src []byte, off int) int {
	i := bytes.IndexByte(src[off:], '\n')
	if i < 0 {
		return len(src)
	}
	return off + i + 1
}

// linesBefore returns up to n whole lines ending at offset off, which is
// at a line start.
func linesBefore(src []byte, off, n int) []string {
	start := off
	for k := 0; k < n && start > 0; k++ {
		start = lineStart(src, start-1)
	}
	return SplitLines(string(src[start:off]))
}

// linesAfter returns up to n whole lines starting at offset off, which is
// at a line start.
func linesAfter(src []byte, off, n int) []string {
	end := off
	for k := 0; k < n && end < len(src); k++ {
		end = lineEnd(src, end)
	}
	return SplitLines(string(src[off:end]))
}
