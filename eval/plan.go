package eval

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	re2 "github.com/wasilibs/go-re2"

	"github.com/sigc-project/sigc/compiler/ir"
)

// matcher is one planned node of a rule.
type matcher interface {
	match(v *view) bool
}

// view is an event as the matchers see it: the values of every field the
// rules read, looked up once per event into numbered slots, and their
// lower-cased forms, computed on first use.
type view struct {
	ev    *Event
	slots [][]Scalar
	low   lowerCache
	// The results of shared subtrees for this event, valid when their
	// generation is gen.
	gen       uint32
	sharedGen []uint32
	sharedRes []bool
}

// planner numbers the fields the rules read, and plans a subtree the
// compiler shares (a selection used by name twice, or by `N of`) once: it
// is then evaluated once per event, however many times the condition
// uses it, so the cost of an event is the distinct tests, not the
// expanded tree.
type planner struct {
	index  map[string]int
	fields []string
	refs   map[ir.Expr]int     // how many parents each node has
	memo   map[ir.Expr]matcher // planned shared nodes
	shared int                 // shared nodes numbered so far
}

// countRefs counts the parents of every node below e.
func (p *planner) countRefs(e ir.Expr) {
	if p.refs == nil {
		p.refs = map[ir.Expr]int{}
	}
	p.refs[e]++
	if p.refs[e] > 1 {
		return
	}
	switch n := e.(type) {
	case *ir.And:
		for _, a := range n.Args {
			p.countRefs(a)
		}
	case *ir.Or:
		for _, a := range n.Args {
			p.countRefs(a)
		}
	case *ir.Not:
		p.countRefs(n.Arg)
	}
}

// sharedM evaluates a shared subtree once per event.
type sharedM struct {
	m  matcher
	id int
}

func (s *sharedM) match(v *view) bool {
	if s.id < len(v.sharedGen) && v.sharedGen[s.id] == v.gen {
		return v.sharedRes[s.id]
	}
	for len(v.sharedGen) <= s.id {
		v.sharedGen = append(v.sharedGen, 0)
		v.sharedRes = append(v.sharedRes, false)
	}
	r := s.m.match(v)
	v.sharedGen[s.id], v.sharedRes[s.id] = v.gen, r
	return r
}

func (p *planner) slot(field string) int {
	if i, ok := p.index[field]; ok {
		return i
	}
	p.index[field] = len(p.fields)
	p.fields = append(p.fields, field)
	return len(p.fields) - 1
}

// load fills v's slots from ev.
func (p *planner) load(v *view, ev *Event) {
	v.ev = ev
	if cap(v.slots) < len(p.fields) {
		v.slots = make([][]Scalar, len(p.fields))
	}
	v.slots = v.slots[:len(p.fields)]
	for i, f := range p.fields {
		v.slots[i] = ev.Fields[f]
	}
	v.low.reset(len(p.fields))
	v.gen++
	if v.gen == 0 { // wrapped: forget every old generation
		clear(v.sharedGen)
		v.gen = 1
	}
}

// lowered returns the lower-cased values of a slot (or, for keywords, of
// every leaf), aligned with the scalars.
func (v *view) lowered(slot int, keyword bool) []string {
	if keyword {
		return v.low.everything(v.ev.All)
	}
	return v.low.slot(slot, v.slots[slot])
}

type andM []matcher
type orM []matcher
type notM struct{ m matcher }
type constM bool

func (a andM) match(ev *view) bool {
	for _, m := range a {
		if !m.match(ev) {
			return false
		}
	}
	return true
}

func (o orM) match(ev *view) bool {
	for _, m := range o {
		if m.match(ev) {
			return true
		}
	}
	return false
}

func (n notM) match(ev *view) bool   { return !n.m.match(ev) }
func (c constM) match(ev *view) bool { return bool(c) }

// strM matches a field (or, with keyword, any value) against a test. With
// fold, the test sees the lower-cased values.
type strM struct {
	slot    int
	keyword bool
	fold    bool
	test    func(s string) bool
}

func (m *strM) match(v *view) bool {
	vals := v.ev.All
	if !m.keyword {
		vals = v.slots[m.slot]
	}
	if m.fold {
		low := v.lowered(m.slot, m.keyword)
		for i := range vals {
			if !vals[i].Null && m.test(low[i]) {
				return true
			}
		}
		return false
	}
	for i := range vals {
		if !vals[i].Null && m.test(vals[i].Str) {
			return true
		}
	}
	return false
}

