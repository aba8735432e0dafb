package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"
	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/bcrypt"

	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"

	"github.com/swelego/swelego/core/envimage"
	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/core/sandbox"
	"github.com/swelego/swelego/core/taskenv"
	"github.com/swelego/swelego/plugins/python"
	"github.com/swelego/swelego/plugins/swebench"
	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/jsonl"
)

// The test command of the published image: SWE-bench's images are used
// through their conda environment, so the command activates it first.
const condaTestCmd = "source /opt/miniconda3/bin/activate && conda activate testbed && " + python.DefaultTestCommand

// TestSWEBenchImages is issue 15's test: an OCI registry (distribution's,
// with basic auth) on 127.0.0.1 serves an image laid out like SWE-bench's
// (the repository at /testbed with its whole history including the fix
// commit, a tag and a remote; /opt/miniconda3/bin/activate and a testbed
// environment that alone provides the test runner; a file the set-up
// built beside the repository), and `swelego eval --image-naming swebench`
// pulls it by SWE-bench's name with the Docker config's credentials and
// grades gold and empty predictions on both backends. Inside a sandbox of
// the image, nothing of what the image shipped beyond the base commit can
// be found; a `docker save` archive gives the same image without the
// registry; without credentials the pull fails and nothing is graded.
func TestSWEBenchImages(t *testing.T) {
	requireDocker(t)
	if os.Geteuid() != 0 {
		t.Skip("building and exporting images needs root")
	}
	t.Parallel() // minutes of image work, none of it shared
	began := time.Now()
	ctx := context.Background()
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()

	host, auths := startRegistry(t)
	task := bundledTask(t, "textkit__textkit-1")
	// SWE-bench's language plugin runs it: the conda activation the image
	// expects, then (textkit being none of its table's repositories)
	// SWE-smith's command over the test patch's files, read by its parser.
	task.Language, task.TestCmd = "swebench", ""
	fix := childOf(t, "../../examples/repos/textkit.bundle", task.BaseCommit)
	ref := envimage.SWEBenchRef(host+"/swebench", task.InstanceID)
	if want := host + "/swebench/sweb.eval.x86_64.textkit_1776_textkit-1:latest"; ref != want {
		t.Fatalf("SWEBenchRef = %s, want %s", ref, want)
	}
	buildSWEBenchImage(t, ctx, cli, ref, task)
	pushed := time.Now()
	auth, _ := registry.EncodeAuthConfig(registry.AuthConfig{Username: "swe", Password: "bench", ServerAddress: host})
	rc, err := cli.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: auth})
	if err != nil {
		t.Fatal(err)
	}
	if err := drain(rc); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	removeImage(t, cli, ref)
	t.Logf("image built and pushed in %s", time.Since(began).Round(time.Second))

	// What eval uses: a store of its own (its derived images and checkouts
	// go with it), the Docker config with the registry's credentials.
	store, err := os.MkdirTemp("", "swelego-published-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(store, 0o755) // the bwrap backend reads root file systems as the sandbox user
	t.Cleanup(func() {
		envimage.Prune(context.Background(), filepath.Join(store, "images"), nil)
		os.RemoveAll(store)
	})
	dockerCfg := t.TempDir()
	writeFile(t, filepath.Join(dockerCfg, "config.json"), auths)
	tasks := filepath.Join(t.TempDir(), "tasks.jsonl")
	line, _ := json.Marshal(task)
	writeFile(t, tasks, string(line)+"\n")
	eval := func(backend, predictions, config string) (evalReport, string, int) {
		t.Helper()
		return evalTasks(t, tasks, backend, predictions, config, store, host)
	}

	// No credentials: the registry refuses the pull; nothing is graded.
	_, out, code := eval("docker", "gold", t.TempDir())
	if code != 1 || !strings.Contains(out, "not graded") || !strings.Contains(out, "pull: ") {
		t.Fatalf("eval without credentials: exit %d, want 1 naming the refused pull:\n%s", code, tail(out, 3000))
	}

	for i, backend := range []string{"docker", "bwrap"} {
		if i > 0 {
			removeImage(t, cli, ref) // the second backend pulls it again
		}
		r, out, code := eval(backend, "gold", dockerCfg)
		if code != 0 || !slices.Equal(r.Resolved, []string{task.InstanceID}) {
			t.Fatalf("%s gold: exit %d, resolved %v, want [%s]:\n%s", backend, code, r.Resolved, task.InstanceID, tail(out, 3000))
		}
		if !strings.Contains(out, "image "+ref+": ") {
			t.Errorf("%s gold: no pull progress for %s in the output:\n%s", backend, ref, tail(out, 2000))
		}
		r, out, code = eval(backend, "empty", dockerCfg)
		if code != 0 || len(r.Resolved) != 0 || !slices.Equal(r.EmptyPatch, []string{task.InstanceID}) {
			t.Fatalf("%s empty: exit %d, resolved %v, empty patch %v:\n%s", backend, code, r.Resolved, r.EmptyPatch, tail(out, 3000))
		}
	}
	t.Logf("evaluated on both backends in %s", time.Since(pushed).Round(time.Second))

	// A SWE-smith-style record in the same image: its image_name, no base
	// commit (the repository as the image ships it), a patch that
	// introduces the bug; the fix is the patch reversed.
	smith := sdk.Task{InstanceID: "swelego-examples__textkit.b2c81fbc.strip", Repo: "swelego-examples/textkit",
		Source: sdk.SourceSynthetic, PatchDirection: sdk.PatchIntroduces, EnvironmentSetupCommit: task.BaseCommit,
		Patch: smithBug, Language: "swesmith",
		FailToPass: []string{"tests/test_basic.py::test_count_strips_punctuation"},
		PassToPass: []string{"tests/test_basic.py::test_slug_keeps_digits", "tests/test_basic.py::test_wrap_rejects_zero_width", "tests/test_basic.py::test_wrap_single_word"},
		Extra:      map[string]json.RawMessage{"image_name": json.RawMessage(strconv.Quote(ref))}}
	smithTasks := filepath.Join(t.TempDir(), "smith.jsonl")
	line, _ = json.Marshal(smith)
	writeFile(t, smithTasks, string(line)+"\n")
	preds := filepath.Join(t.TempDir(), "preds.jsonl")
	fixLine, _ := json.Marshal(sdk.Prediction{InstanceID: smith.InstanceID, ModelNameOrPath: "reverse", ModelPatch: reversePatch(t, smithBug)})
	writeFile(t, preds, string(fixLine)+"\n")
	r, out, code := evalTasks(t, smithTasks, "docker", preds, dockerCfg, store, host)
	if code != 0 || !slices.Equal(r.Resolved, []string{smith.InstanceID}) {
		t.Fatalf("SWE-smith record, its fix: exit %d, resolved %v:\n%s", code, r.Resolved, tail(out, 3000))
	}
	r, out, code = evalTasks(t, smithTasks, "docker", "empty", dockerCfg, store, host)
	if code != 0 || len(r.Resolved) != 0 || !slices.Equal(r.EmptyPatch, []string{smith.InstanceID}) {
		t.Fatalf("SWE-smith record, empty: exit %d, resolved %v, empty %v:\n%s", code, r.Resolved, r.EmptyPatch, tail(out, 3000))
	}

	// The git red team, inside sandboxes of the image on both backends.
	for _, backend := range []string{"docker", "bwrap"} {
		redTeamImage(t, ctx, backend, store, dockerCfg, host, task, fix)
	}

	// Air-gapped: the image from a `docker save` archive, the registry
	// unused (no credentials given).
	archive := filepath.Join(t.TempDir(), "images.tar")
	saved, err := cli.ImageSave(ctx, []string{ref})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(archive)
	if err == nil {
		_, err = io.Copy(f, saved)
		f.Close()
	}
	saved.Close()
	if err != nil {
		t.Fatal(err)
	}
	removeImage(t, cli, ref)
	p, err := envimage.Published(ctx, envimage.PublishedSpec{Ref: ref, Archives: []string{archive}, DockerConfig: filepath.Join(t.TempDir(), "none.json")},
		filepath.Join(store, "images"))
	if err != nil {
		t.Fatalf("Published from the archive: %v", err)
	}
	if _, err := os.Stat(filepath.Join(p.Repo, ".git")); err != nil {
		t.Fatal(err)
	}
	t.Logf("whole test: %s", time.Since(began).Round(time.Second))
}

