package sumologic

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sigc-project/sigc/backends/text"
	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/diag"
)

// RenderCorrelation renders a correlation as one Sumo Logic search: the
// inputs' where clause, helper fields, epoch-aligned windows
// (floor(_messagetime / span) * span), one aggregation `by` the window and
// group fields, derived values, and a where clause for the condition.
func (Backend) RenderCorrelation(c *ir.Correlation) (string, []*diag.Diagnostic, error) {
	var warns []*diag.Diagnostic
	p := text.PlanCorrelation(c)
	d := dialect(&warns)
	var inputs []string
	for _, in := range c.Inputs {
		if in.Correlation != nil {
			return "", nil, text.Unsupported(name, c.Pos, "a correlation of correlations (%q); render the inner correlation as its own search", in.Ref)
		}
		q, err := d.RenderRule(in.Rule)
		if err != nil {
			return "", nil, err
		}
		inputs = append(inputs, "("+q+")")
	}
	stages := []string{Scope, "where " + strings.Join(inputs, " OR ")}

	if p.TagRules || text.AliasedGroups(c) {
		// Nested if(): the first input whose filter matches names the event.
		tag := `""`
		for i := len(c.Inputs) - 1; i >= 0; i-- {
			tag = fmt.Sprintf("if(%s, %s, %s)", inputs[i], text.Quote(c.Inputs[i].Ref), tag)
		}
		stages = append(stages, tag+" as _rule")
		if len(c.Inputs) > 1 {
			warns = append(warns, diag.Warnf(c.Pos, "sumologic: an event that matches several of the correlated rules is counted for the first of them"))
		}
		for j, g := range c.GroupBy {
			aliased := false
			for _, in := range c.Inputs {
				aliased = aliased || in.GroupFields[j] != g
			}
			if !aliased {
				continue
			}
			expr := ref(c.Inputs[len(c.Inputs)-1].GroupFields[j])
			for i := len(c.Inputs) - 2; i >= 0; i-- {
				expr = fmt.Sprintf("if(_rule = %s, %s, %s)", text.Quote(c.Inputs[i].Ref), ref(c.Inputs[i].GroupFields[j]), expr)
			}
			stages = append(stages, fmt.Sprintf("%s as %s", expr, ref(g)))
		}
		for i := range c.Inputs {
			stages = append(stages, fmt.Sprintf("if(_rule = %s, 1, 0) as _is%d", text.Quote(c.Inputs[i].Ref), i))
		}
		if len(c.Inputs) == 2 && hasSequence(p) {
			// Times of the first and second input, with sentinels elsewhere,
			// for temporal_ordered's min/max test.
			stages = append(stages, "if(_is0 = 1, _messagetime, 9223372036854775807) as _t0", "if(_is1 = 1, _messagetime, 0) as _t1")
		}
	}
	span := text.SpanMillis(c.Timespan)
	stages = append(stages, fmt.Sprintf("floor(_messagetime / %d) * %d as _window", span, span))
	for _, b := range p.Buckets {
		stages = append(stages, fmt.Sprintf("floor(_messagetime / %d) as %s", text.SpanMillis(b), text.BucketField(b)))
	}
	groups := []string{"_window"}
	for _, g := range c.GroupBy {
		groups = append(groups, ref(g))
	}
	if p.Interval {
		warns = append(warns, diag.Warnf(p.IntervalPos, "sumologic: interval() sorts the matching messages by time before diff; Sumo Logic limits how many raw messages sort keeps"))
		stages = append(stages, "sort by _messagetime asc",
			fmt.Sprintf("diff _messagetime as _interval_ms by %s", strings.Join(groups, ", ")),
			"_interval_ms / 1000 as _interval")
	}
	for _, f := range p.Squares {
		stages = append(stages, fmt.Sprintf("num(%s) * num(%s) as %s", ref(f), ref(f), text.SquareField(f)))
	}
	withtime := map[string]bool{}
	for _, col := range p.Columns {
		if f := text.ArgName(col.Call.Arg); (col.Call.Func == ir.AggFirst || col.Call.Func == ir.AggLast) && !withtime[f] && plainField.MatchString(f) {
			withtime[f] = true
			stages = append(stages, "withtime "+f)
		}
	}
	var aggs []string
	for _, col := range p.Columns {
		a, err := aggregate(c, col, &warns)
		if err != nil {
			return "", nil, err
		}
		aggs = append(aggs, a...)
	}
	stages = append(stages, strings.Join(aggs, ", ")+" by "+strings.Join(groups, ", "))
	for _, col := range p.Columns {
		switch col.Call.Func {
		case ir.AggStddev:
			stages = append(stages, fmt.Sprintf("_sqavg_%s - _avg_%s * _avg_%s as _var_%s", col.Name, col.Name, col.Name, col.Name),
				fmt.Sprintf("if(_var_%s < 0, 0, sqrt(_var_%s)) as %s", col.Name, col.Name, col.Name))
		case ir.AggSequence:
			stages = append(stages, fmt.Sprintf("if(_first0_%s <= _last1_%s, 1, 0) as %s", col.Name, col.Name, col.Name))
		}
	}
	for _, n := range p.Post {
		stages = append(stages, fmt.Sprintf("%s as %s", p.Value(n.Expr), text.SafeName(n.Name)))
	}
	stages = append(stages, "where "+cond(p, c.Condition))
	return strings.Join(stages, "\n| "), text.Dedupe(warns), nil
}

