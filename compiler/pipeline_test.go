package compiler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParsePipelineErrors(t *testing.T) {
	for src, want := range map[string]string{
		"":                        "p.yml:1:1: error: the pipeline file is empty",
		"nosuch: 1\n":             "p.yml:1:1: error: bad pipeline: field nosuch not found",
		"field_mapping: [a, b]\n": "p.yml:1:1: error: bad pipeline",
	} {
		_, err := ParsePipeline("p.yml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", src, err, want)
		}
	}
	if _, err := ParsePipeline("p.yml", make([]byte, 5<<20)); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("huge pipeline: %v", err)
	}
}

// FuzzPipelineLoad: any pipeline text loads or gives a positioned
// diagnostic; it never panics. Seeds: the pipelines of the repository.
func FuzzPipelineLoad(f *testing.F) {
	for _, glob := range []string{"../examples/pipelines/*.yml", "../golden/*/pipeline.yml"} {
		files, _ := filepath.Glob(glob)
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("vars:\n  a: &x [1, 2]\n  b: *x\nfield_mapping: {A: B}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := ParsePipeline("p.yml", src)
		if err == nil && p == nil {
			t.Fatal("no pipeline and no error")
		}
		if err != nil && !strings.HasPrefix(err.Error(), "p.yml") {
			t.Fatalf("error without a position: %v", err)
		}
	})
}
