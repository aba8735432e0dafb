package golang

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// LogParser reads `go test -json` output (test2json events) into a status
// per test id, as core/harness's gotest parser does: a test's final pass,
// fail or skip event counts, output a test prints never does, a test still
// running when its package fails is FAILED, and ids carry no package (a
// failure in any package wins for an id several report).
type LogParser struct{}

var _ sdk.LogParser = LogParser{}

// ParseLog implements sdk.LogParser; cfg is unused.
func (LogParser) ParseLog(_ context.Context, _ sdk.Config, log string) (map[string]sdk.TestStatus, error) {
	return ParseTestJSON(log), nil
}

// event is the part of a test2json event the parser reads.
type event struct {
	Action  string
	Package string
	Test    string
}

// ParseTestJSON is LogParser's parse, usable without a plugin host. Lines
// that are not JSON objects are ignored.
func ParseTestJSON(log string) map[string]sdk.TestStatus {
	type test struct{ pkg, name string }
	done := map[test]sdk.TestStatus{}
	started := map[test]bool{}
	var seen []test
	note := func(k test) {
		if _, ok := done[k]; !ok && !started[k] {
			seen = append(seen, k)
		}
	}
	for _, line := range strings.Split(log, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var ev event
		if json.Unmarshal([]byte(line), &ev) != nil {
			continue
		}
		k := test{ev.Package, ev.Test}
		if ev.Test == "" {
			if ev.Action == "fail" { // the package failed: what still runs failed with it
				for r := range started {
					if r.pkg == ev.Package {
						done[r] = sdk.TestFailed
						delete(started, r)
					}
				}
			}
			continue
		}
		var st sdk.TestStatus
		switch ev.Action {
		case "run":
			note(k)
			started[k] = true
			continue
		case "pass":
			st = sdk.TestPassed
		case "fail":
			st = sdk.TestFailed
		case "skip":
			st = sdk.TestSkipped
		default:
			continue
		}
		note(k)
		delete(started, k)
		done[k] = st
	}
	out := make(map[string]sdk.TestStatus, len(done))
	for _, k := range seen {
		st, ok := done[k]
		if !ok {
			continue
		}
		if out[k.name] == sdk.TestFailed {
			continue
		}
		out[k.name] = st
	}
	return out
}
