package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	units "github.com/docker/go-units"
	"github.com/spf13/cobra"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/envimage"
	"github.com/swelego/swelego/core/harness"
	"github.com/swelego/swelego/core/language"
	"github.com/swelego/swelego/core/pipeline"
	"github.com/swelego/swelego/core/pluginhost"
	"github.com/swelego/swelego/core/sandbox"
	"github.com/swelego/swelego/core/taskenv"
	"github.com/swelego/swelego/hcl"
	"github.com/swelego/swelego/sdk"
	"github.com/swelego/swelego/sdk/jsonl"
)

type evalFlags struct {
	tasks, predictions, backend, report, workdir, recipe string
	repos, instanceIDs                                   []string
	imageNaming, imageNamespace                          string
	imageArchives                                        []string
	memory, skippedP2P                                   string
	queue                                                queueFlags
	workers                                              int
	timeout                                              time.Duration
	rerun, retryErrors                                   bool
}

func newEvalCmd() *cobra.Command {
	var f evalFlags
	cmd := &cobra.Command{
		Use:   "eval --tasks FILE --predictions FILE|gold|empty",
		Short: "Grade predictions on tasks in sandboxes, as SWE-bench's harness does",
		Long: `eval applies each prediction's patch to its task's repository in a fresh sandbox,
applies the task's test patch, runs the tests and grades them by SWE-bench's rules.
It writes one result per instance and a report with SWE-bench's keys.

--predictions takes a SWE-bench predictions file (JSON or JSON Lines), SWE-agent's
preds.json, OpenHands' output.jsonl, "gold" (each task's own patch) or "empty". When
an instance has several predictions the last one is graded, as SWE-bench does.
Repositories are found by --repos folders (a bundle NAME.bundle or a repository
folder per repository) or by a recipe's environment blocks (--recipe).
A task with an image or image_name field (SWE-smith, SWE-rebench, SWE-Lego records),
or every task with --image-naming swebench (SWE-bench's sweb.eval.x86_64.ID images),
runs in that published image instead: its repository is at /testbed already. The
image is pulled when missing (credentials from the Docker config's auths) or loaded
from --image-archive, and the history, tags and remotes it shipped are removed
before anything runs.

Run again, it grades only what is missing: new tasks or predictions, changed
predictions, and instances the infrastructure could not grade (a repository not
found, an image that did not build, a sandbox that failed), which are never
stored as results; with --retry-errors, also those whose result is an error.
It exits with status 1 when some instances could not be graded, and 130 when
interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runEval(ctx, f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.tasks, "tasks", "", "SWE-bench instance file (JSON or JSON Lines)")
	fs.StringVar(&f.predictions, "predictions", "", `predictions file, or "gold" or "empty"`)
	fs.StringVar(&f.backend, "backend", "auto", "sandbox backend: auto, docker or bwrap")
	fs.IntVar(&f.workers, "workers", 1, "tasks graded at the same time")
	fs.StringVar(&f.report, "report", "", "write the report here too (default: only in the run directory)")
	fs.StringVar(&f.workdir, "workdir", "", "run directory (default runs/eval/NAME-HASH under the current folder)")
	fs.StringArrayVar(&f.repos, "repos", nil, "folder holding the tasks' repositories (repeatable; default: beside the tasks file and its ../repos)")
	fs.StringVar(&f.recipe, "recipe", "", "take environments (repository sources, setup, test commands) from this recipe")
	fs.DurationVar(&f.timeout, "timeout", harness.DefaultTimeout, "limit of one test run")
	fs.StringVar(&f.memory, "memory", "", "memory limit of each sandbox, e.g. 2g (default 4g)")
	fs.BoolVar(&f.rerun, "rerun", false, "discard earlier results in the run directory and grade again")
	fs.BoolVar(&f.retryErrors, "retry-errors", false, "grade again the instances whose stored result is an error")
	fs.StringSliceVar(&f.instanceIDs, "instance-ids", nil, "grade and report only these instances (comma-separated or repeated)")
	fs.StringVar(&f.imageNaming, "image-naming", "", `"swebench": run each task no environment serves in the image SWE-bench publishes for it (sweb.eval.x86_64.ID), pulled when missing`)
	fs.StringVar(&f.imageNamespace, "image-namespace", "", `what leads an image name --image-naming gives, e.g. "swebench" or "registry.example:5000/swebench"`)
	fs.StringArrayVar(&f.imageArchives, "image-archive", nil, "docker save archive to load a missing task image from before pulling it (repeatable)")
	fs.StringVar(&f.skippedP2P, "skipped-pass-to-pass", "fail", `a skipped PASS_TO_PASS test: "fail" or "maintained" (SWE-bench v5's rule)`)
	f.queue.add(cmd, "grade through swelego workers on this NATS JetStream server (nats://HOST:4222) instead of here")
	cmd.MarkFlagRequired("tasks")
	cmd.MarkFlagRequired("predictions")
	return cmd
}

// readTaskFile reads a SWE-bench instance file.
func readTaskFile(path string) ([]sdk.Task, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := jsonl.NewDecoder(f, path)
	var out []sdk.Task
	for {
		var t sdk.Task
		err := dec.Next(&t)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if t.InstanceID == "" {
			return nil, fmt.Errorf("%s:%d: record has no instance_id", path, dec.Line())
		}
		if err := t.CheckGradable(); err != nil {
			return nil, &jsonl.Error{File: path, Line: dec.Line(), Err: err}
		}
		out = append(out, t)
	}
}

func runEval(ctx context.Context, f evalFlags, stdout, stderr io.Writer) error {
	switch f.skippedP2P {
	case "", "fail":
		f.skippedP2P = "fail"
	case "maintained":
	default:
		return &exitError{code: 2, err: fmt.Errorf(`--skipped-pass-to-pass: want "fail" or "maintained", not %q`, f.skippedP2P)}
	}
	switch f.imageNaming {
	case "", imageNamingSWEBench:
	default:
		return &exitError{code: 2, err: fmt.Errorf(`--image-naming: want "swebench", not %q`, f.imageNaming)}
	}
	if err := f.queue.check(); err != nil {
		return &exitError{code: 2, err: err}
	}
	tasks, err := readTaskFile(f.tasks)
	if err != nil {
		return err
	}
	preds, err := pipeline.LoadPredictions(f.predictions, tasks)
	if err != nil {
		return err
	}
	var (
		envs []taskenv.Environment
		host *pluginhost.Host
	)
	if f.recipe != "" {
		rec, diags := hcl.Load(ctx, f.recipe, hcl.Options{Environ: os.Environ()})
		if diags.HasErrors() {
			printDiags(stderr, diags, rec.Files)
			return errReported
		}
		envs = pipeline.EnvironmentsOf(rec)
		if host, err = newHost(rec, false); err != nil {
			return err
		}
	} else if host, err = cwdHost(); err != nil {
		return err
	}
	defer host.Close()
	repos := f.repos
	if len(repos) == 0 {
		dir := filepath.Dir(f.tasks)
		repos = []string{dir, filepath.Join(dir, "..", "repos")}
	}
	workdir := f.workdir
	fp := evalFingerprint(f)
	if workdir == "" {
		name := strings.TrimSuffix(filepath.Base(f.predictions), filepath.Ext(f.predictions))
		workdir = filepath.Join("runs", "eval", name+"-"+evalDirHash(f, fp))
	}
	run, err := engine.Open(workdir)
	if err != nil {
		return err
	}
	defer run.Close()
	var limits sandbox.Limits
	if f.memory != "" {
		n, err := units.RAMInBytes(f.memory)
		if err != nil || n <= 0 {
			return fmt.Errorf("--memory %q: want a size such as 512m or 2g", f.memory)
		}
		limits.Memory = n
	}
	backend, err := sandbox.New(ctx, f.backend, sandbox.Options{RunID: run.ID(), Limits: limits})
	if err != nil {
		return err
	}
	defer backend.Close()
	st := pipeline.NewStandaloneEval(pipeline.StandaloneEval{
		Address: evalAddress, Fingerprint: fp,
		Settings: &hcl.Eval{
			Predictions:       hcl.RefOrPath{Path: f.predictions},
			Backend:           f.backend,
			Workers:           f.workers,
			InstanceIDs:       f.instanceIDs,
			SkippedPassToPass: f.skippedP2P,
		},
		Tasks: tasks, Predictions: preds, Backend: backend, Environments: envs, RepoDirs: repos,
		Host: host, Languages: language.NewSet(pipeline.HostLanguages(host)), DefaultLanguage: defaultLanguage,
		Timeout: f.timeout, RetryErrors: f.retryErrors,
		Images: taskenv.ImageDefaults{Naming: f.imageNaming, Namespace: f.imageNamespace, Archives: f.imageArchives,
			Progress: pullReporter(stderr)},
		Queue: f.queue.settings(),
	})
	var rerun []string
	if f.rerun {
		rerun = []string{evalAddress}
	}
	execErr := run.Execute(ctx, []engine.Stage{st}, engine.ExecOptions{Rerun: rerun, Out: stderr, LogFormat: logFormat})
	if ctx.Err() != nil {
		return &exitError{code: 130, err: fmt.Errorf("interrupted; run the same command again to resume (run directory %s)", workdir)}
	}
	var ng *pipeline.NotGradedError
	if execErr != nil && !errors.As(execErr, &ng) {
		return execErr
	}
	// The report on disk is the truth, also when some instances could not
	// be graded.
	reportPath := filepath.Join(run.StageDir(evalAddress), pipeline.ReportFile)
	data, err := os.ReadFile(reportPath)
	if err != nil {
		return errors.Join(execErr, err)
	}
	var r harness.Report
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("%s: %w", reportPath, err)
	}
	if f.report != "" {
		if err := os.WriteFile(f.report, data, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "backend %s: %d instances, %d submitted, %d completed, %d resolved, %d unresolved, %d empty patch, %d error\nreport: %s\nlogs: %s\n",
		backend.Name(), r.TotalInstances, r.SubmittedInstances, r.CompletedInstances, r.ResolvedInstances, r.UnresolvedInstances, r.EmptyPatchInstances, r.ErrorInstances,
		reportPath, filepath.Join(run.StageDir(evalAddress), pipeline.LogsDir))
	if ng != nil {
		fmt.Fprintf(stderr, "not graded because of the infrastructure (no result stored):\n")
		for _, r := range ng.Failures {
			fmt.Fprintf(stderr, "  %s: %s\n", r.InstanceID, r.Error)
		}
		return &exitError{code: 1, err: fmt.Errorf("%d of the instances could not be graded (listed above); run the same command again to grade them (run directory %s)",
			len(ng.Failures), workdir)}
	}
	return nil
}

const evalAddress = "eval.cli"

// pullReporter writes how pulls and loads of task images go to w, a line
// every few seconds.
func pullReporter(w io.Writer) func(envimage.PullProgress) {
	var mu sync.Mutex
	return func(p envimage.PullProgress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Total > 0 {
			fmt.Fprintf(w, "image %s: %s / %s, %d of %d layers done (%s)\n", p.Ref,
				units.HumanSize(float64(p.Current)), units.HumanSize(float64(p.Total)), p.Done, p.Layers, p.Status)
			return
		}
		fmt.Fprintf(w, "image %s: %s\n", p.Ref, p.Status)
	}
}

// evalFingerprint hashes how instances are graded: the sandbox backend,
// the test timeout and the memory limit. Which tasks and predictions are
// graded is not part of it: each result records a digest of the task and
// patch it graded, so a run in the same directory grades new and changed
// predictions and keeps the rest; --workers and --instance-ids change how
// fast and which, not how.
func evalFingerprint(f evalFlags) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", f.backend, f.timeout, f.memory)
	if f.skippedP2P != "fail" {
		fmt.Fprintf(h, "skipped_pass_to_pass=%s\n", f.skippedP2P) // absent by default: earlier runs keep their fingerprint
	}
	if f.imageNaming != "" {
		fmt.Fprintf(h, "image_naming=%s\nimage_namespace=%s\n", f.imageNaming, f.imageNamespace) // likewise
	}
	return hex.EncodeToString(h.Sum(nil))
}

// evalDirHash names the default run directory: the fingerprint and the
// tasks and predictions files, so two models' predictions files of the
// same name get their own directories.
func evalDirHash(f evalFlags, fp string) string {
	h := sha256.New()
	tasks, _ := filepath.Abs(f.tasks)
	preds := f.predictions
	if preds != pipeline.PredictGold && preds != pipeline.PredictEmpty {
		preds, _ = filepath.Abs(preds)
	}
	fmt.Fprintf(h, "%s\n%s\n%s\n", fp, tasks, preds)
	return hex.EncodeToString(h.Sum(nil))[:8]
}

// queueFlags are --queue and its settings (run's and eval's).
type queueFlags struct {
	url         string
	ackWait     time.Duration
	maxAttempts int
	repos       string
}

func (q *queueFlags) add(cmd *cobra.Command, usage string) {
	fs := cmd.Flags()
	fs.StringVar(&q.url, "queue", "", usage)
	fs.DurationVar(&q.ackWait, "queue-ack-wait", 0, "with --queue: how long a worker may hold an item without a heartbeat (default 1m)")
	fs.IntVar(&q.maxAttempts, "queue-max-attempts", 0, "with --queue: failed deliveries before an item is parked (default 3)")
	fs.StringVar(&q.repos, "queue-repos", hcl.QueueReposObjectStore, "with --queue: how workers get the repositories: object_store (bundles uploaded to the server) or shared (the same paths on every worker)")
}

// check refuses settings a run could only fail on later: a --queue-repos
// that is neither mode, a negative wait or attempt count.
func (q queueFlags) check() error {
	switch {
	case q.repos != hcl.QueueReposObjectStore && q.repos != hcl.QueueReposShared:
		return fmt.Errorf("--queue-repos: want %s or %s, not %q", hcl.QueueReposObjectStore, hcl.QueueReposShared, q.repos)
	case q.ackWait < 0:
		return fmt.Errorf("--queue-ack-wait: %v is negative", q.ackWait)
	case q.maxAttempts < 0:
		return fmt.Errorf("--queue-max-attempts: %d is negative", q.maxAttempts)
	}
	return nil
}

// settings are --queue's, nil without it.
func (q queueFlags) settings() *hcl.Queue {
	if q.url == "" {
		return nil
	}
	return &hcl.Queue{URL: q.url, AckWait: q.ackWait, MaxAttempts: q.maxAttempts, Repos: q.repos}
}

// imageNamingSWEBench is --image-naming's one scheme: images named as
// SWE-bench publishes them (core's taskenv applies any scheme given as it).
const imageNamingSWEBench = "swebench"
