package sdk

import "context"

// KindLanguage is the plugin kind that knows one programming language's
// environments: what their images need, how their tests run and how their
// test output reads. Core knows no language; it asks the plugin that
// serves the task's language.
const KindLanguage Kind = "language"

// Language is everything the host needs to know about one programming
// language. The host calls Describe once per plugin and run, and the other
// methods whenever it runs or checks something in a sandbox of that
// language. Every command a Language returns is a bash script the host
// runs in the repository (/testbed) as the sandbox user.
//
// A Language is trusted; the repository and the patches under test are
// not. A test runner's own report is a result channel a patch can try to
// forge (a conftest.py that rewrites it, a test that prints a fake
// summary), so ParseTestRun must refuse a run whose channels disagree
// rather than trust the easier one: the grade becomes a training label.
type Language interface {
	// Describe says what does not depend on a task.
	Describe(ctx context.Context, cfg Config) (LanguageSpec, error)
	// TestCommand returns the command that runs the tests req asks for.
	TestCommand(ctx context.Context, cfg Config, req TestCommandRequest) (TestCommand, error)
	// ParseTestRun reads the results of one run of a TestCommand. An
	// error means the parser failed (the host retries or records an
	// infrastructure failure); a run whose results cannot be trusted is
	// not an error but a TestReport with Invalid set.
	ParseTestRun(ctx context.Context, cfg Config, run TestRun) (TestReport, error)
	// CheckCommand returns a command that exits non-zero when the changed
	// files do not compile (or, for an interpreted language, do not parse),
	// or "" when the language has no such check for them. Synthetic-task
	// generation runs it on each candidate bug before running any test.
	CheckCommand(ctx context.Context, cfg Config, req CheckRequest) (string, error)
}

// LanguageSpec describes a language's environments.
type LanguageSpec struct {
	// Name is the language as tasks and recipes name it ("python").
	Name string `json:"name"`
	// Aliases are other names tasks use for it ("golang" for "go").
	Aliases []string `json:"aliases,omitempty"`
	// SourceFiles are shell globs of the language's source files
	// ("*.py"), for agents and oracles that look around a repository.
	SourceFiles []string `json:"source_files,omitempty"`
	// Image is what a base image of the language holds.
	Image ImageSpec `json:"image"`
	// DefaultTestCommand runs a repository's whole test suite when its
	// task and environment give none.
	DefaultTestCommand string `json:"default_test_command"`
	// HarnessFiles are base names of files that change how the test
	// runner runs rather than what the code does (pytest's conftest.py,
	// pytest.ini). Before grading, the host puts every such file a model
	// patch touched back as the base commit has it, and records that it
	// did.
	HarnessFiles []string `json:"harness_files,omitempty"`
	// TestFiles are globs of the repository's test files, as
	// MatchTestFile reads them ("test_*.py", "tests/**"): a pull request's
	// changes to them become a real task's test_patch, the rest its patch.
	TestFiles []string `json:"test_files,omitempty"`
	// ErrorLines are regular expressions (Go's RE2 syntax) matching a
	// line of the test command's output that says why no test ran (an
	// import error, a package the build lacks), beyond the host's own
	// (a line with "Error: " or "error: ", "command not found"). The
	// host shows the first such line when it rejects a run.
	ErrorLines []string `json:"error_lines,omitempty"`
}

// ImageSpec is what a language adds to a Debian base image and to the
// environment images built on it.
type ImageSpec struct {
	// Packages are Debian packages to install.
	Packages []string `json:"packages,omitempty"`
	// Backports are Debian packages to install from <release>-backports.
	Backports []string `json:"backports,omitempty"`
	// Links are symbolic links to create, link → target.
	Links map[string]string `json:"links,omitempty"`
	// Env are KEY=VALUE pairs of the image's environment.
	Env []string `json:"env,omitempty"`
	// OwnedDirs are directories created in the image and owned by the
	// sandbox user (a cache the setup fills).
	OwnedDirs []string `json:"owned_dirs,omitempty"`
	// Setup runs in the repository when an environment image is built and
	// the environment gives no setup of its own (`go mod download`), with
	// the network allowed.
	Setup []string `json:"setup,omitempty"`
	// Warm runs in the repository after the environment's setup, with the
	// network allowed: it fills caches every sandbox starts from (Go's
	// build cache). A failure is ignored.
	Warm []string `json:"warm,omitempty"`
	// Open runs in each sandbox of the language once it is opened, before
	// anyone else uses it (linking or copying a warmed cache into place).
	// The sandbox's root file system may be read-only except /tmp and the
	// repository.
	Open string `json:"open,omitempty"`
}

