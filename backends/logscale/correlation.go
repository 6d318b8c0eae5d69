package logscale

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sigc-project/sigc/backends/text"
	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/diag"
)

// RenderCorrelation renders a correlation as one LogScale query: the
// inputs' filters, helper fields, epoch-aligned windows
// (math:floor(@timestamp / span) * span), groupBy() with the aggregates,
// assignments for derived values and test() filters for the condition.
func (Backend) RenderCorrelation(c *ir.Correlation) (string, []*diag.Diagnostic, error) {
	var warns []*diag.Diagnostic
	p := text.PlanCorrelation(c)
	d := dialect(&warns)
	var stages []string

	// 1. Inputs: each detection rule's condition(s).
	var inputs []string
	for _, in := range c.Inputs {
		if in.Correlation != nil {
			return "", nil, text.Unsupported(name, c.Pos, "a correlation of correlations (%q); render the inner correlation as its own query", in.Ref)
		}
		q, err := d.RenderRule(in.Rule)
		if err != nil {
			return "", nil, err
		}
		inputs = append(inputs, q)
	}
	if len(inputs) == 1 {
		stages = append(stages, inputs[0])
	} else {
		stages = append(stages, "("+strings.Join(inputs, ") or (")+")")
	}

	// 2. Tag each event with its input, copy aliased group fields.
	groupFields := []string{"_window"}
	for _, g := range c.GroupBy {
		f, err := field(c, g)
		if err != nil {
			return "", nil, err
		}
		groupFields = append(groupFields, f)
	}
	if p.TagRules || text.AliasedGroups(c) {
		var branches []string
		for i, in := range c.Inputs {
			parts := []string{inputs[i], fmt.Sprintf("_rule := %s", text.Quote(in.Ref)), fmt.Sprintf("_t%d := @timestamp", i)}
			for j, g := range in.GroupFields {
				if g != c.GroupBy[j] {
					if !bareField.MatchString(c.GroupBy[j]) {
						return "", nil, text.Unsupported(name, c.Pos, "the alias %s as a field to assign (an alias copied from other fields needs a name of letters, digits and _)", diag.Quote(c.GroupBy[j]))
					}
					src, err := exprField(c, g)
					if err != nil {
						return "", nil, err
					}
					parts = append(parts, fmt.Sprintf("%s := %s", groupFields[j+1], src))
				}
			}
			branches = append(branches, strings.Join(parts, " | "))
		}
		stages = append(stages, "case { "+strings.Join(branches, "; ")+" }")
		if len(c.Inputs) > 1 {
			warns = append(warns, diag.Warnf(c.Pos, "logscale: an event that matches several of the correlated rules is counted for the first of them in the case statement"))
		}
	}

	// 3. Windows and per-event helpers.
	span := text.SpanMillis(c.Timespan)
	stages = append(stages, fmt.Sprintf("_window := @timestamp / %d", span), "math:floor(_window, as=_window)", fmt.Sprintf("_window := _window * %d", span))
	for _, b := range p.Buckets {
		f := text.BucketField(b)
		stages = append(stages, fmt.Sprintf("%s := @timestamp / %d", f, text.SpanMillis(b)), fmt.Sprintf("math:floor(%s, as=%s)", f, f))
	}
	if p.Interval {
		warns = append(warns, diag.Warnf(p.IntervalPos, "logscale: interval() orders events with sort(limit=max) before neighbor(); sort() keeps at most StateRowLimit events (20,000 by default on versions before about 1.182), so beyond that many matching events the intervals are computed on a subset"))
		// One key per group field, prefixed so that test() compares them as
		// text (it compares numeric-looking values as numbers: "5" and
		// "5.0" are equal there, but not to groupBy()), and kept apart, so
		// no two groups share keys. Sorting by the keys, then time, makes
		// neighbor()'s previous event the previous one of the same group.
		var keys, sortTypes, sortOrders, same []string
		for k, g := range groupFields {
			src := g
			if k > 0 {
				src = text.Quote(c.GroupBy[k-1])
			}
			key := fmt.Sprintf("_g%d", k)
			stages = append(stages, fmt.Sprintf("%s := format(format=\"k%%s\", field=[%s])", key, src))
			keys = append(keys, key)
			sortTypes, sortOrders = append(sortTypes, "string"), append(sortOrders, "asc")
			same = append(same, fmt.Sprintf("test(getField(%s) == %s)", text.Quote("_prev."+key), key))
		}
		stages = append(stages,
			"_ts := @timestamp",
			fmt.Sprintf("sort(field=[%s, _ts], order=[%s, asc], type=[%s, number], limit=max)", strings.Join(keys, ", "), strings.Join(sortOrders, ", "), strings.Join(sortTypes, ", ")),
			fmt.Sprintf("neighbor(include=[_ts, %s], prefix=_prev)", strings.Join(keys, ", ")),
			// neighbor() names its outputs _prev._ts: dotted, so read with getField().
			fmt.Sprintf(`case { %s | _interval := (_ts - getField("_prev._ts")) / 1000; * }`, strings.Join(same, " and ")))
	}

	for _, f := range p.Squares {
		src, err := exprField(c, f)
		if err != nil {
			return "", nil, err
		}
		stages = append(stages, fmt.Sprintf("%s := %s * %s", text.SquareField(f), src, src))
	}

	for _, col := range p.Columns {
		switch col.Call.Func {
		case ir.AggFirst, ir.AggLast, ir.AggValues:
			src, err := exprField(c, text.ArgName(col.Call.Arg))
			if err != nil {
				return "", nil, err
			}
			stages = append(stages, fmt.Sprintf("%s := %s", copyField(col), src))
			if col.Call.Func == ir.AggValues {
				warns = append(warns, diag.Warnf(col.Call.Pos, "logscale: collect() joins the distinct values with newlines and keeps a limited number of them"))
			}
		}
	}

	// 4. Aggregate.
	var funcs []string
	for _, col := range p.Columns {
		fs, err := aggregate(c, col)
		if err != nil {
			return "", nil, err
		}
		funcs = append(funcs, fs...)
		if col.Call.Func == ir.AggPercentile || col.Call.Func == ir.AggMedian {
			warns = append(warns, diag.Warnf(col.Call.Pos, "logscale: percentile() is an estimate that returns a value near the percentile; the evaluator interpolates exactly"))
		}
	}
	stages = append(stages, fmt.Sprintf("groupBy([%s], function=[%s], limit=max)", strings.Join(groupFields, ", "), strings.Join(funcs, ", ")))

	// 5. Finish aggregates that need a second step, then derived values.
	for _, col := range p.Columns {
		switch col.Call.Func {
		case ir.AggStddev:
			stages = append(stages,
				fmt.Sprintf("_var := _sqavg_%s - _avg_%s * _avg_%s", col.Name, col.Name, col.Name),
				"case { test(_var < 0) | _var := 0; * }",
				fmt.Sprintf("math:sqrt(_var, as=%s)", col.Name))
		case ir.AggPercentile, ir.AggMedian:
			stages = append(stages, fmt.Sprintf("%s := _pct_%s_%s", col.Name, col.Name, pctText(col.Call)))
		case ir.AggSequence:
			stages = append(stages, fmt.Sprintf("case { test(_first0_%s <= _last1_%s) | %s := 1; * | %s := 0 }", col.Name, col.Name, col.Name, col.Name))
		case ir.AggFirst, ir.AggLast, ir.AggValues:
			stages = append(stages, fmt.Sprintf("%s := %s", col.Name, copyField(col)))
		}
	}
	for _, n := range p.Post {
		stages = append(stages, postAssign(p, n))
	}

	// 6. Condition.
	stages = append(stages, cond(p, c.Condition))
	return strings.Join(stages, "\n| "), text.Dedupe(warns), nil
}

