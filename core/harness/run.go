package harness

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Default test commands per parser kind. The pytest one is SWE-bench's
// test_cmd for most Python repositories; TestCommand adds -rA and the JUnit
// report itself.
const (
	DefaultPytestCommand = "pytest --no-header -rA --tb=no -p no:cacheprovider"
	DefaultGoTestCommand = "go test -json ./..."

	// GoCacheSeed is where an environment image may keep a Go build cache
	// warmed when the image was built. A go test run copies it to an empty
	// GOCACHE first, so only the packages the patches changed compile.
	GoCacheSeed = "/opt/swelego/go-build-seed"
)

// NewNonce returns a fresh random nonce for TestCommand and ParseRun.
func NewNonce() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("harness: no randomness: %v", err)) // crypto/rand does not fail on supported systems
	}
	return hex.EncodeToString(b[:])
}

func startMarker(nonce string) string { return ">>>>> swelego test output start " + nonce }
func endMarker(nonce string) string   { return ">>>>> swelego test output end " + nonce }

// JUnitPath is where the wrapped pytest command writes its JUnit XML report:
// outside the repository, named by a hash of the nonce, so that the test
// process, which sees the path in its environment, still does not learn the
// nonce that guards the output markers.
func JUnitPath(nonce string) string { return hashedPath("junit", nonce, ".xml") }

// OutputPath is where the wrapped command also keeps its whole output, so
// that the results survive a sandbox that caps what Exec returns (the
// backends keep the first 8 MiB; pytest's summary is at the end). Like
// JUnitPath it does not reveal the nonce.
func OutputPath(nonce string) string { return hashedPath("output", nonce, ".log") }

func hashedPath(what, nonce, ext string) string {
	sum := sha256.Sum256([]byte("swelego-" + what + "\x00" + nonce))
	return "/tmp/swelego-" + hex.EncodeToString(sum[:12]) + ext
}

// TestCommand builds the shell command that runs the tests and brackets
// their output with markers only the harness can print, because only it
// knows nonce:
//
//	{
//	printf '%s\n' '>>>>> swelego test output start NONCE'
//	( BASE TESTS… ) </dev/null 2>&1
//	rc=$?
//	printf '\n%s exit=%s\n' '>>>>> swelego test output end NONCE' "$rc"
//	exit $rc
//	} 2>&1 | tee OutputPath(NONCE)
//	exit ${PIPESTATUS[0]}
//
// so the command's exit status is the test command's, and its whole output
// is also kept in OutputPath(nonce) for ParseRun. base is the test command
// without test ids ("" for the kind's default); tests are appended
// shell-quoted. For kind "pytest" the command also gets
// `-rA --junitxml=JUnitPath(nonce) -o junit_family=xunit1` through
// PYTEST_ADDOPTS (so wrappers that call pytest still honour them); for
// "gotest", -json is added when base lacks it and tests become one
// `-run '^(TestA|TestB)$'` of their top-level names (subtests run with
// their parent). The command needs bash.
func TestCommand(kind string, base string, tests []string, nonce string) string {
	base = strings.TrimSpace(base)
	var cmd strings.Builder
	switch kind {
	case KindPytest:
		if base == "" {
			base = DefaultPytestCommand
		}
		opts := "-rA --junitxml=" + JUnitPath(nonce) + " -o junit_family=xunit1"
		fmt.Fprintf(&cmd, "export PYTEST_ADDOPTS=\"${PYTEST_ADDOPTS:+$PYTEST_ADDOPTS }\"%s\n", shellQuote(opts))
		cmd.WriteString("( " + base)
		for _, t := range tests {
			cmd.WriteString(" " + shellQuote(t))
		}
	case KindGoTest:
		if base == "" {
			base = DefaultGoTestCommand
		}
		if !strings.Contains(base, "-json") {
			base = strings.Replace(base, "go test", "go test -json", 1)
		}
		cmd.WriteString(seedGoCache)
		cmd.WriteString("( " + base)
		if re := goRunPattern(tests); re != "" {
			cmd.WriteString(" -run " + shellQuote(re))
		}
	default:
		cmd.WriteString("( " + base)
		for _, t := range tests {
			cmd.WriteString(" " + shellQuote(t))
		}
	}
	cmd.WriteString("\n) </dev/null 2>&1\n")
	return fmt.Sprintf("{\nprintf '%%s\\n' %s\n%sswelego_rc=$?\nprintf '\\n%%s exit=%%s\\n' %s \"$swelego_rc\"\nexit $swelego_rc\n} 2>&1 | tee -- %s\nexit \"${PIPESTATUS[0]}\"\n",
		shellQuote(startMarker(nonce)), cmd.String(), shellQuote(endMarker(nonce)), shellQuote(OutputPath(nonce)))
}

