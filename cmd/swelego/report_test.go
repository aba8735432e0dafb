package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// summaryOf cuts the end-of-run summary out of a run's output (stdout,
// possibly mixed with JSON log lines) and replaces what differs between
// runs: the run id, the run directory, and the SFT losses (floating-point
// sums over several threads differ in the last digits).
func summaryOf(t *testing.T, out, work string) string {
	t.Helper()
	i := strings.Index(out, "summary of run ")
	if i < 0 {
		t.Fatalf("no summary in the run's output:\n%s", tail(out, 3000))
	}
	var lines []string
	for _, l := range strings.Split(out[i:], "\n") {
		if strings.HasPrefix(l, "{") {
			continue // a log line on stderr
		}
		lines = append(lines, l)
		if strings.HasPrefix(l, "report: ") || strings.HasPrefix(l, "run directory: ") && !strings.Contains(out[i:], "report: ") {
			break
		}
	}
	s := strings.Join(lines, "\n") + "\n"
	s = strings.ReplaceAll(s, work, "RUNDIR")
	s = regexp.MustCompile(`summary of run \S+`).ReplaceAllString(s, "summary of run RUNID")
	s = regexp.MustCompile(`loss [0-9.]+ \(first [0-9.]+\)`).ReplaceAllString(s, "loss L (first L)")
	// How many turns of the oracle's go wrong depends on the sandbox as
	// well as on its seed (a command that times out under load); the
	// error_turns masker masks each of them, which checkMaskedErrorTurns
	// checks before the counts are replaced.
	s = regexp.MustCompile(`\b[0-9]+ (error|masked) turns`).ReplaceAllString(s, "N $1 turns")
	return s
}

// checkMaskedErrorTurns checks that the summary of a run whose sft stage
// masks error turns (the error_turns strategy) counts as many masked turns
// as its rollouts had error turns, and some.
func checkMaskedErrorTurns(t *testing.T, out string) {
	t.Helper()
	e := regexp.MustCompile(`; ([0-9]+) error turns`).FindStringSubmatch(out)
	m := regexp.MustCompile(`, ([0-9]+) masked turns`).FindStringSubmatch(out)
	if e == nil || m == nil || e[1] != m[1] || e[1] == "0" {
		t.Errorf("summary: error turns %v, masked turns %v: want the same number, not 0", e, m)
	}
}

// checkSummaryGolden compares a run's summary with testdata/summary/NAME.golden
// (rewritten with -update).
func checkSummaryGolden(t *testing.T, name, out, work string) {
	t.Helper()
	got := summaryOf(t, out, work)
	path := filepath.Join("testdata", "summary", name+".golden")
	if *updateValidate {
		writeFile(t, path, got)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("summary of %s differs from %s:\n--- got\n%s--- want\n%s", name, path, got, want)
	}
}

// reportWant says what a run's report must show.
type reportWant struct {
	sections []string // ids of <section> elements
	plots    int      // at least this many SVG plots
	masked   bool     // a trajectory with a masked turn
}

