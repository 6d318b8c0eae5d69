package golden

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sigc-project/sigc/backends/logscale/cqlcheck"
	"github.com/sigc-project/sigc/backends/sumologic/sumocheck"
	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/eval"
	"github.com/sigc-project/sigc/eval/logs"
)

// flatEvent is the input of the reference interpreters.
type flatEvent struct {
	fields map[string][]string
	raw    string
}

// refMatcher is a parsed query of a target's reference interpreter.
type refMatcher func(ev flatEvent) bool

// References are the targets' reference grammars and interpreters.
var References = map[string]func(q string) (refMatcher, error){
	"logscale": func(q string) (refMatcher, error) {
		p, err := cqlcheck.Parse(q)
		if err != nil {
			return nil, err
		}
		return func(ev flatEvent) bool { return p.Match(&cqlcheck.Event{Fields: ev.fields, Raw: ev.raw}) }, nil
	},
	"sumologic": func(q string) (refMatcher, error) {
		p, err := sumocheck.Parse(q)
		if err != nil {
			return nil, err
		}
		return func(ev flatEvent) bool { return p.Match(&sumocheck.Event{Fields: ev.fields, Raw: ev.raw}) }, nil
	},
}

// PipelineChecks are the targets' reference grammars for correlation
// queries (stage grammar, documented parameters, names after aggregation).
var PipelineChecks = map[string]func(q string) error{
	"logscale":  cqlcheck.ParsePipeline,
	"sumologic": sumocheck.ParsePipeline,
}

// Differential parses every query of rules for target with its reference
// grammar and compares, record by record, which rules the reference
// interpreter and the evaluator select. It returns the disagreements (one
// line each) or a parse error.
func Differential(target string, queries map[*ir.Rule][]string, files []string) (string, error) {
	ref := References[target]
	var rules []*ir.Rule
	matchers := map[*ir.Rule][]refMatcher{}
	for r, qs := range queries {
		rules = append(rules, r)
		for _, q := range qs {
			m, err := ref(q)
			if err != nil {
				return "", fmt.Errorf("%s query of rule %q does not parse: %v\n%s", target, r.Title, err, q)
			}
			matchers[r] = append(matchers[r], m)
		}
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].ID < rules[j].ID })
	eng, err := eval.New(rules)
	if err != nil {
		return "", err
	}
	var out strings.Builder
	err = eachRecord(files, func(f string, rec *logs.Record, ev *eval.Event) {
		flat := flatEvent{fields: map[string][]string{}, raw: string(rec.Raw)}
		for k, vs := range ev.Fields {
			for _, v := range vs {
				if !v.Null {
					flat.fields[k] = append(flat.fields[k], v.Str)
				}
			}
		}
		for i, pr := range eng.Rules {
			want := pr.Matches(ev)
			got := false
			for _, m := range matchers[rules[i]] {
				got = got || m(flat)
			}
			if got != want {
				fmt.Fprintf(&out, "%s:%d rule %s: evaluator %v, %s %v\n", baseName(f), rec.Line, rules[i].ID, want, target, got)
			}
		}
	}, func(*logs.RecordError) {})
	return out.String(), err
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
