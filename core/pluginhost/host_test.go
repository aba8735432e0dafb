package pluginhost

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swelego/swelego/sdk"
)

func TestResolve(t *testing.T) {
	dirA, dirB := t.TempDir(), t.TempDir()
	writeExe(t, filepath.Join(dirA, BinaryPrefix+"one"))
	writeExe(t, filepath.Join(dirB, BinaryPrefix+"one"))
	writeExe(t, filepath.Join(dirB, BinaryPrefix+"two"))
	writeExe(t, filepath.Join(dirB, BinaryPrefix+"echo"))
	if err := os.WriteFile(filepath.Join(dirB, BinaryPrefix+"noexec"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	recipeDir := t.TempDir()
	writeExe(t, filepath.Join(recipeDir, "bin", "mine"))

	tests := []struct {
		name    string
		plugin  string
		decl    Decl
		want    string // path suffix, or "builtin"
		wantErr error
	}{
		{name: "first folder wins", plugin: "one", want: filepath.Join(dirA, BinaryPrefix+"one")},
		{name: "later folder", plugin: "two", want: filepath.Join(dirB, BinaryPrefix+"two")},
		{name: "binary shadows builtin", plugin: "echo", want: filepath.Join(dirB, BinaryPrefix+"echo")},
		{name: "source builtin forces builtin", plugin: "echo", decl: Decl{Source: "builtin"}, want: "builtin"},
		{name: "relative path source", plugin: "x", decl: Decl{Source: "./bin/mine"}, want: filepath.Join(recipeDir, "bin", "mine")},
		{name: "source names another plugin", plugin: "alias", decl: Decl{Source: "two"}, want: filepath.Join(dirB, BinaryPrefix+"two")},
		{name: "not executable", plugin: "noexec", wantErr: ErrNotFound},
		{name: "missing", plugin: "nope", wantErr: ErrNotFound},
		{name: "missing path", plugin: "x", decl: Decl{Source: "./bin/nothere"}, wantErr: ErrNotFound},
		{name: "builtin not built in", plugin: "two", decl: Decl{Source: "builtin"}, wantErr: ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHost(t, Options{Dir: recipeDir, SearchPath: []string{dirA, dirB}, Decls: map[string]Decl{tt.plugin: tt.decl}})
			loc, err := h.Locate(tt.plugin)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := loc.Path
			if loc.Builtin {
				got = "builtin"
			}
			if got != tt.want {
				t.Errorf("resolved to %s, want %s", got, tt.want)
			}
		})
	}
}

func TestNotFoundNamesSearchPath(t *testing.T) {
	dir := t.TempDir()
	h := newTestHost(t, Options{SearchPath: []string{dir}})
	_, err := h.Info(context.Background(), "nope")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "swelego-plugin-nope") {
		t.Fatalf("err = %v", err)
	}
}

func TestDefaultSearchPath(t *testing.T) {
	env := map[string]string{"SWELEGO_PLUGIN_PATH": "/a:/b", "HOME": "/home/u"}
	got := DefaultSearchPath(func(k string) string { return env[k] }, "/r")
	want := []string{"/a", "/b", "/r/.swelego/plugins", "/home/u/.local/share/swelego/plugins"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got %v, want %v", got, want)
	}
	env["XDG_DATA_HOME"] = "/data"
	got = DefaultSearchPath(func(k string) string { return env[k] }, "/r")
	if got[len(got)-1] != "/data/swelego/plugins" {
		t.Fatalf("XDG_DATA_HOME ignored: %v", got)
	}
}

