package main

import (
	"fmt"
	"io"

	"github.com/sigc-project/sigc/compiler"
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

// loaded is the outcome of loading and compiling rule paths.
type loaded struct {
	results      []compiler.Result
	correlations []compiler.CorrelationResult
	loadFailed   int // files that failed to load
}

// loadRules expands paths, loads every file and compiles every rule.
func loadRules(paths []string, pipelines []string, stdin io.Reader, rep *reporter, failFast bool) (*loaded, error) {
	var ps []*compiler.Pipeline
	for _, p := range pipelines {
		pl, err := compiler.LoadPipeline(p)
		if err != nil {
			rep.report(diag.Flatten(err)...)
			return nil, exitError{2}
		}
		ps = append(ps, pl)
	}
	var pipeline *compiler.Pipeline
	if len(ps) > 0 {
		pipeline = compiler.Merge(ps)
	}
	files, diags := sigma.ExpandPaths(paths)
	rep.report(diags...)
	if diags.HasErrors() && failFast {
		return nil, exitError{1}
	}
	out := &loaded{}
	for _, d := range diags {
		if d.Severity == diag.Error {
			out.loadFailed++
		}
	}
	var loadedFiles []*sigma.File
	for _, f := range files {
		lf := sigma.LoadFile(f, stdin)
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
	out.results = compiler.Compile(col, compiler.Options{Pipeline: pipeline})
	out.correlations = compiler.CompileCorrelations(col, out.results)
	return out, nil
}
