package golden

import (
	"testing"
	"unicode"

	"github.com/sigc-project/sigc/backends"
	"github.com/sigc-project/sigc/backends/text"
	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/eval"
)

// foldOrbit lists the runes Unicode simple case folding makes equal to r.
func foldOrbit(r rune) []rune {
	out := []rune{r}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		out = append(out, f)
	}
	return out
}

// logscaleFlagDivergence is the documented difference of LogScale's
// case-insensitive regex flag (read as Unicode simple folding, as RE2 and
// Java's UNICODE_CASE do) from lower-casing, for the two characters where
// they differ next to an ASCII letter: U+0130 (İ) lower-cases to i but
// does not fold with it, U+017F (ſ) folds with s but does not lower-case
// to it. Patterns with letters beyond ASCII are written with classes, so
// they do not depend on the flag.
func logscaleFlagDivergence(pattern, value rune) bool {
	return pattern < 0x80 && (value == 'İ' || value == 'ſ')
}

// TestUnicodeCaseSpecialCases compares the evaluator with every target's
// reference interpreter on each character that has other cases, as a
// literal, inside a wildcard pattern and inside a list of values, against
// values holding each of its case variants (by lower-casing and by
// folding). Lower-casing is the definition; divergences are only the
// documented ones.
func TestUnicodeCaseSpecialCases(t *testing.T) {
	var runes []rune
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if len(text.LowerClass(r)) > 1 || unicode.SimpleFold(r) != r {
			runes = append(runes, r)
		}
	}
	checked, documented := 0, 0
	for _, r := range runes {
		lit := "x" + string(r) + "y"
		exprs := []ir.Expr{
			&ir.Match{Field: "A", Pattern: ir.Literal(lit)},
			&ir.Match{Field: "A", Pattern: ir.Pattern{{Kind: ir.Star}, {Kind: ir.Lit, Text: string(r)}, {Kind: ir.One}}},
			&ir.Or{Args: []ir.Expr{&ir.Match{Field: "A", Pattern: ir.Literal(lit)}, &ir.Match{Field: "A", Pattern: ir.Literal("zz")}}},
		}
		values := map[rune]bool{}
		for _, v := range append(text.LowerClass(r), foldOrbit(r)...) {
			values[v] = true
		}
		for _, e := range exprs {
			rule := &ir.Rule{ID: "u", Conditions: []ir.Expr{e}}
			eng, err := eval.New([]*ir.Rule{rule})
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range backends.All {
				qs, _, err := b.Render(rule)
				if err != nil {
					t.Fatalf("%s: %U: %v", b.Name(), r, err)
				}
				m, err := References[b.Name()](qs[0])
				if err != nil {
					t.Fatalf("%s: %U: query %s does not parse: %v", b.Name(), r, qs[0], err)
				}
				for v := range values {
					value := "x" + string(v) + "y"
					ev := eval.Prepare(map[string]any{"A": value}, eval.Options{})
					want := eng.Rules[0].Matches(ev)
					got := m(flatEvent{fields: map[string][]string{"A": {value}}, raw: value})
					checked++
					if got != want {
						if b.Name() == "logscale" && logscaleFlagDivergence(r, v) {
							documented++
							continue
						}
						t.Errorf("%s: pattern %U against %U: evaluator %v, target %v\n%s", b.Name(), r, v, want, got, qs[0])
					}
				}
			}
		}
	}
	t.Logf("%d characters with case variants, %d comparisons, %d documented LogScale flag divergences", len(runes), checked, documented)
	if len(runes) < 2000 {
		t.Errorf("only %d characters with case variants found", len(runes))
	}
}
