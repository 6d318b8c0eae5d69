package eval

import (
	"strings"
	"unicode/utf8"
)

// Case-insensitive comparisons against needles lower-cased at plan time.
// They allocate nothing; ASCII takes a fast path.

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func equalFold(s, lowNeedle string) bool {
	if len(s) != len(lowNeedle) {
		return strings.EqualFold(s, lowNeedle) && hasNonASCII(s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || lowNeedle[i] >= utf8.RuneSelf {
			return strings.EqualFold(s, lowNeedle)
		}
		if lowerASCII(c) != lowNeedle[i] {
			return false
		}
	}
	return true
}

func hasNonASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, lowPrefix string) bool {
	if len(s) < len(lowPrefix) {
		return false
	}
	return equalFold(s[:len(lowPrefix)], lowPrefix)
}

func hasSuffixFold(s, lowSuffix string) bool {
	if len(s) < len(lowSuffix) {
		return false
	}
	return equalFold(s[len(s)-len(lowSuffix):], lowSuffix)
}

// indexFold returns the first index of lowNeedle in s, ignoring case, or -1.
func indexFold(s, lowNeedle string) int {
	n := len(lowNeedle)
	if n == 0 {
		return 0
	}
	first := lowNeedle[0]
	for i := 0; i+n <= len(s); i++ {
		c := s[i]
		if c < utf8.RuneSelf && first < utf8.RuneSelf && lowerASCII(c) != first {
			continue
		}
		if equalFold(s[i:i+n], lowNeedle) {
			return i
		}
	}
	return -1
}
