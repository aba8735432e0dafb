package swetools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

// TestMalformedCalls sends calls a model may get wrong; each must give an
// error observation that says what is wrong (testdata/malformed.golden),
// never a Go error or a panic.
func TestMalformedCalls(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true, nil)
	e.write("f.py", "x = 1\n")
	cases := []struct{ name, tool, args string }{
		{"unknown tool", "run_python", `{"code": "print(1)"}`},
		{"empty tool name", "", `{}`},
		{"arguments not JSON", ToolExecuteBash, `{"command": "ls"`},
		{"arguments not an object", ToolExecuteBash, `["ls"]`},
		{"two JSON values", ToolExecuteBash, `{"command": "ls"} {"command": "pwd"}`},
		{"no arguments", ToolExecuteBash, ``},
		{"command missing", ToolExecuteBash, `{"timeout": 3}`},
		{"command null", ToolExecuteBash, `{"command": null}`},
		{"command not a string", ToolExecuteBash, `{"command": ["ls", "-l"]}`},
		{"timeout not a number", ToolExecuteBash, `{"command": "ls", "timeout": "soon"}`},
		{"unknown parameter", ToolExecuteBash, `{"command": "ls", "cwd": "/testbed"}`},
		{"editor command missing", ToolEditor, `{"path": "/testbed/f.py"}`},
		{"editor command unknown", ToolEditor, `{"command": "delete", "path": "/testbed/f.py"}`},
		{"editor path missing", ToolEditor, `{"command": "view"}`},
		{"editor path not a string", ToolEditor, `{"command": "view", "path": 7}`},
		{"editor path misnamed", ToolEditor, `{"command": "view", "file_path": "/testbed/f.py"}`},
		{"insert_line not an integer", ToolEditor, `{"command": "insert", "path": "/testbed/f.py", "insert_line": 1.5, "new_str": "y"}`},
		{"insert_line a word", ToolEditor, `{"command": "insert", "path": "/testbed/f.py", "insert_line": "top", "new_str": "y"}`},
		{"view_range of words", ToolEditor, `{"command": "view", "path": "/testbed/f.py", "view_range": ["a", "b"]}`},
		{"view_range an object", ToolEditor, `{"command": "view", "path": "/testbed/f.py", "view_range": {"start": 1}}`},
		{"think without a thought", ToolThink, `{}`},
		{"finish with a number", ToolFinish, `{"message": 42}`},
	}
	var log strings.Builder
	for _, c := range cases {
		res := e.call(c.tool, strings.ReplaceAll(c.args, "/testbed", e.sb.root))
		if !res.Error || res.Finished || res.ExitCode == 0 {
			t.Errorf("%s: not an error observation: %+v", c.name, res)
		}
		fmt.Fprintf(&log, "### %s\n%s %s\n%s\n\n", c.name, c.tool, c.args, strings.ReplaceAll(res.Output, e.sb.root, "/testbed"))
	}
	golden(t, "malformed.golden", log.String())
}

// TestLenientArguments checks the forms of arguments OpenHands-trained
// models send that are accepted: strings for numbers, booleans and lists.
func TestLenientArguments(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true, nil)
	e.write("f.py", "a\nb\nc\n")
	f := e.path("f.py")
	for _, c := range []struct{ name, args, want string }{
		{"view_range as a string", `{"command": "view", "path": "` + f + `", "view_range": "[2, 3]"}`, "     2\tb\n     3\tc"},
		{"view_range of floats", `{"command": "view", "path": "` + f + `", "view_range": [2.0, -1]}`, "     2\tb\n     3\tc"},
		{"insert_line as a string", `{"command": "insert", "path": "` + f + `", "insert_line": "3", "new_str": "d"}`, "     4\td"},
	} {
		res := e.call(ToolEditor, c.args)
		if res.Error || !strings.Contains(res.Output, c.want) {
			t.Errorf("%s: %+v", c.name, res)
		}
	}
}

func TestThinkAndFinish(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true, nil)
	res := e.call(ToolThink, map[string]any{"thought": "the bug is in the parser"})
	if res.Error || res.Finished || !strings.Contains(res.Output, "logged") {
		t.Errorf("think: %+v", res)
	}
	res = e.call(ToolFinish, map[string]any{"message": "Fixed the parser.", "task_completed": "true"})
	if !res.Finished || res.Error || res.Output != "Fixed the parser." {
		t.Errorf("finish: %+v", res)
	}
	res = e.call(ToolFinish, `{}`)
	if !res.Finished || res.Error {
		t.Errorf("finish without a message: %+v", res)
	}
	if n := e.sb.execs(); n != 0 {
		t.Errorf("think and finish ran %d commands in the sandbox", n)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	ts := &ToolSet{}
	ctx := context.Background()
	for _, c := range []struct{ name, cfg string }{
		{"relative root", `{"root": "testbed"}`},
		{"relative state", `{"state_dir": "state"}`},
		{"tiny output", `{"max_output": 10}`},
		{"negative timeout", `{"timeout": -1}`},
		{"wrong type", `{"root": 5}`},
	} {
		if _, err := ts.Tools(ctx, sdk.Config(c.cfg)); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: Tools error %v, want ErrConfig", c.name, err)
		}
		_, err := ts.Execute(ctx, sdk.ToolRequest{Config: sdk.Config(c.cfg),
			Call: sdk.ToolCall{Function: sdk.FunctionCall{Name: ToolThink, Arguments: `{"thought": "x"}`}}})
		if !errors.Is(err, ErrConfig) {
			t.Errorf("%s: Execute error %v, want ErrConfig", c.name, err)
		}
	}
	got, err := decodeConfig(nil)
	want := Config{Root: DefaultRoot, StateDir: DefaultStateDir, MaxOutput: DefaultMaxOutput, Timeout: DefaultTimeout, MaxTimeout: DefaultMaxTimeout}
	if err != nil || got != want {
		t.Errorf("defaults: %+v, %v", got, err)
	}
	// Without a sandbox the shell cannot run: that is the host's fault.
	_, err = ts.Execute(ctx, sdk.ToolRequest{Call: sdk.ToolCall{Function: sdk.FunctionCall{Name: ToolExecuteBash, Arguments: `{"command": "ls"}`}}})
	if !errors.Is(err, sdk.ErrNotLent) {
		t.Errorf("no sandbox: %v", err)
	}
}

