// Package diff reads unified and git diffs: it checks that a patch is one
// and stays inside the repository it is applied to (Check), cuts a diff
// into its file sections (Sections), lists the files it changes
// (ChangedFiles) and the lines it changes with their numbers on either
// side (ChangedLines), swaps the sides of a diff of modified text files
// (Reverse), and parses one into files and hunks to replay (Parse, over
// go-gitdiff). It knows no language and runs nothing: applying a patch is
// the harness's.
package diff
