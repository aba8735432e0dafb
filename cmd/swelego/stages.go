package main

import (
	"github.com/spf13/cobra"

	"github.com/swelego/swelego/hcl"
)

func newStagesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "stages", Short: "Describe the recipe's core blocks"}
	var markdown bool
	describe := &cobra.Command{
		Use:   "describe [TYPE]",
		Short: "Print every core block (or one: eval, synthetic …) with its arguments' types, defaults and descriptions",
		Long: `describe prints the recipe's blocks from the table the decoder and validate use:
each block's purpose and, for a body swelego defines, every argument with its type,
its default (or "required") and what it does. TYPE is a block type (eval, rollout,
sandbox …) or a core source type (synthetic). With --markdown it prints the whole
reference as docs/recipes.md holds it.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			docs, err := hcl.FindBlockDocs(name)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if markdown {
				return hcl.WriteMarkdown(cmd.OutOrStdout(), docs)
			}
			return hcl.WriteReference(cmd.OutOrStdout(), docs)
		},
	}
	describe.Flags().BoolVar(&markdown, "markdown", false, "print Markdown, as docs/recipes.md")
	cmd.AddCommand(describe)
	return cmd
}
