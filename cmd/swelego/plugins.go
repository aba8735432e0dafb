package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/swelego/swelego/core/pluginhost"
	"github.com/swelego/swelego/hcl"
	"github.com/swelego/swelego/sdk"
)

func newPluginsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "plugins", Short: "List, describe and lock plugins"}
	cmd.AddCommand(newPluginsListCmd(), newPluginsDescribeCmd(), newPluginsLockCmd())
	return cmd
}

func cwdHost() (*pluginhost.Host, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	return newHostIn(dir, nil, nil, false)
}

func newPluginsListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the plugins found on the search path and built into swelego",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			host, err := cwdHost()
			if err != nil {
				return err
			}
			defer host.Close()
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tKINDS\tFROM")
			for _, loc := range host.Discover() {
				from := loc.Path
				if loc.Builtin {
					from = "built in"
				}
				info, err := host.Info(cmd.Context(), loc.Name)
				if err != nil {
					fmt.Fprintf(tw, "%s\t?\t(error: %v)\t%s\n", loc.Name, err, from)
					continue
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", loc.Name, info.Version, kindList(info.Kinds), from)
			}
			return tw.Flush()
		},
	}
}

func kindList(kinds []sdk.Kind) string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ",")
}

func newPluginsDescribeCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "describe NAME",
		Short: "Show a plugin's version, kinds and configuration schema",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			host, err := cwdHost()
			if err != nil {
				return err
			}
			defer host.Close()
			ctx := cmd.Context()
			loc, err := host.Locate(args[0])
			if err != nil {
				return err
			}
			info, err := host.Info(ctx, args[0])
			if err != nil {
				return err
			}
			schemas := map[sdk.Kind]sdk.Schema{}
			for _, k := range info.Kinds {
				s, err := host.ConfigSchema(ctx, args[0], k)
				if err != nil {
					return err
				}
				schemas[k] = s
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"info": info, "location": loc, "schemas": schemas})
			}
			fmt.Fprintf(out, "%s %s — %s\n  from: %s\n  protocol versions: %v\n", info.Name, info.Version, info.Description, loc, info.ProtocolVersions)
			for _, k := range info.Kinds {
				fmt.Fprintf(out, "\n  %s configuration:\n", k)
				writeSchema(out, schemas[k], "    ")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func writeSchema(w interface{ Write([]byte) (int, error) }, s sdk.Schema, indent string) {
	if len(s.Attributes) == 0 && len(s.Blocks) == 0 {
		fmt.Fprintf(w, "%s(no settings)\n", indent)
	}
	names := make([]string, 0, len(s.Attributes))
	for n := range s.Attributes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a := s.Attributes[n]
		t, err := hcl.TypeName(a.Type)
		if err != nil {
			raw, _ := json.Marshal(a.Type)
			t = fmt.Sprintf("%s (unusable: %v)", raw, err)
		}
		extra := ""
		if a.Required {
			extra = " (required)"
		}
		if def, err := hcl.DefaultLiteral(a); err != nil {
			extra += fmt.Sprintf(" (unusable default: %v)", err)
		} else if def != "" {
			extra += " = " + strings.Join(strings.Fields(def), " ")
		}
		fmt.Fprintf(w, "%s%s %s%s — %s\n", indent, n, t, extra, a.Description)
	}
	blocks := make([]string, 0, len(s.Blocks))
	for n := range s.Blocks {
		blocks = append(blocks, n)
	}
	sort.Strings(blocks)
	for _, n := range blocks {
		b := s.Blocks[n]
		fmt.Fprintf(w, "%sblock %s (%s) — %s\n", indent, n, b.Nesting, b.Description)
		writeSchema(w, b.Schema, indent+"  ")
	}
}

func newPluginsLockCmd() *cobra.Command {
	var f recipeFlags
	cmd := &cobra.Command{
		Use:   "lock RECIPE",
		Short: "Record the SHA-256 of every plugin binary a recipe uses in " + pluginhost.LockFileName,
		Long:  "lock starts every plugin the recipe uses and records its binary's SHA-256 in the lock file beside the recipe. Checksums already recorded are checked, unless --update re-records them (after rebuilding or upgrading a plugin on purpose).",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := loadRecipe(cmd.Context(), args[0], f, cmd.ErrOrStderr())
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			defer l.host.Close()
			fmt.Fprintf(cmd.OutOrStdout(), "plugins of %s checked and recorded in %s\n", args[0], pluginhost.LockFileName)
			return nil
		},
	}
	addRecipeFlags(cmd, &f)
	cmd.Flags().BoolVar(&f.updateLock, "update", false, "re-record checksums instead of checking them")
	return cmd
}
