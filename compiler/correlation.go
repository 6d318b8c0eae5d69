package compiler

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sigc-project/sigc/compiler/aggexpr"
	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/compiler/pipeline"
	"github.com/sigc-project/sigc/diag"
	"github.com/sigc-project/sigc/sigma"
)

// CorrelationResult is one compiled correlation or its diagnostics.
type CorrelationResult struct {
	Source      *sigma.Correlation
	Correlation *ir.Correlation
	Diags       diag.List
}

// CorrelationTypes lists the accepted `type:` values.
var CorrelationTypes = []string{"event_count", "value_count", "temporal", "temporal_ordered", "value_sum", "value_avg", "value_percentile", "value_median", "aggregate"}

// CompileCorrelations resolves every correlation's references (by name or
// id, in any file and any order, correlations included) and lowers each
// type into named aggregates and a condition. rules are the compiled
// detection rules of the same collection.
//
// The pipeline's field mapping applies to every field a correlation reads
// (group-by fields, aliased fields, aggregated fields), as it does to the
// detection rules, so the whole query speaks the target's field names.
func CompileCorrelations(col *sigma.Collection, rules []Result, opts Options) []CorrelationResult {
	byRef := map[string]*Result{}
	for i := range rules {
		r := &rules[i]
		for _, k := range []string{r.Source.ID, r.Source.Name} {
			if k != "" {
				byRef[k] = r
			}
		}
	}
	corrByRef := map[string]int{}
	for i, c := range col.Correlations {
		for _, k := range []string{c.ID, c.Name} {
			if k != "" {
				corrByRef[k] = i
			}
		}
	}
	out := make([]CorrelationResult, len(col.Correlations))
	state := make([]int, len(col.Correlations)) // 0 new, 1 in progress, 2 done
	var build func(i int, from diag.Pos) *ir.Correlation
	build = func(i int, from diag.Pos) *ir.Correlation {
		switch state[i] {
		case 1:
			return nil // a cycle: the referencing correlation reports it
		case 2:
			return out[i].Correlation
		}
		state[i] = 1
		c := col.Correlations[i]
		res := &out[i]
		res.Source = c
		cc := &corrCompiler{src: c, pipeline: opts.Pipeline}
		for _, ref := range c.Rules {
			if r, ok := byRef[ref.Raw]; ok {
				if r.Rule == nil {
					cc.errorf(ref.Pos, "rule %s failed to compile, so this correlation cannot use it; fix that rule first", diag.Quote(ref.Raw))
					continue
				}
				cc.inputs = append(cc.inputs, &ir.Input{Ref: ref.Raw, Rule: r.Rule})
				continue
			}
			if j, ok := corrByRef[ref.Raw]; ok {
				inner := build(j, ref.Pos)
				if inner == nil {
					if state[j] == 1 {
						cc.errorf(ref.Pos, "reference %s closes a cycle of correlations; break the cycle", diag.Quote(ref.Raw))
					} else {
						cc.errorf(ref.Pos, "correlation %s failed to compile, so this correlation cannot use it", diag.Quote(ref.Raw))
					}
					continue
				}
				cc.inputs = append(cc.inputs, &ir.Input{Ref: ref.Raw, Correlation: inner})
				continue
			}
			cc.errorf(ref.Pos, "no loaded rule or correlation has the name or id %s; load the file that defines it", diag.Quote(ref.Raw))
		}
		res.Correlation = cc.compile()
		res.Diags = append(res.Diags, cc.diags...)
		if res.Diags.HasErrors() {
			res.Correlation = nil
		}
		state[i] = 2
		return res.Correlation
	}
	for i := range col.Correlations {
		build(i, col.Correlations[i].Pos)
	}
	return out
}

type corrCompiler struct {
	lists    map[string]bool // named values() aggregates: lists of texts
	src      *sigma.Correlation
	pipeline *pipeline.Pipeline
	inputs   []*ir.Input
	diags    diag.List
	mapped   map[string]string // mapField's answers: group-by fields recur once per input
}

