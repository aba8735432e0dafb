package swetools

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/swelego/swelego/sdk"
)

// editorScript is the sandbox side of str_replace_editor.
//
//go:embed scripts/editor.sh
var editorScript string

// snippetLines is how many lines around an edit its snippet shows.
const snippetLines = 4

// target is a path the editor works on, as the sandbox resolved it.
type target struct {
	path string // as the model gave it
	real string // symbolic links resolved
	kind string // file | dir | other | missing
	key  string // names its undo history
	last string // its newest history entry ("3 data"), if any
	list clipped
}

func (c Config) editsDir() string { return path.Join(c.StateDir, "edits") }

// editorExec runs editor.sh with the given variables.
func editorExec(ctx context.Context, sb sdk.Sandbox, c Config, vars map[string]string) (map[string]string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "ROOT=%s E=%s LIMIT=%d\n", quote(c.Root), quote(c.editsDir()), c.MaxOutput)
	for _, k := range []string{"ACT", "P", "T", "KEY", "KIND", "LIST"} {
		fmt.Fprintf(&b, "%s=%s\n", k, quote(vars[k]))
	}
	b.WriteString(editorScript)
	res, err := sb.Exec(ctx, b.String(), 2*time.Minute)
	if err != nil {
		return nil, fmt.Errorf("swetools: exec: %w", err)
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("swetools: the editor helper failed in the sandbox (exit code %d): %s",
			res.ExitCode, strings.TrimSpace(clean(firstN(res.Output, 2000))))
	}
	return parseKV(res.Output), nil
}

// parseKV reads key=value lines; a later key wins.
func parseKV(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(strings.TrimRight(line, "\r"), "="); ok {
			m[k] = v
		}
	}
	return m
}

func unb64(s string) string {
	b, _ := base64.StdEncoding.DecodeString(s)
	return string(b)
}

// within reports whether p is root or below it.
func within(p, root string) bool {
	return p == root || root == "/" || strings.HasPrefix(p, root+"/")
}

// resolve checks the path the model gave and resolves it in the sandbox.
// A non-empty msg is an observation refusing it.
func resolve(ctx context.Context, sb sdk.Sandbox, c Config, p string, list bool) (t target, msg string, err error) {
	switch {
	case p == "":
		return t, "Error: path is empty. Give the absolute path of a file or directory, e.g. " + c.Root + "/README.md.", nil
	case strings.ContainsAny(p, "\x00\n\r"):
		return t, fmt.Sprintf("Error: the path %q contains a control character.", p), nil
	case !path.IsAbs(p):
		return t, fmt.Sprintf("Error: the path %q is not absolute. Use an absolute path, e.g. %s.", p, path.Join(c.Root, p)), nil
	}
	if clean := path.Clean(p); !within(clean, c.Root) {
		return t, fmt.Sprintf("Error: %s is outside the repository %s; the editor only works on files inside it.", p, c.Root), nil
	}
	l := ""
	if list {
		l = "1"
	}
	kv, err := editorExec(ctx, sb, c, map[string]string{"ACT": "inspect", "P": p, "LIST": l})
	if err != nil {
		return t, "", err
	}
	if bad, ok := kv["bad"]; ok {
		return t, fmt.Sprintf("Error: %s cannot be resolved: %s", p, strings.TrimSpace(clean(unb64(bad)))), nil
	}
	root, real := unb64(kv["root"]), unb64(kv["real"])
	if real == "" || root == "" {
		return t, "", fmt.Errorf("swetools: the editor helper printed no path for %s", p)
	}
	if !within(real, root) {
		return t, fmt.Sprintf("Error: %s resolves to %s (through a symbolic link), which is outside the repository %s; the editor only works on files inside it.", p, real, c.Root), nil
	}
	t = target{path: p, real: real, kind: kv["kind"], key: kv["key"], last: kv["last"]}
	if t.key == "" || strings.Trim(t.key, "0123456789abcdef") != "" {
		return t, "", fmt.Errorf("swetools: the editor helper printed a bad history key for %s", p)
	}
	if list && t.kind == "dir" {
		n, _ := strconv.ParseInt(kv["total"], 10, 64)
		t.list = clipped{Head: []byte(unb64(kv["head"])), Tail: []byte(unb64(kv["tail"])), Total: n}
	}
	return t, "", nil
}

