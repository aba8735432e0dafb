package gitsafe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// DefaultBranch is the branch Sanitize (when Options.Branch is empty) and
// Fresh leave HEAD on.
const DefaultBranch = "main"

// Options configure Sanitize.
type Options struct {
	// Branch is the branch HEAD is left on, pointing at base.
	// DefaultBranch when empty.
	Branch string
	// KeepOlderTags keeps the tags and branches that point at base or one
	// of its ancestors and are no newer than base: the commit's committer
	// timestamp, and an annotated tag's tagger timestamp, are not later
	// than base's committer timestamp. Timestamps are compared as integers
	// (seconds since the epoch), never as date strings, so time zones
	// cannot make a newer ref look older. Tags on trees or blobs, and tags
	// of tags, are always removed.
	KeepOlderTags bool
	// KeepUntracked leaves untracked and ignored files of the work tree in
	// place (tracked files are still reset to base). A repository shipped
	// inside a published task image keeps what its environment's set-up
	// built there (installed package metadata, compiled extensions), which
	// the tests need and no commit holds. The caller vouches that those
	// files hold nothing of the fix: Sanitize cannot tell.
	KeepUntracked bool
}

// Version names what Sanitize and Fresh leave behind. Change it with any
// change to them that changes their result (something more removed, a
// different layout): stores of sanitised checkouts (core/repo) key their
// entries by it, so a checkout made by an older sanitiser is never reused.
const Version = "gitsafe/1"

// Sanitize rewrites the repository in dir so that only base and its
// ancestors remain reachable, and nothing else can be read from .git.
//
// Afterwards HEAD is on Options.Branch at base and the work tree and index
// equal base's tree (untracked and ignored files are deleted). There are
// no remotes, remote-tracking refs, FETCH_HEAD, ORIG_HEAD or other
// pseudo-refs, no stash, notes, replace or bisect refs, no linked work
// trees, no reflogs and no other branches or tags, except older ones when
// Options.KeepOlderTags is set. .git/config is rewritten to the few core
// settings the checkout needs, hooks and leftovers of interrupted commands
// (rebase, merge, rerere, COMMIT_EDITMSG) are deleted, objects borrowed
// from alternates are copied in and the alternates dropped, and every
// object that is no longer reachable is deleted. Sanitize does not trust
// git gc for the last step: it lists every object the repository still
// holds and, if any is unreachable, rewrites the object store from the
// reachable objects alone, and fails if that does not remove them.
//
// A shallow repository stays shallow: .git/shallow is kept, reduced to the
// boundary commits that are still reachable (all of them ancestors of
// base), because deleting it would leave base's history pointing at
// missing parents.
//
// dir must be the top of a non-bare repository with a .git directory.
// Partial clones are refused, as are reftable repositories. Submodule
// repositories under .git/modules are left as they are. Sanitize is
// destructive and not atomic: after an error, discard the repository.
func Sanitize(ctx context.Context, dir, base string, opts Options) error {
	root, err := workTree(dir, false)
	if err != nil {
		return fmt.Errorf("sanitize: %w", err)
	}
	gitDir := filepath.Join(root, ".git")
	branch := opts.Branch
	if branch == "" {
		branch = DefaultBranch
	}
	if err := checkBranch(ctx, root, branch); err != nil {
		return fmt.Errorf("sanitize: %w", err)
	}
	if err := checkSupported(ctx, root); err != nil {
		return fmt.Errorf("sanitize: %w", err)
	}
	baseID, err := resolveCommit(ctx, root, base)
	if err != nil {
		return fmt.Errorf("sanitize: %w", err)
	}
	var keep []ref
	if opts.KeepOlderTags {
		if keep, err = olderRefs(ctx, root, baseID, branch); err != nil {
			return fmt.Errorf("sanitize: %w", err)
		}
	}

	steps := []struct {
		name string
		run  func() error
	}{
		{"rewrite config", func() error { return rewriteConfig(ctx, root) }},
		{"remove git state", func() error { return scrubGitDir(gitDir) }},
		{"rewrite refs", func() error { return rewriteRefs(ctx, root, branch, baseID, keep) }},
		{"check out base", func() error { return checkout(ctx, root, baseID, opts.KeepUntracked) }},
		{"expire reflogs", func() error {
			_, err := git(ctx, root, "reflog", "expire", "--expire=now", "--expire-unreachable=now", "--all")
			if err != nil {
				return err
			}
			return os.RemoveAll(filepath.Join(gitDir, "logs"))
		}},
		{"drop alternates", func() error { return dropAlternates(ctx, root) }},
		{"prune", func() error { return prune(ctx, root) }},
		{"remove unreachable objects", func() error { return removeUnreachable(ctx, root) }},
		{"trim shallow", func() error { return trimShallow(ctx, root) }},
		{"sweep object store", func() error { return sweepObjects(filepath.Join(gitDir, "objects")) }},
		// The commands above may have left files of their own (reset
		// writes ORIG_HEAD).
		{"sweep git directory", func() error { return removeExcept(gitDir, keptAtEnd) }},
		{"check result", func() error { return checkResult(ctx, root, branch, baseID, keep, opts.KeepUntracked) }},
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("sanitize: %w", err)
		}
		if err := s.run(); err != nil {
			return fmt.Errorf("sanitize: %s: %w", s.name, err)
		}
	}
	return nil
}

