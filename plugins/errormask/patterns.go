package errormask

import (
	"maps"
	"regexp"
	"slices"
)

// exitMarker matches the line that ends an execute_bash observation with a
// non-zero exit code: swetools' "[Command finished with exit code 1]" and
// OpenHands' "[The command completed with exit code 1.]".
const exitMarker = `\[(?:Command finished|The command completed) with exit code [1-9][0-9]*\.?\]`

// defaultPatterns are the patterns of error_turns when the configuration
// gives none, by name; the name is the masked turn's reason ("pattern:
// command_not_found"). Each matches the wording of swelego's swetools plugin
// (whose observations are the ones the rollout records) and, where it is
// known, of OpenHands' tools, so imported OpenHands and LLaMA-Factory data
// is masked the same way. None matches a command that ran and failed on its
// own terms: a grep that finds nothing (exit code 1, no output) or a test
// run with failing tests is trained.
var defaultPatterns = map[string]string{
	// A Python program that died of an uncaught exception: a traceback whose
	// exception line is the last line of output before the exit-code marker
	// (only bracketed notes such as "[Current working directory: …]" may
	// come between). pytest's failures end with its summary line instead,
	// so a failing test run does not match, even with --tb=native.
	"traceback": `Traceback \(most recent call last\):[\s\S]*\n[A-Za-z_][\w.]*(?:: [^\n]*)?\n(?:\[[^\n]*\]\n)*` + exitMarker,

	// bash: "bash: line 1: grpe: command not found"; dash: "sh: 1: grpe: not found".
	"command_not_found": `(?m)(?:: command not found|^(?:/bin/)?sh: [0-9]+: [^\n]*: not found)$`,

	// A script or file that is not executable: "bash: ./run.sh: Permission denied".
	"not_executable": `(?m)^(?:/bin/)?(?:ba)?sh: (?:line [0-9]+: )?[^\n]*: Permission denied$`,

	// A path that does not exist, as coreutils, bash and Python's launcher
	// report it at the end of a line ("ls: cannot access 'x': No such file
	// or directory", "python3: can't open file '/testbed/x.py': [Errno 2] No
	// such file or directory"). A test's FileNotFoundError ends with the
	// file name and does not match.
	"no_such_file": `(?m)(?:: |\[Errno 2\] )No such file or directory$`,

	// python -m with a module that is not installed: "/usr/bin/python3: No module named pytest".
	"no_module": `(?m)^\S*python[0-9.]*: No module named \S+`,

	// Python's syntax errors at the start of a line (a script that does not
	// parse; pytest prefixes its own with "E") and bash's.
	"syntax_error": `(?m)^(?:SyntaxError|IndentationError|TabError): |syntax error near unexpected token|syntax error: unexpected end of file`,

	// str_replace_editor: old_str not in the file.
	// swetools: "Error: no replacement was made: old_str does not occur verbatim in /testbed/a.py."
	// OpenHands: "No replacement was performed, old_str `x` did not appear verbatim in /workspace/a.py."
	"old_str_not_found": `no replacement was made: old_str does not occur verbatim|No replacement was performed, old_str `,

	// str_replace_editor: old_str more than once.
	// swetools: "Error: no replacement was made: old_str occurs 2 times in /testbed/a.py, at lines 1, 5."
	// OpenHands: "No replacement was performed. Multiple occurrences of old_str `x` in lines [1, 5]."
	"old_str_not_unique": `no replacement was made: old_str occurs [0-9]+ times|No replacement was performed\. Multiple occurrences of old_str`,

	// str_replace_editor: a path it refuses (empty, relative, outside the
	// repository, missing, a folder, not a regular file).
	"invalid_path": `(?m)^Error: (?:path is empty\.|the path "[^\n]*" (?:is not absolute|contains a control character)` +
		`|[^\n]* is outside the repository |[^\n]* \(through a symbolic link\), which is outside the repository ` +
		`|[^\n]* cannot be resolved: |[^\n]* does not exist\. Use the create command` +
		`|[^\n]* is a directory; (?:only the view command|create needs)|[^\n]* is not a regular file\.)` +
		"|Invalid `path` parameter: |The path [^\\n]* does not exist\\. Please provide a valid path",

	// str_replace_editor create on an existing file.
	// swetools: "Error: /testbed/a.py already exists; create never overwrites a file."
	// OpenHands: "File already exists at: /workspace/a.py. Cannot overwrite files using command `create`."
	"file_exists": `(?m)^Error: [^\n]* already exists; create never overwrites a file|File already exists at: [^\n]*\. Cannot overwrite files`,

	// str_replace_editor's other refusals: bad view_range or insert_line,
	// empty or unchanged old_str, nothing to undo, binary or unreadable files.
	"editor_error": `(?m)^Error: (?:view_range |the (?:first|last) line of view_range|insert_line -?[0-9]+ is out of range` +
		`|old_str is empty|old_str and new_str are the same|there is no edit of |the parameter "[^"\n]*" is required for the \w+ command` +
		`|the undo history of |[^\n]* looks like a binary file|[^\n]* is empty, so view_range|[^\n]* cannot be read: ` +
		`|[^\n]* could not be (?:written|removed)|[^\n]* is no longer a regular file)`,

	// A call the tool set could not read: an unknown tool, arguments that
	// are not a JSON object, a missing, unknown or mistyped parameter
	// (swetools), or a reply whose text call did not parse (swelego's agent).
	"bad_tool_call": `(?m)^Error: (?:there is no tool named "|the arguments of \w+ (?:are not valid JSON|must be a JSON object)` +
		`|\w+ has no parameter "|the parameter "[^"\n]*" of \w+ (?:is required|must be ))` +
		`|^ERROR: your last reply contained a tool call that could not be read`,

	// execute_bash refusing the call: input with nothing running, a bad
	// timeout, a command while another still runs, C-z.
	"shell_refusal": `(?m)^Error: (?:no command is running|timeout must be a positive number|the previous command is still running` +
		`|C-z \(suspend\) is not supported|the input is [0-9]+ bytes long)`,

	// A command stopped at its time limit. swetools: "[The command printed
	// nothing new for 30 seconds and was stopped: …]" and "[The command ran
	// for the 600-second timeout and was stopped: …]"; swelego's agent: "The
	// time limit of the episode was reached while this tool ran."; OpenHands:
	// "Command timed out". A command that is still running and may be waited
	// for is not a timeout.
	"timeout": `\[The command (?:printed nothing new for [0-9.]+ seconds|ran for the [0-9.]+-second timeout) and was stopped` +
		`|The time limit of the episode was reached while this tool ran|(?i:\bcommand timed out\b)`,
}

// DefaultPatterns returns a copy of the patterns error_turns uses when the
// configuration gives none, by name.
func DefaultPatterns() map[string]string { return maps.Clone(defaultPatterns) }

// pattern is one compiled pattern.
type pattern struct {
	name string
	re   *regexp.Regexp
}

// compilePatterns compiles patterns in name order, so the first match, and
// the reason it gives, do not depend on map order.
func compilePatterns(src map[string]string) ([]pattern, error) {
	var out []pattern
	for _, name := range slices.Sorted(maps.Keys(src)) {
		re, err := regexp.Compile(src[name])
		if err != nil {
			return nil, &patternError{name: name, err: err}
		}
		out = append(out, pattern{name: name, re: re})
	}
	return out, nil
}

type patternError struct {
	name string
	err  error
}

func (e *patternError) Error() string { return "pattern " + e.name + ": " + e.err.Error() }
func (e *patternError) Unwrap() error { return e.err }
