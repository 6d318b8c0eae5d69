package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/sigc-project/sigc/compiler"
	"github.com/sigc-project/sigc/compiler/pipeline"
	"github.com/sigc-project/sigc/diag"
	"github.com/sigc-project/sigc/sigma"
)

// reporter prints diagnostics to stderr and counts errors.
type reporter struct {
	w      io.Writer
	errors int
}

func (r *reporter) report(ds ...*diag.Diagnostic) {
	for _, d := range ds {
		if d.Severity == diag.Error {
			r.errors++
		}
		fmt.Fprintln(r.w, d.Error())
	}
}

// item is one rule or correlation, for output in input order.
type item struct {
	rule *compiler.Result
	corr *compiler.CorrelationResult
	file int
	line int
}

func (it item) title() string {
	if it.rule != nil {
		return it.rule.Source.Title
	}
	return it.corr.Source.Title
}

func (it item) pos() diag.Pos {
	if it.rule != nil {
		return it.rule.Source.Pos
	}
	return it.corr.Source.Pos
}

// subject is the rule as pipeline postprocessing sees it.
func (it item) subject() *pipeline.Subject {
	if it.rule != nil {
		return it.rule.Subject // set for every compiled rule
	}
	return &pipeline.Subject{Correlation: it.corr.Source}
}

func (it item) diags() diag.List {
	if it.rule != nil {
		return it.rule.Diags
	}
	return it.corr.Diags
}

func (it item) meta() (id, file, level string, tags []string) {
	if it.rule != nil {
		r := it.rule.Source
		return r.ID, r.File, r.Level, r.Tags
	}
	c := it.corr.Source
	return c.ID, c.File, c.Level, c.Tags
}

// ordered returns rules and correlations in the order of the input files
// and, within a file, of their documents.
func (l *loaded) ordered() []item {
	var out []item
	for i := range l.results {
		r := &l.results[i]
		out = append(out, item{rule: r, file: l.fileIndex[r.Source.File], line: r.Source.Pos.Line})
	}
	for i := range l.correlations {
		c := &l.correlations[i]
		out = append(out, item{corr: c, file: l.fileIndex[c.Source.File], line: c.Source.Pos.Line})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].file != out[j].file {
			return out[i].file < out[j].file
		}
		return out[i].line < out[j].line
	})
	return out
}

// loaded is the outcome of loading and compiling rule paths.
type loaded struct {
	results      []compiler.Result
	correlations []compiler.CorrelationResult
	files        []string       // the rule files, as expanded
	loadFailed   int            // files that failed to load
	fileIndex    map[string]int // position of each file in the input
	pipeline     *pipeline.Pipeline
}

// loadRules expands paths, loads every file and compiles every rule.
func loadRules(paths []string, pipelines []string, target string, unmapped compiler.Unmapped, stdin io.Reader, rep *reporter, failFast bool) (*loaded, error) {
	var specs []pipeline.Spec
	for _, p := range pipelines {
		ss, err := pipeline.LoadSpec(p)
		if err != nil {
			rep.report(diag.Flatten(err)...)
			return nil, exitError{2}
		}
		specs = append(specs, ss...)
	}
	resolved := pipeline.Resolve(specs)
	if target != "" {
		ds := pipeline.CheckTargets(specs, target)
		rep.report(ds...)
		if ds.HasErrors() {
			return nil, exitError{2}
		}
	}
	files, diags := sigma.ExpandPaths(paths)
	rep.report(diags...)
	if diags.HasErrors() && failFast {
		return nil, exitError{1}
	}
	out := &loaded{fileIndex: map[string]int{}, files: files}
	for _, d := range diags {
		if d.Severity == diag.Error {
			out.loadFailed++
		}
	}
	var loadedFiles []*sigma.File
	for _, f := range files {
		lf := sigma.LoadFile(f, stdin)
		out.fileIndex[f] = len(out.fileIndex)
		if f == "-" {
			out.fileIndex["<stdin>"] = out.fileIndex[f]
		}
		rep.report(lf.Diags...)
		if lf.Diags.HasErrors() {
			out.loadFailed++
			if failFast {
				return nil, exitError{1}
			}
		}
		loadedFiles = append(loadedFiles, lf)
	}
	col := sigma.Merge(loadedFiles)
	rep.report(compiler.UnusedFilters(col)...)
	opts := compiler.Options{Pipeline: resolved, Unmapped: unmapped}
	out.pipeline = resolved
	out.results = compiler.Compile(col, opts)
	out.correlations = compiler.CompileCorrelations(col, out.results, opts)
	return out, nil
}

// unmappedSummary counts the rules with fields the pipeline does not map,
// by what --unmapped did with them ("" when there are none).
func (l *loaded) unmappedSummary(policy string) string {
	n, fields := 0, map[string]bool{}
	for _, r := range l.results {
		if len(r.Unmapped) > 0 {
			n++
			for _, f := range r.Unmapped {
				fields[f] = true
			}
		}
	}
	if n == 0 {
		return ""
	}
	what := map[string]string{"auto": "kept as written unless the pipeline is strict", "keep": "kept as written", "drop": "dropped", "error": "refused"}[policy]
	names := make([]string, 0, len(fields))
	for f := range fields {
		names = append(names, f)
	}
	sort.Strings(names)
	if len(names) > 8 {
		names = append(names[:8], "…")
	}
	return fmt.Sprintf("sigc: %d rule(s) test %d field(s) the pipeline does not map: %s (%s; --unmapped auto|keep|drop|error)", n, len(fields), strings.Join(names, ", "), what)
}
