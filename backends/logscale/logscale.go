// Package logscale renders the IR as CrowdStrike Falcon LogScale (CQL)
// queries, using only documented syntax: field=value, /regex/flags,
// in(), cidr(), test(), field=* and and/or/not.
package logscale

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/sigc-project/sigc/backends/text"
	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/diag"
)

// Backend is the LogScale target.
type Backend struct{}

const name = "logscale"

func (Backend) Name() string        { return name }
func (Backend) Description() string { return "CrowdStrike Falcon LogScale query language (CQL)" }

// fieldRE is what LogScale accepts as a bare field name on the left of `=`.
var fieldRE = regexp.MustCompile(`^[A-Za-z_@#][A-Za-z0-9_.@#\[\]:\-]*$`)

// Render renders each condition of the rule.
func (Backend) Render(r *ir.Rule) ([]string, []*diag.Diagnostic, error) {
	var warns []*diag.Diagnostic
	d := dialect(&warns)
	var out []string
	for _, c := range r.Conditions {
		q, err := d.Render(c)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, q)
	}
	return out, text.Dedupe(warns), nil
}

func dialect(warns *[]*diag.Diagnostic) *text.Dialect {
	return &text.Dialect{
		Name: name, And: " and ", Or: " or ",
		Not:       func(s string) string { return "not " + s },
		GroupOpen: "(", GroupClose: ")",
		Leaf: func(e ir.Expr) (string, error) { return leaf(e, warns) },
		List: list,
	}
}

func field(e interface{ Position() diag.Pos }, f string) (string, error) {
	if !fieldRE.MatchString(f) {
		return "", text.Unsupported(name, e.Position(), "the field name %q (only letters, digits and _ . @ # [ ] : - can be written); map it with a pipeline", f)
	}
	return f, nil
}

func leaf(e ir.Expr, warns *[]*diag.Diagnostic) (string, error) {
	switch n := e.(type) {
	case *ir.Match:
		return match(n, warns)
	case *ir.Regex:
		f, err := field(n, n.Field)
		if err != nil {
			return "", err
		}
		if text.InlineFlags.MatchString(n.Pattern) {
			*warns = append(*warns, diag.Warnf(n.Pos, "logscale: an inline flag such as (?i) in a regex applies only to the first branch of an alternation in LogScale; use the re|i modifier instead"))
		}
		flags := strings.Replace(n.Flags(), "s", "d", 1) // LogScale's dot-all flag is d
		return fmt.Sprintf("%s=/%s/%s", f, text.RegexBody(n.Pattern), flags), nil
	case *ir.CIDR:
		f, err := field(n, n.Field)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("cidr(%s, subnet=%s)", f, text.Quote(n.Prefix.String())), nil
	case *ir.Number:
		f, err := field(n, n.Field)
		if err != nil {
			return "", err
		}
		if n.Op == ir.Eq {
			if _, err := strconv.Atoi(n.Text); err == nil && !strings.HasPrefix(n.Text, "+") {
				return fmt.Sprintf("%s=%s", f, n.Text), nil
			}
			return fmt.Sprintf("test(%s == %s)", f, n.Text), nil
		}
		return fmt.Sprintf("test(%s %s %s)", f, n.Op, n.Text), nil
	case *ir.Exists:
		f, err := field(n, n.Field)
		if err != nil {
			return "", err
		}
		return f + "=*", nil
	case *ir.Null:
		f, err := field(n, n.Field)
		if err != nil {
			return "", err
		}
		return f + "!=*", nil
	case *ir.FieldRef:
		a, err := field(n, n.Field)
		if err != nil {
			return "", err
		}
		b, err := field(n, n.Other)
		if err != nil {
			return "", err
		}
		if n.Kind != ir.RefEquals {
			return "", text.Unsupported(name, n.Pos, "fieldref with %s", n.Kind)
		}
		// test() sees a missing field as empty: require both fields first.
		if n.Cased {
			return fmt.Sprintf("(%s=* and %s=* and test(%s == %s))", a, b, a, b), nil
		}
		return fmt.Sprintf("(%s=* and %s=* and test(lower(%s) == lower(%s)))", a, b, a, b), nil
	case *ir.TimePart:
		return "", text.Unsupported(name, n.Pos, "the %s modifier (a date part of a field) inside a filter", n.Unit)
	}
	panic(fmt.Sprintf("logscale: unknown IR node %T", e))
}

