package harness

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/sdk"
)

// NewNonce returns a fresh random nonce for WrapCommand and Section.
func NewNonce() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("harness: no randomness: %v", err)) // crypto/rand does not fail on supported systems
	}
	return hex.EncodeToString(b[:])
}

func startMarker(nonce string) string { return ">>>>> swelego test output start " + nonce }
func endMarker(nonce string) string   { return ">>>>> swelego test output end " + nonce }

// ReportDir is the directory a grading test command may have its runner
// write structured reports to (sdk.TestCommandRequest.ReportDir): outside
// the repository, named by a hash of the nonce, so that the test process,
// which can see the path in its environment, still does not learn the
// nonce that guards the output markers.
func ReportDir(nonce string) string { return hashedPath("reports", nonce, "") }

// OutputPath is where the wrapped command also keeps its whole output, so
// that the results survive a sandbox that caps what Exec returns (the
// backends keep the first 8 MiB; a runner's summary is often at the end).
// Like ReportDir it does not reveal the nonce.
func OutputPath(nonce string) string { return hashedPath("output", nonce, ".log") }

func hashedPath(what, nonce, ext string) string {
	sum := sha256.Sum256([]byte("swelego-" + what + "\x00" + nonce))
	return "/tmp/swelego-" + hex.EncodeToString(sum[:12]) + ext
}

// WrapCommand brackets the output of a test command (a bash script a
// language gave) with markers only the harness can print, because only it
// knows nonce:
//
//	mkdir -p REPORTDIR
//	{
//	printf '%s\n' '>>>>> swelego test output start NONCE'
//	( CMD
//	) </dev/null 2>&1
//	rc=$?
//	printf '\n%s exit=%s\n' '>>>>> swelego test output end NONCE' "$rc"
//	exit $rc
//	} 2>&1 | tee OutputPath(NONCE)
//	exit ${PIPESTATUS[0]}
//
// so the wrapped command's exit status is the test command's, and its
// whole output is also kept in OutputPath(nonce). reportDir, when not
// empty, is created first. The command needs bash.
func WrapCommand(cmd, nonce, reportDir string) string {
	var b strings.Builder
	if reportDir != "" {
		fmt.Fprintf(&b, "mkdir -p -- %s\n", shellQuote(reportDir))
	}
	fmt.Fprintf(&b, "{\nprintf '%%s\\n' %s\n( %s\n) </dev/null 2>&1\nswelego_rc=$?\nprintf '\\n%%s exit=%%s\\n' %s \"$swelego_rc\"\nexit $swelego_rc\n} 2>&1 | tee -- %s\nexit \"${PIPESTATUS[0]}\"\n",
		shellQuote(startMarker(nonce)), strings.TrimRight(cmd, "\n"), shellQuote(endMarker(nonce)), shellQuote(OutputPath(nonce)))
	return b.String()
}

// shellQuote quotes s for POSIX sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Section returns the output a command wrapped with nonce printed between
// its markers. It fails with ErrNoResults when either marker is missing.
func Section(output, nonce string) (string, error) {
	if nonce == "" {
		return "", fmt.Errorf("%w: empty nonce", ErrNoResults)
	}
	start := startMarker(nonce) + "\n"
	i := strings.Index(output, start)
	if i < 0 {
		return "", fmt.Errorf("%w: the start marker is missing", ErrNoResults)
	}
	body := output[i+len(start):]
	j := strings.LastIndex(body, endMarker(nonce))
	if j < 0 {
		return "", fmt.Errorf("%w: the end marker is missing (the test command was cut short)", ErrNoResults)
	}
	return body[:j], nil
}

// checkExitCode applies SWE-bench v5's rule: a command that exited
// non-zero while no reported test failed is not described by its log.
func checkExitCode(rep *sdk.TestReport, exitCode int) {
	if rep.Invalid != "" || exitCode <= 0 || len(rep.Statuses) == 0 {
		return
	}
	for _, st := range rep.Statuses {
		if st == StatusFailed || st == StatusError {
			return
		}
	}
	rep.Invalid = fmt.Sprintf("the test command exited with status %d but no test failed", exitCode)
}

