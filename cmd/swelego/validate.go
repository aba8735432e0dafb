package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newValidateCmd() *cobra.Command {
	var f recipeFlags
	cmd := &cobra.Command{
		Use:   "validate RECIPE",
		Short: "Check a recipe: syntax, references, variables and every plugin block against its plugin's schema and the plugin's own checks",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := loadRecipe(cmd.Context(), args[0], f, cmd.ErrOrStderr())
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			defer l.host.Close()
			diags := validatePlugins(cmd.Context(), l)
			printDiags(cmd.ErrOrStderr(), diags, l.recipe.Files)
			if diags.HasErrors() {
				return &exitError{code: 1, err: errReported}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s is valid: %d stages, %d plugins declared\n", args[0], len(l.recipe.Stages), len(l.recipe.Plugins))
			return nil
		},
	}
	addRecipeFlags(cmd, &f)
	return cmd
}