// SeedGoCache is a shell script that copies GoCacheSeed into an empty
// GOCACHE, silently: a sandbox's first go command then starts warm.
const SeedGoCache = seedGoCache

// seedGoCache copies GoCacheSeed into an empty GOCACHE, silently.
const seedGoCache = `if [ -d ` + GoCacheSeed + ` ]; then swelego_gc=$(go env GOCACHE 2>/dev/null); ` +
	`if [ -n "$swelego_gc" ] && [ ! -e "$swelego_gc" ]; then mkdir -p "$swelego_gc" && cp -R ` + GoCacheSeed + `/. "$swelego_gc"/ 2>/dev/null; fi; fi
`

// goRunPattern is the -run regexp selecting the top-level tests of ids.
func goRunPattern(ids []string) string {
	seen := map[string]bool{}
	var names []string
	for _, id := range ids {
		top, _, _ := strings.Cut(id, "/")
		if top == "" || seen[top] {
			continue
		}
		seen[top] = true
		names = append(names, regexp.QuoteMeta(top))
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	return "^(" + strings.Join(names, "|") + ")$"
}

// shellQuote quotes s for POSIX sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// markedSection returns the output between the nonce markers.
func markedSection(output, nonce string) (string, error) {
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

// RunStatuses is what one run of TestCommand reported.
type RunStatuses struct {
	// Statuses maps test ids to their status.
	Statuses map[string]Status
	// Invalid says why the run as a whole cannot be graded, whatever its
	// statuses say ("" when it can): the JUnit report is missing or broken,
	// a go test package failed without a failing test, or the command
	// exited non-zero while no test failed. Statuses then still holds what
	// the run reported, for the record.
	Invalid string
}

// ParseRun reads one run of TestCommand(kind, …, nonce), whose test
// command exited with exitCode (-1 when unknown). Only the output between
// the nonce markers counts, so text printed before or after by anything
// else is ignored, and within it:
//
//   - pytest: ReconcilePytest of the JUnit report (junit, read from
//     JUnitPath(nonce)) and the "short test summary info" sections
//     (ParsePytestSummary): a pass must be in both. A missing or broken
//     report makes the run invalid; the statuses are then the summary's
//     failures only;
//   - gotest: GoTestRun (test2json events, or go test -v text); a package
//     that failed with no failing test makes the run invalid;
//   - any other kind: the registered parser on the marked section.
//
// For every kind, as SWE-bench v5's get_logs_eval does, a command that
// exited non-zero while no test is FAILED or ERROR makes the run invalid:
// the log does not describe the run that happened.
//
// It fails with ErrNoResults when the markers are missing and with
// ErrUnknownParser for an unknown kind. Empty statuses with a nil error
// mean the run completed but reported no tests.
func ParseRun(kind, output, nonce string, junit []byte, exitCode int) (RunStatuses, error) {
	section, err := markedSection(output, nonce)
	if err != nil {
		return RunStatuses{}, err
	}
	var run RunStatuses
	switch kind {
	case KindPytest:
		summary := ParsePytestSummary(section)
		run.Statuses, err = ReconcilePytest(junit, summary)
		if err != nil {
			run.Invalid = err.Error()
			run.Statuses = make(map[string]Status)
			for id, st := range summary {
				if !Passed(st) {
					run.Statuses[id] = st
				}
			}
		}
	case KindGoTest:
		g := GoTestRun(section)
		run.Statuses, run.Invalid = g.Statuses, g.Invalid
	default:
		p, err := LookupParser(kind)
		if err != nil {
			return RunStatuses{}, err
		}
		run.Statuses = p.Parse(section)
	}
	if run.Statuses == nil {
		run.Statuses = map[string]Status{}
	}
	checkExitCode(&run, exitCode)
	return run, nil
}

// checkExitCode applies SWE-bench v5's rule: a command that exited
// non-zero while no reported test failed is not described by its log.
func checkExitCode(run *RunStatuses, exitCode int) {
	if run.Invalid != "" || exitCode <= 0 || len(run.Statuses) == 0 {
		return
	}
	for _, st := range run.Statuses {
		if st == StatusFailed || st == StatusError {
			return
		}
	}
	run.Invalid = fmt.Sprintf("the test command exited with status %d but no test failed", exitCode)
}
