// Package swebench is the first-party task source for SWE-bench-format
// files: JSON arrays or JSON Lines of instances, as SWE-bench, SWE-bench
// Verified, SWE-smith and SWE-rebench publish them.
//
// It also serves the language "swebench" (Language): SWE-bench's
// knowledge of its repositories, the test command and eval commands per
// repository and version (specs.go, checked against SWE-bench's published
// table in testdata/specs.golden) and the log parser per repository
// (parsers.go), with SWE-smith's single test command for the tasks the
// table does not hold. Grading with SWE-bench's rules lives in the
// harness, which knows none of this.
package swebench
