package pluginhost

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swelego/swelego/core/envimage"
	"github.com/swelego/swelego/core/llm"
	"github.com/swelego/swelego/core/llm/llmtest"
	"github.com/swelego/swelego/core/sandbox"
	"github.com/swelego/swelego/plugins/golang"
	"github.com/swelego/swelego/plugins/python"
	"github.com/swelego/swelego/sdk"
)

// These tests run the first-party verifier plugins as the host runs any
// plugin: built as their own binaries, found on the search path, started
// and supervised by the host, with a model lent from a real
// OpenAI-protocol endpoint (the llmtest stand-in, whose log-probabilities
// the test sets) and a real bubblewrap sandbox of a Python environment.

var (
	verifierBinOnce sync.Once
	verifierBinDir  string
	verifierBinErr  error
)

// verifierHost returns a host whose search path holds the verifier
// plugins, built once per test run.
func verifierHost(t *testing.T) *Host {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: builds plugin binaries")
	}
	verifierBinOnce.Do(func() {
		verifierBinDir = filepath.Join(testBin, "verifiers")
		for _, name := range []string{"verifier-generative", "verifier-tests"} {
			out, err := exec.Command("go", "build", "-o", filepath.Join(verifierBinDir, BinaryPrefix+name),
				"../../plugins/verifiers/cmd/swelego-plugin-"+name).CombinedOutput()
			if err != nil {
				verifierBinErr = fmt.Errorf("build %s: %v\n%s", name, err, out)
				return
			}
		}
	})
	if verifierBinErr != nil {
		t.Fatal(verifierBinErr)
	}
	return newTestHost(t, Options{SearchPath: []string{verifierBinDir}})
}

// TestGenerativeVerifierEndToEnd scores candidates with the generative
// plugin process through a model the host lends from an OpenAI-protocol
// endpoint. The endpoint's answers split <judgement> over several tokens,
// at an index that changes from one answer to the next; the score must be
// the softmax of the YES and NO log-probabilities at the verdict.
func TestGenerativeVerifierEndToEnd(t *testing.T) {
	ctx := context.Background()
	h := verifierHost(t)
	srv := llmtest.NewServer(t)
	model, err := llm.New(llm.Config{BaseURL: srv.URL(), Model: "judge", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	v, err := h.Verifier(ctx, "verifier-generative")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		lead        []string // tokens before the tag
		tag         []string // the tag, as the tokenizer splits it
		yes, no     string   // the verdict alternatives
		lpYes, lpNo float64
		chosen      string
	}{
		{"tag whole", nil, []string{"<judgement>"}, "YES", "NO", -0.3, -1.4, "YES"},
		{"tag split after words", []string{"The", " fix", " is", " wrong", ".\n"}, []string{"<", "jud", "gement", ">"}, "YES", "NO", -2.2, -0.12, "NO"},
		{"tag end merged with the verdict", []string{"Verdict", ":"}, []string{" <judg", "ement"}, ">YES", ">NO", -0.7, -0.69, ">NO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var toks []llmtest.Logprob
			for _, s := range append(append([]string{}, tt.lead...), tt.tag...) {
				toks = append(toks, llmtest.Token(s, -0.01))
			}
			lp := tt.lpYes
			if tt.chosen == tt.no {
				lp = tt.lpNo
			}
			toks = append(toks,
				llmtest.Token(tt.chosen, lp, llmtest.Alt(tt.yes, tt.lpYes), llmtest.Alt(tt.no, tt.lpNo), llmtest.Alt("Maybe", -7)),
				llmtest.Token("</judgement>", -0.001))
			var text strings.Builder
			for _, tok := range toks {
				text.WriteString(tok.Token)
			}
			srv.Enqueue(llmtest.Text(text.String()).WithLogprobs(toks...))

			score, err := v.Verify(ctx, sdk.VerifyRequest{
				Task:  sdk.Task{InstanceID: "calc-1", Repo: "example/calc", ProblemStatement: "mul adds"},
				Patch: "diff --git a/calc/ops.py b/calc/ops.py\n", Model: model,
			})
			if err != nil {
				t.Fatal(err)
			}
			want := math.Exp(tt.lpYes) / (math.Exp(tt.lpYes) + math.Exp(tt.lpNo))
			if math.Abs(score.Value-want) > 1e-6 || math.Abs(score.Parts["p_yes"]-want) > 1e-6 {
				t.Errorf("score %+v, want %.9f", score, want)
			}
			reqs := srv.Requests()
			got := reqs[len(reqs)-1].Chat
			if !got.Logprobs || got.TopLogprobs == nil || *got.TopLogprobs != 20 || got.Temperature == nil || *got.Temperature != 0 {
				t.Errorf("request to the judge: logprobs %t top_logprobs %v temperature %v", got.Logprobs, got.TopLogprobs, got.Temperature)
			}
		})
	}
}

