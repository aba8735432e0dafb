package diff

import (
	"strings"

	"github.com/bluekeyes/go-gitdiff/gitdiff"
)

// Parse reads a git diff into its files and their hunks (go-gitdiff's
// model). Text that is only white space holds no files.
func Parse(d string) ([]*gitdiff.File, error) {
	if strings.TrimSpace(d) == "" {
		return nil, nil
	}
	files, _, err := gitdiff.Parse(strings.NewReader(d))
	return files, err
}
