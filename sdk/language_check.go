package sdk

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// This file checks a language's answers against the kind's contract (see
// Language), so the host and plugin tests apply the same rules. Every
// error wraps ErrContract.

// CheckLanguageSpec checks a Describe answer: a name, and names and
// aliases that are single non-empty words without white space, none
// given twice (hosts match them without regard to case, so neither
// may two differ only in case), and ErrorLines that compile.
func CheckLanguageSpec(spec LanguageSpec) error {
	for _, re := range spec.ErrorLines {
		if _, err := regexp.Compile(re); err != nil {
			return fmt.Errorf("%w: error line pattern %q: %v", ErrContract, re, err)
		}
	}
	seen := map[string]bool{}
	for _, n := range append([]string{spec.Name}, spec.Aliases...) {
		if n == "" || strings.ContainsFunc(n, func(r rune) bool { return r <= ' ' }) {
			return fmt.Errorf("%w: language name or alias %q is empty or holds white space", ErrContract, n)
		}
		if seen[strings.ToLower(n)] {
			return fmt.Errorf("%w: language name or alias %q given twice", ErrContract, n)
		}
		seen[strings.ToLower(n)] = true
	}
	return nil
}

// CheckTestCommand checks a TestCommand answer to req: a command, and
// ReadFiles that are clean absolute paths (only asked for when the run is
// graded).
func CheckTestCommand(req TestCommandRequest, cmd TestCommand) error {
	if strings.TrimSpace(cmd.Command) == "" {
		return fmt.Errorf("%w: empty test command", ErrContract)
	}
	for _, f := range cmd.ReadFiles {
		if !path.IsAbs(f) || path.Clean(f) != f {
			return fmt.Errorf("%w: read file %q is not a clean absolute path", ErrContract, f)
		}
	}
	if req.Purpose != PurposeGrade && len(cmd.ReadFiles) > 0 {
		return fmt.Errorf("%w: a %s command names files to read", ErrContract, req.Purpose)
	}
	return nil
}

// CheckTestReport checks a ParseTestRun answer: every id is non-empty and
// every status one of the TestStatus values.
func CheckTestReport(rep TestReport) error {
	for id, st := range rep.Statuses {
		if id == "" {
			return fmt.Errorf("%w: a test with an empty id", ErrContract)
		}
		if !KnownTestStatus(st) {
			return fmt.Errorf("%w: test %q has status %q", ErrContract, id, st)
		}
	}
	return nil
}

// KnownTestStatus reports whether st is one of the TestStatus values.
func KnownTestStatus(st TestStatus) bool {
	switch st {
	case TestPassed, TestFailed, TestSkipped, TestError, TestXFail, TestXPass:
		return true
	}
	return false
}
