package sdk

import (
	"path"
	"strings"
)

// MatchTestFile reports whether the repository path name (slash-separated,
// relative to the root) is a test file by globs, as LanguageSpec.TestFiles
// gives them:
//   - a glob without a slash matches the file's base name ("test_*.py",
//     "*_test.go");
//   - a glob "DIR/**" matches every file below a folder DIR at any depth
//     ("tests/**" matches tests/a.py and pkg/tests/sub/b.py);
//   - any other glob matches the whole path (path.Match).
//
// A malformed glob matches nothing.
func MatchTestFile(globs []string, name string) bool {
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	base := path.Base(name)
	dirs := strings.Split(path.Dir(name), "/")
	for _, g := range globs {
		switch {
		case strings.HasSuffix(g, "/**"):
			dir := strings.TrimSuffix(g, "/**")
			if strings.Contains(dir, "/") {
				if strings.HasPrefix(name, dir+"/") {
					return true
				}
				continue
			}
			for _, d := range dirs {
				if ok, _ := path.Match(dir, d); ok && d != "." {
					return true
				}
			}
		case !strings.Contains(g, "/"):
			if ok, _ := path.Match(g, base); ok {
				return true
			}
		default:
			if ok, _ := path.Match(g, name); ok {
				return true
			}
		}
	}
	return false
}
