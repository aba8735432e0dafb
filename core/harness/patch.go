package harness

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/swelego/swelego/sdk"
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

// patchInfo is what CheckPatch learns from a patch.
type patchInfo struct {
	paths []string   // every path, sorted, unique
	links []fileDiff // sections that create or change a symlink
}

var hunkHeaderRe = regexp.MustCompile(`^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@`)

// CheckPatch parses a unified or git diff and returns the repository paths
// it touches (old and new names, -p1 stripped, sorted). It refuses, with an
// error wrapping ErrNotPatch, text that is not a patch: no file headers and
// hunks, a hunk before any file header, a malformed hunk header, NUL bytes;
// and, with an error wrapping ErrUnsafePatch, a patch that names an absolute
// path, a path with a ".." component or inside .git/, or that creates a
// symlink (git mode 120000) whose target is absolute or leads out of the
// repository. CheckPatch looks at the text only; ApplyPatch also resolves
// the paths inside the sandbox.
func CheckPatch(patch string) ([]string, error) {
	info, err := checkPatch(patch)
	if err != nil {
		return nil, err
	}
	return info.paths, nil
}

func checkPatch(patch string) (patchInfo, error) {
	if strings.IndexByte(patch, 0) >= 0 {
		return patchInfo{}, fmt.Errorf("%w: it holds binary data (NUL bytes)", ErrNotPatch)
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
				return patchInfo{}, fmt.Errorf("%w: line %d: %v", ErrNotPatch, i+1, err)
			}
			for _, n := range names {
				if err := addPath(cur, n, true, i); err != nil {
					return patchInfo{}, err
				}
			}
		case strings.HasPrefix(line, "--- ") && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "+++ "):
			if cur == nil || cur.hunks > 0 || cur.sawMinus || cur.binary {
				newSection(i)
			}
			cur.sawMinus = true
			if err := addHeaderName(cur, line[4:], i); err != nil {
				return patchInfo{}, err
			}
		case strings.HasPrefix(line, "+++ "):
			if cur == nil || !cur.sawMinus || cur.sawPlus {
				return patchInfo{}, fmt.Errorf("%w: line %d: \"+++\" header without a \"---\" header before it", ErrNotPatch, i+1)
			}
			cur.sawPlus = true
			if err := addHeaderName(cur, line[4:], i); err != nil {
				return patchInfo{}, err
			}
		case strings.HasPrefix(line, "@@"):
			if cur == nil || (!cur.sawPlus && !cur.meta && cur.hunks == 0 && len(cur.paths) == 0) {
				return patchInfo{}, fmt.Errorf("%w: line %d: hunk without a file header", ErrNotPatch, i+1)
			}
			m := hunkHeaderRe.FindStringSubmatch(line)
			if m == nil {
				return patchInfo{}, fmt.Errorf("%w: line %d: malformed hunk header %q", ErrNotPatch, i+1, clip(line, 60))
			}
			oldLeft, newLeft = hunkCount(m[2]), hunkCount(m[4])
			if oldLeft < 0 || newLeft < 0 {
				return patchInfo{}, fmt.Errorf("%w: line %d: malformed hunk header %q", ErrNotPatch, i+1, clip(line, 60))
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
				return patchInfo{}, fmt.Errorf("%w: line %d: %v", ErrNotPatch, i+1, err)
			}
			if err := addPath(cur, n, false, i); err != nil {
				return patchInfo{}, err
			}
		case line == "GIT binary patch":
			cur.binary = true
			inBinary = true
		case strings.HasPrefix(line, "Binary files ") && strings.HasSuffix(line, " differ"):
			cur.binary = true
		}
	}
	info := patchInfo{}
	seen := map[string]bool{}
	for _, f := range files {
		if f.hunks == 0 && !f.meta && !f.binary {
			continue // a header with nothing to apply
		}
		for _, p := range f.paths {
			if !seen[p] {
				seen[p] = true
				info.paths = append(info.paths, p)
			}
		}
		if f.symlink && f.hunks > 0 && len(f.paths) > 0 {
			if err := checkLinkTarget(f); err != nil {
				return patchInfo{}, err
			}
			info.links = append(info.links, *f)
		}
	}
	if len(info.paths) == 0 {
		return patchInfo{}, fmt.Errorf("%w: no file headers and hunks found", ErrNotPatch)
	}
	sort.Strings(info.paths)
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

// applyTimeout bounds one patch application in the sandbox.
const applyTimeout = 5 * time.Minute

// Patch application methods, tried in this order (SWE-bench's
// GIT_APPLY_CMDS). GNU patch also gets --forward, so that --batch does not
// silently apply a patch in reverse because it looks already applied, and
// --no-backup-if-mismatch, so that a fuzzy hunk leaves no .orig file in the
// tree.
var applyMethods = []string{
	"git apply --verbose",
	"git apply --verbose --reject",
	"patch --batch --fuzz=5 -p1 --forward --no-backup-if-mismatch",
}

// AlreadyApplied is the method applyPatch reports for a patch whose
// changes the tree already holds.
const AlreadyApplied = "already applied (git apply --check --reverse)"

