package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/eval"
	"github.com/sigc-project/sigc/eval/logs"
)

type evalFlags struct {
	logs       []string
	pipelines  []string
	format     string
	noEventLog bool
	failFast   bool
}

func newEval() *cobra.Command {
	f := &evalFlags{}
	cmd := &cobra.Command{
		Use:   "eval --logs FILE [--logs FILE]... PATH...",
		Short: "Run Sigma rules over sample logs and print the matches as JSON Lines",
		Long: "Run every rule over the logs and print one JSON line per match:\n" +
			`{"rule_id": …, "title": …, "event": …, "file": …, "line": N}` + "\n" +
			"Logs may be JSON Lines, concatenated JSON objects, a JSON array, key=value lines or CSV\n" +
			"with a header row, optionally gzip-compressed; - reads standard input.\n" +
			"Exit status is 0 whether or not anything matched, non-zero on errors.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runEval(cmd, f, args) },
	}
	cmd.Flags().StringArrayVar(&f.logs, "logs", nil, "log file to evaluate (repeatable; - for stdin)")
	cmd.Flags().StringArrayVarP(&f.pipelines, "pipeline", "p", nil, "processing pipeline file (repeatable)")
	cmd.Flags().StringVar(&f.format, "format", "auto", "log format: "+strings.Join(logs.Formats, ", "))
	cmd.Flags().BoolVar(&f.noEventLog, "no-eventlog-mapping", false, "do not add flat field names to Windows EventLog JSON records")
	cmd.Flags().BoolVar(&f.failFast, "fail-fast", false, "stop at the first error")
	cmd.MarkFlagRequired("logs")
	return cmd
}

type matchLine struct {
	RuleID string          `json:"rule_id"`
	Title  string          `json:"title"`
	Event  json.RawMessage `json:"event"`
	File   string          `json:"file"`
	Line   int             `json:"line"`
}

func ruleID(r *ir.Rule) string {
	if r.ID != "" {
		return r.ID
	}
	return r.Name
}

func runEval(cmd *cobra.Command, f *evalFlags, args []string) error {
	stderr := cmd.ErrOrStderr()
	rep := &reporter{w: stderr}
	for _, l := range f.logs {
		if l == "-" {
			for _, a := range args {
				if a == "-" {
					fmt.Fprintln(stderr, "sigc: error: standard input cannot hold both rules and logs")
					return exitError{2}
				}
			}
		}
	}
	ld, err := loadRules(args, f.pipelines, cmd.InOrStdin(), rep, f.failFast)
	if err != nil {
		return err
	}
	var rules []*ir.Rule
	for _, res := range ld.results {
		rep.report(res.Diags...)
		if res.Rule != nil {
			rules = append(rules, res.Rule)
		} else if f.failFast {
			return exitError{1}
		}
	}
	engine, err := eval.New(rules)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return exitError{1}
	}
	out := bufio.NewWriterSize(cmd.OutOrStdout(), 64<<10)
	defer out.Flush()
	opts := eval.Options{EventLog: !f.noEventLog}
	var compact bytes.Buffer
	for _, path := range f.logs {
		r, closer, err := logs.Open(path, f.format, cmd.InOrStdin())
		if err != nil {
			fmt.Fprintln(stderr, err)
			rep.errors++
			if f.failFast {
				return exitError{1}
			}
			continue
		}
		name := path
		if path == "-" {
			name = "<stdin>"
		}
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			var re *logs.RecordError
			if errors.As(err, &re) {
				fmt.Fprintln(stderr, re.Error())
				rep.errors++
				if f.failFast {
					closer.Close()
					return exitError{1}
				}
				continue
			}
			if err != nil {
				fmt.Fprintf(stderr, "%s: error: %v\n", name, err)
				rep.errors++
				break
			}
			ev := eval.Prepare(rec.Fields, opts)
			var matched []*eval.Rule
			engine.Each(ev, func(m *eval.Rule) { matched = append(matched, m) })
			if len(matched) == 0 {
				continue
			}
			compact.Reset()
			if json.Compact(&compact, rec.Raw) != nil {
				compact.Reset()
				compact.Write(rec.Raw)
			}
			for _, m := range matched {
				b, _ := json.Marshal(matchLine{RuleID: ruleID(m.IR), Title: m.IR.Title, Event: compact.Bytes(), File: name, Line: rec.Line})
				out.Write(b)
				out.WriteByte('\n')
			}
		}
		closer.Close()
	}
	if rep.errors > 0 {
		out.Flush()
		fmt.Fprintf(stderr, "sigc: %d error(s)\n", rep.errors)
		return exitError{1}
	}
	return nil
}
