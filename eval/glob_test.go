package eval

import (
	"math/rand"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sigc-project/sigc/compiler/ir"
)

// refGlob is the obvious definition of a wildcard match, through RE2.
func refGlob(p ir.Pattern, s string) bool {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	for _, seg := range p {
		switch seg.Kind {
		case ir.Lit:
			b.WriteString(regexp.QuoteMeta(seg.Text))
		case ir.Star:
			b.WriteString(`.*`)
		case ir.One:
			b.WriteString(`.`)
		}
	}
	b.WriteString(`\z`)
	return regexp.MustCompile(b.String()).MatchString(s)
}

func randPattern(rng *rand.Rand, alphabet []string) ir.Pattern {
	var p ir.Pattern
	for n := rng.Intn(8); n > 0; n-- {
		switch rng.Intn(4) {
		case 0:
			p = append(p, ir.Seg{Kind: ir.Star})
		case 1:
			p = append(p, ir.Seg{Kind: ir.One})
		default:
			p = append(p, ir.Seg{Kind: ir.Lit, Text: alphabet[rng.Intn(len(alphabet))]})
		}
	}
	return p.Normalize()
}

func randText(rng *rand.Rand, alphabet []string, n int) string {
	var b strings.Builder
	for i := rng.Intn(n); i > 0; i-- {
		b.WriteString(alphabet[rng.Intn(len(alphabet))])
	}
	return b.String()
}

// TestGlobAgreesWithRegexp compares the linear matcher with RE2 on random
// patterns and values over a small alphabet (multi-byte runes included),
// where overlaps and near misses are frequent.
func TestGlobAgreesWithRegexp(t *testing.T) {
	alphabet := []string{"a", "b", "ab", "é", "aé", "\n", "☃"}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 200000; i++ {
		p := randPattern(rng, alphabet)
		s := randText(rng, alphabet, 10)
		if got, want := compileGlob(p).match(s), refGlob(p, s); got != want {
			t.Fatalf("pattern %q on %q: got %v, want %v", p.String(), s, got, want)
		}
	}
}

func FuzzGlob(f *testing.F) {
	f.Add("*a*b?c*", "xxaxbycx")
	f.Add("a?*?b", "a☃☃b")
	f.Add("*", "")
	f.Fuzz(func(t *testing.T, pat, s string) {
		// Values reach the matcher as valid UTF-8 (the log readers refuse
		// other bytes), and patterns come from YAML, which is UTF-8.
		if len(pat) > 64 || len(s) > 256 || !utf8.ValidString(pat) || !utf8.ValidString(s) {
			return
		}
		p := parseTestPattern(pat)
		if got, want := compileGlob(p).match(s), refGlob(p, s); got != want {
			t.Fatalf("pattern %q on %q: got %v, want %v", p.String(), s, got, want)
		}
	})
}

// hostilePatterns are the shapes that made a backtracking matcher
// exponential, with the SigmaHQ pattern that took 47 s on 1 MB.
var hostilePatterns = []string{
	`*a*a*a*a*a*a*b`,
	`* /tmp/*.b64 *`,
	`*a?a?a?a?a?b*`,
	`a*a*a*a*a*a*a*a*b`,
	`*aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab*`,
	`*?*?*?*?*?*?*?*b`,
	`*a*a*a*a*a*a*b*`,
	`*?a?b*`,
	`*a*a*a*a*a*a*`,
}

func parseTestPattern(s string) ir.Pattern {
	var p ir.Pattern
	for _, r := range s {
		switch r {
		case '*':
			p = append(p, ir.Seg{Kind: ir.Star})
		case '?':
			p = append(p, ir.Seg{Kind: ir.One})
		default:
			p = append(p, ir.Seg{Kind: ir.Lit, Text: string(r)})
		}
	}
	return p.Normalize()
}

// TestGlobLinear bounds the time of every hostile pattern on an 8 MB value
// of `a`s (the worst case for them: every position is a near miss).
func TestGlobLinear(t *testing.T) {
	value := strings.Repeat("a", 8<<20)
	for _, ps := range hostilePatterns {
		for _, cased := range []bool{true, false} {
			test := patternTest(parseTestPattern(ps), cased)
			start := time.Now()
			test(value)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("%q (cased %v) on 8 MB took %v; matching must be linear", ps, cased, d)
			}
		}
	}
}

// BenchmarkWildcard8MB matches each hostile pattern against an 8 MB value:
//
//	go test ./eval -run XXX -bench Wildcard8MB
func BenchmarkWildcard8MB(b *testing.B) {
	values := map[string]string{
		"as":   strings.Repeat("a", 8<<20),
		"text": strings.Repeat("C:\\Windows\\System32\\cmd.exe /c echo aaaa /tmp/x.b6 ", (8<<20)/50),
	}
	for _, name := range []string{"as", "text"} {
		v := values[name]
		for _, ps := range hostilePatterns {
			test := patternTest(parseTestPattern(ps), false)
			b.Run(name+"/"+ps, func(b *testing.B) {
				b.SetBytes(int64(len(v)))
				for i := 0; i < b.N; i++ {
					test(v)
				}
			})
		}
	}
}

// BenchmarkRegex8MB matches regexes with counted repetitions, the shapes
// of base64 and obfuscation rules, against an 8 MB value:
//
//	go test ./eval -run XXX -bench Regex8MB
func BenchmarkRegex8MB(b *testing.B) {
	v := strings.Repeat("a", 8<<20)
	for _, src := range []string{`a.{0,200}b`, `[a-z]{500}b`, `(?i)[a-z0-9]{100}==`, `[A-Za-z0-9+/]{64}\.exe`} {
		r := &ir.Regex{Field: "A", Pattern: src}
		m, err := (&planner{index: map[string]int{}}).plan(r)
		if err != nil {
			b.Fatal(err)
		}
		test := m.(*strM).test
		b.Run(src, func(b *testing.B) {
			b.SetBytes(int64(len(v)))
			for i := 0; i < b.N; i++ {
				test(v)
			}
		})
	}
}
