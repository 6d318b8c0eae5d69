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
	names := append([]string(nil), c.GroupBy...)
	for _, in := range c.Inputs {
		names = append(names, in.GroupFields...)
	}
	for _, col := range p.Columns {
		if a, ok := col.Call.Arg.(ir.EvField); ok {
			names = append(names, a.Name)
		}
	}
	// The inputs may scope differently, so the scope is `*` and their
	// metadata tests stay in the where clause; every field read is
	// extracted first.
	stages := []string{Scope}
	custom := map[string]string{}
	read := append([]string(nil), names...)
	for _, in := range c.Inputs {
		for k, v := range in.Rule.Custom {
			custom[k] = v
		}
		for _, cond := range in.Rule.Conditions {
			read = append(read, exprFields(cond)...)
		}
	}
	stages = append(stages, extractions(custom, read)...)
	stages = append(stages, "where "+strings.Join(inputs, " OR "))
	if err := checkNames(c, names...); err != nil {
		return "", nil, err
	}

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
			if !plainField.MatchString(g) {
				return "", nil, text.Unsupported(name, c.Pos, "the alias %s as a field to assign (an alias copied from other fields needs a name of letters, digits and _)", diag.Quote(g))
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
		interval, err := intervalStages(c, p, groups, &warns)
		if err != nil {
			return "", nil, err
		}
		stages = append(stages, interval...)
	} else {
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
				stages = append(stages, stddevStages(col.Name, "_sqavg_"+col.Name, "_avg_"+col.Name)...)
			case ir.AggSequence:
				stages = append(stages, fmt.Sprintf("if(_first0_%s <= _last1_%s, 1, 0) as %s", col.Name, col.Name, col.Name))
			}
		}
	}
	for _, n := range p.Post {
		stages = append(stages, fmt.Sprintf("%s as %s", p.Value(n.Expr), text.SafeName(n.Name)))
	}
	stages = append(stages, "where "+cond(p, c.Condition))
	return strings.Join(stages, "\n| "), text.Dedupe(warns), nil
}

// stddevStages computes a population standard deviation from the average
// of the squares and the square of the average, whatever estimator
// stddev() uses.
func stddevStages(name, sqavg, avg string) []string {
	return []string{fmt.Sprintf("%s - %s * %s as _var_%s", sqavg, avg, avg, name),
		fmt.Sprintf("if(_var_%s < 0, 0, sqrt(_var_%s)) as %s", name, name, name)}
}

