package sumocheck

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/alecthomas/participle/v2"
)

// The stages sigc emits for correlations, one per line after "\n| ":
// `where`, `<expr> as <name>`, `sort by`, `diff … as … by …` and
// aggregations `<agg> as <name>, … by <fields>`. ParsePipeline checks each
// stage's grammar and that after an aggregation every name read exists:
// only the `by` fields and the aggregate outputs survive it. It also holds
// sort and diff to what the operator pages document: sort orders
// aggregated results, and diff takes rows in the order they come, so it
// must follow a sort of aggregated rows.

type calcStage struct {
	Expr *arith `parser:"@@ \"as\""`
	Name string `parser:"@Ident"`
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
	If     *ifCall `parser:"  \"if\" \"(\" @@ \")\""`
	Call   *fnCall `parser:"| @@"`
	Group  *arith  `parser:"| \"(\" @@ \")\""`
	Number *string `parser:"| @Number"`
	String *string `parser:"| @String"`
	Ident  *string `parser:"| @Ident"`
}

type ifCall struct {
	Cond *orExpr `parser:"@@ \",\""`
	Then *arith  `parser:"@@ \",\""`
	Else *arith  `parser:"@@"`
}

type fnCall struct {
	Name string `parser:"@( \"floor\" | \"sqrt\" | \"num\" | \"toLowerCase\" ) \"(\""`
	Arg  *arith `parser:"@@ \")\""`
}

type aggStage struct {
	Aggs []*agg   `parser:"@@ ( \",\" @@ )* \"by\""`
	By   []string `parser:"@( Ident | \"%\" String ) ( \",\" @( Ident | \"%\" String ) )*"`
}

// agg is one aggregate; a field argument is a plain name or %"name".
type agg struct {
	Count bool    `parser:"(  @\"count\""`
	CArg  string  `parser:"   ( \"(\" @( Ident | \"%\" String ) \")\" )?"`
	Fn    string  `parser:"  | @( \"count_distinct\" | \"sum\" | \"avg\" | \"min\" | \"max\" | \"pct\" | \"least_recent\" | \"most_recent\" | \"values\" ) \"(\""`
	Arg   string  `parser:"    @( Ident | \"%\" String )"`
	P     *string `parser:"    ( \",\" @Number )? \")\" )"`
	As    string  `parser:"\"as\" @Ident"`
}

// parseAgg parses an aggregation stage and reads its field names.
func parseAgg(s string) (*aggStage, error) {
	st, err := aggParser.ParseString("", s)
	if err != nil {
		return nil, err
	}
	name := func(n string) string {
		if strings.HasPrefix(n, `%"`) {
			u, _ := unquote(n[1:])
			return u
		}
		return n
	}
	for _, a := range st.Aggs {
		if a.Count {
			a.Arg = a.CArg
		}
		a.Arg = name(a.Arg)
	}
	for i, b := range st.By {
		st.By[i] = name(b)
	}
	return st, nil
}

var (
	calcParser = participle.MustBuild[calcStage](participle.Lexer(sumoLexer), participle.UseLookahead(6))
	aggParser  = participle.MustBuild[aggStage](participle.Lexer(sumoLexer), participle.UseLookahead(4))
	whereRE    = regexp.MustCompile(`^where `)
	sortRE     = regexp.MustCompile(`^sort by ([A-Za-z_][A-Za-z0-9_]*) (asc|desc)$`)
	diffRE     = regexp.MustCompile(`^diff ([A-Za-z_][A-Za-z0-9_]*) as ([A-Za-z_][A-Za-z0-9_]*) by ([A-Za-z_][A-Za-z0-9_]*(, [A-Za-z_][A-Za-z0-9_]*)*)$`)
	withtimeRE = regexp.MustCompile(`^withtime ([A-Za-z_][A-Za-z0-9_]*)$`)
	aggRE      = regexp.MustCompile(`^(count|count_distinct|sum|avg|min|max|pct|least_recent|most_recent|values)\b.* by `)
)

// joinFilter folds the extraction stages between the scope and the first
// where clause into the scope, so stages[0] + "\n| " + stages[1] is the
// search filter.
func joinFilter(stages []string) []string {
	n := 1
	for n < len(stages) && isExtraction(stages[n]) {
		n++
	}
	if n == 1 || n >= len(stages) {
		return stages
	}
	return append([]string{strings.Join(stages[:n], "\n| ")}, stages[n:]...)
}

