package ir

import (
	"strings"
	"testing"
)

func m(field string) Expr { return &Match{Field: field, Pattern: Literal("x")} }

func expectSimplify(t *testing.T, in Expr, want string) {
	t.Helper()
	got := strings.Join(strings.Fields(Print(Simplify(in))), " ")
	if got != want {
		t.Errorf("-want %s\n+got  %s", want, got)
	}
}

func TestSimplify(t *testing.T) {
	expectSimplify(t, &And{Args: []Expr{m("a"), &And{Args: []Expr{m("b"), m("c")}}}},
		`(and (match "a" "x") (match "b" "x") (match "c" "x"))`)
	expectSimplify(t, &Or{Args: []Expr{m("a"), &Const{Value: false}}}, `(match "a" "x")`)
	expectSimplify(t, &Or{Args: []Expr{m("a"), &Const{Value: true}}}, `(const true)`)
	expectSimplify(t, &And{Args: []Expr{m("a"), &Const{Value: false}}}, `(const false)`)
	expectSimplify(t, &Not{Arg: &Not{Arg: m("a")}}, `(match "a" "x")`)
	expectSimplify(t, &Not{Arg: &Exists{Field: "f"}}, `(null "f")`)
	expectSimplify(t, &Not{Arg: &Null{Field: "f"}}, `(exists "f")`)
	expectSimplify(t, &Or{}, `(const false)`)
	expectSimplify(t, &And{}, `(const true)`)
}

func TestPatternShape(t *testing.T) {
	star := Seg{Kind: Star}
	lit := Seg{Kind: Lit, Text: "ab"}
	for _, c := range []struct {
		p     Pattern
		shape Shape
	}{
		{Pattern{lit}, ShapeExact},
		{Pattern{lit, star}, ShapePrefix},
		{Pattern{star, lit}, ShapeSuffix},
		{Pattern{star, lit, star}, ShapeContains},
		{Pattern{star}, ShapeAny},
		{Pattern{lit, {Kind: One}}, ShapeGlob},
		{Pattern{lit, star, lit}, ShapeGlob},
	} {
		if got, _ := c.p.Shape(); got != c.shape {
			t.Errorf("%q: shape %d, want %d", c.p.String(), got, c.shape)
		}
	}
	if got := (Pattern{{Kind: Lit, Text: "a"}, {Kind: Lit, Text: "b"}, star, star}).Normalize(); len(got) != 2 || got[0].Text != "ab" {
		t.Errorf("normalize: %#v", got)
	}
}

func TestPrintCorrelation(t *testing.T) {
	c := &Correlation{ID: "c", Title: "t", Type: "aggregate", Timespan: 3600e9, GroupBy: []string{"h"},
		Inputs:    []*Input{{Ref: "r", Rule: &Rule{ID: "r1"}, GroupFields: []string{"h"}}},
		Named:     []Named{{Name: "n", Expr: &AggCall{Func: AggCount}}, {Name: "j", Expr: &Arith{Op: '/', L: &AggCall{Func: AggStddev, Arg: EvInterval{}}, R: &NameRef{Name: "n"}}}},
		Condition: &CAnd{Args: []Cond{&CCmp{Op: ">=", L: &NameRef{Name: "n"}, R: &Num{V: 2, Text: "2"}}, &CNot{Arg: &CCmp{Op: "<", L: &NameRef{Name: "j"}, R: &Num{Text: "0.1"}}}}},
	}
	got := PrintCorrelation(c)
	for _, want := range []string{"type=aggregate timespan=1h0m0s", "input rule r r1 group=[h]", "n = count()", "j = (stddev(interval()) / n)", "condition (n >= 2) and (not j < 0.1)"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
}
