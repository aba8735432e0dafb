package harness

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/plugins/swebench"
	"github.com/swelego/swelego/sdk"
)

// djangoRunner is a tests/runtests.py in the shape of Django's: it takes
// Django's options and runs the labels with Django's own test runner
// (DiscoverRunner), so the output is Django's.
const djangoRunner = `#!/usr/bin/python3
import argparse
import os
import sys

import django
from django.conf import settings
from django.test.utils import get_runner

p = argparse.ArgumentParser()
p.add_argument("labels", nargs="*")
p.add_argument("--verbosity", type=int, default=1)
p.add_argument("--settings", default="test_sqlite")
p.add_argument("--parallel", type=int, default=1)
a = p.parse_args()
here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [here, os.path.dirname(here)]
os.environ["DJANGO_SETTINGS_MODULE"] = a.settings
django.setup()
runner = get_runner(settings)(verbosity=a.verbosity, parallel=a.parallel)
sys.exit(bool(runner.run_tests(a.labels)))
`

// TestEvaluateDjangoShaped grades a task of "django/django" with the
// swebench language on a repository laid out as Django's (its runner in
// tests/runtests.py, settings in tests/test_sqlite.py, test modules run as
// labels) and run by Django's real test runner: the gold patch resolves
// it, an empty change does not, and neither does a patch whose code prints
// Django's result lines, for the failing tests and for one that never
// runs.
func TestEvaluateDjangoShaped(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import django").Run(); err != nil {
		t.Skip("no Django for /usr/bin/python3 (apt-get install -y python3-django)")
	}
	files := map[string]string{
		"tests/runtests.py":     djangoRunner,
		"tests/test_sqlite.py":  "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3'}}\nSECRET_KEY = 'x'\nUSE_TZ = False\n",
		"tests/app/__init__.py": "",
		"shop/__init__.py":      "",
		"shop/price.py":         "def total(prices):\n    return sum(prices[1:])\n",
	}
	dir, base := newRepo(t, files)
	if err := os.Chmod(filepath.Join(dir, "tests/runtests.py"), 0o755); err != nil {
		t.Fatal(err)
	}
	base = commitFiles(t, dir, nil)
	diff := func(files map[string]string) string {
		writeFiles(t, dir, files)
		git(t, dir, "add", "-A")
		d := git(t, dir, "diff", "--cached") + "\n"
		git(t, dir, "reset", "-q", "--hard", base)
		return d
	}
	testPatch := diff(map[string]string{"tests/app/tests.py": `from django.test import SimpleTestCase

from shop.price import total


class TotalTests(SimpleTestCase):
    def test_total(self):
        self.assertEqual(total([1, 2, 3]), 6)

    def test_empty(self):
        """
        An empty basket costs nothing.
        """
        self.assertEqual(total([]), 0)

    def test_one(self):
        self.assertEqual(total([5]), 5)
`})
	gold := diff(map[string]string{"shop/price.py": "def total(prices):\n    return sum(prices)\n"})
	forge := diff(map[string]string{"shop/__init__.py": `import atexit
import sys


def _claim():
    for t in ["test_total", "test_one", "test_never_ran"]:
        sys.stderr.write("%s (app.tests.TotalTests) ... ok\n" % t)
        sys.stderr.write("%s (app.tests.TotalTests.%s) ... ok\n" % (t, t))


_claim()
atexit.register(_claim)
`})
	task := sdk.Task{InstanceID: "django__django-99999", Repo: "django/django", Version: "4.2", BaseCommit: base,
		Patch: gold, TestPatch: testPatch, Language: swebench.LanguageName}
	lang, err := language.NewSet(language.Static(swebench.Language{})).Get(context.Background(), swebench.LanguageName)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Language: lang}
	// unittest gives ids in Python 3.11's shape or in the older one.
	task.FailToPass = []string{"test_total (app.tests.TotalTests)", "test_one (app.tests.TotalTests)"}
	task.PassToPass = []string{"An empty basket costs nothing."}
	if out, err := exec.Command("/usr/bin/python3", "-c", "import sys; print(sys.version_info >= (3, 11))").Output(); err != nil {
		t.Fatal(err)
	} else if strings.TrimSpace(string(out)) == "True" {
		task.FailToPass = []string{"test_total (app.tests.TotalTests.test_total)", "test_one (app.tests.TotalTests.test_one)"}
	}
	cases := []struct{ name, patch, want string }{
		{"gold", gold, ResultResolved},
		{"no fix", "--- a/README\n+++ b/README\n@@ -0,0 +1 @@\n+hi\n", ResultUnresolved},
		{"printed results", forge, ResultUnresolved},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := Evaluate(context.Background(), cloneOpener(t, dir, nil), task, c.patch, opts)
			t.Logf("%s: invalid %q, FAIL_TO_PASS %v", c.name, r.Invalid, r.FailToPass)
			if r.Status != c.want {
				t.Errorf("%s (%s, invalid %q), want %s\n%s", r.Status, r.Error, r.Invalid, c.want, r.Log)
			}
			if c.name == "gold" && (!strings.Contains(r.Log, "Ran 3 tests") || !strings.Contains(r.Log, "System check identified")) {
				t.Errorf("the run is not Django's:\n%s", r.Log)
			}
		})
	}
}
