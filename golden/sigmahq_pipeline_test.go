package golden

import (
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/sigc-project/sigc/backends"
	"github.com/sigc-project/sigc/compiler"
	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/compiler/pipeline"
	"github.com/sigc-project/sigc/eval"
	"github.com/sigc-project/sigc/eval/logs"
	"github.com/sigc-project/sigc/sigma"
)

func builtin(t testing.TB, names ...string) *pipeline.Pipeline {
	t.Helper()
	var specs []pipeline.Spec
	for _, n := range names {
		s, err := pipeline.LoadSpec(n)
		if err != nil {
			t.Fatal(err)
		}
		specs = append(specs, s...)
	}
	return pipeline.Resolve(specs)
}

// falconEvents is the event scoping of pySigma's crowdstrike_falcon
// pipeline per logsource, written down from its documented mapping (not
// read from sigc's YAML), plus sigc's one addition: a network rule that
// tests DestinationHostname also reads DnsRequest, the event that holds
// the domain name.
var falconEvents = map[string][]string{
	"process_creation/windows": {"ProcessRollup2", "SyntheticProcessRollup2"},
	"process_creation/linux":   {"ProcessRollup2", "SyntheticProcessRollup2"},
	"process_creation/macos":   {"ProcessRollup2", "SyntheticProcessRollup2"},
	"dns_query/windows":        {"DnsRequest"},
	"driver_load/windows":      {"DriverLoad"},
	"image_load/windows":       {"ClassifiedModuleLoad"},
	"ps_script/windows":        {"CommandHistory", "ScriptControlScanTelemetry"},
}

// falconFields are field names pySigma's mapping gives per logsource.
var falconFields = map[string]map[string]string{
	"process_creation":   {"Image": "ImageFileName", "ParentImage": "ParentBaseFileName", "User": "UserName", "OriginalFileName": "OriginalFilename"},
	"network_connection": {"DestinationIp": "RemoteAddressIP4", "DestinationPort": "RemotePort", "Image": "ContextBaseFileName"},
	"dns_query":          {"QueryName": "DomainName", "Image": "ContextBaseFileName"},
	"image_load":         {"ImageLoaded": "ImageFileName"},
}

// TestSigmaHQFalcon converts SigmaHQ's rules/ with crowdstrike_falcon for
// LogScale, next to pySigma's figure on the same folder, and checks every
// converted rule against the documented event scoping and field names.
func TestSigmaHQFalcon(t *testing.T) {
	needCorpus(t)
	pl := builtin(t, "crowdstrike_falcon")
	b, _ := backends.Lookup("logscale")
	var rules, converted, refusedByFalcon, refusedOther, checked, strictRefused int
	reasons := map[string]int{}
	for _, f := range corpusFiles(t, []string{"rules"}) {
		lf := sigma.LoadFile(f, nil)
		for _, res := range compiler.Compile(lf.Collection, compiler.Options{Pipeline: pl}) {
			if res.Rule == nil && strings.Contains(res.Diags.Error(), "falcon_strict_fields") {
				strictRefused++
			}
		}
		// As pySigma converts: fields Falcon lacks stay as written.
		for _, res := range compiler.Compile(lf.Collection, compiler.Options{Pipeline: pl, Unmapped: compiler.KeepUnmapped}) {
			rules++
			if res.Rule == nil {
				msg := res.Diags.Error()
				if strings.Contains(msg, "crowdstrike_falcon") || strings.Contains(msg, "falcon_") {
					refusedByFalcon++
					reasons[pipelineItem.FindString(msg)]++
				} else {
					refusedOther++
				}
				continue
			}
			qs, _, err := b.Render(res.Rule)
			if err != nil {
				refusedOther++
				continue
			}
			for _, q := range qs {
				if _, perr := References["logscale"](q); perr != nil {
					t.Errorf("%s: query rejected by the reference grammar: %v\n%s", f, perr, q)
				}
			}
			converted++
			ls := res.Rule.Logsource
			key := ls.Category + "/" + ls.Product
			if want, ok := falconEvents[key]; ok {
				checked++
				got := eventNames(res.Rule.Conditions[0])
				if strings.Join(got, ",") != strings.Join(sorted(want), ",") {
					t.Errorf("%s (%s): scoped to %v, want %v", f, key, got, want)
				}
			}
			for generic, falcon := range falconFields[ls.Category] {
				if ls.Product != "windows" {
					continue
				}
				for _, e := range res.Rule.Conditions {
					ir.Walk(e, func(n ir.Expr) {
						if m, ok := n.(*ir.Match); ok && m.Field == generic {
							t.Errorf("%s: field %s left unmapped (pySigma maps it to %s)", f, generic, falcon)
						}
					})
				}
			}
		}
	}
	t.Logf("SigmaHQ rules/ with crowdstrike_falcon → logscale: %d rules, %d converted, %d refused by the pipeline (fields or values Falcon lacks), %d refused otherwise; pySigma on the same folder: 2,856 converted, 285 errors", rules, converted, refusedByFalcon, refusedOther)
	for r, n := range reasons {
		t.Logf("    %4d × %s", n, r)
	}
	t.Logf("%d converted rules checked against pySigma's event scoping; by default (strict: fields Falcon lacks are errors) %d more are refused", checked, strictRefused)
	if checked < 1000 {
		t.Errorf("only %d rules checked against the scoping table", checked)
	}
}

