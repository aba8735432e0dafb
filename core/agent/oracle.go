package agent

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/bluekeyes/go-gitdiff/gitdiff"

	"github.com/swelego/swelego/core/diff"
	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/sdk"
)

// OracleName is the model name of trajectories the oracle plays: it says,
// wherever a trajectory goes, that a test teacher made it.
const OracleName = "oracle (test teacher: replays the known fix)"

// OracleOptions configure the oracle teacher.
type OracleOptions struct {
	// ErrorRate is the chance, before each step, of a mistake first: a
	// mistyped or failing command, a view of a missing file, an edit whose
	// old_str does not match. Mistakes never change files, so the final
	// patch still resolves the task.
	ErrorRate float64
	// Seed and the task's instance id and Attempt seed the randomness.
	Seed    int64
	Attempt int
	// Language is the task's language: it gives the commands that run its
	// tests (sdk.PurposeShow) and the globs of its source files. Required.
	Language *language.Language
}

// Oracle is a test teacher: an sdk.Model that replays a task's known fix as
// a realistic trajectory — explore with find and grep, view the files,
// reproduce the failure (writing the task's tests with the editor when the
// task brings them in a test patch), edit with str_replace_editor, run the
// tests again, finish. It plans the whole episode when it is made and plays
// step i when the conversation holds i assistant messages. It is not a
// model and must never be mistaken for one: its trajectories carry
// OracleName.
type Oracle struct {
	steps []step
}

// step is one assistant turn: some text and one tool call.
type step struct {
	text string
	tool string
	args map[string]any
}

// ErrOracleTask is returned by NewOracle for a task whose fix it cannot
// replay (no patch, a binary patch, a patch that introduces the bug).
var ErrOracleTask = errors.New("the oracle cannot replay this task's fix")

// NewOracle plans the episode for task from its patch and test_patch and
// the files the sandbox holds at the base commit.
func NewOracle(ctx context.Context, sb sdk.Sandbox, task sdk.Task, opts OracleOptions) (*Oracle, error) {
	if task.Patch == "" {
		return nil, fmt.Errorf("%w: %s has no patch", ErrOracleTask, task.InstanceID)
	}
	if task.PatchDirection == sdk.PatchIntroduces {
		return nil, fmt.Errorf("%w: %s's patch introduces its bug", ErrOracleTask, task.InstanceID)
	}
	if opts.Language == nil {
		return nil, fmt.Errorf("%w: %s: no language to run its tests with", ErrOracleTask, task.InstanceID)
	}
	fix, err := parsePatch(task.Patch)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: patch: %v", ErrOracleTask, task.InstanceID, err)
	}
	tests, err := parsePatch(task.TestPatch)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: test_patch: %v", ErrOracleTask, task.InstanceID, err)
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d", task.InstanceID, opts.Attempt)
	p := &planner{
		ctx: ctx, sb: sb, task: task, rate: opts.ErrorRate,
		rng:  rand.New(rand.NewPCG(uint64(opts.Seed), h.Sum64())),
		lang: opts.Language,
	}
	steps, err := p.plan(fix, tests)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrOracleTask, task.InstanceID, err)
	}
	return &Oracle{steps: steps}, nil
}

// Steps is the number of turns the oracle plays, finish included.
func (o *Oracle) Steps() int { return len(o.steps) }

