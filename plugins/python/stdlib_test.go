package python

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stdlibFiles lists the .py files of the Python standard libraries
// installed on the machine (site-packages left out), sorted, or skips.
func stdlibFiles(tb testing.TB) []string {
	tb.Helper()
	var roots []string
	if out, err := exec.Command("python3", "-c", "import sysconfig;print(sysconfig.get_paths()['stdlib'])").Output(); err == nil {
		roots = append(roots, strings.TrimSpace(string(out)))
	}
	roots = append(roots, "/usr/lib/python3.11")
	seen := map[string]bool{}
	var files []string
	for _, root := range roots {
		real, err := filepath.EvalSymlinks(root)
		if err != nil || seen[real] {
			continue
		}
		seen[real] = true
		filepath.WalkDir(real, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() && (d.Name() == "site-packages" || d.Name() == "dist-packages" || d.Name() == "__pycache__") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(path, ".py") {
				files = append(files, path)
			}
			return nil
		})
	}
	if len(files) == 0 {
		tb.Skip("no Python standard library found")
	}
	sort.Strings(files)
	return files
}

// reparseClean parses src from scratch and reports whether the tree is free
// of ERROR and MISSING nodes: an independent check of the incremental parse
// Mutate uses.
func reparseClean(src []byte) bool {
	p := newParser()
	defer p.Close()
	t := parse(p, src, nil)
	if t == nil {
		return false
	}
	defer t.Close()
	return !t.RootNode().HasError()
}

// TestStdlib runs every rule over the standard library, test files
// included: no panic, every mutation parses (from scratch, with
// tree-sitter) and a sample of ~200 mutated files parses with Python's own
// ast module.
func TestStdlib(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	all := stdlibFiles(t)
	// Every fourth file: about 600 files from all over the library.
	var files []string
	for i := 0; i < len(all); i += 4 {
		files = append(files, all[i])
	}
	// A fixed set of files, not a time budget: the test covers the same
	// files however loaded the machine is.
	const fullChecksPerFile = 4

	// One mutation of every k-th file goes to the python3 ast check.
	k := max(len(files)/200, 1)
	var (
		mu                      sync.Mutex
		done, syntax, muts, bad int
		checked                 atomic.Int64
		byRule                  = map[string]int{}
		samples                 []astSample
		wg                      sync.WaitGroup
		next                    = make(chan int)
		started                 = time.Now()
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f := files[i]
				src, err := os.ReadFile(f)
				if err != nil {
					continue
				}
				rs, err := mutate(f, src, Options{IncludeTests: true})
				if err != nil && !errors.Is(err, ErrSyntax) {
					t.Errorf("%s: %v", f, err)
				}
				// Parse a few mutated files of each file from scratch: an
				// independent check of Mutate's own parse of the changed part.
				var fileBad []string
				step := max(len(rs)/fullChecksPerFile, 1)
				for j := 0; j < len(rs); j += step {
					checked.Add(1)
					if !reparseClean(rs[j].mutated) {
						fileBad = append(fileBad, rs[j].Kind+" "+rs[j].ID)
					}
				}
				mu.Lock()
				done++
				if errors.Is(err, ErrSyntax) {
					syntax++
				}
				muts += len(rs)
				bad += len(fileBad)
				for _, b := range fileBad {
					if bad <= 20 {
						t.Errorf("%s: mutation %s does not parse", f, b)
					}
				}
				for _, r := range rs {
					byRule[r.Kind]++
				}
				if i%k == 0 && len(rs) > 0 {
					r := rs[(i/k)%len(rs)]
					samples = append(samples, astSample{src, r.mutated, r.ID, f})
				}
				mu.Unlock()
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(started)

	var rules []string
	for r, n := range byRule {
		rules = append(rules, fmt.Sprintf("%s=%d", r, n))
	}
	sort.Strings(rules)
	t.Logf("stdlib: %d of %d files in %v (%d did not parse), %d mutations (%.0f/s), %d reparsed whole, %d bad: %s",
		done, len(files), elapsed.Round(time.Millisecond), syntax, muts, float64(muts)/elapsed.Seconds(), checked.Load(), bad, strings.Join(rules, " "))
	if want := min(500, len(all)); done < want {
		t.Errorf("covered only %d files; want at least %d", done, want)
	}
	checkWithPythonAST(t, samples)
}

// astSample is a mutated file for the python3 ast check.
type astSample struct {
	orig, mutated []byte
	id, file      string
}

// checkWithPythonAST writes sampled original and mutated files to a temp
// folder and parses them with python3's ast in one process; a mutation
// fails when its original parses and it does not.
func checkWithPythonAST(t *testing.T, samples []astSample) {
	if len(samples) == 0 {
		return
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Log("no python3: ast check skipped")
		return
	}
	dir := t.TempDir()
	var list bytes.Buffer
	for i, s := range samples {
		o, m := filepath.Join(dir, fmt.Sprintf("%d.orig.py", i)), filepath.Join(dir, fmt.Sprintf("%d.mut.py", i))
		if err := os.WriteFile(o, s.orig, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(m, s.mutated, 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&list, "%s\t%s\t%s %s\n", o, m, s.file, s.id)
	}
	const script = `
import ast, sys
def ok(p):
    try:
        ast.parse(open(p, 'rb').read())
        return True
    except (SyntaxError, ValueError):
        return False
checked = 0
for line in sys.stdin:
    o, m, name = line.rstrip('\n').split('\t')
    if not ok(o):
        continue
    checked += 1
    if not ok(m):
        print('FAIL', name)
print('CHECKED', checked)
`
	cmd := exec.Command("python3", "-c", script)
	cmd.Stdin = &list
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 ast check: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.HasPrefix(line, "FAIL") {
			t.Errorf("python3 ast rejects mutated file: %s", line)
		} else {
			t.Logf("python3 ast: %s of %d sampled mutations", line, len(samples))
		}
	}
}

// BenchmarkMutateStdlib mutates a fixed sample of 50 standard library
// files with every rule and reports candidates per second.
func BenchmarkMutateStdlib(b *testing.B) {
	all := stdlibFiles(b)
	var srcs [][]byte
	var names []string
	for i := 0; i < len(all) && len(srcs) < 50; i += max(len(all)/50, 1) {
		src, err := os.ReadFile(all[i])
		if err != nil {
			continue
		}
		srcs, names = append(srcs, src), append(names, all[i])
	}
	b.ResetTimer()
	total := 0
	for b.Loop() {
		for i, src := range srcs {
			ms, _ := Mutate(names[i], src, Options{IncludeTests: true})
			total += len(ms)
		}
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "candidates/s")
}