// edit runs str_replace_editor.
func edit(ctx context.Context, sb sdk.Sandbox, c Config, a callArgs) (sdk.ToolResult, error) {
	command := a.strs["command"]
	need := map[string][]string{
		cmdCreate:     {"file_text"},
		cmdStrReplace: {"old_str"},
		cmdInsert:     {"insert_line", "new_str"},
	}
	for _, p := range need[command] {
		if !a.has(p) {
			return failure("Error: the parameter %q is required for the %s command.", p, command), nil
		}
	}
	if _, ok := a.lists["view_range"]; ok && command != cmdView {
		return failure("Error: view_range only works with the view command."), nil
	}
	t, msg, err := resolve(ctx, sb, c, a.strs["path"], command == cmdView)
	if err != nil || msg != "" {
		return failure("%s", msg), err
	}
	switch command {
	case cmdView:
		return view(ctx, sb, c, t, a)
	case cmdCreate:
		return create(ctx, sb, c, t, a.strs["file_text"])
	case cmdUndo:
		return undo(ctx, sb, c, t)
	}
	// str_replace and insert change an existing text file.
	content, res, err := readText(ctx, sb, t)
	if res != nil || err != nil {
		return deref(res), err
	}
	var updated string
	var first, count int // the lines to show afterwards
	if command == cmdStrReplace {
		updated, first, count, msg = replace(content, t.path, a.strs["old_str"], a.strs["new_str"])
	} else {
		updated, first, count, msg = insert(content, t.path, a.ints["insert_line"], a.strs["new_str"])
	}
	if msg != "" {
		return failure("%s", msg), nil
	}
	if res, err := save(ctx, sb, c, t, updated); res != nil || err != nil {
		return deref(res), err
	}
	lines, _ := splitLines(updated)
	from := max(first-snippetLines, 1)
	to := min(first+count-1+snippetLines, len(lines))
	var snippet []string
	if from <= to {
		snippet = lines[from-1 : to]
	}
	text, truncated := clip(numbered(snippet, from), c.MaxOutput).text()
	if len(lines) == 0 {
		text = "(the file is now empty)\n"
	}
	return sdk.ToolResult{
		Output: fmt.Sprintf("The file %s has been edited. Here is the result of running `cat -n` on a snippet of it:\n%s"+
			"Review the changes and make sure they are as expected; edit the file again if they are not.", t.path, text),
		Truncated: truncated,
	}, nil
}

func deref(r *sdk.ToolResult) sdk.ToolResult {
	if r == nil {
		return sdk.ToolResult{}
	}
	return *r
}

// readText reads an existing text file; a non-nil result refuses it.
func readText(ctx context.Context, sb sdk.Sandbox, t target) (string, *sdk.ToolResult, error) {
	switch t.kind {
	case "missing":
		r := failure("Error: %s does not exist. Use the create command to make a new file.", t.path)
		return "", &r, nil
	case "dir":
		r := failure("Error: %s is a directory; only the view command works on directories.", t.path)
		return "", &r, nil
	case "other":
		r := failure("Error: %s is not a regular file.", t.path)
		return "", &r, nil
	}
	data, err := sb.ReadFile(ctx, t.real)
	if err != nil {
		if ctx.Err() != nil {
			return "", nil, fmt.Errorf("swetools: read %s: %w", t.path, err)
		}
		r := failure("Error: %s cannot be read: %v", t.path, err)
		return "", &r, nil
	}
	if bytes.IndexByte(data[:min(len(data), 8192)], 0) >= 0 {
		r := failure("Error: %s looks like a binary file; the editor only works on text files.", t.path)
		return "", &r, nil
	}
	return string(data), nil, nil
}

// save records the file's current state in its undo history, then writes
// content through the sandbox.
func save(ctx context.Context, sb sdk.Sandbox, c Config, t target, content string) (*sdk.ToolResult, error) {
	kind := "file"
	if t.kind == "missing" {
		kind = "missing"
	}
	kv, err := editorExec(ctx, sb, c, map[string]string{"ACT": "push", "T": t.real, "KEY": t.key, "KIND": kind})
	if err != nil {
		return nil, err
	}
	if kv["pushed"] == "" {
		r := failure("Error: the undo history of %s could not be recorded in %s, so the file was not changed.", t.path, c.editsDir())
		return &r, nil
	}
	if err := sb.WriteFile(ctx, t.real, []byte(content)); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("swetools: write %s: %w", t.path, err)
		}
		// Drop the history entry of the edit that did not happen.
		if _, perr := editorExec(ctx, sb, c, map[string]string{"ACT": "pop", "KEY": t.key}); perr != nil {
			return nil, perr
		}
		r := failure("Error: %s could not be written: %v", t.path, err)
		return &r, nil
	}
	return nil, nil
}

