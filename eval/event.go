// Package eval evaluates compiled rules (the IR) over events. Each rule is
// planned once into a matcher tree with every needle, regex, network and
// number prepared up front; matching an event allocates nothing per rule.
package eval

import (
	"encoding/json"
	"strconv"
)

// Scalar is one leaf value of an event with its string form ready.
type Scalar struct {
	Str   string
	Num   float64
	IsNum bool // a JSON number (Str holds it as written)
	Null  bool
}

// Event is an event flattened for matching: every leaf is reachable by its
// dotted path (`process.parent.name`), flat dotted keys stay as they are,
// and array elements share their array's path.
type Event struct {
	Fields map[string][]Scalar
	All    []Scalar // every leaf, for keyword search
}

// NewEvent flattens a decoded JSON object.
func NewEvent(m map[string]any) *Event {
	ev := &Event{Fields: make(map[string][]Scalar, len(m)+8)}
	for k, v := range m {
		ev.add(k, v, 0)
	}
	return ev
}

const maxFlattenDepth = 64

func (ev *Event) add(path string, v any, depth int) {
	if depth > maxFlattenDepth {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			ev.add(path+"."+k, c, depth+1)
		}
	case []any:
		for _, c := range x {
			ev.add(path, c, depth+1)
		}
	default:
		s := toScalar(x)
		ev.Fields[path] = append(ev.Fields[path], s)
		if !s.Null {
			ev.All = append(ev.All, s)
		}
	}
}

// Set replaces a field with one value (used by input mappings).
func (ev *Event) Set(path string, v any) {
	delete(ev.Fields, path)
	ev.add(path, v, 0)
}

func toScalar(v any) Scalar {
	switch x := v.(type) {
	case nil:
		return Scalar{Null: true}
	case string:
		return Scalar{Str: x}
	case json.Number:
		f, err := x.Float64()
		return Scalar{Str: string(x), Num: f, IsNum: err == nil}
	case float64:
		return Scalar{Str: strconv.FormatFloat(x, 'f', -1, 64), Num: x, IsNum: true}
	case bool:
		if x {
			return Scalar{Str: "true"}
		}
		return Scalar{Str: "false"}
	}
	return Scalar{Null: true}
}

// Number reads a scalar as a number: a JSON number or a numeric string,
// which is exactly a decimal number (no spaces around it: " 5" is text, as
// the targets' numeric tests read it).
func (s *Scalar) Number() (float64, bool) {
	if s.IsNum {
		return s.Num, true
	}
	if s.Null || !looksNumeric(s.Str) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s.Str, 64)
	return f, err == nil
}

func looksNumeric(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return false
		}
	}
	return true
}
