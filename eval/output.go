package eval

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/sigc-project/sigc/compiler/ir"
)

// FiringLine is the JSON line `sigc eval` writes for a correlation firing.
type FiringLine struct {
	RuleID      string         `json:"rule_id"`
	Title       string         `json:"title"`
	Group       map[string]any `json:"group"`
	Aggregates  map[string]any `json:"aggregates"`
	WindowStart string         `json:"window_start"`
	WindowEnd   string         `json:"window_end"`
	FirstSeen   string         `json:"first_seen"`
	LastSeen    string         `json:"last_seen"`
	Events      int            `json:"events"`
}

// RuleID is the id a rule or correlation is reported under (its name when
// it has no id).
func RuleID(id, name string) string {
	if id != "" {
		return id
	}
	return name
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// JSON renders the firing as its output line.
func (f *Firing) JSON() []byte {
	fl := FiringLine{RuleID: RuleID(f.Correlation.ID, f.Correlation.Name), Title: f.Correlation.Title,
		Group: map[string]any{}, Aggregates: map[string]any{},
		WindowStart: stamp(f.WindowStart), WindowEnd: stamp(f.WindowEnd), FirstSeen: stamp(f.FirstSeen), LastSeen: stamp(f.LastSeen), Events: f.Events}
	for _, g := range f.Group {
		fl.Group[g.Field] = g.Value
	}
	for _, a := range f.Aggregates {
		fl.Aggregates[a.Name] = a.Value
	}
	return MarshalLine(fl)
}

// MarshalLine writes v as one JSON line without HTML escaping: output is
// read by people and tools, not embedded in HTML, so <stdin> stays <stdin>.
func MarshalLine(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// Suppressed lists the rules and correlations whose own results are not
// reported: those referenced by correlations, unless one of them sets
// `generate: true` (Sigma correlation specification).
func Suppressed(corrs []*ir.Correlation) (rules map[*ir.Rule]bool, inner map[*ir.Correlation]bool) {
	rules, inner = map[*ir.Rule]bool{}, map[*ir.Correlation]bool{}
	keepR, keepC := map[*ir.Rule]bool{}, map[*ir.Correlation]bool{}
	for _, c := range corrs {
		for _, in := range c.Inputs {
			if in.Rule != nil {
				rules[in.Rule] = true
				keepR[in.Rule] = keepR[in.Rule] || c.Generate
			} else {
				inner[in.Correlation] = true
				keepC[in.Correlation] = keepC[in.Correlation] || c.Generate
			}
		}
	}
	for r, keep := range keepR {
		if keep {
			delete(rules, r)
		}
	}
	for c, keep := range keepC {
		if keep {
			delete(inner, c)
		}
	}
	return rules, inner
}