func view(ctx context.Context, sb sdk.Sandbox, c Config, t target, a callArgs) (sdk.ToolResult, error) {
	vr, hasRange := a.lists["view_range"]
	if t.kind == "dir" {
		if hasRange {
			return failure("Error: view_range only works when viewing a file; %s is a directory.", t.path), nil
		}
		text, truncated := t.list.text()
		return sdk.ToolResult{
			Output:    fmt.Sprintf("Here are the files and directories up to 2 levels deep in %s, hidden ones left out:\n%s", t.path, strings.TrimRight(text, "\n")),
			Truncated: truncated,
		}, nil
	}
	content, res, err := readText(ctx, sb, t)
	if res != nil || err != nil {
		return deref(res), err
	}
	lines, _ := splitLines(content)
	first, last := 1, len(lines)
	note := ""
	if hasRange {
		if len(vr) != 2 {
			return failure("Error: view_range must hold two numbers, [first, last]; got %d.", len(vr)), nil
		}
		first, last = vr[0], vr[1]
		switch {
		case len(lines) == 0:
			return failure("Error: %s is empty, so view_range cannot select lines; view it without view_range.", t.path), nil
		case first < 1 || first > len(lines):
			return failure("Error: the first line of view_range, %d, is out of range: %s has %d lines, so it must be between 1 and %d.", first, t.path, len(lines), len(lines)), nil
		case last == -1:
			last = len(lines)
		case last < first:
			return failure("Error: the last line of view_range, %d, comes before its first line, %d; use -1 to view to the end of the file.", last, first), nil
		case last > len(lines):
			note = fmt.Sprintf("[%s has only %d lines; showing lines %d to %d.]\n", t.path, len(lines), first, len(lines))
			last = len(lines)
		}
	}
	body := ""
	if len(lines) > 0 {
		body = numbered(lines[first-1:last], first)
	}
	text, truncated := clip(body, c.MaxOutput).text()
	out := fmt.Sprintf("Here is the result of running `cat -n` on %s:\n%s%s", t.path, note, strings.TrimRight(text, "\n"))
	if len(lines) == 0 {
		out = fmt.Sprintf("%s is empty.", t.path)
	}
	if truncated {
		out += "\n[The file is too long to show in full; use view_range to see a part of it, or grep -n to find lines.]"
	}
	return sdk.ToolResult{Output: out, Truncated: truncated}, nil
}

func create(ctx context.Context, sb sdk.Sandbox, c Config, t target, text string) (sdk.ToolResult, error) {
	switch t.kind {
	case "file", "other":
		return failure("Error: %s already exists; create never overwrites a file. Use str_replace or insert to change it, or view to read it.", t.path), nil
	case "dir":
		return failure("Error: %s is a directory; create needs the path of a new file.", t.path), nil
	}
	if res, err := save(ctx, sb, c, t, text); res != nil || err != nil {
		return deref(res), err
	}
	lines, _ := splitLines(text)
	return sdk.ToolResult{Output: fmt.Sprintf("File created successfully at %s (%d lines).", t.path, len(lines))}, nil
}