// smithBug breaks word_count's punctuation stripping in the bundled
// textkit at the image's commit.
const smithBug = `diff --git a/textkit/count.py b/textkit/count.py
index 6fdc360..645d354 100644
--- a/textkit/count.py
+++ b/textkit/count.py
@@ -2,7 +2,7 @@ def word_count(text):
     """Count words, case-insensitively: {"the": 2, "cat": 1}."""
     counts = {}
     for word in text.split():
-        word = word.strip(".,;:!?\"'()")
+        word = word.strip("()")
         if not word:
             continue
         counts[word] = counts.get(word, 0) + 1
`

// reversePatch is patch reversed (what fixes a bug patch introduces).
func reversePatch(t *testing.T, patch string) string {
	t.Helper()
	var b strings.Builder
	for _, l := range strings.SplitAfter(patch, "\n") {
		switch {
		case strings.HasPrefix(l, "--- "), strings.HasPrefix(l, "+++ "):
			b.WriteString(l)
		case strings.HasPrefix(l, "-"):
			b.WriteString("+" + l[1:])
		case strings.HasPrefix(l, "+"):
			b.WriteString("-" + l[1:])
		default:
			b.WriteString(l)
		}
	}
	return b.String()
}

// evalTasks runs `swelego eval` on a tasks file with SWE-bench's image
// naming after the test registry, the store and Docker config given.
func evalTasks(t *testing.T, tasks, backend, predictions, config, store, host string) (r evalReport, output string, code int) {
	t.Helper()
	work := t.TempDir()
	args := []string{"eval", "--tasks", tasks, "--predictions", predictions, "--backend", backend, "--workdir", work,
		"--report", filepath.Join(work, "r.json"), "--image-naming", "swebench", "--image-namespace", host + "/swebench"}
	cmd := swelegoCmd(t.TempDir(), args...)
	cmd.Env = append(cmd.Env, "SWELEGO_CACHE="+store, "DOCKER_CONFIG="+config)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(work, "r.json")); err == nil {
		json.Unmarshal(data, &r)
	}
	// The instances' logs follow the output, for the failure messages.
	logs, _ := filepath.Glob(filepath.Join(work, "eval", "cli", "logs", "*", "*"))
	for _, l := range logs {
		if data, err := os.ReadFile(l); err == nil {
			out = append(out, fmt.Sprintf("--- %s\n%s\n", filepath.Base(l), data)...)
		}
	}
	return r, string(out), code
}

