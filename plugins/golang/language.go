package golang

import (
	"context"
	"path"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// Language serves sdk.Language for Go: a Debian image with Go from the
// release's backports, a build cache warmed when the environment image is
// built, go test -json commands and their parse.
type Language struct{}

var _ sdk.Language = Language{}

const (
	// DefaultTestCommand runs a module's whole suite.
	DefaultTestCommand = "go test -json ./..."
	// CacheSeed is where an environment image keeps the Go build cache
	// warmed when the image was built; sandboxes start from it, so only
	// the packages a patch changed compile.
	CacheSeed = "/opt/swelego/go-build-seed"
	// goCache is the sandboxes' build cache: under /tmp, because the rest
	// of a bwrap sandbox's root file system, home included, is read-only.
	goCache = "/tmp/.cache/go-build"
)

// OpenCache puts the build-cache seed in place as GOCACHE when GOCACHE
// does not exist yet, silently, and always succeeds. Where the seed is
// writable (a docker container, whose writes land in its own layer, so
// the image and other sandboxes never see them) GOCACHE becomes a link to
// it; where the root file system is read-only (bwrap) the seed is copied.
const OpenCache = `if [ -d ` + CacheSeed + ` ]; then swelego_gc=${GOCACHE:-$(go env GOCACHE 2>/dev/null)}; ` +
	`if [ -n "$swelego_gc" ] && [ ! -e "$swelego_gc" ]; then mkdir -p "$(dirname "$swelego_gc")" && ` +
	`if [ -w ` + CacheSeed + ` ]; then ln -s ` + CacheSeed + ` "$swelego_gc"; ` +
	`else mkdir -p "$swelego_gc" && cp -R ` + CacheSeed + `/. "$swelego_gc"/; fi; fi; fi 2>/dev/null || :
`

// Describe implements sdk.Language; cfg is unused. Tasks name the
// language "go"; the plugin itself is registered as golang, an alias.
func (Language) Describe(context.Context, sdk.Config) (sdk.LanguageSpec, error) {
	return sdk.LanguageSpec{
		Name:        "go",
		Aliases:     []string{"golang"},
		SourceFiles: []string{"*.go"},
		// go test's files, and testdata folders the tests read (a pull
		// request's changes to them make its test_patch).
		TestFiles: []string{"*_test.go", "testdata/**"},
		Image: sdk.ImageSpec{
			Packages:  []string{"git", "patch", "ca-certificates"},
			Backports: []string{"golang-1.23-go"},
			Links: map[string]string{
				"/usr/local/bin/go":    "/usr/lib/go-1.23/bin/go",
				"/usr/local/bin/gofmt": "/usr/lib/go-1.23/bin/gofmt",
			},
			// Go never fetches another toolchain.
			Env:       []string{"GOTOOLCHAIN=local", "GOCACHE=" + goCache},
			OwnedDirs: []string{CacheSeed},
			Setup:     []string{"if [ -f go.mod ]; then go mod download; fi"},
			Warm:      []string{"GOCACHE=" + CacheSeed + " go test -count=1 -run '^$' ./... >/dev/null 2>&1"},
			Open:      OpenCache,
		},
		DefaultTestCommand: DefaultTestCommand,
		// The go command's lines when a package cannot be built or found
		// (also inside go test -json's Output fields).
		ErrorLines: []string{`cannot find package`, `no required module provides package`, `go\.mod file not found`, `\[setup failed\]`},
	}, nil
}

// CheckCommand implements sdk.Language: go build of every package
// (-o /dev/null), starting from the build-cache seed as the test runs do,
// so only the changed packages and their dependents compile; "" when no
// Go file, go.mod or go.sum changed.
func (Language) CheckCommand(_ context.Context, _ sdk.Config, req sdk.CheckRequest) (string, error) {
	for _, f := range req.Files {
		if strings.HasSuffix(f, ".go") || path.Base(f) == "go.mod" || path.Base(f) == "go.sum" {
			return OpenCache + "go build -o /dev/null ./...", nil
		}
	}
	return "", nil
}

// shellQuote quotes s for POSIX sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