// pipelineItem finds the processing item a refusal names.
var pipelineItem = regexp.MustCompile(`pipeline "[^"]+"`)

func sorted(xs []string) []string {
	out := append([]string(nil), xs...)
	sort.Strings(out)
	return out
}

// eventNames lists the #event_simpleName values a condition's top level
// requires.
func eventNames(e ir.Expr) []string {
	var out []string
	var scan func(ir.Expr)
	scan = func(e ir.Expr) {
		switch n := e.(type) {
		case *ir.And:
			for _, a := range n.Args {
				scan(a)
			}
		case *ir.Or:
			for _, a := range n.Args {
				if m, ok := a.(*ir.Match); ok && m.Field == "#event_simpleName" {
					out = append(out, m.Pattern.String())
				}
			}
		case *ir.Match:
			if n.Field == "#event_simpleName" {
				out = append(out, n.Pattern.String())
			}
		}
	}
	scan(e)
	sort.Strings(out)
	return out
}

// TestSigmaHQWindowsScoping evaluates every SigmaHQ rule over every
// regression sample, without a pipeline and with `windows`: with it, no
// rule for another product fires on the Windows events, and every rule
// still fires on its own samples.
func TestSigmaHQWindowsScoping(t *testing.T) {
	needCorpus(t)
	events := regressionEvents(t)
	count := func(opts compiler.Options) (foreign int) {
		t.Helper()
		eng, err := eval.New(corpusRules(t, opts))
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			eng.Each(ev, func(m *eval.Rule) {
				if p := m.IR.Logsource.Product; p != "windows" && p != "" {
					foreign++
				}
			})
		}
		return foreign
	}
	plainForeign := count(compiler.Options{})
	scopedForeign := count(compiler.Options{Pipeline: builtin(t, "windows")})
	t.Logf("firings of non-Windows rules on the %d Windows regression events: %d without a pipeline, %d with -p windows", len(events), plainForeign, scopedForeign)
	if scopedForeign != 0 {
		t.Errorf("%d firings of rules for other products with -p windows", scopedForeign)
	}
	if plainForeign == 0 {
		t.Errorf("the control fired no foreign rule: the test does not discriminate")
	}
}

