package cqlcheck

import (
	"fmt"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The pipeline stages sigc emits for correlations, one per line after
// "\n| ": case statements, assignments, function calls (groupBy, math:*,
// sort, neighbor) and filters. ParsePipeline checks each stage's grammar,
// each function's documented parameters, and that after groupBy() every
// name read exists: only group fields and aggregate outputs survive it.

type stage struct {
	Case   *caseStage `parser:"  \"case\" \"{\" @@ \"}\""`
	Assign *assign    `parser:"| @@"`
	Call   *call      `parser:"| @@"`
	Filter *orExpr    `parser:"| @@"`
}

type caseStage struct {
	Branches []*branch `parser:"@@ ( \";\" @@ )*"`
}

type branch struct {
	Star   bool      `parser:"(  @\"*\""`
	Filter *orExpr   `parser:"  | @@ )"`
	Steps  []*assign `parser:"( \"|\" @@ )*"`
}

type assign struct {
	Name string `parser:"@Ident \":=\""`
	Expr *arith `parser:"@@"`
}

type call struct {
	Name string `parser:"@( FuncName | Ident ) \"(\""`
	Args []*arg `parser:"( @@ ( \",\" @@ )* )? \")\""`
}

type arg struct {
	Name  string `parser:"( @Ident \"=\" )?"`
	Value *value `parser:"@@"`
}

type value struct {
	Array  []*value `parser:"  \"[\" ( @@ ( \",\" @@ )* )? \"]\""`
	Call   *call    `parser:"| @@"`
	String *string  `parser:"| @String"`
	Number *string  `parser:"| @Number"`
	Ident  *string  `parser:"| @Ident"`
}

type arith struct {
	Left *term     `parser:"@@"`
	Rest []*arithR `parser:"@@*"`
}

type arithR struct {
	Op string `parser:"@( \"+\" | \"-\" | \"*\" | \"/\" )"`
	R  *term  `parser:"@@"`
}

type term struct {
	Group  *arith  `parser:"  \"(\" @@ \")\""`
	Call   *call   `parser:"| @@"`
	Number *string `parser:"| @Number"`
	Ident  *string `parser:"| @Ident"`
	String *string `parser:"| @String"`
}

var pipeLexer = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "String", Pattern: `"(\\.|[^"\\])*"`},
	// `//` starts a comment in LogScale, so a regex literal is never empty.
	{Name: "Regex", Pattern: `/(\\.|[^/\\\n])+/[imdgF]*`},
	{Name: "Number", Pattern: `-?[0-9]+(\.[0-9]+)?`},
	{Name: "FuncName", Pattern: `[A-Za-z_]+:[A-Za-z_]+`},
	// A bare field name has letters, digits and _ only (the field-name
	// syntax page); @timestamp is read bare in expressions.
	{Name: "Ident", Pattern: `[A-Za-z_@#][A-Za-z0-9_]*`}, // #tag fields
	{Name: "Op", Pattern: `:=|!=|==|<=|>=|[-+/=<>!*(),\[\]{};|]`},
	{Name: "whitespace", Pattern: `\s+`},
})

var stageParser = participle.MustBuild[stage](participle.Lexer(pipeLexer), participle.UseLookahead(6))

// functions lists the documented parameters of the functions sigc emits;
// "" is the unnamed first argument.
var functions = map[string][]string{
	"groupBy":       {"", "field", "function", "limit"},
	"count":         {"", "field", "distinct", "as"},
	"sum":           {"", "field", "as"},
	"avg":           {"", "field", "as"},
	"min":           {"", "field", "as"},
	"max":           {"", "field", "as"},
	"percentile":    {"field", "percentiles", "as", "accuracy"},
	"math:floor":    {"", "field", "as"},
	"math:sqrt":     {"", "field", "as"},
	"sort":          {"field", "order", "type", "limit"},
	"neighbor":      {"", "include", "prefix", "direction", "distance"},
	"format":        {"", "format", "field", "as"},
	"lower":         {""},
	"getField":      {"", "source", "as"},
	"selectFromMin": {"", "field", "include"},
	"selectFromMax": {"", "field", "include"},
	"collect":       {"", "fields", "limit", "multival", "separator"},
}

