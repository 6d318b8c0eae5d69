package sumocheck

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/sigc-project/sigc/backends/text"
	"github.com/sigc-project/sigc/compiler/ir"
)

// RunPipeline executes a correlation search over events with the semantics
// of the Sumo Logic operators it uses and returns the rows it outputs. Each
// event must carry _messagetime in epoch milliseconds. pct() is computed
// exactly: this checks the search's logic, not Sumo's estimators.
func RunPipeline(src string, events []*Event) ([]*Event, error) {
	stages := joinFilter(strings.Split(src, "\n| "))
	first, err := Parse(stages[0] + "\n| " + stages[1])
	if err != nil {
		return nil, err
	}
	var rows []*Event
	for _, ev := range events {
		if first.Match(ev) {
			rows = append(rows, copyEvent(first.Extract(ev)))
		}
	}
	for _, s := range stages[2:] {
		if rows, err = runStage(s, rows); err != nil {
			return nil, fmt.Errorf("%q: %v", s, err)
		}
	}
	return rows, nil
}

func set(ev *Event, k, v string) { ev.Fields[k] = []string{v} }

func firstOf(vs []string) (string, bool) {
	if len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

func num(s string, ok bool) (float64, bool) {
	if !ok {
		return 0, false
	}
	f, err := text.ParseDecimal(s)
	return f, err == nil
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func runStage(s string, rows []*Event) ([]*Event, error) {
	switch {
	case whereRE.MatchString(s):
		q, err := Parse("* | " + s)
		if err != nil {
			return nil, err
		}
		var out []*Event
		for _, ev := range rows {
			if q.Match(ev) {
				out = append(out, ev)
			}
		}
		return out, nil
	case sortRE.MatchString(s):
		m := sortRE.FindStringSubmatch(s)
		sort.SliceStable(rows, func(i, j int) bool {
			a, _ := num(firstOf(rows[i].Fields[m[1]]))
			b, _ := num(firstOf(rows[j].Fields[m[1]]))
			if m[2] == "desc" {
				return a > b
			}
			return a < b
		})
		return rows, nil
	case withtimeRE.MatchString(s):
		f := withtimeRE.FindStringSubmatch(s)[1]
		for _, ev := range rows {
			if v, ok := firstOf(ev.Fields[f]); ok {
				t, _ := firstOf(ev.Fields["_messagetime"])
				ev.Fields[f+"_withtime"] = []string{t, v}
			}
		}
		return rows, nil
	case diffRE.MatchString(s):
		m := diffRE.FindStringSubmatch(s)
		by := strings.Split(m[3], ", ")
		last := map[string]float64{}
		for _, ev := range rows {
			var key []string
			for _, b := range by {
				v, _ := firstOf(ev.Fields[b])
				key = append(key, v)
			}
			k := strings.Join(key, "\x00")
			cur, ok := num(firstOf(ev.Fields[m[1]]))
			if !ok {
				continue
			}
			if prev, seen := last[k]; seen {
				set(ev, m[2], fmtNum(cur-prev))
			}
			last[k] = cur
		}
		return rows, nil
	case aggRE.MatchString(s):
		st, err := parseAgg(s)
		if err != nil {
			return nil, err
		}
		return aggregate(st, rows), nil
	}
	st, err := calcParser.ParseString("", s)
	if err != nil {
		return nil, err
	}
	for _, ev := range rows {
		if v, ok := calc(st.Expr, ev); ok {
			set(ev, st.Name, v)
		} else {
			delete(ev.Fields, st.Name)
		}
	}
	return rows, nil
}

// calc evaluates an expression; ok is false for a missing or non-numeric
// operand of arithmetic, or a division by zero (the field stays unset).
func calc(a *arith, ev *Event) (string, bool) {
	v, ok := calcTerm(a.Left, ev)
	if len(a.Rest) == 0 {
		return v, ok
	}
	vals := []string{v}
	oks := []bool{ok}
	var ops []string
	for _, r := range a.Rest {
		w, ok2 := calcTerm(r.R, ev)
		vals, oks, ops = append(vals, w), append(oks, ok2), append(ops, r.Op)
	}
	nums := make([]float64, len(vals))
	for i := range vals {
		f, isNum := num(vals[i], oks[i])
		if !isNum {
			return "", false
		}
		nums[i] = f
	}
	f, ok := text.Arithmetic(nums, ops)
	return fmtNum(f), ok
}

func calcTerm(t *term, ev *Event) (string, bool) {
	switch {
	case t.Number != nil:
		return *t.Number, true
	case t.String != nil:
		s, err := unquote(*t.String)
		return s, err == nil
	case t.Group != nil:
		return calc(t.Group, ev)
	case t.If != nil:
		if (&Query{q: &query{Or: t.If.Cond}}).Match(ev) {
			return calc(t.If.Then, ev)
		}
		return calc(t.If.Else, ev)
	case t.Call != nil:
		v, ok := calc(t.Call.Arg, ev)
		switch t.Call.Name {
		case "toLowerCase":
			return strings.ToLower(v), ok
		case "num":
			f, ok := num(v, ok)
			return fmtNum(f), ok
		case "floor", "sqrt":
			f, ok := num(v, ok)
			if t.Call.Name == "floor" {
				return fmtNum(math.Floor(f)), ok
			}
			return fmtNum(math.Sqrt(f)), ok
		}
	case t.Ident != nil:
		return firstOf(ev.Fields[*t.Ident])
	}
	return "", false
}

// aggregate groups rows by the `by` fields (rows lacking one are dropped).
func aggregate(st *aggStage, rows []*Event) []*Event {
	maps := make([]map[string][]string, len(rows))
	for i, r := range rows {
		maps[i] = r.Fields
	}
	keys, members := text.GroupRows(maps, st.By)
	var out []*Event
	for g, key := range keys {
		evs := make([]*Event, len(members[g]))
		for i, m := range members[g] {
			evs[i] = rows[m]
		}
		row := &Event{Fields: map[string][]string{}}
		for i, v := range key {
			set(row, st.By[i], v)
		}
		for _, a := range st.Aggs {
			aggOne(a, evs, row)
		}
		out = append(out, row)
	}
	return out
}

func aggOne(a *agg, evs []*Event, row *Event) {
	if a.Count && a.Arg == "" {
		set(row, a.As, strconv.Itoa(len(evs)))
		return
	}
	var nums []float64
	seen := map[string]bool{}
	var vals []string
	n := 0
	for _, ev := range evs {
		v, ok := firstOf(ev.Fields[a.Arg])
		if !ok {
			continue
		}
		n++
		if !seen[v] {
			seen[v] = true
			vals = append(vals, v)
		}
		if f, ok := num(v, true); ok {
			nums = append(nums, f)
		}
	}
	switch {
	case a.Count:
		set(row, a.As, strconv.Itoa(n))
	case a.Fn == "count_distinct":
		set(row, a.As, strconv.Itoa(len(seen)))
	case a.Fn == "values":
		if len(vals) > 0 {
			sort.Strings(vals)
			set(row, a.As, strings.Join(vals, "\n"))
		}
	case a.Fn == "least_recent" || a.Fn == "most_recent":
		var best []string
		var bestT float64
		for _, ev := range evs {
			wt := ev.Fields[a.Arg]
			if len(wt) != 2 {
				continue
			}
			t, _ := num(wt[0], true)
			if best == nil || (a.Fn == "least_recent" && t < bestT) || (a.Fn == "most_recent" && t >= bestT) {
				best, bestT = wt, t
			}
		}
		if best != nil {
			set(row, a.As, best[1])
		}
	case len(nums) == 0:
	case a.Fn == "pct":
		p, _ := text.ParseDecimal(*a.P)
		set(row, a.As, fmtNum(ir.Percentile(nums, p)))
	default:
		set(row, a.As, fmtNum(text.Summary(a.Fn, nums)))
	}
}