// ref is a reference name and the object it points at.
type ref struct{ name, id string }

func checkBranch(ctx context.Context, root, branch string) error {
	if strings.HasPrefix(branch, "-") || branch == "HEAD" {
		return fmt.Errorf("invalid branch name %q", branch)
	}
	if _, err := git(ctx, root, "check-ref-format", "refs/heads/"+branch); err != nil {
		return fmt.Errorf("invalid branch name %q: %w", branch, err)
	}
	return nil
}

// checkSupported refuses repositories Sanitize cannot make self-contained.
func checkSupported(ctx context.Context, root string) error {
	gitDir := filepath.Join(root, ".git")
	if _, err := os.Stat(filepath.Join(gitDir, "reftable")); err == nil {
		return errors.New("reftable repositories are not supported")
	}
	promisors, _ := filepath.Glob(filepath.Join(gitDir, "objects", "pack", "*.promisor"))
	if len(promisors) > 0 {
		return errors.New("partial clones are not supported: objects may be missing")
	}
	if v, err := git(ctx, root, "config", "--local", "--get", "extensions.partialClone"); err == nil && v != "" {
		return errors.New("partial clones are not supported: objects may be missing")
	}
	return nil
}

// resolveCommit returns the full id of the commit rev names.
func resolveCommit(ctx context.Context, root, rev string) (string, error) {
	id, err := git(ctx, root, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil || id == "" {
		return "", fmt.Errorf("resolve commit %q: %w", rev, orNotFound(err))
	}
	return id, nil
}

func orNotFound(err error) error {
	if err == nil {
		return errors.New("not found")
	}
	return err
}

// olderRefs lists the branches and tags to keep under KeepOlderTags: those
// whose commit is base or an ancestor of base and, by integer timestamps,
// no newer than base (see Options.KeepOlderTags).
func olderRefs(ctx context.Context, root, baseID, branch string) ([]ref, error) {
	out, err := git(ctx, root, "rev-list", "--timestamp", baseID)
	if err != nil {
		return nil, err
	}
	ancestors := map[string]int64{}
	for _, l := range lines(out) {
		ts, id, ok := strings.Cut(l, " ")
		if !ok {
			return nil, fmt.Errorf("rev-list --timestamp: unexpected line %q", l)
		}
		n, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("rev-list --timestamp: %w", err)
		}
		ancestors[id] = n
	}
	baseTime, ok := ancestors[baseID]
	if !ok {
		return nil, fmt.Errorf("rev-list %s does not list base", baseID)
	}

	out, err = git(ctx, root, "for-each-ref",
		"--format=%(refname)%00%(objecttype)%00%(objectname)%00%(*objecttype)%00%(*objectname)%00%(creatordate:unix)",
		"refs/heads", "refs/tags")
	if err != nil {
		return nil, err
	}
	var keep []ref
	for _, l := range lines(out) {
		f := strings.Split(l, "\x00")
		if len(f) != 6 {
			return nil, fmt.Errorf("for-each-ref: unexpected line %q", l)
		}
		name, typ, id, peeledType, peeled, created := f[0], f[1], f[2], f[3], f[4], f[5]
		if name == "refs/heads/"+branch {
			continue // set to base
		}
		commit := id
		switch typ {
		case "commit":
		case "tag":
			if peeledType != "commit" || strings.HasPrefix(name, "refs/heads/") {
				continue
			}
			commit = peeled
			if created != "" {
				tagTime, err := strconv.ParseInt(created, 10, 64)
				if err != nil || tagTime > baseTime {
					continue
				}
			}
		default:
			continue
		}
		if t, ok := ancestors[commit]; ok && t <= baseTime {
			keep = append(keep, ref{name: name, id: id})
		}
	}
	return keep, nil
}

