package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sigc-project/sigc/backends"
	"github.com/sigc-project/sigc/compiler"
	"github.com/sigc-project/sigc/compiler/pipeline"
)

func newPipeline() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pipeline",
		Short: "Show the built-in processing pipelines",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the built-in pipelines (as sigc list pipelines)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, name := range pipeline.Builtins() {
				fmt.Fprintf(cmd.OutOrStdout(), "%-20s %s\n", name, pipeline.BuiltinSummary(name))
			}
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "show NAME",
		Short: "Print a built-in pipeline's YAML (a pySigma pipeline: copy it, edit it, pass it with -p)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, ok := pipeline.BuiltinSource(args[0])
			if !ok {
				fmt.Fprintf(cmd.ErrOrStderr(), "sigc: error: no built-in pipeline is called %q; `sigc list pipelines` shows them\n", args[0])
				return exitError{2}
			}
			_, err := cmd.OutOrStdout().Write(src)
			return err
		},
	})
	return cmd
}

func newList() *cobra.Command {
	return &cobra.Command{
		Use:   "list targets|modifiers|pipelines",
		Short: "List the supported targets, Sigma modifiers or built-in pipelines",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("list what? say targets, modifiers or pipelines")
			}
			return nil
		},
		ValidArgs: []string{"targets", "modifiers", "pipelines"},
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			switch args[0] {
			case "targets":
				for _, b := range backends.All {
					fmt.Fprintf(w, "%-12s %s\n", b.Name(), b.Description())
				}
			case "modifiers":
				for _, m := range compiler.ModifierNames() {
					fmt.Fprintf(w, "%-14s %s\n", m, compiler.ModifierHelp[m])
				}
			case "pipelines":
				for _, name := range pipeline.Builtins() {
					fmt.Fprintf(w, "%-20s %s\n", name, pipeline.BuiltinSummary(name))
				}
			default:
				fmt.Fprintf(cmd.ErrOrStderr(), "sigc: error: unknown list %q; use targets, modifiers or pipelines\n", args[0])
				return exitError{2}
			}
			return nil
		},
	}
}
