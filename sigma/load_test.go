package sigma

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func expectLoadError(t *testing.T, src, want string, line int) {
	t.Helper()
	_, diags := Load("r.yml", []byte(src))
	if !diags.HasErrors() {
		t.Fatalf("want an error containing %q, got none", want)
	}
	d := diags[0]
	if !strings.Contains(d.Msg, want) {
		t.Errorf("error %q lacks %q", d.Error(), want)
	}
	if line > 0 && d.Pos.Line != line {
		t.Errorf("error at line %d, want %d: %v", d.Pos.Line, line, d)
	}
	if d.Pos.File != "r.yml" {
		t.Errorf("error does not name the file: %v", d)
	}
}

const minimal = `title: t
logsource: {product: x}
detection:
  sel:
    A: '1'
  condition: sel
`

func TestLoadValuesAsWritten(t *testing.T) {
	src := `title: t
logsource: {product: x}
detection:
  sel:
    a: 00000429
    b: 429
    c: '429'
    d: 1.5
    e: true
    f: null
    g: ''
    h:
    i: 0x10
    j: 1e3
  condition: sel
`
	col, diags := Load("r.yml", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	items := col.Rules[0].Detection.Searches[0].Alts[0].Items
	want := []struct {
		field string
		kind  ValueKind
		raw   string
	}{{"a", String, "00000429"}, {"b", Int, "429"}, {"c", String, "429"}, {"d", Float, "1.5"}, {"e", Bool, "true"},
		{"f", Null, "null"}, {"g", String, ""}, {"h", Null, ""}, {"i", String, "0x10"}, {"j", String, "1e3"}}
	if len(items) != len(want) {
		t.Fatalf("got %d items, want %d (order must be kept)", len(items), len(want))
	}
	for i, w := range want {
		v := items[i].Values[0]
		if items[i].Field != w.field || v.Kind != w.kind || v.Raw != w.raw {
			t.Errorf("item %d: got %s %v %q, want %s %v %q", i, items[i].Field, v.Kind, v.Raw, w.field, w.kind, w.raw)
		}
	}
}

func TestLoadPositions(t *testing.T) {
	src := "title: t\nlogsource: {product: x}\ndetection:\n  sel:\n    Image|endswith|contains: x\n  condition: sel\n"
	col, _ := Load("r.yml", []byte(src))
	it := col.Rules[0].Detection.Searches[0].Alts[0].Items[0]
	if it.Pos.Line != 5 || it.Pos.Col != 5 {
		t.Errorf("item at %v", it.Pos)
	}
	if m := it.Modifiers[1]; m.Name != "contains" || m.Pos.Col != 20 {
		t.Errorf("modifier %q at %v, want contains at col 20", m.Name, m.Pos)
	}
	c := col.Rules[0].Detection.Conditions[0]
	if c.Pos.Line != 6 || c.Pos.Col != 14 {
		t.Errorf("condition at %v", c.Pos)
	}
}

func TestLoadMultiDocumentAndFilter(t *testing.T) {
	src := minimal + "---\n" + minimal + "---\ntitle: f\nlogsource: {product: x}\nfilter:\n  rules: [a, b]\n  sel:\n    B: 1\n  condition: sel\n"
	col, diags := Load("r.yml", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if len(col.Rules) != 2 || len(col.Filters) != 1 || len(col.Filters[0].Rules) != 2 {
		t.Errorf("got %d rules, %d filters", len(col.Rules), len(col.Filters))
	}
}

func TestLoadBadInput(t *testing.T) {
	expectLoadError(t, "title: [unclosed\n", "not valid YAML", 0)
	expectLoadError(t, "- just\n- a list\n", "must be a mapping", 1)
	expectLoadError(t, "title: x\n", "no `detection`", 1)
	expectLoadError(t, "title: t\nlogsource: {}\ndetection:\n  sel: {A: 1}\n", "no condition", 4)
	expectLoadError(t, "title: t\nlogsource: {}\ndetection:\n  sel:\n    A: 1\n    A: 2\n  condition: sel\n", "duplicate field", 6)
	expectLoadError(t, "action: global\ntitle: t\n", "legacy", 1)
	expectLoadError(t, "title: t\x00\n", "NUL", 0)
	expectLoadError(t, "title: t\nlogsource: {}\ndetection:\n  sel:\n    A: {b: 1}\n  condition: sel\n", "not a map", 5)
}

func TestLoadAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 12; i++ {
		b.WriteString("a" + itoa(i) + ": &a" + itoa(i) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + itoa(i-1))
		}
		b.WriteString("]\n")
	}
	b.WriteString("detection:\n  sel:\n    A: *a11\n  condition: sel\n")
	expectLoadError(t, b.String(), "alias bomb", 0)
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestLoadDeepNesting(t *testing.T) {
	depth := 10000
	src := "title: t\ndetection:\n  sel: " + strings.Repeat("[", depth) + strings.Repeat("]", depth) + "\n  condition: sel\n"
	_, diags := Load("r.yml", []byte(src))
	if !diags.HasErrors() {
		t.Fatal("want an error for 10,000-deep nesting")
	}
}

func TestLoadHugeFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "big.yml")
	big := make([]byte, 50<<20)
	for i := range big {
		big[i] = 'a'
	}
	if err := os.WriteFile(p, big, 0o644); err != nil {
		t.Fatal(err)
	}
	f := LoadFile(p, nil)
	if !f.Diags.HasErrors() || !strings.Contains(f.Diags[0].Msg, "limit") {
		t.Fatalf("want a size-limit error, got %v", f.Diags)
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte("title: t\nlogsource: {}\ndetection:\n  k: [a, b]\n  condition: k\n---\ntitle: f\nfilter:\n  rules: any\n  s: {A|contains: x}\n  condition: s\n"))
	for _, dir := range []string{"../golden", "../examples/serverless"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*", "rule.yml"))
		more, _ := filepath.Glob(filepath.Join(dir, "*.yml"))
		for _, p := range append(files, more...) {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	// Every 25th SigmaHQ rule, where the shared corpus is beside the checkout.
	if paths, _ := ExpandPaths([]string{"../../shared/corpus/sigmahq/rules"}); len(paths) > 0 {
		for i := 0; i < len(paths); i += 25 {
			if b, err := os.ReadFile(paths[i]); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		Load("fuzz.yml", src)
	})
}
