package main

import (
	"cmp"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/swelego/swelego/core/engine"
	"github.com/swelego/swelego/core/envimage"
	"github.com/swelego/swelego/core/pipeline"
	"github.com/swelego/swelego/core/taskenv"
	"github.com/swelego/swelego/hcl"
)

func newImageCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Build the sandboxes' base images"}
	var (
		languages []string
		release   string
		recipe    string
	)
	build := &cobra.Command{
		Use:   "build",
		Short: "Build base images with debootstrap and import them into Docker",
		Long: `build makes the root file system of each base image with debootstrap (Debian's
minimal variant plus the language's packages), keeps it for the bwrap backend and
imports it into Docker with docker import — no registry is needed. Images are cached by
a hash of their inputs, so building again does nothing. With --recipe, the base image
of every environment block is built too. Per-repository environment images are built
on first use by eval and run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			host, err := cwdHost()
			if err != nil {
				return err
			}
			type want struct {
				language, release string
				packages          []string
			}
			var wants []want
			for _, l := range languages {
				wants = append(wants, want{language: l, release: release})
			}
			if recipe != "" {
				rec, diags := hcl.Load(ctx, recipe, hcl.Options{Environ: os.Environ()})
				if diags.HasErrors() {
					printDiags(cmd.ErrOrStderr(), diags, rec.Files)
					return errReported
				}
				host.Close()
				if host, err = newHost(rec, false); err != nil {
					return err
				}
				for _, e := range pipeline.EnvironmentsOf(rec) {
					wants = append(wants, want{language: cmp.Or(e.Language, defaultLanguage), release: cmp.Or(e.Release, release), packages: e.Packages})
				}
			}
			defer host.Close()
			specs := []envimage.BaseSpec{}
			for _, w := range wants {
				l, err := host.FindLanguage(ctx, w.language)
				if err != nil {
					return fmt.Errorf("build %s base image: %w", w.language, err)
				}
				specs = append(specs, envimage.BaseSpec{Release: w.release, Name: l.Spec.Name, Image: l.Spec.Image, Packages: w.packages})
			}
			store := filepath.Join(taskenv.DefaultStore(), "images")
			seen := map[string]bool{}
			for _, s := range specs {
				key := fmt.Sprint(s)
				if seen[key] {
					continue
				}
				seen[key] = true
				img, err := envimage.BuildBase(envimage.LogSteps(ctx, slog.New(engine.NewLogHandler(cmd.ErrOrStderr(), logFormat, slog.LevelInfo))), s, store)
				if err != nil {
					return fmt.Errorf("build %s base image: %w", s.Name, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\n", img.Name, img.RootFS)
			}
			return nil
		},
	}
	build.Flags().StringArrayVar(&languages, "language", []string{"python", "go"}, "language whose base image to build (repeatable): any a plugin serves")
	build.Flags().StringVar(&release, "release", envimage.DefaultRelease, "Debian release")
	build.Flags().StringVar(&recipe, "recipe", "", "also build the base image of each of this recipe's environments")
	cmd.AddCommand(build)
	return cmd
}
