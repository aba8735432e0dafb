package swetools

import (
	"context"
	"testing"
	"time"

	"github.com/swelego/swelego/sdk"
)

// BenchmarkBareExec is the floor of execute_bash: one Exec of `true` in
// the test sandbox.
func BenchmarkBareExec(b *testing.B) {
	sb := newHostSandbox(b, true)
	ctx := context.Background()
	for b.Loop() {
		if _, err := sb.Exec(ctx, "true", time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExecuteBash is one execute_bash call of `true` in the same
// kind of sandbox: the overhead of the session on top of a bare Exec.
func BenchmarkExecuteBash(b *testing.B) {
	e := newEnv(b, true, nil)
	e.bash("true") // probe the sandbox once
	req := sdk.ToolRequest{Config: e.config(), Sandbox: e.sb,
		Call: sdk.ToolCall{Function: sdk.FunctionCall{Name: ToolExecuteBash, Arguments: `{"command": "true"}`}}}
	ctx := context.Background()
	for b.Loop() {
		if res, err := e.ts.Execute(ctx, req); err != nil || res.ExitCode != 0 {
			b.Fatal(res, err)
		}
	}
}

// BenchmarkEditorReplace is one str_replace and its undo.
func BenchmarkEditorReplace(b *testing.B) {
	e := newEnv(b, true, nil)
	e.write("f.py", modPy)
	ctx := context.Background()
	call := func(args string) sdk.ToolRequest {
		return sdk.ToolRequest{Config: e.config(), Sandbox: e.sb,
			Call: sdk.ToolCall{Function: sdk.FunctionCall{Name: ToolEditor, Arguments: args}}}
	}
	edit := call(`{"command": "str_replace", "path": "` + e.path("f.py") + `", "old_str": "a - b", "new_str": "b - a"}`)
	undo := call(`{"command": "undo_edit", "path": "` + e.path("f.py") + `"}`)
	for b.Loop() {
		for _, req := range []sdk.ToolRequest{edit, undo} {
			if res, err := e.ts.Execute(ctx, req); err != nil || res.Error {
				b.Fatal(res, err)
			}
		}
	}
}
