package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/diag"
	"github.com/sigc-project/sigc/sigma"
)

func TestParsePipelineErrors(t *testing.T) {
	for src, want := range map[string]string{
		"":                                     "p.yml:1:1: error: the pipeline file is empty",
		"nosuch: 1\n":                          "p.yml:1:1: error: a pipeline has no key \"nosuch\"; it takes `name`",
		"field_mapping: [a, b]\n":              "p.yml:1:1: error: `field_mapping` is the format of sigc before 0.2",
		"transformations:\n  - type: nosuch\n": "p.yml:2:11: error: unknown transformation type \"nosuch\"",
		"transformations:\n  - type: field_name_prefix\n    prefix: x\n    colour: red\n":                                                      "p.yml:4:5: error: transformation \"field_name_prefix\" has no key \"colour\"",
		"transformations:\n  - type: drop_detection_item\n    rule_conditions: [{type: nosuch}]\n":                                             "p.yml:3:30: error: unknown rule condition type \"nosuch\"",
		"transformations:\n  - type: field_name_transform\n":                                                                                   "p.yml:2:11: error: transformation \"field_name_transform\" is not supported: it calls a Python function",
		"transformations:\n  - type: drop_detection_item\n    rule_cond_expr: a and b\n    rule_conditions:\n      a: {type: is_sigma_rule}\n": "p.yml:3:21: error: rule_cond_expr names \"b\"",
		"finalizers:\n  - type: xml\n": "p.yml:2:11: error: unknown finalizer type \"xml\"",
		"transformations:\n  - type: field_name_mapping\n    mapping: {Image: ''}\n":          "p.yml:3:22: error: transformation \"field_name_mapping\": \"Image\" maps to an empty field name",
		"title: x\nlogsource: {product: windows}\ndetection: {sel: {a: b}, condition: sel}\n": "p.yml:1:1: error: this is a Sigma rule, not a processing pipeline",
		"transformations:\n  - type: field_name_prefix\n    prefx: x\n":                       "has no key \"prefx\"; it takes `type`, `id`, `rule_conditions`",
		"priority: high\n": "p.yml:1:11: error: a pipeline: \"priority\" must be a whole number",
	} {
		_, err := Parse("p.yml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", src, err, want)
		}
	}
	if _, err := Parse("p.yml", make([]byte, 5<<20)); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("huge pipeline: %v", err)
	}
}

// FuzzPipelineLoad: any pipeline text loads or gives a positioned
// diagnostic; it never panics. Seeds: the pipelines of the repository.
func FuzzPipelineLoad(f *testing.F) {
	for _, glob := range []string{"../../examples/pipelines/*.yml", "../../golden/*/pipeline*.yml", "builtin/*.yml"} {
		files, _ := filepath.Glob(glob)
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("vars:\n  a: &x [1, 2]\n  b: *x\nfield_mapping: {A: B}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := Parse("p.yml", src)
		if err == nil && p == nil {
			t.Fatal("no pipeline and no error")
		}
		if err != nil && !strings.HasPrefix(err.Error(), "p.yml") {
			t.Fatalf("error without a position: %v", err)
		}
	})
}

// TestHostilePipelines: small files that would expand without end are
// refused quickly with a positioned error.
func TestHostilePipelines(t *testing.T) {
	var nest strings.Builder
	nest.WriteString("transformations:\n  - type: nest\n    items: &l0 [{type: field_name_suffix, suffix: x}, {type: field_name_suffix, suffix: y}, {type: field_name_suffix, suffix: z}]\n")
	for i := 1; i < 12; i++ {
		fmt.Fprintf(&nest, "  - type: nest\n    items: &l%d [{type: nest, items: *l%d}, {type: nest, items: *l%d}, {type: nest, items: *l%d}]\n", i, i-1, i-1, i-1)
	}
	for name, src := range map[string]string{
		"nested aliases":  nest.String(),
		"template bomb":   "postprocessing:\n  - type: template\n    template: '{{define \"a\"}}{{.Query}}{{.Query}}{{end}}{{template \"a\" .}}'\n",
		"range a number":  "finalizers:\n  - type: template\n    template: '{{range 100000000000}}x{{end}}'\n",
		"indent":          "finalizers:\n  - type: yaml\n    indent: 100000000\n",
		"long field name": "transformations:\n" + strings.Repeat("  - {type: field_name_prefix, prefix: '"+strings.Repeat("p", 100)+"'}\n", 20),
	} {
		start := time.Now()
		p, err := Parse("p.yml", []byte(src))
		if err == nil && name == "long field name" {
			err = applyOnce(p)
		}
		if err == nil || !strings.HasPrefix(err.Error(), "p.yml:") {
			t.Errorf("%s: want a positioned error, got %v", name, err)
		}
		t.Logf("%s: %v", name, err)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: took %v", name, d)
		}
	}
}

// applyOnce runs the pipeline over a one-item rule.
func applyOnce(p *Pipeline) error {
	it := &Item{Field: "Image", Values: []*Value{{Alts: []ir.Expr{&ir.Match{Field: "Image", Pattern: ir.Literal("x")}}}}}
	s := &Subject{Rule: &sigma.Rule{}, Conditions: []ir.Expr{it}, Pos: diag.Pos{File: "p.yml", Line: 1, Col: 1}}
	if d := p.Apply(s); d.HasErrors() {
		return d
	}
	return nil
}