// Chat plays the next step of the plan.
func (o *Oracle) Chat(ctx context.Context, req sdk.ChatRequest) (sdk.ChatResponse, error) {
	if err := ctx.Err(); err != nil {
		return sdk.ChatResponse{}, err
	}
	n := 0
	prompt := 0
	for _, m := range req.Messages {
		if m.Role == "assistant" {
			n++
		}
		prompt += len(m.Content)
		for _, c := range m.ToolCalls {
			prompt += len(c.Function.Arguments)
		}
	}
	s := o.steps[min(n, len(o.steps)-1)]
	args := toolArgs(s.args)
	msg := sdk.Message{Role: "assistant", Content: s.text, ToolCalls: []sdk.ToolCall{{
		ID: fmt.Sprintf("call_%03d", n), Type: "function",
		Function: sdk.FunctionCall{Name: s.tool, Arguments: args},
	}}}
	// Token counts are estimates (four characters a token): the oracle has
	// no tokenizer, and budgets only need the order of magnitude.
	completion := (len(s.text) + len(args) + 3) / 4
	usage := sdk.Usage{PromptTokens: (prompt + 3) / 4, CompletionTokens: completion}
	usage.TotalTokens = usage.PromptTokens + usage.CompletionTokens
	return sdk.ChatResponse{Message: msg, FinishReason: "tool_calls", Usage: usage}, nil
}

func parsePatch(patch string) ([]*gitdiff.File, error) {
	files, err := diff.Parse(patch)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if f.IsBinary {
			return nil, fmt.Errorf("%s: binary changes cannot be replayed with the editor", f.NewName)
		}
	}
	return files, nil
}

// planner builds an oracle's steps.
type planner struct {
	ctx   context.Context
	sb    sdk.Sandbox
	task  sdk.Task
	rate  float64
	rng   *rand.Rand
	lang  *language.Language
	steps []step
	// recovering is set after a mistake, so the next step says so.
	recovering bool
}

// sourceGlobs are the language's source file globs ("*" when it names
// none).
func (p *planner) sourceGlobs() []string {
	if globs := p.lang.Spec.SourceFiles; len(globs) > 0 {
		return globs
	}
	return []string{"*"}
}

// findSources is a find expression matching the language's source files.
func (p *planner) findSources() string {
	var names []string
	for _, g := range p.sourceGlobs() {
		names = append(names, "-name "+shellQuote(g))
	}
	if len(names) == 1 {
		return names[0]
	}
	return `\( ` + strings.Join(names, " -o ") + ` \)`
}

// grepIncludes are grep options limiting a search to the language's
// source files.
func (p *planner) grepIncludes() string {
	var inc []string
	for _, g := range p.sourceGlobs() {
		inc = append(inc, "--include="+shellQuote(g))
	}
	return strings.Join(inc, " ")
}

