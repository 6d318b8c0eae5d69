package golden

import (
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
