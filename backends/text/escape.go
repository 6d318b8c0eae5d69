package text

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
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

// Invisible reports characters a reviewer cannot see or that change how
// the text around them is shown: control characters, format characters
// (bidi overrides such as U+202E, zero-width characters, the byte order
// mark) and the line and paragraph separators. Queries never carry them
// raw: inside regexes they are written as escapes, and values holding them
// are matched with a regex.
func Invisible(r rune) bool {
	return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

// HasInvisible reports whether s holds an Invisible character.
func HasInvisible(s string) bool { return strings.IndexFunc(s, Invisible) >= 0 }

// regexEscape writes an invisible character as an escape both RE2 and the
// Java-derived engines read: \xhh, or \x{hhhh} beyond one byte.
func regexEscape(b *strings.Builder, r rune) {
	if r < 0x100 {
		fmt.Fprintf(b, `\x%02x`, r)
		return
	}
	fmt.Fprintf(b, `\x{%04x}`, r)
}

// RegexLiteral escapes literal text for a regex inside /…/ delimiters:
// metacharacters, the delimiter and invisible characters.
func RegexLiteral(s string) string {
	var b strings.Builder
	for _, r := range s {
		writeRegexRune(&b, r)
	}
	return b.String()
}

// ClassLiteral is RegexLiteral for a case-insensitive regex written
// without the ignore-case flag: every character with other cases becomes
// the class of the characters that lower-case like it ([sS], [iIİ]).
func ClassLiteral(s string) string {
	var b strings.Builder
	for _, r := range s {
		class := LowerClass(r)
		if len(class) == 1 {
			writeRegexRune(&b, r)
			continue
		}
		b.WriteByte('[')
		for _, c := range class {
			writeRegexRune(&b, c)
		}
		b.WriteByte(']')
	}
	return b.String()
}

func writeRegexRune(b *strings.Builder, r rune) {
	switch {
	case r == '/':
		b.WriteString(`\/`)
	case Invisible(r):
		regexEscape(b, r)
	case strings.ContainsRune(`\.+*?()|[]{}^$`, r):
		b.WriteByte('\\')
		b.WriteRune(r)
	default:
		b.WriteRune(r)
	}
}

// RegexBody writes a user regex inside /…/ delimiters: unescaped slashes
// are escaped and invisible characters (a raw CR, NUL or U+202E) become
// escapes that mean the same character. Inside \Q…\E, where a backslash
// is literal, the quote is closed around such an escape (\E\x0d\Q).
func RegexBody(re string) string {
	var b strings.Builder
	quoted := false // inside \Q…\E
	for i := 0; i < len(re); {
		r, size := utf8.DecodeRuneInString(re[i:])
		if quoted {
			switch {
			case strings.HasPrefix(re[i:], `\E`):
				quoted = false
				b.WriteString(`\E`)
				i += 2
			case r == '/' || Invisible(r):
				b.WriteString(`\E`)
				if r == '/' {
					b.WriteString(`\/`)
				} else {
					regexEscape(&b, r)
				}
				b.WriteString(`\Q`)
				i += size
			default:
				b.WriteString(re[i : i+size])
				i += size
			}
			continue
		}
		switch {
		case strings.HasPrefix(re[i:], `\Q`):
			quoted = true
			b.WriteString(`\Q`)
			i += 2
			continue
		case r == '\\' && i+size < len(re):
			next, nsize := utf8.DecodeRuneInString(re[i+size:])
			if Invisible(next) { // an escaped invisible character is that character
				regexEscape(&b, next)
			} else {
				b.WriteString(re[i : i+size+nsize])
			}
			i += size + nsize
			continue
		case r == '/':
			b.WriteString(`\/`)
		case Invisible(r):
			regexEscape(&b, r)
		default:
			b.WriteString(re[i : i+size])
		}
		i += size
	}
	return b.String()
}

// PatternRegex turns a wildcard pattern into a regex body: `*` is `.*` and
// `?` is `.`. A side without a wildcard is anchored with begin or end; a side
// that starts or ends with `*` gets open instead (empty for a search engine,
// `(?s:.*)` where the target matches whole values).
//
// literal writes each literal segment: RegexLiteral, or ClassLiteral where
// the regex is matched without an ignore-case flag.
func PatternRegex(p ir.Pattern, begin, end, open string, literal func(string) string) string {
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
			b.WriteString(literal(s.Text))
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

// Fields lists the field names a leaf reads.
func Fields(e ir.Expr) []string {
	switch n := e.(type) {
	case *ir.Match:
		return []string{n.Field}
	case *ir.Regex:
		return []string{n.Field}
	case *ir.CIDR:
		return []string{n.Field}
	case *ir.Number:
		return []string{n.Field}
	case *ir.Exists:
		return []string{n.Field}
	case *ir.Null:
		return []string{n.Field}
	case *ir.FieldRef:
		return []string{n.Field, n.Other}
	case *ir.TimePart:
		return []string{n.Field}
	}
	return nil
}