func TestOutOfProcessCalls(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Options{})
	info, err := h.Info(ctx, "crashy")
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "crashy" || !info.Serves(sdk.KindVerifier) || !info.Serves(sdk.KindTaskSource) {
		t.Fatalf("info = %+v", info)
	}
	s, err := h.ConfigSchema(ctx, "crashy", sdk.KindTaskSource)
	if err != nil || !s.Attributes["count"].Required {
		t.Fatalf("schema = %+v, %v", s, err)
	}
	if _, err := h.ToolSet(ctx, "crashy"); !errors.Is(err, ErrKind) {
		t.Fatalf("tool set of a verifier: err = %v, want ErrKind", err)
	}
	v, err := h.Verifier(ctx, "crashy")
	if err != nil {
		t.Fatal(err)
	}
	score, err := v.Verify(ctx, sdk.VerifyRequest{Task: sdk.Task{InstanceID: "ok"}, Patch: strings.Repeat("p", 50)})
	if err != nil || score.Value != 0.5 {
		t.Fatalf("score = %+v, %v", score, err)
	}
	_, err = v.Verify(ctx, sdk.VerifyRequest{Task: sdk.Task{InstanceID: "fail-1"}})
	if err == nil || errors.Is(err, ErrCrashed) || !strings.Contains(err.Error(), "refusing fail-1") {
		t.Fatalf("plugin error: %v", err)
	}
}

func TestLogParserOutOfProcess(t *testing.T) {
	h := newTestHost(t, Options{})
	p, err := h.LogParser(context.Background(), "crashy")
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.ParseLog(context.Background(), nil, "1..3\nok t/a.t 1\nnot ok t/b.t 2\nok t/c.t 3 # SKIP\n")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]sdk.TestStatus{"t/a.t 1": sdk.TestPassed, "t/b.t 2": sdk.TestFailed, "t/c.t 3": sdk.TestSkipped}
	if len(got) != len(want) {
		t.Fatalf("parsed %v, want %v", got, want)
	}
	for id, st := range want {
		if got[id] != st {
			t.Errorf("%s: %s, want %s", id, got[id], st)
		}
	}
}

func TestBuiltinServedByReexec(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Options{SearchPath: []string{}})
	loc, err := h.Locate("echo")
	if err != nil || !loc.Builtin {
		t.Fatalf("loc = %+v, %v", loc, err)
	}
	v, err := h.Verifier(ctx, "echo")
	if err != nil {
		t.Fatal(err)
	}
	score, err := v.Verify(ctx, sdk.VerifyRequest{Task: sdk.Task{InstanceID: "abc"}, Patch: "xyz"})
	if err != nil || score.Value != 3 || score.Label != "abc" {
		t.Fatalf("score = %+v, %v", score, err)
	}
	p, _ := h.process("echo")
	if pid := p.raw.ReattachConfig().Pid; pid == os.Getpid() {
		t.Fatal("built-in plugin ran in the host's process")
	}
}

// TestBuiltinAlias serves a built-in plugin under another name: plugin
// "judge" { source = "echo" } runs the built-in echo, whose identity is
// echo's.
func TestBuiltinAlias(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Options{SearchPath: []string{}, Decls: map[string]Decl{"judge": {Source: "echo"}}})
	v, err := h.Verifier(ctx, "judge")
	if err != nil {
		t.Fatal(err)
	}
	score, err := v.Verify(ctx, sdk.VerifyRequest{Task: sdk.Task{InstanceID: "abc"}, Patch: "xyz"})
	if err != nil || score.Value != 3 {
		t.Fatalf("score = %+v, %v", score, err)
	}
	if id, err := h.Identity("judge"); err != nil || id != "builtin:echo" {
		t.Errorf("Identity = %q, %v; want builtin:echo", id, err)
	}
}

