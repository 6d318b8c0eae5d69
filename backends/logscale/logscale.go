// Package logscale renders the IR as CrowdStrike Falcon LogScale (CQL)
// queries, using only documented syntax: field=value, /regex/flags,
// in(), cidr(), test(), getField(), field=* and and/or/not.
package logscale

import (
	"fmt"
	"regexp"
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

// bareField is a field name LogScale reads unquoted: the field-name syntax
// page allows only letters, digits and underscores; names with any other
// character (dots and @ included: "dotted names should be quoted to avoid
// parsing ambiguity") must be double-quoted.
var bareField = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// tagField is a tag field (`#event_simpleName`), written bare in filters
// as the docs write tags: `#type=accesslog`.
var tagField = regexp.MustCompile(`^#[A-Za-z_][A-Za-z0-9_]*$`)

var integerText = regexp.MustCompile(`^-?[0-9]+$`)

// keywords would read as syntax, not as a field name.
var keywords = map[string]bool{"and": true, "or": true, "not": true, "case": true, "match": true, "in": true, "true": true, "false": true}

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
		Not:       "not ",
		GroupOpen: "(", GroupClose: ")",
		Leaf: func(e ir.Expr) (string, error) { return leaf(e, warns) },
		List: list,
	}
}

func checkName(e interface{ Position() diag.Pos }, f string) error {
	if f == "" {
		return text.Unsupported(name, e.Position(), "an empty field name")
	}
	if text.HasInvisible(f) {
		return text.Unsupported(name, e.Position(), "the field name %s, which holds an invisible character; map it with a pipeline", diag.Quote(f))
	}
	return nil
}

// field writes a field name where the query filters or a function takes a
// field name: bare, or double-quoted.
func field(e interface{ Position() diag.Pos }, f string) (string, error) {
	if err := checkName(e, f); err != nil {
		return "", err
	}
	if (bareField.MatchString(f) && !keywords[strings.ToLower(f)]) || tagField.MatchString(f) {
		return f, nil
	}
	return text.Quote(f), nil
}

// exprField writes a field name inside an expression (test(), :=), where a
// quoted name would be a string: bare, or getField("name") (LogScale
// 1.127 and later).
func exprField(e interface{ Position() diag.Pos }, f string) (string, error) {
	if err := checkName(e, f); err != nil {
		return "", err
	}
	if bareField.MatchString(f) && !keywords[strings.ToLower(f)] {
		return f, nil
	}
	return "getField(" + text.Quote(f) + ")", nil
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
		if text.InlineFlags.MatchString(n.Pattern) && strings.Contains(n.Pattern, "|") {
			*warns = append(*warns, diag.Warnf(n.Pos, "logscale: an inline flag such as (?i) in a regex applies only to the first branch of an alternation in LogScale; use the re|i modifier instead"))
		}
		if n.IgnoreCase && text.NeedsClasses(n.Pattern) {
			*warns = append(*warns, diag.Warnf(n.Pos, "logscale: re|i on letters beyond ASCII relies on LogScale's i flag, whose reach beyond ASCII is not documented; the evaluator folds them as RE2 does"))
		}
		flags := strings.Replace(n.Flags(), "s", "d", 1) // LogScale's dot-all flag is d
		body := text.RegexBody(n.Pattern)
		if body == "" {
			body = "(?:)" // `//` would start a comment
		}
		return fmt.Sprintf("%s=/%s/%s", f, body, flags), nil
	case *ir.CIDR:
		f, err := field(n, n.Field)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("cidr(%s, subnet=%s)", f, text.Quote(n.Prefix.String())), nil
	case *ir.Number:
		if n.Op == ir.Eq {
			// An integer is compared as the text it is (exactly, at any
			// size); test() would compare doubles.
			if integerText.MatchString(n.Text) {
				f, err := field(n, n.Field)
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("%s=%s", f, n.Text), nil
			}
		}
		f, err := exprField(n, n.Field)
		if err != nil {
			return "", err
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
		if n.Kind != ir.RefEquals {
			return "", text.Unsupported(name, n.Pos, "fieldref with %s", n.Kind)
		}
		a, err := field(n, n.Field)
		if err != nil {
			return "", err
		}
		b, err := field(n, n.Other)
		if err != nil {
			return "", err
		}
		ea, _ := exprField(n, n.Field)
		eb, _ := exprField(n, n.Other)
		// test() sees a missing field as empty: require both fields first.
		if n.Cased {
			return fmt.Sprintf("(%s=* and %s=* and test(%s == %s))", a, b, ea, eb), nil
		}
		return fmt.Sprintf("(%s=* and %s=* and test(lower(%s) == lower(%s)))", a, b, ea, eb), nil
	case *ir.TimePart:
		return "", text.Unsupported(name, n.Pos, "the %s modifier (comparing a date part of a timestamp field) in a search filter; sigc eval evaluates it", n.Unit)
	}
	panic(fmt.Sprintf("logscale: unknown IR node %T", e))
}

