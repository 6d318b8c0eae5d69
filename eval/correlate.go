package eval

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sigc-project/sigc/compiler/ir"
)

// Firing is one correlation result: a group whose window met the condition.
type Firing struct {
	Correlation *ir.Correlation
	Group       []GroupValue
	Aggregates  []AggValue
	WindowStart time.Time
	WindowEnd   time.Time
	FirstSeen   time.Time
	LastSeen    time.Time
	Events      int
}

// GroupValue is one group-by field and its value.
type GroupValue struct {
	Field string
	Value string
}

// AggValue is one named aggregate; Value is nil when it has no value
// (no events carried the field, or a division by zero).
type AggValue struct {
	Name  string
	Value any
}

// Correlator runs correlation plans over the matches of detection rules.
// Windows are tumbling and aligned to multiples of the timespan since the
// Unix epoch (UTC). A window is closed once the newest event time seen has
// passed its end by the plan's slack (its own timespan, plus the delay of the
// correlations it reads), so memory holds only the live groups.
type Correlator struct {
	TimeField string
	// Lateness is extra time a window stays open for out-of-order events,
	// on top of one timespan (for inputs that are not sorted by time).
	Lateness  time.Duration
	plans     []*corrPlan
	byRule    map[*ir.Rule][]feed
	byCorr    map[*ir.Correlation][]feed
	watermark int64  // newest event time seen, Unix nanoseconds
	key       []byte // group key buffer, reused
	emit      func(*Firing)
	// NoTime counts events skipped for lack of a timestamp, OutOfRange
	// those whose timestamp lies outside the years 1900 to 2200, Late those
	// that arrived after their window had closed.
	NoTime, OutOfRange, Late int
}

type feed struct {
	p     *corrPlan
	input int
}

type corrPlan struct {
	c        *ir.Correlation
	span     int64
	slack    int64
	calls    []*ir.AggCall // every aggregate call, indexed by slot
	slots    map[*ir.AggCall]int
	needTime bool // interval() or sequence(): keep event times
	groups   map[string]*group
	closed   int64 // windows ending at or before this are closed
	limitAt  int64 // window index of the last flush limit, to flush once per window
}

type group struct {
	windowStart int64
	values      []string
	first, last int64
	events      int
	accs        []acc
	times       []timed // for interval() and sequence()
}

type timed struct {
	t     int64
	input int
}

// acc accumulates one aggregate call of one group.
type acc struct {
	n, sum, sumsq float64
	min, max      float64
	has           int // values seen (numeric)
	set           map[string]struct{}
	vals          []float64
	firstT, lastT int64
	first, last   string
	seenFL        bool
}

// NewCorrelator plans the correlations; emit receives each firing.
func NewCorrelator(corrs []*ir.Correlation, timeField string, emit func(*Firing)) *Correlator {
	c := &Correlator{TimeField: timeField, byRule: map[*ir.Rule][]feed{}, byCorr: map[*ir.Correlation][]feed{}, emit: emit}
	lags := map[*ir.Correlation]int64{}
	var lag func(*ir.Correlation) int64
	lag = func(k *ir.Correlation) int64 {
		if v, ok := lags[k]; ok {
			return v
		}
		var inner int64
		for _, in := range k.Inputs {
			if in.Correlation != nil {
				inner = max(inner, lag(in.Correlation)+int64(in.Correlation.Timespan))
			}
		}
		lags[k] = inner
		return inner
	}
	// Plans run inner correlations first, so a window an inner one closes
	// feeds its readers before they close theirs (end of input included).
	depth := map[*ir.Correlation]int{}
	var depthOf func(*ir.Correlation) int
	depthOf = func(k *ir.Correlation) int {
		if d, ok := depth[k]; ok {
			return d
		}
		d := 0
		for _, in := range k.Inputs {
			if in.Correlation != nil {
				d = max(d, depthOf(in.Correlation)+1)
			}
		}
		depth[k] = d
		return d
	}
	ordered := append([]*ir.Correlation(nil), corrs...)
	sort.SliceStable(ordered, func(i, j int) bool { return depthOf(ordered[i]) < depthOf(ordered[j]) })
	for _, k := range ordered {
		p := &corrPlan{c: k, span: int64(k.Timespan), slots: map[*ir.AggCall]int{}, groups: map[string]*group{}, closed: math.MinInt64, limitAt: math.MinInt64}
		p.slack = int64(k.Timespan) + lag(k)
		for _, n := range k.Named {
			ir.WalkValue(n.Expr, p.slot)
		}
		ir.WalkCond(k.Condition, p.slot)
		c.plans = append(c.plans, p)
		for i, in := range k.Inputs {
			if in.Rule != nil {
				c.byRule[in.Rule] = append(c.byRule[in.Rule], feed{p, i})
			} else {
				c.byCorr[in.Correlation] = append(c.byCorr[in.Correlation], feed{p, i})
			}
		}
	}
	return c
}