// ParsePipeline checks a correlation query: its first stage is a filter,
// then the stages above.
func ParsePipeline(src string) error {
	stages := strings.Split(src, "\n| ")
	if _, err := Parse(stages[0]); err != nil {
		return fmt.Errorf("stage 1: %v", err)
	}
	aggregated := false
	defined := map[string]bool{}
	for i, s := range stages[1:] {
		st, err := stageParser.ParseString("", s)
		if err != nil {
			return fmt.Errorf("stage %d %q: %v", i+2, s, err)
		}
		if err := checkStage(st, &aggregated, defined); err != nil {
			return fmt.Errorf("stage %d %q: %v", i+2, s, err)
		}
	}
	if !aggregated {
		return fmt.Errorf("a correlation query must aggregate with groupBy()")
	}
	return nil
}

func checkStage(st *stage, aggregated *bool, defined map[string]bool) error {
	use := func(name string) error {
		if *aggregated && !defined[name] {
			return fmt.Errorf("%q is read after groupBy() but is not a group field or an aggregate output", name)
		}
		return nil
	}
	switch {
	case st.Case != nil:
		for _, b := range st.Case.Branches {
			if b.Filter != nil {
				if err := check(b.Filter); err != nil {
					return err
				}
				if *aggregated {
					for _, n := range filterNames(b.Filter) {
						if err := use(n); err != nil {
							return err
						}
					}
				}
			}
			for _, a := range b.Steps {
				if err := checkArith(a.Expr, use); err != nil {
					return err
				}
				defined[a.Name] = true
			}
		}
	case st.Assign != nil:
		if err := checkArith(st.Assign.Expr, use); err != nil {
			return err
		}
		defined[st.Assign.Name] = true
	case st.Call != nil:
		if err := checkCall(st.Call); err != nil {
			return err
		}
		c := st.Call
		switch c.Name {
		case "groupBy":
			if *aggregated {
				return fmt.Errorf("sigc emits one groupBy()")
			}
			*aggregated = true
			for k := range defined {
				delete(defined, k)
			}
			for _, a := range c.Args {
				switch a.Name {
				case "", "field":
					for _, v := range a.Value.Array {
						defined[v.name()] = true
					}
				case "function":
					for _, v := range a.Value.Array {
						if v.Call == nil {
							return fmt.Errorf("function= takes aggregate calls")
						}
						if err := checkCall(v.Call); err != nil {
							return err
						}
						switch v.Call.Name {
						case "selectFromMin", "selectFromMax":
							for _, f := range arrayOf(v.Call, "include") {
								defined[f] = true
							}
							continue
						case "collect":
							for _, f := range arrayOf(v.Call, "") {
								defined[f] = true
							}
							continue
						}
						as := argValue(v.Call, "as")
						if as == "" {
							return fmt.Errorf("%s() needs as= so its output has a known name", v.Call.Name)
						}
						if v.Call.Name == "percentile" {
							for _, p := range arrayOf(v.Call, "percentiles") {
								defined[as+"_"+p] = true // as is the prefix of _<percentile>
							}
							continue
						}
						defined[as] = true
					}
				}
			}
		case "math:floor", "math:sqrt":
			if err := use(firstArg(c)); err != nil {
				return err
			}
			defined[argValue(c, "as")] = true
		case "sort", "neighbor":
			if *aggregated {
				return fmt.Errorf("%s() must come before groupBy()", c.Name)
			}
			if c.Name == "neighbor" {
				prefix := argValue(c, "prefix")
				for _, v := range arrayOf(c, "include") {
					defined[prefix+"."+v] = true
				}
			}
		default:
			return fmt.Errorf("sigc does not emit %s() as a stage", c.Name)
		}
	case st.Filter != nil:
		if err := check(st.Filter); err != nil {
			return err
		}
		if *aggregated {
			for _, n := range filterNames(st.Filter) {
				if err := use(n); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func checkCall(c *call) error {
	params, ok := functions[c.Name]
	if !ok {
		return fmt.Errorf("%s() is not a function sigc emits", c.Name)
	}
	for i, a := range c.Args {
		okName := false
		for _, p := range params {
			if a.Name == p && (p != "" || i == 0) {
				okName = true
			}
		}
		if !okName {
			return fmt.Errorf("%s() has no parameter %q", c.Name, a.Name)
		}
		if a.Value.String != nil {
			if _, err := unquote(*a.Value.String); err != nil {
				return err
			}
		}
	}
	return nil
}

// name reads a field name written bare or double-quoted.
func (v *value) name() string {
	switch {
	case v.Ident != nil:
		return *v.Ident
	case v.String != nil:
		s, _ := unquote(*v.String)
		return s
	}
	return ""
}

func argValue(c *call, name string) string {
	for _, a := range c.Args {
		if a.Name == name {
			switch {
			case a.Value.Ident != nil:
				return *a.Value.Ident
			case a.Value.String != nil:
				s, _ := unquote(*a.Value.String)
				return s
			case a.Value.Number != nil:
				return *a.Value.Number
			}
		}
	}
	return ""
}

func firstArg(c *call) string {
	if len(c.Args) > 0 && c.Args[0].Name == "" && c.Args[0].Value.name() != "" {
		return c.Args[0].Value.name()
	}
	return argValue(c, "field")
}

func arrayOf(c *call, name string) []string {
	var out []string
	for _, a := range c.Args {
		if a.Name == name {
			for _, v := range a.Value.Array {
				switch {
				case v.Ident != nil, v.String != nil:
					out = append(out, v.name())
				case v.Number != nil:
					out = append(out, *v.Number)
				}
			}
		}
	}
	return out
}

func checkArith(a *arith, use func(string) error) error {
	terms := []*term{a.Left}
	for _, r := range a.Rest {
		terms = append(terms, r.R)
	}
	for _, t := range terms {
		switch {
		case t.Group != nil:
			if err := checkArith(t.Group, use); err != nil {
				return err
			}
		case t.Call != nil:
			if err := checkCall(t.Call); err != nil {
				return err
			}
			for _, n := range callNames(t.Call) {
				if err := use(n); err != nil {
					return err
				}
			}
		case t.Ident != nil:
			if strings.HasPrefix(*t.Ident, "@") && *t.Ident != "@timestamp" {
				return fmt.Errorf("%s: a name other than letters, digits and _ is read with getField(\"…\") in an expression", *t.Ident)
			}
			if *t.Ident != "@timestamp" {
				if err := use(*t.Ident); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// filterNames lists the fields a filter reads.
func filterNames(o *orExpr) []string {
	var out []string
	for _, a := range append([]*andExpr{o.Left}, o.Right...) {
		for _, n := range append([]*notExpr{a.Left}, a.Right...) {
			for n.Not != nil {
				n = n.Not
			}
			p := n.Prim
			switch {
			case p.Group != nil:
				out = append(out, filterNames(p.Group)...)
			case p.Cmp != nil:
				out = append(out, p.Cmp.name())
			case p.Test != nil:
				out = append(out, arithNames(p.Test.Left)...)
				out = append(out, arithNames(p.Test.Right)...)
			}
		}
	}
	return out
}

func arithNames(a *arith) []string {
	var out []string
	for _, t := range append([]*term{a.Left}, func() []*term {
		var ts []*term
		for _, r := range a.Rest {
			ts = append(ts, r.R)
		}
		return ts
	}()...) {
		switch {
		case t.Ident != nil:
			out = append(out, *t.Ident)
		case t.Group != nil:
			out = append(out, arithNames(t.Group)...)
		case t.Call != nil:
			out = append(out, callNames(t.Call)...)
		}
	}
	return out
}

// callNames lists the fields an expression function reads: getField's
// argument, and those of the calls inside (lower(getField("x"))).
func callNames(c *call) []string {
	if c.Name == "getField" {
		if len(c.Args) == 1 && c.Args[0].Value.String != nil {
			return []string{c.Args[0].Value.name()}
		}
		return nil
	}
	var out []string
	for _, a := range c.Args {
		switch {
		case a.Value.Call != nil:
			out = append(out, callNames(a.Value.Call)...)
		case a.Value.Ident != nil && c.Name == "lower":
			out = append(out, *a.Value.Ident)
		}
	}
	return out
}
