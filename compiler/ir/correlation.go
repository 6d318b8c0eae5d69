package ir

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sigc-project/sigc/diag"
)

// Correlation is a compiled correlation rule: a plan over the events of its
// inputs, grouped by fields and cut into tumbling windows aligned to
// multiples of Timespan since the Unix epoch (UTC). Every correlation type
// is lowered into named aggregates plus a condition over them; Type keeps
// the rule's own type for output and for targets that render types apart.
type Correlation struct {
	ID, Name, Title, Level, Status string
	Description, Author            string
	Tags                           []string
	File                           string
	Pos                            diag.Pos
	Type                           string
	Inputs                         []*Input
	GroupBy                        []string // output names of the group fields
	Timespan                       time.Duration
	Generate                       bool
	Named                          []Named // in definition order
	Condition                      Cond
	Warnings                       []*diag.Diagnostic
}

// Position is where the correlation rule starts.
func (c *Correlation) Position() diag.Pos { return c.Pos }

// Input is one referenced rule or correlation.
type Input struct {
	Ref         string       // the name or id used in `rules:`
	Rule        *Rule        // a detection rule, or
	Correlation *Correlation // a correlation (chaining)
	// GroupFields are the event fields giving GroupBy's values for this
	// input (aliases resolved), in GroupBy order.
	GroupFields []string
}

// Named is one named aggregate value.
type Named struct {
	Name string
	Pos  diag.Pos
	Expr Value
}

// AggFunc is an aggregate function.
type AggFunc int

// Add a row to aggNames when you add a function.
const (
	AggCount AggFunc = iota // count() or, with Arg, events that carry the field
	AggCountDistinct
	AggSum
	AggAvg
	AggMin
	AggMax
	AggStddev // population standard deviation
	AggPercentile
	AggMedian
	AggFirst
	AggLast
	AggValues
	AggCountRule // events that came from input Rule (temporal conditions)
	AggSequence  // 1 when the inputs occurred in order (temporal_ordered), else 0
)

var aggNames = [...]string{AggCount: "count", AggCountDistinct: "count_distinct", AggSum: "sum", AggAvg: "avg",
	AggMin: "min", AggMax: "max", AggStddev: "stddev", AggPercentile: "percentile", AggMedian: "median",
	AggFirst: "first", AggLast: "last", AggValues: "values", AggCountRule: "count_rule", AggSequence: "sequence"}

func (f AggFunc) String() string { return aggNames[f] }

// AggFuncByName maps a function name of the aggregate syntax.
func AggFuncByName(s string) (AggFunc, bool) {
	for i, n := range aggNames {
		if n == s && AggFunc(i) != AggCountRule && AggFunc(i) != AggSequence {
			return AggFunc(i), true
		}
	}
	return 0, false
}

// EventExpr is a per-event value inside an aggregate.
type EventExpr interface{ isEventExpr() }

// EvField is a field of the event.
type EvField struct{ Name string }

// EvBucket is the event time truncated to Span (UTC, epoch-aligned).
type EvBucket struct{ Span time.Duration }

// EvInterval is the seconds since the previous event of the same group and
// window, in time order; the first event has none.
type EvInterval struct{}

// EvRule is the name of the input the event came from.
type EvRule struct{}

func (EvField) isEventExpr()    {}
func (EvBucket) isEventExpr()   {}
func (EvInterval) isEventExpr() {}
func (EvRule) isEventExpr()     {}

// Value is an arithmetic expression over aggregates.
type Value interface{ isValue() }

// AggCall is one aggregate: Func over Arg (nil for count()).
type AggCall struct {
	Pos  diag.Pos
	Func AggFunc
	Arg  EventExpr
	P    float64 // percentile
	Rule string  // for AggCountRule
}

// NameRef refers to an earlier Named value.
type NameRef struct {
	Pos  diag.Pos
	Name string
}

// Num is a number literal.
type Num struct {
	Pos  diag.Pos
	V    float64
	Text string
}

// Arith is L Op R with Op one of + - * /. Division by zero has no value.
type Arith struct {
	Pos  diag.Pos
	Op   byte
	L, R Value
}

func (*AggCall) isValue() {}
func (*NameRef) isValue() {}
func (*Num) isValue()     {}
func (*Arith) isValue()   {}

// Cond is the correlation condition. A comparison with no value is false.
type Cond interface{ isCond() }

// CAnd, COr, CNot combine conditions; CCmp compares two values.
type (
	CAnd struct{ Args []Cond }
	COr  struct{ Args []Cond }
	CNot struct{ Arg Cond }
	CCmp struct {
		Pos  diag.Pos
		Op   string // < <= > >= == !=
		L, R Value
	}
)

func (*CAnd) isCond() {}
func (*COr) isCond()  {}
func (*CNot) isCond() {}
func (*CCmp) isCond() {}

