package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swelego/swelego/core/infer"
	"github.com/swelego/swelego/core/llm"
	"github.com/swelego/swelego/sdk"
)

// serveRecipe trains the quickstart's tiny student for one epoch on the
// captured oracle trajectories, then rolls it out, served in process by
// model { provider = "local", checkpoint = sft.student }, over two
// bundled tasks for two turns.
func serveRecipe(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	recipe := fmt.Sprintf(`source "swebench" "bundled" {
  path         = %q
  instance_ids = ["textkit__textkit-1", "textkit__textkit-2"]
}
environment "textkit" {
  repo     = "swelego-examples/textkit"
  git      = %q
  language = "python"
}
sandbox {
  backend = "bwrap"
  memory  = "2g"
}
toolset "swe" {
  plugin = "swetools"
}
sft "student" {
  trajectories = %q
  tokenizer    = %q
  template     = "qwen3"
  model {
    config = %q
  }
  epochs       = 1
  global_batch = 1
  lr           = 3e-3
  max_seq_len  = 16384
  seed         = 1
}
model "student" {
  provider    = "local"
  checkpoint  = sft.student
  max_tokens  = 48
  temperature = 0
}
rollout "student" {
  tasks     = source.swebench.bundled
  model     = model.student
  toolset   = toolset.swe
  max_turns = 2
  workers   = 2
}
`, abs(t, bundledTasks), abs(t, "../../examples/repos/textkit.bundle"), abs(t, "testdata/sft/trajectories.jsonl"),
		abs(t, "../../examples/quickstart/student"), abs(t, "../../examples/quickstart/student/config.json"))
	path := filepath.Join(dir, "recipe.hcl")
	writeFile(t, path, recipe)
	return path
}

// TestServe trains a checkpoint with the sft stage and serves it twice:
// in process for a rollout stage (the trajectories are recorded with no
// infrastructure error; a one-epoch model solves nothing), and with
// `swelego serve`, answering net/http and the project's llm client,
// streaming and not, until SIGTERM.
func TestServe(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("trains a model and opens sandboxes")
	}
	work := t.TempDir()
	cmd := swelegoCmd(t.TempDir(), "run", serveRecipe(t), "--workdir", work)
	cmd.Env = append(cmd.Env, "SWELEGO_CACHE="+testCache)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, tail(string(out), 4000))
	}
	if !strings.Contains(string(out), "serving the local model") {
		t.Errorf("the run does not say it served the local model:\n%s", tail(string(out), 2000))
	}
	trs := readTrajectories(t, filepath.Join(work, "rollout", "student", "trajectories.jsonl"))
	if len(trs) != 2 {
		t.Fatalf("%d trajectories, want 2", len(trs))
	}
	for _, tr := range trs {
		assistant := 0
		for _, m := range tr.Messages {
			if m.Role == "assistant" {
				assistant++
			}
		}
		if tr.Status == sdk.StatusError || tr.Error != "" || tr.Model != "model.student" || assistant == 0 || len(tr.Turns) == 0 || tr.Usage.CompletionTokens == 0 {
			t.Errorf("%s: status %s, error %q, model %q, %d assistant messages, %d turns, usage %+v",
				tr.InstanceID, tr.Status, tr.Error, tr.Model, assistant, len(tr.Turns), tr.Usage)
		}
	}
	ckpt := filepath.Join(work, "sft", "student", "model")
	meta, err := infer.ReadMeta(ckpt)
	if err != nil || meta.Template != "qwen3" || meta.Tokenizer != infer.MetaOwnTokenizer {
		t.Errorf("model metadata %+v, %v", meta, err)
	}
	t.Run("cli", func(t *testing.T) { checkServeCLI(t, ckpt) })
}

// checkServeCLI runs `swelego serve` on a checkpoint and talks to it.
func checkServeCLI(t *testing.T, ckpt string) {
	cmd := swelegoCmd(t.TempDir(), "serve", "--checkpoint", ckpt, "--addr", "127.0.0.1:0", "--name", "student")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("serve after SIGTERM: %v\n%s", err, stderr.String())
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Error("serve did not stop on SIGTERM")
		}
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	m := regexp.MustCompile(`http://\S+/v1`).FindString(line)
	if m == "" {
		t.Fatalf("no address in %q", line)
	}
	base := m

	body := `{"model":"student","messages":[{"role":"user","content":"Fix the failing test."}],"max_tokens":16,"temperature":0,"logprobs":true%s}`
	resp, err := http.Post(base+"/chat/completions", "application/json", strings.NewReader(fmt.Sprintf(body, "")))
	if err != nil {
		t.Fatal(err)
	}
	var whole struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
			Logprobs struct {
				Content []struct {
					Logprob float64 `json:"logprob"`
				} `json:"content"`
			} `json:"logprobs"`
		} `json:"choices"`
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(data, &whole); err != nil || resp.StatusCode != 200 || len(whole.Choices) != 1 || len(whole.Choices[0].Logprobs.Content) == 0 {
		t.Fatalf("status %d: %s", resp.StatusCode, data)
	}

	resp, err = http.Post(base+"/chat/completions", "application/json", strings.NewReader(fmt.Sprintf(body, `,"stream":true`)))
	if err != nil {
		t.Fatal(err)
	}
	var streamed strings.Builder
	sc := bufio.NewScanner(resp.Body)
	done := false
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			done = true
			break
		}
		var c struct {
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Fatalf("chunk %s: %v", data, err)
		}
		for _, ch := range c.Choices {
			streamed.WriteString(ch.Delta.Content)
		}
	}
	resp.Body.Close()
	if !done || streamed.String() != whole.Choices[0].Message.Content {
		t.Errorf("streamed %q (done %v), whole %q", streamed.String(), done, whole.Choices[0].Message.Content)
	}

	client, err := llm.New(llm.Config{BaseURL: base, Model: "student", MaxTokens: 16})
	if err != nil {
		t.Fatal(err)
	}
	zero := 0.0
	reply, err := client.Chat(context.Background(), sdk.ChatRequest{Messages: []sdk.Message{{Role: "user", Content: "Fix the failing test."}}, Temperature: &zero, Logprobs: true})
	if err != nil {
		t.Fatal(err)
	}
	if reply.Message.Content != whole.Choices[0].Message.Content || len(reply.Logprobs) != len(whole.Choices[0].Logprobs.Content) {
		t.Errorf("llm client: %q with %d logprobs; net/http: %q", reply.Message.Content, len(reply.Logprobs), whole.Choices[0].Message.Content)
	}

	// A bad request, then a good one: the server keeps serving.
	resp, err = http.Post(base+"/chat/completions", "application/json", strings.NewReader(`{"model":"other","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown model: status %d", resp.StatusCode)
	}
	if _, err := client.Chat(context.Background(), sdk.ChatRequest{Messages: []sdk.Message{{Role: "user", Content: "again"}}}); err != nil {
		t.Errorf("after a bad request: %v", err)
	}
}
