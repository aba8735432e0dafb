package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// job is one parallel loop body; run handles the index range [lo, hi) on
// worker w (0 ≤ w < workers, the caller being 0), which indexes per-worker
// scratch space.
// Kernels are structs implementing job so that launching one allocates
// nothing (a closure capturing its arguments would escape to the heap).
type job interface {
	run(w, lo, hi int)
}

// pool runs a job's chunks on a fixed set of goroutines plus the caller.
// Chunks are handed out dynamically, so uneven work (causal attention rows)
// balances itself.
type pool struct {
	workers int
	wake    []chan struct{}
	done    sync.WaitGroup

	// The loop being run; set by parallel before waking the workers.
	j      job
	n      int
	chunk  int
	chunks int
	next   atomic.Int64
}

func newPool(workers int) *pool {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	p := &pool{workers: workers}
	for i := 1; i < workers; i++ {
		c := make(chan struct{})
		p.wake = append(p.wake, c)
		go p.loop(c, i)
	}
	return p
}

func (p *pool) loop(wake chan struct{}, w int) {
	for range wake {
		p.drain(w)
		p.done.Done()
	}
}

func (p *pool) drain(w int) {
	for {
		i := int(p.next.Add(1) - 1)
		if i >= p.chunks {
			return
		}
		lo := i * p.chunk
		p.j.run(w, lo, min(lo+p.chunk, p.n))
	}
}

// parallel runs j over [0, n) in chunks of at least grain indices.
func (p *pool) parallel(n, grain int, j job) {
	if n <= 0 {
		return
	}
	if grain < 1 {
		grain = 1
	}
	if p.workers == 1 || n <= grain {
		j.run(0, 0, n)
		return
	}
	// About four chunks per worker, for balance, but none below grain.
	chunk := max(grain, (n+4*p.workers-1)/(4*p.workers))
	chunks := (n + chunk - 1) / chunk
	p.j, p.n, p.chunk, p.chunks = j, n, chunk, chunks
	p.next.Store(0)
	helpers := min(len(p.wake), chunks-1)
	p.done.Add(helpers)
	for i := 0; i < helpers; i++ {
		p.wake[i] <- struct{}{}
	}
	p.drain(0)
	p.done.Wait()
	p.j = nil
}