func match(n *ir.Match, warns *[]*diag.Diagnostic) (string, error) {
	if err := text.ValidUTF8(name, n); err != nil {
		return "", err
	}
	f := "@rawstring"
	if n.Field != "" {
		var err error
		if f, err = field(n, n.Field); err != nil {
			return "", err
		}
	} else {
		*warns = append(*warns, diag.Warnf(n.Pos, "logscale: keywords are searched in @rawstring, the event as ingested; escaping in the raw text (JSON doubles backslashes) can hide a match that the evaluator finds in field values"))
	}
	shape, lit := n.Pattern.Shape()
	if shape == ir.ShapeAny && n.Field != "" {
		return f + "=*", nil
	}
	// `=` treats `*` in the string as a wildcard, and control characters
	// have no documented string escape: those go to the regex form.
	if shape == ir.ShapeExact && n.Cased && !strings.ContainsAny(lit, "*") && !text.HasControl(lit) {
		return f + "=" + text.Quote(lit), nil
	}
	flags := ""
	if !n.Cased {
		flags = "i"
	}
	if n.Pattern.HasWildcards() && shape != ir.ShapePrefix && shape != ir.ShapeSuffix && shape != ir.ShapeContains {
		flags += "d" // `*` and `?` also match line breaks
	}
	return fmt.Sprintf("%s=/%s/%s", f, text.PatternRegex(n.Pattern, `\A`, `\z`, ""), flags), nil
}

// list renders several matches of one field as one test: in() when all
// are plain exact values, else one regex alternation (an OR of searches on
// a field is a search for the alternation).
func list(args []ir.Expr) (string, bool, error) {
	if c0, ok := args[0].(*ir.CIDR); ok {
		f, err := field(c0, c0.Field)
		if err != nil {
			return "", false, err
		}
		var nets []string
		for _, a := range args {
			nets = append(nets, text.Quote(a.(*ir.CIDR).Prefix.String()))
		}
		return fmt.Sprintf("cidr(%s, subnet=[%s])", f, strings.Join(nets, ", ")), true, nil
	}
	m0 := args[0].(*ir.Match)
	f, err := field(args[0], m0.Field)
	if err != nil {
		return "", false, err
	}
	var vals, alts []string
	exact, dotAll := true, false
	for _, a := range args {
		m := a.(*ir.Match)
		if err := text.ValidUTF8(name, m); err != nil {
			return "", false, err
		}
		shape, lit := m.Pattern.Shape()
		// in() values treat `*` as a wildcard; backslashes are left to regex.
		if shape != ir.ShapeExact || strings.ContainsAny(lit, `*\`) || lit == "" || text.HasControl(lit) {
			exact = false
		}
		vals = append(vals, text.Quote(lit))
		alts = append(alts, text.PatternRegex(m.Pattern, `\A`, `\z`, ""))
		if m.Pattern.HasWildcards() && shape != ir.ShapePrefix && shape != ir.ShapeSuffix && shape != ir.ShapeContains {
			dotAll = true
		}
	}
	if exact {
		ic := ", ignoreCase=true"
		if m0.Cased {
			ic = ""
		}
		return fmt.Sprintf("in(field=%s, values=[%s]%s)", text.Quote(f), strings.Join(vals, ", "), ic), true, nil
	}
	flags := ""
	if !m0.Cased {
		flags = "i"
	}
	if dotAll {
		flags += "d"
	}
	return fmt.Sprintf("%s=/(?:%s)/%s", f, strings.Join(alts, "|"), flags), true, nil
}
