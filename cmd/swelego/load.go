package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	hclv2 "github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"

	"github.com/swelego/swelego/core/pluginhost"
	"github.com/swelego/swelego/hcl"
)

// recipeFlags are the flags every command that loads a recipe takes.
type recipeFlags struct {
	vars       []string
	varFiles   []string
	updateLock bool
}

// loaded is a decoded recipe with the plugin host that served its schemas.
type loaded struct {
	recipe *hcl.Recipe
	host   *pluginhost.Host
}

// loadRecipe decodes the recipe at path, starting the plugins it names to
// check their blocks against the schemas they serve. Diagnostics are
// printed to stderr; an error means the recipe is not usable. The caller
// closes the host.
func loadRecipe(ctx context.Context, path string, f recipeFlags, stderr io.Writer) (*loaded, error) {
	opts := hcl.Options{Vars: f.vars, VarFiles: f.varFiles, Environ: os.Environ()}
	// A first pass without plugins finds the recipe's plugin blocks, which
	// say where the plugins come from; the second pass decodes every block.
	first, diags := hcl.Load(ctx, path, opts)
	if first == nil {
		printDiags(stderr, diags, nil)
		return nil, errReported
	}
	host, err := newHost(first, f.updateLock)
	if err != nil {
		return nil, err
	}
	opts.Schemas = host
	rec, diags := hcl.Load(ctx, path, opts)
	files := map[string]*hclv2.File(nil)
	if rec != nil {
		files = rec.Files
	}
	printDiags(stderr, diags, files)
	if diags.HasErrors() {
		host.Close()
		return nil, errReported
	}
	return &loaded{recipe: rec, host: host}, nil
}

// newHost makes the plugin host for a recipe: plugin blocks, lock file
// and working directory come from it.
func newHost(rec *hcl.Recipe, updateLock bool) (*pluginhost.Host, error) {
	decls := map[string]pluginhost.Decl{}
	for name, d := range rec.Plugins {
		decls[name] = pluginhost.Decl{Source: d.Source, Version: d.Version}
	}
	lock, err := pluginhost.ReadLock(filepath.Join(rec.Dir, pluginhost.LockFileName))
	if err != nil {
		return nil, err
	}
	return newHostIn(rec.Dir, decls, lock, updateLock)
}

// newHostIn makes a plugin host whose plugins run in dir.
func newHostIn(dir string, decls map[string]pluginhost.Decl, lock *pluginhost.Lock, updateLock bool) (*pluginhost.Host, error) {
	return pluginhost.New(pluginhost.Options{
		Dir:        dir,
		SearchPath: pluginhost.DefaultSearchPath(os.Getenv, dir),
		Decls:      decls,
		Builtins:   builtins,
		Lock:       lock,
		UpdateLock: updateLock,
		Reattach:   os.Getenv("SWELEGO_REATTACH_PLUGINS"),
		Logger:     newLogger(),
		// A slow machine may need longer than pluginhost.DefaultStartTimeout.
		StartTimeout: startTimeout(os.Getenv("SWELEGO_PLUGIN_START_TIMEOUT")),
	})
}

// startTimeout reads SWELEGO_PLUGIN_START_TIMEOUT (a Go duration such as
// 30s); zero, the host's default, when unset or not a positive duration.
func startTimeout(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0
	}
	return d
}

// newLogger is the host's logger: warnings and errors on stderr, more with
// SWELEGO_LOG=debug|info|trace.
func newLogger() hclog.Logger {
	level := hclog.LevelFromString(os.Getenv("SWELEGO_LOG"))
	if level == hclog.NoLevel {
		level = hclog.Warn
	}
	return hclog.New(&hclog.LoggerOptions{Name: "swelego", Level: level, Output: os.Stderr})
}

func printDiags(w io.Writer, diags hclv2.Diagnostics, files map[string]*hclv2.File) {
	if len(diags) == 0 {
		return
	}
	hcl.WriteDiagnostics(w, diags, files)
}

// normalizeArgs lets Terraform-style single-dash flags through to the
// flag parser: -var k=v and -var-file F mean --var and --var-file, and fmt's
// -check, -diff, -recursive, -list=false and -write=false its --flags.
func normalizeArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		for _, name := range []string{"-var", "-var-file", "-check", "-diff", "-recursive", "-list", "-write"} {
			if a == name || strings.HasPrefix(a, name+"=") {
				a = "-" + a
				break
			}
		}
		out[i] = a
	}
	return out
}

func addRecipeFlags(cmd *cobra.Command, f *recipeFlags) {
	fs := cmd.Flags()
	fs.StringArrayVar(&f.vars, "var", nil, "set a variable: -var name=value (repeatable)")
	fs.StringArrayVar(&f.varFiles, "var-file", nil, "read variables from an HCL file (repeatable)")
}
