package diff

import "errors"

// Errors a caller may test for with errors.Is.
var (
	// ErrNotPatch: the text is not a unified or git diff (no file headers
	// or hunks, malformed hunks, binary data).
	ErrNotPatch = errors.New("not a patch")
	// ErrUnsafePatch: the patch touches a path outside the repository (an
	// absolute path, a ".." component, .git/, a symlink leading out).
	ErrUnsafePatch = errors.New("unsafe patch")
)
