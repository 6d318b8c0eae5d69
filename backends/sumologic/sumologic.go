// Package sumologic renders the IR as a Sumo Logic log search (not Cloud
// SIEM): a scope, then one `| where` clause using matches, in, toLowerCase,
// num, isNull and compareCIDRPrefix.
package sumologic

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/sigc-project/sigc/backends/text"
	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/diag"
)

// Backend is the Sumo Logic target.
type Backend struct{}

const name = "sumologic"

func (Backend) Name() string        { return name }
func (Backend) Description() string { return "Sumo Logic log search query language" }

// Scope is the search scope before the first pipe when no built-in
// metadata test leads the condition. Fields must be extracted (field
// extraction rules, or the parse/json stages a pipeline asks for) for
// `where` to see them; see the README.
const Scope = "*"

var plainField = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// keywords of the search language are written %"…" when a field has their
// name (AND and OR are case-insensitive there).
var keywords = map[string]bool{"and": true, "or": true, "not": true, "in": true, "matches": true, "as": true, "by": true, "where": true, "if": true, "true": true, "false": true, "null": true}

// Render renders each condition of the rule.
func (Backend) Render(r *ir.Rule) ([]string, []*diag.Diagnostic, error) {
	var warns []*diag.Diagnostic
	d := dialect(&warns)
	var out []string
	for _, c := range r.Conditions {
		scope, rest := splitScope(c)
		stages := []string{scope}
		for _, x := range extractions(r.Custom, exprFields(rest)) {
			stages = append(stages, x)
		}
		if rest != nil {
			q, err := d.Render(rest)
			if err != nil {
				return nil, nil, err
			}
			stages = append(stages, "where "+q)
		}
		out = append(out, strings.Join(stages, "\n| "))
	}
	return out, text.Dedupe(warns), nil
}

func dialect(warns *[]*diag.Diagnostic) *text.Dialect {
	return &text.Dialect{
		Name: name, And: " AND ", Or: " OR ",
		Not: "!", NotGroupsLeaves: true,
		// A field reference renders as one parenthesised AND.
		LeafGrouped: func(e ir.Expr) bool { _, ok := e.(*ir.FieldRef); return ok },
		GroupOpen:   "(", GroupClose: ")",
		Leaf: func(e ir.Expr) (string, error) { return leaf(e, warns) },
		List: list,
	}
}

// ref writes a field reference; odd names use %"…" quoting.
func ref(f string) string {
	if plainField.MatchString(f) && !keywords[strings.ToLower(f)] {
		return f
	}
	return "%" + text.Quote(f)
}

// checkNames refuses field names a query cannot carry visibly.
func checkNames(e interface{ Position() diag.Pos }, names ...string) error {
	for _, f := range names {
		if text.HasInvisible(f) {
			return text.Unsupported(name, e.Position(), "the field name %s, which holds an invisible character; map it with a pipeline", diag.Quote(f))
		}
	}
	return nil
}

func leaf(e ir.Expr, warns *[]*diag.Diagnostic) (string, error) {
	if err := checkNames(e, text.Fields(e)...); err != nil {
		return "", err
	}
	switch n := e.(type) {
	case *ir.Match:
		return match(n, warns)
	case *ir.Regex:
		// The user's expression is one group, so a top-level alternation
		// stays inside the unanchored search.
		body := "(?" + n.Flags() + ":" + text.RegexBody(n.Pattern) + ")"
		// `.*` on both sides makes the search unanchored whether Sumo
		// matches the whole value or searches inside it.
		return fmt.Sprintf("%s matches /(?s:.*)%s(?s:.*)/", ref(n.Field), body), nil
	case *ir.CIDR:
		if !n.Prefix.Addr().Is4() {
			return "", text.Unsupported(name, n.Pos, "the IPv6 network %s (compareCIDRPrefix is IPv4 only)", n.Prefix)
		}
		return fmt.Sprintf("compareCIDRPrefix(%s, %s, %s)", text.Quote(n.Prefix.Addr().String()), ref(n.Field), text.Quote(strconv.Itoa(n.Prefix.Bits()))), nil
	case *ir.Number:
		op := n.Op.String()
		if n.Op == ir.Eq {
			op = "="
			// num() is a double: past 2^53 it equates neighbouring
			// integers, so an exact integer that large is compared as text.
			if math.Abs(n.Value) >= 1<<53 && !strings.ContainsAny(n.Text, ".eE") {
				return fmt.Sprintf("%s = %s", ref(n.Field), text.Quote(n.Text)), nil
			}
		}
		return fmt.Sprintf("num(%s) %s %s", ref(n.Field), op, n.Text), nil
	case *ir.Exists:
		return fmt.Sprintf("!isNull(%s)", ref(n.Field)), nil
	case *ir.Null:
		return fmt.Sprintf("isNull(%s)", ref(n.Field)), nil
	case *ir.FieldRef:
		if n.Kind != ir.RefEquals {
			return "", text.Unsupported(name, n.Pos, "fieldref with %s", n.Kind)
		}
		a, b := ref(n.Field), ref(n.Other)
		if n.Cased {
			return fmt.Sprintf("(!isNull(%s) AND %s = %s)", a, a, b), nil
		}
		return fmt.Sprintf("(!isNull(%s) AND toLowerCase(%s) = toLowerCase(%s))", a, a, b), nil
	case *ir.TimePart:
		return "", text.Unsupported(name, n.Pos, "the %s modifier (comparing a date part of a timestamp field) in a search filter; sigc eval evaluates it", n.Unit)
	}
	panic(fmt.Sprintf("sumologic: unknown IR node %T", e))
}