// ApplyPatch applies patch to the repository of sb. It checks the patch
// with CheckPatch, then, inside the sandbox, refuses a path whose nearest
// existing ancestor (or the file itself) resolves through a symlink to a
// place outside the repository, and a symlink the patch creates whose
// target would resolve outside. It writes the patch to a temporary file in
// the sandbox and tries `git apply --verbose`, `git apply --verbose
// --reject` and `patch --batch --fuzz=5 -p1` in turn, restoring the files
// the patch touches after each failed attempt, so a failure leaves the tree
// as it was. When every method fails but `git apply --check --reverse`
// accepts the patch, its changes are already there and it counts as
// applied, as in SWE-bench. Errors wrap ErrNotPatch, ErrUnsafePatch or ErrApply (whose
// message gives each method's output), or the sandbox's error.
func ApplyPatch(ctx context.Context, sb sdk.Sandbox, patch string) error {
	_, err := applyPatch(ctx, sb, patch, false)
	return err
}

// applyPatch applies patch (in reverse when reverse is set) and returns the
// method that worked.
// scratch prefixes the harness's temporary files in a sandbox. They go in
// the repository's .git folder: relative to the folder commands run in,
// writable in every sandbox (WriteFile writes only inside the repository)
// and never part of the work tree or its diff.
const scratch = ".git/swelego-"

func applyPatch(ctx context.Context, sb sdk.Sandbox, patch string, reverse bool) (string, error) {
	return applyPatchAfterReset(ctx, sb, patch, reverse, nil)
}

// applyPatchAfterReset is applyPatch that first, in the same command, puts
// the paths reset back as the base commit has them (removing those it does
// not have), as resetToBase does.
func applyPatchAfterReset(ctx context.Context, sb sdk.Sandbox, patch string, reverse bool, reset []string) (string, error) {
	info, err := checkPatch(patch)
	if err != nil {
		return "", err
	}
	tok := NewNonce()[:16]
	base := scratch + "patch-" + tok
	var list bytes.Buffer
	for _, p := range info.paths {
		list.WriteString(p)
		list.WriteByte(0)
	}
	var links bytes.Buffer
	for _, l := range info.links {
		// Not path.Join: realpath must see the ".." after any symlink.
		links.WriteString(path.Dir(l.paths[len(l.paths)-1]) + "/" + l.target)
		links.WriteByte(0)
	}
	// One file goes over (a sandbox's WriteFile can cost as much as an
	// Exec); the path lists, small, travel in the script.
	if err := sb.WriteFile(ctx, base+".diff", []byte(patch)); err != nil {
		return "", fmt.Errorf("apply patch: write %s: %w", base+".diff", err)
	}
	resetPart := ""
	if len(reset) > 0 {
		var r bytes.Buffer
		for _, p := range reset {
			r.WriteString(p)
			r.WriteByte(0)
		}
		resetPart = fmt.Sprintf(resetScript, base64.StdEncoding.EncodeToString(r.Bytes()))
	}
	var script strings.Builder
	fmt.Fprintf(&script, applyScript, shellQuote(base), tok,
		base64.StdEncoding.EncodeToString(list.Bytes()), base64.StdEncoding.EncodeToString(links.Bytes()), resetPart)
	rev := ""
	if reverse {
		rev = " -R"
	}
	for i, m := range applyMethods {
		in := ` "$B.diff"`
		if strings.HasPrefix(m, "patch ") {
			in = ` -i "$B.diff"`
		}
		fmt.Fprintf(&script, "attempt %d %s%s%s\n", i+1, m, rev, in)
	}
	// SWE-bench's last resort: a patch whose changes the tree already holds
	// (git apply --check --reverse succeeds) counts as applied.
	already := " -R"
	if reverse {
		already = ""
	}
	fmt.Fprintf(&script, "if git apply --check%s \"$B.diff\" >/dev/null 2>&1 </dev/null; then echo \"@@$T already\"; exit 0; fi\n", already)
	script.WriteString("exit 1\n")
	res, err := sb.Exec(ctx, script.String(), applyTimeout)
	if err != nil {
		return "", fmt.Errorf("apply patch: %w", err)
	}
	if res.TimedOut {
		return "", fmt.Errorf("%w: timed out after %s", ErrApply, applyTimeout)
	}
	return readApplyOutput(res, tok, info)
}