func (p *planner) plan(fix, tests []*gitdiff.File) ([]step, error) {
	if len(fix) == 0 {
		return nil, errors.New("the patch changes no file")
	}
	symbol := symbolOf(fix)
	p.add(p.pick("Let me start by getting an overview of the repository's source files.",
		"First I'll look at how the repository is laid out."),
		"execute_bash", map[string]any{"command": fmt.Sprintf("find %s -type f %s -not -path '*/.git/*' | sort | head -50", RepoDir, p.findSources())})
	if symbol != "" {
		p.mistake(func() step {
			return step{"Let me search for the code the issue mentions.", "execute_bash",
				map[string]any{"command": fmt.Sprintf("grpe -rn '%s' %s %s", symbol, RepoDir, p.grepIncludes())}}
		})
		p.add(fmt.Sprintf("The issue points at %s; let me find where it is defined and used.", symbol),
			"execute_bash", map[string]any{"command": fmt.Sprintf("grep -rn '%s' %s %s | head -30", symbol, RepoDir, p.grepIncludes())})
	}
	contents := map[string]string{}
	for _, f := range fix {
		if f.IsNew {
			continue
		}
		data, err := p.sb.ReadFile(p.ctx, f.OldName)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f.OldName, err)
		}
		contents[f.OldName] = string(data)
		p.mistake(func() step {
			return step{"Let me open the module.", "str_replace_editor",
				map[string]any{"command": "view", "path": abs(path.Base(f.OldName) + ".orig")}}
		})
		view := map[string]any{"command": "view", "path": abs(f.OldName)}
		if lines := strings.Count(contents[f.OldName], "\n"); lines > 200 && len(f.TextFragments) > 0 {
			first := int(f.TextFragments[0].OldPosition)
			view["view_range"] = []int{max(1, first-20), min(lines, first+60)}
		}
		p.add(p.pick(fmt.Sprintf("Let me read %s.", f.OldName), fmt.Sprintf("Now I'll look at the code in %s.", f.OldName)),
			"str_replace_editor", view)
	}
	p.add("Let me think about what I found before changing anything.", "think", map[string]any{
		"thought": fmt.Sprintf("The behaviour described in the issue comes from %s. I will first reproduce it with a test, then make the smallest change to the source, then rerun the tests.", strings.Join(names(fix), ", "))})

	// Reproduce: write the task's tests with the editor, then run them.
	for _, f := range tests {
		if err := p.edits(f, nil, "reproduce"); err != nil {
			return nil, err
		}
	}
	testCmd, err := p.testCommand(p.task.FailToPass)
	if err != nil {
		return nil, err
	}
	wide, err := p.testCommand(append(append([]string{}, p.task.FailToPass...), p.task.PassToPass...))
	if err != nil {
		return nil, err
	}
	p.mistake(func() step {
		return step{"Let me run the tests that exercise the issue.", "execute_bash", map[string]any{"command": typo(testCmd)}}
	})
	p.add(p.pick("Now let me run the tests to see the failure.", "Let me reproduce the problem by running the relevant tests."),
		"execute_bash", map[string]any{"command": testCmd})

	// Fix.
	for _, f := range fix {
		if err := p.edits(f, contents, "fix"); err != nil {
			return nil, err
		}
	}
	p.add(p.pick("Let me run the same tests again to confirm the fix.", "The change is in place; rerunning the tests."),
		"execute_bash", map[string]any{"command": testCmd})
	if wide != testCmd {
		p.add("And the wider test suite, to check nothing else broke.", "execute_bash", map[string]any{"command": wide})
	}
	p.add("The fix is done.", "finish", map[string]any{
		"message": fmt.Sprintf("I changed %s so that the behaviour described in the issue is fixed, and the tests that reproduce it now pass.", strings.Join(names(fix), ", "))})
	return p.steps, nil
}

// add appends a step, saying first that the previous one went wrong when it
// was a mistake.
func (p *planner) add(text, tool string, args map[string]any) {
	if p.recovering {
		text = p.pick("That did not work. ", "That was a mistake on my part. ", "Hmm, that failed. ") + text
		p.recovering = false
	}
	p.steps = append(p.steps, step{text: text, tool: tool, args: args})
}

// mistake adds a mistaken step with probability rate.
func (p *planner) mistake(make func() step) {
	if p.rate <= 0 || p.rng.Float64() >= p.rate {
		return
	}
	p.steps = append(p.steps, make())
	p.recovering = true
}

func (p *planner) pick(options ...string) string { return options[p.rng.IntN(len(options))] }

