package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/plugins/golang"
	"github.com/swelego/swelego/plugins/python"
	"github.com/swelego/swelego/sdk"
)

// bundledTasks reads the bundled SWE-bench-format tasks.
func bundledTasks(t *testing.T) []sdk.Task {
	t.Helper()
	f, err := os.Open("../../examples/tasks/bundled.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var tasks []sdk.Task
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var task sdk.Task
		if err := json.Unmarshal(sc.Bytes(), &task); err != nil {
			t.Fatal(err)
		}
		tasks = append(tasks, task)
	}
	return tasks
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// checkout clones a bundled repository at commit into a temporary folder.
func checkout(t *testing.T, bundle, commit string) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("git", "clone", "-q", bundle, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("clone %s: %v\n%s", bundle, err, out)
	}
	git(t, dir, "checkout", "-q", "--detach", commit)
	return dir
}

// dirSandbox reads files of a checkout; the oracle only reads.
type dirSandbox struct{ dir string }

func (d dirSandbox) Exec(ctx context.Context, cmd string, timeout time.Duration) (sdk.ExecResult, error) {
	return sdk.ExecResult{}, errors.New("not used")
}
func (d dirSandbox) ReadFile(ctx context.Context, p string) ([]byte, error) {
	return os.ReadFile(filepath.Join(d.dir, strings.TrimPrefix(p, RepoDir+"/")))
}
func (d dirSandbox) WriteFile(ctx context.Context, p string, data []byte) error {
	return errors.New("not used")
}
func (d dirSandbox) Diff(ctx context.Context) (string, error) { return "", errors.New("not used") }

// editor plays the oracle's editor and shell steps on files in memory, with
// str_replace_editor's rules, and counts the steps that fail.
type editor struct {
	dir    string
	files  map[string]*string // nil: deleted
	errors int
}

func (e *editor) get(p string) (string, bool) {
	rel := strings.TrimPrefix(p, RepoDir+"/")
	if c, ok := e.files[rel]; ok {
		if c == nil {
			return "", false
		}
		return *c, true
	}
	data, err := os.ReadFile(filepath.Join(e.dir, rel))
	if err != nil {
		return "", false
	}
	s := string(data)
	e.files[rel] = &s
	return s, true
}

func (e *editor) set(p, content string) {
	e.files[strings.TrimPrefix(p, RepoDir+"/")] = &content
}

func (e *editor) play(t *testing.T, s step) {
	t.Helper()
	str := func(k string) string { v, _ := s.args[k].(string); return v }
	switch s.tool {
	case "execute_bash":
		cmd := str("command")
		for _, typo := range []string{"pyhton3", "og test", "grpe ", "sl "} {
			if strings.HasPrefix(cmd, typo) || strings.Contains(cmd, "&& "+typo) {
				e.errors++
				return
			}
		}
		if f, ok := strings.CutPrefix(cmd, "rm "); ok {
			e.files[strings.TrimPrefix(strings.Trim(f, "'"), RepoDir+"/")] = nil
		}
	case "str_replace_editor":
		p := str("path")
		if !path.IsAbs(p) || !strings.HasPrefix(p, RepoDir+"/") {
			t.Fatalf("path %q is not absolute inside the repository", p)
		}
		content, exists := e.get(p)
		switch str("command") {
		case "view":
			if !exists {
				e.errors++
			}
		case "create":
			if exists {
				t.Fatalf("create over existing %s", p)
			}
			e.set(p, str("file_text"))
		case "str_replace":
			if !exists || strings.Count(content, str("old_str")) != 1 {
				e.errors++
				return
			}
			e.set(p, strings.Replace(content, str("old_str"), str("new_str"), 1))
		case "insert":
			line := int(s.args["insert_line"].(int))
			e.set(p, insertAt(content, line, str("new_str")))
		default:
			t.Fatalf("unknown editor command %q", str("command"))
		}
	case "think", "finish":
	default:
		t.Fatalf("unknown tool %q", s.tool)
	}
}