// copyField holds a copy of the field first/last/values read, so the
// selected value gets its own name in the groupBy output.
func copyField(col text.Column) string { return "_c_" + col.Name }

func pctText(call *ir.AggCall) string {
	p := call.P
	if call.Func == ir.AggMedian {
		p = 50
	}
	return strconv.FormatFloat(p, 'f', -1, 64)
}

// aggregate renders one column as groupBy() functions.
func aggregate(c *ir.Correlation, col text.Column) ([]string, error) {
	call := col.Call
	arg := text.ArgName(call.Arg)
	if _, ok := call.Arg.(ir.EvField); ok {
		f, err := field(c, arg)
		if err != nil {
			return nil, err
		}
		arg = f
	}
	switch call.Func {
	case ir.AggCount:
		if call.Arg == nil {
			return []string{fmt.Sprintf("count(as=%s)", col.Name)}, nil
		}
		return []string{fmt.Sprintf("count(%s, as=%s)", arg, col.Name)}, nil
	case ir.AggCountDistinct:
		return []string{fmt.Sprintf("count(%s, distinct=true, as=%s)", arg, col.Name)}, nil
	case ir.AggSum, ir.AggAvg, ir.AggMin, ir.AggMax:
		return []string{fmt.Sprintf("%s(%s, as=%s)", call.Func, arg, col.Name)}, nil
	case ir.AggStddev:
		// Population standard deviation from two averages: exact, whatever
		// estimator stdDev() uses.
		return []string{fmt.Sprintf("avg(%s, as=_avg_%s)", arg, col.Name), fmt.Sprintf("avg(%s, as=_sqavg_%s)", text.SquareField(arg), col.Name)}, nil
	case ir.AggPercentile, ir.AggMedian:
		return []string{fmt.Sprintf("percentile(field=%s, percentiles=[%s], as=_pct_%s)", arg, pctText(call), col.Name)}, nil
	case ir.AggCountRule:
		for i, in := range c.Inputs {
			if in.Ref == call.Rule {
				return []string{fmt.Sprintf("count(_t%d, as=%s)", i, col.Name)}, nil
			}
		}
	case ir.AggSequence:
		if len(c.Inputs) != 2 {
			return nil, text.Unsupported(name, call.Pos, "temporal_ordered over %d rules (its order test needs a per-group sequence; two rules are supported)", len(c.Inputs))
		}
		return []string{fmt.Sprintf("min(_t0, as=_first0_%s)", col.Name), fmt.Sprintf("max(_t1, as=_last1_%s)", col.Name)}, nil
	case ir.AggFirst:
		return []string{fmt.Sprintf("selectFromMin(@timestamp, include=[%s])", copyField(col))}, nil
	case ir.AggLast:
		return []string{fmt.Sprintf("selectFromMax(@timestamp, include=[%s])", copyField(col))}, nil
	case ir.AggValues:
		return []string{fmt.Sprintf("collect([%s])", copyField(col))}, nil
	}
	return nil, text.Unsupported(name, call.Pos, "the %s() aggregate", call.Func)
}

