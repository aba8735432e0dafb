// Package github is the first-party task source that mines merged pull
// requests of GitHub repositories (the REST API, through go-github) into
// candidate SWE-bench tasks, with SWE-rebench's filters: merged in a date
// range, resolving exactly one issue, an issue text long enough, 1–15
// files changed (and, given test-file globs, both tests and code). Every
// rejection is counted by reason.
//
// It is polite to the API: conditional requests (ETag / If-None-Match)
// against an on-disk cache, waits for the primary rate limit's reset and
// backs off on secondary limits (403/429 with Retry-After), follows Link
// pagination, and keeps a journal of decided pull requests so a killed run
// resumes at the page and pull request it reached. The token comes from an
// environment variable and is never logged, stored or put in an error.
//
// It does not validate: a candidate has no FAIL_TO_PASS, and its patch is
// the whole pull request; the host splits it into patch and test_patch by
// the language's test files and runs the tests before and after.
package github