// TestRun is what one run of a language's test command left, read back.
type TestRun struct {
	// Report is the run as the language (or Options.Parser) read it, with
	// the exit-code rule applied: Invalid is set when the command exited
	// non-zero while no reported test failed.
	Report sdk.TestReport
	// Output is the command's whole output, markers included.
	Output string
	// Marked is the part of Output between the markers: what the test
	// command printed.
	Marked   string
	ExitCode int // -1 when the command did not run
	TimedOut bool
}

// RunTests runs the tests req asks for once in sb, with the command lang
// gives for req, wrapped by WrapCommand with a fresh nonce (and, for
// sdk.PurposeGrade, a fresh ReportDir), and has lang read the output
// between the markers and the files the command names. It fails with
// ErrTimeout when the command ran past timeout, with ErrNoResults when a
// marker is missing, and with the language's or the sandbox's error.
func RunTests(ctx context.Context, sb sdk.Sandbox, lang *language.Language, req sdk.TestCommandRequest, timeout time.Duration) (TestRun, error) {
	return runTests(ctx, sb, lang, nil, req, timeout)
}

// runTests is RunTests where parser, when set, reads the marked output
// instead of the language.
func runTests(ctx context.Context, sb sdk.Sandbox, lang *language.Language, parser Parser, req sdk.TestCommandRequest, timeout time.Duration) (TestRun, error) {
	run := TestRun{ExitCode: -1}
	if lang == nil {
		return run, fmt.Errorf("%w to run the tests with", ErrNoLanguage)
	}
	nonce := NewNonce()
	req.ReportDir = ""
	if req.Purpose == sdk.PurposeGrade {
		req.ReportDir = ReportDir(nonce)
	}
	tc, err := lang.TestCommand(ctx, req)
	if err != nil {
		return run, err
	}
	res, err := sb.Exec(ctx, WrapCommand(tc.Command, nonce, req.ReportDir), timeout)
	run.Output = res.Output
	if err != nil {
		return run, fmt.Errorf("sandbox: %w", err)
	}
	run.ExitCode, run.TimedOut = res.ExitCode, res.TimedOut
	// The kept copy is whole even when Exec's output was capped.
	if data, err := sb.ReadFile(ctx, OutputPath(nonce)); err == nil && len(data) > 0 {
		run.Output = string(data)
	}
	// The files stay: their names are fresh for every run, and the
	// sandbox is closed after the last (one Exec less per run).
	if res.TimedOut {
		return run, fmt.Errorf("%w after %s", ErrTimeout, timeout)
	}
	files := map[string]string{}
	if parser == nil {
		for _, p := range tc.ReadFiles {
			// A file the run did not leave is handed over as missing.
			if data, err := sb.ReadFile(ctx, p); err == nil {
				files[p] = string(data)
			}
		}
	}
	run.Marked, _ = Section(run.Output, nonce)
	run.Report, err = readRun(ctx, lang, parser, sdk.TestRun{Tests: req.Tests, Output: run.Output, ExitCode: run.ExitCode, Files: files, Task: req.Task}, nonce)
	return run, err
}

// readRun reads a run of a command wrapped with nonce: run.Output is the
// whole output, of which only the part between the markers goes to the
// parser (or the language), and the exit-code rule is applied to what it
// reads.
func readRun(ctx context.Context, lang *language.Language, parser Parser, run sdk.TestRun, nonce string) (sdk.TestReport, error) {
	section, err := Section(run.Output, nonce)
	if err != nil {
		return sdk.TestReport{}, err
	}
	var rep sdk.TestReport
	if parser != nil {
		rep.Statuses = parser.Parse(section)
	} else {
		run.Output = section
		rep, err = lang.ParseTestRun(ctx, run)
		if err != nil {
			return sdk.TestReport{}, err
		}
	}
	if rep.Statuses == nil {
		rep.Statuses = map[string]Status{}
	}
	checkExitCode(&rep, run.ExitCode)
	return rep, nil
}
