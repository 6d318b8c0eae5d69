package eval

import (
	"github.com/sigc-project/sigc/compiler/ir"
)

// Rule is a planned rule: one matcher per condition entry.
type Rule struct {
	IR    *ir.Rule
	conds []matcher
}

// Engine holds planned rules.
type Engine struct {
	Rules []*Rule
}

// Options for input handling.
type Options struct {
	// EventLog adds the flat Windows EventLog field names to records that
	// look like exported EVTX JSON (on by default in the CLI).
	EventLog bool
}

// New plans every rule once.
func New(rules []*ir.Rule) (*Engine, error) {
	e := &Engine{}
	for _, r := range rules {
		pr := &Rule{IR: r}
		for _, c := range r.Conditions {
			m, err := plan(c)
			if err != nil {
				return nil, err
			}
			pr.conds = append(pr.conds, m)
		}
		e.Rules = append(e.Rules, pr)
	}
	return e, nil
}

// Prepare turns a decoded record into an Event.
func Prepare(m map[string]any, opts Options) *Event {
	ev := NewEvent(m)
	if opts.EventLog {
		FlattenEventLog(ev, m)
	}
	return ev
}

// Matches reports whether any condition entry of r matches ev.
func (r *Rule) Matches(ev *Event) bool {
	for _, c := range r.conds {
		if c.match(ev) {
			return true
		}
	}
	return false
}

// Each calls fn for every rule that matches ev, in rule order.
func (e *Engine) Each(ev *Event, fn func(*Rule)) {
	for _, r := range e.Rules {
		if r.Matches(ev) {
			fn(r)
		}
	}
}
