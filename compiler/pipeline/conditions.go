package pipeline

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/sigc-project/sigc/compiler/condition"
	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/diag"
)

// A condition decides whether a processing item applies: to the rule, to a
// detection item, or to a field name. Each kind has its own registry, named
// as in pySigma's YAML.
type (
	ruleCond interface{ rule(s *Subject) bool }
	itemCond interface {
		item(s *Subject, it *Item) bool
	}
	fieldCond interface {
		field(s *Subject, name string) bool
	}
)

// condGroup is the `*_conditions` of one processing item with its
// combination: all of them (`*_cond_op: and`, the default), any (`or`), or
// a boolean expression over their ids (`*_cond_expr`), negated by
// `*_cond_not`.
type condGroup struct {
	ids   []string
	conds map[string]any
	expr  condition.Expr
	or    bool
	not   bool
	set   bool
}

func (g *condGroup) eval(match func(any) bool) bool {
	if !g.set {
		return true
	}
	var ok bool
	switch {
	case g.expr != nil:
		ok = g.evalExpr(g.expr, match)
	case g.or:
		for _, id := range g.ids {
			if match(g.conds[id]) {
				ok = true
				break
			}
		}
	default:
		ok = true
		for _, id := range g.ids {
			if !match(g.conds[id]) {
				ok = false
				break
			}
		}
	}
	return ok != g.not
}

func (g *condGroup) evalExpr(e condition.Expr, match func(any) bool) bool {
	switch n := e.(type) {
	case *condition.Binary:
		and := n.Op == "and"
		for _, a := range n.Args {
			if g.evalExpr(a, match) != and {
				return !and
			}
		}
		return and
	case *condition.Not:
		return !g.evalExpr(n.Arg, match)
	case *condition.Ident:
		return match(g.conds[n.Name])
	case *condition.Quantifier:
		hits, total := 0, 0
		for _, id := range g.ids {
			if n.Pattern == "them" || patternMatch(n.Pattern, id) {
				total++
				if match(g.conds[id]) {
					hits++
				}
			}
		}
		if n.All {
			return hits == total
		}
		return hits >= max(n.Count, 1)
	}
	return false
}

