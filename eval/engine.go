package eval

import (
	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/eval/logs"
)

// Rule is a planned rule: one matcher per condition entry.
type Rule struct {
	IR    *ir.Rule
	conds []matcher
	eng   *Engine
}

// Engine holds planned rules. It is not safe for concurrent use: it keeps
// one view of the current event.
type Engine struct {
	Rules []*Rule
	p     planner
	v     view
	// gates index the rules by a field each requires (gate.go).
	gates   []*gateIndex
	ungated []int
	cand    []bool
	key     []byte
}

// Options for input handling.
type Options struct {
	// EventLog adds the flat Windows EventLog field names to records that
	// look like exported EVTX JSON (on by default in the CLI).
	EventLog bool
}

// New plans every rule once.
func New(rules []*ir.Rule) (*Engine, error) {
	e := &Engine{p: planner{index: map[string]int{}}}
	for _, r := range rules {
		pr := &Rule{IR: r, eng: e}
		for _, c := range r.Conditions {
			e.p.countRefs(c)
		}
		for _, c := range r.Conditions {
			m, err := e.p.plan(c)
			if err != nil {
				return nil, err
			}
			pr.conds = append(pr.conds, m)
		}
		e.Rules = append(e.Rules, pr)
	}
	e.index()
	return e, nil
}

// Prepare turns a decoded record into an Event.
func Prepare(m map[string]any, opts Options) *Event {
	ev, _ := prepare(m, opts)
	return ev
}

// prepare flattens m and, with opts.EventLog, adds the EventLog names;
// mapped says whether m was an EventLog record.
func prepare(m map[string]any, opts Options) (ev *Event, mapped bool) {
	ev = NewEvent(m)
	return ev, opts.EventLog && FlattenEventLog(ev, m)
}

// Preparer turns log records into Events, reusing one Event for JSON
// records: each returned Event is valid until the next call.
type Preparer struct {
	opts Options
	flat *Flattener
	dups int
	// EventLog counts the records that got the flat EventLog names.
	EventLog int
}

// DuplicateKeys returns how many records repeated a JSON key since the last
// call. Such records are read as JSON parsers read them: the last value of
// the key wins (key=value lines do the same).
func (p *Preparer) DuplicateKeys() int {
	n := p.dups
	p.dups = 0
	return n
}

// NewPreparer returns a Preparer.
func NewPreparer(opts Options) *Preparer { return &Preparer{opts: opts, flat: NewFlattener()} }

// Prepare turns one record into an Event.
func (p *Preparer) Prepare(rec *logs.Record) *Event {
	if rec.Fields != nil {
		return p.prepare(rec.Fields)
	}
	ev := p.flat.Flatten(rec.Raw)
	if p.flat.Dup {
		p.dups++
		if m, err := rec.Map(); err == nil { // encoding/json keeps the last value
			return p.prepare(m)
		}
	}
	if p.opts.EventLog && (len(ev.Fields["Event.System.EventID"]) > 0 || len(ev.Fields["Event.System.EventID.#text"]) > 0) {
		// EventLog records pair Data names and values across objects:
		// they take the map path.
		if m, err := rec.Map(); err == nil {
			return p.prepare(m)
		}
	}
	return ev
}

func (p *Preparer) prepare(m map[string]any) *Event {
	ev, mapped := prepare(m, p.opts)
	if mapped {
		p.EventLog++
	}
	return ev
}

// Matches reports whether any condition entry of r matches ev.
func (r *Rule) Matches(ev *Event) bool {
	var v view
	r.eng.p.load(&v, ev)
	return r.matches(&v)
}

func (r *Rule) matches(v *view) bool {
	for _, c := range r.conds {
		if c.match(v) {
			return true
		}
	}
	return false
}

// Each calls fn for every rule that matches ev, in rule order. Each field
// the rules read is looked up once per event.
// Rules gated on a field value the event lacks are skipped.
func (e *Engine) Each(ev *Event, fn func(*Rule)) {
	e.p.load(&e.v, ev)
	if len(e.gates) == 0 {
		for _, r := range e.Rules {
			if r.matches(&e.v) {
				fn(r)
			}
		}
		return
	}
	cand := e.candidates()
	for i, r := range e.Rules {
		if cand[i] && r.matches(&e.v) {
			fn(r)
		}
	}
}
