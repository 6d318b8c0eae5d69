package compiler

import (
	"encoding/base64"
	"unicode/utf16"
)

// The value-transforming modifiers, lowered here into plain strings so that
// no backend or evaluator re-implements them.

// windashChars are the characters `windash` treats as interchangeable:
// hyphen, slash, en dash, em dash and horizontal bar.
var windashChars = []string{"-", "/", "\u2013", "\u2014", "\u2015"}

// maxWindashVariants bounds the permutations of one value.
const maxWindashVariants = 625

// windashVariants returns every permutation of dash-like characters in s.
func windashVariants(s string) ([]string, bool) {
	out := []string{""}
	for _, r := range s {
		ch := string(r)
		isDash := false
		for _, d := range windashChars {
			if ch == d {
				isDash = true
			}
		}
		if !isDash {
			for i := range out {
				out[i] += ch
			}
			continue
		}
		if len(out)*len(windashChars) > maxWindashVariants {
			return nil, false
		}
		next := make([]string, 0, len(out)*len(windashChars))
		for _, prefix := range out {
			for _, d := range windashChars {
				next = append(next, prefix+d)
			}
		}
		out = next
	}
	return out, true
}

func encodeBase64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// base64Offsets returns the three encodings of s as it may appear at byte
// offsets 0, 1 and 2 inside a longer base64-encoded text, trimmed to the
// characters that do not depend on the surrounding bytes.
func base64Offsets(s string) []string {
	out := make([]string, 0, 3)
	startTrim := []int{0, 2, 3}
	endTrim := []int{0, 3, 2}
	for i := 0; i < 3; i++ {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, i), s...))
		// Trim the tail that depends on the byte following the value
		// (padding included).
		tail := (len(s) + i) % 3
		end := len(enc)
		if tail != 0 {
			end -= endTrim[tail]
		}
		start := startTrim[i]
		if start > end {
			start = end
		}
		out = append(out, enc[start:end])
	}
	return out
}

func utf16LE(s string) string {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, len(u)*2)
	for _, c := range u {
		b = append(b, byte(c), byte(c>>8))
	}
	return string(b)
}

func utf16BE(s string) string {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, len(u)*2)
	for _, c := range u {
		b = append(b, byte(c>>8), byte(c))
	}
	return string(b)
}

// utf16BOM is UTF-16 little endian with a byte order mark, as pySigma's utf16.
func utf16BOM(s string) string { return "\xff\xfe" + utf16LE(s) }