// plan compiles an IR expression into a matcher; a node with several
// parents is planned once and its result kept per event.
func (p *planner) plan(e ir.Expr) (matcher, error) {
	if m, ok := p.memo[e]; ok {
		return m, nil
	}
	m, err := p.planNode(e)
	if err != nil || p.refs[e] < 2 {
		return m, err
	}
	if _, leaf := m.(constM); leaf {
		return m, nil
	}
	sm := &sharedM{m: m, id: p.shared}
	p.shared++
	if p.memo == nil {
		p.memo = map[ir.Expr]matcher{}
	}
	p.memo[e] = sm
	return sm, nil
}

func (p *planner) planNode(e ir.Expr) (matcher, error) {
	switch n := e.(type) {
	case *ir.And:
		out := make(andM, 0, len(n.Args))
		for _, a := range n.Args {
			m, err := p.plan(a)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
		return out, nil
	case *ir.Or:
		out := make(orM, 0, len(n.Args))
		for _, a := range n.Args {
			m, err := p.plan(a)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
		return out, nil
	case *ir.Not:
		m, err := p.plan(n.Arg)
		return notM{m}, err
	case *ir.Const:
		return constM(n.Value), nil
	case *ir.Match:
		return &strM{slot: p.slot(n.Field), keyword: n.Field == "", fold: !n.Cased, test: patternTest(n.Pattern, n.Cased)}, nil
	case *ir.Regex:
		flags := n.Flags()
		src := n.Pattern
		if flags != "" {
			src = "(?" + flags + ")" + src
		}
		re, err := regexp.Compile(src)
		if err != nil {
			return nil, fmt.Errorf("%s: regular expression does not compile: %v", n.Pos, err)
		}
		// Matching runs on RE2 itself (go-re2: the C++ library compiled to
		// pure Go), whose DFA is linear in the value whatever the pattern:
		// Go's regexp costs value length × program size, and a counted
		// repetition such as [a-z]{500} on one 8 MiB log line takes minutes.
		// The syntax and the meaning are RE2's in both; Go's compiler
		// checked the pattern above and stays the fallback.
		if fast, err := re2.Compile(src); err == nil {
			return &strM{slot: p.slot(n.Field), keyword: n.Field == "", test: fast.MatchString}, nil
		}
		return &strM{slot: p.slot(n.Field), keyword: n.Field == "", test: re.MatchString}, nil
	case *ir.CIDR:
		prefix := n.Prefix
		return &strM{slot: p.slot(n.Field), test: func(s string) bool {
			a, err := netip.ParseAddr(s)
			return err == nil && prefix.Contains(a.Unmap())
		}}, nil
	case *ir.Number:
		m := &numM{slot: p.slot(n.Field), op: n.Op, v: n.Value}
		if isIntegerText(n.Text) {
			m.integer = n.Text
		}
		return m, nil
	case *ir.Exists:
		return existsM(p.slot(n.Field)), nil
	case *ir.Null:
		return notM{existsM(p.slot(n.Field))}, nil
	case *ir.FieldRef:
		return &refM{a: p.slot(n.Field), b: p.slot(n.Other), kind: n.Kind, cased: n.Cased}, nil
	case *ir.TimePart:
		return &timeM{slot: p.slot(n.Field), unit: n.Unit, v: n.Value}, nil
	}
	panic(fmt.Sprintf("eval: unknown IR node %T", e))
}

// patternTest builds the fastest test for a wildcard pattern. A
// case-insensitive test receives lower-cased values and compares them with
// the lower-cased pattern.
func patternTest(p ir.Pattern, cased bool) func(string) bool {
	if !cased {
		p = p.Lower()
	}
	shape, lit := p.Shape()
	switch shape {
	case ir.ShapeExact:
		return func(s string) bool { return s == lit }
	case ir.ShapePrefix:
		return func(s string) bool { return strings.HasPrefix(s, lit) }
	case ir.ShapeSuffix:
		return func(s string) bool { return strings.HasSuffix(s, lit) }
	case ir.ShapeContains:
		return func(s string) bool { return strings.Contains(s, lit) }
	case ir.ShapeAny:
		return func(string) bool { return true }
	}
	return compileGlob(p).match
}

type numM struct {
	slot int
	op   ir.CmpOp
	v    float64
	// integer is the rule's number when it is an integer: compared exactly
	// with integer values of the event (float64 would equate
	// 9007199254740993 with 9007199254740992).
	integer string
}

func (m *numM) match(v *view) bool {
	vals := v.slots[m.slot]
	for i := range vals {
		if m.integer != "" && !vals[i].Null && isIntegerText(vals[i].Str) {
			if cmpHolds(m.op, compareIntegers(vals[i].Str, m.integer)) {
				return true
			}
			continue
		}
		f, ok := vals[i].Number()
		if !ok {
			continue
		}
		switch m.op {
		case ir.Eq:
			if f == m.v {
				return true
			}
		case ir.Lt:
			if f < m.v {
				return true
			}
		case ir.Lte:
			if f <= m.v {
				return true
			}
		case ir.Gt:
			if f > m.v {
				return true
			}
		case ir.Gte:
			if f >= m.v {
				return true
			}
		}
	}
	return false
}

// cmpHolds reports whether op holds for a comparison result c (-1, 0, 1).
func cmpHolds(op ir.CmpOp, c int) bool {
	switch op {
	case ir.Eq:
		return c == 0
	case ir.Lt:
		return c < 0
	case ir.Lte:
		return c <= 0
	case ir.Gt:
		return c > 0
	case ir.Gte:
		return c >= 0
	}
	return false
}

// isIntegerText reports a decimal integer: an optional sign and digits.
func isIntegerText(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// compareIntegers compares two integer texts exactly, whatever their size.
func compareIntegers(a, b string) int {
	split := func(s string) (bool, string) {
		neg := false
		if s[0] == '-' || s[0] == '+' {
			neg, s = s[0] == '-', s[1:]
		}
		s = strings.TrimLeft(s, "0")
		return neg && s != "", s
	}
	an, ad := split(a)
	bn, bd := split(b)
	if an != bn {
		if an {
			return -1
		}
		return 1
	}
	c := 0
	switch {
	case len(ad) != len(bd):
		c = -1
		if len(ad) > len(bd) {
			c = 1
		}
	case ad < bd:
		c = -1
	case ad > bd:
		c = 1
	}
	if an {
		c = -c
	}
	return c
}

type existsM int

func (f existsM) match(ev *view) bool {
	for _, v := range ev.slots[f] {
		if !v.Null {
			return true
		}
	}
	return false
}

type refM struct {
	a, b  int
	kind  ir.RefKind
	cased bool
}

func (m *refM) match(v *view) bool {
	as, bs := v.slots[m.a], v.slots[m.b]
	var al, bl []string
	if !m.cased {
		al, bl = v.lowered(m.a, false), v.lowered(m.b, false)
	}
	for i := range as {
		if as[i].Null {
			continue
		}
		for j := range bs {
			if bs[j].Null {
				continue
			}
			a, b := as[i].Str, bs[j].Str
			if !m.cased {
				a, b = al[i], bl[j]
			}
			if refCompare(m.kind, a, b) {
				return true
			}
		}
	}
	return false
}

type timeM struct {
	slot int
	unit ir.TimeUnit
	v    int
}

func (m *timeM) match(ev *view) bool {
	for i := range ev.slots[m.slot] {
		s := &ev.slots[m.slot][i]
		t, ok := ParseTime(s)
		if !ok {
			continue
		}
		var got int
		switch m.unit {
		case ir.Minute:
			got = t.Minute()
		case ir.Hour:
			got = t.Hour()
		case ir.Day:
			got = t.Day()
		case ir.Week:
			_, got = t.ISOWeek()
		case ir.Month:
			got = int(t.Month())
		case ir.Year:
			got = t.Year()
		}
		if got == m.v {
			return true
		}
	}
	return false
}

// refCompare compares two field values (both already lower-cased when
// the comparison ignores case).
func refCompare(kind ir.RefKind, a, b string) bool {
	switch kind {
	case ir.RefEquals:
		return a == b
	case ir.RefPrefix:
		return strings.HasPrefix(a, b)
	case ir.RefSuffix:
		return strings.HasSuffix(a, b)
	case ir.RefContains:
		return strings.Contains(a, b)
	}
	return false
}
