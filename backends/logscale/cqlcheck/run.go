package cqlcheck

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/sigc-project/sigc/backends/text"
	"github.com/sigc-project/sigc/compiler/ir"
)

// RunPipeline executes a correlation query over events, with the semantics
// its functions have in the LogScale documentation, and returns the rows it
// outputs. Each event must carry @timestamp in epoch milliseconds. Where the
// engine only estimates (percentile()), the exact value is computed: this
// checks the query's logic, not LogScale's estimators.
func RunPipeline(src string, events []*Event) ([]*Event, error) {
	stages := strings.Split(src, "\n| ")
	first, err := Parse(stages[0])
	if err != nil {
		return nil, err
	}
	var rows []*Event
	for _, ev := range events {
		if first.Match(ev) {
			rows = append(rows, copyEvent(ev))
		}
	}
	for _, s := range stages[1:] {
		st, err := stageParser.ParseString("", s)
		if err != nil {
			return nil, fmt.Errorf("%q: %v", s, err)
		}
		if rows, err = runStage(st, rows); err != nil {
			return nil, fmt.Errorf("%q: %v", s, err)
		}
	}
	return rows, nil
}

func copyEvent(ev *Event) *Event {
	m := make(map[string][]string, len(ev.Fields))
	for k, v := range ev.Fields {
		m[k] = v
	}
	return &Event{Fields: m, Raw: ev.Raw}
}

func set(ev *Event, k, v string) { ev.Fields[k] = []string{v} }

