// Command capture records the observations in ../observations.jsonl: it
// replays the oracle teacher's steps and mistakes on two bundled tasks
// (textkit__textkit-1, semver__semver-1), and other commands that fail in
// the ways agents' commands do, through the real swetools tool set, in a
// bubblewrap sandbox over this machine's read-only file system with the
// task's repository at /testbed (reaped, as swelego's bwrap backend is),
// and writes each observation with the verdict errormask must reach.
// The verdicts are written here by hand, from what each command did; the
// test checks the masker against them.
//
// It is a development tool under testdata, so `go build ./...` and the
// plugin never see it (it is the only code of this folder that imports
// another plugin). Run it from the repository root on Linux with bwrap,
// git, Debian's python3 with pytest, and Go:
//
//	go run ./plugins/errormask/testdata/capture > plugins/errormask/testdata/observations.jsonl
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/swelego/swelego/plugins/swetools"
	"github.com/swelego/swelego/sdk"
)

type box struct {
	root, state string
}

func (b *box) args() []string {
	a := []string{"--tmpfs", "/"}
	ents, _ := os.ReadDir("/")
	for _, e := range ents {
		n := e.Name()
		switch n {
		case "proc", "dev", "tmp", "sys", "testbed", "work", "root":
			continue
		}
		p := "/" + n
		if t, err := os.Readlink(p); err == nil {
			a = append(a, "--symlink", t, p)
		} else {
			a = append(a, "--ro-bind", p, p)
		}
	}
	return append(a, "--bind", b.root, "/testbed", "--bind", b.state, "/tmp", "--proc", "/proc", "--dev", "/dev",
		"--unshare-pid", "--die-with-parent", "--chdir", "/testbed",
		"--setenv", "PATH", "/usr/local/go/bin:/usr/local/bin:/usr/bin:/bin",
		"--setenv", "HOME", "/tmp", "--setenv", "GOCACHE", "/tmp/gocache", "--setenv", "GOTOOLCHAIN", "local",
		"--setenv", "GOFLAGS", "-mod=mod", "--setenv", "GOPROXY", "off", "--setenv", "TERM", "dumb",
		"--setenv", sdk.ExecMarkerEnv, "1")
}

func (b *box) Exec(ctx context.Context, cmd string, timeout time.Duration) (sdk.ExecResult, error) {
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	c := exec.Command("bwrap", append(b.args(), "bash", "-c", cmd)...)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		return sdk.ExecResult{}, err
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case <-done:
	case <-time.After(timeout):
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		<-done
		return sdk.ExecResult{Output: out.String(), ExitCode: -1, TimedOut: true}, nil
	}
	return sdk.ExecResult{Output: out.String(), ExitCode: c.ProcessState.ExitCode()}, nil
}

func (b *box) host(p string) string {
	if strings.HasPrefix(p, "/testbed") {
		return filepath.Join(b.root, strings.TrimPrefix(p, "/testbed"))
	}
	if !filepath.IsAbs(p) {
		return filepath.Join(b.root, p)
	}
	return filepath.Join(b.state, strings.TrimPrefix(p, "/tmp"))
}
func (b *box) ReadFile(ctx context.Context, p string) ([]byte, error) { return os.ReadFile(b.host(p)) }
func (b *box) WriteFile(ctx context.Context, p string, d []byte) error {
	_ = os.MkdirAll(filepath.Dir(b.host(p)), 0o755)
	return os.WriteFile(b.host(p), d, 0o644)
}
func (b *box) Diff(ctx context.Context) (string, error) { return "", nil }

type record struct {
	Name      string `json:"name"`
	Task      string `json:"task"`
	Tool      string `json:"tool"`
	Arguments string `json:"arguments"`
	Output    string `json:"output"`
	ExitCode  int    `json:"exit_code"`
	Error     bool   `json:"error"`
	TurnError bool   `json:"turn_error"`
	Want      string `json:"want"`
}

type call struct {
	name, tool string
	args       map[string]any
	want       string // "" trained, else the pattern name that must mask it
}

