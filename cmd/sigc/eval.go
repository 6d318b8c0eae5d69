package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/eval"
	"github.com/sigc-project/sigc/eval/logs"
)

type evalFlags struct {
	logs       []string
	pipelines  []string
	format     string
	timeField  string
	lateness   time.Duration
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
			"and one per correlation firing (group and window):\n" +
			`{"rule_id": …, "title": …, "group": {…}, "aggregates": {…}, "window_start": …, "window_end": …, "first_seen": …, "last_seen": …, "events": N}` + "\n" +
			"Logs may be JSON Lines, concatenated JSON objects, a JSON array, key=value lines or CSV\n" +
			"with a header row, optionally gzip-compressed; - reads standard input.\n" +
			"Correlation windows are tumbling, aligned to multiples of the timespan since the Unix epoch (UTC).\n" +
			"Exit status is 0 whether or not anything matched, non-zero on errors.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runEval(cmd, f, args) },
	}
	cmd.Flags().StringArrayVar(&f.logs, "logs", nil, "log file to evaluate (repeatable; - for stdin)")
	cmd.Flags().StringArrayVarP(&f.pipelines, "pipeline", "p", nil, "processing pipeline file (repeatable)")
	cmd.Flags().StringVar(&f.format, "format", "auto", "log format: "+strings.Join(logs.Formats, ", "))
	cmd.Flags().StringVar(&f.timeField, "time-field", "", "event time field for correlations (default: first of "+strings.Join(eval.TimeFields[:6], ", ")+", …)")
	cmd.Flags().DurationVar(&f.lateness, "lateness", 0, "keep correlation windows open this much longer for events that arrive out of time order")
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
	var corrs []*ir.Correlation
	for _, res := range ld.correlations {
		rep.report(res.Diags...)
		if res.Correlation != nil {
			corrs = append(corrs, res.Correlation)
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
	hideRule, hideCorr := eval.Suppressed(corrs)
	correlator := eval.NewCorrelator(corrs, f.timeField, func(fr *eval.Firing) {
		if hideCorr[fr.Correlation] {
			return
		}
		out.Write(fr.JSON())
		out.WriteByte('\n')
	})
	correlator.Lateness = f.lateness
	prep := eval.NewPreparer(eval.Options{EventLog: !f.noEventLog})
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
			ev := prep.Prepare(rec)
			compacted := false
			engine.Each(ev, func(m *eval.Rule) {
				correlator.Add(m.IR, ev)
				if hideRule[m.IR] {
					return
				}
				if !compacted {
					compact.Reset()
					if json.Compact(&compact, rec.Raw) != nil {
						compact.Reset()
						compact.Write(rec.Raw)
					}
					compacted = true
				}
				b, _ := json.Marshal(matchLine{RuleID: eval.RuleID(m.IR.ID, m.IR.Name), Title: m.IR.Title, Event: compact.Bytes(), File: name, Line: rec.Line})
				out.Write(b)
				out.WriteByte('\n')
			})
		}
		closer.Close()
	}
	correlator.Close()
	if correlator.NoTime > 0 {
		fmt.Fprintf(stderr, "sigc: warning: %d matching event(s) had no timestamp and were left out of correlations; name the field with --time-field\n", correlator.NoTime)
	}
	if correlator.Late > 0 {
		fmt.Fprintf(stderr, "sigc: warning: %d event(s) arrived after their correlation window had closed and were left out; sort the logs by time or raise --lateness\n", correlator.Late)
	}
	if rep.errors > 0 {
		out.Flush()
		fmt.Fprintf(stderr, "sigc: %d error(s)\n", rep.errors)
		return exitError{1}
	}
	return nil
}
