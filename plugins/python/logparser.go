package python

import (
	"context"
	"regexp"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// LogParser reads pytest output (`pytest -rA`, or `pytest -v` without a
// summary) into a status per test id, as core/harness's pytest parsers do:
// when the log holds "short test summary info" sections only they count
// (result-like lines a test printed are replayed by pytest before the
// summary and must not count), and a test reported by several summaries
// gets the worst status; without a summary every result line counts, the
// last one winning.
type LogParser struct{}

var _ sdk.LogParser = LogParser{}

// ParseLog implements sdk.LogParser; cfg is unused.
func (LogParser) ParseLog(_ context.Context, _ sdk.Config, log string) (map[string]sdk.TestStatus, error) {
	return ParsePytestLog(log), nil
}

// ParsePytestLog is LogParser's parse, usable without a plugin host: the
// summaries' statuses (ParsePytestSummary) when the log has a summary,
// else every result line's (ParsePytestLines).
func ParsePytestLog(log string) map[string]sdk.TestStatus {
	lines := strings.Split(log, "\n")
	if sections := summarySections(lines); len(sections) > 0 {
		return mergeSummaries(sections)
	}
	return parseLines(lines)
}

// ParsePytestLines reads every result line of a pytest log, as SWE-bench's
// parse_log_pytest does: "STATUS id [- message]" and "id STATUS [ NN%]",
// colour codes and control characters removed, spaces inside a
// parametrised id's brackets kept, "SKIPPED [N] file:line" ignored, the
// last line of a test winning.
func ParsePytestLines(log string) map[string]sdk.TestStatus {
	return parseLines(strings.Split(log, "\n"))
}

// ParsePytestSummary reads only the "short test summary info" sections of
// a pytest -rA log: result lines a test printed are replayed by pytest
// before the summary and do not count. When the log holds several
// summaries (a command that runs pytest twice, or one a test printed after
// pytest finished), each test gets the worst status any of them gives it,
// so a forged summary can add tests but cannot turn a failure into a pass.
func ParsePytestSummary(log string) map[string]sdk.TestStatus {
	return mergeSummaries(summarySections(strings.Split(log, "\n")))
}

func parseLines(lines []string) map[string]sdk.TestStatus {
	out := map[string]sdk.TestStatus{}
	for _, l := range lines {
		if id, st, ok := resultLine(l); ok {
			out[id] = st
		}
	}
	return out
}

func mergeSummaries(sections [][]string) map[string]sdk.TestStatus {
	out := map[string]sdk.TestStatus{}
	for _, sec := range sections {
		inSection := map[string]sdk.TestStatus{}
		for _, l := range sec {
			if id, st, ok := resultLine(l); ok {
				inSection[id] = st
			}
		}
		for id, st := range inSection {
			if prev, ok := out[id]; !ok || badness(st) >= badness(prev) {
				out[id] = st
			}
		}
	}
	return out
}

var (
	escapeSeq     = regexp.MustCompile(`\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])`)
	lostEscape    = regexp.MustCompile(`\[[0-9;]*m`)
	lostEscStatus = regexp.MustCompile(`\[[0-9;]*m(?:PASSED|FAILED|SKIPPED|ERROR|XFAIL|XPASS)\b`)
	skipCount     = regexp.MustCompile(`^\[\d+\]$`)
	summaryStart  = regexp.MustCompile(`^=+ short test summary info =+$`)
	statsLine     = regexp.MustCompile(`^=+ .* =+$`)
)

// summarySections returns the lines of each "short test summary info"
// section, up to the statistics line that closes it (or the end).
func summarySections(lines []string) [][]string {
	var out [][]string
	var cur []string
	open := false
	for _, l := range lines {
		c := plain(l)
		switch {
		case summaryStart.MatchString(c):
			if open {
				out = append(out, cur)
			}
			cur, open = nil, true
		case open && statsLine.MatchString(c):
			out = append(out, cur)
			cur, open = nil, false
		case open:
			cur = append(cur, l)
		}
	}
	if open {
		out = append(out, cur)
	}
	return out
}

// plain removes colour codes (also those whose ESC byte got lost), what a
// carriage return overwrote, and control characters (tabs become spaces).
func plain(l string) string {
	if strings.IndexByte(l, 0x1b) >= 0 {
		l = escapeSeq.ReplaceAllString(l, "")
	}
	if lostEscStatus.MatchString(l) {
		l = lostEscape.ReplaceAllString(l, "")
	}
	l = strings.TrimRight(l, "\r")
	if i := strings.LastIndexByte(l, '\r'); i >= 0 {
		l = l[i+1:]
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, l)
}

// resultLine reads "STATUS id [- message]" (the -rA summary) or "id STATUS
// [ NN%]" (verbose progress).
func resultLine(l string) (string, sdk.TestStatus, bool) {
	l = plain(l)
	if l == "" || l[0] == ' ' {
		return "", "", false
	}
	first, rest := token(l)
	if st, ok := statusWord(first); ok {
		id, _ := token(rest)
		if id == "" || st == sdk.TestSkipped && skipCount.MatchString(id) {
			return "", "", false
		}
		return id, st, true
	}
	second, after := token(rest)
	st, ok := statusWord(second)
	if !ok || after != "" && after[0] != ' ' || !strings.ContainsFunc(first, isAlnum) {
		return "", "", false
	}
	return first, st, true
}

func isAlnum(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

// token returns the next space-separated token of s, where spaces inside
// balanced square brackets (parametrised ids) do not separate.
func token(s string) (string, string) {
	s = strings.TrimLeft(s, " ")
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			if depth > 0 {
				depth--
			}
		case ' ':
			if depth == 0 {
				return s[:i], s[i:]
			}
		}
	}
	if depth > 0 {
		if i := strings.IndexByte(s, ' '); i >= 0 {
			return s[:i], s[i:]
		}
	}
	return s, ""
}

func statusWord(s string) (sdk.TestStatus, bool) {
	switch st := sdk.TestStatus(s); st {
	case sdk.TestPassed, sdk.TestFailed, sdk.TestSkipped, sdk.TestError, sdk.TestXFail, sdk.TestXPass:
		return st, true
	}
	return "", false
}

// badness orders statuses for merging summaries: passing, skipped, failing.
func badness(st sdk.TestStatus) int {
	switch st {
	case sdk.TestPassed, sdk.TestXFail:
		return 0
	case sdk.TestSkipped:
		return 1
	}
	return 2
}