// applyScript is run in the repository; %[1]s is the quoted prefix of its
// files, %[2]s the token of its marker lines, %[3]s and %[4]s the
// NUL-separated lists of the patch's paths and of its symlinks' targets,
// base64-encoded, %[5]s the reset of files before the patch (resetScript,
// or nothing). The attempts follow it.
const applyScript = `B=%[1]s
T=%[2]s
trap 'rm -f -- "$B.diff" "$B.paths" "$B.links" "$B.exist" "$B.tar"' EXIT
root=$(pwd -P) || exit 90
command -v realpath >/dev/null 2>&1 || { echo "@@$T fatal realpath is not installed in the sandbox"; exit 91; }
printf '%%s' '%[3]s' | base64 -d > "$B.paths" && printf '%%s' '%[4]s' | base64 -d > "$B.links" || { echo "@@$T fatal cannot write the path lists (is base64 installed?)"; exit 94; }
inside() { case "$1" in "$root"|"$root"/*) return 0;; esac; return 1; }
i=0
while IFS= read -r -d '' p; do
  r=$(realpath -m -- "$p") || r=
  if ! inside "$r"; then echo "@@$T out path $i"; exit 92; fi
  i=$((i+1))
done < "$B.paths"
i=0
while IFS= read -r -d '' p; do
  r=$(realpath -m -- "$p") || r=
  if ! inside "$r"; then echo "@@$T out link $i"; exit 92; fi
  i=$((i+1))
done < "$B.links"
%[5]swhile IFS= read -r -d '' p; do
  for f in "$p" "$p.rej"; do
    if [ -e "$f" ] || [ -L "$f" ]; then printf '%%s\0' "$f"; fi
  done
done < "$B.paths" > "$B.exist"
tar -cf "$B.tar" --no-recursion --null -T "$B.exist" 2>&1 || { echo "@@$T fatal cannot back up the files the patch touches"; exit 93; }
restore() {
  while IFS= read -r -d '' p; do rm -f -- "$p" "$p.rej"; done < "$B.paths"
  tar -xf "$B.tar"
}
attempt() {
  n=$1; shift
  echo "@@$T try $n"
  if "$@" 2>&1 </dev/null; then echo "@@$T applied $n"; exit 0; fi
  echo "@@$T failed $n"
  restore
}
`

// resetScript, inside applyScript before the files the patch touches are
// backed up, puts files back as the base commit has them; %[1]s is the
// NUL-separated list of paths, base64-encoded.
const resetScript = `printf '%%s' '%[1]s' | base64 -d > "$B.reset" || { echo "@@$T fatal cannot write the reset list"; exit 94; }
trap 'rm -f -- "$B.diff" "$B.paths" "$B.links" "$B.exist" "$B.tar" "$B.reset"' EXIT
while IFS= read -r -d '' p; do
  r=$(realpath -m -- "$p") || r=
  if ! inside "$r"; then echo "@@$T unsafe reset $p resolves outside the repository"; exit 92; fi
  if git cat-file -e "HEAD:$p" 2>/dev/null; then
    git checkout -q HEAD -- "$p" || { echo "@@$T fatal cannot reset $p"; exit 95; }
  else
    rm -f -- "$p" || { echo "@@$T fatal cannot remove $p"; exit 95; }
  fi
done < "$B.reset"
`

// readApplyOutput turns the apply script's output into the method used or
// an error naming each failed attempt.
func readApplyOutput(res sdk.ExecResult, tok string, info patchInfo) (string, error) {
	mark := "@@" + tok + " "
	var attempts []string
	var cur strings.Builder
	step := 0
	for _, line := range strings.Split(res.Output, "\n") {
		rest, ok := strings.CutPrefix(line, mark)
		if !ok {
			if step > 0 {
				cur.WriteString(line)
				cur.WriteByte('\n')
			}
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 1 && f[0] == "already" {
			return AlreadyApplied, nil
		}
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "fatal":
			return "", fmt.Errorf("%w: %s", ErrApply, strings.Join(f[1:], " "))
		case "unsafe":
			return "", fmt.Errorf("%w: %s", ErrUnsafePatch, strings.Join(f[1:], " "))
		case "out":
			idx, _ := strconv.Atoi(f[len(f)-1])
			if f[1] == "link" && idx < len(info.links) {
				l := info.links[idx]
				return "", fmt.Errorf("%w: symlink %q -> %q resolves outside the repository", ErrUnsafePatch, l.paths[len(l.paths)-1], l.target)
			}
			if idx < len(info.paths) {
				return "", fmt.Errorf("%w: %q resolves outside the repository through a symlink", ErrUnsafePatch, info.paths[idx])
			}
			return "", fmt.Errorf("%w: a path resolves outside the repository", ErrUnsafePatch)
		case "try":
			step, _ = strconv.Atoi(f[1])
			cur.Reset()
		case "applied":
			n, _ := strconv.Atoi(f[1])
			if n >= 1 && n <= len(applyMethods) {
				return applyMethods[n-1], nil
			}
			return "", nil
		case "failed":
			n, _ := strconv.Atoi(f[1])
			name := "?"
			if n >= 1 && n <= len(applyMethods) {
				name = applyMethods[n-1]
			}
			attempts = append(attempts, fmt.Sprintf("%s: %s", name, clip(strings.TrimSpace(cur.String()), 600)))
			step = 0
		}
	}
	if len(attempts) == 0 {
		return "", fmt.Errorf("%w: exit status %d: %s", ErrApply, res.ExitCode, clip(strings.TrimSpace(res.Output), 600))
	}
	return "", fmt.Errorf("%w:\n%s", ErrApply, strings.Join(attempts, "\n"))
}