func match(n *ir.Match, warns *[]*diag.Diagnostic) (string, error) {
	if err := text.ValidUTF8(name, n); err != nil {
		return "", err
	}
	f := "_raw"
	if n.Field != "" {
		f = ref(n.Field)
	} else {
		*warns = append(*warns, diag.Warnf(n.Pos, "sumologic: keywords are searched in _raw, the message as ingested; escaping in the raw text (JSON doubles backslashes) can hide a match that the evaluator finds in field values"))
	}
	p := n.Pattern
	subject := f
	if !n.Cased {
		subject = "toLowerCase(" + f + ")"
		p = p.Lower()
	}
	shape, lit := p.Shape()
	if shape == ir.ShapeAny {
		return fmt.Sprintf("!isNull(%s)", f), nil
	}
	if shape == ir.ShapeExact && !text.HasInvisible(lit) {
		return fmt.Sprintf("%s = %s", subject, text.Quote(lit)), nil
	}
	if globSafe(p) {
		return fmt.Sprintf("%s matches %s", subject, text.Quote(globString(p))), nil
	}
	body := text.PatternRegex(p, "^", "$", "(?s:.*)", text.RegexLiteral)
	return fmt.Sprintf("%s matches /(?s)%s/", subject, body), nil
}

// globSafe reports whether a pattern can be a Sumo `matches` string: only
// `*` wildcards and no literal star (Sumo has no `?` and no escape for `*`).
func globSafe(p ir.Pattern) bool {
	for i, s := range p {
		if s.Kind == ir.One || (s.Kind == ir.Lit && (strings.Contains(s.Text, "*") || text.HasInvisible(s.Text))) {
			return false
		}
		// A backslash right before a wildcard could read as an escape.
		if s.Kind == ir.Lit && strings.HasSuffix(s.Text, `\`) && i+1 < len(p) {
			return false
		}
	}
	return true
}

// globString writes a glob-safe pattern as Sumo matches text.
func globString(p ir.Pattern) string {
	var b strings.Builder
	for _, s := range p {
		if s.Kind == ir.Star {
			b.WriteByte('*')
		} else {
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

// list renders exact values of one field as an `in` list.
func list(args []ir.Expr) (string, bool, error) {
	if _, ok := args[0].(*ir.CIDR); ok {
		return "", false, nil // compareCIDRPrefix takes one network
	}
	var vals []string
	m0 := args[0].(*ir.Match)
	for _, a := range args {
		m := a.(*ir.Match)
		if err := text.ValidUTF8(name, m); err != nil {
			return "", false, err
		}
		p := m.Pattern
		if !m.Cased {
			p = p.Lower()
		}
		shape, lit := p.Shape()
		if shape != ir.ShapeExact || text.HasInvisible(lit) {
			return "", false, nil
		}
		vals = append(vals, text.Quote(lit))
	}
	subject := ref(m0.Field)
	if !m0.Cased {
		subject = "toLowerCase(" + subject + ")"
	}
	return fmt.Sprintf("%s in (%s)", subject, strings.Join(vals, ", ")), true, nil
}