func aggregate(c *ir.Correlation, col text.Column, warns *[]*diag.Diagnostic) ([]string, error) {
	call := col.Call
	arg := ref(text.ArgName(call.Arg))
	switch call.Func {
	case ir.AggCount:
		if call.Arg == nil {
			return []string{"count as " + col.Name}, nil
		}
		return []string{fmt.Sprintf("count(%s) as %s", arg, col.Name)}, nil
	case ir.AggCountDistinct:
		return []string{fmt.Sprintf("count_distinct(%s) as %s", arg, col.Name)}, nil
	case ir.AggSum, ir.AggAvg, ir.AggMin, ir.AggMax:
		return []string{fmt.Sprintf("%s(%s) as %s", call.Func, arg, col.Name)}, nil
	case ir.AggStddev:
		// Population standard deviation from two averages, whatever
		// estimator stddev() uses.
		return []string{fmt.Sprintf("avg(%s) as _avg_%s", arg, col.Name), fmt.Sprintf("avg(%s) as _sqavg_%s", text.SquareField(text.ArgName(call.Arg)), col.Name)}, nil
	case ir.AggPercentile, ir.AggMedian:
		p := call.P
		if call.Func == ir.AggMedian {
			p = 50
		}
		*warns = append(*warns, diag.Warnf(call.Pos, "sumologic: pct() may estimate percentiles differently from the evaluator's linear interpolation"))
		return []string{fmt.Sprintf("pct(%s, %s) as %s", arg, strconv.FormatFloat(p, 'f', -1, 64), col.Name)}, nil
	case ir.AggCountRule:
		for i, in := range c.Inputs {
			if in.Ref == call.Rule {
				return []string{fmt.Sprintf("sum(_is%d) as %s", i, col.Name)}, nil
			}
		}
	case ir.AggSequence:
		if len(c.Inputs) != 2 {
			return nil, text.Unsupported(name, call.Pos, "temporal_ordered over %d rules (its order test needs a per-group sequence; two rules are supported)", len(c.Inputs))
		}
		return []string{fmt.Sprintf("min(_t0) as _first0_%s", col.Name), fmt.Sprintf("max(_t1) as _last1_%s", col.Name)}, nil
	case ir.AggFirst, ir.AggLast:
		// least_recent/most_recent order by message time, not by the
		// search's sort order as first/last do; they read `withtime` fields.
		f := text.ArgName(call.Arg)
		if !plainField.MatchString(f) {
			return nil, text.Unsupported(name, call.Pos, "%s() of the field %q (withtime needs a plain field name)", call.Func, f)
		}
		fn := "least_recent"
		if call.Func == ir.AggLast {
			fn = "most_recent"
		}
		return []string{fmt.Sprintf("%s(%s_withtime) as %s", fn, f, col.Name)}, nil
	case ir.AggValues:
		*warns = append(*warns, diag.Warnf(call.Pos, "sumologic: values() returns at most the first 100 distinct values, newline-separated"))
		return []string{fmt.Sprintf("values(%s) as %s", arg, col.Name)}, nil
	}
	return nil, text.Unsupported(name, call.Pos, "the %s() aggregate", call.Func)
}

// cond renders the condition; each comparison first checks its values
// exist, so one with no value is false.
func cond(p *text.CorrPlan, c ir.Cond) string {
	switch n := c.(type) {
	case *ir.CAnd:
		return joinCond(p, n.Args, " AND ")
	case *ir.COr:
		return joinCond(p, n.Args, " OR ")
	case *ir.CNot:
		return "!(" + cond(p, n.Arg) + ")"
	case *ir.CCmp:
		op := n.Op
		if op == "==" {
			op = "="
		}
		var parts []string
		for _, name := range append(p.Names(n.L), p.Names(n.R)...) {
			parts = append(parts, fmt.Sprintf("!isNull(%s)", name))
		}
		parts = append(parts, fmt.Sprintf("%s %s %s", p.Value(n.L), op, p.Value(n.R)))
		return strings.Join(parts, " AND ")
	}
	panic(fmt.Sprintf("sumologic: unknown condition %T", c))
}

func joinCond(p *text.CorrPlan, args []ir.Cond, sep string) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = cond(p, a)
		switch a.(type) {
		case *ir.CAnd, *ir.CCmp: // a comparison renders as an AND-chain of guards
			if sep != " AND " {
				parts[i] = "(" + parts[i] + ")"
			}
		case *ir.COr:
			if sep == " AND " {
				parts[i] = "(" + parts[i] + ")"
			}
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts, sep)
}

func hasSequence(p *text.CorrPlan) bool {
	for _, col := range p.Columns {
		if col.Call.Func == ir.AggSequence {
			return true
		}
	}
	return false
}
