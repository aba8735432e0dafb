package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	units "github.com/docker/go-units"
	"github.com/spf13/cobra"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/core/pipeline"
	"github.com/swelego/swelego/core/queue"
	"github.com/swelego/swelego/core/sandbox"
)

type workerFlags struct {
	queue, backend, name, memory string
	slots                        int
	statsEvery                   time.Duration
}

func newWorkerCmd() *cobra.Command {
	var f workerFlags
	cmd := &cobra.Command{
		Use:   "worker --queue nats://HOST:4222",
		Short: "Run the items a coordinator publishes on a NATS JetStream queue (grading, synthetic validation, rollouts, rollout scoring) in this machine's sandboxes",
		Long: `worker pulls work items from a NATS JetStream server (swelego run with a recipe's
queue block or --queue, or swelego eval --queue publishes them), runs each in its
own sandboxes with its own plugins and publishes the result. It serves every kind
of item: grading a prediction (eval stages), validating a synthetic candidate
(compile check, tests on the buggy and the fixed tree, reruns), playing and
grading one rollout attempt (rollout stages, a tts stage's k rollouts per task)
and scoring one rollout or candidate patch with a verifier (tts stages). Items
carry the task or the candidate and the environment definitions. Repositories
come as git bundles through the server's object store: the worker fetches each
bundle it lacks once into its cache (SWELEGO_CACHE, beside the environment
images), checks its digest, and keeps it for later items. With the coordinator's
queue block repos = "shared" (--queue-repos shared), items name the
coordinator's bundles and folders instead, a path that must hold the same files
on every worker.

Rollout and score items name their tool-set or verifier plugin, which this
worker runs from its own plugins (built-in, or found on SWELEGO_PLUGIN_PATH and
./.swelego/plugins), and carry an endpoint model's settings: the API key is read
here, from the environment variable the model block names (api_key_env).

An item that fails here goes back to the queue for any worker; after the
coordinator's max_attempts failures it is parked with its errors.

The first SIGTERM or interrupt drains the worker: it takes no new items and
finishes those it holds; a second one cancels them and returns them to the queue.
The log shows items done per minute and failures.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWorker(cmd.Context(), f, cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.queue, "queue", "", "the NATS server's URL (nats://HOST:4222)")
	fs.StringVar(&f.backend, "backend", "auto", "sandbox backend: auto, docker or bwrap")
	fs.IntVar(&f.slots, "slots", 1, "items run at the same time")
	fs.StringVar(&f.name, "name", "", "the worker's name in logs and results (default HOST-PID)")
	fs.StringVar(&f.memory, "memory", "", "memory limit of each sandbox, e.g. 2g")
	fs.DurationVar(&f.statsEvery, "stats-every", time.Minute, "how often the log shows items/min and failures")
	cmd.MarkFlagRequired("queue")
	return cmd
}

func runWorker(parent context.Context, f workerFlags, stderr io.Writer) error {
	if f.slots < 1 {
		return &exitError{code: 2, err: fmt.Errorf("--slots %d: want at least 1", f.slots)}
	}
	if f.name == "" {
		host, _ := os.Hostname()
		f.name = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	log := slog.New(engine.NewLogHandler(stderr, logFormat, slog.LevelInfo)).With("worker", f.name)
	// The first signal drains, the second cancels what is running.
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	defer cancel()
	drain := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		select {
		case <-sigs:
		case <-parent.Done():
		}
		log.Info("draining: finishing the items in hand, taking no new ones")
		close(drain)
		select {
		case <-sigs:
			log.Info("stopping: returning the items in hand to the queue")
			cancel()
		case <-ctx.Done():
		}
	}()

	var limits sandbox.Limits
	if f.memory != "" {
		n, err := units.RAMInBytes(f.memory)
		if err != nil || n <= 0 {
			return fmt.Errorf("--memory %q: want a size such as 512m or 2g", f.memory)
		}
		limits.Memory = n
	}
	runID := "worker-" + f.name
	backend, err := sandbox.New(ctx, f.backend, sandbox.Options{RunID: runID, Limits: limits})
	if err != nil {
		return err
	}
	defer backend.Close()
	host, err := cwdHost()
	if err != nil {
		return err
	}
	defer host.Close()
	c, err := queue.Connect(ctx, f.queue, queue.Options{Name: f.name, Logger: log})
	if err != nil {
		return err
	}
	defer c.Close()
	w := &pipeline.Worker{
		Backend: backend, Languages: language.NewSet(pipeline.HostLanguages(host)), DefaultLanguage: defaultLanguage,
		LogParsers: host.LogParser, ToolSets: host.ToolSet, Verifiers: host.Verifier, RunID: runID, Logger: log, Objects: c,
	}
	log.Info("worker started", "queue", f.queue, "backend", backend.Name(), "slots", f.slots)
	st, err := c.Work(ctx, drain, w.Handle, queue.WorkOptions{Slots: f.slots, Kinds: pipeline.WorkerKinds, StatsEvery: f.statsEvery})
	if err != nil && ctx.Err() == nil {
		return err
	}
	log.Info("worker done", "done", st.Done, "failed_attempts", st.Failed, "parked", st.Parked, "returned", st.Returned)
	return nil
}
