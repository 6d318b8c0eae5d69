// Package cqlcheck is a grammar and reference interpreter for the subset of
// the LogScale query language that sigc emits, written from CrowdStrike's
// documentation (operators, regex flags, in(), cidr(), test(), lower()).
// No LogScale parser can run here, so tests use it to check that every
// rendered query parses and selects the same events as the evaluator. It is
// strict on purpose: `and` and `or` may not be mixed without parentheses, and
// strings accept only the escapes the docs describe.
package cqlcheck

import (
	"fmt"
	"github.com/sigc-project/sigc/backends/text"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2"
)

// Event is a flat event: field name to its values (array elements share a
// name), and the raw text for @rawstring.
type Event struct {
	Fields map[string][]string
	Raw    string
}

type query struct {
	Or *orExpr `parser:"@@"`
}

type orExpr struct {
	Left  *andExpr   `parser:"@@"`
	Right []*andExpr `parser:"( \"or\" @@ )*"`
}

type andExpr struct {
	Left  *notExpr   `parser:"@@"`
	Right []*notExpr `parser:"( \"and\" @@ )*"`
}

type notExpr struct {
	Not  *notExpr `parser:"  ( \"not\" | \"!\" ) @@"`
	Prim *primary `parser:"| @@"`
}

type primary struct {
	Group *orExpr  `parser:"  \"(\" @@ \")\""`
	Test  *testFn  `parser:"| \"test\" \"(\" @@ \")\""`
	In    *inFn    `parser:"| \"in\" \"(\" @@ \")\""`
	CIDR  *cidrFn  `parser:"| \"cidr\" \"(\" @@ \")\""`
	Cmp   *compare `parser:"| @@"`
}

type compare struct {
	Field  string  `parser:"( @Ident | @String )"`
	Op     string  `parser:"@( \"!=\" | \"=\" )"`
	Star   bool    `parser:"(  @\"*\""`
	Regex  *string `parser:"  | @Regex"`
	String *string `parser:"  | @String"`
	Number *string `parser:"  | @Number )"`
}

type inFn struct {
	Field      string   `parser:"\"field\" \"=\" @String \",\""`
	Values     []string `parser:"\"values\" \"=\" \"[\" @String ( \",\" @String )* \"]\""`
	IgnoreCase *string  `parser:"( \",\" \"ignoreCase\" \"=\" @( \"true\" | \"false\" ) )?"`
}

type cidrFn struct {
	Field   string   `parser:"( @Ident | @String ) \",\""`
	Subnet  *string  `parser:"\"subnet\" \"=\" ( @String"`
	Subnets []string `parser:"  | \"[\" @String ( \",\" @String )* \"]\" )"`
}

// fieldName reads a field name written bare or double-quoted.
func fieldName(s string) string {
	if strings.HasPrefix(s, `"`) {
		u, _ := unquote(s)
		return u
	}
	return s
}

func (c *compare) name() string { return fieldName(c.Field) }

func (c *cidrFn) nets() []string {
	if c.Subnet != nil {
		return []string{*c.Subnet}
	}
	return c.Subnets
}

type testFn struct {
	Left  *arith `parser:"@@"`
	Op    string `parser:"@( \"==\" | \"!=\" | \"<=\" | \">=\" | \"<\" | \">\" )"`
	Right *arith `parser:"@@"`
}

var parser = participle.MustBuild[query](participle.Lexer(pipeLexer), participle.UseLookahead(4))

// Query is a parsed, checked LogScale filter.
type Query struct{ q *query }

// Parse checks a query against the grammar and the strictness rules.
func Parse(src string) (*Query, error) {
	q, err := parser.ParseString("", src)
	if err != nil {
		return nil, err
	}
	if err := check(q.Or); err != nil {
		return nil, err
	}
	return &Query{q: q}, nil
}