// evalReport is the part of SWE-bench's report the test reads.
type evalReport struct {
	Resolved   []string `json:"resolved_ids"`
	EmptyPatch []string `json:"empty_patch_ids"`
}

// redTeamImage opens a sandbox of the published image as an agent gets it
// and looks for the fix everywhere git could still hold it.
func redTeamImage(t *testing.T, ctx context.Context, backendName, store, dockerCfg, host string, task sdk.Task, fix string) {
	t.Helper()
	b, err := sandbox.New(ctx, backendName, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	m := taskenv.New(taskenv.Options{Store: store, Backend: b, DefaultLanguage: "python",
		Languages: language.NewSet(language.Static(python.Language{}, swebench.Language{})),
		Images:    taskenv.ImageDefaults{Naming: imageNamingSWEBench, Namespace: host + "/swebench", DockerConfig: filepath.Join(dockerCfg, "config.json")}})
	sb, err := m.Open(ctx, task)
	if err != nil {
		t.Fatalf("%s: open: %v", backendName, err)
	}
	defer sb.Close(context.Background())
	run := func(cmd string) (string, int) {
		res, err := sb.Exec(ctx, cmd, time.Minute)
		if err != nil {
			t.Fatalf("%s: %s: %v", backendName, cmd, err)
		}
		return strings.TrimSpace(res.Output), res.ExitCode
	}
	for _, c := range []struct{ cmd, want string }{
		{"git rev-parse HEAD", task.BaseCommit},
		{"git for-each-ref --format='%(refname)'", "refs/heads/main"},
		{"git tag", ""},
		{"git remote -v", ""},
		{"git stash list", ""},
		{"git reflog --all | wc -l", "0"},
		{"git rev-list --all | wc -l", "1"}, // the base commit is the bundle's first
		{"git cat-file --batch-all-objects --batch-check | grep -c " + fix, "0"},
		{"git log --all -p | grep -c 'lower()'", "0"}, // the fix lower-cases slugs
		{"git fsck --lost-found 2>&1 | grep -c -i 'dangling\\|unreachable'", "0"},
		{"cat textkit.egg-info/PKG-INFO", "Name: textkit"}, // what the set-up built stays
		{"git status --porcelain --untracked-files=no", ""},
	} {
		if got, _ := run(c.cmd); got != c.want {
			t.Errorf("%s: %s = %q, want %q", backendName, c.cmd, got, c.want)
		}
	}
	if out, code := run("git cat-file -e " + fix); code == 0 {
		t.Errorf("%s: the fix commit %s is still there: %s", backendName, fix, out)
	}
	if out, code := run(condaTestCmd + " -q tests/test_basic.py"); code != 0 {
		t.Errorf("%s: the tests do not run in the image's testbed environment:\n%s", backendName, out)
	}
}

// startRegistry serves distribution's registry (storage in a temporary folder,
// htpasswd basic auth, user swe, password bench) on 127.0.0.1 until the
// test ends, and returns its host:port and a Docker config whose auths
// hold the credentials.
func startRegistry(t *testing.T) (host, dockerConfig string) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("bench"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	htpasswd := filepath.Join(t.TempDir(), "htpasswd")
	writeFile(t, htpasswd, "swe:"+string(hash)+"\n")
	cfg := &configuration.Configuration{
		Storage: configuration.Storage{
			// Not inmemory: its writer copies the whole blob on every write.
			"filesystem":  configuration.Parameters{"rootdirectory": t.TempDir()},
			"maintenance": configuration.Parameters{"uploadpurging": map[any]any{"enabled": false}},
		},
		Auth: configuration.Auth{"htpasswd": configuration.Parameters{"realm": "swelego-test", "path": htpasswd}},
	}
	logrus.SetLevel(logrus.ErrorLevel) // the registry logs every request at info
	ctx, cancel := context.WithCancel(context.Background())
	app := handlers.NewApp(ctx, cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: app, ReadHeaderTimeout: time.Minute}
	go srv.Serve(ln)
	t.Cleanup(func() {
		srv.Close()
		cancel()
	})
	host = ln.Addr().String()
	cred := base64.StdEncoding.EncodeToString([]byte("swe:bench"))
	return host, fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, host, cred)
}