// TestToolSchemas pins the declared tools (testdata/tools.golden) and
// checks that the parameters are OpenHands'.
func TestToolSchemas(t *testing.T) {
	t.Parallel()
	tools, err := (&ToolSet{}).Tools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		ToolExecuteBash: {"command", "is_input", "timeout"},
		ToolEditor:      {"command", "file_text", "insert_line", "new_str", "old_str", "path", "view_range"},
		ToolThink:       {"thought"},
		ToolFinish:      {"message"},
	}
	var pretty strings.Builder
	for _, tool := range tools {
		var schema struct {
			Type       string                     `json:"type"`
			Properties map[string]json.RawMessage `json:"properties"`
			Required   []string                   `json:"required"`
		}
		if err := json.Unmarshal(tool.Parameters, &schema); err != nil || schema.Type != "object" {
			t.Fatalf("%s: parameters %s: %v", tool.Name, tool.Parameters, err)
		}
		var names []string
		for n := range schema.Properties {
			names = append(names, n)
		}
		if fmt.Sprint(slices.Sorted(slices.Values(names))) != fmt.Sprint(want[tool.Name]) {
			t.Errorf("%s has parameters %v, want %v", tool.Name, names, want[tool.Name])
		}
		delete(want, tool.Name)
		b, _ := json.MarshalIndent(tool, "", "  ")
		pretty.Write(b)
		pretty.WriteString("\n")
	}
	if len(want) > 0 {
		t.Errorf("tools not declared: %v", want)
	}
	golden(t, "tools.golden", pretty.String())
}

// TestPluginProtocol serves the plugin over real gRPC and runs calls whose
// sandbox is lent back through go-plugin's broker.
func TestPluginProtocol(t *testing.T) {
	t.Parallel()
	c := sdktest.Connect(t, New())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	info, err := c.Info(ctx)
	if err != nil || info.Name != "swetools" || !info.Serves(sdk.KindToolSet) {
		t.Fatalf("info %+v, %v", info, err)
	}
	schema, err := c.ConfigSchema(ctx, sdk.KindToolSet)
	if err != nil || len(schema.Attributes) != len(Schema.Attributes) {
		t.Fatalf("config schema %+v, %v", schema, err)
	}
	e := newEnv(t, false, nil)
	e.ts = c.ToolSet()
	tools, err := e.ts.Tools(ctx, e.config())
	if err != nil || len(tools) != 4 {
		t.Fatalf("tools: %d, %v", len(tools), err)
	}
	if !strings.Contains(tools[0].Description, e.sb.root) {
		t.Errorf("the description does not name the configured root:\n%s", tools[0].Description)
	}

	res := e.bash("mkdir -p src && cd src && export MARK=over-grpc")
	if res.Error || res.ExitCode != 0 {
		t.Fatalf("bash: %+v", res)
	}
	res = e.bash(`printf 'ok\xff\n'; echo "$MARK"`)
	wantOutput(t, res, "ok\uFFFD", "over-grpc", "[Current working directory: "+e.path("src")+"]")

	res = e.call(ToolExecuteBash, map[string]any{"command": "echo waiting; sleep 600", "timeout": 1})
	if res.ExitCode != -1 {
		t.Fatalf("long command: %+v", res)
	}
	pg := pgidOf(t, e)
	res = e.call(ToolExecuteBash, map[string]any{"command": "C-c", "is_input": "true"})
	if res.ExitCode != 130 || !gone(pg) {
		t.Errorf("C-c over gRPC: %+v", res)
	}

	res = e.call(ToolEditor, map[string]any{"command": "create", "path": e.path("src/app.py"), "file_text": "print('hi')\n"})
	if res.Error || e.read("src/app.py") != "print('hi')\n" {
		t.Fatalf("create: %+v", res)
	}
	res = e.call(ToolEditor, map[string]any{"command": "str_replace", "path": e.path("src/app.py"), "old_str": "hi", "new_str": "hello"})
	if res.Error || e.read("src/app.py") != "print('hello')\n" {
		t.Fatalf("str_replace: %+v", res)
	}
	res = e.call(ToolEditor, map[string]any{"command": "undo_edit", "path": e.path("src/app.py")})
	if res.Error || e.read("src/app.py") != "print('hi')\n" {
		t.Fatalf("undo: %+v", res)
	}
	res = e.call(ToolEditor, "{not json")
	if !res.Error {
		t.Errorf("malformed call over gRPC: %+v", res)
	}
	res = e.call(ToolFinish, map[string]any{"message": "done"})
	if !res.Finished {
		t.Errorf("finish over gRPC: %+v", res)
	}
}

// TestScriptsUseExecMarker: the shell helper starts jobs without the
// variable by which sandboxes find what an Exec left running.
func TestScriptsUseExecMarker(t *testing.T) {
	if n := strings.Count(shellScript, "env -u "+sdk.ExecMarkerEnv+" setsid -f"); n != 2 {
		t.Errorf("shell.sh starts %d jobs without %s, want 2 (probe and job)", n, sdk.ExecMarkerEnv)
	}
}
