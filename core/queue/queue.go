package queue

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Names of the streams, the workers' consumer and the attempts bucket.
const (
	WorkStream     = "SWELEGO_WORK"
	ResultsStream  = "SWELEGO_RESULTS"
	WorkerConsumer = "swelego-workers"
	AttemptsBucket = "SWELEGO_ATTEMPTS"
)

// Defaults of Options.
const (
	DefaultAckWait     = time.Minute
	DefaultMaxAttempts = 3
	DefaultRetention   = 7 * 24 * time.Hour
)

// ErrNoConsumer is returned by Work when no coordinator has set up the
// streams yet and the worker's context ends while it waits for them.
var ErrNoConsumer = errors.New("the work queue has not been set up by a coordinator")

// Options configure a connection.
type Options struct {
	// AckWait is how long a delivered item may go without an
	// acknowledgement or a heartbeat before it is delivered to another
	// worker. Workers send heartbeats every third of it.
	AckWait time.Duration
	// MaxAttempts is how many deliveries of an item may fail before it is
	// parked on the poison subject.
	MaxAttempts int
	// Retention is how long results are kept.
	Retention time.Duration
	// Name names this client to the server (a worker's name in its logs).
	Name   string
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.AckWait <= 0 {
		o.AckWait = DefaultAckWait
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Item is one unit of work of a job.
type Item struct {
	Job string `json:"job"`
	// Key identifies the item within its job (an instance id).
	Key string `json:"key"`
	// Gen is the publication the item belongs to: a parked outcome counts
	// only for the publication it parked.
	Gen         string          `json:"gen"`
	Kind        string          `json:"kind"`
	MaxAttempts int             `json:"max_attempts"`
	Payload     json.RawMessage `json:"payload"`
}

// Outcome is what became of an item: a result, or parked with the error of
// each attempt.
type Outcome struct {
	Job     string          `json:"job"`
	Key     string          `json:"key"`
	Gen     string          `json:"gen"`
	Worker  string          `json:"worker,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
	Parked  bool            `json:"parked,omitempty"`
	Errors  []string        `json:"errors,omitempty"`
	// FailedOn names the worker of each failed attempt before this
	// outcome (attempts whose worker died are not known).
	FailedOn []string `json:"failed_on,omitempty"`
}

// Client is a connection to a NATS server with JetStream.
type Client struct {
	nc   *nats.Conn
	js   jetstream.JetStream
	opts Options

	objMu    sync.Mutex
	obs      jetstream.ObjectStore
	fetching map[string]*sync.Mutex // by destination (Fetch)
}

// Connect connects to the server at url (nats://HOST:4222).
func Connect(ctx context.Context, url string, opts Options) (*Client, error) {
	opts.defaults()
	nopts := []nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(time.Second)}
	if opts.Name != "" {
		nopts = append(nopts, nats.Name(opts.Name))
	}
	nc, err := nats.Connect(url, nopts...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("jetstream at %s: %w", url, err)
	}
	return &Client{nc: nc, js: js, opts: opts}, nil
}

// Close closes the connection.
func (c *Client) Close() { c.nc.Close() }

// Setup creates or updates the streams, the workers' consumer and the
// attempts bucket with the client's options; the coordinator calls it.
func (c *Client) Setup(ctx context.Context) error {
	_, err := c.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: WorkStream, Subjects: []string{"swelego.work.>"},
		Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage, Duplicates: 10 * time.Minute,
	})
	if err != nil {
		return fmt.Errorf("stream %s: %w", WorkStream, err)
	}
	_, err = c.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: ResultsStream, Subjects: []string{"swelego.results.>", "swelego.poison.>"},
		Retention: jetstream.LimitsPolicy, Storage: jetstream.FileStorage, MaxAge: c.opts.Retention,
	})
	if err != nil {
		return fmt.Errorf("stream %s: %w", ResultsStream, err)
	}
	_, err = c.js.CreateOrUpdateConsumer(ctx, WorkStream, jetstream.ConsumerConfig{
		Durable: WorkerConsumer, AckPolicy: jetstream.AckExplicitPolicy, AckWait: c.opts.AckWait,
		MaxDeliver: -1, MaxAckPending: 10000, FilterSubject: "swelego.work.>",
	})
	if err != nil {
		return fmt.Errorf("consumer %s: %w", WorkerConsumer, err)
	}
	_, err = c.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: AttemptsBucket, TTL: c.opts.Retention, Storage: jetstream.FileStorage})
	if err != nil {
		return fmt.Errorf("bucket %s: %w", AttemptsBucket, err)
	}
	return nil
}

// JobID names a job from what identifies it (a run id and a stage
// address) in a form subjects accept.
func JobID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\n", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func keyHash(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])[:24]
}

func workSubject(job, key string) string { return "swelego.work." + job + "." + keyHash(key) }
func resultSubject(job string) string    { return "swelego.results." + job }
func poisonSubject(job string) string    { return "swelego.poison." + job }
func attemptsKey(it Item) string         { return it.Job + "." + it.Gen + "." + keyHash(it.Key) }
func newGen() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
