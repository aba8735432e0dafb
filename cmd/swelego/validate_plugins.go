package main

import (
	"context"
	"fmt"
	"strings"

	hclv2 "github.com/hashicorp/hcl/v2"
)

// validatePlugins asks the plugin of every plugin configuration of the
// recipe to check it (sdk.ConfigValidator) and returns what they found as
// diagnostics at the attributes their paths name. A plugin that cannot be
// asked is an error at its block.
func validatePlugins(ctx context.Context, l *loaded) hclv2.Diagnostics {
	var diags hclv2.Diagnostics
	for _, pc := range l.recipe.PluginConfigs() {
		found, err := l.host.ValidateConfig(ctx, pc.Plugin, pc.Kind, pc.Config)
		if err != nil {
			rng := pc.Range
			diags = append(diags, &hclv2.Diagnostic{
				Severity: hclv2.DiagError,
				Summary:  "Failed to validate plugin configuration",
				Detail:   fmt.Sprintf("Plugin %q could not check its %s configuration: %s.", pc.Plugin, pc.Kind, strings.TrimSuffix(err.Error(), ".")),
				Subject:  &rng,
			})
			continue
		}
		for _, d := range found {
			diags = append(diags, pc.Diagnostic(d))
		}
	}
	return diags
}