// edits adds the editor steps that turn f's old content into its new one;
// contents holds base contents read from the sandbox (nil: read as needed).
func (p *planner) edits(f *gitdiff.File, contents map[string]string, why string) error {
	switch {
	case f.IsDelete:
		p.add(fmt.Sprintf("%s is no longer needed; removing it.", f.OldName), "execute_bash",
			map[string]any{"command": "rm " + shellQuote(abs(f.OldName))})
		return nil
	case f.IsNew:
		var b strings.Builder
		for _, frag := range f.TextFragments {
			for _, l := range frag.Lines {
				if l.Op == gitdiff.OpAdd {
					b.WriteString(l.Line)
				}
			}
		}
		text := fmt.Sprintf("Let me create %s.", f.NewName)
		if why == "reproduce" {
			text = fmt.Sprintf("I'll write tests that reproduce the issue in %s.", f.NewName)
		}
		p.add(text, "str_replace_editor", map[string]any{"command": "create", "path": abs(f.NewName), "file_text": b.String()})
		return nil
	}
	if f.IsRename {
		p.add(fmt.Sprintf("Moving %s to %s.", f.OldName, f.NewName), "execute_bash",
			map[string]any{"command": fmt.Sprintf("mv %s %s", shellQuote(abs(f.OldName)), shellQuote(abs(f.NewName)))})
	}
	current, ok := contents[f.OldName]
	if !ok {
		data, err := p.sb.ReadFile(p.ctx, f.OldName)
		if err != nil {
			return fmt.Errorf("read %s: %w", f.OldName, err)
		}
		current = string(data)
	}
	delta := 0
	for _, frag := range f.TextFragments {
		var oldB, newB strings.Builder
		for _, l := range frag.Lines {
			if l.Op != gitdiff.OpAdd {
				oldB.WriteString(l.Line)
			}
			if l.Op != gitdiff.OpDelete {
				newB.WriteString(l.Line)
			}
		}
		start := int(frag.OldPosition) + delta // 1-based line of the hunk in current
		if frag.OldLines == 0 {
			start++
		}
		oldText, newText, err := uniqueEdit(current, start, oldB.String(), newB.String())
		if err != nil {
			return fmt.Errorf("%s: %w", f.NewName, err)
		}
		delta += int(frag.NewLines) - int(frag.OldLines)
		if oldText == "" {
			p.add(fmt.Sprintf("Adding the new lines to %s.", f.NewName), "str_replace_editor",
				map[string]any{"command": "insert", "path": abs(f.NewName), "insert_line": start - 1, "new_str": newText})
			current = insertAt(current, start-1, newText)
			continue
		}
		oldArg, newArg := oldText, newText
		if strings.HasSuffix(oldArg, "\n") && strings.HasSuffix(newArg, "\n") {
			oldArg, newArg = oldArg[:len(oldArg)-1], newArg[:len(newArg)-1]
		}
		if bad := stale(oldArg); why == "fix" && !strings.Contains(current, bad) {
			p.mistake(func() step {
				return step{"Let me make the change.", "str_replace_editor", map[string]any{
					"command": "str_replace", "path": abs(f.NewName), "old_str": bad, "new_str": newArg}}
			})
		}
		text := p.pick(fmt.Sprintf("I'll edit %s around line %d.", f.NewName, start), fmt.Sprintf("Now the change in %s.", f.NewName))
		if why == "reproduce" {
			text = fmt.Sprintf("I'll add tests that reproduce the issue to %s.", f.NewName)
		}
		p.add(text, "str_replace_editor", map[string]any{"command": "str_replace", "path": abs(f.NewName), "old_str": oldArg, "new_str": newArg})
		current = strings.Replace(current, oldText, newText, 1)
	}
	return nil
}

