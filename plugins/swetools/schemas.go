package swetools

import (
	"encoding/json"
	"fmt"

	"github.com/swelego/swelego/sdk"
)

// toolSchemas declares the tools in OpenAI's function-calling shape, with
// OpenHands' parameter names and types and descriptions of our own.
func toolSchemas(c Config) []sdk.ToolSchema {
	root := c.Root
	return []sdk.ToolSchema{
		{
			Name: ToolExecuteBash,
			Description: fmt.Sprintf(`Run a bash command in the sandbox and return its output (stdout and stderr together) and exit code.
* The shell keeps its state between calls: the working directory, variables and functions carry over. It starts in %s.
* One command runs at a time. A command that prints nothing new for %g seconds, or runs past the timeout you give, returns with the output so far, and the observation says whether it still runs. While it runs, send an empty command with is_input=true to wait for more output, "C-c" with is_input=true to interrupt it, or text with is_input=true to type into its standard input.
* Commands run without a terminal and without network access. For long output, redirect it to a file and read parts of it, e.g. with head, tail or grep.
* Very long output is shortened: its beginning and end are kept.`, root, c.Timeout),
			Parameters: mustJSON(object(map[string]any{
				"command": map[string]any{"type": "string", "description": `The bash command to run; several lines are fine. With is_input=true: the text to send to the running command, or the key C-c (interrupt) or C-d (end of input); empty to just see new output.`},
				"is_input": map[string]any{"type": "string", "enum": []string{"true", "false"},
					"description": `"true" when command is input for the command still running, not a new command. Default "false".`},
				"timeout": map[string]any{"type": "number", "description": fmt.Sprintf(
					"Optional. Seconds to wait for the command before returning with the output so far (at most %g). Without it, the call returns once the command has printed nothing new for %g seconds.", c.MaxTimeout, c.Timeout)},
			}, "command")),
		},
		{
			Name: ToolEditor,
			Description: fmt.Sprintf(`View, create and edit text files of the repository, with undo.
* Paths must be absolute and inside %[1]s, e.g. %[1]s/setup.py.
* view: a file is shown with line numbers, like cat -n (view_range shows some lines only); a directory lists its files and subdirectories two levels deep, hidden ones left out.
* create: writes a new file with file_text; an existing file is never overwritten.
* str_replace: replaces old_str with new_str. old_str must match exactly one place in the file, character for character, whitespace and indentation included; add surrounding lines to make it unique.
* insert: inserts new_str after line insert_line (0 puts it at the top).
* undo_edit: reverts the last create, str_replace or insert of the file.
* Long output is shortened: its beginning and end are kept.`, root),
			Parameters: mustJSON(object(map[string]any{
				"command": map[string]any{"type": "string", "enum": editorCommands,
					"description": "What to do: view, create, str_replace, insert or undo_edit."},
				"path":        map[string]any{"type": "string", "description": fmt.Sprintf("Absolute path of the file or directory, e.g. %s/src/app.py.", root)},
				"file_text":   map[string]any{"type": "string", "description": "create: the content of the new file."},
				"old_str":     map[string]any{"type": "string", "description": "str_replace: the exact text to replace; it must occur once in the file."},
				"new_str":     map[string]any{"type": "string", "description": "str_replace: the replacement text (empty or left out deletes old_str). insert: the text to insert."},
				"insert_line": map[string]any{"type": "integer", "description": "insert: the line after which new_str goes; 0 inserts at the top."},
				"view_range": map[string]any{"type": "array", "items": map[string]any{"type": "integer"},
					"description": "view of a file: [first, last] line numbers to show, counted from 1; last -1 means to the end of the file."},
			}, "command", "path")),
		},
		{
			Name:        ToolThink,
			Description: "Think out loud: write down reasoning, a plan or hypotheses. Nothing in the sandbox changes; the thought is just recorded. Useful before a complex change or when several causes are possible.",
			Parameters: mustJSON(object(map[string]any{
				"thought": map[string]any{"type": "string", "description": "The thought to record."},
			}, "thought")),
		},
		{
			Name:        ToolFinish,
			Description: "Finish the task: call it when the issue is resolved, or when no further progress is possible. It ends the episode.",
			Parameters: mustJSON(object(map[string]any{
				"message": map[string]any{"type": "string", "description": "A short summary of what was done and why."},
			})),
		},
	}
}

func object(props map[string]any, required ...string) map[string]any {
	o := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only literal maps above
	}
	return b
}
