package main

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	hclv2 "github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"

	"github.com/swelego/swelego/hcl"
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
			diags := append(validatePlugins(cmd.Context(), l), checkLanguages(cmd.Context(), l)...)
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

// checkLanguages checks that a plugin serves the language of every
// environment block (the default language for those that name none).
func checkLanguages(ctx context.Context, l *loaded) hclv2.Diagnostics {
	var diags hclv2.Diagnostics
	for _, b := range l.recipe.Blocks {
		env, ok := b.Settings.(*hcl.Environment)
		if b.Type != "environment" || !ok {
			continue
		}
		name := cmp.Or(env.Language, defaultLanguage)
		if _, err := l.host.FindLanguage(ctx, name); err != nil {
			rng := l.recipe.AttrRange(b, "language")
			diags = append(diags, &hclv2.Diagnostic{
				Severity: hclv2.DiagError,
				Summary:  "Unknown language",
				Detail:   sentence(fmt.Sprintf("Environment %q: %s", b.Labels[0], err)),
				Subject:  &rng,
			})
		}
	}
	return diags
}

// sentence ends s with a full stop unless it ends with one, or with a
// question mark.
func sentence(s string) string {
	if strings.HasSuffix(s, ".") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}
