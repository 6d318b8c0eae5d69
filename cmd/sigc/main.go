// Command sigc compiles Sigma rules into SIEM queries and evaluates them
// over sample logs.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

// exitError carries an exit code without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func newRoot(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "sigc",
		Short:         "Compile Sigma rules to SIEM queries and verify them on sample logs",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newConvert(), newEval(), newList(), newPipeline(), newVersion())
	// No command is a usage error: the help goes to stderr, exit 2.
	root.RunE = func(cmd *cobra.Command, args []string) error {
		cmd.SetOut(stderr)
		cmd.Usage()
		return exitError{2}
	}
	return root
}

// needPaths says what a command missing its rule paths should be given.
func needPaths(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%s needs rule files or directories (or - for standard input); for example: sigc %s examples/serverless", cmd.Name(), cmd.Name())
	}
	return nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot(stdin, stdout, stderr)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		if e, ok := err.(exitError); ok {
			return e.code
		}
		fmt.Fprintf(stderr, "sigc: error: %v\n", err)
		return 2
	}
	return 0
}

func newVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the sigc version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "sigc %s\n", version)
			return nil
		},
	}
}