// uniqueEdit widens a hunk's old and new text with lines around it in
// current until the old text occurs exactly once.
func uniqueEdit(current string, start int, oldText, newText string) (string, string, error) {
	lines := strings.SplitAfter(current, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	n := strings.Count(oldText, "\n")
	if !strings.HasSuffix(oldText, "\n") && oldText != "" {
		n++
	}
	lo, hi := start-1, start-1+n // old text is lines[lo:hi]
	if lo < 0 || hi > len(lines) || strings.Join(lines[lo:hi], "") != oldText {
		return "", "", fmt.Errorf("hunk at line %d does not match the file", start)
	}
	if oldText == "" {
		return "", newText, nil
	}
	for strings.Count(current, oldText) != 1 {
		if lo == 0 && hi == len(lines) {
			return "", "", fmt.Errorf("hunk at line %d is not unique even with the whole file as context", start)
		}
		if lo > 0 {
			lo--
			oldText, newText = lines[lo]+oldText, lines[lo]+newText
		}
		if hi < len(lines) {
			oldText, newText = oldText+lines[hi], newText+lines[hi]
			hi++
		}
	}
	return oldText, newText, nil
}

func insertAt(s string, line int, text string) string {
	lines := strings.SplitAfter(s, "\n")
	line = min(max(line, 0), len(lines))
	return strings.Join(lines[:line], "") + text + strings.Join(lines[line:], "")
}

// testCommand is the command a person runs for tests (the language's
// sdk.PurposeShow command on the task's test command), in the repository.
func (p *planner) testCommand(tests []string) (string, error) {
	tc, err := p.lang.TestCommand(p.ctx, sdk.TestCommandRequest{Purpose: sdk.PurposeShow, Base: p.task.TestCmd, Tests: tests})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("cd %s && %s", RepoDir, strings.TrimSpace(tc.Command)), nil
}

var (
	ident     = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
	called    = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\s*\(`)
	longIdent = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]{3,}`)
)

// symbolOf is the function, class or type a fix changes, read from the
// function context git writes after a hunk's @@ (whatever the language:
// its diff driver or the default of a line starting with a letter), or
// else a longish identifier of a removed line.
func symbolOf(files []*gitdiff.File) string {
	for _, f := range files {
		for _, frag := range f.TextFragments {
			if s := declared(frag.Comment); s != "" {
				return s
			}
		}
	}
	for _, f := range files {
		for _, frag := range f.TextFragments {
			for _, l := range frag.Lines {
				if l.Op == gitdiff.OpDelete {
					for _, id := range longIdent.FindAllString(l.Line, -1) {
						if !keywords[id] {
							return id
						}
					}
				}
			}
		}
	}
	return ""
}

// declared is the name a declaration line gives: the first name called
// like a function after the line's first word (the keyword: "def f(",
// "func (r T) F(", "fn f(", "function f("), else its second word ("class
// C:", "type T struct"). A line of one word declares nothing.
func declared(line string) string {
	line = strings.TrimSpace(line)
	words := ident.FindAllStringIndex(line, -1)
	if len(words) < 2 {
		return ""
	}
	rest := line[words[0][1]:]
	if m := called.FindStringSubmatch(rest); m != nil && !keywords[m[1]] {
		return m[1]
	}
	if w := line[words[1][0]:words[1][1]]; !keywords[w] {
		return w
	}
	return ""
}

var keywords = map[string]bool{"return": true, "self": true, "None": true, "True": true, "False": true, "func": true, "else": true, "elif": true, "range": true, "string": true, "await": true, "async": true, "import": true, "from": true, "lambda": true, "while": true, "break": true, "continue": true, "pass": true, "raise": true}

func names(files []*gitdiff.File) []string {
	var out []string
	for _, f := range files {
		n := f.NewName
		if n == "" {
			n = f.OldName
		}
		out = append(out, n)
	}
	return out
}

func abs(p string) string { return path.Join(RepoDir, p) }

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// typo misspells a command's program, as a hurried engineer would: the
// first word of the command after its `cd DIR &&`, its first two letters
// swapped, so the shell cannot run it (exit 127).
func typo(cmd string) string {
	prefix := ""
	if i := strings.Index(cmd, "&& "); i >= 0 {
		prefix, cmd = cmd[:i+3], cmd[i+3:]
	}
	first, rest, _ := strings.Cut(cmd, " ")
	// An assignment (VAR=value) is not the program: the word after it is.
	for strings.Contains(first, "=") && rest != "" {
		var w string
		w, rest, _ = strings.Cut(rest, " ")
		prefix += first + " "
		first = w
	}
	r := []rune(first)
	if len(r) < 2 || r[0] == r[1] || strings.ContainsAny(first, "=/'\"$") {
		return "sl " + RepoDir
	}
	r[0], r[1] = r[1], r[0]
	out := prefix + string(r)
	if rest != "" {
		out += " " + rest
	}
	return out
}

// stale is an old_str the file does not hold: its first line re-indented.
func stale(s string) string { return "    " + strings.Replace(s, "\n", "\n  ", 1) }
