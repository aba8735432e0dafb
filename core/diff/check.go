package diff

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// fileDiff is one file section of a patch.
type fileDiff struct {
	line     int      // where the section starts, 1-based
	paths    []string // repository paths it names (old and new), -p1 stripped
	symlink  bool     // the new side has git mode 120000
	target   string   // the symlink's target, from the + lines
	hunks    int
	meta     bool // mode change, rename, copy, new or deleted file
	binary   bool
	sawMinus bool
	sawPlus  bool
}

// Checked is what Check learns from a patch.
type Checked struct {
	// Paths are the repository paths the patch touches (old and new
	// names, -p1 stripped), sorted and unique.
	Paths []string
	// Links are the sections that create or change a symlink.
	Links []Link
}

// Link is a symlink a patch creates or changes.
type Link struct {
	// Path is the link's repository path (its new name).
	Path string
	// Target is what the link points to, from its + lines.
	Target string
	// Line is where the link's file section starts, 1-based.
	Line int
}

var hunkHeaderRe = regexp.MustCompile(`^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@`)

// Check parses a unified or git diff and returns the repository paths it
// touches (old and new names, -p1 stripped, sorted) and the symlinks it
// creates or changes. It refuses, with an error wrapping ErrNotPatch, text
// that is not a patch: no file headers and hunks, a hunk before any file
// header, a malformed hunk header, NUL bytes; and, with an error wrapping
// ErrUnsafePatch, a patch that names an absolute path, a path with a ".."
// component or inside .git/, or that creates a symlink (git mode 120000)
// whose target is absolute or leads out of the repository. Check looks at
// the text only: whether a path resolves through a symlink already in a
// tree is for whoever applies the patch to find out.
func Check(patch string) (Checked, error) {
	if strings.IndexByte(patch, 0) >= 0 {
		return Checked{}, fmt.Errorf("%w: it holds binary data (NUL bytes)", ErrNotPatch)
	}
	lines := strings.Split(patch, "\n")
	var files []*fileDiff
	var cur *fileDiff
	newSection := func(i int) {
		cur = &fileDiff{line: i + 1}
		files = append(files, cur)
	}
	var oldLeft, newLeft int
	inHunk, inBinary := false, false
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSuffix(lines[i], "\r")
		if inHunk {
			if oldLeft > 0 || newLeft > 0 {
				c := byte(' ')
				if line != "" {
					c = line[0]
				}
				switch c {
				case ' ':
					oldLeft--
					newLeft--
					continue
				case '-':
					oldLeft--
					continue
				case '+':
					newLeft--
					if cur.symlink {
						cur.target += line[1:]
					}
					continue
				case '\\':
					continue
				}
				// The hunk ends early; git apply and patch will say so.
			} else if strings.HasPrefix(line, `\`) {
				continue // "\ No newline at end of file"
			}
			inHunk = false
		}
		if inBinary && !strings.HasPrefix(line, "diff --git ") {
			continue
		}
		inBinary = false
		switch {
		case strings.HasPrefix(line, "diff --git "):
			newSection(i)
			names, err := gitHeaderNames(line[len("diff --git "):])
			if err != nil {
				return Checked{}, fmt.Errorf("%w: line %d: %v", ErrNotPatch, i+1, err)
			}
			for _, n := range names {
				if err := addPath(cur, n, true, i); err != nil {
					return Checked{}, err
				}
			}
		case strings.HasPrefix(line, "--- ") && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "+++ "):
			if cur == nil || cur.hunks > 0 || cur.sawMinus || cur.binary {
				newSection(i)
			}
			cur.sawMinus = true
			if err := addHeaderName(cur, line[4:], i); err != nil {
				return Checked{}, err
			}
		case strings.HasPrefix(line, "+++ "):
			if cur == nil || !cur.sawMinus || cur.sawPlus {
				return Checked{}, fmt.Errorf("%w: line %d: \"+++\" header without a \"---\" header before it", ErrNotPatch, i+1)
			}
			cur.sawPlus = true
			if err := addHeaderName(cur, line[4:], i); err != nil {
				return Checked{}, err
			}
		case strings.HasPrefix(line, "@@"):
			if cur == nil || (!cur.sawPlus && !cur.meta && cur.hunks == 0 && len(cur.paths) == 0) {
				return Checked{}, fmt.Errorf("%w: line %d: hunk without a file header", ErrNotPatch, i+1)
			}
			m := hunkHeaderRe.FindStringSubmatch(line)
			if m == nil {
				return Checked{}, fmt.Errorf("%w: line %d: malformed hunk header %q", ErrNotPatch, i+1, clip(line, 60))
			}
			oldLeft, newLeft = hunkCount(m[2]), hunkCount(m[4])
			if oldLeft < 0 || newLeft < 0 {
				return Checked{}, fmt.Errorf("%w: line %d: malformed hunk header %q", ErrNotPatch, i+1, clip(line, 60))
			}
			cur.hunks++
			inHunk = true
		case cur == nil:
			// Text before the first file (a commit message, a preamble).
		case strings.HasPrefix(line, "new file mode "), strings.HasPrefix(line, "new mode "):
			cur.meta = true
			cur.symlink = strings.HasSuffix(strings.TrimSpace(line), " 120000")
		case strings.HasPrefix(line, "deleted file mode "), strings.HasPrefix(line, "old mode "):
			cur.meta = true
		case strings.HasPrefix(line, "index "):
			if f := strings.Fields(line); len(f) == 3 && f[2] == "120000" {
				cur.symlink = true
			}
		case strings.HasPrefix(line, "rename from "), strings.HasPrefix(line, "rename to "),
			strings.HasPrefix(line, "copy from "), strings.HasPrefix(line, "copy to "):
			cur.meta = true
			_, name, _ := strings.Cut(line, " ")
			_, name, _ = strings.Cut(name, " ")
			n, err := unquoteName(name)
			if err != nil {
				return Checked{}, fmt.Errorf("%w: line %d: %v", ErrNotPatch, i+1, err)
			}
			if err := addPath(cur, n, false, i); err != nil {
				return Checked{}, err
			}
		case line == "GIT binary patch":
			cur.binary = true
			inBinary = true
		case strings.HasPrefix(line, "Binary files ") && strings.HasSuffix(line, " differ"):
			cur.binary = true
		}
	}
	info := Checked{}
	seen := map[string]bool{}
	for _, f := range files {
		if f.hunks == 0 && !f.meta && !f.binary {
			continue // a header with nothing to apply
		}
		for _, p := range f.paths {
			if !seen[p] {
				seen[p] = true
				info.Paths = append(info.Paths, p)
			}
		}
		if f.symlink && f.hunks > 0 && len(f.paths) > 0 {
			if err := checkLinkTarget(f); err != nil {
				return Checked{}, err
			}
			info.Links = append(info.Links, Link{Path: f.paths[len(f.paths)-1], Target: f.target, Line: f.line})
		}
	}
	if len(info.Paths) == 0 {
		return Checked{}, fmt.Errorf("%w: no file headers and hunks found", ErrNotPatch)
	}
	sort.Strings(info.Paths)
	return info, nil
}

func hunkCount(s string) int {
	if s == "" {
		return 1
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > 1<<30 {
		return -1
	}
	return n
}

// addHeaderName records the file name of a "---" or "+++" line.
func addHeaderName(f *fileDiff, raw string, i int) error {
	if t, _, ok := strings.Cut(raw, "\t"); ok {
		raw = t // "--- a/x.py\t2024-01-01 10:00:00" carries a time stamp
	}
	raw = strings.TrimRight(raw, " ")
	name, err := unquoteName(raw)
	if err != nil {
		return fmt.Errorf("%w: line %d: %v", ErrNotPatch, i+1, err)
	}
	if name == "/dev/null" {
		return nil
	}
	return addPath(f, name, true, i)
}

// addPath checks one name from the patch and records its -p1 stripped form.
func addPath(f *fileDiff, raw string, strip bool, i int) error {
	if err := checkPath(raw); err != nil {
		return fmt.Errorf("%w: line %d: %v", ErrUnsafePatch, i+1, err)
	}
	p := raw
	if strip {
		if _, rest, ok := strings.Cut(raw, "/"); ok {
			p = rest
		}
	}
	if err := checkPath(p); err != nil {
		return fmt.Errorf("%w: line %d: %v", ErrUnsafePatch, i+1, err)
	}
	if p == "" {
		return fmt.Errorf("%w: line %d: empty file name", ErrNotPatch, i+1)
	}
	for _, q := range f.paths {
		if q == p {
			return nil
		}
	}
	f.paths = append(f.paths, p)
	return nil
}

// checkPath refuses names that would write outside the repository.
func checkPath(p string) error {
	switch {
	case strings.IndexByte(p, 0) >= 0:
		return fmt.Errorf("path %q holds a NUL byte", p)
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("absolute path %q", p)
	}
	for _, c := range strings.Split(p, "/") {
		switch {
		case c == "..":
			return fmt.Errorf("path %q has a \"..\" component", p)
		case strings.EqualFold(c, ".git"):
			return fmt.Errorf("path %q is inside .git", p)
		}
	}
	return nil
}

// checkLinkTarget refuses a symlink whose target is absolute or, resolved
// lexically from the link's folder, leaves the repository or enters .git.
func checkLinkTarget(f *fileDiff) error {
	link := f.paths[len(f.paths)-1]
	t := f.target
	switch {
	case t == "":
		return nil
	case strings.HasPrefix(t, "/"):
		return fmt.Errorf("%w: line %d: symlink %q points to the absolute path %q", ErrUnsafePatch, f.line, link, t)
	}
	resolved := path.Join(path.Dir(link), t)
	if resolved == ".." || strings.HasPrefix(resolved, "../") {
		return fmt.Errorf("%w: line %d: symlink %q -> %q leads out of the repository", ErrUnsafePatch, f.line, link, t)
	}
	for _, c := range strings.Split(resolved, "/") {
		if strings.EqualFold(c, ".git") {
			return fmt.Errorf("%w: line %d: symlink %q -> %q points into .git", ErrUnsafePatch, f.line, link, t)
		}
	}
	return nil
}

// gitHeaderNames returns the two names of "diff --git a/X b/Y".
func gitHeaderNames(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, `"`) {
		a, rest, err := cutQuoted(s)
		if err != nil {
			return nil, err
		}
		rest = strings.TrimLeft(rest, " ")
		b, err := unquoteName(rest)
		if err != nil {
			return nil, err
		}
		return []string{a, b}, nil
	}
	if i := strings.Index(s, ` "`); i >= 0 && strings.HasSuffix(s, `"`) {
		b, err := unquoteName(s[i+1:])
		if err != nil {
			return nil, err
		}
		return []string{s[:i], b}, nil
	}
	// Unquoted names may hold spaces: prefer the split that gives the same
	// name twice ("a/x y b/x y"), as git does.
	if len(s)%2 == 1 {
		half := (len(s) - 1) / 2
		a, b := s[:half], s[half+1:]
		if s[half] == ' ' && len(a) > 2 && len(b) > 2 && a[2:] == b[2:] {
			return []string{a, b}, nil
		}
	}
	if i := strings.LastIndex(s, " b/"); i >= 0 {
		return []string{s[:i], s[i+1:]}, nil
	}
	if a, b, ok := strings.Cut(s, " "); ok {
		return []string{a, b}, nil
	}
	return nil, fmt.Errorf("cannot read the file names of %q", clip(s, 60))
}

// unquoteName undoes git's C-style quoting of a file name; unquoted names
// are returned as they are.
func unquoteName(s string) (string, error) {
	if !strings.HasPrefix(s, `"`) {
		return s, nil
	}
	name, rest, err := cutQuoted(s)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(rest) != "" {
		return "", fmt.Errorf("text after the quoted name %q", clip(s, 60))
	}
	return name, nil
}

// cutQuoted reads one C-quoted string at the start of s.
func cutQuoted(s string) (name, rest string, err error) {
	var b bytes.Buffer
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			return b.String(), s[i+1:], nil
		case '\\':
			i++
			if i >= len(s) {
				return "", "", fmt.Errorf("unterminated quoted name %q", clip(s, 60))
			}
			switch e := s[i]; e {
			case 'a':
				b.WriteByte('\a')
			case 'b':
				b.WriteByte('\b')
			case 't':
				b.WriteByte('\t')
			case 'n':
				b.WriteByte('\n')
			case 'v':
				b.WriteByte('\v')
			case 'f':
				b.WriteByte('\f')
			case 'r':
				b.WriteByte('\r')
			case '"', '\\':
				b.WriteByte(e)
			case '0', '1', '2', '3':
				if i+2 >= len(s) {
					return "", "", fmt.Errorf("bad octal escape in %q", clip(s, 60))
				}
				v, perr := strconv.ParseUint(s[i:i+3], 8, 8)
				if perr != nil {
					return "", "", fmt.Errorf("bad octal escape in %q", clip(s, 60))
				}
				b.WriteByte(byte(v))
				i += 2
			default:
				return "", "", fmt.Errorf("bad escape \\%c in %q", e, clip(s, 60))
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", fmt.Errorf("unterminated quoted name %q", clip(s, 60))
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
