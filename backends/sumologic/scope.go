package sumologic

import (
	"regexp"
	"sort"
	"strings"

	"github.com/sigc-project/sigc/backends/text"
	"github.com/sigc-project/sigc/compiler/ir"
)

// metadata are Sumo's built-in metadata fields: a test on one of them at
// the top of a condition goes in the search scope (`_sourceCategory=proxy`),
// where Sumo selects the data before reading it; anywhere else it is a
// where clause like any field.
var metadata = map[string]bool{"_sourcecategory": true, "_index": true, "_view": true, "_sourcehost": true, "_sourcename": true, "_source": true, "_collector": true}

// scopeBare is what a scope value may hold unquoted (the keyword search
// page); any other value is double-quoted, and then cannot hold a wildcard.
var scopeBare = regexp.MustCompile(`^[A-Za-z0-9\-_:/.+@#$%^]+$`)

// splitScope takes the top-level conjuncts a scope can say from a
// condition: the scope text ("*" when none) and the rest (nil when
// nothing is left for a where clause).
func splitScope(e ir.Expr) (string, ir.Expr) {
	args := []ir.Expr{e}
	if a, ok := e.(*ir.And); ok {
		args = a.Args
	}
	var terms []string
	var rest []ir.Expr
	for _, a := range args {
		if t, ok := scopeTerm(a); ok {
			terms = append(terms, t)
		} else {
			rest = append(rest, a)
		}
	}
	if len(terms) == 0 {
		return Scope, e
	}
	scope := strings.Join(terms, " AND ")
	switch len(rest) {
	case 0:
		return scope, nil
	case 1:
		return scope, rest[0]
	}
	return scope, &ir.And{Node: ir.Node{Pos: e.Position()}, Args: rest}
}

// scopeTerm writes a metadata test, or an OR of tests of one metadata
// field, as scope text. Scope matching is case-insensitive, with `*`
// wildcards and no `?`, so a cased test or a `?` stays in the where
// clause.
func scopeTerm(e ir.Expr) (string, bool) {
	switch n := e.(type) {
	case *ir.Match:
		if n.Cased || !metadata[strings.ToLower(n.Field)] || len(n.Pattern) == 0 {
			return "", false
		}
		var b strings.Builder
		hasStar := false
		for _, s := range n.Pattern {
			switch s.Kind {
			case ir.Star:
				hasStar = true
				b.WriteByte('*')
			case ir.Lit:
				if strings.Contains(s.Text, "*") || text.HasInvisible(s.Text) {
					return "", false
				}
				b.WriteString(s.Text)
			default:
				return "", false
			}
		}
		v := b.String()
		if lit := strings.ReplaceAll(v, "*", ""); lit != "" && !scopeBare.MatchString(lit) {
			if hasStar {
				return "", false // a quoted value cannot hold a wildcard
			}
			v = text.Quote(v)
		}
		return n.Field + "=" + v, true
	case *ir.Or:
		var alts []string
		for _, a := range n.Args {
			m, ok := a.(*ir.Match)
			if !ok || (len(alts) > 0 && m.Field != n.Args[0].(*ir.Match).Field) {
				return "", false
			}
			t, ok := scopeTerm(m)
			if !ok {
				return "", false
			}
			alts = append(alts, t)
		}
		return "(" + strings.Join(alts, " OR ") + ")", true
	}
	return "", false
}

// extractions are the `parse regex` and `json` stages for the fields a
// query reads, from the rule's pipeline attributes:
//
//	sumologic.parse.<field>: a regex with the group (?<field>…)
//	sumologic.json.<field>:  the JSON key holding the field (a.b)
//	sumologic.json.*:        the key of any other field, {field} standing
//	                         for its name (EventData.{field})
//	sumologic.json: auto     `json auto`: every key of a JSON message, nested
//	                         ones under dotted names (EventData.Image)
//
// Fields a Field Extraction Rule already provides need none of them.
func extractions(custom map[string]string, fields []string) []string {
	if len(custom) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var names []string
	for _, f := range fields {
		if f != "" && !seen[f] && !metadata[strings.ToLower(f)] {
			seen[f] = true
			names = append(names, f)
		}
	}
	sort.Strings(names)
	var out, keys, as []string
	if custom["sumologic.json"] == "auto" {
		out = append(out, "json auto")
	}
	for _, f := range names {
		if re, ok := custom["sumologic.parse."+f]; ok {
			out = append(out, "parse regex "+quoteRegex(re)+" nodrop")
			continue
		}
		key, ok := custom["sumologic.json."+f]
		if !ok {
			if tmpl, any := custom["sumologic.json.*"]; any {
				key, ok = strings.ReplaceAll(tmpl, "{field}", f), true
			}
		}
		if ok && jsonAlias.MatchString(f) {
			keys = append(keys, text.Quote(key))
			as = append(as, f)
		}
	}
	if len(keys) > 0 {
		out = append(out, "json field=_raw "+strings.Join(keys, ", ")+" as "+strings.Join(as, ", ")+" nodrop")
	}
	return out
}

// jsonAlias is a name `json … as` accepts.
var jsonAlias = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// exprFields lists every field an expression reads.
func exprFields(e ir.Expr) []string {
	if e == nil {
		return nil
	}
	var out []string
	ir.Walk(e, func(n ir.Expr) { out = append(out, text.Fields(n)...) })
	return out
}

// quoteRegex writes a parse regex as the docs do: in double quotes with
// `\"` for a quote and every other backslash as it is (`\d`, `\s`).
func quoteRegex(re string) string {
	return `"` + strings.ReplaceAll(re, `"`, `\"`) + `"`
}