func undo(ctx context.Context, sb sdk.Sandbox, c Config, t target) (sdk.ToolResult, error) {
	n, kind, _ := strings.Cut(t.last, " ")
	switch {
	case n == "":
		return failure("Error: there is no edit of %s to undo.", t.path), nil
	case kind == "absent":
		// The last edit created the file: undoing it removes the file.
		kv, err := editorExec(ctx, sb, c, map[string]string{"ACT": "remove", "T": t.real, "KEY": t.key})
		if err != nil {
			return sdk.ToolResult{}, err
		}
		if kv["popped"] == "" {
			return failure("Error: %s could not be removed to undo its creation.", t.path), nil
		}
		return sdk.ToolResult{Output: fmt.Sprintf("Last edit of %s undone: it had created the file, so the file is removed.", t.path)}, nil
	}
	if t.kind == "dir" || t.kind == "other" {
		return failure("Error: %s is no longer a regular file, so its last edit cannot be undone.", t.path), nil
	}
	data, err := sb.ReadFile(ctx, path.Join(c.editsDir(), t.key, n+".data"))
	if err != nil {
		if ctx.Err() != nil {
			return sdk.ToolResult{}, fmt.Errorf("swetools: read the undo history of %s: %w", t.path, err)
		}
		return failure("Error: the undo history of %s cannot be read (%v), so the edit cannot be undone.", t.path, err), nil
	}
	if err := sb.WriteFile(ctx, t.real, data); err != nil {
		if ctx.Err() != nil {
			return sdk.ToolResult{}, fmt.Errorf("swetools: write %s: %w", t.path, err)
		}
		return failure("Error: %s could not be written: %v", t.path, err), nil
	}
	if _, err := editorExec(ctx, sb, c, map[string]string{"ACT": "pop", "KEY": t.key}); err != nil {
		return sdk.ToolResult{}, err
	}
	lines, _ := splitLines(string(data))
	text, truncated := clip(numbered(lines, 1), c.MaxOutput).text()
	if len(lines) == 0 {
		text = "(the file is now empty)"
	}
	return sdk.ToolResult{
		Output:    fmt.Sprintf("Last edit of %s undone. Here is the result of running `cat -n` on it now:\n%s", t.path, strings.TrimRight(text, "\n")),
		Truncated: truncated,
	}, nil
}

// replace replaces the one occurrence of old in content. first and count
// are the lines of the replacement in the result; a non-empty msg refuses
// the edit.
func replace(content, p, old, new string) (updated string, first, count int, msg string) {
	if old == "" {
		return "", 0, 0, "Error: old_str is empty; give the exact text to replace, with enough lines around it to occur only once."
	}
	if old == new {
		return "", 0, 0, "Error: old_str and new_str are the same, so there is nothing to change."
	}
	at := occurrences(content, old)
	switch len(at) {
	case 0:
		msg := fmt.Sprintf("Error: no replacement was made: old_str does not occur verbatim in %s.", p)
		if squash(content) != "" && strings.Contains(squash(content), squash(old)) {
			msg += " It would match if whitespace were ignored: check its indentation and line breaks, and copy them exactly."
		} else {
			msg += " Check it against the file's current content (view it first)."
		}
		return "", 0, 0, msg
	case 1:
	default:
		var ls []string
		for _, i := range at {
			ls = append(ls, strconv.Itoa(lineOf(content, i)))
		}
		return "", 0, 0, fmt.Sprintf("Error: no replacement was made: old_str occurs %d times in %s, at lines %s. Include more lines around it so that it occurs only once.",
			len(at), p, strings.Join(ls, ", "))
	}
	updated = content[:at[0]] + new + content[at[0]+len(old):]
	first = lineOf(content, at[0])
	return updated, first, strings.Count(new, "\n") + 1, ""
}

// occurrences lists the offsets where old occurs in s, overlapping ones
// included (a replacement must be unambiguous).
func occurrences(s, old string) []int {
	var at []int
	for i := 0; i <= len(s); {
		j := strings.Index(s[i:], old)
		if j < 0 {
			break
		}
		at = append(at, i+j)
		i += j + 1
	}
	return at
}

// lineOf is the 1-based line of byte offset i of s.
func lineOf(s string, i int) int { return strings.Count(s[:i], "\n") + 1 }

// squash drops all whitespace, to tell a whitespace-only mismatch.
func squash(s string) string { return strings.Join(strings.Fields(s), "") }

// insert puts text after line n of content (0: at the top). A final "\n"
// of text is the end of its last line, not an extra empty line.
func insert(content, p string, n int, text string) (updated string, first, count int, msg string) {
	lines, final := splitLines(content)
	if n < 0 || n > len(lines) {
		return "", 0, 0, fmt.Sprintf("Error: insert_line %d is out of range: %s has %d lines, so it must be between 0 and %d.", n, p, len(lines), len(lines))
	}
	add := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	out := make([]string, 0, len(lines)+len(add))
	out = append(append(append(out, lines[:n]...), add...), lines[n:]...)
	if n == len(lines) && (strings.HasSuffix(text, "\n") || add[len(add)-1] == "") {
		final = true // the inserted lines end the file, with their line end
	}
	return joinLines(out, final), n + 1, len(add), ""
}
