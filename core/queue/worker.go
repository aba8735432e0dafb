package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Handler runs one item and returns its result payload. An error is a
// failed attempt: the item is delivered again (to any worker) until it has
// failed MaxAttempts times, then parked with every attempt's error. The
// context ends when the worker is stopped hard; the item then goes back to
// the queue without counting as a failure of the item.
type Handler func(ctx context.Context, it Item) (json.RawMessage, error)

// WorkOptions configure Work.
type WorkOptions struct {
	// Slots is how many items run at the same time (default 1).
	Slots int
	// Kinds, when set, are the item kinds this worker runs; others are
	// returned to the queue at once.
	Kinds []string
	// StatsEvery is how often the worker logs its rate (default a minute).
	StatsEvery time.Duration
}

// Stats count what a worker did.
type Stats struct {
	Done, Failed, Parked, Returned int64
}

// Work pulls items and runs them with h until drain is closed or ctx ends.
// Closing drain stops pulling and lets the items in hand finish (a
// drained worker returns nothing it started); ending ctx cancels them and
// returns them to the queue. It waits for a coordinator to set the queue
// up when it is not yet.
func (c *Client) Work(ctx context.Context, drain <-chan struct{}, h Handler, opts WorkOptions) (Stats, error) {
	if opts.Slots <= 0 {
		opts.Slots = 1
	}
	if opts.StatsEvery <= 0 {
		opts.StatsEvery = time.Minute
	}
	var cons jetstream.Consumer
	for {
		var err error
		cons, err = c.js.Consumer(ctx, WorkStream, WorkerConsumer)
		if err == nil {
			break
		}
		if !errors.Is(err, jetstream.ErrConsumerNotFound) && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return Stats{}, fmt.Errorf("consumer %s: %w", WorkerConsumer, err)
		}
		select {
		case <-ctx.Done():
			return Stats{}, fmt.Errorf("%w: %w", ErrNoConsumer, ctx.Err())
		case <-drain:
			return Stats{}, nil
		case <-time.After(time.Second):
		}
	}
	// The coordinator makes the bucket after the consumer: wait for it as
	// for the consumer.
	var (
		kv  jetstream.KeyValue
		err error
	)
	for {
		kv, err = c.js.KeyValue(ctx, AttemptsBucket)
		if err == nil {
			break
		}
		if !errors.Is(err, jetstream.ErrBucketNotFound) {
			return Stats{}, fmt.Errorf("bucket %s: %w", AttemptsBucket, err)
		}
		select {
		case <-ctx.Done():
			return Stats{}, fmt.Errorf("bucket %s: %w", AttemptsBucket, ctx.Err())
		case <-drain:
			return Stats{}, nil
		case <-time.After(100 * time.Millisecond):
		}
	}
	ackWait := cons.CachedInfo().Config.AckWait
	kinds := map[string]bool{}
	for _, k := range opts.Kinds {
		kinds[k] = true
	}
	var done, failed, parked, returned atomic.Int64
	start := time.Now()
	logStats := func(msg string) {
		mins := time.Since(start).Minutes()
		rate := 0.0
		if mins > 0 {
			rate = float64(done.Load()) / mins
		}
		c.opts.Logger.Info(msg, "worker", c.opts.Name, "done", done.Load(), "failed_attempts", failed.Load(),
			"parked", parked.Load(), "returned", returned.Load(), "items_per_min", fmt.Sprintf("%.2f", rate))
	}
	statsDone := make(chan struct{})
	go func() {
		t := time.NewTicker(opts.StatsEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				logStats("worker: progress")
			case <-statsDone:
				return
			}
		}
	}()
	defer close(statsDone)

	one := func(m jetstream.Msg) {
		var it Item
		if err := json.Unmarshal(m.Data(), &it); err != nil {
			c.opts.Logger.Error("unreadable item; terminated", "subject", m.Subject(), "error", err)
			m.Term()
			return
		}
		if len(kinds) > 0 && !kinds[it.Kind] {
			m.Nak()
			returned.Add(1)
			return
		}
		md, err := m.Metadata()
		if err != nil {
			m.Nak()
			return
		}
		log := c.opts.Logger.With("job", it.Job, "key", it.Key, "delivery", md.NumDelivered)
		if it.MaxAttempts > 0 && int(md.NumDelivered) > it.MaxAttempts {
			// Every attempt failed (with an error, or its worker died):
			// park the item with what each attempt said.
			attempts := c.attempts(ctx, kv, it)
			var errs, failedOn []string
			for _, a := range attempts {
				errs = append(errs, a.String())
				failedOn = append(failedOn, a.Worker)
			}
			if lost := it.MaxAttempts - len(errs); lost > 0 {
				errs = append(errs, fmt.Sprintf("%d attempt(s) ended without an answer (worker lost or past the ack wait)", lost))
			}
			if err := c.publishOutcome(ctx, poisonSubject(it.Job), Outcome{Job: it.Job, Key: it.Key, Gen: it.Gen, Worker: c.opts.Name, Parked: true, Errors: errs, FailedOn: failedOn}); err != nil {
				log.Error("cannot park the item", "error", err)
				m.Nak()
				return
			}
			m.DoubleAck(ctx)
			parked.Add(1)
			log.Warn("parked after failed attempts", "attempts", it.MaxAttempts, "errors", errs)
			return
		}
		// Heartbeats keep the item ours while it runs.
		hctx, stopBeat := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(max(ackWait/3, 100*time.Millisecond))
			defer t.Stop()
			for {
				select {
				case <-t.C:
					m.InProgress()
				case <-hctx.Done():
					return
				}
			}
		}()
		began := time.Now()
		log.Info("item started")
		payload, herr := h(ctx, it)
		stopBeat()
		wg.Wait()
		if ctx.Err() != nil {
			// Stopped hard: the item goes back, not counted as its failure.
			m.Nak()
			returned.Add(1)
			log.Info("returned to the queue: worker stopping")
			return
		}
		if herr != nil {
			failed.Add(1)
			c.recordAttempt(ctx, kv, it, Attempt{Worker: c.opts.Name, Delivery: int(md.NumDelivered), Error: herr.Error()})
			log.Warn("attempt failed", "error", herr)
			m.NakWithDelay(time.Second)
			return
		}
		o := Outcome{Job: it.Job, Key: it.Key, Gen: it.Gen, Worker: c.opts.Name, Payload: payload}
		if md.NumDelivered > 1 {
			for _, a := range c.attempts(ctx, kv, it) {
				o.FailedOn = append(o.FailedOn, a.Worker)
			}
		}
		if err := c.publishOutcome(ctx, resultSubject(it.Job), o); err != nil {
			log.Error("cannot publish the result; returned to the queue", "error", err)
			m.Nak()
			return
		}
		if err := m.DoubleAck(ctx); err != nil {
			log.Warn("ack failed (the item may run again; its result is kept once)", "error", err)
		}
		done.Add(1)
		log.Info("item done", "seconds", fmt.Sprintf("%.1f", time.Since(began).Seconds()))
	}

	var wg sync.WaitGroup
	for i := 0; i < opts.Slots; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-drain:
					return
				case <-ctx.Done():
					return
				default:
				}
				m, err := cons.Next(jetstream.FetchMaxWait(time.Second))
				if err != nil {
					if !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) && ctx.Err() == nil {
						c.opts.Logger.Warn("fetch", "error", err)
						time.Sleep(time.Second)
					}
					continue
				}
				one(m)
			}
		}()
	}
	wg.Wait()
	logStats("worker: stopped")
	return Stats{Done: done.Load(), Failed: failed.Load(), Parked: parked.Load(), Returned: returned.Load()}, nil
}

