package queue_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/swelego/swelego/core/queue"
	"github.com/swelego/swelego/core/queue/queuetest"
)

// BenchmarkQueueOverhead measures what the queue adds to each item: a job
// of items whose work is nothing, run through an embedded JetStream server
// with 1, 2 and 4 workers (two slots each), next to calling the handler
// directly (the local path's cost). The difference per item is the
// coordinator's and the queue's overhead that a distributed eval pays on
// top of grading.
func BenchmarkQueueOverhead(b *testing.B) {
	const n = 200
	b.Run("local", func(b *testing.B) {
		h := square(nil)
		its := items(n)
		for b.Loop() {
			for _, it := range its {
				if _, err := h(context.Background(), it); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/item")
	})
	for _, workers := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			url := queuetest.Start(b)
			for i := range workers {
				c, err := queue.Connect(context.Background(), url, queue.Options{Name: fmt.Sprintf("w%d", i)})
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				drain := make(chan struct{})
				defer close(drain)
				go c.Work(context.Background(), drain, square(nil), queue.WorkOptions{Slots: 2})
			}
			coord, err := queue.Connect(context.Background(), url, queue.Options{AckWait: 10 * time.Second})
			if err != nil {
				b.Fatal(err)
			}
			defer coord.Close()
			round := 0
			for b.Loop() {
				round++
				got := 0
				err := coord.Run(context.Background(), queue.JobID("bench", fmt.Sprint(round)), items(n), func(context.Context, queue.Outcome) (bool, error) {
					got++
					return true, nil
				})
				if err != nil || got != n {
					b.Fatalf("%d of %d outcomes: %v", got, n, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/item")
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Minutes(), "items/min")
		})
	}
}