// keptConfig matches the .git/config entries Sanitize keeps: what is
// needed to read the object store and check out files as before.
const keptConfig = `^(core\.(repositoryformatversion|filemode|symlinks|ignorecase|precomposeunicode)|extensions\.objectformat)$`

// rewriteConfig replaces .git/config with the entries keptConfig matches,
// dropping remotes, branch tracking, filters, hooks paths, includes,
// sparse checkout, core.worktree and anything else a repository's config
// can point at.
func rewriteConfig(ctx context.Context, root string) error {
	out, err := git(ctx, root, "config", "--local", "--null", "--get-regexp", keptConfig)
	if code, ok := exitCode(err); ok && code == 1 {
		out, err = "", nil // no entry matched
	}
	if err != nil {
		return err
	}
	gitDir := filepath.Join(root, ".git")
	tmp := filepath.Join(gitDir, "config.swelego")
	_ = os.Remove(tmp)
	set := func(key, value string) error {
		_, err := git(ctx, root, "config", "--file", tmp, key, value)
		return err
	}
	if err := set("core.bare", "false"); err != nil {
		return err
	}
	for _, entry := range strings.Split(out, "\x00") {
		key, value, _ := strings.Cut(entry, "\n")
		if key == "" {
			continue
		}
		if err := set(key, value); err != nil {
			return err
		}
	}
	return os.Rename(tmp, filepath.Join(gitDir, "config"))
}

// keptInGitDir lists the top-level entries of .git that Sanitize keeps;
// everything else (refs, packed-refs, logs, index, hooks, worktrees,
// pseudo-refs such as FETCH_HEAD and ORIG_HEAD, rebase and sequencer state,
// rr-cache, COMMIT_EDITMSG, lost-found, ...) is deleted. refs, HEAD and
// the index are written anew.
var keptInGitDir = map[string]bool{
	"config":      true,
	"objects":     true,
	"info":        true,
	"description": true,
	"modules":     true,
	"shallow":     true,
}

// keptAtEnd lists the top-level entries of .git left when Sanitize ends.
var keptAtEnd = map[string]bool{
	"HEAD":        true,
	"refs":        true,
	"packed-refs": true,
	"index":       true,
	"config":      true,
	"objects":     true,
	"info":        true,
	"description": true,
	"modules":     true,
	"shallow":     true,
}

// keptInInfo lists the entries of .git/info that are kept: grafts, refs,
// packs and sparse-checkout go.
var keptInInfo = map[string]bool{"exclude": true, "attributes": true}

