package swebench

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/sdktest"
)

// TestSpecsGolden compares the spec table with testdata/specs.golden, the
// table written from SWE-bench's published harness constants: every row
// there is in the table with the same test command, eval commands and
// parser, and the table holds nothing else.
func TestSpecsGolden(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "specs.golden"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := 0
	repos := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 5 {
			t.Fatalf("golden row %q has %d columns", line, len(cols))
		}
		repo, version, parser, testCmd, eval := cols[0], cols[1], cols[2], cols[3], cols[4]
		rows++
		repos[repo] = true
		s, ok := SpecFor(repo, version)
		if !ok {
			t.Errorf("%s %s: not in the table", repo, version)
			continue
		}
		if s.TestCmd != testCmd {
			t.Errorf("%s %s: test_cmd %q, SWE-bench's is %q", repo, version, s.TestCmd, testCmd)
		}
		if got := strings.Join(s.EvalCommands, " && "); got != eval {
			t.Errorf("%s %s: eval_commands %q, SWE-bench's are %q", repo, version, got, eval)
		}
		if string(s.Parser) != parser {
			t.Errorf("%s %s: parser %s, SWE-bench's is %s", repo, version, s.Parser, parser)
		}
		if repoParsers[repo] != s.Parser {
			t.Errorf("%s: repoParsers says %s, the table %s", repo, repoParsers[repo], s.Parser)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range Repos() {
		n += len(specs[r])
		if !repos[r] {
			t.Errorf("the table holds %s, SWE-bench's does not", r)
		}
	}
	if n != rows || len(repos) != 12 {
		t.Errorf("the table holds %d versions of %d repositories, the golden file %d of %d (want 12)", n, len(Repos()), rows, len(repos))
	}
}

func TestTestCommand(t *testing.T) {
	django := &sdk.TestTask{InstanceID: "django__django-11099", Repo: "django/django", Version: "3.0",
		TestFiles: []string{"tests/auth_tests/test_validators.py", "tests/admin_views/tests.py"}}
	tests := []struct {
		name string
		req  sdk.TestCommandRequest
		want string // the command after the activation line
	}{
		{"django 3.0", sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, Task: django, Tests: []string{"test_x (auth_tests.test_validators.T)"}},
			"sed -i '/en_US.UTF-8/s/^# //g' /etc/locale.gen && locale-gen\nexport LANG=en_US.UTF-8\nexport LANGUAGE=en_US:en\nexport LC_ALL=en_US.UTF-8\n" +
				"./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1 admin_views.tests auth_tests.test_validators\n"},
		{"django ids without test files", sdk.TestCommandRequest{Purpose: sdk.PurposeGrade,
			Task:  &sdk.TestTask{Repo: "django/django", Version: "4.2"},
			Tests: []string{"test_a (admin_views.tests.AdminTests)", "test_b (admin_views.tests.AdminTests.test_b)", "A docstring line."}},
			"./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1 admin_views.tests\n"},
		{"sympy", sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, Tests: []string{"test_foo"},
			Task: &sdk.TestTask{Repo: "sympy/sympy", Version: "1.12", TestFiles: []string{"sympy/core/tests/test_basic.py"}}},
			"PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose sympy/core/tests/test_basic.py\n"},
		{"sphinx", sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, Tests: []string{"tests/test_ext.py::test_a"},
			Task: &sdk.TestTask{Repo: "sphinx-doc/sphinx", Version: "7.1", TestFiles: []string{"tests/test_ext.py", "tests/roots/test-ext/conf.py"}}},
			"tox --current-env -epy39 -v -- tests/roots/test-ext/conf.py tests/test_ext.py\n"},
		{"astropy 1.3", sdk.TestCommandRequest{Purpose: sdk.PurposeShow, Tests: []string{"astropy/io/tests/test_a.py::test_b"},
			Task: &sdk.TestTask{Repo: "astropy/astropy", Version: "1.3"}},
			"pytest -rA -vv -o console_output_style=classic --tb=no astropy/io/tests/test_a.py\n"},
		{"swe-smith record's test_cmd", sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, Base: "pytest -x tests",
			Task: &sdk.TestTask{Repo: "swesmith/pallets__click.fde47b4b", Image: "swesmith.x86_64.pallets__click.fde47b4b"}},
			"pytest -x tests\n"},
		{"swe-smith default", sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, Task: &sdk.TestTask{Repo: "swesmith/a__b.1"}},
			TestSWESmith + "\n"},
		{"unknown version of a known repository", sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, Tests: []string{"t.py::a"},
			Task: &sdk.TestTask{Repo: "pallets/flask", Version: "9.9"}},
			TestSWESmith + " t.py\n"},
		{"hostile file names are quoted", sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, Tests: []string{"x"},
			Task: &sdk.TestTask{Repo: "pytest-dev/pytest", Version: "8.0", TestFiles: []string{"a b.py", "$(reboot).py", "it's.py"}}},
			"pytest -rA '$(reboot).py' 'a b.py' 'it'\\''s.py'\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc, err := Language{}.TestCommand(context.Background(), nil, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if err := sdk.CheckTestCommand(tt.req, tc); err != nil {
				t.Fatal(err)
			}
			want := Activate + "\n" + tt.want
			if tc.Command != want {
				t.Errorf("command\n%s\nwant\n%s", tc.Command, want)
			}
		})
	}
	if _, err := (Language{}).TestCommand(context.Background(), nil, sdk.TestCommandRequest{Purpose: "nope"}); err == nil {
		t.Error("unknown purpose accepted")
	}
}