// TestTestsVerifierInSandbox scores patches of a small pytest repository
// and of a Go module with the tests plugin process, in bubblewrap
// sandboxes of a Python and a Go environment, one per candidate, as a tts
// stage lends them.
func TestTestsVerifierInSandbox(t *testing.T) {
	ctx := context.Background()
	h := verifierHost(t)
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Skip("no bwrap")
	}
	// Not t.TempDir, whose parent the sandbox user cannot enter: it
	// reaches the work folder through dir.
	dir, err := os.MkdirTemp("", "swelego-verifier-sandbox-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	backend, err := sandbox.NewBwrap(sandbox.Options{WorkDir: filepath.Join(dir, "work"), NoSweep: true,
		Limits: sandbox.Limits{Memory: 2 << 30, CPUs: 1, Pids: 512, Timeout: 10 * time.Minute}})
	if err != nil {
		t.Skipf("bwrap backend: %v", err)
	}
	v, err := h.Verifier(ctx, "verifier-tests")
	if err != nil {
		t.Fatal(err)
	}
	fixtures := []struct {
		fixture, language string
		patches           []struct {
			patch string
			value float64
			label string
		}
	}{
		{"pyrepo", "python", []struct {
			patch string
			value float64
			label string
		}{
			{"py_keeps.diff", 1, "all_pass"},
			{"py_breaks_mul.diff", 0.5, "some_fail"},
			{"py_adds_test.diff", 0.75, "some_fail"},
			{"py_stale.diff", 0, "not_applied"},
		}},
		{"gomod", "go", []struct {
			patch string
			value float64
			label string
		}{
			// One patch only: a fresh Go sandbox compiles the standard
			// library's test dependencies (most of a minute here);
			// plugins/verifiers covers the other Go patches.
			{"go_adds_test.diff", 1, "all_pass"},
		}},
	}
	for _, fx := range fixtures {
		t.Run(fx.fixture, func(t *testing.T) {
			spec, err := map[string]sdk.Language{"python": python.Language{}, "go": golang.Language{}}[fx.language].Describe(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			img, err := envimage.BuildBase(ctx, envimage.LanguageBase(spec), filepath.Join(os.TempDir(), "swelego-test-cache", "images"))
			if err != nil {
				t.Fatalf("build the %s image: %v", fx.language, err)
			}
			repoDir := filepath.Join(dir, fx.fixture)
			if err := os.CopyFS(repoDir, os.DirFS("../../plugins/verifiers/testdata/"+fx.fixture)); err != nil {
				t.Fatal(err)
			}
			git := exec.Command("bash", "-c", "git init -q -b main && git add -A && git -c user.name=t -c user.email=t@t commit -qm base")
			git.Dir = repoDir
			if out, err := git.CombinedOutput(); err != nil {
				t.Fatalf("git: %v %s", err, out)
			}
			task := sdk.Task{InstanceID: fx.fixture + "-1", Repo: "example/" + fx.fixture, Language: fx.language}
			for _, tt := range fx.patches {
				t.Run(tt.patch, func(t *testing.T) {
					patch, err := os.ReadFile(filepath.Join("../../plugins/verifiers/testdata/patches", tt.patch))
					if err != nil {
						t.Fatal(err)
					}
					sb, err := backend.Open(ctx, sandbox.Spec{Image: img, Repo: repoDir})
					if err != nil {
						t.Fatal(err)
					}
					defer sb.Close(ctx)
					score, err := v.Verify(ctx, sdk.VerifyRequest{Task: task, Patch: string(patch), Sandbox: sb})
					if err != nil {
						t.Fatal(err)
					}
					if score.Value != tt.value || score.Label != tt.label {
						t.Errorf("score %+v, want %g %s", score, tt.value, tt.label)
					}
				})
			}
		})
	}
}
