package compiler

import (
	"fmt"
	"sort"
	"strings"
)

// modKind groups the Sigma v2.1 modifiers by what they do to an item.
type modKind int

const (
	modWrap      modKind = iota // contains, startswith, endswith
	modFlag                     // all, cased, neq
	modTransform                // windash, base64, base64offset, utf16*, wide, expand
	modRegex                    // re
	modRegexFlag                // i, m, s after re
	modCIDR
	modCompare // lt, lte, gt, gte
	modExists
	modFieldRef
	modTime // minute … year
)

// Modifiers is the table of every modifier sigc accepts; add a row here when
// you add one. Aliases map pySigma's long re flag names.
var Modifiers = map[string]modKind{
	"contains": modWrap, "startswith": modWrap, "endswith": modWrap,
	"all": modFlag, "cased": modFlag, "neq": modFlag,
	"windash": modTransform, "base64": modTransform, "base64offset": modTransform,
	"utf16le": modTransform, "utf16be": modTransform, "utf16": modTransform, "wide": modTransform,
	"expand": modTransform,
	"re":     modRegex, "i": modRegexFlag, "m": modRegexFlag, "s": modRegexFlag,
	"ignorecase": modRegexFlag, "multiline": modRegexFlag, "dotall": modRegexFlag,
	"cidr": modCIDR,
	"lt":   modCompare, "lte": modCompare, "gt": modCompare, "gte": modCompare,
	"exists":   modExists,
	"fieldref": modFieldRef,
	"minute":   modTime, "hour": modTime, "day": modTime, "week": modTime, "month": modTime, "year": modTime,
}

// ModifierNames lists the accepted modifiers, sorted.
func ModifierNames() []string {
	out := make([]string, 0, len(Modifiers))
	for k := range Modifiers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ModifierHelp describes each modifier for `sigc list modifiers`.
var ModifierHelp = map[string]string{
	"contains": "value anywhere in the field", "startswith": "value at the start", "endswith": "value at the end",
	"all": "all values must match (AND instead of OR)", "cased": "case-sensitive matching",
	"neq":     "field present and different from every value",
	"windash": "try -, /, en dash, em dash and horizontal bar for each dash or slash",
	"base64":  "match the base64 encoding of the value", "base64offset": "match the value inside base64 at any offset",
	"utf16le": "encode as UTF-16 little endian (then base64)", "utf16be": "encode as UTF-16 big endian (then base64)",
	"utf16": "encode as UTF-16 with byte order mark (then base64)", "wide": "same as utf16le",
	"expand": "replace %placeholders% with values from a pipeline",
	"re":     "unanchored RE2 regular expression, case-sensitive", "i": "re: ignore case", "m": "re: multi-line", "s": "re: dot matches newline",
	"ignorecase": "alias of i", "multiline": "alias of m", "dotall": "alias of s",
	"cidr": "IPv4 or IPv6 address inside a network", "lt": "number less than", "lte": "number less or equal",
	"gt": "number greater than", "gte": "number greater or equal", "exists": "field present (true) or absent (false)",
	"fieldref": "value names another field to compare with", "minute": "minute of a timestamp", "hour": "hour of a timestamp",
	"day": "day of month of a timestamp", "week": "ISO week of a timestamp", "month": "month of a timestamp", "year": "year of a timestamp",
}

// suggestModifier names the closest modifier; the sorted walk makes ties
// (and so the message) the same on every run.
func suggestModifier(name string) string {
	best, bestD := "", 3
	for _, k := range ModifierNames() {
		if d := editDistance(strings.ToLower(name), k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return "run `sigc list modifiers` for the accepted ones"
	}
	return fmt.Sprintf("did you mean %q?", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev = cur
	}
	return prev[len(b)]
}
