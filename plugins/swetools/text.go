package swetools

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// clipped is output that may have lost its middle: Head and Tail are the
// bytes kept and Total the size of the whole.
type clipped struct {
	Head, Tail []byte
	Total      int64
}

// omitted is how many bytes of the whole are not in Head and Tail.
func (c clipped) omitted() int64 {
	return max(c.Total-int64(len(c.Head))-int64(len(c.Tail)), 0)
}

// text renders c for the model: the kept parts as valid UTF-8 with a
// marker where bytes were left out. truncated reports the marker.
func (c clipped) text() (s string, truncated bool) {
	n := c.omitted()
	if n == 0 && len(c.Tail) == 0 {
		return clean(string(c.Head)), false
	}
	if n == 0 {
		return clean(string(c.Head) + string(c.Tail)), false
	}
	head := trimPartialEnd(c.Head)
	tail := trimPartialStart(c.Tail)
	n += int64(len(c.Head)-len(head)) + int64(len(c.Tail)-len(tail))
	return clean(string(head)) + omissionMarker(n) + clean(string(tail)), true
}

// clip keeps at most limit bytes of s: its first and last halves.
func clip(s string, limit int) clipped {
	if len(s) <= limit {
		return clipped{Head: []byte(s), Total: int64(len(s))}
	}
	h := limit / 2
	return clipped{Head: []byte(s[:h]), Tail: []byte(s[len(s)-(limit-h):]), Total: int64(len(s))}
}

func omissionMarker(n int64) string {
	return fmt.Sprintf("\n[... %d bytes of output omitted here ...]\n", n)
}

// trimPartialEnd drops an incomplete UTF-8 sequence cut at the end of b.
func trimPartialEnd(b []byte) []byte {
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		c := b[len(b)-i]
		if c < utf8.RuneSelf {
			return b
		}
		if utf8.RuneStart(c) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			return b
		}
	}
	return b
}

// trimPartialStart drops continuation bytes cut at the start of b.
func trimPartialStart(b []byte) []byte {
	for i := 0; i < utf8.UTFMax && i < len(b); i++ {
		if utf8.RuneStart(b[i]) {
			return b[i:]
		}
	}
	return b
}

// ansi matches terminal escape sequences (colours, cursor movement).
var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)`)

// clean makes command output fit for a chat message: valid UTF-8, no
// terminal escape sequences, no carriage-return line ends.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.ContainsRune(s, 0x1b) {
		s = ansi.ReplaceAllString(s, "")
	}
	return strings.ReplaceAll(s, "\r\n", "\n")
}

// numbered renders lines as `cat -n` does, the first numbered first.
func numbered(lines []string, first int) string {
	var b strings.Builder
	for i, l := range lines {
		fmt.Fprintf(&b, "%6d\t%s\n", first+i, l)
	}
	return b.String()
}

// splitLines splits file content into lines without their "\n"; final
// reports whether the content ended with one. Empty content has no lines.
func splitLines(s string) (lines []string, final bool) {
	if s == "" {
		return nil, true
	}
	final = strings.HasSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\n")
	return strings.Split(s, "\n"), final
}

// joinLines is the inverse of splitLines.
func joinLines(lines []string, final bool) string {
	s := strings.Join(lines, "\n")
	if final && len(lines) > 0 {
		s += "\n"
	}
	return s
}
