package swebench

import "strings"

// Spec is how SWE-bench runs the tests of one repository at one version:
// its test_cmd, the eval_commands that run before it, and which log parser
// reads the output.
type Spec struct {
	TestCmd      string
	EvalCommands []string
	Parser       Parser
}

// SWE-bench's test commands.
const (
	TestPytest         = "pytest -rA"
	TestAstropyClassic = "pytest -rA -vv -o console_output_style=classic --tb=no"
	TestDjango         = "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1"
	TestDjangoNoPar    = "./tests/runtests.py --verbosity 2"
	TestSeaborn        = "pytest --no-header -rA"
	TestSphinx         = "tox --current-env -epy39 -v --"
	TestSympy          = "PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose"
)

// SWE-smith's default test command for a Python repository; a record's
// test_cmd (or the environment's) takes its place.
const TestSWESmith = "pytest --disable-warnings --color=no --tb=no --verbose"

// Activate is what SWE-bench's images expect before anything runs: the
// conda environment "testbed" (it is skipped where the image has no
// /opt/miniconda3, as in environments swelego builds itself).
const Activate = `if [ -f /opt/miniconda3/bin/activate ]; then source /opt/miniconda3/bin/activate && conda activate testbed; fi`

// Django's eval_commands: a UTF-8 locale for versions up to 2.2, and for
// 3.x one generated first.
var (
	djangoLocale = []string{
		"export LANG=en_US.UTF-8",
		"export LC_ALL=en_US.UTF-8",
		"export PYTHONIOENCODING=utf8",
		"export LANGUAGE=en_US:en",
	}
	djangoLocale3 = []string{
		"sed -i '/en_US.UTF-8/s/^# //g' /etc/locale.gen && locale-gen",
		"export LANG=en_US.UTF-8",
		"export LANGUAGE=en_US:en",
		"export LC_ALL=en_US.UTF-8",
	}
)

// specs maps repository → version → Spec for SWE-bench Verified's twelve
// repositories, as SWE-bench's harness constants give them.
var specs = func() map[string]map[string]Spec {
	m := map[string]map[string]Spec{}
	add := func(repo string, s Spec, versions string) {
		if m[repo] == nil {
			m[repo] = map[string]Spec{}
		}
		for _, v := range strings.Fields(versions) {
			m[repo][v] = s
		}
	}
	add("astropy/astropy", Spec{TestCmd: TestPytest, Parser: ParserPytestV2}, "3.0 3.1 3.2 4.1 4.2 4.3 5.0 5.1 5.2 v5.3")
	add("astropy/astropy", Spec{TestCmd: TestAstropyClassic, Parser: ParserPytestV2}, "0.1 0.2 0.3 0.4 1.1 1.2 1.3")
	add("django/django", Spec{TestCmd: TestDjango, EvalCommands: djangoLocale, Parser: ParserDjango}, "1.7 1.8 1.10 1.11 2.0 2.1 2.2")
	add("django/django", Spec{TestCmd: TestDjangoNoPar, EvalCommands: djangoLocale, Parser: ParserDjango}, "1.9")
	add("django/django", Spec{TestCmd: TestDjango, Parser: ParserDjango}, "1.4 1.5 1.6 4.0 4.1 4.2 5.0 5.1 5.2")
	add("django/django", Spec{TestCmd: TestDjango, EvalCommands: djangoLocale3, Parser: ParserDjango}, "3.0 3.1 3.2")
	add("matplotlib/matplotlib", Spec{TestCmd: TestPytest, Parser: ParserMatplotlib},
		"1.0 1.1 1.2 1.3 1.4 1.5 2.0 2.1 2.2 3.0 3.1 3.2 3.3 3.4 3.5 3.6 3.7 3.8 3.9")
	add("mwaskom/seaborn", Spec{TestCmd: TestSeaborn, Parser: ParserSeaborn}, "0.11 0.12 0.13 0.14")
	add("pallets/flask", Spec{TestCmd: TestPytest, Parser: ParserPytest}, "2.0 2.1 2.2 2.3 3.0 3.1")
	add("psf/requests", Spec{TestCmd: TestPytest, Parser: ParserPytestOptions},
		"0.7 0.8 0.9 0.11 0.13 0.14 1.1 1.2 2.0 2.2 2.3 2.4 2.5 2.7 2.8 2.9 2.10 2.11 2.12 2.17 2.18 2.19 2.22 2.25 2.26 2.27 2.31 3.0")
	add("pydata/xarray", Spec{TestCmd: TestPytest, Parser: ParserPytest}, "0.12 0.18 0.19 0.20 2022.03 2022.06 2022.09 2023.07 2024.05")
	add("pylint-dev/pylint", Spec{TestCmd: TestPytest, Parser: ParserPytestOptions},
		"2.8 2.9 2.10 2.11 2.13 2.14 2.15 2.16 2.17 3.0 3.1 3.2 3.3 4.0")
	add("pytest-dev/pytest", Spec{TestCmd: TestPytest, Parser: ParserPytest},
		"4.4 4.5 4.6 5.0 5.1 5.2 5.3 5.4 6.0 6.2 6.3 7.0 7.1 7.2 7.4 8.0 8.1 8.2 8.3 8.4")
	add("scikit-learn/scikit-learn", Spec{TestCmd: TestPytest, Parser: ParserPytestV2}, "0.20 0.21 0.22 1.3 1.4 1.5 1.6")
	add("sphinx-doc/sphinx", Spec{TestCmd: TestSphinx, Parser: ParserPytestV2},
		"1.5 1.6 1.7 1.8 2.0 2.1 2.2 2.3 2.4 3.0 3.1 3.2 3.3 3.4 3.5 4.0 4.1 4.2 4.3 4.4 4.5 5.0 5.1 5.2 5.3 6.0 6.2 7.0 7.1 7.2 7.3 7.4 8.0 8.1")
	add("sympy/sympy", Spec{TestCmd: TestSympy, Parser: ParserSympy},
		"0.7 1.0 1.1 1.2 1.4 1.5 1.6 1.7 1.8 1.9 1.10 1.11 1.12 1.13 1.14")
	return m
}()

// repoParsers is SWE-bench's log parser per repository, for tasks whose
// version the table does not hold.
var repoParsers = map[string]Parser{
	"astropy/astropy": ParserPytestV2, "django/django": ParserDjango, "matplotlib/matplotlib": ParserMatplotlib,
	"mwaskom/seaborn": ParserSeaborn, "pallets/flask": ParserPytest, "psf/requests": ParserPytestOptions,
	"pydata/xarray": ParserPytest, "pylint-dev/pylint": ParserPytestOptions, "pytest-dev/pytest": ParserPytest,
	"scikit-learn/scikit-learn": ParserPytestV2, "sphinx-doc/sphinx": ParserPytestV2, "sympy/sympy": ParserSympy,
}

// SpecFor returns SWE-bench's spec for repo at version.
func SpecFor(repo, version string) (Spec, bool) {
	s, ok := specs[repo][version]
	return s, ok
}

// Repos returns the repositories the table holds.
func Repos() []string {
	out := make([]string, 0, len(specs))
	for r := range specs {
		out = append(out, r)
	}
	return out
}
