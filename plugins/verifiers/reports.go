package verifiers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// This file reads what the test runners report and what a patch adds.

// ParseJUnit reads a JUnit XML report (pytest's --junitxml, any family)
// into a status per test, the id being "classname::name". A test case with
// a <failure> is FAILED, with an <error> ERROR, with a <skipped> of type
// pytest.xfail XFAIL, with another <skipped> SKIPPED, and PASSED
// otherwise; a test listed twice (a teardown error after a pass) keeps its
// worse status.
func ParseJUnit(report []byte) (map[string]sdk.TestStatus, error) {
	type outcome struct {
		Type string `xml:"type,attr"`
	}
	type testCase struct {
		ClassName string    `xml:"classname,attr"`
		Name      string    `xml:"name,attr"`
		Failure   []outcome `xml:"failure"`
		Error     []outcome `xml:"error"`
		Skipped   []outcome `xml:"skipped"`
	}
	out := map[string]sdk.TestStatus{}
	dec := xml.NewDecoder(bytes.NewReader(report))
	seenRoot := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("junit report: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "testsuites", "testsuite":
			seenRoot = true
		case "testcase":
			var tc testCase
			if err := dec.DecodeElement(&tc, &se); err != nil {
				return nil, fmt.Errorf("junit report: %w", err)
			}
			id := tc.Name
			if tc.ClassName != "" {
				id = tc.ClassName + "::" + tc.Name
			}
			st := sdk.TestPassed
			switch {
			case len(tc.Failure) > 0:
				st = sdk.TestFailed
			case len(tc.Error) > 0:
				st = sdk.TestError
			case len(tc.Skipped) > 0 && tc.Skipped[0].Type == "pytest.xfail":
				st = sdk.TestXFail
			case len(tc.Skipped) > 0:
				st = sdk.TestSkipped
			}
			if prev, ok := out[id]; !ok || passes(prev) {
				out[id] = st
			}
		}
	}
	if !seenRoot {
		return nil, errors.New("junit report: no <testsuite> element")
	}
	return out, nil
}

// ParseGoTestJSON reads the output of `go test -json` into a status per
// test, the id being "package/TestName" (subtests keep their full name).
// Lines that are not JSON (a build error printed as text) are skipped; a
// test with no pass, fail or skip event is not in the map, so it counts
// as not passed.
func ParseGoTestJSON(output []byte) map[string]sdk.TestStatus {
	out := map[string]sdk.TestStatus{}
	sc := bufio.NewScanner(bytes.NewReader(output))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var ev struct {
			Action  string
			Package string
			Test    string
		}
		if json.Unmarshal(line, &ev) != nil || ev.Test == "" {
			continue
		}
		id := ev.Package + "/" + ev.Test
		switch ev.Action {
		case "pass":
			out[id] = sdk.TestPassed
		case "fail":
			out[id] = sdk.TestFailed
		case "skip":
			out[id] = sdk.TestSkipped
		}
	}
	return out
}

// passes reports whether a status counts as passed, as SWE-bench counts
// them: PASSED and XFAIL.
func passes(st sdk.TestStatus) bool { return st == sdk.TestPassed || st == sdk.TestXFail }

// AddedFile is a file a patch creates, with the lines it adds.
type AddedFile struct {
	Path  string
	Lines []string
}

// AddedFiles returns the files a unified diff (git's or plain) creates:
// those whose old side is /dev/null. Paths lose their b/ prefix, a
// trailing tab and timestamp, and surrounding quotes; a path that is
// absolute or climbs out with .. is left out.
func AddedFiles(patch string) []AddedFile {
	var out []AddedFile
	lines := strings.Split(patch, "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "--- /dev/null") || i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "+++ ") {
			continue
		}
		p := diffPath(strings.TrimPrefix(lines[i+1], "+++ "))
		i += 2
		var added []string
		for ; i < len(lines); i++ {
			l := lines[i]
			if strings.HasPrefix(l, "diff ") || strings.HasPrefix(l, "--- ") && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "+++ ") {
				break
			}
			if rest, ok := strings.CutPrefix(l, "+"); ok {
				added = append(added, rest)
			}
		}
		i--
		if p != "" {
			out = append(out, AddedFile{Path: p, Lines: added})
		}
	}
	return out
}

// diffPath cleans the path of a +++ line; "" when it is not a path inside
// the repository.
func diffPath(s string) string {
	if tab := strings.IndexByte(s, '\t'); tab >= 0 {
		s = s[:tab]
	}
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	s = strings.TrimPrefix(s, "b/")
	if s == "" || s == "/dev/null" || path.IsAbs(s) {
		return ""
	}
	s = path.Clean(s)
	if s == "." || s == ".." || strings.HasPrefix(s, "../") {
		return ""
	}
	return s
}

// goTestFunc matches the declaration of a top-level Go test function.
var goTestFunc = regexp.MustCompile(`^func (Test[A-Za-z0-9_]*)\(\s*\w+\s+\*testing\.T\s*\)`)

// goTestNames returns the top-level test functions an added _test.go file
// declares.
func goTestNames(lines []string) []string {
	var out []string
	for _, l := range lines {
		if m := goTestFunc.FindStringSubmatch(l); m != nil {
			out = append(out, m[1])
		}
	}
	return out
}