// TestPurpose says who reads a test run.
type TestPurpose string

// Test purposes.
const (
	// PurposeGrade runs tests for the harness: the output and the files
	// the command names are parsed with ParseTestRun.
	PurposeGrade TestPurpose = "grade"
	// PurposeShow runs tests for a person or an agent: a short command
	// they could type (a reproduction in a problem statement, an oracle's
	// turn), printing failures in detail.
	PurposeShow TestPurpose = "show"
)

// TestCommandRequest asks for the command that runs some tests.
type TestCommandRequest struct {
	Purpose TestPurpose `json:"purpose"`
	// Base is the repository's test command from its task or environment,
	// "" for the language's default. Test ids are added to it.
	Base string `json:"base,omitempty"`
	// Tests are the ids of the tests to run, as ParseTestRun reports
	// them; none runs the whole suite.
	Tests []string `json:"tests,omitempty"`
	// ReportDir is a directory outside the repository where the command
	// may have the test runner write structured reports (PurposeGrade
	// only). Its name is not guessable from inside the sandbox before the
	// run, but the tests under run can see it (in the environment), so
	// ParseTestRun must check a report against the output.
	ReportDir string `json:"report_dir,omitempty"`
	// Task is the task whose tests run, for languages whose commands
	// depend on the repository and its version (SWE-bench's test command
	// per repository and version); nil when the run serves no task.
	Task *TestTask `json:"task,omitempty"`
}

// TestTask is what a language may need to know of the task whose tests
// run: which repository at which version, and which test files its
// test_patch changes (SWE-bench runs those files, its "test directives").
type TestTask struct {
	InstanceID string `json:"instance_id"`
	Repo       string `json:"repo,omitempty"`
	Version    string `json:"version,omitempty"`
	// Image is the task's published image (SWE-smith's image_name), ""
	// when it has none.
	Image string `json:"image,omitempty"`
	// TestFiles are the paths the task's test_patch changes, without
	// SWE-bench's NON_TEST_EXTS (data files), in the patch's order.
	TestFiles []string `json:"test_files,omitempty"`
}

// TestCommand is a command that runs tests.
type TestCommand struct {
	// Command is the bash script. Its exit status is the test runner's.
	Command string `json:"command"`
	// ReadFiles are absolute paths the host reads after the run and hands
	// to ParseTestRun (a JUnit report in ReportDir). A file that is
	// missing is handed over as missing, not as an error.
	ReadFiles []string `json:"read_files,omitempty"`
}

// TestRun is what one run of a TestCommand left.
type TestRun struct {
	// Tests are the ids the command was asked to run.
	Tests []string `json:"tests,omitempty"`
	// Output is what the command printed (stdout and stderr together),
	// exactly between the host's own start and end markers.
	Output string `json:"output"`
	// ExitCode is the command's exit status.
	ExitCode int `json:"exit_code"`
	// Files holds the contents of the TestCommand's ReadFiles that
	// existed after the run, by path.
	Files map[string]string `json:"files,omitempty"`
	// Task is the TestCommandRequest's Task: the parser may depend on the
	// repository (SWE-bench's log parser per repository).
	Task *TestTask `json:"task,omitempty"`
}

// TestReport is a parsed test run.
type TestReport struct {
	// Statuses is the status of every test the run reports, by id.
	Statuses map[string]TestStatus `json:"statuses"`
	// Invalid, when set, says why the run's results cannot be trusted
	// (the runner's report is missing or disagrees with its output): the
	// host grades every expected test of such a run as failed.
	Invalid string `json:"invalid,omitempty"`
	// Failures is the part of the output that shows why the run's Tests
	// failed (tracebacks, assertion messages), as a user would read it;
	// "" when the parser cannot tell.
	Failures string `json:"failures,omitempty"`
}

// CheckRequest asks for a compile check of changed files.
type CheckRequest struct {
	// Files are the repository-relative paths a change touched.
	Files []string `json:"files"`
}
