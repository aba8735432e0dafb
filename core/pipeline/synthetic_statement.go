package pipeline

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/swelego/swelego/core/diff"
	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/sdk"
)

// Who wrote a synthetic task's problem statement (SyntheticOrigin.Statement).
const (
	StatementTemplate = "template"
	StatementModel    = "model"
)

// Limits of model-written problem statements.
const (
	statementTimeout   = 5 * time.Minute
	failureOutputBytes = 6000
	minStatementBytes  = 40
	maxStatementBytes  = 12000
)

// writeStatement sets t's problem statement: written by the source's model
// when it names one and the reply passes checkStatement, else from the
// template. mutations are the diffs between the correct and the buggy
// tree, in either direction: their changed lines must not show. It returns
// who wrote the statement.
func (r *synthRun) writeStatement(ctx context.Context, t *sdk.Task, mutations []string) string {
	t.ProblemStatement = problemStatement(*t)
	if r.model == nil {
		return StatementTemplate
	}
	ch := changedLines(mutations)
	out, err := r.failureOutput(ctx, *t)
	if err != nil {
		r.sc.Logger.Warn("problem statement: no failure output; the model sees test names only", "instance_id", t.InstanceID, "error", err)
	}
	prepared, err := r.envs.Prepare(*t)
	if err != nil {
		prepared = *t
	}
	repro, err := reproduction(ctx, r.hopts.Language, prepared)
	if err != nil {
		r.sc.Logger.Warn("problem statement: no reproduction command", "instance_id", t.InstanceID, "error", err)
	}
	req := statementPrompt(*t, ch.scrub(out), repro)
	cctx, cancel := context.WithTimeout(ctx, statementTimeout)
	defer cancel()
	resp, err := r.model.Chat(cctx, req)
	if err != nil {
		r.sc.Logger.Warn("problem statement: the model call failed; using the template", "instance_id", t.InstanceID, "error", err)
		return StatementTemplate
	}
	text, why := checkStatement(resp.Message.Content, ch)
	if why != "" {
		r.sc.Logger.Warn("problem statement: the model's reply is not used; using the template", "instance_id", t.InstanceID, "reason", why)
		return StatementTemplate
	}
	t.ProblemStatement = text
	return StatementModel
}

// failureOutput runs the task's FAIL_TO_PASS tests once on the buggy tree
// as a user would (the language's PurposeShow command) and returns what
// they would see: the failures as the language reads them from the
// output, or the whole output when it cannot tell.
func (r *synthRun) failureOutput(ctx context.Context, t sdk.Task) (string, error) {
	// The environment's test command, as validation ran it.
	prepared, err := r.envs.Prepare(t)
	if err != nil {
		return "", err
	}
	sb, err := r.open(ctx, t)
	if err != nil {
		return "", err
	}
	defer sb.Close(context.WithoutCancel(ctx))
	timeout := r.hopts.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	run, err := harness.RunTests(ctx, sb, r.hopts.Language,
		sdk.TestCommandRequest{Purpose: sdk.PurposeShow, Base: prepared.TestCmd, Tests: t.FailToPass}, timeout)
	if err != nil {
		return "", err
	}
	out := run.Report.Failures
	if strings.TrimSpace(out) == "" {
		out = run.Marked
	}
	if len(out) > failureOutputBytes {
		out = out[:failureOutputBytes] + "\n[… output cut …]\n"
	}
	return out, nil
}

// reproduction is the command a user would run to see the failure: the
// language's command for people (PurposeShow) running the task's test
// command (the environment's, which may set up the path) on its first
// FAIL_TO_PASS test.
func reproduction(ctx context.Context, lang *language.Language, t sdk.Task) (string, error) {
	if len(t.FailToPass) == 0 || lang == nil {
		return "", nil
	}
	tc, err := lang.TestCommand(ctx, sdk.TestCommandRequest{Purpose: sdk.PurposeShow, Base: t.TestCmd, Tests: t.FailToPass[:1]})
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(tc.Command), nil
}

// statementPrompt asks for an issue written from the failure a user saw.
func statementPrompt(t sdk.Task, output, repro string) sdk.ChatRequest {
	var b strings.Builder
	fmt.Fprintf(&b, "A user of the %s repository hit a regression. What they observed:\n\n", t.Repo)
	fmt.Fprintf(&b, "Tests that fail now and passed before (%d other tests still pass):\n", len(t.PassToPass))
	for _, id := range t.FailToPass {
		fmt.Fprintf(&b, "- %s\n", id)
	}
	if strings.TrimSpace(output) != "" {
		fmt.Fprintf(&b, "\nOutput of the failing run:\n\n```\n%s\n```\n", strings.TrimRight(output, "\n"))
	}
	if repro != "" {
		fmt.Fprintf(&b, "\nThey reproduce it with: `%s`\n", repro)
	}
	b.WriteString("\nWrite the GitHub issue this user would file: a one-line title, then what they expected, what happens instead and how to reproduce it. " +
		"Describe behaviour only: do not guess which code is wrong, do not propose a fix, and do not quote the project's source code. " +
		"Answer with the issue text only.")
	return sdk.ChatRequest{Messages: []sdk.Message{
		{Role: "system", Content: "You write clear, factual bug reports for open-source projects."},
		{Role: "user", Content: b.String()},
	}}
}

