package swetools

import (
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseArgs feeds the argument parser what a model may send: it must
// never panic, and a call it accepts has every required parameter.
func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{
		`{"command": "ls", "is_input": "true", "timeout": 3}`,
		`{"command": "view", "path": "/testbed/a.py", "view_range": [1, -1]}`,
		`{"command": "insert", "path": "/testbed/a.py", "insert_line": "2", "new_str": "x"}`,
		`{"command": "view", "path": "/x", "view_range": "[1, 2]"}`,
		`{"thought": null}`, `[]`, `{`, ``, `{"timeout": 1e400}`, `{"insert_line": -0.0}`,
	} {
		for _, tool := range []string{ToolExecuteBash, ToolEditor, ToolThink, ToolFinish} {
			f.Add(tool, s)
		}
	}
	f.Fuzz(func(t *testing.T, tool, text string) {
		spec, ok := specs[tool]
		if !ok {
			return
		}
		a, msg := parseArgs(spec, text)
		if msg != "" {
			if !strings.HasPrefix(msg, "Error: ") {
				t.Fatalf("message %q", msg)
			}
			return
		}
		for _, p := range spec.params {
			if p.required && !a.has(p.name) {
				t.Fatalf("accepted without %s: %q", p.name, text)
			}
		}
	})
}

// FuzzShellReport feeds the reader of the shell helper's report (which an
// agent can influence by writing into the session's folder): it must never
// panic, and what it renders is valid UTF-8 within the output limit.
func FuzzShellReport(f *testing.F) {
	b := base64.StdEncoding.EncodeToString
	f.Add("mode=persistent\nstate=done\nexit=0\ncwd=" + b([]byte("/testbed")) + "\ntotal=3\nhead=" + b([]byte("hi\n")))
	f.Add("mode=reaped\nstate=done\nexit=130\nstopped=1\ntotal=100000\nhead=" + b([]byte("\xe2\x82")) + "\ntail=" + b([]byte("\xac end")))
	f.Add("state=running\nelapsed=x\ntotal=-5\nprev_exit=9999999999999999999999")
	f.Add("refused=busy\nstate=running\nelapsed=12")
	f.Add("state=idle\nfail=")
	f.Fuzz(func(t *testing.T, out string) {
		r := parseShellReport(out)
		for _, act := range []string{"start", "poll", "input", "interrupt", "eof"} {
			res := bashObservation(shellCall{act: act, idle: 30e9, wall: 600e9, limit: 1000}, Config{MaxTimeout: 600}, r)
			if !utf8.ValidString(res.Output) {
				t.Fatalf("invalid UTF-8 from %q", out)
			}
		}
	})
}

// FuzzEdit checks str_replace and insert on arbitrary text: a replacement
// that succeeds changes exactly the one occurrence, and an insertion adds
// exactly the inserted lines.
func FuzzEdit(f *testing.F) {
	f.Add("a\nb\nc\n", "b", "B\nB", 1)
	f.Add("", "", "x\n", 0)
	f.Add("x\r\ny", "\r\n", "\n", 2)
	f.Add("aaa", "aa", "b", 3)
	f.Fuzz(func(t *testing.T, content, old, new string, n int) {
		updated, first, count, msg := replace(content, "/f", old, new)
		if msg == "" {
			if strings.Count(content, old) != 1 || updated != strings.Replace(content, old, new, 1) {
				t.Fatalf("replace %q by %q in %q gave %q", old, new, content, updated)
			}
			if first < 1 || count < 1 {
				t.Fatalf("snippet lines %d+%d", first, count)
			}
		}
		updated, _, count, msg = insert(content, "/f", n, new)
		lines, _ := splitLines(content)
		if msg != "" {
			if n >= 0 && n <= len(lines) {
				t.Fatalf("insert at %d of %d lines refused: %s", n, len(lines), msg)
			}
			return
		}
		after, _ := splitLines(updated)
		if len(after) != len(lines)+count {
			t.Fatalf("insert %q at %d into %q: %d lines, want %d+%d", new, n, content, len(after), len(lines), count)
		}
	})
}

// FuzzClip checks that clipped output is valid UTF-8 and says what it
// left out.
func FuzzClip(f *testing.F) {
	f.Add(strings.Repeat("é", 500), 201)
	f.Add("\x1b[31mred\x1b[0m\r\n", 200)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 2 || limit > 1<<20 {
			return
		}
		text, truncated := clip(s, limit).text()
		if !utf8.ValidString(text) {
			t.Fatalf("invalid UTF-8: %q", text)
		}
		if truncated != (len(s) > limit) {
			t.Fatalf("truncated %v for %d bytes at limit %d", truncated, len(s), limit)
		}
	})
}