// slot gives an aggregate call its accumulator slot.
func (p *corrPlan) slot(n *ir.AggCall) {
	if _, ok := p.slots[n]; !ok {
		p.slots[n] = len(p.calls)
		p.calls = append(p.calls, n)
		if _, ok := n.Arg.(ir.EvInterval); ok || n.Func == ir.AggSequence {
			p.needTime = true
		}
	}
}

// Add records that ev matched rule r.
func (c *Correlator) Add(r *ir.Rule, ev *Event) {
	feeds := c.byRule[r]
	if len(feeds) == 0 {
		return
	}
	t, st := eventTime(ev, c.TimeField)
	switch st {
	case timeUnparsed:
		c.NoTime++
		return
	case timeOutOfRange:
		c.OutOfRange++
		return
	}
	c.addAt(feeds, ev, t.UnixNano())
}

func (c *Correlator) addAt(feeds []feed, ev *Event, t int64) {
	for _, f := range feeds {
		c.addTo(f, ev, t)
	}
	if t > c.watermark {
		c.watermark = t
		c.flush(false)
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func (c *Correlator) addTo(f feed, ev *Event, t int64) {
	p := f.p
	in := p.c.Inputs[f.input]
	start := floorDiv(t, p.span) * p.span
	if start+p.span <= p.closed {
		c.Late++
		return
	}
	// The key is built in a reused buffer; looking it up allocates nothing,
	// only a new group copies it and its values.
	c.key = strconv.AppendInt(c.key[:0], start, 10)
	for _, gf := range in.GroupFields {
		v, ok := firstString(ev.Fields[gf])
		if !ok {
			return // events lacking a group-by field are not counted
		}
		c.key = append(append(c.key, 0), v...)
	}
	g := p.groups[string(c.key)]
	if g == nil {
		vals := make([]string, len(in.GroupFields))
		for i, gf := range in.GroupFields {
			v, _ := firstString(ev.Fields[gf])
			vals[i] = strings.Clone(v) // event strings share the record's buffer
		}
		g = &group{windowStart: start, values: vals, first: t, last: t, accs: make([]acc, len(p.calls))}
		p.groups[string(c.key)] = g
	}
	g.events++
	g.first, g.last = min(g.first, t), max(g.last, t)
	if p.needTime {
		g.times = append(g.times, timed{t, f.input})
	}
	for i, call := range p.calls {
		a := &g.accs[i]
		switch call.Func {
		case ir.AggCount:
			if call.Arg == nil {
				a.n++
			} else if _, ok := eventValue(call.Arg, ev, t, in); ok {
				a.n++
			}
		case ir.AggCountRule:
			if in.Ref == call.Rule {
				a.n++
			}
		case ir.AggSequence:
		default:
			if _, ok := call.Arg.(ir.EvInterval); ok {
				continue // computed when the window closes
			}
			s, ok := eventValue(call.Arg, ev, t, in)
			if ok {
				a.add(call.Func, s, t)
			}
		}
	}
}

func firstString(vals []Scalar) (string, bool) {
	for i := range vals {
		if !vals[i].Null {
			return vals[i].Str, true
		}
	}
	return "", false
}

// eventValue is the per-event value of an aggregate argument.
func eventValue(e ir.EventExpr, ev *Event, t int64, in *ir.Input) (string, bool) {
	switch x := e.(type) {
	case ir.EvField:
		return firstString(ev.Fields[x.Name])
	case ir.EvBucket:
		b := floorDiv(t, int64(x.Span)) * int64(x.Span)
		return strconv.FormatInt(b/int64(time.Second), 10), true
	case ir.EvRule:
		return in.Ref, true
	}
	return "", false
}

func (a *acc) add(fn ir.AggFunc, s string, t int64) {
	switch fn {
	case ir.AggCountDistinct, ir.AggValues:
		if a.set == nil {
			a.set = map[string]struct{}{}
		}
		if _, ok := a.set[s]; !ok {
			a.set[strings.Clone(s)] = struct{}{}
		}
	case ir.AggFirst, ir.AggLast:
		if !a.seenFL || t < a.firstT {
			a.firstT, a.first = t, strings.Clone(s)
		}
		if !a.seenFL || t >= a.lastT {
			a.lastT, a.last = t, strings.Clone(s)
		}
		a.seenFL = true
	default:
		sc := Scalar{Str: s}
		f, ok := sc.Number()
		if !ok {
			return
		}
		a.addNum(fn, f)
	}
}

func (a *acc) addNum(fn ir.AggFunc, f float64) {
	if a.has == 0 || f < a.min {
		a.min = f
	}
	if a.has == 0 || f > a.max {
		a.max = f
	}
	a.has++
	a.sum += f
	a.sumsq += f * f
	if fn == ir.AggPercentile || fn == ir.AggMedian {
		a.vals = append(a.vals, f)
	}
}

// flush closes every window whose end plus slack the watermark has passed;
// with all, every window (end of input).
func (c *Correlator) flush(all bool) {
	for _, p := range c.plans {
		limit := c.watermark - p.slack - int64(c.Lateness)
		if all {
			limit = math.MaxInt64
		} else {
			// Nothing new can be due until the limit enters another window.
			at := floorDiv(limit, p.span)
			if at == p.limitAt {
				continue
			}
			p.limitAt = at
		}
		var due []*group
		var keys []string
		for k, g := range p.groups {
			if g.windowStart+p.span <= limit {
				due = append(due, g)
				keys = append(keys, k)
			}
		}
		if !all {
			// Windows ending before the limit are closed for good.
			if closed := floorDiv(limit, p.span) * p.span; closed > p.closed {
				p.closed = closed
			}
		}
		if len(due) == 0 {
			continue
		}
		for _, k := range keys {
			delete(p.groups, k)
		}
		sort.Slice(due, func(i, j int) bool {
			if due[i].windowStart != due[j].windowStart {
				return due[i].windowStart < due[j].windowStart
			}
			return strings.Join(due[i].values, "\x00") < strings.Join(due[j].values, "\x00")
		})
		for _, g := range due {
			if f := p.evaluate(g); f != nil {
				c.fire(f)
			}
		}
	}
}

// fire emits a firing and feeds correlations that read this one.
func (c *Correlator) fire(f *Firing) {
	c.emit(f)
	feeds := c.byCorr[f.Correlation]
	if len(feeds) == 0 {
		return
	}
	m := map[string]any{}
	for _, g := range f.Group {
		m[g.Field] = g.Value
	}
	for _, a := range f.Aggregates {
		if a.Value != nil {
			m[a.Name] = a.Value
		}
	}
	ev := NewEvent(m)
	c.addAt(feeds, ev, f.LastSeen.UnixNano())
}

// Close flushes every open window (end of input).
func (c *Correlator) Close() { c.flush(true) }

// evaluate computes the aggregates of a closed window and tests the condition.
func (p *corrPlan) evaluate(g *group) *Firing {
	if p.needTime {
		sort.SliceStable(g.times, func(i, j int) bool { return g.times[i].t < g.times[j].t })
		for i, call := range p.calls {
			if _, ok := call.Arg.(ir.EvInterval); ok {
				for k := 1; k < len(g.times); k++ {
					g.accs[i].addNum(call.Func, float64(g.times[k].t-g.times[k-1].t)/1e9)
					g.accs[i].n++ // count(interval()): the events that have one
				}
			}
			if call.Func == ir.AggSequence {
				next := 0
				for _, tt := range g.times {
					if next < len(p.c.Inputs) && tt.input == next {
						next++
					}
				}
				if next == len(p.c.Inputs) {
					g.accs[i].n = 1
				}
			}
		}
	}
	values := map[string]result{}
	get := func(v ir.Value) result { return p.value(v, g, values) }
	f := &Firing{Correlation: p.c, WindowStart: time.Unix(0, g.windowStart).UTC(), WindowEnd: time.Unix(0, g.windowStart+p.span).UTC(),
		FirstSeen: time.Unix(0, g.first).UTC(), LastSeen: time.Unix(0, g.last).UTC(), Events: g.events}
	for _, n := range p.c.Named {
		r := get(n.Expr)
		values[n.Name] = r
		f.Aggregates = append(f.Aggregates, AggValue{Name: n.Name, Value: r.out()})
	}
	if !p.cond(p.c.Condition, get) {
		return nil
	}
	for i, name := range p.c.GroupBy {
		f.Group = append(f.Group, GroupValue{Field: name, Value: g.values[i]})
	}
	return f
}

// result is a computed value: a number, or text (first/last/values).
type result struct {
	num  float64
	ok   bool
	text any
}

func (r result) out() any {
	if r.text != nil {
		return r.text
	}
	if !r.ok || math.IsNaN(r.num) || math.IsInf(r.num, 0) {
		return nil
	}
	return r.num
}

func (p *corrPlan) value(v ir.Value, g *group, named map[string]result) result {
	switch n := v.(type) {
	case *ir.Num:
		return result{num: n.V, ok: true}
	case *ir.NameRef:
		return named[n.Name]
	case *ir.Arith:
		l, r := p.value(n.L, g, named), p.value(n.R, g, named)
		if !l.ok || !r.ok {
			return result{}
		}
		switch n.Op {
		case '+':
			return result{num: l.num + r.num, ok: true}
		case '-':
			return result{num: l.num - r.num, ok: true}
		case '*':
			return result{num: l.num * r.num, ok: true}
		case '/':
			if r.num == 0 {
				return result{}
			}
			return result{num: l.num / r.num, ok: true}
		}
	case *ir.AggCall:
		return aggResult(n, &g.accs[p.slots[n]])
	}
	return result{}
}

func aggResult(call *ir.AggCall, a *acc) result {
	num := func(f float64) result { return result{num: f, ok: true} }
	switch call.Func {
	case ir.AggCount, ir.AggCountRule, ir.AggSequence:
		return num(a.n)
	case ir.AggCountDistinct:
		return num(float64(len(a.set)))
	case ir.AggSum:
		if a.has == 0 {
			return result{}
		}
		return num(a.sum)
	case ir.AggAvg:
		if a.has == 0 {
			return result{}
		}
		return num(a.sum / float64(a.has))
	case ir.AggMin:
		if a.has == 0 {
			return result{}
		}
		return num(a.min)
	case ir.AggMax:
		if a.has == 0 {
			return result{}
		}
		return num(a.max)
	case ir.AggStddev:
		if a.has == 0 {
			return result{}
		}
		mean := a.sum / float64(a.has)
		v := a.sumsq/float64(a.has) - mean*mean
		return num(math.Sqrt(math.Max(v, 0)))
	case ir.AggPercentile, ir.AggMedian:
		if len(a.vals) == 0 {
			return result{}
		}
		p := call.P
		if call.Func == ir.AggMedian {
			p = 50
		}
		return num(ir.Percentile(append([]float64(nil), a.vals...), p))
	case ir.AggFirst, ir.AggLast:
		if !a.seenFL {
			return result{}
		}
		s := a.first
		if call.Func == ir.AggLast {
			s = a.last
		}
		sc := Scalar{Str: s}
		f, ok := sc.Number()
		return result{num: f, ok: ok, text: s}
	case ir.AggValues:
		vals := make([]string, 0, len(a.set))
		for v := range a.set {
			vals = append(vals, v)
		}
		sort.Strings(vals)
		return result{text: vals}
	}
	return result{}
}

func (p *corrPlan) cond(c ir.Cond, get func(ir.Value) result) bool {
	switch n := c.(type) {
	case *ir.CAnd:
		for _, a := range n.Args {
			if !p.cond(a, get) {
				return false
			}
		}
		return true
	case *ir.COr:
		for _, a := range n.Args {
			if p.cond(a, get) {
				return true
			}
		}
		return false
	case *ir.CNot:
		return !p.cond(n.Arg, get)
	case *ir.CCmp:
		l, r := get(n.L), get(n.R)
		if !l.ok || !r.ok {
			return false
		}
		switch n.Op {
		case "<":
			return l.num < r.num
		case "<=":
			return l.num <= r.num
		case ">":
			return l.num > r.num
		case ">=":
			return l.num >= r.num
		case "==":
			return l.num == r.num
		case "!=":
			return l.num != r.num
		}
	}
	return false
}

// LiveGroups is the number of open (group, window) states: what bounds
// the correlator's memory.
func (c *Correlator) LiveGroups() int {
	n := 0
	for _, p := range c.plans {
		n += len(p.groups)
	}
	return n
}
