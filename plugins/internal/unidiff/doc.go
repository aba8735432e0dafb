// Package unidiff writes the one-hunk, git-style unified diffs that the
// first-party language plugins attach to their candidate bugs: the diff of
// one edit of a file, or of two versions of a file that differ in one
// region. It imports only the standard library.
//
// It is not a diff algorithm for arbitrary changes (a region is shown as
// removed and added lines, with no search for common lines inside it) and
// not a diff parser.
package unidiff
