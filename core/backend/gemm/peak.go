package gemm

import (
	"sync"
	"time"
)

// peakLoop is a loop of independent multiply-adds that runs at the FMA
// units' throughput.
type peakLoop struct {
	isa   string
	run   func(n int)
	flops int // per iteration
}

// goLoop is the portable stand-in: eight independent scalar chains.
func goLoop(n int) {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	x, y := float32(0.999), float32(1e-7)
	for i := 0; i < n; i++ {
		s0 = s0*x + y
		s1 = s1*x + y
		s2 = s2*x + y
		s3 = s3*x + y
		s4 = s4*x + y
		s5 = s5*x + y
		s6 = s6*x + y
		s7 = s7*x + y
	}
	sink = s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7
}

var sink float32

// measureWindow is how long each measurement runs.
const measureWindow = 40 * time.Millisecond

// CorePeakGFLOPS measures the fp32 peak of one core in GFLOP/s: the best
// rate of a tight loop of independent fused multiply-adds in the widest
// vector instructions the CPU has (or scalar Go where there is no assembly).
// It takes about a quarter of a second; on a busy machine it reads low.
func CorePeakGFLOPS() float64 {
	return measurePeak(1)
}

// PeakGFLOPS measures the fp32 peak of the cores Sgemm uses: the loop of
// CorePeakGFLOPS run on Threads() goroutines at once, their rates summed.
// Other load on the machine lowers it, as it lowers Sgemm's own rate.
func PeakGFLOPS() float64 {
	return measurePeak(Threads())
}

func measurePeak(threads int) float64 {
	loops := peakLoops()
	if len(loops) == 0 {
		loops = []peakLoop{{"go", goLoop, 8 * 2}}
	}
	best := 0.0
	for _, l := range loops {
		best = max(best, loopRate(l, threads))
	}
	return best
}

// loopRate runs l on threads goroutines for about measureWindow and returns
// the summed GFLOP/s, the best of a few tries (other work on the machine
// only ever makes a try slower).
func loopRate(l peakLoop, threads int) float64 {
	// Calibrate a chunk of about a millisecond.
	n := 1 << 10
	for {
		start := time.Now()
		l.run(n)
		if time.Since(start) > time.Millisecond || n > 1<<30 {
			break
		}
		n *= 2
	}
	best := 0.0
	for try := 0; try < 5; try++ {
		rates := make([]float64, threads)
		var wg sync.WaitGroup
		for t := range threads {
			wg.Add(1)
			go func() {
				defer wg.Done()
				iters := 0
				start := time.Now()
				for time.Since(start) < measureWindow {
					l.run(n)
					iters += n
				}
				rates[t] = float64(iters) * float64(l.flops) / time.Since(start).Seconds() / 1e9
			}()
		}
		wg.Wait()
		sum := 0.0
		for _, r := range rates {
			sum += r
		}
		best = max(best, sum)
	}
	return best
}