// PrintValue renders a value canonically.
func PrintValue(v Value) string {
	switch n := v.(type) {
	case *AggCall:
		return printAgg(n)
	case *NameRef:
		return n.Name
	case *Num:
		return n.Text
	case *Arith:
		return "(" + PrintValue(n.L) + " " + string(n.Op) + " " + PrintValue(n.R) + ")"
	}
	panic(fmt.Sprintf("ir.PrintValue: unknown node %T", v))
}

func printAgg(a *AggCall) string {
	arg := ""
	switch e := a.Arg.(type) {
	case nil:
	case EvField:
		arg = e.Name
	case EvBucket:
		arg = "bucket(" + e.Span.String() + ")"
	case EvInterval:
		arg = "interval()"
	case EvRule:
		arg = "rule()"
	}
	switch a.Func {
	case AggPercentile:
		arg += ", " + strconv.FormatFloat(a.P, 'g', -1, 64)
	case AggCountRule:
		arg = strconv.Quote(a.Rule)
	}
	return a.Func.String() + "(" + arg + ")"
}

// PrintCond renders a condition canonically.
func PrintCond(c Cond) string {
	switch n := c.(type) {
	case *CAnd:
		return joinCond(n.Args, " and ")
	case *COr:
		return joinCond(n.Args, " or ")
	case *CNot:
		return "not " + PrintCond(n.Arg)
	case *CCmp:
		return PrintValue(n.L) + " " + n.Op + " " + PrintValue(n.R)
	}
	panic(fmt.Sprintf("ir.PrintCond: unknown node %T", c))
}

func joinCond(args []Cond, sep string) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = "(" + PrintCond(a) + ")"
	}
	return strings.Join(parts, sep)
}

// PrintCorrelation renders a correlation plan for golden tests.
func PrintCorrelation(c *Correlation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "correlation %s %q type=%s timespan=%s generate=%t\n", c.ID, c.Title, c.Type, c.Timespan, c.Generate)
	for _, in := range c.Inputs {
		kind := "rule"
		id := ""
		if in.Rule != nil {
			id = in.Rule.ID
		} else {
			kind, id = "correlation", in.Correlation.ID
		}
		fmt.Fprintf(&b, "  input %s %s %s group=%v\n", kind, in.Ref, id, in.GroupFields)
	}
	fmt.Fprintf(&b, "  group-by %v\n", c.GroupBy)
	for _, n := range c.Named {
		fmt.Fprintf(&b, "  %s = %s\n", n.Name, PrintValue(n.Expr))
	}
	fmt.Fprintf(&b, "  condition %s\n", PrintCond(c.Condition))
	return b.String()
}

// FlattenCond merges nested and/or of the same kind.
func FlattenCond(c Cond) Cond {
	switch n := c.(type) {
	case *CAnd:
		var out []Cond
		for _, a := range n.Args {
			a = FlattenCond(a)
			if x, ok := a.(*CAnd); ok {
				out = append(out, x.Args...)
			} else {
				out = append(out, a)
			}
		}
		if len(out) == 1 {
			return out[0]
		}
		return &CAnd{Args: out}
	case *COr:
		var out []Cond
		for _, a := range n.Args {
			a = FlattenCond(a)
			if x, ok := a.(*COr); ok {
				out = append(out, x.Args...)
			} else {
				out = append(out, a)
			}
		}
		if len(out) == 1 {
			return out[0]
		}
		return &COr{Args: out}
	case *CNot:
		return &CNot{Arg: FlattenCond(n.Arg)}
	}
	return c
}

// WalkValue calls fn for every aggregate call in v, left to right.
func WalkValue(v Value, fn func(*AggCall)) {
	switch n := v.(type) {
	case *AggCall:
		fn(n)
	case *Arith:
		WalkValue(n.L, fn)
		WalkValue(n.R, fn)
	}
}

// WalkCond calls fn for every aggregate call a condition compares.
func WalkCond(c Cond, fn func(*AggCall)) {
	switch n := c.(type) {
	case *CAnd:
		for _, a := range n.Args {
			WalkCond(a, fn)
		}
	case *COr:
		for _, a := range n.Args {
			WalkCond(a, fn)
		}
	case *CNot:
		WalkCond(n.Arg, fn)
	case *CCmp:
		WalkValue(n.L, fn)
		WalkValue(n.R, fn)
	}
}

// Percentile is the one definition of percentile(x, p) and median: linear
// interpolation between the closest ranks (numpy's default, SQL's
// percentile_cont). vals must be non-empty; they are sorted in place.
func Percentile(vals []float64, p float64) float64 {
	sort.Float64s(vals)
	if len(vals) == 1 {
		return vals[0]
	}
	rank := p / 100 * float64(len(vals)-1)
	lo, hi := int(math.Floor(rank)), int(math.Ceil(rank))
	return vals[lo] + (vals[hi]-vals[lo])*(rank-float64(lo))
}