func bash(name, cmd string, want string) call {
	return call{name, "execute_bash", map[string]any{"command": cmd}, want}
}
func ed(name string, args map[string]any, want string) call {
	return call{name, "str_replace_editor", args, want}
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(task, bundle, commit string, setup func(b *box), calls []call, w *bufio.Writer) {
	dir, err := os.MkdirTemp("", "capture-"+task)
	must(err)
	root, state := filepath.Join(dir, "repo"), filepath.Join(dir, "tmp")
	must(os.MkdirAll(state, 0o777))
	out, err := exec.Command("git", "clone", "-q", bundle, root).CombinedOutput()
	if err != nil {
		must(fmt.Errorf("clone: %v: %s", err, out))
	}
	out, err = exec.Command("git", "-C", root, "checkout", "-q", commit).CombinedOutput()
	if err != nil {
		must(fmt.Errorf("checkout: %v: %s", err, out))
	}
	b := &box{root: root, state: state}
	if setup != nil {
		setup(b)
	}
	ts := swetools.New().ToolSet
	for i, c := range calls {
		argText, _ := json.Marshal(c.args)
		if raw, ok := c.args["__raw"]; ok {
			argText = []byte(raw.(string))
		}
		res, err := ts.Execute(context.Background(), sdk.ToolRequest{
			Config:  sdk.Config(`{"timeout": 5}`),
			Call:    sdk.ToolCall{ID: fmt.Sprintf("call_%d", i), Type: "function", Function: sdk.FunctionCall{Name: c.tool, Arguments: string(argText)}},
			Sandbox: b,
		})
		must(err)
		rec := record{Name: c.name, Task: task, Tool: c.tool, Arguments: string(argText), Output: res.Output,
			ExitCode: res.ExitCode, Error: res.Error,
			// core/agent's rule: a tool error, or a command the shell could not run.
			TurnError: res.Error || (c.tool == "execute_bash" && (res.ExitCode == 126 || res.ExitCode == 127)),
			Want:      c.want}
		line, _ := json.Marshal(rec)
		w.Write(line)
		w.WriteString("\n")
		fmt.Fprintf(os.Stderr, "== %s (exit %d, error %v)\n%s\n", c.name, res.ExitCode, res.Error, res.Output)
	}
	os.RemoveAll(dir)
}

func main() {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	repos := "examples/repos/"
	testSlug := "from textkit import slugify\n\n\ndef test_slug_lowercases():\n    assert slugify(\"Hello, World!\") == \"hello-world\"\n\n\ndef test_slug_custom_separator():\n    assert slugify(\"A B\", sep=\"_\") == \"a_b\"\n"
	pytestCmd := "cd /testbed && python3 -m pytest -q 'tests/test_slug.py::test_slug_lowercases' 'tests/test_slug.py::test_slug_custom_separator'"
	run("textkit__textkit-1", repos+"textkit.bundle", "b2c81fbc5b39e846e7951e795883fc524b2bdb64", nil, []call{
		// The oracle teacher's steps and mistakes (core/agent/oracle.go), in order.
		bash("oracle: list the source files", "find /testbed -type f -name '*.py' -not -path '*/.git/*' | sort | head -50", ""),
		bash("oracle mistake: grep misspelt", "grpe -rn 'slugify' /testbed --include='*.py'", "command_not_found"),
		bash("oracle: grep the symbol", "grep -rn 'slugify' /testbed --include='*.py' | head -30", ""),
		ed("oracle mistake: view a file that does not exist", map[string]any{"command": "view", "path": "/testbed/slug.py.orig"}, "invalid_path"),
		ed("oracle: view the module", map[string]any{"command": "view", "path": "/testbed/textkit/slug.py"}, ""),
		{"oracle: think", "think", map[string]any{"thought": "The behaviour comes from textkit/slug.py."}, ""},
		ed("oracle: create the reproducing tests", map[string]any{"command": "create", "path": "/testbed/tests/test_slug.py", "file_text": testSlug}, ""),
		bash("oracle mistake: test command misspelt", strings.Replace(pytestCmd, "python3", "pyhton3", 1), "command_not_found"),
		bash("oracle: failing tests before the fix", pytestCmd, ""),
		ed("oracle mistake: stale old_str", map[string]any{"command": "str_replace", "path": "/testbed/textkit/slug.py", "old_str": "        return sep.join(words)", "new_str": "    return sep.join(words).lower()"}, "old_str_not_found"),
		ed("oracle: the fix", map[string]any{"command": "str_replace", "path": "/testbed/textkit/slug.py", "old_str": "    return sep.join(words)", "new_str": "    return sep.join(words).lower()"}, ""),
		bash("oracle: passing tests after the fix", pytestCmd, ""),
		{"oracle: finish", "finish", map[string]any{"message": "I changed textkit/slug.py."}, ""},

		// Commands that ran and failed on their own terms: trained.
		bash("grep that finds nothing", "grep -rn 'no_such_symbol_xyz' /testbed --include='*.py'", ""),
		bash("failing pytest with native tracebacks", "cd /testbed && git stash -q && python3 -m pytest -q --tb=native tests/test_slug.py; rc=$?; git stash pop -q; (exit $rc)", ""),
		bash("pytest failing on FileNotFoundError", "cd /testbed && printf 'def test_data():\\n    open(\"data.txt\")\\n' > tests/test_data.py && python3 -m pytest -q tests/test_data.py; rc=$?; rm tests/test_data.py; (exit $rc)", ""),
		bash("script reporting its own error", "python3 -c \"import sys; print('Error: bad input'); sys.exit(1)\"", ""),
		bash("false", "false", ""),
		bash("git log", "cd /testbed && git log --oneline | head -3", ""),
		bash("command stopped at the soft timeout", "sleep 15", "timeout"),
		{"command stopped at its own timeout", "execute_bash", map[string]any{"command": "sleep 15", "timeout": 2}, "timeout"},

		// Commands that could not run: masked.
		bash("grep in a missing folder", "grep -rn 'slugify' /testbed/nonexistent", "no_such_file"),
		bash("ls a missing path", "ls /testbed/missing", "no_such_file"),
		bash("cd to a missing folder", "cd /testbed/nowhere", "no_such_file"),
		bash("cat a missing file", "cat /testbed/textkit/missing.py", "no_such_file"),
		bash("sed on a missing file", "sed -i 's/a/b/' /testbed/textkit/missing.py", "no_such_file"),
		bash("python on a missing script", "python3 /testbed/reproduce_missing.py", "no_such_file"),
		bash("python -m of a missing module", "python3 -m no_such_module_xyz", "no_module"),
		ed("create a reproduction script", map[string]any{"command": "create", "path": "/testbed/reproduce.py", "file_text": "from textkit import slugify\nprint(slugify(\"Hello, World!\"))\nslugify(None)\n"}, ""),
		bash("script dies with a traceback", "cd /testbed && python3 reproduce.py", "traceback"),
		bash("python -c with an AttributeError", "cd /testbed && python3 -c 'import textkit; textkit.nope()'", "traceback"),
		bash("python syntax error", "python3 -c 'def f(:'", "syntax_error"),
		bash("bash syntax error", "echo (", "syntax_error"),
		bash("script not executable", "printf 'echo hi\\n' > /tmp/run.sh && /tmp/run.sh", "not_executable"),
		{"input with nothing running", "execute_bash", map[string]any{"command": "y", "is_input": true}, "shell_refusal"},
		ed("view_range out of range", map[string]any{"command": "view", "path": "/testbed/textkit/slug.py", "view_range": []int{100, 120}}, "editor_error"),
		ed("create over an existing file", map[string]any{"command": "create", "path": "/testbed/textkit/slug.py", "file_text": "x\n"}, "file_exists"),
		ed("old_str occurs twice", map[string]any{"command": "str_replace", "path": "/testbed/tests/test_slug.py", "old_str": "def test_slug", "new_str": "def test_x"}, "old_str_not_unique"),
		ed("relative path", map[string]any{"command": "view", "path": "textkit/slug.py"}, "invalid_path"),
		ed("path outside the repository", map[string]any{"command": "view", "path": "/etc/passwd"}, "invalid_path"),
		ed("insert_line out of range", map[string]any{"command": "insert", "path": "/testbed/textkit/slug.py", "insert_line": 500, "new_str": "x = 1"}, "editor_error"),
		ed("undo with no edit", map[string]any{"command": "undo_edit", "path": "/testbed/textkit/__init__.py"}, "editor_error"),
		ed("create a folder's path", map[string]any{"command": "create", "path": "/testbed/textkit", "file_text": "x\n"}, "invalid_path"),
		ed("edit a folder", map[string]any{"command": "str_replace", "path": "/testbed/textkit", "old_str": "a", "new_str": "b"}, "invalid_path"),
		{"unknown tool", "run_python", map[string]any{"code": "print(1)"}, "bad_tool_call"},
		{"arguments not JSON", "execute_bash", map[string]any{"__raw": `{"command": "ls"`}, "bad_tool_call"},
		{"unknown parameter", "str_replace_editor", map[string]any{"command": "view", "file_path": "/testbed/setup.py"}, "bad_tool_call"},
		{"missing parameter", "str_replace_editor", map[string]any{"command": "create", "path": "/testbed/new.py"}, "editor_error"},
	}, w)

	run("semver__semver-1", repos+"semver.bundle", "HEAD", func(b *box) {
		must(b.WriteFile(context.Background(), "/testbed/extra_test.go", []byte("package semver\n\nimport \"testing\"\n\nfunc TestAlwaysFails(t *testing.T) {\n\tt.Fatal(\"want 1.2.3, got 1.2\")\n}\n")))
	}, []call{
		bash("oracle mistake: go test misspelt", "cd /testbed && og test ./... -run '^(TestAlwaysFails)$'", "command_not_found"),
		{"failing go test", "execute_bash", map[string]any{"command": "cd /testbed && go test ./... -run '^(TestAlwaysFails)$'", "timeout": 300}, ""},
		{"go vet of a file with a syntax error is a failing build, not a failed call", "execute_bash", map[string]any{"command": "cd /testbed && printf 'package semver\\nfunc broken( {\\n' > broken.go && go vet ./...; rc=$?; rm -f broken.go; (exit $rc)", "timeout": 300}, ""},
	}, w)
}