// changes are the lines a set of mutations changed: their text (without
// white space) and, per file, the line numbers on either side.
type changes struct {
	text  []string
	lines map[string]map[int]bool
}

// changedLines reads the removed and added lines of diffs. Lines too short
// or too common to point at the bug (a lone brace, "return", "else:") are
// left out of text.
func changedLines(diffs []string) changes {
	ch := changes{lines: map[string]map[int]bool{}}
	for _, d := range diffs {
		for _, l := range diff.ChangedLines(d) {
			ch.add(l.File, l.N, l.Text)
		}
	}
	return ch
}

func (ch *changes) add(file string, n int, line string) {
	if ch.lines[file] == nil {
		ch.lines[file] = map[int]bool{}
	}
	ch.lines[file][n] = true
	// Lines of letters only ("return", "else", "pass") are too common to
	// point at anything; a line with an operator or a bracket does.
	s := squash(line)
	letters := strings.IndexFunc(s, unicode.IsLetter) >= 0
	symbols := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' }) >= 0
	if len(s) >= 6 && letters && symbols {
		ch.text = append(ch.text, s)
	}
}

// squash removes white space, so quoting survives reformatting.
func squash(s string) string {
	return strings.Join(strings.Fields(s), "")
}

// quotes reports whether s contains a changed line.
func (ch changes) quotes(s string) bool {
	sq := squash(s)
	for _, l := range ch.text {
		if strings.Contains(sq, l) {
			return true
		}
	}
	return false
}

// scrub drops the lines of a test log that show a changed line or point at
// one (FILE:LINE), so the model is not shown where the bug is.
func (ch changes) scrub(log string) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if ch.quotes(l) || ch.pointsAt(l) {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

var fileLineRe = regexp.MustCompile(`([\w./-]+):(\d+)`)

func (ch changes) pointsAt(l string) bool {
	for _, m := range fileLineRe.FindAllStringSubmatch(l, -1) {
		n, _ := strconv.Atoi(m[2])
		for file, lines := range ch.lines {
			if lines[n] && (strings.HasSuffix(m[1], file) || strings.HasSuffix(file, "/"+m[1]) || file == m[1]) {
				return true
			}
		}
	}
	return false
}

// checkStatement cleans the model's reply (a fence around all of it is
// removed) and returns it, or why it cannot be used: empty or too long,
// showing a diff, or quoting a changed line.
func checkStatement(reply string, ch changes) (string, string) {
	text := strings.TrimSpace(reply)
	if strings.HasPrefix(text, "```") && strings.HasSuffix(text, "```") && strings.Count(text, "```") == 2 {
		text = strings.TrimSpace(strings.TrimSuffix(text[strings.IndexByte(text, '\n')+1:], "```"))
	}
	switch {
	case len(text) < minStatementBytes:
		return "", "the reply is empty or too short"
	case len(text) > maxStatementBytes:
		return "", "the reply is too long"
	case strings.Contains(text, "diff --git") || regexp.MustCompile(`(?m)^@@ -\d`).MatchString(text):
		return "", "the reply shows a diff"
	case ch.quotes(text):
		return "", "the reply quotes a line the bug changed"
	}
	return text + "\n", ""
}

// problemStatement writes an issue a user could have filed: what fails,
// never where the bug is.
func problemStatement(t sdk.Task) string {
	var b strings.Builder
	tests := t.FailToPass
	if len(tests) == 1 {
		fmt.Fprintf(&b, "%s fails\n\n", tests[0])
		b.WriteString("After a recent change this test fails:\n\n")
	} else {
		fmt.Fprintf(&b, "%d tests fail after a recent change\n\n", len(tests))
		b.WriteString("After a recent change these tests fail:\n\n")
	}
	for _, name := range tests {
		fmt.Fprintf(&b, "- `%s`\n", name)
	}
	if len(tests) == 1 {
		b.WriteString("\nIt passed before")
	} else {
		b.WriteString("\nThey passed before")
	}
	fmt.Fprintf(&b, ", and the other %d tests of the repository still pass. ", len(t.PassToPass))
	b.WriteString("The tests are right: the behaviour they check is broken in the code they exercise. Please find the cause and fix it without changing the tests.\n")
	return b.String()
}
