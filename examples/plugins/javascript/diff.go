package main

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// contextLines is how many unchanged lines a hunk shows on each side.
const contextLines = 3

// unifiedDiff writes the git-style diff that makes the edit in the file
// name: one hunk with three lines of context, and "\ No newline at end of
// file" after a shown last line without one. lineOf gives the 1-based
// line of an offset.
func unifiedDiff(name string, src []byte, e edit, lineOf func(int) int) string {
	// The whole lines the edit touches, before and after it.
	a, b := lineStart(src, e.start), lineEnd(src, e.end)
	if e.end > e.start && e.end > a && src[e.end-1] == '\n' {
		b = e.end // an edit of whole lines ends at a line start
	}
	oldText := string(src[a:b])
	newText := string(src[a:e.start]) + e.text + string(src[e.end:b])
	oldLines, newLines := splitLines(oldText), splitLines(newText)
	before := splitLines(string(src[backLines(src, a, contextLines):a]))
	after := splitLines(string(src[b:forwardLines(src, b, contextLines)]))
	first := lineOf(a) - len(before)

	var w strings.Builder
	fmt.Fprintf(&w, "diff --git a/%s b/%s\n--- a/%s\n+++ b/%s\n", name, name, name, name)
	fmt.Fprintf(&w, "@@ -%s +%s @@\n", hunkRange(first, len(before)+len(oldLines)+len(after)), hunkRange(first, len(before)+len(newLines)+len(after)))
	for _, group := range []struct {
		prefix byte
		lines  []string
	}{{' ', before}, {'-', oldLines}, {'+', newLines}, {' ', after}} {
		for _, l := range group.lines {
			w.WriteByte(group.prefix)
			w.WriteString(l)
			if !strings.HasSuffix(l, "\n") {
				w.WriteString("\n\\ No newline at end of file\n")
			}
		}
	}
	return w.String()
}

// lineIndex returns a function that gives the 1-based line of an offset
// of src, by binary search over the line starts.
func lineIndex(src []byte) func(int) int {
	starts := []int{0}
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return func(off int) int {
		return sort.Search(len(starts), func(i int) bool { return starts[i] > off })
	}
}

// hunkRange formats one side of a hunk header as git does.
func hunkRange(first, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", first-1)
	case 1:
		return fmt.Sprintf("%d", first)
	}
	return fmt.Sprintf("%d,%d", first, count)
}

// splitLines splits s after each newline, keeping a last line without one.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// lineStart is the offset of the start of the line holding off.
func lineStart(src []byte, off int) int {
	return bytes.LastIndexByte(src[:off], '\n') + 1
}

// lineEnd is the offset just past the newline ending the line holding off.
func lineEnd(src []byte, off int) int {
	i := bytes.IndexByte(src[off:], '\n')
	if i < 0 {
		return len(src)
	}
	return off + i + 1
}

// backLines moves back n whole lines from off, a line start.
func backLines(src []byte, off, n int) int {
	for ; n > 0 && off > 0; n-- {
		off = lineStart(src, off-1)
	}
	return off
}

// forwardLines moves on n whole lines from off, a line start.
func forwardLines(src []byte, off, n int) int {
	for ; n > 0 && off < len(src); n-- {
		off = lineEnd(src, off)
	}
	return off
}
