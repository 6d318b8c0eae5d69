package golden

import (
	"encoding/json"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/sigc-project/sigc/compiler"
	"github.com/sigc-project/sigc/compiler/pipeline"
	"github.com/sigc-project/sigc/sigma"
)

// TestExamplesVendorShapes: the serverless example's rules over its
// generic logs (no pipeline) and over the same logs in the vendor's shape
// (with the vendor's built-in pipeline) fire for the same rules, windows
// and groups. Group values are compared as the vendor stores them (Falcon
// keeps only an image's file name).
func TestExamplesVendorShapes(t *testing.T) {
	const dir = "../examples/serverless"
	rules, _ := filepath.Glob(filepath.Join(dir, "*.yml"))
	for _, c := range []struct {
		pipeline        string
		generic, vendor []string
	}{
		{"crowdstrike_falcon", []string{"endpoint.jsonl", "beacon_endpoint.jsonl"}, []string{"falcon/endpoint.jsonl", "falcon/beacon_endpoint.jsonl"}},
		{"sumologic_proxy", []string{"proxy.log"}, []string{"sumologic/proxy.log"}},
	} {
		t.Run(c.pipeline, func(t *testing.T) {
			generic := firings(t, rules, "", paths(dir, c.generic))
			vendor := firings(t, rules, c.pipeline, paths(dir, c.vendor))
			if len(generic) == 0 {
				t.Fatal("the generic logs fire nothing: the comparison proves nothing")
			}
			if strings.Join(generic, "\n") != strings.Join(vendor, "\n") {
				t.Errorf("firings differ\n--- generic\n%s\n--- %s\n%s", strings.Join(generic, "\n"), c.pipeline, strings.Join(vendor, "\n"))
			}
			t.Logf("%s: %d matches and firings agree", c.pipeline, len(generic))
		})
	}
}

func paths(dir string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = filepath.Join(dir, n)
	}
	return out
}

// firings evaluates the rules and returns each match (rule and line) and
// each correlation firing (rule, window, events and group values, without
// the group's field names), sorted.
func firings(t *testing.T, ruleFiles []string, spec string, logs []string) []string {
	t.Helper()
	var opts compiler.Options
	if spec != "" {
		specs, err := pipeline.LoadSpec(spec)
		if err != nil {
			t.Fatal(err)
		}
		opts.Pipeline = pipeline.Resolve(specs)
	}
	var files []*sigma.File
	for _, f := range ruleFiles {
		files = append(files, sigma.LoadFile(f, nil))
	}
	col := sigma.Merge(files)
	results := compiler.Compile(col, opts)
	var comp Compiled
	for _, r := range results {
		if r.Rule != nil {
			comp.Rules = append(comp.Rules, r.Rule)
		}
	}
	for _, r := range compiler.CompileCorrelations(col, results, opts) {
		if r.Correlation != nil {
			comp.Correlations = append(comp.Correlations, r.Correlation)
		}
	}
	out, err := Evaluate("", comp.Rules, comp.Correlations, logs)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var f struct {
			RuleID string            `json:"rule_id"`
			Line   int               `json:"line"`
			Group  map[string]string `json:"group"`
			Start  string            `json:"window_start"`
			Events int               `json:"events"`
		}
		if json.Unmarshal([]byte(l), &f) != nil {
			continue
		}
		var vals []string
		for _, v := range f.Group {
			vals = append(vals, v[strings.LastIndexByte(v, '\\')+1:])
		}
		sort.Strings(vals)
		lines = append(lines, strings.Join([]string{f.RuleID, f.Start, strings.Join(vals, "|"), strconv.Itoa(f.Events), strconv.Itoa(f.Line)}, " "))
	}
	sort.Strings(lines)
	return lines
}
