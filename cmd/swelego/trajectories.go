package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/llm"
	"github.com/swelego/swelego/core/trajfmt"
	"github.com/swelego/swelego/sdk"
)

func newTrajectoriesCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "trajectories",
		Short: "Export trajectories for training (LLaMA-Factory ShareGPT, OpenHands text calls) and import them back",
	}
	root.AddCommand(newTrajExportCmd(), newTrajImportCmd())
	return root
}

// trajFlags are the format options export and import share.
type trajFlags struct {
	style, callFormat, obsRole, toolset string
}

func (f *trajFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.style, "style", "sharegpt", "record style: sharegpt (LLaMA-Factory) or openhands")
	cmd.Flags().StringVar(&f.callFormat, "call-format", "openhands", "how tool calls are written in assistant text: openhands or qwen")
	cmd.Flags().StringVar(&f.obsRole, "observation-role", "user", "role of tool results in sharegpt records: user, tool or observation")
	cmd.Flags().StringVar(&f.toolset, "toolset", "swetools", "built-in tool-set plugin whose tool descriptions go into the system prompt")
}

func (f *trajFlags) options(ctx context.Context) (trajfmt.Options, error) {
	opts := trajfmt.Options{Style: trajfmt.Style(f.style), ObservationRole: f.obsRole}
	switch opts.Style {
	case trajfmt.ShareGPT, trajfmt.OpenHands:
	default:
		return opts, fmt.Errorf("--style %q: want sharegpt or openhands", f.style)
	}
	cf, err := llm.ParseFormat(f.callFormat)
	if err != nil || cf == llm.FormatNative {
		return opts, fmt.Errorf("--call-format %q: want openhands or qwen", f.callFormat)
	}
	opts.CallFormat = cf
	if f.toolset != "" {
		newPlugin, ok := builtins[f.toolset]
		if !ok || newPlugin().ToolSet == nil {
			return opts, fmt.Errorf("--toolset %q is not a built-in tool set", f.toolset)
		}
		if opts.Tools, err = newPlugin().ToolSet.Tools(ctx, nil); err != nil {
			return opts, fmt.Errorf("--toolset %s: %w", f.toolset, err)
		}
	}
	return opts, nil
}

