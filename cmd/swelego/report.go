package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/swelego/swelego/core/report"
)

func newReportCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "report RUNDIR",
		Short: "Write a run's report as one self-contained HTML file",
		Long: `report reads a run directory and writes one HTML file that needs nothing
else (styles, script and SVG plots inline; it loads nothing from the network):
the summary and failures, per-stage tables you can sort and filter by status
(tasks, synthetic yield per rule with rejection reasons, rollouts, eval results
with per-test FAIL_TO_PASS / PASS_TO_PASS outcomes and the test log), plots
(SFT loss and learning rate with curriculum stage boundaries, tokens/s, TTS
pass@K / TTS@K, yield per rule, eval statuses) and a trajectory viewer. Every
swelego run writes it to RUNDIR/report.html when it ends.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := report.Load(args[0])
			if err != nil {
				return err
			}
			if out == "" {
				out = report.DefaultReportPath(args[0])
			}
			if out == "-" {
				return report.WriteHTML(cmd.OutOrStdout(), r)
			}
			if err := report.WriteHTMLFile(out, r); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "report:", out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "where to write the report (default RUNDIR/report.html; - for stdout)")
	return cmd
}
