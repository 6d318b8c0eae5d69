package condition

import (
	"testing"

	"github.com/sigc-project/sigc/sigma"
)

func expectParse(t *testing.T, in, want string) {
	t.Helper()
	e, err := Parse(in)
	if err != nil {
		t.Fatalf("Parse(%q): %v", in, err)
	}
	if got := String(e); got != want {
		t.Errorf("Parse(%q)\n-want %s\n+got  %s", in, want, got)
	}
}

func expectError(t *testing.T, in string, col int, contains string) {
	t.Helper()
	_, err := Parse(in)
	if err == nil {
		t.Fatalf("Parse(%q): want error", in)
	}
	pe := err.(*Error)
	if col > 0 && pe.Pos.Column != col {
		t.Errorf("Parse(%q): error at column %d, want %d (%v)", in, pe.Pos.Column, col, err)
	}
	if contains != "" && !contains_(pe.Msg, contains) {
		t.Errorf("Parse(%q): error %q lacks %q", in, pe.Msg, contains)
	}
}

func contains_(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestParse(t *testing.T) {
	expectParse(t, "selection", "selection")
	expectParse(t, "a and b or c", "((a and b) or c)")
	expectParse(t, "a or b and c", "(a or (b and c))")
	expectParse(t, "a AND NOT b", "(a and (not b))")
	expectParse(t, "not a and b", "((not a) and b)")
	expectParse(t, "Not (a Or b)", "(not (a or b))")
	expectParse(t, "1 of sel* and not 1 of filter_*", "((1 of sel*) and (not (1 of filter_*)))")
	expectParse(t, "all of them", "(all of them)")
	expectParse(t, "any of THEM", "(1 of them)")
	expectParse(t, "2 of sel_*", "(2 of sel_*)")
	expectParse(t, "all of *_x*y", "(all of *_x*y)")
	expectParse(t, "sel1\n  and\n  sel2", "(sel1 and sel2)")
	expectParse(t, "((a))", "a")
	expectParse(t, "a and b and c", "(a and b and c)")
	expectParse(t, "not not a", "(not (not a))")
}

func TestParseErrors(t *testing.T) {
	expectError(t, "", 1, "empty")
	expectError(t, "sel | count() by x > 5", 5, "obsolete")
	expectError(t, "a near b", 3, "near")
	expectError(t, "a and", 0, "syntax")
	expectError(t, "(a or b", 0, "syntax")
	expectError(t, "a & b", 3, "unexpected character")
	expectError(t, "0 of sel*", 1, "positive")
	expectError(t, "a b", 0, "syntax")
	expectError(t, "and", 0, "")
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"a and not b", "1 of sel* or all of them", "(a or b) and c", "not (x)", "sel | count() > 3", "2 of x_*"} {
		f.Add(s)
	}
	for _, c := range corpusConditions() {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err == nil {
			String(e)
		}
	})
}

// corpusConditions returns the conditions of every 10th SigmaHQ rule, where
// the shared corpus is beside the checkout (fuzz seeds).
func corpusConditions() []string {
	paths, _ := sigma.ExpandPaths([]string{"../../../shared/corpus/sigmahq/rules"})
	var out []string
	for i := 0; i < len(paths); i += 10 {
		f := sigma.LoadFile(paths[i], nil)
		for _, r := range f.Collection.Rules {
			for _, c := range r.Detection.Conditions {
				out = append(out, c.Text)
			}
		}
	}
	return out
}

// Every condition of the SigmaHQ rules parses.
func TestCorpusConditionsParse(t *testing.T) {
	conds := corpusConditions()
	if len(conds) == 0 {
		t.Skip("SKIP: ../../../shared/corpus/sigmahq is absent; corpus conditions not parsed")
	}
	for _, c := range conds {
		if _, err := Parse(c); err != nil {
			t.Errorf("%q: %v", c, err)
		}
	}
}