// check enforces explicit grouping and validates literals.
func check(o *orExpr) error {
	if len(o.Right) > 0 {
		for _, a := range append([]*andExpr{o.Left}, o.Right...) {
			if len(a.Right) > 0 {
				return fmt.Errorf("`and` inside `or` without parentheses: precedence is ambiguous")
			}
		}
	}
	for _, a := range append([]*andExpr{o.Left}, o.Right...) {
		for _, n := range append([]*notExpr{a.Left}, a.Right...) {
			if err := checkNot(n); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkNot(n *notExpr) error {
	for n.Not != nil {
		n = n.Not
	}
	p := n.Prim
	switch {
	case p.Group != nil:
		return check(p.Group)
	case p.Cmp != nil:
		if err := checkFieldName(p.Cmp.Field); err != nil {
			return err
		}
		if p.Cmp.String != nil {
			_, err := unquote(*p.Cmp.String)
			return err
		}
		if p.Cmp.Regex != nil {
			_, err := compileRegex(*p.Cmp.Regex)
			return err
		}
	case p.In != nil:
		for _, v := range append([]string{p.In.Field}, p.In.Values...) {
			if _, err := unquote(v); err != nil {
				return err
			}
		}
	case p.CIDR != nil:
		if err := checkFieldName(p.CIDR.Field); err != nil {
			return err
		}
		for _, n := range p.CIDR.nets() {
			s, err := unquote(n)
			if err != nil {
				return err
			}
			if _, err := netip.ParsePrefix(s); err != nil {
				return err
			}
		}
	}
	return nil
}

func unquote(s string) (string, error) { return text.Unquote(s) }

var bareName = regexp.MustCompile(`^#?[A-Za-z_][A-Za-z0-9_]*$`)

// checkFieldName enforces the field-name syntax page: a name other than
// letters, digits and _ must be double-quoted; a tag field is written
// `#name` (the "Tag fields" page: `#type=accesslog`).
func checkFieldName(s string) error {
	if strings.HasPrefix(s, `"`) {
		_, err := unquote(s)
		return err
	}
	if !bareName.MatchString(s) {
		return fmt.Errorf("field name %s must be double-quoted: it has characters other than letters, digits and _", s)
	}
	return nil
}

// compileRegex maps /body/flags to Go's RE2 (the evaluator's engine): i is
// case-insensitive, m multi-line, d dot-all.
func compileRegex(lit string) (*regexp.Regexp, error) {
	end := strings.LastIndexByte(lit, '/')
	body, flags := lit[1:end], lit[end+1:]
	body = strings.ReplaceAll(body, `\/`, `/`)
	goFlags := ""
	for _, f := range flags {
		switch f {
		case 'i':
			goFlags += "i"
		case 'm':
			goFlags += "m"
		case 'd':
			goFlags += "s"
		default:
			return nil, fmt.Errorf("flag %q is not used by sigc", f)
		}
	}
	if goFlags != "" {
		body = "(?" + goFlags + ")" + body
	}
	return regexp.Compile(body)
}

// Match evaluates the query on one event with LogScale semantics: a
// comparison on a missing field fails except `!=`; `=` on a string is
// case-sensitive with `*` as wildcard.
func (q *Query) Match(ev *Event) bool { return evalOr(q.q.Or, ev) }

func evalOr(o *orExpr, ev *Event) bool {
	if evalAnd(o.Left, ev) {
		return true
	}
	for _, a := range o.Right {
		if evalAnd(a, ev) {
			return true
		}
	}
	return false
}

func evalAnd(a *andExpr, ev *Event) bool {
	if !evalNot(a.Left, ev) {
		return false
	}
	for _, n := range a.Right {
		if !evalNot(n, ev) {
			return false
		}
	}
	return true
}

func evalNot(n *notExpr, ev *Event) bool {
	if n.Not != nil {
		return !evalNot(n.Not, ev)
	}
	p := n.Prim
	switch {
	case p.Group != nil:
		return evalOr(p.Group, ev)
	case p.Cmp != nil:
		return evalCmp(p.Cmp, ev)
	case p.In != nil:
		field, _ := unquote(p.In.Field)
		ic := p.In.IgnoreCase != nil && *p.In.IgnoreCase == "true"
		for _, v := range ev.Fields[field] {
			for _, raw := range p.In.Values {
				want, _ := unquote(raw)
				if globMatch(want, v, ic) {
					return true
				}
			}
		}
		return false
	case p.CIDR != nil:
		for _, n := range p.CIDR.nets() {
			s, _ := unquote(n)
			prefix, _ := netip.ParsePrefix(s)
			for _, v := range ev.Fields[fieldName(p.CIDR.Field)] {
				if a, err := netip.ParseAddr(v); err == nil && prefix.Contains(a.Unmap()) {
					return true
				}
			}
		}
		return false
	case p.Test != nil:
		return evalTest(p.Test, ev)
	}
	panic("cqlcheck: empty primary")
}

func values(ev *Event, field string) []string {
	if field == "@rawstring" {
		return []string{ev.Raw}
	}
	return ev.Fields[field]
}

func evalCmp(c *compare, ev *Event) bool {
	vals := values(ev, c.name())
	if c.Op == "!=" {
		if c.Star {
			return len(vals) == 0
		}
		panic("cqlcheck: sigc emits != only with *")
	}
	if c.Star {
		return len(vals) > 0
	}
	for _, v := range vals {
		switch {
		case c.Regex != nil:
			re, _ := compileRegex(*c.Regex)
			if re.MatchString(v) {
				return true
			}
		case c.String != nil:
			want, _ := unquote(*c.String)
			if globMatch(want, v, false) {
				return true
			}
		case c.Number != nil:
			if v == *c.Number {
				return true
			}
		}
	}
	return false
}

// globMatch matches a value against a string with `*` wildcards.
func globMatch(pattern, v string, ignoreCase bool) bool {
	var re strings.Builder
	re.WriteString(`(?s)\A`)
	if ignoreCase {
		re.WriteString(`(?i)`)
	}
	for i, part := range strings.Split(pattern, "*") {
		if i > 0 {
			re.WriteString(".*")
		}
		re.WriteString(regexp.QuoteMeta(part))
	}
	re.WriteString(`\z`)
	return regexp.MustCompile(re.String()).MatchString(v)
}

func evalTest(t *testFn, ev *Event) bool {
	left, lok := arithValue(t.Left, ev)
	right, rok := arithValue(t.Right, ev)
	if !lok || !rok {
		return false
	}
	lf, lerr := text.ParseDecimal(left)
	rf, rerr := text.ParseDecimal(right)
	if lerr == nil && rerr == nil {
		switch t.Op {
		case "==":
			return lf == rf
		case "!=":
			return lf != rf
		case "<":
			return lf < rf
		case "<=":
			return lf <= rf
		case ">":
			return lf > rf
		case ">=":
			return lf >= rf
		}
	}
	switch t.Op {
	case "==":
		return left == right
	case "!=":
		return left != right
	}
	return false
}

// callValue evaluates the expression functions sigc emits: getField("f")
// reads a field by name; lower() lower-cases its argument.
func callValue(c *call, ev *Event) (string, bool) {
	first := func(name string) string {
		if v := ev.Fields[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if len(c.Args) != 1 {
		return "", false
	}
	a := c.Args[0].Value
	switch c.Name {
	case "getField":
		if a.String != nil {
			return first(a.name()), true
		}
	case "lower":
		switch {
		case a.Ident != nil:
			return strings.ToLower(first(*a.Ident)), true
		case a.Call != nil:
			v, ok := callValue(a.Call, ev)
			return strings.ToLower(v), ok
		}
	}
	return "", false
}

// arithValue evaluates a test() operand; a missing field is the empty
// string in LogScale expressions (so sigc guards field references with f=*).
func arithValue(a *arith, ev *Event) (string, bool) {
	v, ok := termValue(a.Left, ev)
	if len(a.Rest) == 0 {
		return v, ok
	}
	x, err := text.ParseDecimal(v)
	if !ok || err != nil {
		return "", false
	}
	nums := []float64{x}
	var ops []string
	for _, r := range a.Rest {
		w, ok2 := termValue(r.R, ev)
		y, err := text.ParseDecimal(w)
		if !ok2 || err != nil {
			return "", false
		}
		nums, ops = append(nums, y), append(ops, r.Op)
	}
	f, ok := text.Arithmetic(nums, ops)
	return strconv.FormatFloat(f, 'f', -1, 64), ok
}

func termValue(t *term, ev *Event) (string, bool) {
	first := func(name string) string {
		if v := ev.Fields[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	switch {
	case t.Number != nil:
		return *t.Number, true
	case t.String != nil:
		s, err := unquote(*t.String)
		return s, err == nil
	case t.Group != nil:
		return arithValue(t.Group, ev)
	case t.Call != nil:
		return callValue(t.Call, ev)
	default:
		return first(*t.Ident), true
	}
}
