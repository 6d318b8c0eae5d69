package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sigc-project/sigc/compiler"
	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/eval"
	"github.com/sigc-project/sigc/eval/logs"
)

type evalFlags struct {
	logs       []string
	pipelines  []string
	unmapped   string
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
		Args: needPaths,
		RunE: func(cmd *cobra.Command, args []string) error { return runEval(cmd, f, args) },
	}
	cmd.Flags().StringArrayVar(&f.logs, "logs", nil, "log file to evaluate (repeatable; - for stdin)")
	cmd.Flags().StringVar(&f.unmapped, "unmapped", "auto", "fields the pipeline does not map: auto (the pipeline decides: its strict_field_mapping_failure refuses them, else they stay), keep, drop (with a warning) or error")
	cmd.Flags().StringArrayVarP(&f.pipelines, "pipeline", "p", nil, "processing pipeline: a built-in name, a pySigma pipeline file or a directory (repeatable; applied by priority, then by name)")
	cmd.Flags().StringVar(&f.format, "format", "auto", "log format: "+strings.Join(logs.Formats, ", "))
	cmd.Flags().StringVar(&f.timeField, "time-field", "", "event time field for correlations (default: first of "+strings.Join(eval.TimeFields[:6], ", ")+", …)")
	cmd.Flags().DurationVar(&f.lateness, "lateness", 0, "keep correlation windows open this much longer for events that arrive out of time order")
	cmd.Flags().BoolVar(&f.noEventLog, "no-eventlog-mapping", false, "do not add flat field names to Windows EventLog JSON records")
	cmd.Flags().BoolVar(&f.failFast, "fail-fast", false, "stop at the first error")
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
	// Usage errors first, once, before any file is read.
	if !slices.Contains(logs.Formats, f.format) {
		fmt.Fprintf(stderr, "sigc: error: unknown log format %q for --format; use one of %s\n", f.format, strings.Join(logs.Formats, ", "))
		return exitError{2}
	}
	if len(f.logs) == 0 {
		fmt.Fprintln(stderr, "sigc: error: eval needs log files: --logs FILE (repeatable; - for standard input)")
		return exitError{2}
	}
	if f.lateness < 0 {
		fmt.Fprintln(stderr, "sigc: error: --lateness is negative; give how much longer windows stay open, such as 30m")
		return exitError{2}
	}
	if cmd.Flags().Changed("time-field") && f.timeField == "" {
		fmt.Fprintln(stderr, "sigc: error: --time-field needs a field name; leave it out to try the usual time fields")
		return exitError{2}
	}
	for _, l := range f.logs {
		if l == "-" && slices.Contains(args, "-") {
			fmt.Fprintln(stderr, "sigc: error: standard input cannot hold both rules and logs")
			return exitError{2}
		}
	}
	policy, ok := compiler.ParseUnmapped(f.unmapped)
	if !ok {
		fmt.Fprintf(stderr, "sigc: error: --unmapped %q: choose auto, keep, drop or error\n", f.unmapped)
		return exitError{2}
	}
	rep := &reporter{w: stderr}
	ld, err := loadRules(args, f.pipelines, "", policy, cmd.InOrStdin(), rep, f.failFast)
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
	if len(rules) == 0 && rep.errors == 0 {
		fmt.Fprintf(stderr, "sigc: warning: no rules to evaluate in %s\n", strings.Join(args, ", "))
	}
	engine, err := eval.New(rules)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return exitError{1}
	}

	out := &lineOutput{w: cmd.OutOrStdout()}
	// SIGINT and SIGTERM end the run at once, even while it waits for
	// input: the complete lines are written, then it exits 130. A timer
	// hands waiting lines on, so a reader of a pipe sees matches as they
	// come, whatever follows them.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	done := make(chan struct{})
	defer close(done)
	go func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				out.flush()
			case <-signals:
				out.flush()
				fmt.Fprintln(stderr, "sigc: interrupted; the output ends with the last complete match, and open correlation windows were not reported")
				os.Exit(130)
			}
		}
	}()
	hideRule, hideCorr := eval.Suppressed(corrs)
	correlator := eval.NewCorrelator(corrs, f.timeField, func(fr *eval.Firing) {
		if !hideCorr[fr.Correlation] {
			out.line(fr.JSON())
		}
	})
	correlator.Lateness = f.lateness
	prep := eval.NewPreparer(eval.Options{EventLog: !f.noEventLog})
	var compact bytes.Buffer
	records := 0
