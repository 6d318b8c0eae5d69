package eval

import (
	"math"
	"strconv"
	"strings"

	"github.com/sigc-project/sigc/compiler/ir"
)

// A gate is a field that every condition of a rule requires to hold one
// of a few exact values, case-insensitively: the rule cannot match an
// event whose field holds none of them. Pipelines put such tests first
// (`Channel`, `#event_simpleName`, `_sourceCategory` for a logsource), so
// the engine indexes rules by them and skips every rule whose logsource
// cannot match the event, without looking at its other tests.
type gate struct {
	field  string
	values []string // lower-cased
}

// gateOf finds a rule's gate: the first exact, case-insensitive test at
// the top of each condition, on the same field in every condition.
func gateOf(r *ir.Rule) (gate, bool) {
	var g gate
	for i, c := range r.Conditions {
		f, vals, ok := condGate(c)
		if !ok || (i > 0 && f != g.field) {
			return gate{}, false
		}
		g.field = f
		g.values = append(g.values, vals...)
	}
	return g, len(r.Conditions) > 0
}

// A numeric test is preferred: an event id tells events of one channel
// apart, a channel does not.
func condGate(e ir.Expr) (string, []string, bool) {
	args := []ir.Expr{e}
	if a, ok := e.(*ir.And); ok {
		args = a.Args
	}
	field, vals, found := "", []string(nil), false
	for _, a := range args {
		f, vs, ok := exactValues(a)
		if !ok {
			continue
		}
		numeric := strings.HasPrefix(vs[0], "n:")
		if !found || numeric {
			field, vals, found = f, vs, true
		}
		if numeric {
			break
		}
	}
	return field, vals, found
}

// exactValues reads a test of one field against exact values: a Match, or
// an OR of Matches on the same field.
func exactValues(e ir.Expr) (string, []string, bool) {
	switch n := e.(type) {
	case *ir.Match:
		if n.Field == "" || n.Cased {
			return "", nil, false
		}
		shape, lit := n.Pattern.Shape()
		if shape != ir.ShapeExact {
			return "", nil, false
		}
		low, _ := appendLower(nil, lit)
		return n.Field, []string{"s:" + low}, true
	case *ir.Number:
		if n.Op != ir.Eq || !isIntegerText(n.Text) || n.Field == "" {
			return "", nil, false
		}
		i, err := strconv.ParseInt(n.Text, 10, 64)
		if err != nil || i >= 1<<53 || i <= -1<<53 {
			return "", nil, false
		}
		return n.Field, []string{"n:" + strconv.FormatInt(i, 10)}, true
	case *ir.Or:
		var field string
		var vals []string
		for i, a := range n.Args {
			f, vs, ok := exactValues(a)
			if !ok || (i > 0 && (f != field || vs[0][0] != vals[0][0])) {
				return "", nil, false
			}
			field = f
			vals = append(vals, vs...)
		}
		return field, vals, field != ""
	}
	return "", nil, false
}

// gateIndex maps the lower-cased values of one field to the rules gated
// on them.
type gateIndex struct {
	slot    int
	byValue map[string][]int // "s:" + lower-cased text, "n:" + integer
	numbers bool             // some rule is gated on a number
}

// index builds the gates of the planned rules.
func (e *Engine) index() {
	byField := map[string]*gateIndex{}
	e.ungated = e.ungated[:0]
	for i, r := range e.Rules {
		g, ok := gateOf(r.IR)
		if !ok {
			e.ungated = append(e.ungated, i)
			continue
		}
		gi := byField[g.field]
		if gi == nil {
			gi = &gateIndex{slot: e.p.slot(g.field), byValue: map[string][]int{}}
			byField[g.field] = gi
			e.gates = append(e.gates, gi)
		}
		for _, v := range g.values {
			gi.byValue[v] = append(gi.byValue[v], i)
			gi.numbers = gi.numbers || strings.HasPrefix(v, "n:")
		}
	}
}

// candidates marks the rules that may match the loaded event: the ungated
// ones and those whose gate value the event holds.
func (e *Engine) candidates() []bool {
	if cap(e.cand) < len(e.Rules) {
		e.cand = make([]bool, len(e.Rules))
	}
	e.cand = e.cand[:len(e.Rules)]
	clear(e.cand)
	for _, i := range e.ungated {
		e.cand[i] = true
	}
	for _, gi := range e.gates {
		vals := e.v.slots[gi.slot]
		low := e.v.lowered(gi.slot, false)
		for j := range vals {
			if vals[j].Null {
				continue
			}
			e.key = append(append(e.key[:0], "s:"...), low[j]...)
			for _, i := range gi.byValue[string(e.key)] {
				e.cand[i] = true
			}
			if gi.numbers {
				if n, ok := integerKey(&vals[j]); ok {
					e.key = strconv.AppendInt(append(e.key[:0], "n:"...), n, 10)
					for _, i := range gi.byValue[string(e.key)] {
						e.cand[i] = true
					}
				}
			}
		}
	}
	return e.cand
}

// DisableGates makes Each try every rule on every event: the reference the
// gates are tested and measured against.
func (e *Engine) DisableGates() { e.gates = nil }

// integerKey is the integer an event value equals, as the number tests
// compare it: integer text exactly (signs and leading zeros read), other
// numbers when they are whole.
func integerKey(v *Scalar) (int64, bool) {
	if isIntegerText(v.Str) {
		n, err := strconv.ParseInt(v.Str, 10, 64)
		return n, err == nil
	}
	f, ok := v.Number()
	if !ok || f != math.Trunc(f) || math.Abs(f) >= 1<<53 {
		return 0, false
	}
	return int64(f), true
}