// mapField runs the pipeline over one field the correlation names, as a
// field of this correlation rule (its rule conditions see the correlation,
// and `logsource` the rules it refers to). The pipeline must map it to
// exactly one field; otherwise the error is reported and the name kept.
func (c *corrCompiler) mapField(name string, pos diag.Pos) string {
	if c.pipeline == nil {
		return name
	}
	if out, ok := c.mapped[name]; ok {
		return out
	}
	cf := &pipeline.CorrField{Names: []string{name}, Pos: pos}
	s := &pipeline.Subject{Correlation: c.src, Refs: refLogsources(c.inputs), CorrFields: []*pipeline.CorrField{cf}, Pos: c.src.Pos}
	for _, d := range c.pipeline.Apply(s) {
		if d.Severity == diag.Error {
			c.diags.Add(d)
			return name
		}
	}
	if c.mapped == nil {
		c.mapped = map[string]string{}
	}
	c.mapped[name] = cf.Names[0] // Apply refuses any other count
	return cf.Names[0]
}

// refLogsources lists the logsources of the rules a correlation refers
// to, through inner correlations.
func refLogsources(inputs []*ir.Input) []ir.Logsource {
	var out []ir.Logsource
	for _, in := range inputs {
		if in.Rule != nil {
			out = append(out, in.Rule.Logsource)
		} else if in.Correlation != nil {
			out = append(out, refLogsources(in.Correlation.Inputs)...)
		}
	}
	return out
}

func (c *corrCompiler) errorf(p diag.Pos, format string, args ...any) {
	c.diags.Add(diag.Errorf(p, format, args...))
}

var timespanRE = regexp.MustCompile(`^([0-9]+)([smhdw])$`)

// MaxTimespan bounds correlation windows and buckets: ten years keeps every
// window of every event time sigc reads (years 1900 to 2200) inside the
// nanosecond clock the evaluator and the targets compute with.
const MaxTimespan = 3650 * 24 * time.Hour