// buildSWEBenchImage makes an image laid out like SWE-bench's from the
// python base image and imports it as ref: the task's repository cloned
// from its bundle (every commit, the fix included, a remote and its
// remote-tracking refs, a tag on the fix) at /testbed at the base commit;
// /opt/miniconda3/bin/activate defining `conda activate`, and a testbed
// environment whose bin alone has the test runner (the Debian one is
// removed from PATH's folders); a file the set-up built in /testbed.
func buildSWEBenchImage(t *testing.T, ctx context.Context, cli *client.Client, ref string, task sdk.Task) {
	t.Helper()
	cmd := swelegoCmd(t.TempDir(), "image", "build", "--language", "python")
	cmd.Env = append(cmd.Env, "SWELEGO_CACHE="+testCache)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("swelego image build: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	_, base, ok := strings.Cut(lines[len(lines)-1], "\t")
	if !ok {
		t.Fatalf("swelego image build printed %q", out)
	}
	root := filepath.Join(t.TempDir(), "root")
	sh := func(script string) {
		t.Helper()
		c := exec.Command("bash", "-euc", script)
		c.Env = append(os.Environ(), "ROOT="+root, "BASE="+base, "BUNDLE="+abs(t, "../../examples/repos/textkit.bundle"), "COMMIT="+task.BaseCommit)
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}
	sh(`cp -a "$BASE" "$ROOT"
rm -rf "$ROOT/testbed" "$ROOT/home/swelego" "$ROOT/etc/swelego"
# What the tests need not, so that push, pull and export move less.
rm -rf "$ROOT"/usr/share/{doc,man,info,locale,perl,zoneinfo} "$ROOT"/usr/lib/x86_64-linux-gnu/{perl,gconv}
sed -i '/^swelego:/d' "$ROOT/etc/passwd" "$ROOT/etc/group" "$ROOT/etc/shadow"
rm -f "$ROOT"/usr/bin/pytest*
git clone -q "$BUNDLE" "$ROOT/testbed"
cd "$ROOT/testbed"
git reset -q --hard "$COMMIT"
git tag v0.2 "$(git rev-list --all --children | awk -v b="$COMMIT" '$1 == b { print $2 }')"
mkdir textkit.egg-info && printf 'Name: textkit\n' > textkit.egg-info/PKG-INFO
mkdir -p "$ROOT/opt/miniconda3/bin" "$ROOT/opt/miniconda3/envs/testbed/bin"
cat > "$ROOT/opt/miniconda3/bin/activate" <<'EOF'
# A stand-in for conda's activate script: "conda activate NAME" puts the
# environment's bin first on PATH, as conda does.
conda() {
  if [ "$1" = activate ]; then
    export CONDA_DEFAULT_ENV="$2" CONDA_PREFIX="/opt/miniconda3/envs/$2"
    export PATH="/opt/miniconda3/envs/$2/bin:$PATH"
  fi
}
export PATH="/opt/miniconda3/bin:$PATH"
EOF
ln -s /usr/bin/python3 "$ROOT/opt/miniconda3/envs/testbed/bin/python"
printf '#!/bin/sh\nexec /opt/miniconda3/envs/testbed/bin/python -m pytest "$@"\n' > "$ROOT/opt/miniconda3/envs/testbed/bin/pytest"
chmod 755 "$ROOT/opt/miniconda3/envs/testbed/bin/pytest"`)
	tar := exec.CommandContext(ctx, "tar", "--numeric-owner", "-C", root, "-cf", "-", ".")
	stream, err := tar.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := tar.Start(); err != nil {
		t.Fatal(err)
	}
	rc, err := cli.ImageImport(ctx, image.ImportSource{Source: stream, SourceName: "-"}, ref, image.ImportOptions{Changes: []string{
		"ENV PATH=/opt/miniconda3/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"WORKDIR /testbed",
		`CMD ["/bin/bash"]`,
	}})
	if err != nil {
		t.Fatal(err)
	}
	err = drain(rc)
	if werr := tar.Wait(); err == nil {
		err = werr
	}
	if err != nil {
		t.Fatalf("import %s: %v", ref, err)
	}
	t.Cleanup(func() { removeImage(t, cli, ref) })
}

// drain reads the engine's JSON progress stream and returns its error.
func drain(rc io.ReadCloser) error {
	defer rc.Close()
	dec := json.NewDecoder(rc)
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if msg.Error != "" {
			return fmt.Errorf("%s", msg.Error)
		}
	}
}

func removeImage(t *testing.T, cli *client.Client, ref string) {
	t.Helper()
	if _, err := cli.ImageRemove(context.Background(), ref, image.RemoveOptions{Force: true}); err != nil && !strings.Contains(err.Error(), "No such image") {
		t.Logf("remove %s: %v", ref, err)
	}
}

// bundledTask is the bundled task with that id.
func bundledTask(t *testing.T, id string) sdk.Task {
	t.Helper()
	f, err := os.Open(bundledTasks)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := jsonl.NewDecoder(f, bundledTasks)
	for {
		var task sdk.Task
		if err := dec.Next(&task); err != nil {
			t.Fatalf("%s: no task %s: %v", bundledTasks, id, err)
		}
		if task.InstanceID == id {
			return task
		}
	}
}

// childOf is the commit whose parent is commit in bundle: the fix of a
// bundled task.
func childOf(t *testing.T, bundle, commit string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("git", "clone", "-q", bundle, dir).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	out, err := exec.Command("git", "-C", dir, "rev-list", "--all", "--children").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == commit {
			return f[1]
		}
	}
	t.Fatalf("no child of %s in %s", commit, bundle)
	return ""
}
