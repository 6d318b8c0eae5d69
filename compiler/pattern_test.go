package compiler

import (
	"testing"

	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/sigma"
)

func expectPattern(t *testing.T, in string, want ir.Pattern) {
	t.Helper()
	got := ir.ParsePattern(in)
	if len(got) != len(want) {
		t.Fatalf("ir.ParsePattern(%q) = %#v, want %#v", in, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("ir.ParsePattern(%q) = %#v, want %#v", in, got, want)
		}
	}
}

func lit(s string) ir.Seg { return ir.Seg{Kind: ir.Lit, Text: s} }

var star, one = ir.Seg{Kind: ir.Star}, ir.Seg{Kind: ir.One}

func TestParsePattern(t *testing.T) {
	expectPattern(t, `abc`, ir.Pattern{lit("abc")})
	expectPattern(t, `a*b?c`, ir.Pattern{lit("a"), star, lit("b"), one, lit("c")})
	expectPattern(t, `C:\Windows\`, ir.Pattern{lit(`C:\Windows\`)})
	expectPattern(t, `\Temp\*.ps1`, ir.Pattern{lit(`\Temp*.ps1`)})
	expectPattern(t, `\Temp\\*.ps1`, ir.Pattern{lit(`\Temp\`), star, lit(".ps1")})
	expectPattern(t, `\\\*`, ir.Pattern{lit(`\*`)})
	expectPattern(t, `a\?`, ir.Pattern{lit(`a?`)})
	expectPattern(t, `**x`, ir.Pattern{star, lit("x")})
	expectPattern(t, `trailing\`, ir.Pattern{lit(`trailing\`)})
	expectPattern(t, ``, ir.Pattern{})
}

// The printer must write back a string that parses to the same pattern.
func TestPatternRoundTrip(t *testing.T) {
	for _, s := range []string{`a*b`, `C:\Windows\`, `\Temp\\*.ps1`, `\\\*`, `a\?b`, `x\\`, `\\`, `a\b*`} {
		p := ir.ParsePattern(s)
		if q := ir.ParsePattern(p.String()); q.String() != p.String() {
			t.Errorf("%q: printed %q reparses as %q", s, p.String(), q.String())
		}
	}
}

func TestBase64Offsets(t *testing.T) {
	// Reference values from the Sigma specification's base64offset example.
	got := base64Offsets("http://")
	want := []string{"aHR0cDovL", "h0dHA6Ly", "odHRwOi8v"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("offset %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

func TestWindash(t *testing.T) {
	v, ok := windashVariants("-a /b")
	if !ok || len(v) != 25 {
		t.Fatalf("got %d variants", len(v))
	}
	if _, ok := windashVariants("-----"); ok {
		t.Error("5 dashes (3125 variants) should exceed the bound")
	}
}

func TestEncodings(t *testing.T) {
	if got := utf16LE("hi"); got != "h\x00i\x00" {
		t.Errorf("utf16le: %q", got)
	}
	if got := utf16BE("hi"); got != "\x00h\x00i" {
		t.Errorf("utf16be: %q", got)
	}
	if got := utf16BOM("hi"); got != "\xff\xfeh\x00i\x00" {
		t.Errorf("utf16: %q", got)
	}
}

func FuzzParsePattern(f *testing.F) {
	for _, s := range []string{`a*b?c`, `C:\Windows\`, `\Temp\\*.ps1`, `\\\*`, `*`, `?`, `\`, "é*\\?"} {
		f.Add(s)
	}
	paths, _ := sigma.ExpandPaths([]string{"../../shared/corpus/sigmahq/rules"})
	for i := 0; i < len(paths); i += 10 {
		for _, r := range sigma.LoadFile(paths[i], nil).Collection.Rules {
			for _, s := range r.Detection.Searches {
				for _, a := range s.Alts {
					for _, it := range a.Items {
						for _, v := range it.Values {
							f.Add(v.Raw)
						}
					}
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := ir.ParsePattern(s)
		if q := ir.ParsePattern(p.String()); q.String() != p.String() {
			t.Errorf("%q: printed %q reparses as %q", s, p.String(), q.String())
		}
	})
}
