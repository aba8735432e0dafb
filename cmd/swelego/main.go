// Command swelego builds executable software-engineering tasks, rolls out
// agents on them, fine-tunes models on the trajectories and scales
// test-time compute with verifiers, all driven by one HCL recipe.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
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
	}
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
