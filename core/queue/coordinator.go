package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrRefused is returned by Run when accept refuses the outcome of the
// publication it waits for (a worker that answers another question, such
// as one of another version): no other outcome of that item will come.
var ErrRefused = errors.New("the outcome of the item published was refused")

// Accept is called with each outcome of a job's items; it returns whether
// the outcome settles its item (a result of what is graded now, or a
// parked item), so that the caller may refuse a stale result. It is
// called from one goroutine.
type Accept func(ctx context.Context, o Outcome) (settled bool, err error)

// Run publishes the items of job that have no outcome yet and calls
// accept with outcomes until every item is settled, or accept refuses the
// outcome of an item's current publication (ErrRefused). Outcomes already
// published (by workers that ran while an earlier coordinator of the same
// job died) are read first, so a rerun publishes only what is missing; an
// item still waiting in the work stream with the same payload is not
// published again. Items need
// Key, Kind and Payload; Run sets Job, Gen and MaxAttempts. A parked
// outcome counts only for the publication that parked it, so items parked
// by an earlier run are published again.
func (c *Client) Run(ctx context.Context, job string, items []Item, accept Accept) error {
	if err := c.Setup(ctx); err != nil {
		return err
	}
	want := make(map[string]*Item, len(items))
	for i := range items {
		it := &items[i]
		if _, dup := want[it.Key]; dup {
			return fmt.Errorf("job %s: key %q given twice", job, it.Key)
		}
		want[it.Key] = it
	}
	if len(want) == 0 {
		return nil
	}
	oc, err := c.js.OrderedConsumer(ctx, ResultsStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{resultSubject(job), poisonSubject(job)},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return fmt.Errorf("job %s: read results: %w", job, err)
	}
	settled := map[string]bool{}
	gens := map[string]string{} // key → the generation published or found waiting
	handle := func(m jetstream.Msg) error {
		var o Outcome
		if err := json.Unmarshal(m.Data(), &o); err != nil {
			c.opts.Logger.Warn("unreadable outcome; ignored", "subject", m.Subject(), "error", err)
			return nil
		}
		if _, ok := want[o.Key]; !ok || settled[o.Key] || o.Job != job {
			return nil
		}
		if o.Parked && o.Gen != gens[o.Key] {
			return nil // parked in an earlier run: published again
		}
		ok, err := accept(ctx, o)
		if err != nil {
			return err
		}
		if ok {
			settled[o.Key] = true
		} else if g := gens[o.Key]; g != "" && o.Gen == g {
			// The outcome of the publication waited for was refused: no
			// other will come, so waiting on would hang the job.
			return fmt.Errorf("job %s: %s: %w (worker %s)", job, o.Key, ErrRefused, o.Worker)
		}
		return nil
	}
	// Catch up with what is already published.
	if err := c.drain(ctx, oc, handle, true); err != nil {
		return err
	}
	ws, err := c.js.Stream(ctx, WorkStream)
	if err != nil {
		return fmt.Errorf("job %s: %w", job, err)
	}
	gen := newGen()
	published := 0
	for key, it := range want {
		if settled[key] {
			continue
		}
		subj := workSubject(job, key)
		if raw, err := ws.GetLastMsgForSubject(ctx, subj); err == nil {
			var waiting Item
			if json.Unmarshal(raw.Data, &waiting) == nil && waiting.Gen != "" && bytes.Equal(waiting.Payload, it.Payload) {
				gens[key] = waiting.Gen // still queued or in flight
				continue
			}
			// Waiting with another payload (what it holds changed since):
			// published again; the stale one's outcome is the caller's to
			// refuse.
		} else if !errors.Is(err, jetstream.ErrMsgNotFound) {
			return fmt.Errorf("job %s: look up %s: %w", job, key, err)
		}
		it.Job, it.Gen, it.MaxAttempts = job, gen, c.opts.MaxAttempts
		data, err := json.Marshal(it)
		if err != nil {
			return err
		}
		if _, err := c.js.PublishMsg(ctx, &nats.Msg{Subject: subj, Data: data}, jetstream.WithMsgID(job+"."+gen+"."+keyHash(key))); err != nil {
			return fmt.Errorf("job %s: publish %s: %w", job, key, err)
		}
		gens[key] = gen
		published++
	}
	c.opts.Logger.Info("queue: published", "job", job, "items", published, "already_done", len(settled), "waiting", len(want)-len(settled)-published)
	last := time.Now()
	for len(settled) < len(want) {
		if err := c.drain(ctx, oc, handle, false); err != nil {
			return err
		}
		if time.Since(last) > 30*time.Second {
			c.opts.Logger.Info("queue: waiting for workers", "job", job, "settled", len(settled), "items", len(want))
			last = time.Now()
		}
	}
	return nil
}

// resultsWait is how long one fetch of results waits for them: a run's
// first look and its last result wait this long at most.
const resultsWait = 200 * time.Millisecond

// drain fetches from the ordered consumer and handles what comes: with
// catchUp until no message is pending, else one batch (waiting up to
// resultsWait for it).
func (c *Client) drain(ctx context.Context, oc jetstream.Consumer, handle func(jetstream.Msg) error, catchUp bool) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch, err := oc.Fetch(256, jetstream.FetchMaxWait(resultsWait))
		if err != nil {
			return fmt.Errorf("read results: %w", err)
		}
		n := 0
		var pending uint64
		for m := range batch.Messages() {
			n++
			if md, err := m.Metadata(); err == nil {
				pending = md.NumPending
			}
			if err := handle(m); err != nil {
				return err
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) {
			return fmt.Errorf("read results: %w", err)
		}
		if !catchUp || n == 0 || pending == 0 {
			return nil
		}
	}
}

// Withdraw removes the job's items still waiting in the work stream, so
// that no worker starts them: the coordinator stopped wanting them (a
// stage that gave up). Items in a worker's hands run to their end; their
// outcomes are kept in the results stream as any other.
func (c *Client) Withdraw(ctx context.Context, job string) error {
	ws, err := c.js.Stream(ctx, WorkStream)
	if err != nil {
		return fmt.Errorf("job %s: %w", job, err)
	}
	if err := ws.Purge(ctx, jetstream.WithPurgeSubject("swelego.work."+job+".>")); err != nil {
		return fmt.Errorf("job %s: withdraw its items: %w", job, err)
	}
	return nil
}
