package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sigc-project/sigc/backends"
	"github.com/sigc-project/sigc/compiler"
)

func newList() *cobra.Command {
	return &cobra.Command{
		Use:       "list targets|modifiers",
		Short:     "List the supported targets or Sigma modifiers",
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"targets", "modifiers"},
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
			default:
				fmt.Fprintf(cmd.ErrOrStderr(), "sigc: error: unknown list %q; use targets or modifiers\n", args[0])
				return exitError{2}
			}
			return nil
		},
	}
}