func num(s string, ok bool) (float64, bool) {
	if !ok {
		return 0, false
	}
	f, err := text.ParseDecimal(s)
	return f, err == nil
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// assignValue evaluates the right side of `:=`; ok is false when an
// operand is missing or not a number (the field is then left unset).
func assignValue(a *arith, ev *Event) (string, bool) {
	if len(a.Rest) == 0 && a.Left.Call != nil && a.Left.Call.Name == "format" {
		c := a.Left.Call
		pattern := argValue(c, "format")
		for _, f := range arrayOf(c, "field") {
			v := ""
			if vs := ev.Fields[f]; len(vs) > 0 {
				v = vs[0]
			}
			pattern = strings.Replace(pattern, "%s", v, 1)
		}
		return pattern, true
	}
	if len(a.Rest) == 0 && a.Left.String != nil {
		s, err := unquote(*a.Left.String)
		return s, err == nil
	}
	if copied := copiedField(a); copied != "" {
		vs := ev.Fields[copied]
		if len(vs) == 0 {
			return "", false
		}
		return vs[0], true // a copy keeps text as it is
	}
	for _, n := range arithNames(a) {
		if len(ev.Fields[n]) == 0 {
			return "", false
		}
	}
	v, ok := arithValue(a, ev)
	if _, isNum := num(v, ok); !isNum {
		return "", false
	}
	return v, true
}

// copiedField is the field an assignment copies as it is (x := f or
// x := getField("f")), or "".
func copiedField(a *arith) string {
	if len(a.Rest) > 0 {
		return ""
	}
	switch t := a.Left; {
	case t.Ident != nil:
		return *t.Ident
	case t.Call != nil && t.Call.Name == "getField" && len(t.Call.Args) == 1:
		return t.Call.Args[0].Value.name()
	}
	return ""
}

func runStage(st *stage, rows []*Event) ([]*Event, error) {
	switch {
	case st.Case != nil:
		var out []*Event
		for _, ev := range rows {
			for _, b := range st.Case.Branches {
				if b.Filter != nil && !(&Query{q: &query{Or: b.Filter}}).Match(ev) {
					continue
				}
				for _, a := range b.Steps {
					if v, ok := assignValue(a.Expr, ev); ok {
						set(ev, a.Name, v)
					} else {
						delete(ev.Fields, a.Name)
					}
				}
				out = append(out, ev)
				break
			}
		}
		return out, nil
	case st.Assign != nil:
		for _, ev := range rows {
			if v, ok := assignValue(st.Assign.Expr, ev); ok {
				set(ev, st.Assign.Name, v)
			} else {
				delete(ev.Fields, st.Assign.Name)
			}
		}
		return rows, nil
	case st.Filter != nil:
		q := &Query{q: &query{Or: st.Filter}}
		var out []*Event
		for _, ev := range rows {
			if q.Match(ev) {
				out = append(out, ev)
			}
		}
		return out, nil
	}
	c := st.Call
	switch c.Name {
	case "math:floor", "math:sqrt":
		for _, ev := range rows {
			vs := ev.Fields[firstArg(c)]
			if f, ok := num(firstOf(vs)); ok {
				if c.Name == "math:floor" {
					f = math.Floor(f)
				} else {
					f = math.Sqrt(f)
				}
				set(ev, argValue(c, "as"), fmtNum(f))
			}
		}
		return rows, nil
	case "sort":
		// field, order and type are one value or arrays of them.
		fields, orders, types := arrayOf(c, "field"), arrayOf(c, "order"), arrayOf(c, "type")
		if len(fields) == 0 {
			fields, orders, types = []string{argValue(c, "field")}, []string{argValue(c, "order")}, []string{argValue(c, "type")}
		}
		less := func(a, b *Event) int {
			for k, f := range fields {
				x, _ := firstOf(a.Fields[f])
				y, _ := firstOf(b.Fields[f])
				cmp := strings.Compare(x, y)
				if k >= len(types) || types[k] != "string" {
					fx, _ := num(x, true)
					fy, _ := num(y, true)
					cmp = 0
					if fx < fy {
						cmp = -1
					} else if fx > fy {
						cmp = 1
					}
				}
				if k < len(orders) && orders[k] == "desc" {
					cmp = -cmp
				}
				if cmp != 0 {
					return cmp
				}
			}
			return 0
		}
		sort.SliceStable(rows, func(i, j int) bool { return less(rows[i], rows[j]) < 0 })
		return rows, nil
	case "neighbor":
		prefix := argValue(c, "prefix")
		include := arrayOf(c, "include")
		prev := make([]map[string][]string, len(rows))
		for i, ev := range rows {
			prev[i] = map[string][]string{}
			for _, f := range include {
				prev[i][f] = ev.Fields[f]
			}
		}
		for i := 1; i < len(rows); i++ {
			for _, f := range include {
				if v := prev[i-1][f]; len(v) > 0 {
					rows[i].Fields[prefix+"."+f] = v
				}
			}
		}
		return rows, nil
	case "groupBy":
		return groupBy(c, rows)
	}
	return nil, fmt.Errorf("cannot run %s()", c.Name)
}

func firstOf(vs []string) (string, bool) {
	if len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// groupBy groups rows by the first value of each field (rows lacking one are
// dropped) and computes the aggregate functions.
func groupBy(c *call, rows []*Event) ([]*Event, error) {
	var fields []string
	var funcs []*call
	for _, a := range c.Args {
		switch a.Name {
		case "", "field":
			for _, v := range a.Value.Array {
				fields = append(fields, v.name())
			}
		case "function":
			for _, v := range a.Value.Array {
				funcs = append(funcs, v.Call)
			}
		}
	}
	maps := make([]map[string][]string, len(rows))
	for i, r := range rows {
		maps[i] = r.Fields
	}
	keys, members := text.GroupRows(maps, fields)
	var out []*Event
	for g, key := range keys {
		evs := make([]*Event, len(members[g]))
		for i, m := range members[g] {
			evs[i] = rows[m]
		}
		row := &Event{Fields: map[string][]string{}}
		for i, v := range key {
			set(row, fields[i], v)
		}
		for _, fn := range funcs {
			if err := aggregate(fn, evs, row); err != nil {
				return nil, err
			}
		}
		out = append(out, row)
	}
	return out, nil
}

func aggregate(fn *call, evs []*Event, row *Event) error {
	as := argValue(fn, "as")
	field := firstArg(fn)
	var nums []float64
	for _, ev := range evs {
		if f, ok := num(firstOf(ev.Fields[field])); ok {
			nums = append(nums, f)
		}
	}
	switch fn.Name {
	case "count":
		if field == "" {
			set(row, as, strconv.Itoa(len(evs)))
			return nil
		}
		distinct := argValue(fn, "distinct") == "true"
		seen := map[string]bool{}
		n := 0
		for _, ev := range evs {
			if v, ok := firstOf(ev.Fields[field]); ok {
				n++
				seen[v] = true
			}
		}
		if distinct {
			n = len(seen)
		}
		set(row, as, strconv.Itoa(n))
	case "sum", "avg", "min", "max":
		if len(nums) == 0 {
			return nil
		}
		set(row, as, fmtNum(text.Summary(fn.Name, nums)))
	case "percentile":
		if len(nums) == 0 {
			return nil
		}
		for _, p := range arrayOf(fn, "percentiles") {
			pf, _ := text.ParseDecimal(p)
			set(row, as+"_"+p, fmtNum(ir.Percentile(nums, pf)))
		}
	case "selectFromMin", "selectFromMax":
		inc := arrayOf(fn, "include")
		var best *Event
		var bestT float64
		for _, ev := range evs {
			if len(ev.Fields[inc[0]]) == 0 {
				continue
			}
			t, _ := num(firstOf(ev.Fields["@timestamp"]))
			if best == nil || (fn.Name == "selectFromMin" && t < bestT) || (fn.Name == "selectFromMax" && t >= bestT) {
				best, bestT = ev, t
			}
		}
		if best != nil {
			for _, f := range inc {
				if vs := best.Fields[f]; len(vs) > 0 {
					row.Fields[f] = vs
				}
			}
		}
	case "collect":
		f := arrayOf(fn, "")[0]
		seen := map[string]bool{}
		var vals []string
		for _, ev := range evs {
			if v, ok := firstOf(ev.Fields[f]); ok && !seen[v] {
				seen[v] = true
				vals = append(vals, v)
			}
		}
		if len(vals) > 0 {
			sort.Strings(vals)
			set(row, f, strings.Join(vals, "\n"))
		}
	default:
		return fmt.Errorf("cannot run aggregate %s()", fn.Name)
	}
	return nil
}
