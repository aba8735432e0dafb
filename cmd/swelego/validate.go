package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/swelego/swelego/core/pipeline"
)

func newValidateCmd() *cobra.Command {
	var f recipeFlags
	cmd := &cobra.Command{
		Use:   "validate RECIPE",
		Short: "Check a recipe: syntax, references, variables and every plugin block against its plugin's schema",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := loadRecipe(cmd.Context(), args[0], f, cmd.ErrOrStderr())
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			defer l.host.Close()
			if err := checkLanguages(cmd.Context(), l); err != nil {
				return &exitError{code: 1, err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s is valid: %d stages, %d plugins declared\n", args[0], len(l.recipe.Stages), len(l.recipe.Plugins))
			return nil
		},
	}
	addRecipeFlags(cmd, &f)
	return cmd
}

// checkLanguages checks that a plugin serves the language of every
// environment block (the default language for those that name none).
func checkLanguages(ctx context.Context, l *loaded) error {
	var errs []error
	for _, e := range pipeline.EnvironmentsOf(l.recipe) {
		name := cmp.Or(e.Language, defaultLanguage)
		if _, err := l.host.FindLanguage(ctx, name); err != nil {
			errs = append(errs, fmt.Errorf("environment %q: %w", e.Name, err))
		}
	}
	return errors.Join(errs...)
}
