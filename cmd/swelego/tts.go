package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"

	"github.com/swelego/swelego/core/pipeline"
	"github.com/swelego/swelego/hcl"
)

func newTTSCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tts",
		Short: "Work with the results of tts stages",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "report RUNDIR [STAGE...]",
		Short: "Print the pass@1, TTS@K and pass@K report of a run's tts stages",
		Long: `report prints the report.json of every tts stage of the run directory (or of the
named stages, as tts.NAME or NAME) as a table: for K = 1, 2, 4, … k, pass@1, TTS@K
(the verifier's pick from K rollouts) and pass@K (the best of K), with the
verifier's AUC. The plot is report.svg (and report.png) beside each report.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			paths, err := ttsReportPaths(args[0], args[1:])
			if err != nil {
				return err
			}
			return printTTSReports(cmd.OutOrStdout(), paths)
		},
	})
	return cmd
}

// ttsReportPaths lists the reports of a run directory's tts stages: the
// named ones, or every one there is.
func ttsReportPaths(dir string, stages []string) ([]string, error) {
	var out []string
	if len(stages) == 0 {
		found, err := filepath.Glob(filepath.Join(dir, "tts", "*", pipeline.TTSReportFile))
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		if len(found) == 0 {
			return nil, fmt.Errorf("%s holds no tts report (tts/NAME/%s): run a tts stage that rolls out a model first", dir, pipeline.TTSReportFile)
		}
		return found, nil
	}
	for _, s := range stages {
		name := s
		if len(name) > 4 && name[:4] == "tts." {
			name = name[4:]
		}
		p := filepath.Join(dir, "tts", name, pipeline.TTSReportFile)
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("tts stage %s: no report: %w", s, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// printTTSReports prints each report as a table, with where its plot is.
func printTTSReports(w io.Writer, paths []string) error {
	for i, p := range paths {
		r, err := pipeline.ReadTTSReport(p)
		if err != nil {
			return err
		}
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := r.WriteText(w); err != nil {
			return err
		}
		if plot := filepath.Join(filepath.Dir(p), pipeline.TTSPlotSVG); fileExists(plot) {
			fmt.Fprintf(w, "  plot: %s\n", plot)
		}
	}
	return nil
}

// printRunTTSReports prints the reports the run's tts stages in addresses
// left; stages that wrote none (reranking candidates) are skipped.
func printRunTTSReports(w io.Writer, stageDir func(string) string, addresses []string) {
	var paths []string
	for _, a := range addresses {
		p := filepath.Join(stageDir(a), pipeline.TTSReportFile)
		if fileExists(p) {
			paths = append(paths, p)
		}
	}
	if len(paths) > 0 {
		if err := printTTSReports(w, paths); err != nil {
			fmt.Fprintln(w, "tts report:", err)
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return !errors.Is(err, os.ErrNotExist) && err == nil
}

// ttsAddresses lists the recipe's tts stages.
func ttsAddresses(rec *hcl.Recipe) []string {
	var out []string
	for _, b := range rec.Stages {
		if b.Type == "tts" {
			out = append(out, b.Address)
		}
	}
	return out
}