func newTrajExportCmd() *cobra.Command {
	var (
		flags        trajFlags
		out, info    string
		name         string
		onlyResolved bool
	)
	cmd := &cobra.Command{
		Use:   "export [flags] TRAJECTORIES.jsonl...",
		Short: "Write trajectories as training records",
		Long: `export reads swelego trajectories (a rollout stage's trajectories.jsonl) and writes
one training record per trajectory: LLaMA-Factory ShareGPT in OpenAI message style
(messages with turn_mask on masked assistant turns) or OpenHands' text function-call
messages. With --dataset-info, the file's entry is added to LLaMA-Factory's
dataset_info.json. Records with status error (an attempt or a grade that failed) are
not training data: they are skipped and counted. A record that is not a trajectory is
an error, and so is an export left with no trajectory.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			opts, err := flags.options(ctx)
			if err != nil {
				return err
			}
			trajs, skipped, err := readExportable(args, onlyResolved)
			if err != nil {
				return err
			}
			if len(trajs) == 0 {
				return fmt.Errorf("no trajectories to export%s", skipped.String())
			}
			if err := writeOut(out, cmd.OutOrStdout(), func(w io.Writer) error { return trajfmt.Export(ctx, w, trajs, opts) }); err != nil {
				return err
			}
			if info != "" {
				if out == "" || out == "-" {
					return fmt.Errorf("--dataset-info needs --out: the entry names the exported file")
				}
				if name == "" {
					name = trimExt(filepath.Base(out))
				}
				rel, err := filepath.Rel(filepath.Dir(info), out)
				if err != nil {
					rel = out
				}
				entry, err := trajfmt.DatasetInfo(rel, opts)
				if err != nil {
					return err
				}
				if err := trajfmt.WriteDatasetInfo(info, name, entry); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "exported %d trajectories (%s, %s calls)%s\n", len(trajs), opts.Style, opts.CallFormat, skipped.String())
			return nil
		},
	}
	flags.add(cmd)
	cmd.Flags().StringVarP(&out, "out", "o", "", "output file (default: standard output)")
	cmd.Flags().StringVar(&info, "dataset-info", "", "LLaMA-Factory dataset_info.json to add the export's entry to")
	cmd.Flags().StringVar(&name, "dataset-name", "", "name of the dataset_info entry (default: the output file's name)")
	cmd.Flags().BoolVar(&onlyResolved, "only-resolved", false, "export resolved trajectories only")
	return cmd
}

// exportSkips counts the records export leaves out.
type exportSkips struct{ errored, unresolved int }

func (s exportSkips) String() string {
	var parts []string
	if s.errored > 0 {
		parts = append(parts, fmt.Sprintf("%d with status error (the attempt or its grading failed: not training data)", s.errored))
	}
	if s.unresolved > 0 {
		parts = append(parts, fmt.Sprintf("%d not resolved (--only-resolved)", s.unresolved))
	}
	if len(parts) == 0 {
		return ""
	}
	return "; skipped " + strings.Join(parts, ", ")
}

// readExportable reads the trajectories of paths that are training data:
// not those with status error (skipped and counted), and with
// onlyResolved only resolved ones. A record that is not a swelego
// trajectory (no instance_id or no messages: a task, a result, a
// ShareGPT record) is an error naming its file and line.
func readExportable(paths []string, onlyResolved bool) ([]sdk.Trajectory, exportSkips, error) {
	var trajs []sdk.Trajectory
	var skipped exportSkips
	for _, path := range paths {
		err := engine.ReadRecords(path, func(line int, raw json.RawMessage) error {
			var tr sdk.Trajectory
			if err := json.Unmarshal(raw, &tr); err != nil {
				return fmt.Errorf("%s:%d: not a swelego trajectory: %w", path, line, err)
			}
			switch {
			case tr.Status == sdk.StatusError:
				skipped.errored++
			case tr.InstanceID == "" || len(tr.Messages) == 0:
				return fmt.Errorf("%s:%d: not a swelego trajectory (it has no instance_id or no messages); export reads a rollout stage's trajectories.jsonl", path, line)
			case onlyResolved && tr.Status != sdk.StatusResolved:
				skipped.unresolved++
			default:
				trajs = append(trajs, tr)
			}
			return nil
		})
		if err != nil {
			return nil, skipped, err
		}
	}
	return trajs, skipped, nil
}

func newTrajImportCmd() *cobra.Command {
	var (
		flags trajFlags
		out   string
	)
	cmd := &cobra.Command{
		Use:   "import [flags] RECORDS.jsonl",
		Short: "Read training records (ShareGPT or OpenHands text calls) back into swelego trajectories",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			opts, err := flags.options(ctx)
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			trajs, err := trajfmt.Import(ctx, f, args[0], opts)
			if err != nil {
				return err
			}
			err = writeOut(out, cmd.OutOrStdout(), func(w io.Writer) error {
				enc := json.NewEncoder(w)
				enc.SetEscapeHTML(false)
				for _, tr := range trajs {
					if err := enc.Encode(tr); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "imported %d trajectories\n", len(trajs))
			return nil
		},
	}
	flags.add(cmd)
	cmd.Flags().StringVarP(&out, "out", "o", "", "output file (default: standard output)")
	return cmd
}

// writeOut writes through fn to path atomically, or to stdout for "" and
// "-".
func writeOut(path string, stdout io.Writer, fn func(io.Writer) error) error {
	if path == "" || path == "-" {
		w := bufio.NewWriter(stdout)
		if err := fn(w); err != nil {
			return err
		}
		return w.Flush()
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := fn(w); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

func trimExt(name string) string { return name[:len(name)-len(filepath.Ext(name))] }
