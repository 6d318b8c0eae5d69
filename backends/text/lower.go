package text

import (
	"sort"
	"sync"
	"unicode"
)

// Case-insensitive matching means: both sides lower-cased with Unicode's
// simple lower-case mapping (what the evaluator does). A target that can
// only say "ignore case" in a regex flag needs, for characters beyond
// ASCII, the set of characters that lower-case alike spelt out: engines
// differ in how far their flag reaches beyond ASCII (some stop at ASCII,
// RE2 folds ſ with s), while a class of exact characters means the same
// everywhere.

var (
	lowerOnce sync.Once
	preimage  map[rune][]rune // lower-case rune -> every rune that lowers to it
)

func buildPreimage() {
	preimage = map[rune][]rune{}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if l := unicode.ToLower(r); l != r {
			preimage[l] = append(preimage[l], r)
		}
	}
}

// LowerClass lists the characters that lower-case like r, r's lower-case
// form first; a caseless character has just itself.
func LowerClass(r rune) []rune {
	lowerOnce.Do(buildPreimage)
	l := unicode.ToLower(r)
	out := append([]rune{l}, preimage[l]...)
	sort.Slice(out[1:], func(i, j int) bool { return out[1+i] < out[1+j] })
	return out
}

// NeedsClasses reports whether a case-insensitive text holds a character
// beyond ASCII that has other cases, by lower-casing or by case folding
// (U+1FBE folds with ι but lower-cases to itself): a regex flag cannot be
// trusted with it.
func NeedsClasses(s string) bool {
	for _, r := range s {
		if r >= 0x80 && (len(LowerClass(r)) > 1 || unicode.SimpleFold(r) != r) {
			return true
		}
	}
	return false
}
