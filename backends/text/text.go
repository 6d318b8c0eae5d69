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
	Name    string
	And, Or string // infix tokens with their spacing, e.g. " and "
	// Not is the prefix of a negation ("not ", "!"). A compound operand is
	// always grouped; with NotGroupsLeaves a leaf is grouped too, unless
	// LeafGrouped says its text already is one group.
	Not             string
	NotGroupsLeaves bool
	LeafGrouped     func(e ir.Expr) bool
	GroupOpen       string
	GroupClose      string
	True, False     string // constant truth; "" means unsupported
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
	var b strings.Builder
	for i, c := range r.Conditions {
		if len(r.Conditions) > 1 {
			if i > 0 {
				b.WriteString(d.Or)
			}
			b.WriteString(d.GroupOpen)
		}
		if err := d.render(&b, c); err != nil {
			return "", err
		}
		if len(r.Conditions) > 1 {
			b.WriteString(d.GroupClose)
		}
	}
	return b.String(), nil
}

// Render renders one expression. Every node writes its text once into one
// buffer, so rendering is linear in the size of the tree, however deep.
func (d *Dialect) Render(e ir.Expr) (string, error) {
	var b strings.Builder
	if err := d.render(&b, e); err != nil {
		return "", err
	}
	return b.String(), nil
}

func isCompound(e ir.Expr) bool {
	switch e.(type) {
	case *ir.And, *ir.Or:
		return true
	}
	return false
}

// grouped renders e inside the group tokens when it is compound (and/or
// precedence differs between targets, so nesting is always explicit).
func (d *Dialect) grouped(b *strings.Builder, e ir.Expr, group bool) error {
	if group {
		b.WriteString(d.GroupOpen)
	}
	if err := d.render(b, e); err != nil {
		return err
	}
	if group {
		b.WriteString(d.GroupClose)
	}
	return nil
}

func (d *Dialect) render(b *strings.Builder, e ir.Expr) error {
	switch n := e.(type) {
	case *ir.And:
		return d.join(b, n.Args, d.And, false)
	case *ir.Or:
		return d.join(b, n.Args, d.Or, true)
	case *ir.Not:
		b.WriteString(d.Not)
		group := isCompound(n.Arg)
		if !group && d.NotGroupsLeaves {
			group = d.LeafGrouped == nil || !d.LeafGrouped(n.Arg)
			if _, ok := n.Arg.(*ir.Not); ok {
				group = true
			}
		}
		return d.grouped(b, n.Arg, group)
	case *ir.Const:
		tok := d.False
		if n.Value {
			tok = d.True
		}
		if tok == "" {
			return Unsupported(d.Name, n.Pos, "a constant %t condition", n.Value)
		}
		b.WriteString(tok)
		return nil
	default:
		s, err := d.Leaf(e)
		if err != nil {
			return err
		}
		b.WriteString(s)
		return nil
	}
}

// join renders args with a token, grouping compound children. In an OR,
// matches on one field are folded into the dialect's list form, placed
// where the first of them stood.
func (d *Dialect) join(b *strings.Builder, args []ir.Expr, tok string, isOr bool) error {
	var folded map[int]string // first member -> list text; others -> ""
	if isOr && d.List != nil {
		var err error
		if folded, err = d.foldLists(args); err != nil {
			return err
		}
	}
	first := true
	for i, a := range args {
		if s, ok := folded[i]; ok {
			if s == "" {
				continue
			}
			if !first {
				b.WriteString(tok)
			}
			b.WriteString(s)
			first = false
			continue
		}
		if !first {
			b.WriteString(tok)
		}
		first = false
		if err := d.grouped(b, a, isCompound(a)); err != nil {
			return err
		}
	}
	return nil
}

// foldLists gathers matches (or CIDR tests) on the same field and hands
// each group to the dialect's List hook. It answers by position in args:
// the compiler shares selection subtrees, so one node may stand at two
// positions and must be rendered (or folded) at each.
func (d *Dialect) foldLists(args []ir.Expr) (map[int]string, error) {
	type key struct {
		cidr  bool
		field string
		cased bool
	}
	groups := map[key][]int{}
	var order []key
	for i, a := range args {
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
		groups[k] = append(groups[k], i)
	}
	out := map[int]string{}
	for _, k := range order {
		g := groups[k]
		if len(g) < 2 {
			continue
		}
		members := make([]ir.Expr, len(g))
		for j, i := range g {
			members[j] = args[i]
		}
		s, ok, err := d.List(members)
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
