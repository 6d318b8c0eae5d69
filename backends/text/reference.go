package text

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Helpers of the reference grammars and interpreters (cqlcheck, sumocheck):
// the parts of the two targets' documented semantics that coincide.

// Unquote reads back a string written by Quote, accepting only the \" and
// \\ escapes both targets document; the reference grammars use it.
func Unquote(s string) (string, error) {
	body := s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == '\\' {
			if i+1 >= len(body) || (body[i+1] != '"' && body[i+1] != '\\') {
				return "", fmt.Errorf("undocumented string escape in %s", s)
			}
			i++
			c = body[i]
		} else if c < 0x20 {
			return "", fmt.Errorf("raw control character in string %s", s)
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// Arithmetic evaluates n0 op0 n1 op1 n2 … with * and / binding tighter than
// + and -, left to right, as both targets' expression languages do; the
// reference interpreters use it. A division by zero has no value.
func Arithmetic(nums []float64, ops []string) (float64, bool) {
	// First pass: fold * and / into the running term.
	terms := []float64{nums[0]}
	var addOps []string
	for i, op := range ops {
		y := nums[i+1]
		switch op {
		case "*":
			terms[len(terms)-1] *= y
		case "/":
			if y == 0 {
				return 0, false
			}
			terms[len(terms)-1] /= y
		default:
			terms = append(terms, y)
			addOps = append(addOps, op)
		}
	}
	v := terms[0]
	for i, op := range addOps {
		if op == "+" {
			v += terms[i+1]
		} else {
			v -= terms[i+1]
		}
	}
	return v, true
}

// GroupRows groups rows by the first value of each field, in the order
// groups first appear; rows lacking one of the fields are left out, as the
// targets' group-by does. It returns each group's key values and rows.
func GroupRows(rows []map[string][]string, fields []string) (keys [][]string, members [][]int) {
	index := map[string]int{}
	for i, r := range rows {
		key := make([]string, len(fields))
		ok := true
		for j, f := range fields {
			if len(r[f]) == 0 {
				ok = false
				break
			}
			key[j] = r[f][0]
		}
		if !ok {
			continue
		}
		k := strings.Join(key, "\x00")
		g, seen := index[k]
		if !seen {
			g = len(keys)
			index[k] = g
			keys = append(keys, key)
			members = append(members, nil)
		}
		members[g] = append(members[g], i)
	}
	return keys, members
}

// Summary is sum, avg, min or max of non-empty nums.
func Summary(fn string, nums []float64) float64 {
	s, lo, hi := 0.0, nums[0], nums[0]
	for _, f := range nums {
		s += f
		lo, hi = min(lo, f), max(hi, f)
	}
	return map[string]float64{"sum": s, "avg": s / float64(len(nums)), "min": lo, "max": hi}[fn]
}

var decimal = regexp.MustCompile(`^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$`)

// ParseDecimal reads a number as the targets' numeric tests do: a decimal
// number, nothing else (no "inf", no hexadecimal, no underscores, no
// spaces), as the reference interpreters read every value.
func ParseDecimal(s string) (float64, error) {
	if !decimal.MatchString(s) {
		return 0, fmt.Errorf("%q is not a decimal number", s)
	}
	return strconv.ParseFloat(s, 64)
}