func TestTestDirectives(t *testing.T) {
	tests := []struct {
		name   string
		parser Parser
		files  []string
		ids    []string
		want   string
	}{
		{"django files", ParserDjango, []string{"tests/a/tests.py", "tests/b/sub/test_x.py", "tests/a/tests.py"}, nil, "a.tests b.sub.test_x"},
		{"django ids", ParserDjango, nil, []string{"test_a (a.tests.T)", "test_b (a.tests.T.test_b)", "test_c (b.T)", "doc line", "x (bad-mod.T)"}, "a.tests b"},
		{"sympy ids name no files", ParserSympy, nil, []string{"test_a", "test_b"}, ""},
		{"pytest ids", ParserPytest, nil, []string{"t/a.py::x", "t/a.py::y[1]", "/abs.py::z", "t/b.py", "name"}, "t/a.py t/b.py"},
		{"the test patch's files and the ids' files", ParserPytest, []string{"t/c.py"}, []string{"t/a.py::x", "t/c.py::y"}, "t/a.py t/c.py"},
		{"django: the test patch's modules and the ids'", ParserDjango, []string{"tests/admin_views/tests.py"},
			[]string{"test_a (admin_views.tests.AdminTests)", "test_b (auth_tests.test_views.LoginTest)"}, "admin_views.tests auth_tests.test_views"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(TestDirectives(tt.parser, tt.files, tt.ids), " "); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLanguageOverGRPC runs the language through the plugin protocol: the
// task's repository, version and test files cross in the request, and the
// run's Task picks the parser that reads it.
func TestLanguageOverGRPC(t *testing.T) {
	c := sdktest.Connect(t, New())
	lang := c.Language()
	ctx := context.Background()
	spec, err := lang.Describe(ctx, nil)
	if err != nil || spec.Name != LanguageName {
		t.Fatalf("describe: %+v, %v", spec, err)
	}
	task := &sdk.TestTask{InstanceID: "sympy__sympy-20590", Repo: "sympy/sympy", Version: "1.7", TestFiles: []string{"sympy/core/tests/test_basic.py"}}
	tc, err := lang.TestCommand(ctx, nil, sdk.TestCommandRequest{Purpose: sdk.PurposeGrade, Tests: []string{"test_immutable"}, Task: task, ReportDir: "/tmp/r"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(tc.Command, TestSympy+" sympy/core/tests/test_basic.py\n") {
		t.Errorf("command %q", tc.Command)
	}
	log, err := os.ReadFile(filepath.Join("testdata", "logs", "sympy.log"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := lang.ParseTestRun(ctx, nil, sdk.TestRun{Output: string(log), ExitCode: 1, Task: task})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Statuses["test_pass"] != sdk.TestPassed || rep.Statuses["test_fail"] != sdk.TestFailed || rep.Invalid != "" {
		t.Errorf("report %+v", rep)
	}
	// The same log read without a task is read as SWE-smith's pytest log:
	// nothing of SymPy's shape passes.
	rep, err = lang.ParseTestRun(ctx, nil, sdk.TestRun{Output: string(log), ExitCode: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Statuses["test_pass"] == sdk.TestPassed {
		t.Errorf("without a task: %+v", rep)
	}
}

func TestCheckCommand(t *testing.T) {
	cmd, err := Language{}.CheckCommand(context.Background(), nil, sdk.CheckRequest{Files: []string{"a.py", "b.txt", "c d.py"}})
	if err != nil || !strings.HasSuffix(cmd, "python3 -m py_compile a.py 'c d.py'\n") {
		t.Errorf("%q, %v", cmd, err)
	}
	if cmd, _ := (Language{}).CheckCommand(context.Background(), nil, sdk.CheckRequest{Files: []string{"x.c"}}); cmd != "" {
		t.Errorf("no python file: %q", cmd)
	}
}

// FuzzTestDirectives checks that directives never hold a newline or NUL
// and that every one comes out shell-quoted into one word.
func FuzzTestDirectives(f *testing.F) {
	f.Add("tests/a/tests.py", "test_a (a.tests.T)")
	f.Add("", "t/a.py::x[1 2]")
	f.Fuzz(func(t *testing.T, file, id string) {
		var files []string
		if file != "" {
			files = []string{file}
		}
		for _, p := range []Parser{ParserDjango, ParserSympy, ParserPytest} {
			for _, d := range TestDirectives(p, files, []string{id}) {
				if d == "" || strings.ContainsAny(d, "\n\x00") {
					t.Fatalf("directive %q", d)
				}
				q := shellQuote(d)
				if q != d && !(strings.HasPrefix(q, "'") && strings.HasSuffix(q, "'")) {
					t.Fatalf("quoted %q as %q", d, q)
				}
			}
		}
	})
}