// regexFlags chooses how a case-insensitive pattern is written: with the
// i flag when its letters are ASCII, else without it and with classes of
// lower-case equivalents (the flag's reach beyond ASCII is not documented).
func regexFlags(p ir.Pattern, cased bool) (func(string) string, string) {
	if cased {
		return text.RegexLiteral, ""
	}
	for _, s := range p {
		if s.Kind == ir.Lit && text.NeedsClasses(s.Text) {
			return text.ClassLiteral, ""
		}
	}
	return text.RegexLiteral, "i"
}

// dotAll reports whether a pattern's wildcards must cross line breaks
// (flag d): only a wildcard between literals can meet one; a leading or
// trailing star is left open instead.
func dotAll(p ir.Pattern) bool {
	shape, _ := p.Shape()
	return p.HasWildcards() && shape != ir.ShapePrefix && shape != ir.ShapeSuffix && shape != ir.ShapeContains
}

func match(n *ir.Match, warns *[]*diag.Diagnostic) (string, error) {
	if err := text.ValidUTF8(name, n); err != nil {
		return "", err
	}
	f := "@rawstring"
	if n.Field == "" {
		*warns = append(*warns, diag.Warnf(n.Pos, "logscale: keywords are searched in @rawstring, the event as ingested; escaping in the raw text (JSON doubles backslashes) can hide a match that the evaluator finds in field values"))
	} else {
		f = n.Field
	}
	f, err := field(n, f)
	if err != nil {
		return "", err
	}
	shape, lit := n.Pattern.Shape()
	if shape == ir.ShapeAny && n.Field != "" {
		return f + "=*", nil
	}
	// `=` treats `*` in the string as a wildcard, and invisible characters
	// have no documented string escape: those go to the regex form.
	if shape == ir.ShapeExact && n.Cased && !strings.ContainsAny(lit, "*") && !text.HasInvisible(lit) {
		return f + "=" + text.Quote(lit), nil
	}
	literal, flags := regexFlags(n.Pattern, n.Cased)
	if dotAll(n.Pattern) {
		flags += "d" // `*` and `?` also match line breaks
	}
	return fmt.Sprintf("%s=/%s/%s", f, text.PatternRegex(n.Pattern, `\A`, `\z`, "", literal), flags), nil
}

// list renders several matches of one field as one test: in() when all
// are plain exact ASCII values, else one regex alternation (an OR of
// searches on a field is a search for the alternation).
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
	var vals []string
	exact, dot := true, false
	literal, flags := text.RegexLiteral, ""
	if !m0.Cased {
		literal, flags = text.RegexLiteral, "i"
	}
	for _, a := range args {
		m := a.(*ir.Match)
		if err := text.ValidUTF8(name, m); err != nil {
			return "", false, err
		}
		shape, lit := m.Pattern.Shape()
		// in() values treat `*` as a wildcard; backslashes are left to regex.
		if shape != ir.ShapeExact || strings.ContainsAny(lit, `*\`) || lit == "" || text.HasInvisible(lit) || (!m.Cased && text.NeedsClasses(lit)) {
			exact = false
		}
		if l, fl := regexFlags(m.Pattern, m.Cased); !m.Cased && fl == "" {
			literal, flags = l, ""
		}
		vals = append(vals, text.Quote(lit))
		dot = dot || dotAll(m.Pattern)
	}
	if exact {
		ic := ", ignoreCase=true"
		if m0.Cased {
			ic = ""
		}
		return fmt.Sprintf("in(field=%s, values=[%s]%s)", text.Quote(m0.Field), strings.Join(vals, ", "), ic), true, nil
	}
	var alts []string
	for _, a := range args {
		alts = append(alts, text.PatternRegex(a.(*ir.Match).Pattern, `\A`, `\z`, "", literal))
	}
	if dot {
		flags += "d"
	}
	return fmt.Sprintf("%s=/(?:%s)/%s", f, strings.Join(alts, "|"), flags), true, nil
}
