package golden

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/sigc-project/sigc/backends"
	"github.com/sigc-project/sigc/compiler"
	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/diag"
	"github.com/sigc-project/sigc/eval"
	"github.com/sigc-project/sigc/eval/logs"
	"github.com/sigc-project/sigc/sigma"
)

// corpusRoot is the shared SigmaHQ rule set beside the checkout.
const corpusRoot = "../../shared/corpus/sigmahq"

var ruleDirs = []string{"rules", "rules-emerging-threats", "rules-threat-hunting", "rules-compliance", "rules-placeholder", "deprecated"}

func needCorpus(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(corpusRoot); err != nil {
		t.Skipf("SKIP: %s is absent (it ships beside the checkout in CI, not in a clone); corpus tests not run", corpusRoot)
	}
}

func corpusFiles(t testing.TB, dirs []string) []string {
	var paths []string
	for _, d := range dirs {
		paths = append(paths, filepath.Join(corpusRoot, d))
	}
	files, diags := sigma.ExpandPaths(paths)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return files
}

// positioned reports whether every diagnostic names a file and a line.
func positioned(l diag.List) bool {
	for _, d := range l {
		if d.Pos.File == "" || d.Pos.Line == 0 || d.Msg == "" {
			return false
		}
	}
	return len(l) > 0
}

// TestSigmaHQCorpus: every rule loads; every loaded rule converts for each
// target (and the target's reference grammar accepts the query) or fails
// with a positioned diagnostic; nothing panics.
func TestSigmaHQCorpus(t *testing.T) {
	needCorpus(t)
	files := corpusFiles(t, ruleDirs)
	var rules, compileFailed int
	converted := map[string]int{}
	failed := map[string]int{}
	reasons := map[string]map[string]int{}
	for _, f := range files {
		lf := sigma.LoadFile(f, nil)
		if lf.Diags.HasErrors() {
			t.Errorf("load failed: %v", lf.Diags)
			continue
		}
		for _, res := range compiler.Compile(lf.Collection, compiler.Options{}) {
			rules++
			if res.Rule == nil {
				compileFailed++
				if !positioned(res.Diags) {
					t.Errorf("%s: compile failed without a positioned diagnostic: %v", f, res.Diags)
				}
				continue
			}
			for _, b := range backends.All {
				qs, _, err := b.Render(res.Rule)
				if err == nil {
					converted[b.Name()]++
					for _, q := range qs {
						if err := Visible(q); err != nil {
							t.Errorf("%s: %s: %v", f, b.Name(), err)
						}
						if _, perr := References[b.Name()](q); perr != nil {
							t.Errorf("%s: %s query rejected by the reference grammar: %v\n%s", f, b.Name(), perr, q)
						}
					}
					continue
				}
				failed[b.Name()]++
				var d *diag.Diagnostic
				if !errors.As(err, &d) || d.Pos.Line == 0 {
					t.Errorf("%s: %s failed without a positioned diagnostic: %v", f, b.Name(), err)
					continue
				}
				if reasons[b.Name()] == nil {
					reasons[b.Name()] = map[string]int{}
				}
				reasons[b.Name()][reasonKey(d.Msg)]++
			}
		}
	}
	t.Logf("SigmaHQ corpus: %d files, %d rules, %d failed to compile (positioned diagnostics)", len(files), rules, compileFailed)
	for _, b := range backends.All {
		t.Logf("  %s: %d converted, %d refused", b.Name(), converted[b.Name()], failed[b.Name()])
		for r, n := range reasons[b.Name()] {
			t.Logf("    %4d × %s", n, r)
		}
	}
	if rules < 3900 {
		t.Errorf("only %d rules loaded; expected the whole corpus", rules)
	}
}

// reasonKey groups refusal messages by their kind.
func reasonKey(msg string) string {
	if i := strings.Index(msg, " ("); i > 0 && strings.Contains(msg, "field name") {
		return "field names the target cannot write"
	}
	if i := strings.Index(msg, ";"); i > 0 {
		msg = msg[:i]
	}
	return msg
}

// TestUnsupportedFolder: the legacy files load with diagnostics, no panic.
func TestUnsupportedFolder(t *testing.T) {
	needCorpus(t)
	for _, f := range corpusFiles(t, []string{"unsupported"}) {
		lf := sigma.LoadFile(f, nil)
		for _, res := range compiler.Compile(lf.Collection, compiler.Options{}) {
			if res.Rule == nil && !positioned(res.Diags) {
				t.Errorf("%s: failure without position: %v", f, res.Diags)
			}
		}
	}
}

type regressionInfo struct {
	RuleMetadata []struct {
		ID    string `yaml:"id"`
		Title string `yaml:"title"`
	} `yaml:"rule_metadata"`
	Tests []struct {
		Name       string `yaml:"name"`
		Type       string `yaml:"type"`
		MatchCount int    `yaml:"match_count"`
		Path       string `yaml:"path"`
	} `yaml:"regression_tests_info"`
}

// TestSigmaHQRegression runs each rule over its EventLog JSON samples: it
// must match at least match_count times (at least once where absent).
func TestSigmaHQRegression(t *testing.T) {
	needCorpus(t)
	passed, total, failures := runRegression(t, true)
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("SigmaHQ regression data: %d of %d samples pass", passed, total)
	if total < 200 {
		t.Errorf("only %d regression samples found", total)
	}
}

