package golden

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sigmago "github.com/bradleyjkemp/sigma-go"
	sigmagoeval "github.com/bradleyjkemp/sigma-go/evaluator"

	"github.com/sigc-project/sigc/compiler"
	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/eval"
	"github.com/sigc-project/sigc/eval/logs"
	"github.com/sigc-project/sigc/sigma"
)

// sigmaGoModifiers is the subset sigma-go v0.6.6 evaluates as the spec says.
var sigmaGoModifiers = map[string]bool{"contains": true, "startswith": true, "endswith": true, "all": true, "re": true, "cidr": true, "gt": true, "gte": true, "lt": true, "lte": true}

// sigmaGoCanEvaluate reports whether a rule stays inside what sigma-go
// v0.6.6 handles: no keywords, null, wildcards or escapes in values, and
// only the modifiers above.
func sigmaGoCanEvaluate(r *sigma.Rule) bool {
	if len(r.Detection.Conditions) != 1 {
		return false
	}
	for _, s := range r.Detection.Searches {
		for _, a := range s.Alts {
			if a.Keyword != nil {
				return false
			}
			for _, it := range a.Items {
				if it.Field == "" {
					return false
				}
				isRe := false
				for _, m := range it.Modifiers {
					if !sigmaGoModifiers[m.Name] {
						return false
					}
					isRe = isRe || m.Name == "re"
				}
				for _, v := range it.Values {
					if v.Kind == sigma.Null || (!isRe && (strings.ContainsAny(v.Raw, "*?") || strings.Contains(v.Raw, `\\`))) {
						return false
					}
				}
			}
		}
	}
	return true
}

// TestSigmaGoDifferential runs sigma-go as an independent second
// implementation over the SigmaHQ regression samples, on the rules it can
// evaluate, and requires it to agree with sigc's evaluator event by event.
func TestSigmaGoDifferential(t *testing.T) {
	needCorpus(t)
	type src struct {
		model *sigma.Rule
		rule  *ir.Rule
		text  []byte
	}
	byID := map[string]src{}
	for _, f := range corpusFiles(t, ruleDirs) {
		lf := sigma.LoadFile(f, nil)
		text, _ := os.ReadFile(f)
		for _, res := range compiler.Compile(lf.Collection, compiler.Options{}) {
			if res.Rule != nil {
				byID[res.Rule.ID] = src{model: res.Source, rule: res.Rule, text: text}
			}
		}
	}
	samples, _ := filepath.Glob(filepath.Join(corpusRoot, "regression_data", "*", "*", "*", "*", "*.json"))
	more, _ := filepath.Glob(filepath.Join(corpusRoot, "regression_data", "*", "*", "*", "*", "*", "*.json"))
	samples = append(samples, more...)
	// Every sample event, for every eligible rule: each rule meets its own
	// positives and the other rules' events, which are mostly negatives.
	type event struct {
		where string
		ev    *eval.Event
		flat  map[string]interface{}
	}
	var all []event
	err := eachRecord(samples, func(f string, rec *logs.Record, ev *eval.Event) {
		flat := map[string]interface{}{}
		for k, vs := range ev.Fields {
			for _, v := range vs {
				if !v.Null {
					flat[k] = v.Str
					break
				}
			}
		}
		all = append(all, event{where: fmt.Sprintf("%s:%d", filepath.Base(f), rec.Line), ev: ev, flat: flat})
	}, func(*logs.RecordError) {})
	if err != nil {
		t.Fatal(err)
	}
	rules, checks, matches, disagreements := 0, 0, 0, 0
	for _, sample := range samples {
		s, ok := byID[strings.TrimSuffix(filepath.Base(sample), ".json")]
		if !ok || !sigmaGoCanEvaluate(s.model) {
			continue
		}
		gr, err := sigmago.ParseRule(s.text)
		if err != nil {
			continue // outside sigma-go's parser (timeframe, multi-document …)
		}
		other := sigmagoeval.ForRule(gr)
		eng, err := eval.New([]*ir.Rule{s.rule})
		if err != nil {
			t.Fatal(err)
		}
		rules++
		for _, e := range all {
			res, err := other.Matches(context.Background(), e.flat)
			if err != nil {
				continue
			}
			checks++
			want := eng.Rules[0].Matches(e.ev)
			if want {
				matches++
			}
			if want != res.Match {
				disagreements++
				t.Errorf("%s rule %q: sigc %v, sigma-go %v", e.where, s.rule.Title, want, res.Match)
			}
		}
	}
	t.Logf("sigma-go and sigc agree on %d of %d (rule, event) pairs over %d rules; %d pairs match", checks-disagreements, checks, rules, matches)
	if rules < 30 || matches < rules {
		t.Errorf("only %d rules (%d matching pairs) inside sigma-go's subset; the differential test checks too little", rules, matches)
	}
}