// checkRunReport renders the report of the run in work with `swelego
// report`, checks its structure, opens it in headless Chromium with the
// network off and checks the DOM the browser built; screenshots go to the
// test's artifacts.
func checkRunReport(t *testing.T, work string, want reportWant) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.html")
	if out, err := swelegoCmd(t.TempDir(), "report", work, "-o", path).CombinedOutput(); err != nil {
		t.Fatalf("swelego report: %v\n%s", err, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkHTMLStructure(data); err != nil {
		t.Fatalf("report.html: %v", err)
	}
	// The run wrote the same report at its end.
	if _, err := os.Stat(filepath.Join(work, "report.html")); err != nil {
		t.Errorf("the run left no report.html: %v", err)
	}
	checkInChromium(t, path, want)
}

// checkHTMLStructure is the structural check the report passes instead of
// an external validator: every element closed in order (void elements
// aside), one <html>, <head> with a <title> and a charset, ids unique, and
// nothing loaded from outside the file: no src or href other than a
// fragment or a data: URL, no <link>, no <base>, no url(…) in styles but
// fragments.
func checkHTMLStructure(data []byte) error {
	void := map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true, "input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}
	z := html.NewTokenizer(bytes.NewReader(data))
	var stack []string
	ids := map[string]bool{}
	seen := map[string]int{}
	foreign := 0 // depth inside <svg>, where self-closing tags are XML's
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if z.Err() == io.EOF {
				if len(stack) > 0 {
					return fmt.Errorf("unclosed elements at the end: %v", stack)
				}
				for _, el := range []string{"html", "head", "title", "body"} {
					if seen[el] != 1 {
						return fmt.Errorf("%d <%s> elements, want 1", seen[el], el)
					}
				}
				if seen["meta"] == 0 {
					return fmt.Errorf("no <meta charset>")
				}
				return nil
			}
			return z.Err()
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			name := tok.Data
			seen[name]++
			for _, a := range tok.Attr {
				switch a.Key {
				case "id":
					if ids[a.Val] {
						return fmt.Errorf("id %q is used twice", a.Val)
					}
					ids[a.Val] = true
				case "src", "href", "xlink:href", "action", "poster":
					if err := localRef(a.Val); err != nil {
						return fmt.Errorf("<%s %s=%q>: %w", name, a.Key, a.Val, err)
					}
				case "style":
					if m := regexp.MustCompile(`url\(\s*['"]?([^'")]*)`).FindAllStringSubmatch(a.Val, -1); m != nil {
						for _, u := range m {
							if err := localRef(u[1]); err != nil {
								return fmt.Errorf("<%s style>: %w", name, err)
							}
						}
					}
				}
				if a.Namespace == "xlink" && a.Key == "href" {
					if err := localRef(a.Val); err != nil {
						return fmt.Errorf("<%s xlink:href=%q>: %w", name, a.Val, err)
					}
				}
			}
			if name == "link" || name == "base" || name == "iframe" || name == "object" || name == "embed" {
				return fmt.Errorf("<%s> element: the report must not load anything", name)
			}
			if name == "svg" {
				foreign++
			}
			if void[name] || tt == html.SelfClosingTagToken && foreign > 0 {
				if name == "svg" {
					foreign--
				}
				continue
			}
			if tt == html.SelfClosingTagToken {
				return fmt.Errorf("<%s/> is not a void element", name)
			}
			stack = append(stack, name)
		case html.EndTagToken:
			name, _ := z.TagName()
			n := string(name)
			if len(stack) == 0 || stack[len(stack)-1] != n {
				return fmt.Errorf("</%s> closes %v", n, stack)
			}
			stack = stack[:len(stack)-1]
			if n == "svg" {
				foreign--
			}
		case html.TextToken:
			if len(stack) > 0 && (stack[len(stack)-1] == "style") {
				for _, u := range regexp.MustCompile(`url\(\s*['"]?([^'")]*)`).FindAllStringSubmatch(string(z.Text()), -1) {
					if err := localRef(u[1]); err != nil {
						return fmt.Errorf("<style>: %w", err)
					}
				}
			}
		}
	}
}

// localRef accepts a fragment (#id) or a data: URL, nothing that loads.
func localRef(v string) error {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "#") {
		return nil
	}
	u, err := url.Parse(v)
	if err == nil && u.Scheme == "data" {
		return nil
	}
	return fmt.Errorf("reference %q leaves the file", v)
}

// TestSummaryOf: the summary is cut out of output mixed with log lines,
// and only what differs between runs is replaced.
func TestSummaryOf(t *testing.T) {
	t.Parallel()
	out := `{"level":"INFO","msg":"stage done"}
summary of run 0cc545a9dc1f92ef
{"level":"INFO","msg":"a log line in between"}
  rollout.teacher  rollouts: 9 resolved, 0 semi-resolved, 0 unresolved, 0 error; 12 error turns
  sft.student      sft: 27 steps, final loss 3.754 (first 7.416), 12 masked turns; checkpoint /w/run/sft/student/model
failures: none
run directory: /w/run
report: /w/run/report.html
run 0cc545a9dc1f92ef finished: /w/run
`
	want := `summary of run RUNID
  rollout.teacher  rollouts: 9 resolved, 0 semi-resolved, 0 unresolved, 0 error; N error turns
  sft.student      sft: 27 steps, final loss L (first L), N masked turns; checkpoint RUNDIR/sft/student/model
failures: none
run directory: RUNDIR
report: RUNDIR/report.html
`
	if got := summaryOf(t, out, "/w/run"); got != want {
		t.Errorf("summaryOf:\n%s\nwant\n%s", got, want)
	}
	checkMaskedErrorTurns(t, out)
}