// TestSigmaHQRegressionNeedsMapping is the control: without the EventLog
// input mapping most samples fail, so the test above measures the mapping
// and the matcher, not an evaluator that always says yes.
func TestSigmaHQRegressionNeedsMapping(t *testing.T) {
	needCorpus(t)
	passed, total, _ := runRegression(t, false)
	if passed > total/4 {
		t.Errorf("without the EventLog mapping %d of %d samples still pass; the regression test does not discriminate", passed, total)
	}
}

func runRegression(t *testing.T, mapping bool) (passed, total int, failures []string) {
	return runRegressionWith(t, mapping, compiler.Options{})
}

func runRegressionWith(t *testing.T, mapping bool, opts compiler.Options) (passed, total int, failures []string) {
	byID := corpusRulesByID(t, opts)
	var infos []string
	filepath.WalkDir(filepath.Join(corpusRoot, "regression_data"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "info.yml" {
			infos = append(infos, p)
		}
		return nil
	})
	sort.Strings(infos)
	for _, infoPath := range infos {
		src, err := os.ReadFile(infoPath)
		if err != nil {
			t.Fatal(err)
		}
		var info regressionInfo
		if err := yaml.Unmarshal(src, &info); err != nil {
			failures = append(failures, fmt.Sprintf("%s: %v", infoPath, err))
			continue
		}
		if len(info.Tests) == 0 || len(info.RuleMetadata) == 0 {
			continue // tests commented out upstream (the Cisco raw sample)
		}
		rule := byID[info.RuleMetadata[0].ID]
		for _, tc := range info.Tests {
			total++
			sample := filepath.Join(filepath.Dir(infoPath), strings.TrimSuffix(filepath.Base(tc.Path), filepath.Ext(tc.Path))+".json")
			if rule == nil {
				failures = append(failures, fmt.Sprintf("%s: rule %s (%s) did not compile", infoPath, info.RuleMetadata[0].ID, info.RuleMetadata[0].Title))
				continue
			}
			got, err := countMatches(rule, sample, mapping)
			if err != nil {
				failures = append(failures, fmt.Sprintf("%s: %v", sample, err))
				continue
			}
			want := tc.MatchCount
			if want == 0 {
				want = 1
			}
			if got < want {
				failures = append(failures, fmt.Sprintf("%s: rule %q matched %d times, want at least %d", sample, rule.Title, got, want))
				continue
			}
			passed++
		}
	}
	return passed, total, failures
}

func countMatches(rule *ir.Rule, path string, mapping bool) (int, error) {
	eng, err := eval.New([]*ir.Rule{rule})
	if err != nil {
		return 0, err
	}
	r, closer, err := logs.Open(path, "json", nil)
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	n := 0
	prep := eval.NewPreparer(eval.Options{EventLog: mapping})
	for {
		rec, err := r.Next()
		if err != nil {
			var re *logs.RecordError
			if errors.As(err, &re) {
				return n, re
			}
			break
		}
		ev := prep.Prepare(rec)
		eng.Each(ev, func(*eval.Rule) { n++ })
	}
	return n, nil
}

// TestSigmaHQRegressionDifferential runs each target's reference interpreter
// over the regression samples with the converted queries; it must select
// the same events as the evaluator.
func TestSigmaHQRegressionDifferential(t *testing.T) {
	needCorpus(t)
	byID := corpusRulesByID(t, compiler.Options{})
	samples, _ := filepath.Glob(filepath.Join(corpusRoot, "regression_data", "*", "*", "*", "*", "*.json"))
	more, _ := filepath.Glob(filepath.Join(corpusRoot, "regression_data", "*", "*", "*", "*", "*", "*.json"))
	samples = append(samples, more...)
	checked := 0
	for _, sample := range samples {
		id := strings.TrimSuffix(filepath.Base(sample), ".json")
		rule := byID[id]
		if rule == nil {
			continue
		}
		for _, b := range backends.All {
			qs, _, err := b.Render(rule)
			if err != nil {
				continue
			}
			diff, err := Differential(b.Name(), map[*ir.Rule][]string{rule: qs}, []string{sample})
			if err != nil {
				t.Errorf("%s: %v", sample, err)
				continue
			}
			checked++
			if diff != "" {
				t.Errorf("%s: %s", sample, diff)
			}
		}
	}
	t.Logf("reference interpreters agree with the evaluator on %d (sample, target) pairs", checked)
	if checked < 300 {
		t.Errorf("only %d pairs checked", checked)
	}
}

// corpusRulesByID compiles the corpus and indexes the rules by id.
func corpusRulesByID(t *testing.T, opts compiler.Options) map[string]*ir.Rule {
	byID := map[string]*ir.Rule{}
	for _, r := range corpusRules(t, opts) {
		byID[r.ID] = r
	}
	return byID
}

// corpusRules compiles every corpus rule that compiles.
func corpusRules(t testing.TB, opts compiler.Options) []*ir.Rule {
	var rules []*ir.Rule
	for _, f := range corpusFiles(t, ruleDirs) {
		lf := sigma.LoadFile(f, nil)
		for _, res := range compiler.Compile(lf.Collection, opts) {
			if res.Rule != nil {
				rules = append(rules, res.Rule)
			}
		}
	}
	return rules
}