func postAssign(p *text.CorrPlan, n ir.Named) string {
	return fmt.Sprintf("%s := %s", text.SafeName(n.Name), p.Value(n.Expr))
}

// cond renders the condition as test() filters. A comparison reads only
// values that exist (field=*), so one with no value is false.
func cond(p *text.CorrPlan, c ir.Cond) string {
	switch n := c.(type) {
	case *ir.CAnd:
		return joinCond(p, n.Args, " and ")
	case *ir.COr:
		return joinCond(p, n.Args, " or ")
	case *ir.CNot:
		return "not (" + cond(p, n.Arg) + ")"
	case *ir.CCmp:
		op := n.Op
		var guards []string
		for _, name := range append(p.Names(n.L), p.Names(n.R)...) {
			guards = append(guards, name+"=*")
		}
		t := fmt.Sprintf("test(%s %s %s)", p.Value(n.L), op, p.Value(n.R))
		return strings.Join(append(guards, t), " and ")
	}
	panic(fmt.Sprintf("logscale: unknown condition %T", c))
}

func joinCond(p *text.CorrPlan, args []ir.Cond, sep string) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = cond(p, a)
		if needsGroup(a, sep == " and ") {
			parts[i] = "(" + parts[i] + ")"
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts, sep)
}

// needsGroup reports whether a condition rendered inside an and-list (or an
// or-list) needs parentheses: and/or are never mixed without them.
func needsGroup(c ir.Cond, inAnd bool) bool {
	switch c.(type) {
	case *ir.CAnd, *ir.CCmp: // a comparison renders as an and-chain of guards
		return !inAnd
	case *ir.COr:
		return inAnd
	}
	return false
}
