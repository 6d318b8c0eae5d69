// Package text is the shared renderer of the text query backends: it walks
// the IR, places and/or/not tokens and parentheses, folds same-field value
// lists, and asks a per-target Dialect only for what differs: leaves.
package text

import (
	"fmt"
	"strings"

	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/diag"
)

// Dialect is the table of one target's tokens plus its leaf hooks.
type Dialect struct {
	Name        string
	And, Or     string // infix tokens with their spacing, e.g. " and "
	Not         func(operand string) string
	GroupOpen   string
	GroupClose  string
	True, False string // constant truth; "" means unsupported
	// Leaf renders a matching primitive.
	Leaf func(e ir.Expr) (string, error)
	// List renders an OR of several leaves as one expression (an `in` list),
	// or reports false to render them one by one.
	List func(args []ir.Expr) (string, bool, error)
}

// Unsupported reports a feature the target cannot express at a position.
func Unsupported(target string, pos diag.Pos, format string, args ...any) error {
	return diag.Errorf(pos, "%s cannot express %s; change the rule or use another target", target, fmt.Sprintf(format, args...))
}

// Render renders one expression.
func (d *Dialect) Render(e ir.Expr) (string, error) {
	return d.render(e)
}

func (d *Dialect) group(s string) string { return d.GroupOpen + s + d.GroupClose }

func isCompound(e ir.Expr) bool {
	switch e.(type) {
	case *ir.And, *ir.Or:
		return true
	}
	return false
}

func (d *Dialect) render(e ir.Expr) (string, error) {
	switch n := e.(type) {
	case *ir.And:
		return d.join(n.Args, d.And, false)
	case *ir.Or:
		return d.join(n.Args, d.Or, true)
	case *ir.Not:
		inner, err := d.render(n.Arg)
		if err != nil {
			return "", err
		}
		if isCompound(n.Arg) {
			inner = d.group(inner)
		}
		return d.Not(inner), nil
	case *ir.Const:
		tok := d.False
		if n.Value {
			tok = d.True
		}
		if tok == "" {
			return "", Unsupported(d.Name, n.Pos, "a constant %t condition", n.Value)
		}
		return tok, nil
	default:
		return d.Leaf(e)
	}
}

// join renders args with a token, grouping compound children (and/or
// precedence differs between targets, so nesting is always explicit).
func (d *Dialect) join(args []ir.Expr, tok string, isOr bool) (string, error) {
	parts := make([]string, 0, len(args))
	if isOr && d.List != nil {
		var err error
		args, parts, err = d.foldLists(args)
		if err != nil {
			return "", err
		}
	}
	for _, a := range args {
		s, err := d.render(a)
		if err != nil {
			return "", err
		}
		if isCompound(a) {
			s = d.group(s)
		}
		parts = append(parts, s)
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return strings.Join(parts, tok), nil
}

// foldLists gathers runs of matches on the same field and hands them to the
// dialect's List hook; the rest are returned to render one by one.
func (d *Dialect) foldLists(args []ir.Expr) ([]ir.Expr, []string, error) {
	type key struct {
		field string
		cased bool
	}
	groups := map[key][]ir.Expr{}
	var order []key
	var rest []ir.Expr
	for _, a := range args {
		m, ok := a.(*ir.Match)
		if !ok || m.Field == "" {
			rest = append(rest, a)
			continue
		}
		k := key{m.Field, m.Cased}
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], a)
	}
	var parts []string
	var kept []ir.Expr
	for _, k := range order {
		g := groups[k]
		if len(g) < 2 {
			kept = append(kept, g...)
			continue
		}
		s, ok, err := d.List(g)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			parts = append(parts, s)
		} else {
			kept = append(kept, g...)
		}
	}
	return append(kept, rest...), parts, nil
}
