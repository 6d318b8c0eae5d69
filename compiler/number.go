package compiler

import (
	"fmt"
	"github.com/sigc-project/sigc/diag"
	"math"
	"strconv"
	"strings"
)

// Number reads a numeric literal of a rule and returns its value and the
// one canonical text every target writes: no sign for positives, no
// leading zeros, no exponent, no trailing point (`+5`, `5.`, `.5`, `1e3`
// become 5, 5, 0.5, 1000). Integers keep every digit, even past float64's
// precision. Underscores, hexadecimal, infinities and NaN are refused: the
// targets do not read them alike.
func Number(raw string) (float64, string, error) {
	s := strings.TrimSpace(raw)
	if s == "" || strings.ContainsAny(s, "_xXpPiInN") {
		return 0, "", fmt.Errorf("%s is not a decimal number", diag.Quote(raw))
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, "", fmt.Errorf("%s is not a decimal number within the range of a 64-bit float", diag.Quote(raw))
	}
	if f == 0 && strings.Trim(mantissa(s), "0.") != "" {
		return 0, "", fmt.Errorf("%s is too small for a 64-bit float (it would be 0)", diag.Quote(raw))
	}
	if digits, neg, ok := integerDigits(s); ok {
		if digits == "0" {
			neg = false
		}
		if neg {
			return f, "-" + digits, nil
		}
		return f, digits, nil
	}
	if f == 0 {
		return 0, "0", nil
	}
	return f, strconv.FormatFloat(f, 'f', -1, 64), nil
}

// mantissa is a number's digits before any exponent, sign removed.
func mantissa(s string) string {
	s = strings.TrimLeft(s, "+-")
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	return s
}

// integerDigits reports the digits of an integer literal ([-+]digits),
// leading zeros removed.
func integerDigits(s string) (string, bool, bool) {
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	if s == "" {
		return "", false, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false, false
		}
	}
	s = strings.TrimLeft(s, "0")
	if s == "" {
		s = "0"
	}
	return s, neg, true
}
