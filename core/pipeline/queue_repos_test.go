package pipeline

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swelego/swelego/core/queue"
	"github.com/swelego/swelego/core/queue/queuetest"
	"github.com/swelego/swelego/core/taskenv"
	"github.com/swelego/swelego/hcl"
	"github.com/swelego/swelego/sdk"
)

// TestRepoShipper sends repositories from a coordinator's folders to a
// worker's cache through an embedded server's object store: an
// environment's bundle and a repository folder found in RepoDirs (bundled
// first). The worker's manager resolves each repository to the bundle it
// fetched, holding the commit the coordinator sees; the items name no path
// of the coordinator's. With repos = "shared" the items carry the paths
// instead.
func TestRepoShipper(t *testing.T) {
	ctx := context.Background()
	url := queuetest.Start(t)
	coord, err := queue.Connect(ctx, url, queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer coord.Close()

	// A repository folder, as `repos/` may hold one.
	dirs := t.TempDir()
	folder := filepath.Join(dirs, "widgets")
	for _, args := range [][]string{{"init", "-q", "-b", "main", folder}, {"-C", folder, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "one"}} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	bundle, err := filepath.Abs("../../examples/repos/textkit.bundle")
	if err != nil {
		t.Fatal(err)
	}
	envs := []taskenv.Environment{{Name: "textkit", Repo: "swelego-examples/textkit", Git: bundle, Language: "python"}}
	here := taskenv.New(taskenv.Options{Environments: envs, RepoDirs: []string{dirs}, Store: t.TempDir(), DefaultLanguage: "python"})
	tasks := []sdk.Task{{Repo: "swelego-examples/textkit"}, {Repo: "octo/widgets"}}

	shipper := NewRepoShipper("", coord, envs, []string{dirs}, nil)
	w := &Worker{Objects: coord, Store: t.TempDir(), DefaultLanguage: "python"}
	for _, task := range tasks {
		env, err := here.Environment(task)
		if err != nil {
			t.Fatal(err)
		}
		want, err := here.Resolve(ctx, env, "HEAD")
		if err != nil {
			t.Fatal(err)
		}
		r, err := shipper.For(ctx, env)
		if err != nil {
			t.Fatalf("%s: %v", task.Repo, err)
		}
		if len(r.Bundles) != 1 || len(r.RepoDirs) != 0 || r.Environments[0].Git != "" {
			t.Fatalf("%s: item repositories %+v, want one bundle and no path", task.Repo, r)
		}
		again, err := shipper.For(ctx, env)
		if err != nil || again.Bundles[0] != r.Bundles[0] {
			t.Errorf("%s: shipped again as %+v (%v), first %+v", task.Repo, again.Bundles, err, r.Bundles)
		}
		m, err := w.managerFor(ctx, r)
		if err != nil {
			t.Fatalf("%s: %v", task.Repo, err)
		}
		wenv, err := m.Environment(task)
		if err != nil {
			t.Fatalf("%s: worker: %v", task.Repo, err)
		}
		if !strings.HasPrefix(wenv.Git, filepath.Join(w.Store, ObjectsDir, r.Bundles[0].Digest)+"/") {
			t.Errorf("%s: the worker's source is %s, not the fetched bundle", task.Repo, wenv.Git)
		}
		got, err := m.Resolve(ctx, wenv, "HEAD")
		if err != nil || got != want {
			t.Errorf("%s: the worker's HEAD is %s (%v), the coordinator's %s", task.Repo, got, err, want)
		}
	}
	if _, err := (&Worker{Store: t.TempDir()}).managerFor(ctx, ItemRepos{Bundles: []RepoBundle{{Object: queue.Object{Digest: strings.Repeat("0", 64)}, Name: "../x.bundle"}}}); err == nil {
		t.Errorf("a bundle named with a path was taken")
	}

	shared := NewRepoShipper(hcl.QueueReposShared, nil, envs, []string{dirs}, nil)
	env, _ := here.Environment(tasks[0])
	r, err := shared.For(ctx, env)
	if err != nil || len(r.Bundles) != 0 || len(r.RepoDirs) != 1 || r.Environments[0].Git != bundle {
		t.Errorf("shared: %+v, %v; want the paths", r, err)
	}
	if _, err := os.Stat(filepath.Join(w.Store, ObjectsDir)); err != nil {
		t.Errorf("no fetched bundles: %v", err)
	}
}
