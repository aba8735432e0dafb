package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/hashicorp/go-plugin"
	"github.com/spf13/cobra"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/pipeline"
	"github.com/swelego/swelego/core/report"
)

func newRunCmd() *cobra.Command {
	var (
		f        recipeFlags
		stages   []string
		rerun    []string
		workdir  string
		parallel int
		retry    bool
		q        queueFlags
	)
	cmd := &cobra.Command{
		Use:   "run RECIPE",
		Short: "Run a recipe's stages, resuming whatever an earlier run left unfinished",
		Long: `run executes the recipe's stages in dependency order. Records go to the run
directory (the recipe's swelego { workdir }, or --workdir). Run it again after an
interruption and it does only what is missing; a finished stage is skipped.

--stage takes a pipeline stage (tasks, rollout, sft, tts, eval) or a block address
(source.swebench.bundled) and runs it with what it depends on; repeatable.

Finished sources, rollouts, TTS and evals run again every time to pick up new
items (tasks appended to a source's file) and keep what they have. An eval that
could not grade some instances because of the infrastructure (a repository not
found, an image that did not build) stores no result for them, fails, and grades
them on the next run; the run then exits with status 1.

With a queue block in the recipe, or --queue, the sandbox work of synthetic
sources (each candidate's compile check and validation) and of eval stages
(grading) goes to swelego worker processes through a NATS JetStream server; this
process keeps the run directory and writes their results by key, so the records
equal a local run's and a rerun resumes the same way (see docs/cluster.md).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			defer plugin.CleanupClients()
			if err := q.check(); err != nil {
				return &exitError{code: 2, err: err}
			}

			l, err := loadRecipe(ctx, args[0], f, cmd.ErrOrStderr())
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			defer l.host.Close()
			rec := l.recipe
			// What validate checks, run checks before it starts anything: a
			// plugin's own settings and the environments' languages.
			diags := append(validatePlugins(ctx, l), checkLanguages(ctx, l)...)
			printDiags(cmd.ErrOrStderr(), diags, rec.Files)
			if diags.HasErrors() {
				return &exitError{code: 1, err: errReported}
			}

			only, err := pipeline.Select(rec, stages)
			if err != nil {
				return err
			}
			dir := workdir
			if dir == "" {
				dir = rec.Settings.Workdir
			}
			if dir == "" {
				name := rec.Settings.Name
				if name == "" {
					name = filepath.Base(rec.Dir)
				}
				dir = filepath.Join(rec.Dir, "runs", name)
			}
			run, err := engine.Open(dir)
			if err != nil {
				return err
			}
			defer run.Close()
			opts := []pipeline.Option{pipeline.WithDefaultLanguage(defaultLanguage)}
			if retry {
				opts = append(opts, pipeline.WithRetryErrors())
			}
			if qs := q.settings(); qs != nil {
				opts = append(opts, pipeline.WithQueue(qs))
			}
			all, err := pipeline.Stages(rec, l.host, opts...)
			if err != nil {
				return err
			}
			err = run.Execute(ctx, all, engine.ExecOptions{Only: only, Rerun: rerun, Parallel: parallel, Out: cmd.ErrOrStderr(), LogFormat: logFormat})
			if ctx.Err() == nil {
				printRunTTSReports(cmd.OutOrStdout(), run.StageDir, ttsAddresses(rec))
			}
			if ctx.Err() != nil {
				l.host.Close()
				return &exitError{code: 130, err: fmt.Errorf("interrupted; run the same command again to resume (run directory %s)", dir)}
			}
			infra := summarizeRun(cmd.OutOrStdout(), cmd.ErrOrStderr(), dir)
			if err != nil {
				return err
			}
			if infra > 0 {
				return &exitError{code: 1, err: fmt.Errorf("run %s: %d items failed because of the infrastructure (see the summary above); run the same command again to retry them", run.ID(), infra)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "run %s finished: %s\n", run.ID(), dir)
			return nil
		},
	}
	addRecipeFlags(cmd, &f)
	cmd.Flags().StringArrayVar(&stages, "stage", nil, "run only this stage and what it depends on (repeatable)")
	cmd.Flags().StringArrayVar(&rerun, "rerun", nil, "discard this stage's earlier outputs and run it again (block address, repeatable)")
	cmd.Flags().StringVar(&workdir, "workdir", "", "run directory (overrides the recipe's swelego { workdir })")
	cmd.Flags().IntVar(&parallel, "parallel", 1, "stages that may run at the same time")
	cmd.Flags().BoolVar(&retry, "retry-errors", false, "eval stages grade again the instances whose stored result is an error")
	q.add(cmd, "validate and grade through swelego workers on this NATS JetStream server (nats://HOST:4222) instead of here; overrides the recipe's queue block")
	return cmd
}

// summarizeRun writes the run's HTML report into its directory and prints
// the end-of-run summary; it returns how many items the infrastructure
// failed. A report that cannot be made is a warning: the run's records are
// what counts.
func summarizeRun(out, errw io.Writer, dir string) (infra int) {
	r, err := report.Load(dir)
	if err != nil {
		fmt.Fprintln(errw, "summary:", err)
		return 0
	}
	path := report.DefaultReportPath(dir)
	if err := report.WriteHTMLFile(path, r); err != nil {
		fmt.Fprintln(errw, "report:", err)
		path = ""
	}
	if err := report.WriteSummary(out, r, path); err != nil {
		fmt.Fprintln(errw, "summary:", err)
	}
	return r.InfraFailures()
}
