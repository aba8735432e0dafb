package golang

import (
	"bytes"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// parseBudget bounds the bytes TestGOROOT reparses per file.
const parseBudget = 128 << 10

var generated = regexp.MustCompile(`(?m)^// Code generated .* DO NOT EDIT\.$`)

// gorootFiles lists the .go files under GOROOT/src outside testdata
// directories, sorted, as paths relative to GOROOT/src.
func gorootFiles(tb testing.TB) (root string, files []string) {
	tb.Helper()
	root = filepath.Join(runtime.GOROOT(), "src")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") {
			rel, _ := filepath.Rel(root, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil || len(files) == 0 {
		tb.Skipf("GOROOT sources not readable at %s: %v", root, err)
	}
	slices.Sort(files)
	return root, files
}

// TestGOROOT runs every rule over the standard library's sources (test
// files left out: Mutate skips them): no panic, every mutation changes the
// file, only inside its edit, and parses. To stay within a minute on a
// small machine it takes every fourth file (every eighth in -short mode).
func TestGOROOT(t *testing.T) {
	root, all := gorootFiles(t)
	step := 4 // every fourth file: still thousands, a quarter of the time
	if testing.Short() {
		step = 8
	}
	var files []string
	for i, f := range all {
		if i%step == 0 && !strings.HasSuffix(f, "_test.go") {
			files = append(files, f)
		}
	}
	type stats struct {
		files, mutated, generated, none int
		unparsed, reparsed              int
		byRule                          map[string]int
		bad                             []string
		withTools                       []applyCase
	}
	var (
		mu    sync.Mutex
		total = stats{byRule: map[string]int{}}
		work  = make(chan string)
		wg    sync.WaitGroup
	)
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range work {
				src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
				if err != nil {
					t.Error(err)
					continue
				}
				rs, err := mutate(name, src, Options{})
				var bad []string
				// Mutate checks the smallest statement around each edit;
				// reparse whole files too, within a budget of bytes per
				// file (evenly spaced mutations of the larger files).
				every := max(1, len(rs)*len(src)/parseBudget)
				parsed := 0
				for i, r := range rs {
					e := r.edit
					mutated := e.apply(src)
					if bytes.Equal(mutated, src) {
						bad = append(bad, name+": "+r.m.Kind+": no change")
					}
					if !bytes.Equal(mutated[:e.start], src[:e.start]) || !bytes.Equal(mutated[e.start+len(e.text):], src[e.end:]) {
						bad = append(bad, name+": "+r.m.Kind+": bytes outside the edit changed")
					}
					if i%every != 0 {
						continue
					}
					parsed++
					if _, err := parser.ParseFile(token.NewFileSet(), name, mutated, parser.SkipObjectResolution); err != nil {
						bad = append(bad, name+": "+r.m.Kind+": "+err.Error())
					}
				}
				mu.Lock()
				total.files++
				total.reparsed += parsed
				switch {
				case err != nil:
					total.unparsed++
				case generated.Match(src):
					total.generated++
				case len(rs) == 0:
					total.none++
				default:
					total.mutated++
				}
				for _, r := range rs {
					total.byRule[r.m.Kind]++
				}
				// Apply the first mutation of every 50th mutated file with
				// git apply and patch as well.
				if len(rs) > 0 && total.mutated%50 == 1 {
					total.withTools = append(total.withTools, applyCase{name: name, src: src, r: rs[len(rs)/2]})
				}
				total.bad = append(total.bad, bad...)
				mu.Unlock()
			}
		}()
	}
	for _, f := range files {
		work <- f
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(start)

	n := 0
	for _, rule := range Rules {
		n += total.byRule[rule]
		t.Logf("%-20s %7d", rule, total.byRule[rule])
	}
	t.Logf("%d of %d files: %d mutated, %d generated, %d without candidates, %d not parsing; %d mutations (%d reparsed as whole files) in %v",
		total.files, len(all), total.mutated, total.generated, total.none, total.unparsed, n, total.reparsed, elapsed.Round(time.Millisecond))
	for i, b := range total.bad {
		if i == 20 {
			t.Errorf("… %d more", len(total.bad)-i)
			break
		}
		t.Error(b)
	}
	if min := 1000; !testing.Short() && total.files < min {
		t.Errorf("only %d files, want at least %d", total.files, min)
	}
	for _, rule := range Rules {
		if total.byRule[rule] == 0 {
			t.Errorf("rule %s made no mutation over GOROOT", rule)
		}
	}
	checkWithTools(t, total.withTools)
}

// BenchmarkMutateGOROOT measures Mutate over a fixed sample of GOROOT's
// sources (every 20th file) and reports candidates per second.
func BenchmarkMutateGOROOT(b *testing.B) {
	root, files := gorootFiles(b)
	var srcs [][]byte
	var names []string
	for i := 0; i < len(files); i += 20 {
		if strings.HasSuffix(files[i], "_test.go") {
			continue
		}
		src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(files[i])))
		if err != nil {
			b.Fatal(err)
		}
		srcs, names = append(srcs, src), append(names, files[i])
	}
	bytesIn := 0
	for _, s := range srcs {
		bytesIn += len(s)
	}
	b.SetBytes(int64(bytesIn))
	b.ResetTimer()
	n := 0
	for b.Loop() {
		for i, src := range srcs {
			ms, _ := Mutate(names[i], src, Options{})
			n += len(ms)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "candidates/s")
	b.ReportMetric(float64(len(srcs)), "files")
}
