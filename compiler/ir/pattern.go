package ir

import "strings"

// SegKind is the kind of a pattern segment.
type SegKind uint8

const (
	Lit  SegKind = iota // literal text
	Star                // any run of characters (`*`)
	One                 // exactly one character (`?`)
	// Placeholder is `%name%` from the `expand` modifier (Text is the
	// name). It exists only until the pipeline pass resolves it: no
	// pattern a backend or the evaluator receives holds one.
	Placeholder
)

// Seg is one piece of a wildcard pattern.
type Seg struct {
	Kind SegKind
	Text string // for Lit
}

// Pattern is a Sigma string after escape processing: literals and wildcards.
// Adjacent literals are merged and runs of Star collapsed by Normalize.
type Pattern []Seg

// Shape classifies a pattern for targets that have cheaper operators than a
// general glob.
type Shape int

const (
	ShapeExact    Shape = iota // "abc"
	ShapePrefix                // "abc*"
	ShapeSuffix                // "*abc"
	ShapeContains              // "*abc*"
	ShapeAny                   // "*"
	ShapeGlob                  // anything else
)

// Literal builds a pattern with no wildcards.
func Literal(s string) Pattern {
	if s == "" {
		return Pattern{}
	}
	return Pattern{{Kind: Lit, Text: s}}
}

// Normalize merges adjacent literals and collapses repeated stars, in time
// linear in the pattern's length.
func (p Pattern) Normalize() Pattern {
	out := make(Pattern, 0, len(p))
	var run strings.Builder // the literal being merged
	inRun := false
	flush := func() {
		if inRun {
			out = append(out, Seg{Kind: Lit, Text: run.String()})
			run.Reset()
			inRun = false
		}
	}
	for _, s := range p {
		switch {
		case s.Kind == Lit:
			if s.Text != "" {
				run.WriteString(s.Text)
				inRun = true
			}
		case s.Kind == Star && !inRun && len(out) > 0 && out[len(out)-1].Kind == Star:
		default:
			flush()
			out = append(out, s)
		}
	}
	flush()
	return out
}

// Shape reports the pattern's shape and its single literal when it has one.
func (p Pattern) Shape() (Shape, string) {
	switch {
	case len(p) == 0:
		return ShapeExact, ""
	case len(p) == 1 && p[0].Kind == Lit:
		return ShapeExact, p[0].Text
	case len(p) == 1 && p[0].Kind == Star:
		return ShapeAny, ""
	case len(p) == 2 && p[0].Kind == Lit && p[1].Kind == Star:
		return ShapePrefix, p[0].Text
	case len(p) == 2 && p[0].Kind == Star && p[1].Kind == Lit:
		return ShapeSuffix, p[1].Text
	case len(p) == 3 && p[0].Kind == Star && p[1].Kind == Lit && p[2].Kind == Star:
		return ShapeContains, p[1].Text
	}
	return ShapeGlob, ""
}

// HasWildcards reports whether the pattern has any Star or One.
func (p Pattern) HasWildcards() bool {
	for _, s := range p {
		if s.Kind != Lit {
			return true
		}
	}
	return false
}

// Wrap adds a leading and/or trailing star.
func (p Pattern) Wrap(lead, trail bool) Pattern {
	out := make(Pattern, 0, len(p)+2)
	if lead {
		out = append(out, Seg{Kind: Star})
	}
	out = append(out, p...)
	if trail {
		out = append(out, Seg{Kind: Star})
	}
	return out.Normalize()
}

// Lower returns the pattern with literals lower-cased.
func (p Pattern) Lower() Pattern {
	out := make(Pattern, len(p))
	for i, s := range p {
		if s.Kind == Lit {
			s.Text = strings.ToLower(s.Text)
		}
		out[i] = s
	}
	return out
}

// String renders the pattern back in Sigma syntax (escaping literal `*`, `?`
// and a backslash that would otherwise escape them).
func (p Pattern) String() string {
	var b strings.Builder
	for i, s := range p {
		switch s.Kind {
		case Star:
			b.WriteByte('*')
		case One:
			b.WriteByte('?')
		case Placeholder:
			b.WriteString("%" + s.Text + "%")
		case Lit:
			for j := 0; j < len(s.Text); j++ {
				c := s.Text[j]
				switch {
				case c == '*' || c == '?':
					b.WriteByte('\\')
				case c == '\\':
					next := byte(0)
					if j+1 < len(s.Text) {
						next = s.Text[j+1]
					} else if i+1 < len(p) {
						next = '*' // a wildcard follows
					}
					if next == '*' || next == '?' || next == '\\' {
						b.WriteByte('\\')
					}
				}
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}
