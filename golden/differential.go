package golden

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

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
	millis int64 // event time, for correlation queries
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

// refRun executes a correlation query with a target's reference interpreter.
var refRun = map[string]func(q string, events []flatEvent, timeField string) ([]map[string][]string, error){
	"logscale": func(q string, events []flatEvent, timeField string) ([]map[string][]string, error) {
		in := make([]*cqlcheck.Event, len(events))
		for i, e := range events {
			in[i] = &cqlcheck.Event{Fields: withTime(e.fields, "@timestamp", e.millis), Raw: e.raw}
		}
		rows, err := cqlcheck.RunPipeline(q, in)
		var out []map[string][]string
		for _, r := range rows {
			out = append(out, r.Fields)
		}
		return out, err
	},
	"sumologic": func(q string, events []flatEvent, timeField string) ([]map[string][]string, error) {
		in := make([]*sumocheck.Event, len(events))
		for i, e := range events {
			in[i] = &sumocheck.Event{Fields: withTime(e.fields, "_messagetime", e.millis), Raw: e.raw}
		}
		rows, err := sumocheck.RunPipeline(q, in)
		var out []map[string][]string
		for _, r := range rows {
			out = append(out, r.Fields)
		}
		return out, err
	},
}

func withTime(fields map[string][]string, name string, millis int64) map[string][]string {
	m := make(map[string][]string, len(fields)+1)
	for k, v := range fields {
		m[k] = v
	}
	m[name] = []string{strconv.FormatInt(millis, 10)}
	return m
}

// CorrelationDifferential runs each correlation's query with the target's
// reference interpreter over the logs and compares the (window, group) rows
// it outputs with the evaluator's firings. It returns the disagreements.
func CorrelationDifferential(target string, rules []*ir.Rule, corrs []*ir.Correlation, queries map[*ir.Correlation]string, files []string) (string, error) {
	eng, err := eval.New(rules)
	if err != nil {
		return "", err
	}
	want := map[*ir.Correlation]map[string]bool{}
	cor := eval.NewCorrelator(corrs, "", func(f *eval.Firing) {
		if want[f.Correlation] == nil {
			want[f.Correlation] = map[string]bool{}
		}
		var g []string
		for _, v := range f.Group {
			g = append(g, v.Value)
		}
		want[f.Correlation][firingKey(f.WindowStart.UnixMilli(), g)] = true
	})
	var events []flatEvent
	err = eachRecord(files, func(f string, rec *logs.Record, ev *eval.Event) {
		eng.Each(ev, func(m *eval.Rule) { cor.Add(m.IR, ev) })
		t, ok := eval.EventTime(ev, "")
		if !ok {
			return
		}
		fe := flatEvent{fields: map[string][]string{}, raw: string(rec.Raw), millis: t.UnixMilli()}
		for k, vs := range ev.Fields {
			for _, v := range vs {
				if !v.Null {
					fe.fields[k] = append(fe.fields[k], strings.Clone(v.Str))
				}
			}
		}
		events = append(events, fe)
	}, func(*logs.RecordError) {})
	if err != nil {
		return "", err
	}
	cor.Close()
	var out strings.Builder
	for _, c := range corrs {
		q, ok := queries[c]
		if !ok {
			continue
		}
		rows, err := refRun[target](q, events, "")
		if err != nil {
			return "", fmt.Errorf("%s query of %q does not run: %v", target, c.Title, err)
		}
		got := map[string]bool{}
		for _, r := range rows {
			w, _ := strconv.ParseFloat(first(r["_window"]), 64)
			var g []string
			for _, name := range c.GroupBy {
				g = append(g, first(r[name]))
			}
			got[firingKey(int64(w), g)] = true
		}
		var keys []string
		for k := range want[c] {
			if !got[k] {
				keys = append(keys, fmt.Sprintf("correlation %s %s: evaluator fires, %s does not", c.ID, k, target))
			}
		}
		for k := range got {
			if !want[c][k] {
				keys = append(keys, fmt.Sprintf("correlation %s %s: %s fires, evaluator does not", c.ID, k, target))
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			out.WriteString(k + "\n")
		}
	}
	return out.String(), nil
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

func firingKey(windowMillis int64, group []string) string {
	return fmt.Sprintf("window=%s group=%q", time.UnixMilli(windowMillis).UTC().Format(time.RFC3339), group)
}
