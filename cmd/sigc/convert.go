package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sigc-project/sigc/backends"
	"github.com/sigc-project/sigc/compiler"
	"github.com/sigc-project/sigc/diag"
)

type convertFlags struct {
	target    string
	pipelines []string
	unmapped  string
	format    string
	output    string
	failFast  bool
}

// jsonRule is one line of `--format json`.
type jsonRule struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	File     string   `json:"file"`
	Target   string   `json:"target"`
	Query    string   `json:"query"`
	Queries  []string `json:"queries,omitempty"`
	Level    string   `json:"level,omitempty"`
	Tags     []string `json:"tags"`
	Fields   []string `json:"fields,omitempty"` // the rule's fields:, as the pipeline renamed them
	Warnings []string `json:"warnings"`
}

// maxQuerySize is the length past which a query gets a warning: every
// engine caps the length of a query it accepts.
const maxQuerySize = 1 << 20

func newConvert() *cobra.Command {
	f := &convertFlags{}
	cmd := &cobra.Command{
		Use:   "convert -t TARGET [-p PIPELINE]... [-f FORMAT] [-o FILE] PATH...",
		Short: "Convert Sigma rules into a target's query language",
		Long: "Convert Sigma rules (files, directories searched for *.yml and *.yaml, or - for stdin)\n" +
			"into queries for one target. Targets: " + strings.Join(backends.Names(), ", ") + ".",
		Args: needPaths,
		RunE: func(cmd *cobra.Command, args []string) error { return runConvert(cmd, f, args) },
	}
	cmd.Flags().StringVarP(&f.target, "target", "t", "", "target query language ("+strings.Join(backends.Names(), ", ")+")")
	cmd.Flags().StringVar(&f.unmapped, "unmapped", "auto", "fields the pipeline does not map: auto (the pipeline decides: its strict_field_mapping_failure refuses them, else they stay), keep, drop (with a warning) or error")
	cmd.Flags().StringArrayVarP(&f.pipelines, "pipeline", "p", nil, "processing pipeline: a built-in name (sigc list pipelines), a pySigma pipeline file or a directory of them (repeatable; applied by priority, then by name)")
	cmd.Flags().StringVarP(&f.format, "format", "f", "default", "output format: default or json")
	cmd.Flags().StringVarP(&f.output, "output", "o", "", "write to FILE instead of standard output (written only when complete)")
	cmd.Flags().BoolVar(&f.failFast, "fail-fast", false, "stop at the first rule that fails")
	return cmd
}

