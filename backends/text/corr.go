package text

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/diag"
)

// CorrPlan is the target-neutral layout of a correlation query: the
// per-event helper fields to compute before aggregating, the aggregate
// columns, and the named values to compute after.
type CorrPlan struct {
	C           *ir.Correlation
	Columns     []Column        // aggregate columns, in first-use order
	Buckets     []time.Duration // distinct bucket() spans
	Interval    bool            // interval() is used
	IntervalPos diag.Pos        // where, for warnings
	Squares     []string        // fields whose squares are needed (stddev)
	TagRules    bool            // events must carry the name of their input
	Post        []ir.Named      // named values computed after aggregating
	col         map[*ir.AggCall]string
}

// Column is one aggregate computed by the grouping stage.
type Column struct {
	Name string
	Call *ir.AggCall
}

// PlanCorrelation lays out a correlation for a text backend. Aggregates that
// stand alone as a named value take that name; inline ones get `_aN`.
func PlanCorrelation(c *ir.Correlation) *CorrPlan {
	p := &CorrPlan{C: c, col: map[*ir.AggCall]string{}}
	p.TagRules = len(c.Inputs) > 1
	for _, n := range c.Named {
		if call, ok := n.Expr.(*ir.AggCall); ok {
			p.add(call, SafeName(n.Name))
			continue
		}
		ir.WalkValue(n.Expr, p.addInline)
		p.Post = append(p.Post, n)
	}
	ir.WalkCond(c.Condition, p.addInline)
	sort.Slice(p.Buckets, func(i, j int) bool { return p.Buckets[i] < p.Buckets[j] })
	return p
}

// addInline adds an aggregate used inside an expression (named `_aN`).
func (p *CorrPlan) addInline(call *ir.AggCall) { p.add(call, "") }

func (p *CorrPlan) add(call *ir.AggCall, name string) {
	if _, ok := p.col[call]; ok {
		return
	}
	if name == "" {
		name = fmt.Sprintf("_a%d", len(p.Columns))
	}
	p.col[call] = name
	p.Columns = append(p.Columns, Column{Name: name, Call: call})
	switch a := call.Arg.(type) {
	case ir.EvBucket:
		found := false
		for _, b := range p.Buckets {
			found = found || b == a.Span
		}
		if !found {
			p.Buckets = append(p.Buckets, a.Span)
		}
	case ir.EvInterval:
		if !p.Interval {
			p.IntervalPos = call.Pos
		}
		p.Interval = true
	case ir.EvRule:
		p.TagRules = true
	}
	if call.Func == ir.AggCountRule || call.Func == ir.AggSequence {
		p.TagRules = true
	}
	if call.Func == ir.AggStddev {
		f := ArgName(call.Arg)
		for _, s := range p.Squares {
			if s == f {
				return
			}
		}
		p.Squares = append(p.Squares, f)
	}
}

// Col is the column name of an aggregate call.
func (p *CorrPlan) Col(call *ir.AggCall) string { return p.col[call] }

// BucketField names the helper field holding bucket(span).
func BucketField(span time.Duration) string {
	return fmt.Sprintf("_bucket_%d", int64(span/time.Second))
}

// SquareField names the helper field holding field². It is made of
// letters, digits and _ whatever the field is called, and no two fields
// share one: a plain name is kept (_sq_bytes), any other is spelt out
// byte by byte under another prefix (_sqx_cs_2dbytes).
func SquareField(f string) string {
	if !unsafeName.MatchString(f) {
		return "_sq_" + f
	}
	var b strings.Builder
	b.WriteString("_sqx_")
	for i := 0; i < len(f); i++ {
		switch c := f[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	return b.String()
}

// ArgName is the event field an aggregate reads (helper fields included).
func ArgName(e ir.EventExpr) string {
	switch a := e.(type) {
	case ir.EvField:
		return a.Name
	case ir.EvBucket:
		return BucketField(a.Span)
	case ir.EvInterval:
		return "_interval"
	case ir.EvRule:
		return "_rule"
	}
	return ""
}

// Value renders an arithmetic value with the target's column names.
func (p *CorrPlan) Value(v ir.Value) string {
	switch n := v.(type) {
	case *ir.AggCall:
		return p.col[n]
	case *ir.NameRef:
		return SafeName(n.Name)
	case *ir.Num:
		return n.Text
	case *ir.Arith:
		return "(" + p.Value(n.L) + " " + string(n.Op) + " " + p.Value(n.R) + ")"
	}
	panic(fmt.Sprintf("text: unknown value %T", v))
}

// Names lists the column or named values a value reads.
func (p *CorrPlan) Names(v ir.Value) []string {
	switch n := v.(type) {
	case *ir.AggCall:
		return []string{p.col[n]}
	case *ir.NameRef:
		return []string{SafeName(n.Name)}
	case *ir.Arith:
		return append(p.Names(n.L), p.Names(n.R)...)
	}
	return nil
}

// SpanMillis is a duration in milliseconds, as both targets keep event time.
func SpanMillis(d time.Duration) int64 { return int64(d / time.Millisecond) }

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_]`)

// SafeName turns a named value (`rule:login`) into a field name targets
// accept (`rule_login`).
func SafeName(n string) string { return unsafeName.ReplaceAllString(n, "_") }
