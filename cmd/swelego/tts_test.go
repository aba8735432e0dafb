package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/swelego/swelego/core/llm/llmtest"
	"github.com/swelego/swelego/core/pipeline"
	"github.com/swelego/swelego/sdk"
)

// ttsTasks are the bundled tasks the TTS test runs: at the recipe's seed
// and turn limit the oracle resolves 2, 1, 4 and 0 of their 4 rollouts.
var ttsTasks = []string{"textkit__textkit-1", "textkit__textkit-4", "semver__semver-2", "semver__semver-3"}

// ttsRun is what a tts stage stored, read back by key.
type ttsRun struct {
	trajs  map[string]sdk.Trajectory // instance_id/index
	scores map[string]pipeline.ScoreRecord
	ranks  map[string]map[string]float64
	preds  map[string]string // instance_id -> patch
	report pipeline.TTSReport
}

func ttsKey(id string, n int) string { return id + "/" + strconv.Itoa(n) }

func readTTSRun(t *testing.T, dir string) ttsRun {
	t.Helper()
	r := ttsRun{trajs: map[string]sdk.Trajectory{}, scores: map[string]pipeline.ScoreRecord{}, ranks: map[string]map[string]float64{}, preds: map[string]string{}}
	eachRecord(t, filepath.Join(dir, "trajectories.jsonl"), func(raw []byte) {
		var tr sdk.Trajectory
		mustUnmarshal(t, raw, &tr)
		key := ttsKey(tr.InstanceID, tr.Attempt)
		if _, dup := r.trajs[key]; dup {
			t.Errorf("rollout %s stored twice", key)
		}
		r.trajs[key] = tr
	})
	eachRecord(t, filepath.Join(dir, "scores.jsonl"), func(raw []byte) {
		var s pipeline.ScoreRecord
		mustUnmarshal(t, raw, &s)
		key := ttsKey(s.InstanceID, s.Candidate)
		if _, dup := r.scores[key]; dup {
			t.Errorf("score of %s stored twice", key)
		}
		r.scores[key] = s
	})
	eachRecord(t, filepath.Join(dir, "ranks.jsonl"), func(raw []byte) {
		var rk pipeline.RankRecord
		mustUnmarshal(t, raw, &rk)
		r.ranks[rk.InstanceID] = rk.Scores
	})
	eachRecord(t, filepath.Join(dir, "predictions.jsonl"), func(raw []byte) {
		var p sdk.Prediction
		mustUnmarshal(t, raw, &p)
		r.preds[p.InstanceID] = p.ModelPatch
	})
	rep, err := pipeline.ReadTTSReport(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	r.report = rep
	return r
}

func eachRecord(t *testing.T, path string, fn func([]byte)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		fn(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

func mustUnmarshal(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
}

// subsets calls fn with every k-subset of {0, …, n-1}, in increasing
// order within each.
func subsets(n, k int, fn func([]int)) {
	var rec func(start int, cur []int)
	rec = func(start int, cur []int) {
		if len(cur) == k {
			fn(cur)
			return
		}
		for i := start; i < n; i++ {
			rec(i+1, append(cur, i))
		}
	}
	rec(0, nil)
}

// checkTTSRun recomputes every number of the stage's report from the
// stored rollouts, grades and scores — pass@K and TTS@K by going through
// every K-subset, the AUC pair by pair — and checks that the submitted
// prediction of each task is its best-scored rollout (lowest index on
// ties), that pass@1 <= TTS@K <= pass@K, and that the oracle failed some
// rollouts and resolved others.
func checkTTSRun(t *testing.T, r ttsRun, k int) {
	t.Helper()
	played := 0
	for _, tr := range r.trajs {
		if tr.Attempt <= k {
			played++
		}
	}
	if played != len(ttsTasks)*k || len(r.scores) < played {
		t.Fatalf("%d rollouts and %d scores, want %d of each", played, len(r.scores), len(ttsTasks)*k)
	}
	resolved := 0
	var pos, neg []float64
	passAt := map[int]float64{}
	ttsAt := map[int]float64{}
	pass1 := 0.0
	for _, id := range ttsTasks {
		res := make([]bool, k)
		sel := make([]float64, k)
		c := 0
		for n := 1; n <= k; n++ {
			key := ttsKey(id, n)
			tr, ok := r.trajs[key]
			if !ok {
				t.Fatalf("no rollout %s", key)
			}
			s, ok := r.scores[key]
			if !ok {
				t.Fatalf("no score for %s", key)
			}
			res[n-1] = tr.Status == sdk.StatusResolved
			sel[n-1] = s.Score
			if rk := r.ranks[id]; rk != nil {
				sel[n-1] = rk[key]
			}
			if res[n-1] {
				c++
				pos = append(pos, s.Score)
			} else {
				neg = append(neg, s.Score)
			}
		}
		resolved += c
		pass1 += float64(c) / float64(k)
		pick := func(idx []int) int {
			best := idx[0]
			for _, i := range idx[1:] {
				if sel[i] > sel[best] {
					best = i
				}
			}
			return best
		}
		all := make([]int, k)
		for i := range all {
			all[i] = i
		}
		best := pick(all)
		if got, want := r.preds[id], r.trajs[ttsKey(id, best+1)].FinalPatch; got != want {
			t.Errorf("%s: the submitted patch is not that of rollout %d, the verifier's pick", id, best+1)
		}
		for _, K := range pipeline.ReportKs(k) {
			var subs, anyResolved, pickResolved float64
			subsets(k, K, func(idx []int) {
				subs++
				for _, i := range idx {
					if res[i] {
						anyResolved++
						break
					}
				}
				if res[pick(idx)] {
					pickResolved++
				}
			})
			passAt[K] += anyResolved / subs
			ttsAt[K] += pickResolved / subs
		}
	}
	if resolved == 0 || resolved == played {
		t.Fatalf("%d of %d rollouts resolved: the oracle's error rate should fail some and not all", resolved, played)
	}
	tasks := float64(len(ttsTasks))
	rep := r.report
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if rep.Tasks != len(ttsTasks) || rep.K != k || rep.Rollouts != played || rep.Resolved != resolved || !near(rep.PassAt1, pass1/tasks) {
		t.Errorf("report: %d tasks, k %d, %d rollouts, %d resolved, pass@1 %v; recomputed %d, %d, %d, %d, %v",
			rep.Tasks, rep.K, rep.Rollouts, rep.Resolved, rep.PassAt1, len(ttsTasks), k, played, resolved, pass1/tasks)
	}
	if len(rep.Curve) != len(pipeline.ReportKs(k)) {
		t.Fatalf("report curve %+v", rep.Curve)
	}
	for _, p := range rep.Curve {
		wantPass, wantTTS := passAt[p.K]/tasks, ttsAt[p.K]/tasks
		if !near(p.PassAt1, pass1/tasks) || !near(p.PassAtK, wantPass) || !near(p.TTSAtK, wantTTS) {
			t.Errorf("K=%d: report %+v; recomputed pass@1 %v, TTS@K %v, pass@K %v", p.K, p, pass1/tasks, wantTTS, wantPass)
		}
		if !(p.PassAt1 <= p.TTSAtK+1e-12 && p.TTSAtK <= p.PassAtK+1e-12) {
			t.Errorf("K=%d: not pass@1 %v <= TTS@K %v <= pass@K %v", p.K, p.PassAt1, p.TTSAtK, p.PassAtK)
		}
	}
	wins := 0.0
	for _, p := range pos {
		for _, q := range neg {
			switch {
			case p > q:
				wins++
			case p == q:
				wins += 0.5
			}
		}
	}
	if auc := wins / float64(len(pos)*len(neg)); rep.AUC == nil || !near(*rep.AUC, auc) {
		t.Errorf("AUC %v, recomputed %v", rep.AUC, auc)
	}
}

// TestTTSRecipe runs examples/tts/recipe.hcl over four bundled tasks on
// bubblewrap: 4 rollouts per task of the oracle test teacher, whose
// mistakes make some rollouts run out of turns. The verifier is first
// verifier-tests, then verifier-generative against a stand-in judge whose
// log-probabilities the test sets, both served as separate plugin binaries
// found in the recipe's plugin folder; only a variable of the recipe
// changes between the runs, the second keeps the rollouts and rescores
// them. Every number of both reports is recomputed from what the stage
// stored.
func TestTTSRecipe(t *testing.T) {
	t.Parallel() // waits on sandboxes more than it computes
	if testing.Short() {
		t.Skip("plays 16 rollouts in sandboxes")
	}
	// The recipe in a folder of its own, so the lock file and the plugin
	// folder it gets are the test's; its relative paths reach the bundled
	// repositories through a link.
	root := t.TempDir()
	recipe := filepath.Join(root, "examples", "tts", "recipe.hcl")
	data, err := os.ReadFile(abs(t, "../../examples/tts/recipe.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, recipe, string(data))
	if err := os.Symlink(abs(t, "../../examples/repos"), filepath.Join(root, "examples", "repos")); err != nil {
		t.Fatal(err)
	}
	plugins := filepath.Join(root, "examples", "tts", ".swelego", "plugins")
	for _, name := range []string{"swelego-plugin-verifier-tests", "swelego-plugin-verifier-generative"} {
		copyBin(t, name, filepath.Join(plugins, name))
	}
	var tasks bytes.Buffer
	eachRecord(t, abs(t, bundledTasks), func(raw []byte) {
		var task sdk.Task
		mustUnmarshal(t, raw, &task)
		for _, id := range ttsTasks {
			if task.InstanceID == id {
				tasks.Write(raw)
				tasks.WriteByte('\n')
			}
		}
	})
	tasksFile := filepath.Join(root, "tasks.jsonl")
	writeFile(t, tasksFile, tasks.String())
	work := filepath.Join(root, "run")
	stage := filepath.Join(work, "tts", "k4")

	command := func(vars ...string) (*exec.Cmd, []string) {
		args := []string{"run", recipe, "--workdir", work, "-var", "sandbox_backend=bwrap", "-var", "tasks_file=" + tasksFile}
		for _, v := range vars {
			args = append(args, "-var", v)
		}
		cmd := swelegoCmd(root, args...)
		cmd.Env = append(cmd.Env, "SWELEGO_CACHE="+testCache)
		return cmd, args
	}
	run := func(vars ...string) string {
		t.Helper()
		cmd, args := command(vars...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("swelego %s: %v\n%s\n%s", strings.Join(args, " "), err, stdout.String(), tail(stderr.String(), 4000))
		}
		return stdout.String()
	}

	// The first run is killed once it has stored a few rollouts; the next
	// one plays only the missing ones (every rollout is stored once, the
	// first ones unchanged).
	trajPath := filepath.Join(stage, "trajectories.jsonl")
	cmd, _ := command()
	var first bytes.Buffer
	cmd.Stdout, cmd.Stderr = &first, &first
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Minute, func() bool { return countLines(trajPath) >= 3 }, "three rollouts")
	cmd.Process.Kill()
	cmd.Wait()
	killed, err := os.ReadFile(trajPath)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(killed, []byte("\n")); n >= len(ttsTasks)*4 {
		t.Fatalf("the first run played all %d rollouts before it was killed", n)
	}
	waitFor(t, 10*time.Second, func() bool { return len(pluginProcesses(root)) == 0 }, "the orphaned plugins to die")

	out := run()
	r := readTTSRun(t, stage)
	checkTTSRun(t, r, 4)
	if !strings.Contains(r.report.VerifierPlugin, filepath.Join(plugins, "swelego-plugin-verifier-tests")) {
		t.Errorf("verifier-tests served by %q, not by its binary in the recipe's plugin folder", r.report.VerifierPlugin)
	}
	if !strings.Contains(out, "TTS@K") || !strings.Contains(out, "pass@K") {
		t.Errorf("the run does not print the report:\n%s", out)
	}
	for key, s := range r.scores {
		if s.Score < 0 || s.Score > 1 {
			t.Errorf("%s: tests score %v is no pass rate (%s)", key, s.Score, s.Details)
		}
	}
	trajsBefore, err := os.ReadFile(trajPath)
	if err != nil {
		t.Fatal(err)
	}
	// Every record the killed run had completed is kept as it was (the
	// last one may have been cut before its commit, and is then played
	// again).
	lines := bytes.Split(killed[:bytes.LastIndexByte(killed, '\n')+1], []byte("\n"))
	lines = lines[:len(lines)-1]
	for i, line := range lines {
		if !bytes.Contains(trajsBefore, line) && i < len(lines)-1 {
			t.Errorf("the rerun after the kill changed stored rollout %d", i+1)
		}
	}

	// The stand-in judge: P(YES) and P(NO) at the judgement token depend on
	// the patch the prompt shows, so each rollout's score is known.
	patches := map[string]bool{}
	for _, tr := range r.trajs {
		if tr.FinalPatch != "" {
			patches[strings.TrimRight(tr.FinalPatch, "\n")] = true
		}
	}
	logprobs := func(patch string) (yes, no float64) {
		if patch == "" {
			return -2.3, -0.25
		}
		return -0.05 - 0.07*float64(len(patch)%11), -3.1 + 0.2*float64(len(patch)%7)
	}
	srv := llmtest.NewServer(t)
	srv.Handle(func(req llmtest.Request) llmtest.Reply {
		var body struct {
			Messages []struct {
				Content string `json:"content"`
			} `json:"messages"`
			Logprobs bool `json:"logprobs"`
		}
		if err := json.Unmarshal(req.Body, &body); err != nil || !body.Logprobs {
			return llmtest.Text("not a judge request")
		}
		shown := ""
		for p := range patches {
			for _, m := range body.Messages {
				if strings.Contains(m.Content, p) {
					shown = p
				}
			}
		}
		yes, no := logprobs(shown)
		verdict, lp := "YES", yes
		if no > yes {
			verdict, lp = "NO", no
		}
		return llmtest.Text("<judgement>"+verdict+"</judgement>").WithLogprobs(
			llmtest.Token("<judgement>", -0.01),
			llmtest.Token(verdict, lp, llmtest.Alt("YES", yes), llmtest.Alt("NO", no), llmtest.Alt("Maybe", -6)),
			llmtest.Token("</judgement>", -0.02),
		)
	})

	out = run("verifier=verifier-generative", "judge_url="+srv.URL())
	trajsAfter, err := os.ReadFile(filepath.Join(stage, "trajectories.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(trajsBefore, trajsAfter) {
		t.Error("swapping the verifier played the rollouts again")
	}
	g := readTTSRun(t, stage)
	checkTTSRun(t, g, 4)
	if !strings.Contains(g.report.VerifierPlugin, filepath.Join(plugins, "swelego-plugin-verifier-generative")) {
		t.Errorf("verifier-generative served by %q, not by its binary in the recipe's plugin folder", g.report.VerifierPlugin)
	}
	keys := make([]string, 0, len(g.scores))
	for key := range g.scores {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		yes, no := logprobs(strings.TrimRight(g.trajs[key].FinalPatch, "\n"))
		want := math.Exp(yes) / (math.Exp(yes) + math.Exp(no))
		if got := g.scores[key].Score; math.Abs(got-want) > 1e-6 {
			t.Errorf("%s: generative score %v, want the softmax %v", key, got, want)
		}
	}
	if n := len(srv.Requests()); n != len(g.trajs) {
		t.Errorf("the judge was asked %d times for %d rollouts", n, len(g.trajs))
	}
	if !strings.Contains(out, "verifier-generative") {
		t.Errorf("the printed report does not name the generative verifier:\n%s", out)
	}

	// The hybrid verifier (built in) ranks: the picks follow its ranks.
	run("verifier=verifier-hybrid", "judge_url="+srv.URL())
	h := readTTSRun(t, stage)
	if len(h.ranks) != len(ttsTasks) || !h.report.Ranked {
		t.Fatalf("hybrid: %d tasks ranked, report ranked %v", len(h.ranks), h.report.Ranked)
	}
	checkTTSRun(t, h, 4)

	// k = 2 reports over the first two rollouts of each task, ranked again
	// together, with nothing played or scored again.
	run("verifier=verifier-hybrid", "judge_url="+srv.URL(), "k=2")
	h2 := readTTSRun(t, stage)
	if trajs, _ := os.ReadFile(trajPath); !bytes.Equal(trajs, trajsBefore) {
		t.Error("k = 2 played rollouts again")
	}
	if !reflect.DeepEqual(h2.scores, h.scores) {
		t.Error("k = 2 scored rollouts again")
	}
	for id, rk := range h2.ranks {
		if len(rk) != 2 {
			t.Errorf("%s: %d rollouts ranked for k = 2", id, len(rk))
		}
	}
	checkTTSRun(t, h2, 2)

	// swelego tts report prints the stored report again.
	stdout, stderr, code := swelego(t, root, "tts", "report", work)
	if code != 0 || !strings.Contains(stdout, "tts.k4: 4 tasks × 2 rollouts") || !strings.Contains(stdout, "report.svg") {
		t.Errorf("tts report: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, stderr, code := swelego(t, root, "tts", "report", t.TempDir()); code == 0 || !strings.Contains(stderr, "no tts report") {
		t.Errorf("tts report of an empty folder: exit %d\n%s", code, stderr)
	}
}

// TestTTSRerankLends reranks candidates (a gold and an empty patch of two
// bundled tasks) with verifier-hybrid, which needs both a model and a
// sandbox: the verifier block's model and a sandbox of each task's
// environment are lent in reranking too.
func TestTTSRerankLends(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("opens sandboxes")
	}
	dir := t.TempDir()
	var cands bytes.Buffer
	ids := []string{"textkit__textkit-2", "semver__semver-1"}
	eachRecord(t, abs(t, bundledTasks), func(raw []byte) {
		var task sdk.Task
		mustUnmarshal(t, raw, &task)
		for _, id := range ids {
			if task.InstanceID == id {
				for _, p := range []sdk.Prediction{{InstanceID: id, ModelNameOrPath: "empty"}, {InstanceID: id, ModelNameOrPath: "gold", ModelPatch: task.Patch}} {
					line, _ := json.Marshal(p)
					cands.Write(append(line, '\n'))
				}
			}
		}
	})
	writeFile(t, filepath.Join(dir, "candidates.jsonl"), cands.String())
	srv := llmtest.NewServer(t)
	srv.Handle(func(req llmtest.Request) llmtest.Reply {
		return llmtest.Text("<judgement>YES</judgement>").WithLogprobs(
			llmtest.Token("<judgement>", -0.01),
			llmtest.Token("YES", -0.4, llmtest.Alt("YES", -0.4), llmtest.Alt("NO", -1.2)),
			llmtest.Token("</judgement>", -0.02),
		)
	})
	writeFile(t, filepath.Join(dir, "recipe.hcl"), `source "swebench" "bundled" {
  path = "`+abs(t, bundledTasks)+`"
}
environment "textkit" {
  repo     = "swelego-examples/textkit"
  git      = "`+abs(t, "../../examples/repos/textkit.bundle")+`"
  language = "python"
}
environment "semver" {
  repo     = "swelego-examples/semver"
  git      = "`+abs(t, "../../examples/repos/semver.bundle")+`"
  language = "go"
}
sandbox {
  backend = "bwrap"
}
model "judge" {
  provider = "openai"
  base_url = "`+srv.URL()+`"
  name     = "judge"
}
tts "rerank" {
  tasks      = source.swebench.bundled
  candidates = "candidates.jsonl"
  verifier "verifier-hybrid" {
    model = model.judge
  }
}
`)
	cmd := swelegoCmd(dir, "run", "recipe.hcl", "--workdir", filepath.Join(dir, "run"))
	cmd.Env = append(cmd.Env, "SWELEGO_CACHE="+testCache)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, tail(string(out), 4000))
	}
	scores := readJSONL(t, filepath.Join(dir, "run", "tts", "rerank", "scores.jsonl"))
	if len(scores) != 4 {
		t.Fatalf("%d scores, want 4", len(scores))
	}
	pYes := math.Exp(-0.4) / (math.Exp(-0.4) + math.Exp(-1.2))
	for _, s := range scores {
		parts, _ := s["parts"].(map[string]any)
		if p, _ := parts["p_yes"].(float64); math.Abs(p-pYes) > 1e-6 {
			t.Errorf("%v/%v: p_yes %v, want %v (the lent model's)", s["instance_id"], s["candidate"], parts["p_yes"], pYes)
		}
		if _, ok := parts["pass_rate"]; !ok {
			t.Errorf("%v/%v: no pass_rate part (the lent sandbox's): %v", s["instance_id"], s["candidate"], s)
		}
	}
	if n := len(srv.Requests()); n != 4 {
		t.Errorf("the judge was asked %d times, want 4", n)
	}
	// The hybrid verifier ranks: each task's prediction is its best-ranked
	// candidate (0 the empty patch, 1 the gold one; the first on a tie).
	ranks := map[string]map[string]float64{}
	eachRecord(t, filepath.Join(dir, "run", "tts", "rerank", "ranks.jsonl"), func(raw []byte) {
		var rk pipeline.RankRecord
		mustUnmarshal(t, raw, &rk)
		ranks[rk.InstanceID] = rk.Scores
	})
	preds := map[string]string{}
	for _, p := range readJSONL(t, filepath.Join(dir, "run", "tts", "rerank", "predictions.jsonl")) {
		preds[p["instance_id"].(string)] = p["model_name_or_path"].(string)
	}
	for _, id := range ids {
		rk := ranks[id]
		if len(rk) != 2 {
			t.Fatalf("%s ranked %v", id, rk)
		}
		want := "empty"
		if rk[id+"/1"] > rk[id+"/0"] {
			want = "gold"
		}
		if preds[id] != want {
			t.Errorf("%s: submitted %q, ranks %v pick %q", id, preds[id], rk, want)
		}
	}
}
