package text

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/sigc-project/sigc/compiler/ir"
)

// Quote writes s as a double-quoted string with backslash escapes for the
// quote, the backslash and control characters.
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// RegexLiteral escapes literal text for a regex inside /…/ delimiters:
// metacharacters, the delimiter and control bytes.
func RegexLiteral(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '/':
			b.WriteString(`\/`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case strings.ContainsRune(`\.+*?()|[]{}^$`, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// RegexBody writes a user regex inside /…/ delimiters, escaping unescaped
// slashes only.
func RegexBody(re string) string {
	var b strings.Builder
	for i := 0; i < len(re); i++ {
		c := re[i]
		switch {
		case c == '\\' && i+1 < len(re):
			b.WriteByte(c)
			b.WriteByte(re[i+1])
			i++
		case c == '/':
			b.WriteString(`\/`)
		case c == '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// PatternRegex turns a wildcard pattern into a regex body: `*` is `.*` and
// `?` is `.`. A side without a wildcard is anchored with begin or end; a side
// that starts or ends with `*` gets open instead (empty for a search engine,
// `(?s:.*)` where the target matches whole values).
func PatternRegex(p ir.Pattern, begin, end, open string) string {
	var b strings.Builder
	if len(p) > 0 && p[0].Kind == ir.Star {
		b.WriteString(open)
		p = p[1:]
	} else {
		b.WriteString(begin)
	}
	trailing := len(p) > 0 && p[len(p)-1].Kind == ir.Star
	if trailing {
		p = p[:len(p)-1]
	}
	for _, s := range p {
		switch s.Kind {
		case ir.Lit:
			b.WriteString(RegexLiteral(s.Text))
		case ir.Star:
			b.WriteString(".*")
		case ir.One:
			b.WriteByte('.')
		}
	}
	if trailing {
		b.WriteString(open)
	} else {
		b.WriteString(end)
	}
	return b.String()
}

// HasControl reports control characters: neither target documents a string
// escape for them, so values holding them are matched with a regex, which
// writes them as \xhh.
func HasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// ValidUTF8 reports an error for a match whose value a text query cannot
// carry. Check the pattern as compiled: lower-casing would hide bad bytes.
func ValidUTF8(target string, m *ir.Match) error {
	for _, s := range m.Pattern {
		if !utf8.ValidString(s.Text) {
			return Unsupported(target, m.Pos, "a value that is not valid UTF-8 (a utf16 modifier without base64?)")
		}
	}
	return nil
}

// InlineFlags reports whether a user regex sets inline flags such as (?i).
var InlineFlags = regexp.MustCompile(`\(\?[imsU-]+[:)]`)

// AliasedGroups reports whether some input of a correlation reads a
// group-by value from a field of another name (aliases), so the query must
// copy it into the group field first.
func AliasedGroups(c *ir.Correlation) bool {
	for _, in := range c.Inputs {
		for i, g := range in.GroupFields {
			if g != c.GroupBy[i] {
				return true
			}
		}
	}
	return false
}
