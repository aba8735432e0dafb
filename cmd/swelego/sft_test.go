package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swelego/swelego/core/backend/cpu"
	"github.com/swelego/swelego/core/model"
	"github.com/swelego/swelego/core/safetensors"
	"github.com/swelego/swelego/core/trajfmt"
)

// sftRecipe is an sft stage alone over real trajectories of the bundled
// tasks (the quickstart's oracle rollout, captured in testdata), training
// the quickstart's tiny student.
const sftRecipe = "testdata/sft/recipe.hcl"

func runSFT(t *testing.T, recipe, work string, vars ...string) (string, string) {
	t.Helper()
	args := []string{"run", abs(t, recipe), "--workdir", work}
	for _, v := range vars {
		args = append(args, "-var", v)
	}
	out, errOut, code := swelego(t, t.TempDir(), args...)
	if code != 0 {
		t.Fatalf("sft run: exit %d\n%s%s", code, out, tail(errOut, 4000))
	}
	return out, errOut
}

type stepMetrics struct {
	Step          int     `json:"step"`
	Stage         string  `json:"stage"`
	Loss          float64 `json:"loss"`
	LR            float64 `json:"lr"`
	TrainedTokens int     `json:"trained_tokens"`
}

func readMetrics(t *testing.T, path string) []stepMetrics {
	t.Helper()
	var out []stepMetrics
	for _, r := range readJSONL(t, path) {
		js, _ := json.Marshal(r)
		var m stepMetrics
		if err := json.Unmarshal(js, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// TestSFTStage trains the student from a recipe and checks what the stage
// leaves: per-step metrics whose loss falls, the masked turns with their
// reasons, the same masks in the ShareGPT export, a checkpoint PyTorch reads
// with the same logits, and a killed run that resumes to the very same
// weights.
func TestSFTStage(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	runSFT(t, sftRecipe, work, "save_every=4")
	dir := filepath.Join(work, "sft", "student")

	mets := readMetrics(t, filepath.Join(dir, "metrics.jsonl"))
	if len(mets) != 18 { // 9 trajectories × 6 epochs shared by 3 tiers, one per step
		t.Fatalf("%d steps, want 18", len(mets))
	}
	first, last := mets[0].Loss, mets[len(mets)-1].Loss
	if !(last < 0.75*first) {
		t.Errorf("loss %.3f → %.3f: not well below the first", first, last)
	}
	if mets[0].Stage != "tier1" || mets[len(mets)-1].Stage != "tier3" {
		t.Errorf("curriculum order: first step in %s, last in %s", mets[0].Stage, mets[len(mets)-1].Stage)
	}
	for i, m := range mets {
		if m.Step != i+1 || m.TrainedTokens == 0 {
			t.Fatalf("metrics record %d: %+v", i, m)
		}
	}

	t.Run("masks", func(t *testing.T) { checkSFTMasks(t, dir) })
	t.Run("pytorch", func(t *testing.T) { checkSFTCheckpoint(t, filepath.Join(dir, "model")) })
	t.Run("sigkill", func(t *testing.T) { checkSFTResume(t, filepath.Join(dir, "model", "model.safetensors")) })
}

// checkSFTMasks: every masked turn has a reason; the ShareGPT export marks
// turn_mask on exactly those assistant turns; the counts agree with the
// trajectories' own error flags.
func checkSFTMasks(t *testing.T, dir string) {
	masks := readJSONL(t, filepath.Join(dir, "masks.jsonl"))
	if len(masks) == 0 {
		t.Fatal("no masked turn: the oracle's mistakes should be masked")
	}
	// The assistant ordinal of each masked message, per trajectory.
	trajs := readTrajectories(t, abs(t, "testdata/sft/trajectories.jsonl"))
	want := map[string]map[int]bool{}
	flagged := 0
	for _, tr := range trajs {
		id := fmt.Sprintf("%s/%d", tr.InstanceID, tr.Attempt)
		want[id] = map[int]bool{}
		for _, turn := range tr.Turns {
			if turn.Error {
				flagged++
			}
		}
		for _, m := range masks {
			if m["id"] != id {
				continue
			}
			if r, _ := m["reason"].(string); r == "" {
				t.Errorf("mask %v has no reason", m)
			}
			msg := int(m["message"].(float64))
			n := 0
			for i := 0; i < msg; i++ {
				if tr.Messages[i].Role == "assistant" {
					n++
				}
			}
			if tr.Messages[msg].Role != "assistant" {
				t.Errorf("mask on a %s message: %v", tr.Messages[msg].Role, m)
			}
			want[id][n] = true
		}
	}
	if len(masks) < flagged {
		t.Errorf("%d masked turns, but the rollout flagged %d error turns", len(masks), flagged)
	}
	export := readJSONL(t, filepath.Join(dir, "sharegpt", "train.jsonl"))
	if len(export) != len(trajs) {
		t.Fatalf("%d exported records, want %d", len(export), len(trajs))
	}
	for _, rec := range export {
		id := fmt.Sprintf("%s/%d", rec["instance_id"], int(rec["attempt"].(float64)))
		n := 0
		for _, raw := range rec["messages"].([]any) {
			m := raw.(map[string]any)
			if m["role"] != "assistant" {
				if _, ok := m["turn_mask"]; ok {
					t.Errorf("%s: turn_mask on a %s message", id, m["role"])
				}
				continue
			}
			masked, _ := m["turn_mask"].(bool)
			if masked != want[id][n] {
				t.Errorf("%s: assistant turn %d has turn_mask %v, the stage masked it: %v", id, n, masked, want[id][n])
			}
			n++
		}
	}
	info, err := os.ReadFile(filepath.Join(dir, "sharegpt", "dataset_info.json"))
	if err != nil || !bytes.Contains(info, []byte(`"file_name": "train.jsonl"`)) {
		t.Errorf("dataset_info.json: %v\n%s", err, info)
	}
}

// checkSFTCheckpoint loads the published model in the PyTorch reference of
// core/model and compares its logits with swelego's on real token ids.
func checkSFTCheckpoint(t *testing.T, modelDir string) {
	py := ""
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import torch, numpy").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		t.Skip("skipping: no python3 with torch and numpy (make deps installs python3-torch)")
	}
	dir := t.TempDir()
	entries, err := os.ReadDir(modelDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := copyTree(filepath.Join(modelDir, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	be := cpu.New(0)
	defer be.Close()
	m, err := model.Load(context.Background(), dir, be)
	if err != nil {
		t.Fatal(err)
	}
	const B, T = 2, 96
	tokens := make([]int32, B*T)
	for i := range tokens {
		tokens[i] = int32((i*37 + 11) % 1539)
	}
	in, _ := json.Marshal(map[string]any{"batch": B, "seq": T, "tokens": tokens})
	if err := os.WriteFile(filepath.Join(dir, "check_input.json"), in, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, abs(t, "../../core/model/testdata/reference.py"), "--check-checkpoint", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("reference.py: %v\n%s", err, out)
	}
	if _, err := m.Forward(&model.Batch{B: B, T: T, Tokens: tokens}, 0); err != nil {
		t.Fatal(err)
	}
	ours := make([]float32, m.Logits().Len())
	be.Download(ours, m.Logits())
	f, err := safetensors.Open(filepath.Join(dir, "check_logits.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	theirs := make([]float32, len(ours))
	if err := f.ReadFloat32("logits", theirs); err != nil {
		t.Fatal(err)
	}
	var num, den float64
	for i := range ours {
		d := float64(ours[i] - theirs[i])
		num += d * d
		den += float64(theirs[i]) * float64(theirs[i])
	}
	if e := math.Sqrt(num / den); !(e < 1e-4) {
		t.Errorf("logits differ from PyTorch's: relative error %.3g", e)
	}
}

// checkSFTResume kills a run with SIGKILL after its checkpoint at step 4,
// while step 5 or later is being trained, runs it again, and compares the
// final weights with the uninterrupted run's, bit for bit.
func checkSFTResume(t *testing.T, wantWeights string) {
	work := t.TempDir()
	cmd := swelegoCmd(t.TempDir(), "run", abs(t, sftRecipe), "--workdir", work, "-var", "save_every=4")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the kill takes the plugins too
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(work, "sft", "student", "checkpoints", "step-00000004")
	metrics := filepath.Join(work, "sft", "student", "metrics.jsonl")
	deadline := time.Now().Add(5 * time.Minute)
	for {
		data, _ := os.ReadFile(metrics)
		if _, err := os.Stat(ckpt); err == nil && bytes.Count(data, []byte("\n")) >= 5 {
			break
		}
		if time.Now().After(deadline) {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cmd.Wait()
			t.Fatalf("no checkpoint at step 4 after 5 minutes\n%s", tail(out.String(), 3000))
		}
		time.Sleep(20 * time.Millisecond)
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(work, "sft", "student", "model")); err == nil {
		t.Fatal("the run finished before it was killed")
	}
	_, errOut := runSFT(t, sftRecipe, work, "save_every=4")
	if !strings.Contains(errOut, "resum") {
		t.Errorf("the second run does not say it resumed:\n%s", tail(errOut, 2000))
	}
	got, err := os.ReadFile(filepath.Join(work, "sft", "student", "model", "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(wantWeights)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("weights after the resumed run differ from the uninterrupted run's")
	}
	if n := len(readMetrics(t, metrics)); n != 18 {
		t.Errorf("%d metrics records after the resume, want each of the 18 steps once", n)
	}
}

// TestSFTMaskerSwap replaces the error_turns masker with a third-party
// plugin binary by editing the recipe only: the turns trained change.
func TestSFTMaskerSwap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	copyBin(t, "swelego-plugin-firstturns", filepath.Join(dir, "bin", "swelego-plugin-firstturns"))
	recipe, err := os.ReadFile(sftRecipe)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(recipe), `"../../../../`, `"`+abs(t, "../..")+"/")
	text = strings.Replace(text, `"trajectories.jsonl"`, fmt.Sprintf("%q", abs(t, "testdata/sft/trajectories.jsonl")), 1)
	swapped := strings.Replace(text, "masker \"errormask\" {\n    strategy = \"error_turns\"\n  }",
		"masker \"firstturns\" {\n    turns = 2\n  }", 1)
	if swapped == text {
		t.Fatal("the recipe has no errormask block to swap")
	}
	swapped = "plugin \"firstturns\" {\n  source = \"./bin/swelego-plugin-firstturns\"\n}\n\n" + swapped
	writeFile(t, filepath.Join(dir, "recipe.hcl"), swapped)
	work := t.TempDir()
	runSFT(t, filepath.Join(dir, "recipe.hcl"), work, "epochs=1")
	masks := readJSONL(t, filepath.Join(work, "sft", "student", "masks.jsonl"))
	trajs := readTrajectories(t, abs(t, "testdata/sft/trajectories.jsonl"))
	want := 0
	for _, tr := range trajs {
		n := 0
		for _, m := range tr.Messages {
			if m.Role == "assistant" {
				n++
			}
		}
		want += max(n-2, 0)
	}
	if len(masks) != want {
		t.Errorf("%d masked turns with firstturns (turns = 2), want every turn after the second: %d", len(masks), want)
	}
}

// TestSFTValidate: a misspelt masker setting is reported at its
// file:line:col by validate, before anything runs.
func TestSFTValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	recipe, err := os.ReadFile(sftRecipe)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(recipe), "strategy = \"error_turns\"", "stratgy = \"error_turns\"", 1)
	writeFile(t, filepath.Join(dir, "recipe.hcl"), bad)
	line := 0
	for i, l := range strings.Split(bad, "\n") {
		if strings.Contains(l, "stratgy") {
			line = i + 1
		}
	}
	_, errOut, code := swelego(t, dir, "validate", "recipe.hcl")
	if code == 0 {
		t.Fatal("validate accepted a misspelt masker setting")
	}
	if want := fmt.Sprintf("recipe.hcl:%d:5", line); !strings.Contains(errOut, want) || !strings.Contains(errOut, "stratgy") {
		t.Errorf("validate output does not point at %s:\n%s", want, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "runs")); err == nil {
		t.Error("validate created a run")
	}
}

// TestSFTShareGPTTurnMask trains from a file in the shape SWE-Lego
// publishes — LLaMA-Factory ShareGPT with OpenHands text function calls,
// turn_mask on some assistant turns, no status — with the keep_dataset
// masker: exactly the turns the data masks get weight 0.
func TestSFTShareGPTTurnMask(t *testing.T) {
	t.Parallel()
	trajs := readTrajectories(t, abs(t, "testdata/sft/trajectories.jsonl"))[:3]
	dir := t.TempDir()
	var buf bytes.Buffer
	want := map[string]map[int]bool{} // id → masked message indices
	for k, tr := range trajs {
		id := fmt.Sprintf("%s/%d", tr.InstanceID, tr.Attempt)
		want[id] = map[int]bool{}
		n := 0
		for i := range tr.Messages {
			if tr.Messages[i].Role != "assistant" {
				continue
			}
			if (n+k)%3 == 1 {
				masked := true
				tr.Messages[i].TurnMask = &masked
			}
			n++
		}
		tr.Status, tr.Turns = "", nil // released data carries neither
		rec, err := trajfmt.Encode(tr, trajfmt.Options{Style: trajfmt.ShareGPT})
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(rec)
		buf.WriteByte('\n')
		// Which native messages those are, after import (tool results are
		// merged per turn, so count assistant turns again).
		back, err := trajfmt.Decode(rec, trajfmt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range back.Messages {
			if m.Role == "assistant" && m.TurnMask != nil && *m.TurnMask {
				want[id][i] = true
			}
		}
	}
	writeFile(t, filepath.Join(dir, "release.jsonl"), buf.String())
	recipe, err := os.ReadFile(sftRecipe)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(recipe), `"../../../../`, `"`+abs(t, "../..")+"/")
	text = strings.Replace(text, `"trajectories.jsonl"`, `"release.jsonl"`, 1)
	text = strings.Replace(text, `strategy = "error_turns"`, `strategy = "keep_dataset"`, 1)
	text = strings.Replace(text, `template     = "qwen3"`, `template     = "openhands"`, 1)
	writeFile(t, filepath.Join(dir, "recipe.hcl"), text)
	work := t.TempDir()
	runSFT(t, filepath.Join(dir, "recipe.hcl"), work, "epochs=1")
	got := map[string]map[int]bool{}
	for _, m := range readJSONL(t, filepath.Join(work, "sft", "student", "masks.jsonl")) {
		id := m["id"].(string)
		if got[id] == nil {
			got[id] = map[int]bool{}
		}
		if m["weight"].(float64) != 0 {
			t.Errorf("mask %v: weight is not 0", m)
		}
		got[id][int(m["message"].(float64))] = true
	}
	total := 0
	for id, w := range want {
		total += len(w)
		if fmt.Sprint(w) != fmt.Sprint(got[id]) && len(w)+len(got[id]) > 0 {
			t.Errorf("%s: masked messages %v, the data marks %v", id, got[id], w)
		}
	}
	if total == 0 {
		t.Fatal("the test data marks no turn")
	}
}
