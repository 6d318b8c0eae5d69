package sigma

import (
	"gopkg.in/yaml.v3"

	"github.com/sigc-project/sigc/diag"
)

// Correlation is a Sigma correlation rule (spec v2.1) or sigc's `aggregate`
// extension. Scalars keep their positions for diagnostics.
type Correlation struct {
	Meta
	File     string
	Pos      diag.Pos
	Generate bool

	Type       Value
	Rules      []Value
	GroupBy    []Value
	Timespan   *Value
	Field      *Value // value_* types: the field (at correlation or condition level)
	Percentile *Value
	// Condition is either a map of operators (gt: 10, field: x) or, for
	// `aggregate` and the extended temporal form, an expression string.
	CondOps  map[string]Value
	CondText *Value
	CondPos  diag.Pos
	// Aliases maps an alias to the field it stands for in each rule.
	Aliases []Alias
	// Aggregate holds the named expressions of the aggregate type, in order.
	Aggregate []NamedExpr
}

// Alias is one `aliases:` entry.
type Alias struct {
	Name   string
	Pos    diag.Pos
	Fields map[string]Value // rule reference -> field
}

// NamedExpr is `name: expression` under `aggregate:`.
type NamedExpr struct {
	Name string
	Pos  diag.Pos
	Expr Value
}

func (l *loader) loadCorrelation(root *yaml.Node, keys map[string]*yaml.Node) *Correlation {
	c := &Correlation{File: l.file, Pos: l.pos(root), Meta: l.loadMeta(keys)}
	if g := keys["generate"]; g != nil {
		v := l.scalar(g)
		if v.Kind != Bool {
			l.errorf(g, "generate must be true or false")
		}
		c.Generate = v.Raw == "true" || v.Raw == "True" || v.Raw == "TRUE"
	}
	if keys["title"] == nil {
		l.errorf(root, "correlation rule has no title; add `title:`")
	}
	n := keys["correlation"]
	if n.Kind != yaml.MappingNode {
		l.errorf(n, "correlation must be a mapping with type, rules, timespan and condition")
		return c
	}
	m := l.mapping(n)
	for k, v := range m {
		switch k {
		case "type", "rules", "group-by", "timespan", "condition", "aliases", "aggregate", "field", "percentile", "generate":
		default:
			l.errorf(v, "unknown correlation key %q; expected type, rules, group-by, timespan, condition, aliases, aggregate, field or percentile", k)
		}
	}
	if v := m["generate"]; v != nil { // tolerated inside the correlation block too
		c.Generate = l.scalar(v).Raw == "true"
	}
	if t := m["type"]; t != nil && t.Kind == yaml.ScalarNode {
		c.Type = l.scalar(t)
	} else {
		l.errorf(n, "correlation has no type; use event_count, value_count, temporal, temporal_ordered, value_sum, value_avg, value_percentile, value_median or aggregate")
	}
	c.Rules = l.scalarList(m["rules"], "correlation rules")
	if m["rules"] == nil {
		l.errorf(n, "correlation has no `rules`; name the rules it correlates")
	}
	c.GroupBy = l.scalarList(m["group-by"], "group-by")
	if t := m["timespan"]; t != nil {
		v := l.scalar(t)
		c.Timespan = &v
	}
	if f := m["field"]; f != nil {
		v := l.scalar(f)
		c.Field = &v
	}
	if p := m["percentile"]; p != nil {
		v := l.scalar(p)
		c.Percentile = &v
	}
	if cond := m["condition"]; cond != nil {
		c.CondPos = l.pos(cond)
		switch cond.Kind {
		case yaml.MappingNode:
			c.CondOps = map[string]Value{}
			l.pairs(cond, func(k, v *yaml.Node) {
				if v.Kind != yaml.ScalarNode {
					l.errorf(cond, "condition entries must be `operator: number` or `field: name`")
					return
				}
				c.CondOps[k.Value] = l.scalar(v)
			})
		case yaml.ScalarNode:
			v := l.scalar(cond)
			c.CondText = &v
		default:
			l.errorf(cond, "condition must be a mapping such as `gte: 10` or an expression string")
		}
	}
	if a := m["aliases"]; a != nil {
		if a.Kind != yaml.MappingNode {
			l.errorf(a, "aliases must map an alias to {rule: field} pairs")
		} else {
			l.pairs(a, func(k, v *yaml.Node) {
				al := Alias{Name: k.Value, Pos: l.pos(k), Fields: map[string]Value{}}
				if v.Kind != yaml.MappingNode {
					l.errorf(v, "alias %q must map each rule to its field", k.Value)
					return
				}
				l.pairs(v, func(rk, rv *yaml.Node) {
					if rv.Kind == yaml.ScalarNode {
						al.Fields[rk.Value] = l.scalar(rv)
					}
				})
				c.Aliases = append(c.Aliases, al)
			})
		}
	}
	if a := m["aggregate"]; a != nil {
		if a.Kind != yaml.MappingNode {
			l.errorf(a, "aggregate must map names to expressions such as `count()`")
		} else {
			l.pairs(a, func(k, v *yaml.Node) {
				if v.Kind != yaml.ScalarNode {
					l.errorf(v, "aggregate %q must be an expression string", k.Value)
					return
				}
				c.Aggregate = append(c.Aggregate, NamedExpr{Name: k.Value, Pos: l.pos(k), Expr: l.scalar(v)})
			})
		}
	}
	return c
}

// scalarList reads a scalar or a list of scalars.
func (l *loader) scalarList(n *yaml.Node, what string) []Value {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return []Value{l.scalar(n)}
	case yaml.SequenceNode:
		var out []Value
		for _, c := range n.Content {
			c, ok := l.resolve(c)
			if !ok {
				continue
			}
			if c.Kind != yaml.ScalarNode {
				l.errorf(c, "%s entries must be plain values", what)
				continue
			}
			out = append(out, l.scalar(c))
		}
		return out
	}
	l.errorf(n, "%s must be a value or a list of values", what)
	return nil
}