// ParseTimespan reads s, m, h, d and w spans of at most MaxTimespan.
func ParseTimespan(s string) (time.Duration, bool) {
	m := timespanRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || len(m[1]) > 12 {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
	if err != nil || n <= 0 || n > int64(MaxTimespan/unit) {
		return 0, false
	}
	return time.Duration(n) * unit, true
}

func (c *corrCompiler) compile() *ir.Correlation {
	s := c.src
	if c.pipeline != nil {
		// The pipeline runs over the correlation itself once (rule_failure
		// and the like); each field it names then goes through it again.
		subject := &pipeline.Subject{Correlation: s, Refs: refLogsources(c.inputs), Pos: s.Pos}
		if ds := c.pipeline.Apply(subject); ds.HasErrors() {
			c.diags = append(c.diags, ds...)
			return nil
		}
	}
	out := &ir.Correlation{ID: s.ID, Name: s.Name, Title: s.Title, Level: s.Level, Status: s.Status,
		Description: s.Description, Author: s.Author, Tags: s.Tags, File: s.File, Pos: s.Pos,
		Type: s.Type.Raw, Inputs: c.inputs, Generate: s.Generate}
	known := false
	for _, t := range CorrelationTypes {
		if t == s.Type.Raw {
			known = true
		}
	}
	if !known {
		p := s.Type.Pos
		if p.Line == 0 {
			p = s.Pos
		}
		c.errorf(p, "unknown correlation type %s; use one of %s", diag.Quote(s.Type.Raw), strings.Join(CorrelationTypes, ", "))
		return nil
	}
	if s.Timespan == nil {
		c.errorf(s.Pos, "correlation has no timespan; add e.g. `timespan: 1h` (units s, m, h, d, w)")
	} else if d, ok := ParseTimespan(s.Timespan.Raw); !ok {
		c.errorf(s.Timespan.Pos, "bad timespan %s; write a whole number with a unit s, m, h, d or w, such as 15m, of at most 3650d", diag.Quote(s.Timespan.Raw))
	} else {
		out.Timespan = d
	}
	c.groupBy(out)
	switch t := s.Type.Raw; t {
	case "event_count":
		c.standard(out, "event_count", &ir.AggCall{Pos: s.Type.Pos, Func: ir.AggCount})
	case "value_count":
		c.valueType(out, t, ir.AggCountDistinct)
	case "value_sum":
		c.valueType(out, t, ir.AggSum)
	case "value_avg":
		c.valueType(out, t, ir.AggAvg)
	case "value_median":
		c.valueType(out, t, ir.AggMedian)
	case "value_percentile":
		c.valueType(out, t, ir.AggPercentile)
	case "temporal", "temporal_ordered":
		c.temporal(out, t == "temporal_ordered")
	case "aggregate":
		c.aggregate(out)
	}
	if out.Condition == nil {
		if len(c.diags) == 0 {
			c.errorf(s.Pos, "correlation has no usable condition")
		}
		return nil
	}
	out.Condition = ir.FlattenCond(out.Condition)
	return out
}

// groupBy resolves group-by names through aliases for every input.
func (c *corrCompiler) groupBy(out *ir.Correlation) {
	aliases := map[string]sigma.Alias{}
	for _, a := range c.src.Aliases {
		aliases[a.Name] = a
	}
	// An alias names a new field; any other group-by name is a field, mapped.
	for _, g := range c.src.GroupBy {
		if _, ok := aliases[g.Raw]; ok {
			out.GroupBy = append(out.GroupBy, g.Raw)
			continue
		}
		out.GroupBy = append(out.GroupBy, c.mapField(g.Raw, g.Pos))
	}
	for _, in := range c.inputs {
		for _, g := range c.src.GroupBy {
			if a, ok := aliases[g.Raw]; ok {
				v, ok := a.Fields[in.Ref]
				if !ok {
					c.errorf(a.Pos, "alias %s does not say which field of %s it stands for; add `%s: <field>` under it", diag.Quote(a.Name), diag.Quote(in.Ref), in.Ref)
					continue
				}
				in.GroupFields = append(in.GroupFields, c.mapField(v.Raw, v.Pos))
				continue
			}
			in.GroupFields = append(in.GroupFields, c.mapField(g.Raw, g.Pos))
		}
	}
}

// condOps turns `gte: 10, lt: 20` into a condition on name.
func (c *corrCompiler) condOps(name string, required bool) ir.Cond {
	ops := c.src.CondOps
	var cmps []ir.Cond
	keys := make([]string, 0, len(ops))
	for k := range ops {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	symbols := map[string]string{"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "==", "neq": "!="}
	for _, k := range keys {
		v := ops[k]
		if k == "field" || k == "percentile" {
			continue
		}
		sym, ok := symbols[k]
		if !ok {
			c.errorf(v.Pos, "unknown condition operator %s; use gt, gte, lt, lte, eq or neq", diag.Quote(k))
			continue
		}
		f, text, err := Number(v.Raw)
		if err != nil {
			c.errorf(v.Pos, "condition %s needs a number: %v", k, err)
			continue
		}
		cmps = append(cmps, &ir.CCmp{Pos: v.Pos, Op: sym, L: &ir.NameRef{Pos: v.Pos, Name: name}, R: &ir.Num{Pos: v.Pos, V: f, Text: text}})
	}
	switch {
	case len(cmps) == 0 && required:
		if c.src.CondText != nil {
			c.errorf(c.src.CondText.Pos, "a %s condition is a mapping such as `gte: 10`, not an expression", c.src.Type.Raw)
		} else {
			c.errorf(c.src.Pos, "correlation has no condition; add e.g. `condition: {gte: 10}`")
		}
		return nil
	case len(cmps) == 0:
		return nil
	case len(cmps) == 1:
		return cmps[0]
	case len(cmps) > 2:
		c.errorf(c.src.CondPos, "a condition takes one operator, or two for a range")
	}
	return &ir.CAnd{Args: cmps}
}

func (c *corrCompiler) standard(out *ir.Correlation, name string, agg *ir.AggCall) {
	out.Named = []ir.Named{{Name: name, Pos: c.src.Type.Pos, Expr: agg}}
	out.Condition = c.condOps(name, true)
}

// setting reads a value_* setting from the condition map (spec v2.1) or,
// failing that, the correlation block (the pySigma placement).
func (c *corrCompiler) setting(key string, fallback *sigma.Value) *sigma.Value {
	if v, ok := c.src.CondOps[key]; ok {
		return &v
	}
	return fallback
}

func (c *corrCompiler) valueType(out *ir.Correlation, t string, fn ir.AggFunc) {
	field := c.setting("field", c.src.Field)
	if field == nil || field.Raw == "" {
		c.errorf(c.src.CondPos, "%s needs the field to aggregate: add `field: <name>` to the condition", t)
		return
	}
	agg := &ir.AggCall{Pos: field.Pos, Func: fn, Arg: ir.EvField{Name: c.mapField(field.Raw, field.Pos)}}
	if fn == ir.AggPercentile {
		p := c.setting("percentile", c.src.Percentile)
		if p == nil {
			c.errorf(c.src.CondPos, "value_percentile needs `percentile: <0-100>` in the condition")
			return
		}
		f, err := strconv.ParseFloat(p.Raw, 64)
		if err != nil || f < 0 || f > 100 {
			c.errorf(p.Pos, "percentile must be a number from 0 to 100, got %s", diag.Quote(p.Raw))
			return
		}
		agg.P = f
	}
	c.standard(out, t, agg)
}

func (c *corrCompiler) temporal(out *ir.Correlation, ordered bool) {
	if len(c.inputs) < 2 && len(c.diags) == 0 {
		c.errorf(c.src.Pos, "a temporal correlation needs at least two rules")
	}
	if ordered {
		out.Named = []ir.Named{{Name: "rules_in_order", Pos: c.src.Type.Pos, Expr: &ir.AggCall{Pos: c.src.Type.Pos, Func: ir.AggSequence}}}
		out.Condition = &ir.CCmp{Pos: c.src.Type.Pos, Op: ">=", L: &ir.NameRef{Name: "rules_in_order"}, R: &ir.Num{V: 1, Text: "1"}}
		if c.src.CondText != nil || len(c.src.CondOps) > 0 {
			c.errorf(c.src.CondPos, "temporal_ordered takes no condition: the rules must all occur in the order listed")
		}
		return
	}
	out.Named = []ir.Named{{Name: "rules", Pos: c.src.Type.Pos, Expr: &ir.AggCall{Pos: c.src.Type.Pos, Func: ir.AggCountDistinct, Arg: ir.EvRule{}}}}
	switch {
	case c.src.CondText != nil:
		// Extended temporal condition: a boolean expression over rule names.
		e, err := aggexpr.Parse(c.src.CondText.Raw)
		if err != nil {
			c.exprError(c.src.CondText.Pos, err)
			return
		}
		out.Condition = c.temporalCond(e, c.src.CondText.Pos)
		for _, in := range c.inputs {
			out.Named = append(out.Named, ir.Named{Name: "rule:" + in.Ref, Pos: c.src.CondText.Pos,
				Expr: &ir.AggCall{Pos: c.src.CondText.Pos, Func: ir.AggCountRule, Rule: in.Ref}})
		}
	case len(c.src.CondOps) > 0:
		out.Condition = c.condOps("rules", true)
	default:
		out.Condition = &ir.CCmp{Pos: c.src.Pos, Op: ">=", L: &ir.NameRef{Name: "rules"}, R: &ir.Num{V: float64(len(c.inputs)), Text: strconv.Itoa(len(c.inputs))}}
	}
}

func (c *corrCompiler) temporalCond(e aggexpr.Expr, base diag.Pos) ir.Cond {
	pos := shift(base, e)
	switch n := e.(type) {
	case *aggexpr.Binary:
		l, r := c.temporalCond(n.L, base), c.temporalCond(n.R, base)
		if n.Op == "and" {
			return &ir.CAnd{Args: []ir.Cond{l, r}}
		}
		if n.Op == "or" {
			return &ir.COr{Args: []ir.Cond{l, r}}
		}
	case *aggexpr.Not:
		return &ir.CNot{Arg: c.temporalCond(n.Arg, base)}
	case *aggexpr.Ident:
		for _, in := range c.inputs {
			if in.Ref == n.Name {
				return &ir.CCmp{Pos: pos, Op: ">", L: &ir.NameRef{Pos: pos, Name: "rule:" + n.Name}, R: &ir.Num{V: 0, Text: "0"}}
			}
		}
		c.errorf(pos, "%s is not one of this correlation's rules", diag.Quote(n.Name))
		return &ir.CAnd{}
	}
	c.errorf(pos, "a temporal condition combines rule names with and, or and not")
	return &ir.CAnd{}
}

func shift(base diag.Pos, e aggexpr.Expr) diag.Pos {
	p := e.Position()
	return base.Shift(p.Line, p.Column)
}

func (c *corrCompiler) exprError(base diag.Pos, err error) {
	if pe, ok := err.(*aggexpr.Error); ok {
		c.errorf(base.Shift(pe.Pos.Line, pe.Pos.Column), "%s", pe.Msg)
		return
	}
	c.errorf(base, "%v", err)
}

func (c *corrCompiler) aggregate(out *ir.Correlation) {
	if len(c.src.Aggregate) == 0 {
		c.errorf(c.src.Pos, "an aggregate correlation needs `aggregate:` with named expressions such as `connections: count()`")
		return
	}
	names := map[string]bool{}
	for _, n := range c.src.Aggregate {
		e, err := aggexpr.Parse(n.Expr.Raw)
		if err != nil {
			c.exprError(n.Expr.Pos, err)
			continue
		}
		v := c.value(e, n.Expr.Pos, names)
		if v == nil {
			continue
		}
		if names[n.Name] {
			c.errorf(n.Pos, "aggregate %s is defined twice", diag.Quote(n.Name))
		}
		names[n.Name] = true
		if call, ok := v.(*ir.AggCall); ok && call.Func == ir.AggValues {
			if c.lists == nil {
				c.lists = map[string]bool{}
			}
			c.lists[n.Name] = true
		} else {
			c.noLists(v, n.Expr.Pos)
		}
		out.Named = append(out.Named, ir.Named{Name: n.Name, Pos: n.Pos, Expr: v})
	}
	if c.src.CondText == nil {
		c.errorf(c.src.CondPos, "an aggregate correlation needs a condition expression such as `connections >= 12`")
		return
	}
	e, err := aggexpr.Parse(c.src.CondText.Raw)
	if err != nil {
		c.exprError(c.src.CondText.Pos, err)
		return
	}
	out.Condition = c.cond(e, c.src.CondText.Pos, names)
}

var cmpOps = map[string]bool{"<": true, "<=": true, ">": true, ">=": true, "==": true, "!=": true}

func (c *corrCompiler) cond(e aggexpr.Expr, base diag.Pos, names map[string]bool) ir.Cond {
	pos := shift(base, e)
	switch n := e.(type) {
	case *aggexpr.Binary:
		switch {
		case n.Op == "and" || n.Op == "or":
			l, r := c.cond(n.L, base, names), c.cond(n.R, base, names)
			if n.Op == "and" {
				return &ir.CAnd{Args: []ir.Cond{l, r}}
			}
			return &ir.COr{Args: []ir.Cond{l, r}}
		case cmpOps[n.Op]:
			l, r := c.value(n.L, base, names), c.value(n.R, base, names)
			c.noLists(l, pos)
			c.noLists(r, pos)
			return &ir.CCmp{Pos: pos, Op: n.Op, L: l, R: r}
		}
	case *aggexpr.Not:
		return &ir.CNot{Arg: c.cond(n.Arg, base, names)}
	}
	c.errorf(pos, "the condition must compare values, e.g. `connections >= 12`, joined with and, or, not")
	return &ir.CAnd{}
}

// noLists refuses values() inside arithmetic or a comparison: it is a list
// of texts, not a number.
func (c *corrCompiler) noLists(v ir.Value, pos diag.Pos) {
	bad := false
	ir.WalkValue(v, func(a *ir.AggCall) { bad = bad || a.Func == ir.AggValues })
	var refs func(ir.Value)
	refs = func(v ir.Value) {
		switch n := v.(type) {
		case *ir.NameRef:
			bad = bad || c.lists[n.Name]
		case *ir.Arith:
			refs(n.L)
			refs(n.R)
		}
	}
	refs(v)
	if bad {
		c.errorf(pos, "values() is a list of texts: it cannot be compared or computed with; compare count_distinct() of the field instead")
	}
}

// value converts an arithmetic expression over aggregates and names.
func (c *corrCompiler) value(e aggexpr.Expr, base diag.Pos, names map[string]bool) ir.Value {
	pos := shift(base, e)
	switch n := e.(type) {
	case *aggexpr.Number:
		f, text, err := Number(n.Text)
		if err != nil {
			c.errorf(pos, "%v", err)
			return nil
		}
		return &ir.Num{Pos: pos, V: f, Text: text}
	case *aggexpr.Neg:
		v := c.value(n.Arg, base, names)
		if num, ok := v.(*ir.Num); ok {
			if num.V == 0 {
				return num
			}
			return &ir.Num{Pos: pos, V: -num.V, Text: "-" + num.Text}
		}
		return &ir.Arith{Pos: pos, Op: '-', L: &ir.Num{V: 0, Text: "0"}, R: v}
	case *aggexpr.Ident:
		if !names[n.Name] {
			c.errorf(pos, "%s is not an aggregate defined above; define it under `aggregate:` before using it", diag.Quote(n.Name))
			return nil
		}
		return &ir.NameRef{Pos: pos, Name: n.Name}
	case *aggexpr.Binary:
		if strings.Contains("+-*/", n.Op) && len(n.Op) == 1 {
			l, r := c.value(n.L, base, names), c.value(n.R, base, names)
			if l == nil || r == nil {
				return nil
			}
			return &ir.Arith{Pos: pos, Op: n.Op[0], L: l, R: r}
		}
	case *aggexpr.Call:
		return c.aggCall(n, base, pos)
	}
	c.errorf(pos, "expected an aggregate such as count() or avg(field), a name defined above, a number or arithmetic")
	return nil
}

func (c *corrCompiler) aggCall(n *aggexpr.Call, base, pos diag.Pos) ir.Value {
	fn, ok := ir.AggFuncByName(n.Name)
	if !ok {
		c.errorf(pos, "unknown aggregate function %s; use count, count_distinct, sum, avg, min, max, stddev, percentile, median, first, last or values", diag.Quote(n.Name))
		return nil
	}
	call := &ir.AggCall{Pos: pos, Func: fn}
	want := 1
	switch fn {
	case ir.AggCount:
		if len(n.Args) == 0 {
			return call
		}
	case ir.AggPercentile:
		want = 2
	}
	if len(n.Args) != want {
		c.errorf(pos, "%s takes %d argument(s)", n.Name, want)
		return nil
	}
	arg := c.eventExpr(n.Args[0], base)
	if arg == nil {
		return nil
	}
	call.Arg = arg
	if fn == ir.AggPercentile {
		var p float64
		num, ok := n.Args[1].(*aggexpr.Number)
		if ok {
			p, _ = strconv.ParseFloat(num.Text, 64)
		}
		if !ok || p < 0 || p > 100 {
			c.errorf(shift(base, n.Args[1]), "the percentile must be a number from 0 to 100")
			return nil
		}
		call.P = p
	}
	return call
}

func (c *corrCompiler) eventExpr(e aggexpr.Expr, base diag.Pos) ir.EventExpr {
	pos := shift(base, e)
	switch n := e.(type) {
	case *aggexpr.Ident:
		if n.Name == "" {
			c.errorf(pos, "an empty field name; write the field between the back-quotes")
			return nil
		}
		return ir.EvField{Name: c.mapField(n.Name, pos)}
	case *aggexpr.Call:
		switch n.Name {
		case "bucket":
			if len(n.Args) == 1 {
				if d, ok := n.Args[0].(*aggexpr.Duration); ok {
					span, ok := ParseTimespan(d.Text)
					if ok {
						return ir.EvBucket{Span: span}
					}
				}
			}
			c.errorf(pos, "bucket takes one duration such as 1h, of at most 3650d")
			return nil
		case "interval":
			if len(n.Args) == 0 {
				return ir.EvInterval{}
			}
			c.errorf(pos, "interval() takes no argument")
			return nil
		}
	}
	c.errorf(pos, "an aggregate's argument is a field name, bucket(DURATION) or interval()")
	return nil
}
