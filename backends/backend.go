// Package backends lists the query targets. Each target lives in its own
// package and renders the IR; none of them reads Sigma or the evaluator.
package backends

import (
	"github.com/sigc-project/sigc/backends/logscale"
	"github.com/sigc-project/sigc/backends/sumologic"
	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/diag"
)

// Backend renders compiled rules into one target's query language.
type Backend interface {
	Name() string
	Description() string
	// Render returns one query per condition entry of the rule, plus
	// warnings about approximations the user must know of.
	Render(r *ir.Rule) ([]string, []*diag.Diagnostic, error)
	// RenderCorrelation returns the one query of a correlation rule.
	RenderCorrelation(c *ir.Correlation) (string, []*diag.Diagnostic, error)
}

// All is the explicit list of targets.
var All = []Backend{
	logscale.Backend{},
	sumologic.Backend{},
}

// Lookup finds a target by name.
func Lookup(name string) (Backend, bool) {
	for _, b := range All {
		if b.Name() == name {
			return b, true
		}
	}
	return nil, false
}

// Names lists the target names.
func Names() []string {
	out := make([]string, len(All))
	for i, b := range All {
		out[i] = b.Name()
	}
	return out
}
