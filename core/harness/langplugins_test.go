package harness

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swelego/swelego/plugins/golang"
	"github.com/swelego/swelego/plugins/python"
)

// TestLanguagePluginParsersAgree checks that the log parsers the python
// and golang plugins serve (a model for third-party language plugins,
// which cannot import the harness) read every captured log under testdata
// as the harness does: pytest logs with a summary as ParsePytestSummary,
// without one as ParsePytest, go test -json logs as ParseGoTest.
func TestLanguagePluginParsersAgree(t *testing.T) {
	logs, _ := filepath.Glob(filepath.Join("testdata", "pytest", "*.log"))
	bundled, _ := filepath.Glob(filepath.Join("testdata", "bundled", "*.log"))
	logs = append(logs, bundled...)
	logs = append(logs, filepath.Join("testdata", "gotest", "sample.json"))
	if len(logs) < 6 {
		t.Fatalf("only %d logs under testdata", len(logs))
	}
	for _, path := range logs {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			log := string(data)
			var want, got map[string]Status
			switch {
			case strings.Contains(log, `"Action"`):
				want, got = ParseGoTest(log), golang.ParseTestJSON(log)
			case len(pytestSummaries(log)) > 0:
				want, got = ParsePytestSummary(log), python.ParsePytestLog(log)
			default:
				want, got = ParsePytest(log), python.ParsePytestLog(log)
			}
			if len(want) == 0 {
				t.Fatal("the harness parses no test from this log")
			}
			if !maps.Equal(got, want) {
				t.Errorf("plugin parser disagrees with the harness:\n got  %v\n want %v", got, want)
			}
		})
	}
}
