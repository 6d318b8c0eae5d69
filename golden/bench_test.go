package golden

import (
	"strings"
	"testing"

	"github.com/sigc-project/sigc/backends"
	"github.com/sigc-project/sigc/compiler"
	"github.com/sigc-project/sigc/sigma"
)

// BenchmarkConvertCorpus converts the whole shared SigmaHQ rule set (load,
// compile, render) per target:
//
//	go test ./golden -run XXX -bench ConvertCorpus -benchtime 5x
func BenchmarkConvertCorpus(b *testing.B) {
	needCorpus(b)
	files := corpusFiles(b, ruleDirs)
	for _, be := range backends.All {
		b.Run(be.Name(), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				n := 0
				for _, f := range files {
					lf := sigma.LoadFile(f, nil)
					for _, res := range compiler.Compile(lf.Collection, compiler.Options{}) {
						if res.Rule != nil {
							if _, _, err := be.Render(res.Rule); err == nil {
								n++
							}
						}
					}
				}
				b.ReportMetric(float64(n), "rules")
			}
		})
	}
}

// BenchmarkConvertDeepNesting converts a rule whose condition nests
// 100,000 parentheses: it must be refused (by its length, or its depth when
// shorter), in milliseconds.
//
//	go test ./golden -run XXX -bench ConvertDeepNesting
func BenchmarkConvertDeepNesting(b *testing.B) {
	cond := strings.Repeat("(", 100_000) + "sel" + strings.Repeat(")", 100_000)
	src := []byte("title: deep\nlogsource: {product: x}\ndetection:\n  sel: {A: x}\n  condition: " + cond + "\n")
	for i := 0; i < b.N; i++ {
		col, _ := sigma.Load("deep.yml", src)
		res := compiler.Compile(col, compiler.Options{})
		if len(res) != 1 || res[0].Rule != nil || !strings.Contains(res[0].Diags.Error(), "condition is longer than") {
			b.Fatalf("want a nesting error, got %v", res[0].Diags)
		}
	}
}