func TestCheckHTMLStructure(t *testing.T) {
	t.Parallel()
	page := func(body string) string {
		return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head><body>` + body + `</body></html>`
	}
	for _, tc := range []struct {
		name, html string
		ok         bool
	}{
		{"minimal", page(`<p id="a">x</p><a href="#a">a</a>`), true},
		{"inline svg", page(`<svg xmlns="http://www.w3.org/2000/svg"><clipPath id="c"><rect/></clipPath><path clip-path="url(#c)"/></svg>`), true},
		{"data url", page(`<img src="data:image/png;base64,AAAA">`), true},
		{"duplicate id", page(`<p id="a"></p><p id="a"></p>`), false},
		{"external script", page(`<script src="https://cdn.example/x.js"></script>`), false},
		{"protocol-relative", page(`<img src="//cdn.example/x.png">`), false},
		{"relative file", page(`<img src="plot.svg">`), false},
		{"stylesheet link", `<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title><link rel="stylesheet" href="#x"></head><body></body></html>`, false},
		{"css url", page(`<div style="background:url(http://x/y.png)"></div>`), false},
		{"svg xlink", page(`<svg><use xlink:href="http://x/y.svg#a"/></svg>`), false},
		{"unclosed", page(`<div><p>x</div>`), false},
		{"misnested", page(`<b><i>x</b></i>`), false},
		{"two bodies", page(`</body><body>`), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkHTMLStructure([]byte(tc.html))
			if (err == nil) != tc.ok {
				t.Errorf("checkHTMLStructure: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// chromium finds Debian's chromium; the report test needs it (make deps
// installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is not installed (make deps installs Debian's chromium)")
	return ""
}

// artifactDir is where screenshots go: $SWELEGO_TEST_ARTIFACTS/TEST when
// set, else the test's artifact directory (go test -artifacts keeps it).
func artifactDir(t *testing.T) string {
	if d := os.Getenv("SWELEGO_TEST_ARTIFACTS"); d != "" {
		dir := filepath.Join(d, strings.ReplaceAll(t.Name(), "/", "_"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.ArtifactDir()
}

// chromiumArgs open pages with every network request failing: all names
// resolve to nothing and every connection goes to a proxy on a closed
// port.
var chromiumArgs = []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
	"--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=3000"}

// runChromium runs headless Chromium with args and returns its stdout.
func runChromium(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	profile := t.TempDir()
	all := append(slices.Clone(chromiumArgs), "--user-data-dir="+profile)
	cmd := exec.CommandContext(ctx, chromium(t), append(all, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+profile)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, tail(errb.String(), 3000))
	}
	return out.String()
}

// checkInChromium opens the report in headless Chromium with the network
// off, checks the DOM the browser built after running the page's script,
// and saves screenshots of the page and of the trajectory viewer.
func checkInChromium(t *testing.T, path string, want reportWant) {
	t.Helper()
	u := (&url.URL{Scheme: "file", Path: path}).String()
	dom := runChromium(t, "--dump-dom", u)
	doc, err := html.Parse(strings.NewReader(dom))
	if err != nil {
		t.Fatal(err)
	}
	sections, svgs := map[string]bool{}, 0
	var maskedTraj string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "section":
				sections[attr(n, "id")] = true
			case "svg":
				if hasClass(n.Parent, "plot") {
					svgs++
				}
			case "article":
				if hasClass(n, "traj") && attr(n, "data-masked") != "0" && maskedTraj == "" && findClass(n, "masked") && findClass(n, "mask") {
					maskedTraj = attr(n, "id")
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	for _, s := range want.sections {
		if !sections[s] {
			t.Errorf("the DOM has no section %q (sections: %v)", s, sections)
		}
	}
	if svgs < want.plots {
		t.Errorf("%d SVG plots in the DOM, want at least %d", svgs, want.plots)
	}
	if want.masked && maskedTraj == "" {
		t.Error("no trajectory in the DOM shows a masked turn with the masker's reason")
	}
	// The script ran: the picker shows exactly one trajectory.
	if want.masked && strings.Count(dom, `class="traj shown"`) != 1 {
		t.Errorf("%d trajectories shown, want 1: the page's script did not run", strings.Count(dom, `class="traj shown"`))
	}
	dir := artifactDir(t)
	runChromium(t, "--screenshot="+filepath.Join(dir, "report.png"), "--window-size=1280,2400", u)
	if maskedTraj != "" {
		// ?traj=ID shows that trajectory alone: the viewer's screenshot.
		only := runChromium(t, "--dump-dom", u+"?traj="+maskedTraj)
		if !strings.Contains(only, `<body class="only-traj">`) || !strings.Contains(only, `class="traj shown" id="`+maskedTraj+`"`) {
			t.Errorf("?traj=%s does not show that trajectory alone", maskedTraj)
		}
		runChromium(t, "--screenshot="+filepath.Join(dir, "trajectory.png"), "--window-size=1280,1600", u+"?traj="+maskedTraj)
	}
	for _, name := range []string{"report.png"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() == 0 {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}
	t.Logf("screenshots in %s", dir)
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	return n != nil && slices.Contains(strings.Fields(attr(n, "class")), class)
}

// findClass reports whether n or an element below it has class.
func findClass(n *html.Node, class string) bool {
	if n.Type == html.ElementNode && hasClass(n, class) {
		return true
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if findClass(c, class) {
			return true
		}
	}
	return false
}
