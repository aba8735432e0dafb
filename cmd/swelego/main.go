// Command swelego builds executable software-engineering tasks, rolls out
// agents on them, fine-tunes models on the trajectories and scales
// test-time compute with verifiers, all driven by one HCL recipe.
package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/sdk"
)

// version is set at release time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

// exitError carries a process exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// logFormat is --log-format: engine.LogAuto, LogText or LogJSON.
var logFormat = engine.LogAuto

// errReported marks a failure whose details were already printed.
var errReported = errors.New("reported")

func main() {
	root := newRootCmd()
	root.SetArgs(normalizeArgs(os.Args[1:]))
	err := root.Execute()
	if err == nil {
		return
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	if !errors.Is(err, errReported) {
		fmt.Fprintln(os.Stderr, "Error:", err)
	}
	os.Exit(code)
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "swelego",
		Short:         "Build SWE tasks, collect trajectories, fine-tune and verify — from one HCL recipe",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			if !slices.Contains(engine.LogFormats, logFormat) {
				near := ""
				if s := sdk.Closest(logFormat, engine.LogFormats); s != "" {
					near = fmt.Sprintf(" (did you mean %q?)", s)
				}
				return &exitError{code: 2, err: fmt.Errorf("--log-format %q: want one of %s%s", logFormat, strings.Join(engine.LogFormats, ", "), near)}
			}
			return nil
		},
	}
	root.PersistentFlags().StringVar(&logFormat, "log-format", engine.LogAuto,
		"logs as text (with progress bars and colour on a terminal) or JSON lines: auto (text on a terminal, else json), text or json")
	root.AddCommand(
		newRunCmd(),
		newValidateCmd(),
		newEvalCmd(),
		newServeCmd(),
		newTrajectoriesCmd(),
		newTTSCmd(),
		newImageCmd(),
		newFmtCmd(),
		newPluginsCmd(),
		newPluginCmd(),
		newStagesCmd(),
		newVersionCmd(),
		newWorkerCmd(),
		newReportCmd(), newShowCmd(),
	)
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print swelego's version and plugin protocol version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "swelego %s (plugin protocol %d)\n", version, pluginProtocol())
			return nil
		},
	}
}