// scrubGitDir deletes everything in .git that Sanitize does not keep, and
// the parts of the object store that would keep unreachable objects alive
// or list their ids (keep files, cruft-pack mtimes, multi-pack indexes,
// commit-graphs, bitmaps).
func scrubGitDir(gitDir string) error {
	if err := removeExcept(gitDir, keptInGitDir); err != nil {
		return err
	}
	if err := removeExcept(filepath.Join(gitDir, "info"), keptInInfo); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	objects := filepath.Join(gitDir, "objects")
	if err := removeExcept(filepath.Join(objects, "info"), map[string]bool{"alternates": true}); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	entries, err := os.ReadDir(filepath.Join(objects, "pack"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, e := range entries {
		switch filepath.Ext(e.Name()) {
		case ".pack", ".idx", ".rev":
			continue
		}
		if err := os.RemoveAll(filepath.Join(objects, "pack", e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// removeExcept deletes every entry of dir whose name keep does not list.
func removeExcept(dir string, keep map[string]bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if keep[e.Name()] {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// rewriteRefs writes HEAD, the branch at base and the kept refs into an
// empty refs store.
func rewriteRefs(ctx context.Context, root, branch, baseID string, keep []ref) error {
	gitDir := filepath.Join(root, ".git")
	for _, d := range []string{"refs/heads", "refs/tags"} {
		if err := os.MkdirAll(filepath.Join(gitDir, filepath.FromSlash(d)), 0o755); err != nil {
			return err
		}
	}
	head := "ref: refs/heads/" + branch + "\n"
	if err := os.WriteFile(filepath.Join(gitDir, "HEAD"), []byte(head), 0o644); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "update refs/heads/%s %s\n", branch, baseID)
	for _, r := range keep {
		fmt.Fprintf(&b, "update %s %s\n", r.name, r.id)
	}
	_, err := gitInput(ctx, root, b.String(), "update-ref", "--stdin")
	return err
}

// checkout makes the index and the work tree equal base's tree. The old
// index is already gone (it may hold resolve-undo entries or a split index
// naming other objects); the new one is read from base and refreshed so
// that unchanged files are not rewritten. Untracked and ignored files are
// deleted unless keepUntracked.
func checkout(ctx context.Context, root, baseID string, keepUntracked bool) error {
	cmds := [][]string{
		{"read-tree", baseID},
		{"update-index", "-q", "--refresh"},
		{"reset", "-q", "--hard", baseID},
	}
	if !keepUntracked {
		cmds = append(cmds, []string{"clean", "-ffdxq"})
	}
	for _, args := range cmds {
		if _, err := git(ctx, root, args...); err != nil {
			return err
		}
	}
	return nil
}

// dropAlternates copies in the reachable objects the repository borrows
// from alternate object stores, then removes the alternates.
func dropAlternates(ctx context.Context, root string) error {
	info := filepath.Join(root, ".git", "objects", "info")
	alternates := filepath.Join(info, "alternates")
	if _, err := os.Stat(alternates); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	// Without -l, repack packs reachable objects found in alternates too.
	if _, err := git(ctx, root, "-c", "repack.writeBitmaps=false", "repack", "-a", "-d", "-q"); err != nil {
		return err
	}
	return os.Remove(alternates)
}

// prune deletes unreachable objects with git gc.
func prune(ctx context.Context, root string) error {
	_, err := git(ctx, root,
		"-c", "gc.cruftPacks=false",
		"-c", "gc.bigPackThreshold=0",
		"-c", "gc.writeCommitGraph=false",
		"-c", "gc.packRefs=true",
		"-c", "gc.reflogExpire=now",
		"-c", "gc.reflogExpireUnreachable=now",
		"-c", "gc.worktreePruneExpire=now",
		"-c", "repack.writeBitmaps=false",
		"-c", "repack.packKeptObjects=true",
		"gc", "-q", "--prune=now")
	return err
}

// reachableObjects lists the objects reachable from refs, HEAD and the
// index as git rev-list prints them ("id" or "id path").
func reachableObjects(ctx context.Context, root string) ([]string, error) {
	out, err := git(ctx, root, "rev-list", "--objects", "--all", "--indexed-objects")
	if err != nil {
		return nil, err
	}
	return lines(out), nil
}

// unreachable lists the objects the repository holds that are not
// reachable.
func unreachable(ctx context.Context, root string) ([]string, error) {
	reach, err := reachableObjects(ctx, root)
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(reach))
	for _, l := range reach {
		id, _, _ := strings.Cut(l, " ")
		set[id] = true
	}
	all, err := allObjects(ctx, root)
	if err != nil {
		return nil, err
	}
	var extra []string
	for _, id := range all {
		if !set[id] {
			extra = append(extra, id)
		}
	}
	sort.Strings(extra)
	return extra, nil
}

// allObjects lists every object the repository holds, loose or packed.
func allObjects(ctx context.Context, root string) ([]string, error) {
	out, err := git(ctx, root, "cat-file", "--batch-all-objects", "--batch-check=%(objectname)")
	if err != nil {
		return nil, err
	}
	return lines(out), nil
}

// removeUnreachable checks that gc left no unreachable object behind. If
// it did, the object store is rebuilt as one pack of the reachable
// objects, and every other pack and every loose object is deleted.
func removeUnreachable(ctx context.Context, root string) error {
	extra, err := unreachable(ctx, root)
	if err != nil || len(extra) == 0 {
		return err
	}
	reach, err := reachableObjects(ctx, root)
	if err != nil {
		return err
	}
	objects := filepath.Join(root, ".git", "objects")
	packDir := filepath.Join(objects, "pack")
	old, err := os.ReadDir(packDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(packDir, 0o755); err != nil {
		return err
	}
	name, err := gitInput(ctx, root, strings.Join(reach, "\n")+"\n",
		"pack-objects", "-q", filepath.Join(packDir, "pack"))
	if err != nil {
		return err
	}
	keep := "pack-" + name + "."
	for _, e := range old {
		if !strings.HasPrefix(e.Name(), keep) {
			if err := os.RemoveAll(filepath.Join(packDir, e.Name())); err != nil {
				return err
			}
		}
	}
	// Every reachable object is in the new pack: no loose object is needed.
	entries, err := os.ReadDir(objects)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if isFanout(e.Name()) {
			if err := os.RemoveAll(filepath.Join(objects, e.Name())); err != nil {
				return err
			}
		}
	}
	if extra, err = unreachable(ctx, root); err != nil {
		return err
	}
	if len(extra) > 0 {
		return fmt.Errorf("%d unreachable objects remain after rewriting the object store, e.g. %s", len(extra), extra[0])
	}
	return nil
}

// trimShallow keeps in .git/shallow only the boundary commits the
// repository still holds; the file goes when none is left.
func trimShallow(ctx context.Context, root string) error {
	path := filepath.Join(root, ".git", "shallow")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	ids := lines(string(data))
	present, err := presentObjects(ctx, root, ids)
	if err != nil {
		return err
	}
	var kept []string
	for _, id := range ids {
		if present[id] == "commit" {
			kept = append(kept, id)
		}
	}
	if len(kept) == 0 {
		return os.Remove(path)
	}
	return os.WriteFile(path, []byte(strings.Join(kept, "\n")+"\n"), 0o644)
}

// presentObjects maps each id the repository holds to its type.
func presentObjects(ctx context.Context, root string, ids []string) (map[string]string, error) {
	found := map[string]string{}
	if len(ids) == 0 {
		return found, nil
	}
	out, err := gitInput(ctx, root, strings.Join(ids, "\n")+"\n",
		"cat-file", "--batch-check=%(objectname) %(objecttype)")
	if err != nil {
		return nil, err
	}
	for _, l := range lines(out) {
		id, typ, _ := strings.Cut(l, " ")
		if typ != "missing" && typ != "ambiguous" {
			found[id] = typ
		}
	}
	return found, nil
}

// sweepObjects deletes everything in the object store that is neither a
// loose object nor a pack with its index: temporary files of interrupted
// writes, quarantine directories, and the info directory's contents.
func sweepObjects(objects string) error {
	entries, err := os.ReadDir(objects)
	if err != nil {
		return err
	}
	for _, e := range entries {
		path := filepath.Join(objects, e.Name())
		switch {
		case e.Name() == "info" && e.IsDir():
			if err := removeExcept(path, nil); err != nil {
				return err
			}
		case e.Name() == "pack" && e.IsDir():
			files, err := os.ReadDir(path)
			if err != nil {
				return err
			}
			for _, f := range files {
				if !isPackFile(f.Name()) {
					if err := os.RemoveAll(filepath.Join(path, f.Name())); err != nil {
						return err
					}
				}
			}
		case isFanout(e.Name()) && e.IsDir():
			files, err := os.ReadDir(path)
			if err != nil {
				return err
			}
			for _, f := range files {
				if n := len(f.Name()); (n != 38 && n != 62) || !isHex(f.Name()) || !f.Type().IsRegular() {
					if err := os.RemoveAll(filepath.Join(path, f.Name())); err != nil {
						return err
					}
				}
			}
		default:
			if err := os.RemoveAll(path); err != nil {
				return err
			}
		}
	}
	return nil
}

func isFanout(name string) bool { return len(name) == 2 && isHex(name) }

func isPackFile(name string) bool {
	stem, ok := strings.CutPrefix(name, "pack-")
	if !ok {
		return false
	}
	ext := filepath.Ext(stem)
	stem = strings.TrimSuffix(stem, ext)
	return (ext == ".pack" || ext == ".idx" || ext == ".rev") && (len(stem) == 40 || len(stem) == 64) && isHex(stem)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return s != ""
}

// isObjectID reports whether s is a full SHA-1 or SHA-256 object id.
func isObjectID(s string) bool { return (len(s) == 40 || len(s) == 64) && isHex(s) }

// checkResult checks what Sanitize promises and git can tell: the refs
// are exactly the branch and the kept refs, HEAD is on the branch at base,
// every reachable object is present, and the work tree is clean (its
// tracked files only, when keepUntracked).
func checkResult(ctx context.Context, root, branch, baseID string, keep []ref, keepUntracked bool) error {
	want := map[string]string{"refs/heads/" + branch: baseID}
	for _, r := range keep {
		want[r.name] = r.id
	}
	out, err := git(ctx, root, "for-each-ref", "--format=%(refname) %(objectname)")
	if err != nil {
		return err
	}
	got := lines(out)
	if len(got) != len(want) {
		return fmt.Errorf("refs: got %d, want %d: %q", len(got), len(want), got)
	}
	for _, l := range got {
		name, id, _ := strings.Cut(l, " ")
		if want[name] != id {
			return fmt.Errorf("unexpected ref %s", l)
		}
	}
	if head, err := git(ctx, root, "symbolic-ref", "HEAD"); err != nil || head != "refs/heads/"+branch {
		return fmt.Errorf("HEAD is %q, want refs/heads/%s: %w", head, branch, orNotFound(err))
	}
	if _, err := git(ctx, root, "fsck", "--connectivity-only", "--no-dangling", "--no-progress"); err != nil {
		return err
	}
	args := []string{"status", "--porcelain", "--ignored", "--untracked-files=all"}
	if keepUntracked {
		args = []string{"status", "--porcelain", "--untracked-files=no"}
	}
	status, err := git(ctx, root, args...)
	if err != nil {
		return err
	}
	if status != "" {
		return fmt.Errorf("work tree is not clean:\n%s", status)
	}
	return nil
}