func runConvert(cmd *cobra.Command, f *convertFlags, args []string) error {
	stderr := cmd.ErrOrStderr()
	if f.target == "" {
		fmt.Fprintf(stderr, "sigc: error: convert needs a target: -t %s\n", strings.Join(backends.Names(), " or -t "))
		return exitError{2}
	}
	if cmd.Flags().Changed("output") && f.output == "" {
		fmt.Fprintln(stderr, "sigc: error: -o needs a file name (or - for standard output)")
		return exitError{2}
	}
	if f.output != "" && f.output != "-" {
		if st, err := os.Stat(f.output); (err == nil && st.IsDir()) || strings.HasSuffix(f.output, string(os.PathSeparator)) {
			fmt.Fprintf(stderr, "%s: error: is a directory; give -o a file name\n", f.output)
			return exitError{2}
		}
	}
	backend, ok := backends.Lookup(f.target)
	if !ok {
		fmt.Fprintf(stderr, "sigc: error: unknown target %q; choose one of: %s\n", f.target, strings.Join(backends.Names(), ", "))
		return exitError{2}
	}
	if f.format != "default" && f.format != "json" {
		fmt.Fprintf(stderr, "sigc: error: unknown format %q; choose default or json\n", f.format)
		return exitError{2}
	}
	policy, ok := compiler.ParseUnmapped(f.unmapped)
	if !ok {
		fmt.Fprintf(stderr, "sigc: error: --unmapped %q: choose auto, keep, drop or error\n", f.unmapped)
		return exitError{2}
	}
	rep := &reporter{w: stderr}
	ld, err := loadRules(args, f.pipelines, backend.Name(), policy, cmd.InOrStdin(), rep, f.failFast)
	if err != nil {
		return err
	}
	if f.output != "" && f.output != "-" {
		if in, clash := sameFile(f.output, append(ld.files, f.pipelines...)); clash {
			fmt.Fprintf(stderr, "%s: error: the output file is also an input (%s); choose another -o\n", f.output, in)
			return exitError{2}
		}
	}
	var out bytes.Buffer
	var all []string // every query, for the pipeline's finalizers
	converted, failed := 0, ld.loadFailed
	for _, it := range ld.ordered() {
		title, diags := it.title(), it.diags()
		if diags.HasErrors() {
			rep.report(diags...)
			failed++
			if f.failFast {
				break
			}
			continue
		}
		rep.report(diags...) // warnings
		var queries []string
		var warns []*diag.Diagnostic
		var err error
		if it.rule != nil {
			queries, warns, err = backend.Render(it.rule.Rule)
		} else {
			var q string
			q, warns, err = backend.RenderCorrelation(it.corr.Correlation)
			queries = []string{q}
		}
		if err != nil {
			d := diag.Flatten(err)
			for _, x := range d {
				x.Msg += fmt.Sprintf(" (rule %q)", title)
			}
			rep.report(d...)
			failed++
			if f.failFast {
				break
			}
			continue
		}
		for i, q := range queries {
			if queries[i], err = ld.pipeline.PostprocessQuery(it.subject(), q); err != nil {
				break
			}
		}
		if err != nil {
			rep.report(diag.Errorf(it.pos(), "%v (rule %q)", err, title))
			failed++
			if f.failFast {
				break
			}
			continue
		}
		all = append(all, queries...)
		for _, q := range queries {
			if len(q) > maxQuerySize {
				warns = append(warns, diag.Warnf(it.pos(), "the query is %.1f MB; SIEMs limit the length of a query (selections repeated by name or by `N of` are written out every time), so it may be refused", float64(len(q))/1e6))
			}
		}
		rep.report(warns...)
		converted++
		switch f.format {
		case "json":
			id, file, level, tags := it.meta()
			jr := jsonRule{ID: id, Title: title, File: file, Target: backend.Name(), Level: level, Tags: tags, Warnings: []string{}}
			if jr.Tags == nil {
				jr.Tags = []string{}
			}
			if it.rule != nil {
				jr.Fields = it.rule.Rule.Fields
			}
			if len(queries) > 0 {
				jr.Query = queries[0]
			}
			if len(queries) > 1 {
				jr.Queries = queries
			}
			for _, w := range warns {
				jr.Warnings = append(jr.Warnings, w.Error())
			}
			b, _ := json.Marshal(jr)
			out.Write(b)
			out.WriteByte('\n')
		default:
			if out.Len() > 0 {
				out.WriteString("\n")
			}
			out.WriteString(strings.Join(queries, "\n\n"))
			out.WriteString("\n")
		}
	}
	if f.failFast && failed > 0 {
		fmt.Fprintf(stderr, "sigc: stopped at the first failure (--fail-fast); nothing written\n")
		return exitError{1}
	}
	if f.format == "json" && ld.pipeline != nil && len(ld.pipeline.Finalizers) > 0 {
		fmt.Fprintln(stderr, "sigc: warning: the pipeline's finalizers are not applied with --format json (one JSON object per query); use the default format for them")
	}
	if f.format == "default" {
		final, ok, err := ld.pipeline.Finalize(all)
		if err != nil {
			fmt.Fprintf(stderr, "sigc: error: %v\n", err)
			return exitError{1}
		}
		if ok {
			out.Reset()
			out.WriteString(final)
			if !strings.HasSuffix(final, "\n") {
				out.WriteByte('\n')
			}
		}
	}
	if err := writeOutput(cmd, f.output, out.Bytes()); err != nil {
		fmt.Fprintln(stderr, err)
		return exitError{1}
	}
	if failed > 0 || converted != 1 {
		fmt.Fprintf(stderr, "sigc: %d converted, %d failed\n", converted, failed)
	}
	if s := ld.unmappedSummary(f.unmapped); s != "" {
		fmt.Fprintln(stderr, s)
	}
	if failed > 0 {
		return exitError{1}
	}
	return nil
}

// writeOutput writes to stdout, or to a file with writeFile.
func writeOutput(cmd *cobra.Command, path string, data []byte) error {
	if path == "" || path == "-" {
		if _, err := cmd.OutOrStdout().Write(data); err != nil {
			return fmt.Errorf("sigc: error: cannot write the output: %v", err)
		}
		return nil
	}
	return writeFile(path, data)
}
