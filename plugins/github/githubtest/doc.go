// Package githubtest is a local stand-in of the GitHub REST API for tests
// and benchmarks: it serves a repository described in a fixture file with
// the API's field names and shapes (pull requests, issues, issue comments,
// the issue timeline, a pull request's files, commits and .diff media
// type, comparisons, repository search), its headers (X-RateLimit-*,
// ETag and 304 answers to If-None-Match, Link pagination) and its rate
// limits (a primary limit that answers 403 when spent, secondary limits
// that answer 403 with Retry-After).
//
// It is not GitHub: it serves only the endpoints the github task source
// calls, and only GET.
package githubtest