// TestOracleReplaysFix plays every bundled task's oracle plan on an
// in-memory editor and checks the files end as the task's patch and
// test_patch leave them, with and without mistakes.
func TestOracleReplaysFix(t *testing.T) {
	bundles := map[string]string{"swelego-examples/textkit": "../../examples/repos/textkit.bundle", "swelego-examples/semver": "../../examples/repos/semver.bundle"}
	for _, task := range bundledTasks(t) {
		for _, rate := range []float64{0, 0.3, 1} {
			t.Run(fmt.Sprintf("%s/error_rate=%g", task.InstanceID, rate), func(t *testing.T) {
				dir := checkout(t, bundles[task.Repo], task.BaseCommit)
				o, err := NewOracle(context.Background(), dirSandbox{dir}, task, OracleOptions{ErrorRate: rate, Seed: 7, Language: testLanguage(t, task.Language)})
				if err != nil {
					t.Fatal(err)
				}
				ed := &editor{dir: dir, files: map[string]*string{}}
				var history []sdk.Message
				for i := 0; i < o.Steps(); i++ {
					resp, err := o.Chat(context.Background(), sdk.ChatRequest{Messages: history})
					if err != nil {
						t.Fatal(err)
					}
					if resp.Usage.TotalTokens <= 0 || len(resp.Message.ToolCalls) != 1 || resp.Message.Content == "" {
						t.Fatalf("step %d: %+v", i, resp)
					}
					history = append(history, resp.Message)
					ed.play(t, o.steps[i])
				}
				if last := o.steps[len(o.steps)-1]; last.tool != "finish" {
					t.Errorf("last step is %s, want finish", last.tool)
				}
				switch {
				case rate == 0 && ed.errors != 0:
					t.Errorf("%d failed steps at error_rate 0", ed.errors)
				case rate == 1 && ed.errors == 0:
					t.Errorf("no failed step at error_rate 1")
				}
				// What the patches leave.
				for _, p := range []string{task.TestPatch, task.Patch} {
					cmd := exec.Command("git", "-C", dir, "apply", "-")
					cmd.Stdin = strings.NewReader(p)
					if out, err := cmd.CombinedOutput(); err != nil {
						t.Fatalf("git apply: %v\n%s", err, out)
					}
				}
				for rel, content := range ed.files {
					want, err := os.ReadFile(filepath.Join(dir, rel))
					if content == nil {
						if !errors.Is(err, os.ErrNotExist) {
							t.Errorf("%s: deleted by the oracle, present after the patch", rel)
						}
						continue
					}
					if err != nil || string(want) != *content {
						t.Errorf("%s differs from the patched file:\n--- oracle\n%s\n--- patch\n%s", rel, *content, want)
					}
				}
				for _, name := range strings.Fields(git(t, dir, "diff", "--name-only", "HEAD")) {
					if _, ok := ed.files[name]; !ok {
						t.Errorf("%s: changed by the patches, untouched by the oracle", name)
					}
				}
			})
		}
	}
}

func TestOracleDeterministic(t *testing.T) {
	task := bundledTasks(t)[0]
	dir := checkout(t, "../../examples/repos/textkit.bundle", task.BaseCommit)
	plan := func(seed int64, attempt int) string {
		o, err := NewOracle(context.Background(), dirSandbox{dir}, task, OracleOptions{ErrorRate: 0.5, Seed: seed, Attempt: attempt, Language: testLanguage(t, task.Language)})
		if err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(o.steps)
		return string(data)
	}
	if plan(1, 1) != plan(1, 1) {
		t.Error("same seed and attempt, different plans")
	}
	differ := false
	for seed := int64(2); seed < 10 && !differ; seed++ {
		differ = plan(1, 1) != plan(seed, 1)
	}
	if !differ {
		t.Error("eight seeds gave the same plan")
	}
}

func TestOracleRefuses(t *testing.T) {
	if _, err := NewOracle(context.Background(), dirSandbox{t.TempDir()}, sdk.Task{InstanceID: "d", Patch: srcDiff}, OracleOptions{}); !errors.Is(err, ErrOracleTask) {
		t.Errorf("no language: err = %v, want ErrOracleTask", err)
	}
	for name, task := range map[string]sdk.Task{
		"no patch":   {InstanceID: "a"},
		"introduces": {InstanceID: "b", Patch: srcDiff, PatchDirection: sdk.PatchIntroduces},
		"binary":     {InstanceID: "c", Patch: "diff --git a/x.bin b/x.bin\nindex 1111111..2222222 100644\nBinary files a/x.bin and b/x.bin differ\n"},
	} {
		if _, err := NewOracle(context.Background(), dirSandbox{t.TempDir()}, task, OracleOptions{Language: testLanguage(t, "python")}); !errors.Is(err, ErrOracleTask) {
			t.Errorf("%s: err = %v, want ErrOracleTask", name, err)
		}
	}
}

// testLanguage is the reference language of core's tests name names.
func testLanguage(t testing.TB, name string) *language.Language {
	t.Helper()
	l, err := language.NewSet(language.Static(python.Language{}, golang.Language{})).Get(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestSymbolOf(t *testing.T) {
	for header, want := range map[string]string{
		"def parse_version(text):":                  "parse_version",
		"class Version(object):":                    "Version",
		"class Version:":                            "Version",
		"func (v Version) Compare(o Version) int {": "Compare",
		"func Parse(s string) (Version, error) {":   "Parse",
		"type Version struct {":                     "Version",
		"fn bump(&mut self) {":                      "bump",
		"export function slugify(s) {":              "slugify",
		"":                                          "",
		"main":                                      "",
	} {
		if got := declared(header); got != want {
			t.Errorf("declared(%q) = %q, want %q", header, got, want)
		}
	}
}

func TestTypo(t *testing.T) {
	for cmd, want := range map[string]string{
		"cd /testbed && python3 -m pytest -q 'a.py'":      "cd /testbed && ypthon3 -m pytest -q 'a.py'",
		"cd /testbed && go test ./...":                    "cd /testbed && og test ./...",
		"cd /testbed && PYTHONPATH=src python3 -m pytest": "cd /testbed && PYTHONPATH=src ypthon3 -m pytest",
		"cd /testbed && cargo test":                       "cd /testbed && acrgo test",
		"cd /testbed && ./run-tests":                      "sl /testbed",
	} {
		if got := typo(cmd); got != want {
			t.Errorf("typo(%q) = %q, want %q", cmd, got, want)
		}
	}
}