func patternMatch(pattern, name string) bool {
	ok, _ := path.Match(strings.NewReplacer("?", `\?`, "[", `\[`, `\`, `\\`).Replace(pattern), name)
	return ok
}

// condGroup reads `<kind>_conditions` and its companions from an item.
func (r *reader) condGroup(p *params, kind string, registry map[string]func(*params) any) condGroup {
	g := condGroup{conds: map[string]any{}}
	list := p.get(kind + "_conditions")
	exprText, exprNode := "", p.get(kind+"_cond_expr")
	if exprNode != nil {
		var ok bool
		if exprText, ok = p.scalar(exprNode, kind+"_cond_expr"); !ok || strings.TrimSpace(exprText) == "" {
			r.errorf(exprNode, "%s_cond_expr is empty; write how the conditions combine (`a and not b`) or remove it", kind)
		}
		if p.has(kind + "_cond_op") {
			r.errorf(p.at(kind+"_cond_op"), "%s_cond_op and %s_cond_expr exclude each other; keep the expression", kind, kind)
		}
	}
	op := p.str(kind+"_cond_op", "and")
	g.not = p.boolean(kind+"_cond_not", false)
	switch strings.ToLower(op) {
	case "and":
	case "or":
		g.or = true
	default:
		r.errorf(p.at(kind+"_cond_op"), "%s_cond_op must be `and` or `or`, not %s", kind, diag.Quote(op))
	}
	if list == nil {
		if exprNode != nil {
			r.errorf(exprNode, "%s_cond_expr needs %s_conditions, a mapping of ids to conditions", kind, kind)
		}
		return g
	}
	g.set = list.Kind != yaml.SequenceNode || len(list.Content) > 0 // an empty list is no condition (pySigma)
	what := kind + " condition"
	switch list.Kind {
	case yaml.SequenceNode:
		if exprNode != nil {
			r.errorf(list, "with %s_cond_expr, %s_conditions must be a mapping of ids to conditions, so the expression can name them", kind, kind)
		}
		for i, c := range list.Content {
			id := fmt.Sprint(i)
			if cond := r.condition(c, what, registry); cond != nil {
				g.ids = append(g.ids, id)
				g.conds[id] = cond
			}
		}
	case yaml.MappingNode:
		if exprNode == nil {
			r.errorf(list, "%s_conditions is a mapping of ids, so it needs %s_cond_expr saying how they combine (or make it a list)", kind, kind)
		}
		for i := 0; i+1 < len(list.Content); i += 2 {
			k := deref(list.Content[i])
			if cond := r.condition(list.Content[i+1], what, registry); cond != nil {
				g.ids = append(g.ids, k.Value)
				g.conds[k.Value] = cond
			}
		}
	default:
		r.errorf(list, "%s_conditions must be a list of conditions, each with a `type`", kind)
		return g
	}
	if exprNode != nil && exprText != "" {
		ast, err := condition.Parse(exprText)
		if err != nil {
			pe := err.(*condition.Error)
			r.errorf(exprNode, "%s_cond_expr: %s", kind, pe.Msg)
			return g
		}
		var check func(condition.Expr)
		check = func(e condition.Expr) {
			switch n := e.(type) {
			case *condition.Binary:
				for _, a := range n.Args {
					check(a)
				}
			case *condition.Not:
				check(n.Arg)
			case *condition.Ident:
				if _, ok := g.conds[n.Name]; !ok {
					r.errorf(exprNode, "%s_cond_expr names %s, which is not one of the %s_conditions (%s)", kind, diag.Quote(n.Name), kind, strings.Join(g.ids, ", "))
				}
			}
		}
		check(ast)
		g.expr = ast
	}
	return g
}

func (r *reader) condition(n *yaml.Node, what string, registry map[string]func(*params) any) any {
	p := r.params(n, "a "+what)
	typ, tn := p.kind("a " + what)
	if typ == "" {
		return nil
	}
	mk, ok := registry[typ]
	if !ok {
		r.errorf(tn, "unknown %s type %s; sigc knows %s", what, diag.Quote(typ), listKeys(registry))
		return nil
	}
	p.what = what + " " + diag.Quote(typ)
	c := mk(p)
	p.finish(p.usedKeys()...)
	return c
}

// Rule conditions ------------------------------------------------------

var ruleConditions = map[string]func(*params) any{
	"logsource": func(p *params) any {
		return &logsourceCond{category: p.str("category", ""), product: p.str("product", ""), service: p.str("service", "")}
	},
	"contains_detection_item": func(p *params) any {
		f, _ := p.need("field")
		return &containsItemCond{fieldName: f, value: p.str("value", "")}
	},
	"contains_field": func(p *params) any {
		f, _ := p.need("field")
		return &containsItemCond{fieldName: f, anyValue: true}
	},
	"processing_item_applied": func(p *params) any {
		id, _ := p.need("processing_item_id")
		return &appliedCond{id: id}
	},
	"processing_state": func(p *params) any { return readStateCond(p) },
	"is_sigma_rule":    func(p *params) any { return &kindCond{correlation: false} },
	"is_sigma_correlation_rule": func(p *params) any {
		return &kindCond{correlation: true}
	},
	"rule_attribute": func(p *params) any {
		a, _ := p.need("attribute")
		v, _ := p.need("value")
		c := &attrCond{attr: a, value: v, op: p.str("op", "eq")}
		if !validOps[c.op] && c.op != "in" && c.op != "not_in" {
			p.r.errorf(p.at("op"), "rule_attribute: op must be one of eq, ne, lt, lte, gt, gte, in, not_in, not %s", diag.Quote(c.op))
		}
		if (c.op == "in" || c.op == "not_in") && !listAttributes[a] {
			p.r.errorf(p.at("op"), "rule_attribute: %s applies to the list attributes (%s), not %s", c.op, strings.Join(sortedKeys(listAttributes), ", "), diag.Quote(a))
		}
		return c
	},
	"tag": func(p *params) any {
		t, _ := p.need("tag")
		return &tagCond{tag: t}
	},
}

var validOps = map[string]bool{"eq": true, "ne": true, "lt": true, "lte": true, "gt": true, "gte": true}

type logsourceCond struct{ category, product, service string }

// rule: every attribute the condition sets equals the rule's (pySigma's
// logsource containment); a correlation matches when any rule it refers
// to matches.
func (c *logsourceCond) rule(s *Subject) bool {
	if s.Correlation != nil {
		for _, ls := range s.Refs {
			if c.match(ls) {
				return true
			}
		}
		return false
	}
	return c.match(*s.Logsource)
}

func (c *logsourceCond) match(ls ir.Logsource) bool {
	eq := func(want, have string) bool { return want == "" || want == have }
	return eq(c.category, ls.Category) && eq(c.product, ls.Product) && eq(c.service, ls.Service)
}

type containsItemCond struct {
	fieldName string
	value     string
	anyValue  bool
}

func (c *containsItemCond) rule(s *Subject) bool {
	for _, cond := range s.Conditions {
		for _, it := range Items(cond) {
			if it.Field != c.fieldName {
				continue
			}
			if c.anyValue {
				return true
			}
			for _, v := range it.Values {
				for _, a := range v.Alts {
					if m, ok := a.(*ir.Match); ok && samePattern(m.Pattern, c.value) {
						return true
					}
				}
			}
		}
	}
	return false
}

type appliedCond struct{ id string }

func (c *appliedCond) rule(s *Subject) bool           { return s.applied[c.id] }
func (c *appliedCond) item(s *Subject, it *Item) bool { return it.applied[c.id] }
func (c *appliedCond) field(s *Subject, name string) bool {
	return name != "" && s.fieldApplied[name][c.id]
}

type stateCond struct {
	key, val, op string
}

func readStateCond(p *params) any {
	k, _ := p.need("key")
	v, _ := p.need("val")
	c := &stateCond{key: k, val: v, op: p.str("op", "eq")}
	if !validOps[c.op] {
		p.r.errorf(p.at("op"), "processing_state: op must be one of eq, ne, lt, lte, gt, gte, not %s", diag.Quote(c.op))
	}
	return c
}

func (c *stateCond) test(s *Subject) bool {
	have, ok := s.state[c.key]
	if !ok {
		return false // pySigma: a key never set matches no comparison
	}
	return compare(have, c.val, c.op)
}

func (c *stateCond) rule(s *Subject) bool               { return c.test(s) }
func (c *stateCond) item(s *Subject, it *Item) bool     { return c.test(s) }
func (c *stateCond) field(s *Subject, name string) bool { return c.test(s) }

// compare applies op to two values: numerically when both are numbers,
// else as text (eq and ne only order text).
func compare(have, want, op string) bool {
	var a, b float64
	_, e1 := fmt.Sscanf(have, "%g", &a)
	_, e2 := fmt.Sscanf(want, "%g", &b)
	cmp := strings.Compare(have, want)
	if e1 == nil && e2 == nil {
		switch {
		case a < b:
			cmp = -1
		case a > b:
			cmp = 1
		default:
			cmp = 0
		}
	}
	switch op {
	case "eq":
		return cmp == 0
	case "ne":
		return cmp != 0
	case "lt":
		return cmp < 0
	case "lte":
		return cmp <= 0
	case "gt":
		return cmp > 0
	case "gte":
		return cmp >= 0
	}
	return false
}

type kindCond struct{ correlation bool }

func (c *kindCond) rule(s *Subject) bool { return (s.Correlation != nil) == c.correlation }

type attrCond struct{ attr, value, op string }

// levels and statuses order as pySigma's enums do, for lt/gt.
var (
	levelOrder  = map[string]int{"informational": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
	statusOrder = map[string]int{"unsupported": 0, "deprecated": 1, "experimental": 2, "test": 3, "stable": 4}
)

// listAttributes are the rule attributes that hold lists, for in/not_in.
var listAttributes = map[string]bool{"tags": true, "references": true, "falsepositives": true, "fields": true}

func (c *attrCond) rule(s *Subject) bool {
	if c.op == "in" || c.op == "not_in" {
		found := false
		for _, v := range s.listAttribute(c.attr) {
			found = found || v == c.value
		}
		return found == (c.op == "in")
	}
	have, ok := s.attribute(c.attr)
	if !ok {
		return false
	}
	order := map[string]map[string]int{"level": levelOrder, "status": statusOrder}[c.attr]
	if order != nil {
		a, ok1 := order[strings.ToLower(have)]
		b, ok2 := order[strings.ToLower(c.value)]
		if ok1 && ok2 {
			return compare(fmt.Sprint(a), fmt.Sprint(b), c.op)
		}
	}
	return compare(have, c.value, c.op)
}

type tagCond struct{ tag string }

func (c *tagCond) rule(s *Subject) bool {
	for _, t := range s.tags() {
		if strings.EqualFold(t, c.tag) {
			return true
		}
	}
	return false
}

// Detection item conditions ----------------------------------------------

var itemConditions = map[string]func(*params) any{
	"match_string": func(p *params) any {
		pat, pn := p.need("pattern")
		re, err := regexp.Compile(pat)
		if err != nil {
			p.r.errorf(pn, "match_string: the pattern does not compile: %v", err)
			re = regexp.MustCompile(`$^`)
		}
		return &matchStringCond{re: re, all: readCond(p), negate: p.boolean("negate", false)}
	},
	"match_value": func(p *params) any {
		v, _ := p.need("value")
		return &matchValueCond{value: v, all: readCond(p)}
	},
	"contains_wildcard": func(p *params) any { return &wildcardCond{all: readCond(p)} },
	"is_null":           func(p *params) any { return &nullCond{all: readCond(p)} },
	"processing_item_applied": func(p *params) any {
		id, _ := p.need("processing_item_id")
		return &appliedCond{id: id}
	},
	"processing_state": func(p *params) any { return readStateCond(p) },
}

// readCond reads `cond: any|all` (any by default).
func readCond(p *params) bool {
	if !p.has("cond") {
		p.r.errorf(p.node, "%s needs `cond: any` or `cond: all`", p.what)
		return false
	}
	c, _ := p.need("cond")
	switch c {
	case "any":
		return false
	case "all":
		return true
	}
	p.r.errorf(p.at("cond"), "%s: cond must be `any` or `all`, not %s", p.what, diag.Quote(c))
	return false
}

// valueTest runs test over the item's values, any or all.
func valueTest(it *Item, all bool, test func(ir.Expr) bool) bool {
	if len(it.Values) == 0 {
		return false
	}
	for _, v := range it.Values {
		hit := false
		for _, a := range v.Alts {
			if test(a) {
				hit = true
				break
			}
		}
		if hit != all {
			return hit
		}
	}
	return all
}

type matchStringCond struct {
	re     *regexp.Regexp
	all    bool
	negate bool
}

// item: the pattern is searched from the start of each string value
// (Python's re.match: anchored at the start only), wildcards written as
// `*` and `?`. Values that are not strings never match.
func (c *matchStringCond) item(s *Subject, it *Item) bool {
	return valueTest(it, c.all, func(e ir.Expr) bool {
		m, isStr := e.(*ir.Match)
		if !isStr {
			return c.negate
		}
		loc := c.re.FindStringIndex(plain(m.Pattern))
		return (loc != nil && loc[0] == 0) != c.negate // negate flips each value's result
	})
}

type matchValueCond struct {
	value string
	all   bool
}

func (c *matchValueCond) item(s *Subject, it *Item) bool {
	return valueTest(it, c.all, func(e ir.Expr) bool {
		switch n := e.(type) {
		case *ir.Match:
			return samePattern(n.Pattern, c.value)
		case *ir.Number:
			return n.Text == c.value
		}
		return false
	})
}

type wildcardCond struct{ all bool }

func (c *wildcardCond) item(s *Subject, it *Item) bool {
	return valueTest(it, c.all, func(e ir.Expr) bool {
		m, ok := e.(*ir.Match)
		return ok && m.Pattern.HasWildcards()
	})
}

type nullCond struct{ all bool }

func (c *nullCond) item(s *Subject, it *Item) bool {
	return valueTest(it, c.all, func(e ir.Expr) bool { _, ok := e.(*ir.Null); return ok })
}

// Field name conditions ------------------------------------------------

var fieldConditions = map[string]func(*params) any{
	"include_fields": func(p *params) any { return readFieldList(p, true) },
	"exclude_fields": func(p *params) any { return readFieldList(p, false) },
	"processing_item_applied": func(p *params) any {
		id, _ := p.need("processing_item_id")
		return &appliedCond{id: id}
	},
	"processing_state": func(p *params) any { return readStateCond(p) },
}

type fieldListCond struct {
	include bool
	names   []string
	res     []*regexp.Regexp
}

func readFieldList(p *params, include bool) any {
	c := &fieldListCond{include: include, names: p.list("fields")}
	if !p.has("fields") {
		p.r.errorf(p.node, "%s needs `fields`", p.what)
	}
	switch t := p.str("mode", "plain"); t {
	case "plain":
	case "re":
		for _, n := range c.names {
			re, err := regexp.Compile("^(?:" + n + ")") // re.match: anchored at the start only
			if err != nil {
				p.r.errorf(p.at("fields"), "%s: %s is not a regular expression: %v", p.what, diag.Quote(n), err)
				continue
			}
			c.res = append(c.res, re)
		}
		c.names = nil
	default:
		p.r.errorf(p.at("mode"), "%s: mode must be `plain` or `re`, not %s", p.what, diag.Quote(t))
	}
	return c
}

// field: include_fields holds for a listed name and never for a keyword
// (no name); exclude_fields holds for any name not listed, keywords
// included — as pySigma does.
func (c *fieldListCond) field(s *Subject, name string) bool {
	if name == "" {
		return !c.include
	}
	listed := false
	for _, n := range c.names {
		if n == name {
			listed = true
		}
	}
	for _, re := range c.res {
		if re.MatchString(name) {
			listed = true
		}
	}
	return listed == c.include
}
