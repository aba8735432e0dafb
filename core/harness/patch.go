package harness

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/swelego/swelego/core/diff"
	"github.com/swelego/swelego/sdk"
)

// CheckPatch parses a unified or git diff and returns the repository paths
// it touches (old and new names, -p1 stripped, sorted); it is diff.Check,
// whose errors wrap ErrNotPatch or ErrUnsafePatch. CheckPatch looks at the
// text only; ApplyPatch also resolves the paths inside the sandbox.
func CheckPatch(patch string) ([]string, error) {
	info, err := diff.Check(patch)
	if err != nil {
		return nil, err
	}
	return info.Paths, nil
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
	info, err := diff.Check(patch)
	if err != nil {
		return "", err
	}
	tok := NewNonce()[:16]
	base := scratch + "patch-" + tok
	var list bytes.Buffer
	for _, p := range info.Paths {
		list.WriteString(p)
		list.WriteByte(0)
	}
	var links bytes.Buffer
	for _, l := range info.Links {
		// Not path.Join: realpath must see the ".." after any symlink.
		links.WriteString(path.Dir(l.Path) + "/" + l.Target)
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
func readApplyOutput(res sdk.ExecResult, tok string, info diff.Checked) (string, error) {
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
			if f[1] == "link" && idx < len(info.Links) {
				l := info.Links[idx]
				return "", fmt.Errorf("%w: symlink %q -> %q resolves outside the repository", ErrUnsafePatch, l.Path, l.Target)
			}
			if idx < len(info.Paths) {
				return "", fmt.Errorf("%w: %q resolves outside the repository through a symlink", ErrUnsafePatch, info.Paths[idx])
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
