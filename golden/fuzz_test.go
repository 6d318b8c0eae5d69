package golden

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sigc-project/sigc/backends"
	"github.com/sigc-project/sigc/compiler"
	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/eval"
	"github.com/sigc-project/sigc/sigma"
)

// FuzzPipeline drives a rule through the whole pipeline: load, compile,
// render for every target and evaluate one event. Any input must end in
// queries or diagnostics, never a panic. Seeds: every golden rule.
func FuzzPipeline(f *testing.F) {
	cases, _ := Cases(".")
	for _, c := range cases {
		if b, err := os.ReadFile(filepath.Join(c.Dir, "rule.yml")); err == nil {
			f.Add(b)
		}
	}
	event := eval.Prepare(map[string]any{"A": "x", "Image": `C:\a.exe`, "n": 5.0, "arr": []any{"a", "b"}, "@timestamp": "2026-11-02T10:00:00Z"}, eval.Options{})
	f.Fuzz(func(t *testing.T, src []byte) {
		col, _ := sigma.Load("fuzz.yml", src)
		results := compiler.Compile(col, compiler.Options{})
		var corrs []*ir.Correlation
		for _, cr := range compiler.CompileCorrelations(col, results, compiler.Options{}) {
			if cr.Correlation == nil {
				if len(cr.Diags) == 0 {
					t.Fatal("correlation failed without a diagnostic")
				}
				continue
			}
			corrs = append(corrs, cr.Correlation)
			for _, b := range backends.All {
				b.RenderCorrelation(cr.Correlation)
			}
		}
		cor := eval.NewCorrelator(corrs, "", func(*eval.Firing) {})
		defer cor.Close()
		for _, res := range results {
			if res.Rule == nil {
				if len(res.Diags) == 0 {
					t.Fatal("compile failed without a diagnostic")
				}
				continue
			}
			for _, b := range backends.All {
				qs, _, err := b.Render(res.Rule)
				if err == nil && len(qs) == 0 {
					t.Fatalf("%s rendered no query and no error", b.Name())
				}
			}
			eng, err := eval.New([]*ir.Rule{res.Rule})
			if err != nil {
				t.Fatalf("a compiled rule failed to plan: %v", err)
			}
			eng.Each(event, func(m *eval.Rule) { cor.Add(m.IR, event) })
		}
	})
}
