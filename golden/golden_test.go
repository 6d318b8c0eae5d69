package golden

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigc-project/sigc/backends"
	"github.com/sigc-project/sigc/compiler/ir"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fixed names a case folder may hold besides outputs.
func isInput(name string) bool {
	return name == "rule.yml" || name == "pipelines.txt" || (strings.HasPrefix(name, "pipeline") && strings.HasSuffix(name, ".yml")) ||
		strings.HasPrefix(name, "logs.") || name == "README.md"
}

func TestGolden(t *testing.T) {
	cases, err := Cases(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no golden cases found: each case is a folder with a rule.yml")
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			want := map[string]string{}
			comp := c.Compile()
			want["ir.txt"] = comp.IR
			for _, b := range backends.All {
				out, isErr := Render(b, c.Dir, comp.Rules, comp.Correlations)
				ext := ".txt"
				if isErr {
					ext = ".err"
				}
				want[b.Name()+ext] = out
				corrQueries := map[*ir.Correlation]string{}
				for _, corr := range comp.Correlations {
					if q, _, err := b.RenderCorrelation(corr); err == nil {
						if perr := PipelineChecks[b.Name()](q); perr != nil {
							t.Errorf("%s query of %q rejected by the reference grammar: %v\n%s", b.Name(), corr.Title, perr, q)
						}
						corrQueries[corr] = q
					}
				}
				if isErr || len(c.LogFiles()) == 0 {
					continue
				}
				// The target's reference grammar must accept every query, and
				// its interpreter must select the same events as the
				// evaluator; known, documented differences are recorded.
				queries := map[*ir.Rule][]string{}
				for _, r := range comp.Rules {
					qs, _, _ := b.Render(r)
					queries[r] = qs
					for _, q := range qs {
						if err := Visible(q); err != nil {
							t.Errorf("%s: %v", b.Name(), err)
						}
					}
				}
				for _, q := range corrQueries {
					if err := Visible(q); err != nil {
						t.Errorf("%s: %v", b.Name(), err)
					}
				}
				diff, err := Differential(b.Name(), queries, c.LogFiles())
				if err != nil {
					t.Errorf("%s: %v", b.Name(), err)
					continue
				}
				// Correlation queries run in the reference interpreter must
				// fire for the same windows and groups as the evaluator.
				if len(corrQueries) > 0 {
					cdiff, err := CorrelationDifferential(b.Name(), comp.Rules, comp.Correlations, corrQueries, c.LogFiles())
					if err != nil {
						t.Errorf("%s: %v", b.Name(), err)
						continue
					}
					diff += cdiff
				}
				if diff != "" {
					want[b.Name()+".divergence.txt"] = diff
				}
			}
			if files := c.LogFiles(); len(files) > 0 {
				out, err := Evaluate(c.Dir, comp.Rules, comp.Correlations, files)
				if err != nil {
					t.Fatalf("evaluate: %v", err)
				}
				want["eval.jsonl"] = out
			}
			check(t, c.Dir, want)
		})
	}
}

// check compares (or, with -update, writes) the expected files and fails on
// stale ones.
func check(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() || isInput(e.Name()) {
			continue
		}
		if _, ok := want[e.Name()]; !ok {
			if *update {
				os.Remove(filepath.Join(dir, e.Name()))
				continue
			}
			t.Errorf("%s: stale file (nothing produces it any more); run go test ./golden -update", filepath.Join(dir, e.Name()))
		}
	}
	for name, content := range want {
		p := filepath.Join(dir, name)
		if *update {
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("%s: missing; run go test ./golden -update and review the diff", p)
			continue
		}
		if string(got) != content {
			t.Errorf("%s differs; run go test ./golden -update and review the diff\n-want\n%s\n+got\n%s", p, got, content)
		}
	}
}
