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
	// List renders an OR of several leaves on one field, all *ir.Match or
	// all *ir.CIDR, as one expression (an `in` list), or reports false to
	// render them one by one.
	List func(args []ir.Expr) (string, bool, error)
}

// Unsupported reports a feature the target cannot express at a position.
func Unsupported(target string, pos diag.Pos, format string, args ...any) error {
	return diag.Errorf(pos, "%s cannot express %s; change the rule or use another target", target, fmt.Sprintf(format, args...))
}

// Dedupe drops repeated warnings (one per message), keeping the first.
func Dedupe(ws []*diag.Diagnostic) []*diag.Diagnostic {
	seen := map[string]bool{}
	var out []*diag.Diagnostic
	for _, w := range ws {
		if !seen[w.Msg] {
			seen[w.Msg] = true
			out = append(out, w)
		}
	}
	return out
}

// RenderRule renders all of a rule's conditions as one filter: a list of
// conditions is an OR of the groups.
func (d *Dialect) RenderRule(r *ir.Rule) (string, error) {
	var qs []string
	for _, c := range r.Conditions {
		q, err := d.Render(c)
		if err != nil {
			return "", err
		}
		qs = append(qs, q)
	}
	if len(qs) == 1 {
		return qs[0], nil
	}
	return d.GroupOpen + strings.Join(qs, d.GroupClose+d.Or+d.GroupOpen) + d.GroupClose, nil
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
// precedence differs between targets, so nesting is always explicit). In an
// OR, matches on one field are folded into the dialect's list form, placed
// where the first of them stood.
func (d *Dialect) join(args []ir.Expr, tok string, isOr bool) (string, error) {
	var folded map[ir.Expr]string // first member -> list text; others -> ""
	if isOr && d.List != nil {
		var err error
		if folded, err = d.foldLists(args); err != nil {
			return "", err
		}
	}
	parts := make([]string, 0, len(args))
	for _, a := range args {
		if s, ok := folded[a]; ok {
			if s != "" {
				parts = append(parts, s)
			}
			continue
		}
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

// foldLists gathers matches (or CIDR tests) on the same field and hands
// each group to the dialect's List hook.
func (d *Dialect) foldLists(args []ir.Expr) (map[ir.Expr]string, error) {
	type key struct {
		cidr  bool
		field string
		cased bool
	}
	groups := map[key][]ir.Expr{}
	var order []key
	for _, a := range args {
		var k key
		switch m := a.(type) {
		case *ir.Match:
			if m.Field == "" {
				continue
			}
			k = key{false, m.Field, m.Cased}
		case *ir.CIDR:
			k = key{true, m.Field, false}
		default:
			continue
		}
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], a)
	}
	out := map[ir.Expr]string{}
	for _, k := range order {
		g := groups[k]
		if len(g) < 2 {
			continue
		}
		s, ok, err := d.List(g)
		if err != nil {
			return nil, err
		}
		if ok {
			out[g[0]] = s
			for _, other := range g[1:] {
				out[other] = ""
			}
		}
	}
	return out, nil
}
