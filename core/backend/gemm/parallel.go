package gemm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// threads is the number of goroutines a large Sgemm uses; 0 means
// GOMAXPROCS.
var threads atomic.Int64

// Threads returns how many goroutines Sgemm spreads a large product over:
// the value given to SetThreads, or GOMAXPROCS by default.
func Threads() int {
	if t := int(threads.Load()); t > 0 {
		return t
	}
	return runtime.GOMAXPROCS(0)
}

// SetThreads sets how many goroutines Sgemm may use; n ≤ 0 restores the
// default (GOMAXPROCS). Products too small to pay for the hand-off always
// run on the calling goroutine.
func SetThreads(n int) {
	threads.Store(int64(max(n, 0)))
}

// Another thread pays for itself only above a number of multiply-adds:
// minWorkSpinning when a worker is polling for work (hand-off in about a
// microsecond; 2²¹ multiply-adds take 20–30 µs on one AVX-512 or AVX2
// core) and minWorkParked when all workers are parked (waking one was
// measured at 50–100 µs on a virtual machine).
// Variables so that tests can split small products.
var (
	minWorkSpinning = 1 << 21
	minWorkParked   = 1 << 24
)

// spinning counts the workers polling for a task right now.
var spinning atomic.Int32

// task is one rectangle of C that a single thread computes from start to
// end, packing its own panels; rectangles never overlap, so threads share
// nothing but the read-only inputs.
type task struct {
	kn             *kernel
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	wg             *sync.WaitGroup
}

func (t *task) run() {
	w := getWorkspace(t.kn)
	w.gemm(t.kn, t.transA, t.transB, t.m, t.n, t.k, t.alpha, t.a, t.lda, t.b, t.ldb, t.beta, t.c, t.ldc)
	putWorkspace(w)
}

// call holds the tasks of one parallel Sgemm; calls are recycled so that
// a steady stream of products allocates nothing.
type call struct {
	tasks []task
	wg    sync.WaitGroup
}

var calls = sync.Pool{New: func() any { return new(call) }}

// The worker pool: long-lived goroutines fed through one channel. The pool
// only grows (to the largest thread count asked for so far).
var pool struct {
	mu      sync.Mutex
	workers int
	queue   chan *task
}

func ensureWorkers(n int) {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	if pool.queue == nil {
		pool.queue = make(chan *task, 256)
	}
	for ; pool.workers < n; pool.workers++ {
		go worker(pool.queue)
	}
}

// spinWindow is how long an idle worker keeps polling for the next task
// before it parks. Waking a parked goroutine can take tens of microseconds
// (on a virtual machine the idle CPU has to be woken too), while a training
// step issues its products back to back; polling yields the processor
// (runtime.Gosched) so other goroutines still run.
const spinWindow = 200 * time.Microsecond

func worker(queue <-chan *task) {
	for {
		t := next(queue)
		if t == &wakeUp {
			nudging.Store(false)
			continue
		}
		t.run()
		t.wg.Done()
	}
}

// wakeUp is the empty task nudge sends; nudging is set while one is queued.
var (
	wakeUp  task
	nudging atomic.Bool
)

// nudge wakes a parked worker without giving it work, at most one at a time.
func nudge() {
	if !nudging.CompareAndSwap(false, true) {
		return
	}
	ensureWorkers(1)
	select {
	case pool.queue <- &wakeUp:
	default:
		nudging.Store(false)
	}
}

// next returns the next task, polling for spinWindow before blocking.
func next(queue <-chan *task) *task {
	spinning.Add(1)
	start := time.Now()
	for {
		select {
		case t := <-queue:
			spinning.Add(-1)
			return t
		default:
		}
		if time.Since(start) > spinWindow {
			spinning.Add(-1)
			return <-queue
		}
		runtime.Gosched()
	}
}

// split chooses a grid of tm×tn rectangles of C for at most nt threads. A
// thread's rectangle costs its multiply-adds plus the packing of its A rows
// and B columns (packing an element costs roughly ten multiply-adds); the
// grid with the cheapest slowest rectangle wins, and no thread gets less
// than minWork multiply-adds.
func split(kn *kernel, m, n, k, nt, minWork int) (tm, tn int) {
	work := m * n * k
	nt = min(nt, max(1, work/minWork))
	tm, tn = 1, 1
	best := -1
	for x := 1; x <= nt; x++ {
		y := nt / x
		rows := roundUp((m+x-1)/x, kn.mr)
		cols := roundUp((n+y-1)/y, kn.nr)
		// The A block is packed once per nc-wide column block.
		repackA := (cols + kn.nc - 1) / kn.nc
		cost := rows*cols*k + 10*(rows*k*repackA+k*cols)
		if best < 0 || cost < best {
			best, tm, tn = cost, x, y
		}
	}
	return tm, tn
}

// run computes the product on one or more threads.
func run(kn *kernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	minWork := minWorkParked
	if spinning.Load() > 0 {
		minWork = minWorkSpinning
	}
	nt := Threads()
	tm, tn := split(kn, m, n, k, nt, minWork)
	if tm*tn == 1 {
		if minWork == minWorkParked && nt > 1 && m*n*k >= 2*minWorkSpinning {
			// Worth splitting if a worker were awake: wake one now, so
			// that the products that follow this one find it polling.
			nudge()
		}
		w := getWorkspace(kn)
		w.gemm(kn, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		putWorkspace(w)
		return
	}
	ensureWorkers(tm*tn - 1)
	cl := calls.Get().(*call)
	if cap(cl.tasks) < tm*tn {
		cl.tasks = make([]task, tm*tn)
	}
	cl.tasks = cl.tasks[:0]
	rows := roundUp((m+tm-1)/tm, kn.mr)
	cols := roundUp((n+tn-1)/tn, kn.nr)
	for i0 := 0; i0 < m; i0 += rows {
		for j0 := 0; j0 < n; j0 += cols {
			t := task{
				kn: kn, transA: transA, transB: transB,
				m: min(rows, m-i0), n: min(cols, n-j0), k: k,
				alpha: alpha, beta: beta,
				lda: lda, ldb: ldb, ldc: ldc,
				c:  c[i0*ldc+j0:],
				wg: &cl.wg,
			}
			if transA {
				t.a = a[i0:]
			} else {
				t.a = a[i0*lda:]
			}
			if transB {
				t.b = b[j0*ldb:]
			} else {
				t.b = b[j0:]
			}
			cl.tasks = append(cl.tasks, t)
		}
	}
	cl.wg.Add(len(cl.tasks) - 1)
	for i := 1; i < len(cl.tasks); i++ {
		pool.queue <- &cl.tasks[i]
	}
	cl.tasks[0].run()
	cl.wg.Wait()
	clear(cl.tasks) // drop references to the caller's slices
	calls.Put(cl)
}
