package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/queue"
)

// digestedItems publishes items of kind as job over c, each keyed by key
// and carrying its JSON, and settles their outcomes until every item is
// settled or ctx ends. A worker's result R is taken when check accepts it
// for its item and the digest of the payload it answers (input) is the
// one published: a result of other inputs (the item changed since) is
// not taken, and the item runs again. A taken result goes to record; a
// parked item goes to parked with its attempts' errors, so it is not
// stored and a rerun publishes it again. record returning
// engine.ErrDuplicateKey (a result stored already) settles the item.
// workers, when set, counts what each worker did.
func digestedItems[I, R any](ctx context.Context, c *queue.Client, job, kind string, items []I, key func(I) string,
	input func(R) string, check func(I, R) bool, record func(I, R) error, parked func(I, error) error, workers *WorkerCounts) error {
	byKey := make(map[string]I, len(items))
	digests := make(map[string]string, len(items))
	qitems := make([]queue.Item, 0, len(items))
	for _, it := range items {
		k := key(it)
		data, err := json.Marshal(it)
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		byKey[k], digests[k] = it, inputDigest(data)
		qitems = append(qitems, queue.Item{Key: k, Kind: kind, Payload: data})
	}
	return c.Run(ctx, job, qitems, func(ctx context.Context, o queue.Outcome) (bool, error) {
		it := byKey[o.Key]
		if o.Parked {
			workers.add(o)
			return true, parked(it, fmt.Errorf("parked after %d failed attempts: %s", len(o.Errors), strings.Join(o.Errors, "; ")))
		}
		var r R
		if err := json.Unmarshal(o.Payload, &r); err != nil || input(r) != digests[o.Key] || !check(it, r) {
			return false, nil // unreadable, or run from other inputs
		}
		workers.add(o)
		err := record(it, r)
		if errors.Is(err, engine.ErrDuplicateKey) {
			return true, nil
		}
		return true, err
	})
}