// intervalStages computes interval() statistics without relying on the
// order of raw messages, which Sumo Logic does not document (sort orders
// aggregated results; diff takes rows in the order they come): the events
// are first counted per group, window and timestamp, those rows are
// sorted by time and diffed per group, and a second aggregation combines
// everything. n events at one timestamp add n-1 intervals of zero, so
// count, sum, average, minimum, maximum and standard deviation of the
// intervals come out exact. The other aggregates are computed from
// per-timestamp partial sums; those that cannot be (distinct counts of a
// field, percentiles, values, first/last) are refused next to interval().
func intervalStages(c *ir.Correlation, p *text.CorrPlan, groups []string, warns *[]*diag.Diagnostic) ([]string, error) {
	var stages []string
	for _, f := range p.Squares {
		if f != "_interval" {
			stages = append(stages, fmt.Sprintf("num(%s) * num(%s) as %s", ref(f), ref(f), text.SquareField(f)))
		}
	}
	keys := append(append([]string(nil), groups...), "_messagetime")
	for _, b := range p.Buckets {
		keys = append(keys, text.BucketField(b))
	}
	partial := []string{"count as _n"}
	final := []string{"sum(_n) as _tot"}
	var post []string
	seen := map[string]bool{}
	part := func(agg, as string) {
		if !seen[as] {
			seen[as] = true
			partial = append(partial, agg+" as "+as)
		}
	}
	fin := func(agg, as string) {
		if !seen[as] {
			seen[as] = true
			final = append(final, agg+" as "+as)
		}
	}
	intervalAggs := false
	need := map[ir.AggFunc]bool{}
	for _, col := range p.Columns {
		if _, ok := col.Call.Arg.(ir.EvInterval); ok {
			need[col.Call.Func] = true
		}
	}
	for i, col := range p.Columns {
		call := col.Call
		k := strconv.Itoa(i)
		switch a := call.Arg.(type) {
		case nil:
			if call.Func != ir.AggCount {
				return nil, text.Unsupported(name, call.Pos, "%s() next to interval() (the statistics are computed from per-timestamp counts)", call.Func)
			}
			post = append(post, fmt.Sprintf("_tot as %s", col.Name))
			continue
		case ir.EvInterval:
			intervalAggs = true
			switch call.Func {
			case ir.AggCount:
				post = append(post, fmt.Sprintf("_icount as %s", col.Name))
			case ir.AggSum:
				post = append(post, fmt.Sprintf("_isum0 * _icount / _icount as %s", col.Name))
			case ir.AggAvg:
				post = append(post, fmt.Sprintf("_isum0 / _icount as %s", col.Name))
			case ir.AggMin:
				post = append(post, fmt.Sprintf("if(_nmax > 1, 0, _imin) as %s", col.Name))
			case ir.AggMax:
				post = append(post, fmt.Sprintf("if(isNull(_imax), 0 * _icount / _icount, _imax) as %s", col.Name))
			case ir.AggStddev:
				post = append(post, fmt.Sprintf("_isq0 / _icount as _isqavg_%s", k), fmt.Sprintf("_isum0 / _icount as _iavg_%s", k))
				post = append(post, stddevStages(col.Name, "_isqavg_"+k, "_iavg_"+k)...)
			default:
				return nil, text.Unsupported(name, call.Pos, "%s() of interval() (the intervals are combined from per-timestamp rows; count, sum, avg, min, max and stddev are exact)", call.Func)
			}
			continue
		case ir.EvBucket:
			if call.Func != ir.AggCountDistinct {
				return nil, text.Unsupported(name, call.Pos, "%s() of bucket() next to interval()", call.Func)
			}
			fin(fmt.Sprintf("count_distinct(%s)", text.BucketField(a.Span)), col.Name)
			continue
		case ir.EvField:
			f := ref(a.Name)
			switch call.Func {
			case ir.AggCount:
				part(fmt.Sprintf("count(%s)", f), "_pc_"+k)
				fin("sum(_pc_"+k+")", col.Name)
			case ir.AggSum:
				part(fmt.Sprintf("sum(%s)", f), "_ps_"+k)
				fin("sum(_ps_"+k+")", col.Name)
			case ir.AggMin, ir.AggMax:
				part(fmt.Sprintf("%s(%s)", call.Func, f), "_pm_"+k)
				fin(fmt.Sprintf("%s(_pm_%s)", call.Func, k), col.Name)
			case ir.AggAvg, ir.AggStddev:
				part(fmt.Sprintf("sum(%s)", f), "_ps_"+k)
				part(fmt.Sprintf("count(%s)", f), "_pn_"+k)
				fin("sum(_ps_"+k+")", "_fs_"+k)
				fin("sum(_pn_"+k+")", "_fn_"+k)
				if call.Func == ir.AggAvg {
					post = append(post, fmt.Sprintf("_fs_%s / _fn_%s as %s", k, k, col.Name))
					break
				}
				part(fmt.Sprintf("sum(%s)", text.SquareField(a.Name)), "_pq_"+k)
				fin("sum(_pq_"+k+")", "_fq_"+k)
				post = append(post, fmt.Sprintf("_fq_%s / _fn_%s as _sqavg_%s", k, k, k), fmt.Sprintf("_fs_%s / _fn_%s as _avg_%s", k, k, k))
				post = append(post, stddevStages(col.Name, "_sqavg_"+k, "_avg_"+k)...)
			default:
				return nil, text.Unsupported(name, call.Pos, "%s() of a field next to interval() (the statistics are computed from per-timestamp rows; put it in a correlation of its own)", call.Func)
			}
			continue
		}
		return nil, text.Unsupported(name, call.Pos, "%s() next to interval()", call.Func)
	}
	stages = append(stages, strings.Join(partial, ", ")+" by "+strings.Join(keys, ", "),
		"sort by _messagetime asc",
		fmt.Sprintf("diff _messagetime as _interval_ms by %s", strings.Join(groups, ", ")),
		"_interval_ms / 1000 as _interval")
	if need[ir.AggStddev] {
		stages = append(stages, "_interval * _interval as _sq__interval")
		final = append(final, "sum(_sq__interval) as _isq")
	}
	if intervalAggs {
		final = append(final, "sum(_interval) as _isum")
	}
	if need[ir.AggMin] || need[ir.AggMax] {
		final = append(final, "min(_interval) as _imin", "max(_interval) as _imax", "max(_n) as _nmax")
	}
	stages = append(stages, strings.Join(final, ", ")+" by "+strings.Join(groups, ", "))
	if intervalAggs {
		stages = append(stages, "_tot - 1 as _icount", "if(isNull(_isum), 0, _isum) as _isum0")
	}
	if need[ir.AggStddev] {
		stages = append(stages, "if(isNull(_isq), 0, _isq) as _isq0")
	}
	return append(stages, post...), nil
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