files:
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
		name := logs.DisplayName(path)
		inFile, dups, firstDup := 0, 0, 0
		for {
			if out.failed() {
				closer.Close()
				break files
			}
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			var re *logs.RecordError
			if errors.As(err, &re) && re.Warning {
				fmt.Fprintln(stderr, re.Error())
				continue
			}
			if errors.As(err, &re) {
				fmt.Fprintln(stderr, re.Error())
				rep.errors++
				if f.failFast {
					closer.Close()
					out.flush()
					return exitError{1}
				}
				continue
			}
			if err != nil {
				fmt.Fprintf(stderr, "%s: error: %v\n", name, err)
				rep.errors++
				break
			}
			records++
			inFile++
			ev := prep.Prepare(rec)
			if prep.DuplicateKeys() > 0 {
				if dups == 0 {
					firstDup = rec.Line
				}
				dups++
			}
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
				out.line(eval.MarshalLine(matchLine{RuleID: eval.RuleID(m.IR.ID, m.IR.Name), Title: m.IR.Title, Event: compact.Bytes(), File: name, Line: rec.Line}))
			})
		}
		closer.Close()
		out.flush()
		if inFile == 0 {
			fmt.Fprintf(stderr, "%s: warning: no log records in this file\n", name)
		}
		if dups > 0 {
			fmt.Fprintf(stderr, "%s:%d:1: warning: %d record(s) repeat a JSON key, the first here; the last value of each key was used, as JSON parsers do\n", name, firstDup, dups)
		}
	}
	if !out.failed() {
		correlator.Close()
	}
	if err := out.flush(); err != nil {
		fmt.Fprintf(stderr, "sigc: error: cannot write the output: %v; the run stopped\n", err)
		return exitError{1}
	}
	if correlator.NoTime > 0 {
		if f.timeField != "" {
			fmt.Fprintf(stderr, "sigc: warning: %d matching event(s) had no readable time in the field %q and were left out of correlations; check the name given to --time-field\n", correlator.NoTime, f.timeField)
		} else {
			fmt.Fprintf(stderr, "sigc: warning: %d matching event(s) had no timestamp and were left out of correlations; name the field with --time-field\n", correlator.NoTime)
		}
	}
	if correlator.OutOfRange > 0 {
		fmt.Fprintf(stderr, "sigc: warning: %d matching event(s) had a timestamp before 1900 or after 2200 and were left out of correlations\n", correlator.OutOfRange)
	}
	if correlator.Late > 0 {
		fmt.Fprintf(stderr, "sigc: warning: %d event(s) arrived after their correlation window had closed and were left out; sort the logs by time or raise --lateness\n", correlator.Late)
	}
	if ld.pipeline == nil {
		fmt.Fprintf(stderr, "sigc: %d rule(s) and %d correlation(s) over %d record(s); logsource is not used to select events, every rule saw every record (-p windows, or your data's pipeline, scopes rules to their logsource)\n", len(rules), len(corrs), records)
	} else {
		fmt.Fprintf(stderr, "sigc: %d rule(s) and %d correlation(s) over %d record(s) through the pipeline %s (rules are scoped to their logsource only as far as it adds conditions for it)\n", len(rules), len(corrs), records, ld.pipeline.Name)
	}
	if s := ld.unmappedSummary(f.unmapped); s != "" {
		fmt.Fprintln(stderr, s)
	}
	if prep.EventLog > 0 {
		fmt.Fprintf(stderr, "sigc: %d record(s) were Windows EventLog JSON and also got the flat Sigma field names (EventID, Image, …); --no-eventlog-mapping turns this off, -p evtx_json maps rules to the records' own paths instead\n", prep.EventLog)
	}
	if rep.errors > 0 {
		fmt.Fprintf(stderr, "sigc: %d error(s)\n", rep.errors)
		return exitError{1}
	}
	return nil
}

// lineOutput writes whole lines only: it buffers them and hands the writer
// complete lines, so an interrupted run ends on a line boundary. The first
// write error is kept and stops the run. Lines are handed on when 64 KiB
// wait, or when flush is called (by a timer, at the end of each file, on
// a signal); a mutex keeps those apart.
type lineOutput struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
	err error
}

func (o *lineOutput) line(b []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return
	}
	o.buf = append(append(o.buf, b...), '\n')
	if len(o.buf) >= 64<<10 {
		o.flushLocked()
	}
}

func (o *lineOutput) flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.flushLocked()
}

func (o *lineOutput) flushLocked() error {
	if o.err == nil && len(o.buf) > 0 {
		_, o.err = o.w.Write(o.buf)
		o.buf = o.buf[:0]
	}
	return o.err
}

func (o *lineOutput) failed() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err != nil
}
