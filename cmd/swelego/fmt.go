package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aymanbagabas/go-udiff"
	hclv2 "github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"

	"github.com/swelego/swelego/hcl"
)

// Exit codes of swelego fmt, those of terraform fmt.
const (
	fmtExitSyntax      = 2 // a file has syntax errors; it was left as it is
	fmtExitUnformatted = 3 // --check found a file not in canonical layout
)

// stdinName names standard input in diagnostics.
const stdinName = "<stdin>"

// fmtOptions are swelego fmt's flags.
type fmtOptions struct {
	list, write, diff, check, recursive bool
}

func newFmtCmd() *cobra.Command {
	var o fmtOptions
	cmd := &cobra.Command{
		Use:   "fmt [flags] [TARGET...]",
		Short: "Rewrite recipes (.hcl files) in the canonical format",
		Long: `fmt rewrites the given .hcl files, or the .hcl files of the given folders
(default: the current folder; with --recursive, their subfolders too, except hidden
ones, testdata and runs), in the canonical layout, and lists the files it changed.
A TARGET of "-" reads a recipe from standard input and writes it formatted to standard
output.

A file with syntax errors is never changed: fmt prints the errors with file:line:col
and goes on with the other files. Exit status: 0 when every file could be formatted,
1 for a usage or I/O error, 2 when a file has syntax errors, 3 when --check found a
file that is not formatted (as terraform fmt).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"."}
			}
			return runFmt(cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr(), args, o)
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&o.list, "list", true, "list the files whose formatting changed")
	fs.BoolVar(&o.write, "write", true, "write the result to the file (false with --check and for standard input)")
	fs.BoolVar(&o.diff, "diff", false, "print a unified diff of the changes")
	fs.BoolVar(&o.check, "check", false, "change nothing; exit 3 when a file is not formatted, listing it")
	fs.BoolVar(&o.recursive, "recursive", false, "also format the .hcl files of subfolders")
	return cmd
}

// runFmt formats every target and returns the error that sets the exit
// status: syntax errors before unformatted files.
func runFmt(stdin io.Reader, stdout, stderr io.Writer, targets []string, o fmtOptions) error {
	if o.check {
		o.write = false
	}
	var syntax, unformatted []string
	for _, target := range targets {
		if target == "-" {
			ok, bad, err := fmtStdin(stdin, stdout, stderr, o)
			if err != nil {
				return err
			}
			if bad {
				syntax = append(syntax, stdinName)
			} else if !ok {
				unformatted = append(unformatted, stdinName)
			}
			continue
		}
		files, err := hclFiles(target, o.recursive)
		if err != nil {
			return err
		}
		for _, p := range files {
			ok, bad, err := fmtFile(p, stdout, stderr, o)
			if err != nil {
				return err
			}
			if bad {
				syntax = append(syntax, p)
			} else if !ok {
				unformatted = append(unformatted, p)
			}
		}
	}
	if len(syntax) > 0 {
		return &exitError{code: fmtExitSyntax, err: fmt.Errorf("left unchanged because of syntax errors: %s", strings.Join(syntax, ", "))}
	}
	if o.check && len(unformatted) > 0 {
		return &exitError{code: fmtExitUnformatted, err: fmt.Errorf("%d file(s) not formatted", len(unformatted))}
	}
	return nil
}

// fmtFile formats the file at p. formatted is true when it already was;
// syntaxErr when it has syntax errors, printed to stderr.
func fmtFile(p string, stdout, stderr io.Writer, o fmtOptions) (formatted, syntaxErr bool, err error) {
	src, err := os.ReadFile(p)
	if err != nil {
		return false, false, err
	}
	out, ok := formatOrReport(p, src, stderr)
	if !ok {
		return false, true, nil
	}
	if bytes.Equal(src, out) {
		return true, false, nil
	}
	if o.list {
		fmt.Fprintln(stdout, p)
	}
	if o.write {
		if err := writeInPlace(p, out); err != nil {
			return false, false, err
		}
	}
	if o.diff {
		io.WriteString(stdout, fmtDiff(p, src, out))
	}
	return false, false, nil
}

// fmtStdin formats standard input onto stdout (only the diff with --diff,
// nothing with --check).
func fmtStdin(stdin io.Reader, stdout, stderr io.Writer, o fmtOptions) (formatted, syntaxErr bool, err error) {
	src, err := io.ReadAll(stdin)
	if err != nil {
		return false, false, fmt.Errorf("read standard input: %w", err)
	}
	out, ok := formatOrReport(stdinName, src, stderr)
	if !ok {
		return false, true, nil
	}
	switch {
	case o.diff:
		io.WriteString(stdout, fmtDiff(stdinName, src, out))
	case !o.check:
		stdout.Write(out)
	}
	return bytes.Equal(src, out), false, nil
}

// formatOrReport formats src, or prints why it cannot.
func formatOrReport(name string, src []byte, stderr io.Writer) ([]byte, bool) {
	out, file, diags := hcl.FormatFile(name, src)
	if diags.HasErrors() {
		hcl.WriteDiagnostics(stderr, diags, map[string]*hclv2.File{name: file})
		return nil, false
	}
	return out, true
}

// fmtDiff is the unified diff from src to out, labelled as terraform fmt
// labels its diffs.
func fmtDiff(name string, src, out []byte) string {
	return udiff.Unified("old/"+name, "new/"+name, string(src), string(out))
}

// writeInPlace replaces the file's content, keeping its mode: a temporary
// file renamed over it (over the file a symbolic link leads to), so an
// interrupted write leaves the old file.
func writeInPlace(p string, data []byte) error {
	p, err := filepath.EvalSymlinks(p)
	if err != nil {
		return err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".fmt-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(fi.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}

// hclFiles lists the .hcl files of root: root itself when it is a file,
// else its .hcl files, and with recursive those of its subfolders, except
// hidden folders, testdata (fixtures, often broken on purpose) and runs.
func hclFiles(root string, recursive bool) ([]string, error) {
	fi, err := os.Stat(root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no file or folder at %s", root)
		}
		return nil, err
	}
	if !fi.IsDir() {
		return []string{root}, nil
	}
	var out []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root {
			if !recursive || strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "runs" {
				return filepath.SkipDir
			}
		}
		if d.Type().IsRegular() && strings.HasSuffix(p, ".hcl") {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}
