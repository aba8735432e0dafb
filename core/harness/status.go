package harness

import "github.com/swelego/swelego/sdk"

// Status is the outcome of one test as a log parser reports it: the sdk's
// TestStatus, so a log_parser plugin's answer needs no conversion. The
// values are SWE-bench's TestStatus names, plus XPASS, which SWE-bench's
// parsers never emit (an XPASS test is missing for them, so it fails;
// grading here gives it the same result).
type Status = sdk.TestStatus

// Test statuses.
const (
	StatusPassed  = sdk.TestPassed
	StatusFailed  = sdk.TestFailed
	StatusSkipped = sdk.TestSkipped
	StatusError   = sdk.TestError
	StatusXFail   = sdk.TestXFail
	StatusXPass   = sdk.TestXPass
	// StatusMissing is what a graded result records for an expected test the
	// run did not report at all. Parsers never produce it.
	StatusMissing Status = "MISSING"
)

// Parser turns a test log into a status per test id: a log_parser plugin an
// environment names in place of its language's own reading of the output
// (Options.Parser). Parsers never fail: lines they do not understand are
// ignored. Parse must be safe for concurrent use.
type Parser interface {
	Parse(log string) map[string]Status
}

// ParserFunc adapts a function to Parser.
type ParserFunc func(log string) map[string]Status

// Parse calls f(log).
func (f ParserFunc) Parse(log string) map[string]Status { return f(log) }
