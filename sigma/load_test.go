package sigma

import (
	"fmt"
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
    k: 1.0e3
    l: 1.0e+3
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
		{"f", Null, "null"}, {"g", String, ""}, {"h", Null, ""}, {"i", String, "0x10"}, {"j", String, "1e3"},
		{"k", String, "1.0e3"}, {"l", Float, "1.0e+3"}}
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
	expectLoadError(t, b.String(), "once its aliases (*name) are expanded", 0)
	// A large document without aliases is not called an alias bomb.
	var big strings.Builder
	big.WriteString("title: t\nlogsource: {product: x}\ndetection:\n  sel:\n    A:\n")
	for i := 0; i < 210000; i++ {
		big.WriteString("      - v\n")
	}
	big.WriteString("  condition: sel\n")
	expectLoadError(t, big.String(), "has more than 200000 YAML nodes; a Sigma rule has hundreds", 0)
}

func expectLoadPos(t *testing.T, src, want string, line, col int) {
	t.Helper()
	_, diags := Load("r.yml", []byte(src))
	for _, d := range diags {
		if strings.Contains(d.Msg, want) {
			if d.Pos.Line != line || d.Pos.Col != col {
				t.Errorf("%q at %d:%d, want %d:%d", want, d.Pos.Line, d.Pos.Col, line, col)
			}
			return
		}
	}
	t.Errorf("no diagnostic contains %q: %v", want, diags)
}

func TestLoadMessages(t *testing.T) {
	expectLoadPos(t, "title: t\nlogsource: {product: x}\ndetection:\n  sel:\n    A: 'ab\xffc'\n  condition: sel\n", "not valid UTF-8", 5, 11)
	expectLoadPos(t, "title: é\x00\n", "NUL byte", 1, 9)
	expectLoadPos(t, minimal+"  x: {'': v}\n", "empty field name", 7, 7)
	expectLoadPos(t, "title: t\nid: \"a\u202eb\"\nlogsource: {product: x}\ndetection:\n  sel: {A: 1}\n  condition: sel\n", "invisible character U+202E", 2, 5)
	expectLoadPos(t, "title: t\nlogsource: {product: x}\ndetection:\n  sel: {A: !custom v}\n  condition: sel\n", "the YAML tag !custom is not one sigc reads", 4, 12)
	expectLoadPos(t, "title: t\nlogsource: {product: x}\ndetection:\n  sel: {A: !!null x}\n  condition: sel\n", "!!null takes no value", 4, 12)
}

// Explicit YAML tags decide a value's kind; merge keys are expanded.
func TestLoadTagsAndMergeKeys(t *testing.T) {
	src := `title: t
logsource: {product: x}
base: &base
  Image|endswith: '\a.exe'
  User: root
detection:
  sel:
    <<: *base
    User: admin
    N: !!null ''
    S: !!str 42
    I: !!int '7'
  condition: sel
`
	col, diags := Load("r.yml", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	items := col.Rules[0].Detection.Searches[0].Alts[0].Items
	var got []string
	for _, it := range items {
		got = append(got, fmt.Sprintf("%s=%s/%d", it.Key, it.Values[0].Raw, it.Values[0].Kind))
	}
	want := `[Image|endswith=\a.exe/0 User=admin/0 N=/4 S=42/0 I=7/1]`
	if fmt.Sprint(got) != want {
		t.Errorf("items %v, want %s", got, want)
	}
}

// In a directory, only regular files are read: a FIFO is skipped (it would
// block), a link to a directory is reported, a link to a file is followed.
func TestExpandPathsSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.yml"), []byte(minimal), 0o644)
	if err := syscallMkfifo(filepath.Join(dir, "fifo.yml")); err != nil {
		t.Skipf("SKIP: cannot make a FIFO here: %v", err)
	}
	sub := t.TempDir()
	os.WriteFile(filepath.Join(sub, "b.yml"), []byte(minimal), 0o644)
	os.Symlink(sub, filepath.Join(dir, "linked"))
	os.Symlink(filepath.Join(sub, "b.yml"), filepath.Join(dir, "c.yml"))
	os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "dangling.yml"))
	files, diags := ExpandPaths([]string{dir})
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	if fmt.Sprint(names) != "[a.yml c.yml]" {
		t.Errorf("files %v, want [a.yml c.yml]", names)
	}
	msgs := fmt.Sprint(diags)
	for _, want := range []string{"fifo.yml: warning: skipped: not a regular file (a FIFO)", "linked: warning: skipped: a symbolic link to a directory is not followed", "dangling.yml: warning: skipped: the symbolic link leads nowhere"} {
		if !strings.Contains(msgs, want) {
			t.Errorf("diagnostics lack %q: %s", want, msgs)
		}
	}
	if diags.HasErrors() {
		t.Errorf("skipping is not an error: %v", diags)
	}
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

// A large mapping within the node budget loads every item: the budget is
// spent by the shape check, not again while loading.
func TestLoadLargeMappingKeepsEveryItem(t *testing.T) {
	var b strings.Builder
	b.WriteString("title: t\nlogsource: {product: x}\ndetection:\n  sel:\n")
	for i := 0; i < 90000; i++ {
		fmt.Fprintf(&b, "    f%d: x\n", i)
	}
	b.WriteString("  condition: sel\n")
	col, diags := Load("r.yml", []byte(b.String()))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if n := len(col.Rules[0].Detection.Searches[0].Alts[0].Items); n != 90000 {
		t.Errorf("%d items loaded, want 90000", n)
	}
}