// regressionEvents reads every SigmaHQ regression sample, with the
// EventLog names added.
func regressionEvents(t testing.TB) []*eval.Event {
	samples, _ := filepath.Glob(filepath.Join(corpusRoot, "regression_data", "*", "*", "*", "*", "*.json"))
	more, _ := filepath.Glob(filepath.Join(corpusRoot, "regression_data", "*", "*", "*", "*", "*", "*.json"))
	samples = append(samples, more...)
	if len(samples) < 100 {
		t.Fatalf("only %d samples", len(samples))
	}
	var events []*eval.Event
	for _, s := range samples {
		r, closer, err := logs.Open(s, "json", nil)
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, err := r.Next()
			if err != nil {
				break
			}
			if m, err := rec.Map(); err == nil {
				events = append(events, eval.Prepare(m, eval.Options{EventLog: true}))
			}
		}
		closer.Close()
	}
	return events
}

// TestSigmaHQRegressionWindowsPipeline: scoped by `windows`, every rule
// still fires on its own regression samples.
func TestSigmaHQRegressionWindowsPipeline(t *testing.T) {
	needCorpus(t)
	passed, total, failures := runRegressionWith(t, true, compiler.Options{Pipeline: builtin(t, "windows")})
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("SigmaHQ regression data with -p windows: %d of %d samples pass", passed, total)
}

// TestSigmaHQGatesSkipOnlyImpossibleRules: with -p windows nearly every
// rule is gated on Channel; the engine's indexed pass must report exactly
// the rules that match one by one.
func TestSigmaHQGatesSkipOnlyImpossibleRules(t *testing.T) {
	needCorpus(t)
	rules, events := windowsScoped(t)
	gated, err := eval.New(rules)
	if err != nil {
		t.Fatal(err)
	}
	every, _ := eval.New(rules)
	every.DisableGates()
	matches := 0
	for _, ev := range events {
		var got, want []string
		gated.Each(ev, func(r *eval.Rule) { got = append(got, r.IR.ID) })
		every.Each(ev, func(r *eval.Rule) { want = append(want, r.IR.ID) })
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("gated %v, every rule %v", got, want)
		}
		matches += len(want)
	}
	t.Logf("%d rules × %d events: the gated pass reports the same %d matches", len(rules), len(events), matches)
}

// windowsScoped compiles the corpus with -p windows and reads the
// regression samples.
func windowsScoped(t testing.TB) ([]*ir.Rule, []*eval.Event) {
	return corpusRules(t, compiler.Options{Pipeline: builtin(t, "windows")}), regressionEvents(t)
}

// BenchmarkSigmaHQWindowsScoped runs every SigmaHQ rule, scoped by
// -p windows, over the regression events: the gates skip the rules of
// other channels. go test ./golden -run '^$' -bench SigmaHQWindowsScoped
func BenchmarkSigmaHQWindowsScoped(b *testing.B) {
	needCorpus(b)
	rules, events := windowsScoped(b)
	for _, gated := range []bool{true, false} {
		name := "gated"
		if !gated {
			name = "each-rule"
		}
		b.Run(name, func(b *testing.B) {
			eng, err := eval.New(rules)
			if err != nil {
				b.Fatal(err)
			}
			if !gated {
				eng.DisableGates()
			}
			n := 0
			for b.Loop() {
				for _, ev := range events {
					eng.Each(ev, func(*eval.Rule) { n++ })
				}
			}
			b.ReportMetric(float64(len(events)*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// TestSigmaHQRegressionEvtxJSON: with -p evtx_json and the evaluator's own
// EventLog mapping off, the pipeline alone lets the rules read the
// regression data's EventLog JSON.
func TestSigmaHQRegressionEvtxJSON(t *testing.T) {
	needCorpus(t)
	passed, total, failures := runRegressionWith(t, false, compiler.Options{Pipeline: builtin(t, "evtx_json")})
	t.Logf("SigmaHQ regression data with -p evtx_json and no EventLog mapping: %d of %d samples pass", passed, total)
	for _, f := range failures {
		t.Log(f)
	}
	if passed < total*9/10 {
		t.Errorf("only %d of %d samples pass", passed, total)
	}
}
