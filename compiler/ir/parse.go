package ir

import (
	"strings"
)

// ParsePattern reads a Sigma string value: `*` and `?` are wildcards, `\*`,
// `\?` and `\\` escape them, and a backslash before any other character is
// literal (so `C:\Windows\` needs no doubling).
func ParsePattern(s string) Pattern {
	var p Pattern
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p = append(p, Seg{Kind: Lit, Text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\') {
				lit.WriteByte(s[i+1])
				i++
			} else {
				lit.WriteByte('\\')
			}
		case '*':
			flush()
			p = append(p, Seg{Kind: Star})
		case '?':
			flush()
			p = append(p, Seg{Kind: One})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return p.Normalize()
}