// ParsePipeline checks a correlation search.
func ParsePipeline(src string) error {
	stages := strings.Split(src, "\n| ")
	stages = joinFilter(stages)
	if len(stages) < 3 {
		return fmt.Errorf("a correlation search has a scope, a where clause and an aggregation")
	}
	if _, err := Parse(stages[0] + "\n| " + stages[1]); err != nil {
		return fmt.Errorf("scope and first where: %v", err)
	}
	aggregated, sorted := false, false
	defined := map[string]bool{}
	use := func(name string) error {
		if aggregated && !defined[name] {
			return fmt.Errorf("%q is read after the aggregation but is neither a `by` field nor an aggregate", name)
		}
		return nil
	}
	for i, s := range stages[2:] {
		n := i + 3
		switch {
		case whereRE.MatchString(s):
			q, err := Parse("* | " + s)
			if err != nil {
				return fmt.Errorf("stage %d %q: %v", n, s, err)
			}
			for _, name := range orNames(q.q.Or) {
				if err := use(name); err != nil {
					return fmt.Errorf("stage %d: %v", n, err)
				}
			}
		case sortRE.MatchString(s):
			if !aggregated {
				return fmt.Errorf("stage %d: sort orders aggregated results; sorting raw messages is not documented", n)
			}
			if err := use(sortRE.FindStringSubmatch(s)[1]); err != nil {
				return fmt.Errorf("stage %d: %v", n, err)
			}
			sorted = true
		case withtimeRE.MatchString(s):
			if aggregated {
				return fmt.Errorf("stage %d: withtime must come before the aggregation", n)
			}
			defined[withtimeRE.FindStringSubmatch(s)[1]+"_withtime"] = true
		case diffRE.MatchString(s):
			m := diffRE.FindStringSubmatch(s)
			if !sorted {
				return fmt.Errorf("stage %d: diff takes rows in the order they come; sort aggregated rows first", n)
			}
			for _, name := range append([]string{m[1]}, strings.Split(m[3], ", ")...) {
				if err := use(name); err != nil {
					return fmt.Errorf("stage %d: %v", n, err)
				}
			}
			defined[m[2]] = true
		case aggRE.MatchString(s):
			st, err := parseAgg(s)
			if err != nil {
				return fmt.Errorf("stage %d %q: %v", n, s, err)
			}
			for _, a := range st.Aggs {
				if aggregated && a.Arg != "" && !defined[a.Arg] {
					return fmt.Errorf("stage %d: %q is aggregated but did not survive the aggregation before", n, a.Arg)
				}
				if (a.Fn == "least_recent" || a.Fn == "most_recent") && !defined[a.Arg] {
					return fmt.Errorf("stage %d: %s(%s) needs a `withtime` stage first", n, a.Fn, a.Arg)
				}
			}
			for _, b := range st.By {
				if aggregated && !defined[b] {
					return fmt.Errorf("stage %d: %q is a `by` field but did not survive the aggregation before", n, b)
				}
			}
			aggregated, sorted = true, false
			for k := range defined {
				delete(defined, k)
			}
			for _, b := range st.By {
				defined[b] = true
			}
			for _, a := range st.Aggs {
				if a.Fn == "pct" && a.P == nil {
					return fmt.Errorf("stage %d: pct() needs a percentile", n)
				}
				defined[a.As] = true
			}
		default:
			st, err := calcParser.ParseString("", s)
			if err != nil {
				return fmt.Errorf("stage %d %q: %v", n, s, err)
			}
			for _, name := range arithNames(st.Expr) {
				if err := use(name); err != nil {
					return fmt.Errorf("stage %d: %v", n, err)
				}
			}
			defined[st.Name] = true
		}
	}
	if !aggregated {
		return fmt.Errorf("a correlation search must aggregate")
	}
	return nil
}

func arithNames(a *arith) []string {
	var out []string
	terms := []*term{a.Left}
	for _, r := range a.Rest {
		terms = append(terms, r.R)
	}
	for _, t := range terms {
		switch {
		case t.Ident != nil && *t.Ident != "_messagetime":
			out = append(out, *t.Ident)
		case t.Group != nil:
			out = append(out, arithNames(t.Group)...)
		case t.Call != nil:
			out = append(out, arithNames(t.Call.Arg)...)
		case t.If != nil:
			out = append(out, orNames(t.If.Cond)...)
			out = append(out, arithNames(t.If.Then)...)
			out = append(out, arithNames(t.If.Else)...)
		}
	}
	return out
}

func orNames(o *orExpr) []string {
	var out []string
	opNames := func(op *operand) []string {
		for op != nil {
			switch {
			case op.Lower != nil:
				op = op.Lower
			case op.Num != nil:
				op = op.Num
			case op.Field != nil && *op.Field != "_messagetime":
				return []string{*op.Field}
			default:
				return nil
			}
		}
		return nil
	}
	for _, a := range append([]*andExpr{o.Left}, o.Right...) {
		for _, n := range append([]*notExpr{a.Left}, a.Right...) {
			for n.Not != nil {
				n = n.Not
			}
			p := n.Prim
			switch {
			case p.Group != nil:
				out = append(out, orNames(p.Group)...)
			case p.IsNull != nil:
				out = append(out, opNames(p.IsNull)...)
			case p.Compare != nil:
				out = append(out, opNames(p.Compare.Left)...)
				if p.Compare.Right != nil {
					out = append(out, opNames(p.Compare.Right)...)
				}
			}
		}
	}
	return out
}
