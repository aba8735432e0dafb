package main

import (
	"github.com/spf13/cobra"

	"github.com/swelego/swelego/core/report"
)

func newShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show RUNDIR [ADDRESS] [INSTANCE]",
		Short: "Print what a run did: its summary, a stage's table, one trajectory or test log",
		Long: `show prints on the terminal what swelego report puts in HTML:

  show RUNDIR                        the summary: a line per stage, failures
  show RUNDIR eval.gold              a stage's items as a table
  show RUNDIR rollout.teacher ID[/N] one trajectory, error and masked turns marked
  show RUNDIR eval.gold ID           one instance's per-test outcomes and test log`,
		Args: cobra.RangeArgs(1, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := report.Load(args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			switch len(args) {
			case 1:
				return report.WriteSummary(w, r, "")
			case 2:
				return report.ShowStage(w, r, args[1])
			}
			return report.ShowItem(w, r, args[1], args[2])
		},
	}
}
