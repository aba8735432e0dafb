package unidiff

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestBetween(t *testing.T) {
	const ten = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n"
	cases := []struct {
		name, old, new, want string
	}{
		{"identical", ten, ten, ""},
		{"one line changed, three of context", ten, strings.Replace(ten, "5\n", "five\n", 1),
			"@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"},
		{"line added at the start", ten, "0\n" + ten,
			"@@ -1,3 +1,4 @@\n+0\n 1\n 2\n 3\n"},
		{"lines removed at the end", ten, "1\n2\n3\n4\n5\n6\n7\n8\n",
			"@@ -6,5 +6,3 @@\n 6\n 7\n 8\n-9\n-10\n"},
		{"no newline at the end", "a\nb", "a\nc",
			"@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"},
		{"newline added at the end", "a\nb", "a\nb\n",
			"@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"},
		{"empty file filled", "", "x\n", "@@ -0,0 +1 @@\n+x\n"},
		{"a repeated line added after its twins", "x\ny\ny\nz\n", "x\ny\ny\ny\nz\n",
			"@@ -1,4 +1,5 @@\n x\n y\n y\n+y\n z\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Between("f.txt", []byte(c.old), []byte(c.new))
			want := c.want
			if want != "" {
				want = "diff --git a/f.txt b/f.txt\n--- a/f.txt\n+++ b/f.txt\n" + want
			}
			if got != want {
				t.Errorf("diff =\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestUnifiedPlacesTheEdit: Unified diffs the lines the edit touches, so
// an insertion among equal lines stands where the edit made it, while
// Between puts it after all the lines the two files share.
func TestUnifiedPlacesTheEdit(t *testing.T) {
	src := []byte("x\ny\ny\nz\n")
	e := Edit{Start: 2, End: 2, Text: "y\n"}
	got := Unified("f", src, e)
	want := "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1,4 +1,5 @@\n x\n y\n+y\n y\n z\n"
	if got != want {
		t.Errorf("Unified =\n%s\nwant\n%s", got, want)
	}
	if string(e.Apply(src)) != "x\ny\ny\ny\nz\n" || string(src) != "x\ny\ny\nz\n" {
		t.Errorf("Apply: %q (src now %q)", e.Apply(src), src)
	}
}

// TestDiffsApply makes random one-region edits of files of few distinct
// lines (so that lines repeat and an edit may start or end mid-line or
// without a final newline) and applies each diff, both the edit's and
// Between's, the way patch does: the result must be the edited file.
func TestDiffsApply(t *testing.T) {
	g := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab\n\nx")
	text := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[g.IntN(len(alphabet))]
		}
		return string(b)
	}
	for range 20000 {
		src := []byte(text(g.IntN(60)))
		start := g.IntN(len(src) + 1)
		end := start + g.IntN(len(src)-start+1)
		e := Edit{Start: start, End: end, Text: text(g.IntN(12))}
		want := string(e.Apply(src))
		if want == string(src) {
			continue // a candidate changes its file; Between gives "" here
		}
		for name, diff := range map[string]string{"Unified": Unified("f", src, e), "Between": Between("f", src, []byte(want))} {
			got, err := applyHunk(string(src), diff)
			if err != nil || got != want {
				t.Fatalf("%s: %q edited by %+v: applying\n%s\ngave %q (%v), want %q", name, src, e, diff, got, err, want)
			}
		}
	}
}

var hunkHeader = regexp.MustCompile(`(?m)^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@\n`)

// applyHunk applies a one-hunk diff to src, checking every context and
// removed line and both counts of the header.
func applyHunk(src, diff string) (string, error) {
	m := hunkHeader.FindStringSubmatchIndex(diff)
	if m == nil {
		return "", fmt.Errorf("no hunk header")
	}
	num := func(i int, def int) int {
		if m[2*i] < 0 {
			return def
		}
		n, _ := strconv.Atoi(diff[m[2*i]:m[2*i+1]])
		return n
	}
	oldFirst, oldCount, newCount := num(1, 0), num(2, 1), num(4, 1)
	if oldCount > 0 {
		oldFirst-- // 0-based index of the first line shown
	}
	lines := strings.SplitAfter(src, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	var oldSide, newSide []string
	body := strings.SplitAfter(diff[m[1]:], "\n")
	for i := 0; i < len(body) && body[i] != ""; i++ {
		l := body[i]
		if i+1 < len(body) && body[i+1] == "\\ No newline at end of file\n" {
			l = strings.TrimSuffix(l, "\n")
			i++
		}
		switch l[0] {
		case ' ':
			oldSide, newSide = append(oldSide, l[1:]), append(newSide, l[1:])
		case '-':
			oldSide = append(oldSide, l[1:])
		case '+':
			newSide = append(newSide, l[1:])
		default:
			return "", fmt.Errorf("line %q", l)
		}
	}
	if len(oldSide) != oldCount || len(newSide) != newCount {
		return "", fmt.Errorf("counts %d,%d in the header, %d,%d in the hunk", oldCount, newCount, len(oldSide), len(newSide))
	}
	if oldFirst < 0 || oldFirst+len(oldSide) > len(lines) || strings.Join(lines[oldFirst:oldFirst+len(oldSide)], "") != strings.Join(oldSide, "") {
		return "", fmt.Errorf("the hunk's old lines are not the file's at line %d", oldFirst+1)
	}
	return strings.Join(lines[:oldFirst], "") + strings.Join(newSide, "") + strings.Join(lines[oldFirst+len(oldSide):], ""), nil
}
