// Package sumocheck is a grammar and reference interpreter for the subset of
// Sumo Logic log search that sigc emits (a scope of metadata terms or `*`,
// `parse regex … nodrop` and `json` extraction stages, `where …` with
// matches, in, toLowerCase, num, isNull, compareCIDRPrefix), written from
// Sumo Logic's operator documentation. No Sumo parser can run here, so tests use it to
// check every rendered query parses and selects the same events as the
// evaluator. It is strict: AND and OR are not mixed without parentheses,
// `matches` must match the whole value (the stricter reading of the docs),
// and strings accept only the \" and \\ escapes.
package sumocheck

import (
	"fmt"
	"github.com/sigc-project/sigc/backends/text"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// Event is a flat event: field name to values, plus the raw message.
type Event struct {
	Fields map[string][]string
	Raw    string
}

type query struct {
	Scope string  `parser:"@\"*\" \"|\" \"where\""`
	Or    *orExpr `parser:"@@"`
}

type orExpr struct {
	Left  *andExpr   `parser:"@@"`
	Right []*andExpr `parser:"( \"OR\" @@ )*"`
}

type andExpr struct {
	Left  *notExpr   `parser:"@@"`
	Right []*notExpr `parser:"( \"AND\" @@ )*"`
}

type notExpr struct {
	Not  *notExpr `parser:"  \"!\" @@"`
	Prim *primary `parser:"| @@"`
}

type primary struct {
	Group   *orExpr  `parser:"  \"(\" @@ \")\""`
	IsNull  *operand `parser:"| \"isNull\" \"(\" @@ \")\""`
	CIDR    *cidrFn  `parser:"| \"compareCIDRPrefix\" \"(\" @@ \")\""`
	Compare *compare `parser:"| @@"`
}

type cidrFn struct {
	Net    string   `parser:"@String \",\""`
	Field  *operand `parser:"@@ \",\""`
	Prefix string   `parser:"@String"`
}

type compare struct {
	Left    *operand `parser:"@@"`
	Matches *string  `parser:"(  \"matches\" @( String | Regex )"`
	In      []string `parser:"  | \"in\" \"(\" @String ( \",\" @String )* \")\""`
	Op      string   `parser:"  | @( \"=\" | \"<=\" | \">=\" | \"<\" | \">\" )"`
	Right   *operand `parser:"    @@ )"`
}

type operand struct {
	Lower  *operand `parser:"  \"toLowerCase\" \"(\" @@ \")\""`
	Num    *operand `parser:"| \"num\" \"(\" @@ \")\""`
	String *string  `parser:"| @String"`
	Number *string  `parser:"| @Number"`
	Quoted *string  `parser:"| \"%\" @String"`
	Field  *string  `parser:"| @Ident"`
}

var sumoLexer = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "String", Pattern: `"(\\.|[^"\\])*"`},
	{Name: "Regex", Pattern: `/(\\.|[^/\\\n])*/`},
	{Name: "Number", Pattern: `-?[0-9]+(\.[0-9]+)?`},
	{Name: "Ident", Pattern: `[A-Za-z_][A-Za-z0-9_]*`},
	{Name: "Op", Pattern: `<=|>=|[-+/=<>!*|(),%]`},
	{Name: "whitespace", Pattern: `\s+`},
})

var parser = participle.MustBuild[query](participle.Lexer(sumoLexer), participle.UseLookahead(4))

// Query is a parsed, checked Sumo Logic query: a scope, extraction stages
// and a where clause (either of the last two may be absent).
type Query struct {
	q     *query
	scope scopeExpr
	ex    []*extraction
}

// Parse checks a query against the grammar and the strictness rules. A
// query is `<scope>` then, one per line, `| parse …`/`| json …` stages and
// `| where …`; `* | where …` on one line is a where clause alone.
func Parse(src string) (*Query, error) {
	stages := strings.Split(src, "\n| ")
	if len(stages) == 1 && strings.HasPrefix(src, "* | where ") {
		return parseWhere(src)
	}
	out := &Query{}
	var err error
	if out.scope, err = parseScope(stages[0]); err != nil {
		return nil, err
	}
	for i, st := range stages[1:] {
		switch {
		case isExtraction(st):
			x, err := parseExtraction(st)
			if err != nil {
				return nil, err
			}
			out.ex = append(out.ex, x)
		case strings.HasPrefix(st, "where ") && i == len(stages)-2:
			w, err := parseWhere("* | " + st)
			if err != nil {
				return nil, err
			}
			out.q = w.q
		default:
			return nil, fmt.Errorf("stage %q: a search filter is a scope, parse/json stages and one where clause", st)
		}
	}
	if out.scope == nil && out.q == nil {
		return nil, fmt.Errorf("the query selects every message: it has no scope and no where clause")
	}
	return out, nil
}

func parseWhere(src string) (*Query, error) {
	q, err := parser.ParseString("", src)
	if err != nil {
		return nil, err
	}
	if err := check(q.Or); err != nil {
		return nil, err
	}
	return &Query{q: q}, nil
}