func TestPluginFailuresFailOneCall(t *testing.T) {
	tests := []struct {
		trigger     string
		wantCrashed bool // the process died and a new one serves the next call
		wantText    string
	}{
		// The sdk recovers a panic in a call: that call fails, the process lives on.
		{trigger: "panic-1", wantText: "panic: crashy: asked to panic on panic-1"},
		{trigger: "exit-1", wantCrashed: true, wantText: "crashed"},
	}
	for _, tt := range tests {
		t.Run(tt.trigger, func(t *testing.T) {
			ctx := context.Background()
			h := newTestHost(t, Options{})
			v, err := h.Verifier(ctx, "crashy")
			if err != nil {
				t.Fatal(err)
			}
			first, err := v.Verify(ctx, sdk.VerifyRequest{Task: sdk.Task{InstanceID: "a"}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(ctx, sdk.VerifyRequest{Task: sdk.Task{InstanceID: tt.trigger}})
			if err == nil || errors.Is(err, ErrCrashed) != tt.wantCrashed || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("err = %v, want crashed=%v and %q", err, tt.wantCrashed, tt.wantText)
			}
			after, err := v.Verify(ctx, sdk.VerifyRequest{Task: sdk.Task{InstanceID: "b"}})
			if err != nil {
				t.Fatalf("call after the failure: %v", err)
			}
			if restarted := first.Label != after.Label; restarted != tt.wantCrashed {
				t.Fatalf("process before %s, after %s; want restarted=%v", first.Label, after.Label, tt.wantCrashed)
			}
		})
	}
}

func TestProtocolMismatch(t *testing.T) {
	h := newTestHost(t, Options{})
	_, err := h.Info(context.Background(), "oldproto")
	if !errors.Is(err, ErrProtocolMismatch) {
		t.Fatalf("err = %v, want ErrProtocolMismatch", err)
	}
	for _, want := range []string{"version 99", "version 1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestVersionConstraint(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Options{Decls: map[string]Decl{"crashy": {Version: ">= 1.0"}}})
	if _, err := h.Info(ctx, "crashy"); !errors.Is(err, ErrVersion) || !strings.Contains(err.Error(), "0.3.0") {
		t.Fatalf("err = %v, want ErrVersion naming 0.3.0", err)
	}
	h = newTestHost(t, Options{Decls: map[string]Decl{"crashy": {Version: "~> 0.3"}}})
	if _, err := h.Info(ctx, "crashy"); err != nil {
		t.Fatal(err)
	}
}

func TestLockFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	bin := filepath.Join(dir, BinaryPrefix+"crashy")
	copyFile(t, filepath.Join(testBin, BinaryPrefix+"crashy"), bin)
	lockPath := filepath.Join(dir, LockFileName)
	open := func(update bool) *Host {
		lock, err := ReadLock(lockPath)
		if err != nil {
			t.Fatal(err)
		}
		return newTestHost(t, Options{SearchPath: []string{dir}, Lock: lock, UpdateLock: update})
	}
	if _, err := open(false).Info(ctx, "crashy"); err != nil {
		t.Fatal(err)
	}
	lock, err := ReadLock(lockPath)
	if err != nil || len(lock.Plugins["crashy"].SHA256) != 64 || lock.Plugins["crashy"].Version != "0.3.0" {
		t.Fatalf("lock after first use = %+v, %v", lock.Plugins, err)
	}
	// A different binary at the same place is refused before it runs.
	copyFile(t, filepath.Join(testBin, BinaryPrefix+"oldproto"), bin)
	if _, err := open(false).Info(ctx, "crashy"); !errors.Is(err, ErrChecksumMismatch) {
		t.Fatalf("err = %v, want ErrChecksumMismatch", err)
	}
	// --update re-records it (the binary then fails on its protocol, which
	// shows it ran).
	if _, err := open(true).Info(ctx, "crashy"); !errors.Is(err, ErrProtocolMismatch) {
		t.Fatalf("after update: err = %v, want ErrProtocolMismatch", err)
	}
}

func TestCloseKillsPlugins(t *testing.T) {
	ctx := context.Background()
	h := newTestHost(t, Options{})
	if _, err := h.Info(ctx, "crashy"); err != nil {
		t.Fatal(err)
	}
	p, _ := h.process("crashy")
	pid := p.raw.ReattachConfig().Pid
	h.Close()
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("plugin process %d still alive after Close", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := h.Info(ctx, "crashy"); err == nil {
		t.Fatal("a closed host started a plugin")
	}
}

func writeExe(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(to)
	if err := os.WriteFile(to, data, 0o755); err != nil {
		t.Fatal(err)
	}
}
