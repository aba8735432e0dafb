package python

import "github.com/swelego/swelego/plugins/internal/unidiff"

// unifiedDiff writes the git-style unified diff that turns old into new for
// file name, as one hunk around the single region where they differ. Both
// git apply and patch -p1 accept it.
func unifiedDiff(name string, old, new []byte) string {
	return unidiff.Between(name, old, new)
}
