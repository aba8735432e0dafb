// Command swelego-plugin-javascript is a language plugin shipped from
// outside swelego: its own Go module, importing only swelego's sdk, built
// as its own binary and found by plugin discovery. It teaches swelego
// JavaScript on Node's built-in test runner (`node --test`, Node 18 or
// later: Debian bookworm's nodejs) and serves, in one binary:
//
//   - the language kind: image packages (nodejs, git, patch), the test
//     commands, the TAP parser and a `node --check` syntax check;
//   - a bug injector: a token-level mutator (lex.go, rules.go) that never
//     edits inside a string, template literal, regexp literal or comment;
//   - a log parser: the same TAP parser.
//
// # Test ids
//
// A test's id is "FILE::NAME": FILE is the test file's path from the
// repository root, NAME the names of the describe() suites and tests that
// hold the test, then its own, joined by " > " ("test/slug.test.js::slugify
// > keeps digits"). Names are as written in the source; a control
// character in one shows as the runner writes it ("\n"). Two tests of one
// name in one suite share an id, which gets the worse of their statuses.
// A file that fails to load, or whose process exits before its tests
// report, is a test of its own whose id is FILE. Suites are not tests:
// their tests have statuses, they have none, except that a suite that
// failed by itself (its describe() body threw, a before() hook failed) is
// reported FAILED under its id, as the runner's exit status says.
//
// Running a subset runs the files the ids name, each with one
// --test-name-pattern per top-level test or suite that holds an asked
// test, anchored and with regexp metacharacters escaped. Whole top-level
// groups run, so that a test never passes alone where it fails in the
// whole run (a test whose failing subtests were filtered out would).
//
// # Statuses
//
// ok is PASSED, not ok FAILED (a cancelled test too), # SKIP SKIPPED. A
// # TODO test is neither a pass nor a failure to the runner; it is
// SKIPPED here, so marking a test todo never gets it past a grade.
//
// # The guard on the runner's output
//
// The grade command runs each test file on its own, `node --test
// --test-reporter=tap FILE`, between marker lines it prints itself
// ("swelego-javascript: file F", "… exit N"). Under --test each file runs
// in a child process whose reports reach the runner as serialized
// messages, not text: whatever a test prints, to stdout or stderr, the
// runner re-emits as a "# " comment line. So a test that prints "ok 1 -
// x", "# Subtest: x" or a marker line cannot forge a result. A test can
// still print "tests 3", which shows as "# tests 3": the summary is read
// only after the file's top-level plan ("1..N"), which the runner prints
// once its child has exited. The run of a file is Invalid when:
//
//   - it has no summary, two summaries, or a count before "# tests";
//   - the summary's tests, pass, fail (+ cancelled), skipped and todo
//     counts differ from the parsed results, or the plan from the
//     top-level results;
//   - the runner's exit status disagrees with the summary (non-zero with
//     nothing failed, zero with a failure);
//   - a result lies outside any file's run, after the summary, or names
//     no subtest that was begun; the runner bailed out; the run did not
//     finish (no exit marker).
//
// Like pytest's guards, these catch what a test can print, not a patch
// that rewrites Node itself or writes to the runner's own descriptors
// through /proc (which could write a whole consistent stream): output
// can be added to, never taken away, so an added result shows as a count
// that disagrees or a duplicate whose worst status wins.
//
// # Harness files
//
// Node's test runner reads no configuration file (nothing like conftest.py
// or pytest.ini): how it runs is the command line, and each test file runs
// in a process of its own. The language names no harness files.
package main
