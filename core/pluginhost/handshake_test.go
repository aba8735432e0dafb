package pluginhost

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// TestHandshakeFailures starts plugin binaries that never complete the
// go-plugin handshake: each call fails within the start timeout with one
// line saying what was started and what was expected, go-plugin's own
// lines about the process stay out of the log, the process and what it
// started are killed, and the next call fails at once without starting it
// again.
func TestHandshakeFailures(t *testing.T) {
	const timeout = 2 * time.Second
	tests := []struct {
		name   string
		script string
		want   string // DIR stands for the plugin's folder
	}{
		{
			name:   "sleeps",
			script: "sleep 600 & echo $! > child.pid\nwait\n",
			want:   "plugin sleeps (DIR/swelego-plugin-sleeps) did not complete the handshake within 2s: expected a line like 1|1|unix|/tmp/plugin…|grpc on stdout, got nothing",
		},
		{
			name:   "garbage",
			script: "echo 'starting the server on port 8080'\nsleep 600 & echo $! > child.pid\nwait\n",
			want:   `plugin garbage (DIR/swelego-plugin-garbage) did not complete the handshake (nothing may be printed on stdout before it): expected a line like 1|1|unix|/tmp/plugin…|grpc on stdout, got "starting the server on port 8080"`,
		},
		{
			name:   "blank",
			script: "echo\nsleep 600 & echo $! > child.pid\nwait\n",
			want:   `plugin blank (DIR/swelego-plugin-blank) did not complete the handshake (nothing may be printed on stdout before it): expected a line like 1|1|unix|/tmp/plugin…|grpc on stdout, got an empty line`,
		},
		{
			name:   "exits",
			script: "echo 'missing configuration file /etc/exits.conf' >&2\nexit 3\n",
			want:   `plugin exits (DIR/swelego-plugin-exits) did not complete the handshake before it exited (exit status 3): expected a line like 1|1|unix|/tmp/plugin…|grpc on stdout, got nothing; stderr: "missing configuration file /etc/exits.conf"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bin, dir := t.TempDir(), t.TempDir()
			script := filepath.Join(bin, BinaryPrefix+tt.name)
			if err := os.WriteFile(script, []byte("#!/bin/sh\n"+tt.script), 0o755); err != nil {
				t.Fatal(err)
			}
			var log bytes.Buffer
			logger := hclog.New(&hclog.LoggerOptions{Name: "swelego", Level: hclog.Warn, Output: &log})
			h := newTestHost(t, Options{SearchPath: []string{bin}, Dir: dir, StartTimeout: timeout, Logger: logger})
			start := time.Now()
			_, err := h.Info(context.Background(), tt.name)
			took := time.Since(start)
			if !errors.Is(err, ErrHandshake) {
				t.Fatalf("err = %v, want ErrHandshake", err)
			}
			if got := strings.ReplaceAll(err.Error(), bin, "DIR"); got != tt.want {
				t.Errorf("error:\n%s\nwant:\n%s", got, tt.want)
			}
			if took > timeout+5*time.Second {
				t.Errorf("failed after %s; the start timeout is %s", took, timeout)
			}
			start = time.Now()
			_, err2 := h.Info(context.Background(), tt.name)
			if err2 == nil || err2.Error() != err.Error() || time.Since(start) > time.Second {
				t.Errorf("second call: %v after %s; want the same error at once", err2, time.Since(start))
			}
			time.Sleep(200 * time.Millisecond) // go-plugin logs the exit from a goroutine
			if log.Len() > 0 {
				t.Errorf("go-plugin's lines reached the log:\n%s", log.String())
			}
			if data, err := os.ReadFile(filepath.Join(dir, "child.pid")); err == nil {
				pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
				waitGone(t, pid)
			}
		})
	}
}

// waitGone fails unless process pid is gone (or a zombie) within 5 s.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			return
		}
		// pid (comm) STATE ...
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			return
		}
	}
	t.Errorf("process %d, started by the plugin, still runs", pid)
}

// TestNotFoundMessage checks what a missing plugin's error says: the
// closest installed name, the search path, and every installed plugin.
func TestNotFoundMessage(t *testing.T) {
	bin, empty := t.TempDir(), t.TempDir()
	writeExe(t, filepath.Join(bin, BinaryPrefix+"patchsize"))
	tests := []struct {
		name   string
		plugin string
		decl   Decl
		path   []string
		want   string // BIN and EMPTY stand for the folders
	}{
		{
			name: "typo of a binary", plugin: "patchsise", path: []string{empty, bin},
			want: `plugin not found: "patchsise" (did you mean "patchsize"?): no swelego-plugin-patchsise on the search path (EMPTY, BIN), and no plugin of that name is built into swelego; installed: patchsize (BIN/swelego-plugin-patchsize); built in: echo`,
		},
		{
			name: "typo of a built-in", plugin: "ecoh", path: []string{bin},
			want: `plugin not found: "ecoh" (did you mean "echo"?): no swelego-plugin-ecoh on the search path (BIN), and no plugin of that name is built into swelego; installed: patchsize (BIN/swelego-plugin-patchsize); built in: echo`,
		},
		{
			name: "nothing close, nothing installed", plugin: "javascript", path: []string{empty},
			want: `plugin not found: "javascript": no swelego-plugin-javascript on the search path (EMPTY), and no plugin of that name is built into swelego; no plugin binaries are installed on the search path; built in: echo`,
		},
		{
			name: "source names another plugin", plugin: "judge", decl: Decl{Source: "patchsise"}, path: []string{bin},
			want: `plugin not found: "patchsise" (did you mean "patchsize"?): no swelego-plugin-patchsise on the search path (BIN), and no plugin of that name is built into swelego; installed: patchsize (BIN/swelego-plugin-patchsize); built in: echo`,
		},
		{
			name: "source builtin", plugin: "ecoh", decl: Decl{Source: SourceBuiltin}, path: []string{bin},
			want: `plugin not found: "ecoh" is not built into swelego (did you mean "echo"?) (built in: echo)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHost(t, Options{SearchPath: tt.path, Decls: map[string]Decl{tt.plugin: tt.decl}})
			_, err := h.Info(context.Background(), tt.plugin)
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
			got := strings.NewReplacer(bin, "BIN", empty, "EMPTY").Replace(err.Error())
			if got != tt.want {
				t.Errorf("error:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}
