package text

import (
	"fmt"
	"testing"
	"time"

	"github.com/sigc-project/sigc/compiler/ir"
)

// synthetic is a test target with distinctive tokens, so the shared
// renderer is tested apart from any real SIEM.
func synthetic() *Dialect {
	return &Dialect{
		Name: "synthetic", And: " && ", Or: " || ",
		Not:       "NOT ",
		GroupOpen: "<", GroupClose: ">", True: "TRUE",
		Leaf: func(e ir.Expr) (string, error) {
			m, ok := e.(*ir.Match)
			if !ok {
				return "", Unsupported("synthetic", e.Position(), "%T", e)
			}
			return fmt.Sprintf("%s~%s", m.Field, m.Pattern.String()), nil
		},
		List: func(args []ir.Expr) (string, bool, error) {
			if len(args) < 3 {
				return "", false, nil
			}
			return fmt.Sprintf("%s IN[%d]", args[0].(*ir.Match).Field, len(args)), true, nil
		},
	}
}

func m(field, v string) ir.Expr { return &ir.Match{Field: field, Pattern: ir.Literal(v)} }

func expectRender(t *testing.T, e ir.Expr, want string) {
	t.Helper()
	got, err := synthetic().Render(e)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	if got != want {
		t.Errorf("-want %s\n+got  %s", want, got)
	}
}

func TestRenderPrecedence(t *testing.T) {
	expectRender(t, &ir.And{Args: []ir.Expr{m("a", "1"), &ir.Or{Args: []ir.Expr{m("b", "2"), m("c", "3")}}}}, "a~1 && <b~2 || c~3>")
	expectRender(t, &ir.Or{Args: []ir.Expr{&ir.And{Args: []ir.Expr{m("a", "1"), m("b", "2")}}, m("c", "3")}}, "<a~1 && b~2> || c~3")
	expectRender(t, &ir.Not{Arg: &ir.Or{Args: []ir.Expr{m("a", "1"), m("b", "2")}}}, "NOT <a~1 || b~2>")
	expectRender(t, &ir.Not{Arg: m("a", "1")}, "NOT a~1")
	expectRender(t, &ir.Const{Value: true}, "TRUE")
}

func TestRenderListFolding(t *testing.T) {
	expectRender(t, &ir.Or{Args: []ir.Expr{m("a", "1"), m("b", "x"), m("a", "2"), m("a", "3")}}, "a IN[3] || b~x")
	expectRender(t, &ir.Or{Args: []ir.Expr{m("a", "1"), m("a", "2")}}, "a~1 || a~2")
}

func TestRenderUnsupported(t *testing.T) {
	_, err := synthetic().Render(&ir.Exists{Field: "x"})
	if err == nil {
		t.Fatal("want an Unsupported error")
	}
	if _, err := synthetic().Render(&ir.Const{Value: false}); err == nil {
		t.Fatal("a missing constant token must be an error")
	}
}

func TestPatternRegex(t *testing.T) {
	p := ir.Pattern{{Kind: ir.Star}, {Kind: ir.Lit, Text: "a.b/c"}, {Kind: ir.One}, {Kind: ir.Lit, Text: "$"}}
	if got := PatternRegex(p, "^", "$", "(?s:.*)", RegexLiteral); got != `(?s:.*)a\.b\/c.\$$` {
		t.Errorf("got %s", got)
	}
	if got := PatternRegex(ir.Literal("x\ny"), `\A`, `\z`, "", RegexLiteral); got != `\Ax\x0ay\z` {
		t.Errorf("got %s", got)
	}
}

func TestQuote(t *testing.T) {
	if got := Quote("a\"b\\c\nd\x01"); got != `"a\"b\\c\nd\u0001"` {
		t.Errorf("got %s", got)
	}
	if got := RegexBody(`a/b\/c`); got != `a\/b\/c` {
		t.Errorf("got %s", got)
	}
	// Invisible characters never reach a query raw.
	if got := RegexBody("a\rb\x00c\u202ed[\u2028]"); got != `a\x0db\x00c\x{202e}d[\x{2028}]` {
		t.Errorf("got %s", got)
	}
	if got := RegexBody("\\Qa\rb/c\\E/"); got != `\Qa\E\x0d\Qb\E\/\Qc\E\/` {
		t.Errorf("got %s", got)
	}
	if got := RegexLiteral("\u202egpj.exe"); got != `\x{202e}gpj\.exe` {
		t.Errorf("got %s", got)
	}
	if got := ClassLiteral("Sİ-9"); got != `[sS][iIİ]-9` {
		t.Errorf("got %s", got)
	}
}

// Deep nesting renders in time linear in the tree: 20,000 alternating
// levels of and/or under not.
func TestRenderDeepLinear(t *testing.T) {
	var e ir.Expr = m("a", "1")
	for i := 0; i < 20000; i++ {
		if i%2 == 0 {
			e = &ir.And{Args: []ir.Expr{m("b", "2"), &ir.Not{Arg: e}}}
		} else {
			e = &ir.Or{Args: []ir.Expr{m("c", "3"), e}}
		}
	}
	start := time.Now()
	got, err := synthetic().Render(e)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second || len(got) < 20000*8 {
		t.Errorf("rendering 20,000 levels took %v for %d bytes", d, len(got))
	}
}

func TestRenderRule(t *testing.T) {
	d := synthetic()
	got, err := d.RenderRule(&ir.Rule{Conditions: []ir.Expr{m("a", "1"), &ir.And{Args: []ir.Expr{m("b", "2"), m("c", "3")}}}})
	if err != nil || got != "<a~1> || <b~2 && c~3>" {
		t.Errorf("got %q, %v", got, err)
	}
	if got, _ := d.RenderRule(&ir.Rule{Conditions: []ir.Expr{m("a", "1")}}); got != "a~1" {
		t.Errorf("one condition: %q", got)
	}
}
