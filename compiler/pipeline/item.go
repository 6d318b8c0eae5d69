package pipeline

import (
	"fmt"
	"strings"

	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/diag"
)

// Item is one detection item, `field|modifiers: values`, as the passes see
// it: the modifiers are already applied to the values (as in pySigma), and
// the item stands in a condition tree in place of its lowered form until
// Assemble. It is an ir.Expr only so it can sit in that tree; no backend or
// the evaluator ever receives one.
type Item struct {
	ir.Node
	Field     string // "" for a keyword
	Modifiers []string
	Values    []*Value
	All       bool // `|all`: every value must match
	Neq       bool // `|neq`: the field exists and no value matches
	// applied holds the ids of the processing items that changed the item
	// (the `processing_item_applied` condition).
	applied map[string]bool
	// added: the pipeline added the item (add_condition).
	added bool
}

// Keyword reports whether the item is a keyword (full-text) search.
func (it *Item) Keyword() bool { return it.Field == "" }

// Value is one value of an item and the tests it lowered to: one usually,
// several when a modifier made alternatives (windash, base64offset) or a
// placeholder had several values. The alternatives are ORed.
type Value struct {
	Pos  diag.Pos
	Alts []ir.Expr
}

// clone copies an item deeply enough that changing the copy's field or
// values leaves the original alone.
func (it *Item) clone() *Item {
	c := *it
	c.Values = make([]*Value, len(it.Values))
	for i, v := range it.Values {
		nv := &Value{Pos: v.Pos, Alts: make([]ir.Expr, len(v.Alts))}
		for j, a := range v.Alts {
			nv.Alts[j] = cloneLeaf(a)
		}
		c.Values[i] = nv
	}
	c.Modifiers = append([]string(nil), it.Modifiers...)
	c.applied = copySet(it.applied)
	return &c
}

func copySet(m map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func cloneLeaf(e ir.Expr) ir.Expr {
	switch n := e.(type) {
	case *ir.Match:
		c := *n
		c.Pattern = append(ir.Pattern(nil), n.Pattern...)
		return &c
	case *ir.Number:
		c := *n
		return &c
	case *ir.Regex:
		c := *n
		return &c
	case *ir.CIDR:
		c := *n
		return &c
	case *ir.Exists:
		c := *n
		return &c
	case *ir.Null:
		c := *n
		return &c
	case *ir.FieldRef:
		c := *n
		return &c
	case *ir.TimePart:
		c := *n
		return &c
	case *ir.Not:
		return &ir.Not{Node: n.Node, Arg: cloneLeaf(n.Arg)}
	}
	panic(fmt.Sprintf("pipeline: unexpected leaf %T", e))
}

// SetField renames the item and every test it holds.
func (it *Item) SetField(name string) {
	it.Field = name
	for _, v := range it.Values {
		for _, a := range v.Alts {
			setLeafField(a, name)
		}
	}
}

func setLeafField(e ir.Expr, name string) {
	switch n := e.(type) {
	case *ir.Match:
		n.Field = name
	case *ir.Number:
		n.Field = name
	case *ir.Regex:
		n.Field = name
	case *ir.CIDR:
		n.Field = name
	case *ir.Exists:
		n.Field = name
	case *ir.Null:
		n.Field = name
	case *ir.FieldRef:
		n.Field = name
	case *ir.TimePart:
		n.Field = name
	case *ir.Not:
		setLeafField(n.Arg, name)
	}
}

// lower is the item's boolean form: values ORed (ANDed with `|all`), and
// `|neq` as "exists and none matches".
func (it *Item) lower() ir.Expr {
	node := it.Node
	vals := make([]ir.Expr, 0, len(it.Values))
	for _, v := range it.Values {
		if len(v.Alts) == 1 {
			vals = append(vals, v.Alts[0])
		} else {
			vals = append(vals, &ir.Or{Node: ir.Node{Pos: v.Pos}, Args: v.Alts})
		}
	}
	var e ir.Expr
	if it.All {
		e = &ir.And{Node: node, Args: vals}
	} else {
		e = &ir.Or{Node: node, Args: vals}
	}
	if it.Neq {
		e = &ir.And{Node: node, Args: []ir.Expr{&ir.Exists{Node: node, Field: it.Field}, &ir.Not{Node: node, Arg: e}}}
	}
	return e
}

// Rewrite replaces every item of the tree by fn's result, visiting each
// distinct node once so subtrees shared by several parents stay shared.
func Rewrite(e ir.Expr, fn func(*Item) ir.Expr) ir.Expr {
	return rewriteWith(e, map[ir.Expr]ir.Expr{}, fn)
}

// Items lists the distinct items of a tree in written order.
func Items(e ir.Expr) []*Item {
	var out []*Item
	seen := map[ir.Expr]bool{}
	var walk func(ir.Expr)
	walk = func(e ir.Expr) {
		if seen[e] {
			return
		}
		seen[e] = true
		switch n := e.(type) {
		case *Item:
			out = append(out, n)
		case *ir.And:
			for _, a := range n.Args {
				walk(a)
			}
		case *ir.Or:
			for _, a := range n.Args {
				walk(a)
			}
		case *ir.Not:
			walk(n.Arg)
		}
	}
	walk(e)
	return out
}

// Clone copies a tree with fresh items (shared subtrees stay shared in the
// copy), so one compiled filter can be processed with each rule it joins.
func Clone(e ir.Expr) ir.Expr {
	return Rewrite(e, func(it *Item) ir.Expr { return it.clone() })
}

// plain writes a pattern as pySigma's str(SigmaString) does, the form
// match_string, map_string, hashes_fields and replace_string see:
// wildcards as `*` and `?`, literal ones as `\*` and `\?`, placeholders as
// `%name%`, backslashes as they are.
func plain(p ir.Pattern) string {
	var b strings.Builder
	for _, s := range p {
		switch s.Kind {
		case ir.Star:
			b.WriteByte('*')
		case ir.One:
			b.WriteByte('?')
		case ir.Placeholder:
			b.WriteString("%" + s.Text + "%")
		case ir.Lit:
			for i := 0; i < len(s.Text); i++ {
				if c := s.Text[i]; c == '*' || c == '?' {
					b.WriteByte('\\')
				}
				b.WriteByte(s.Text[i])
			}
		}
	}
	return b.String()
}

// samePattern compares a pattern with a Sigma string as written in a
// pipeline (wildcards count: `*foo*` is what `|contains: foo` holds).
func samePattern(p ir.Pattern, sigmaText string) bool {
	return p.Normalize().String() == ir.ParsePattern(sigmaText).String()
}