func check(o *orExpr) error {
	ands := append([]*andExpr{o.Left}, o.Right...)
	for _, a := range ands {
		if len(o.Right) > 0 && len(a.Right) > 0 {
			return fmt.Errorf("AND inside OR without parentheses: precedence is ambiguous")
		}
		for _, n := range append([]*notExpr{a.Left}, a.Right...) {
			for n.Not != nil {
				n = n.Not
			}
			p := n.Prim
			switch {
			case p.Group != nil:
				if err := check(p.Group); err != nil {
					return err
				}
			case p.Compare != nil:
				c := p.Compare
				if c.Matches != nil {
					if strings.HasPrefix(*c.Matches, "/") {
						if _, err := regexp.Compile(regexBody(*c.Matches)); err != nil {
							return err
						}
					} else if _, err := unquote(*c.Matches); err != nil {
						return err
					}
				}
				for _, s := range c.In {
					if _, err := unquote(s); err != nil {
						return err
					}
				}
			case p.CIDR != nil:
				ip, err := unquote(p.CIDR.Net)
				if err != nil {
					return err
				}
				if a, err := netip.ParseAddr(ip); err != nil || !a.Is4() {
					return fmt.Errorf("compareCIDRPrefix needs an IPv4 address, got %s", ip)
				}
				bits, err := unquote(p.CIDR.Prefix)
				if n, err2 := strconv.Atoi(bits); err != nil || err2 != nil || n < 0 || n > 32 {
					return fmt.Errorf("bad prefix length %s", p.CIDR.Prefix)
				}
			}
		}
	}
	return nil
}

func unquote(s string) (string, error) { return text.Unquote(s) }

func regexBody(lit string) string {
	return strings.ReplaceAll(lit[1:len(lit)-1], `\/`, `/`)
}

// Match evaluates the where clause; a missing field is null, and any
// comparison with null is false.
func (q *Query) Match(ev *Event) bool {
	if q.scope != nil && !q.scope.match(ev) {
		return false
	}
	if len(q.ex) > 0 {
		ev = copyEvent(ev)
		for _, x := range q.ex {
			x.apply(ev)
		}
	}
	return q.q == nil || evalOr(q.q.Or, ev)
}

// Extract applies the query's extraction stages to a copy of ev.
func (q *Query) Extract(ev *Event) *Event {
	if len(q.ex) == 0 {
		return ev
	}
	ev = copyEvent(ev)
	for _, x := range q.ex {
		x.apply(ev)
	}
	return ev
}

func evalOr(o *orExpr, ev *Event) bool {
	for _, a := range append([]*andExpr{o.Left}, o.Right...) {
		if evalAnd(a, ev) {
			return true
		}
	}
	return false
}

func evalAnd(a *andExpr, ev *Event) bool {
	for _, n := range append([]*notExpr{a.Left}, a.Right...) {
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
	case p.IsNull != nil:
		return len(values(p.IsNull, ev)) == 0
	case p.CIDR != nil:
		ip, _ := unquote(p.CIDR.Net)
		bits, _ := unquote(p.CIDR.Prefix)
		n, _ := strconv.Atoi(bits)
		prefix := netip.PrefixFrom(netip.MustParseAddr(ip), n)
		for _, v := range values(p.CIDR.Field, ev) {
			if a, err := netip.ParseAddr(v); err == nil && a.Is4() && prefix.Contains(a) {
				return true
			}
		}
		return false
	case p.Compare != nil:
		return evalCompare(p.Compare, ev)
	}
	panic("sumocheck: empty primary")
}

// values evaluates an operand to its possible values (array elements each).
func values(o *operand, ev *Event) []string {
	switch {
	case o.String != nil:
		s, _ := unquote(*o.String)
		return []string{s}
	case o.Number != nil:
		return []string{*o.Number}
	case o.Lower != nil:
		var out []string
		for _, v := range values(o.Lower, ev) {
			out = append(out, strings.ToLower(v))
		}
		return out
	case o.Num != nil:
		var out []string
		for _, v := range values(o.Num, ev) {
			if _, err := text.ParseDecimal(v); err == nil {
				out = append(out, v)
			}
		}
		return out
	case o.Quoted != nil:
		name, _ := unquote(*o.Quoted)
		return field(name, ev)
	default:
		return field(*o.Field, ev)
	}
}

func field(name string, ev *Event) []string {
	if name == "_raw" {
		return []string{ev.message()}
	}
	return ev.Fields[name]
}

// message is the message as ingested: the reader's `_raw` when it kept
// the original line (key=value and CSV records), else the record.
func (ev *Event) message() string {
	if v := ev.Fields["_raw"]; len(v) == 1 {
		return v[0]
	}
	return ev.Raw
}

func evalCompare(c *compare, ev *Event) bool {
	left := values(c.Left, ev)
	switch {
	case c.Matches != nil:
		var re *regexp.Regexp
		if strings.HasPrefix(*c.Matches, "/") {
			re = regexp.MustCompile(`\A(?:` + regexBody(*c.Matches) + `)\z`)
		} else {
			pat, _ := unquote(*c.Matches)
			parts := strings.Split(pat, "*")
			for i := range parts {
				parts[i] = regexp.QuoteMeta(parts[i])
			}
			re = regexp.MustCompile(`(?s)\A` + strings.Join(parts, ".*") + `\z`)
		}
		for _, v := range left {
			if re.MatchString(v) {
				return true
			}
		}
		return false
	case c.In != nil:
		for _, v := range left {
			for _, s := range c.In {
				if w, _ := unquote(s); w == v {
					return true
				}
			}
		}
		return false
	}
	right := values(c.Right, ev)
	for _, l := range left {
		for _, r := range right {
			lf, lerr := text.ParseDecimal(l)
			rf, rerr := text.ParseDecimal(r)
			numeric := lerr == nil && rerr == nil && c.Right.String == nil
			switch c.Op {
			case "=":
				if (numeric && lf == rf) || (!numeric && l == r) {
					return true
				}
			case "<":
				if numeric && lf < rf {
					return true
				}
			case "<=":
				if numeric && lf <= rf {
					return true
				}
			case ">":
				if numeric && lf > rf {
					return true
				}
			case ">=":
				if numeric && lf >= rf {
					return true
				}
			}
		}
	}
	return false
}