func (c *Client) publishOutcome(ctx context.Context, subject string, o Outcome) error {
	data, err := json.Marshal(o)
	if err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, err = c.js.Publish(pctx, subject, data)
	return err
}

// Attempt is a failed attempt at an item, as the attempts bucket keeps it.
type Attempt struct {
	Worker   string `json:"worker"`
	Delivery int    `json:"delivery"`
	Error    string `json:"error"`
}

// String is the attempt as a parked item's Errors list it.
func (a Attempt) String() string {
	return fmt.Sprintf("%s (worker %s, attempt %d)", a.Error, a.Worker, a.Delivery)
}

// recordAttempt appends a failed attempt to the item's entry in the
// attempts bucket.
func (c *Client) recordAttempt(ctx context.Context, kv jetstream.KeyValue, it Item, a Attempt) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	key := attemptsKey(it)
	for range 5 {
		var as []Attempt
		var rev uint64
		e, err := kv.Get(ctx, key)
		switch {
		case err == nil:
			json.Unmarshal(e.Value(), &as)
			rev = e.Revision()
		case !errors.Is(err, jetstream.ErrKeyNotFound):
			c.opts.Logger.Warn("attempts bucket", "error", err)
			return
		}
		data, _ := json.Marshal(append(as, a))
		if rev == 0 {
			_, err = kv.Create(ctx, key, data)
		} else {
			_, err = kv.Update(ctx, key, data, rev)
		}
		if err == nil {
			return
		}
	}
	c.opts.Logger.Warn("cannot record the attempt's error", "key", it.Key)
}

// attempts returns the item's failed attempts.
func (c *Client) attempts(ctx context.Context, kv jetstream.KeyValue, it Item) []Attempt {
	e, err := kv.Get(ctx, attemptsKey(it))
	if err != nil {
		return nil
	}
	var as []Attempt
	json.Unmarshal(e.Value(), &as)
	return as
}
