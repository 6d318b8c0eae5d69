// Package compiler turns the Sigma model into the IR: it parses conditions,
// applies modifiers (lowering the value-transforming ones into plain
// alternatives), runs processing pipelines and applies Sigma filters.
package compiler

import (
	"fmt"
	"path"
	"strings"

	"github.com/sigc-project/sigc/compiler/condition"
	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/compiler/pipeline"
	"github.com/sigc-project/sigc/diag"
	"github.com/sigc-project/sigc/sigma"
)

// Options configure compilation.
type Options struct {
	// Pipeline is the resolved processing pipeline (pipeline.Resolve of
	// every -p); nil applies none.
	Pipeline *pipeline.Pipeline
	// Unmapped says what happens to fields the pipeline does not rename.
	Unmapped Unmapped
}

// Unmapped is the policy for detection fields no field-name
// transformation of the pipeline renamed.
type Unmapped int

const (
	// AutoUnmapped lets the pipeline decide: a pipeline with a
	// strict_field_mapping_failure item refuses the rule, others keep
	// the field (pySigma).
	AutoUnmapped  Unmapped = iota
	KeepUnmapped           // the field stays as written
	DropUnmapped           // its items are dropped, with a warning
	ErrorUnmapped          // the rule is refused
)

// ParseUnmapped reads the --unmapped flag.
func ParseUnmapped(s string) (Unmapped, bool) {
	switch s {
	case "auto", "":
		return AutoUnmapped, true
	case "keep":
		return KeepUnmapped, true
	case "drop":
		return DropUnmapped, true
	case "error":
		return ErrorUnmapped, true
	}
	return 0, false
}

// Result is one compiled rule, or the diagnostics that stopped it.
type Result struct {
	Source *sigma.Rule
	Rule   *ir.Rule
	Diags  diag.List
	// Unmapped are the fields the pipeline did not rename (with a
	// pipeline only), whatever the policy did with them.
	Unmapped []string
	// Subject is the rule as the pipeline left it (state, marks, items),
	// for the pipeline's postprocessing.
	Subject *pipeline.Subject
}

// Compile compiles every rule of the collection, applying its filters.
// One bad rule does not stop the others.
func Compile(col *sigma.Collection, opts Options) []Result {
	out := make([]Result, 0, len(col.Rules))
	filters := make([]compiledFilter, len(col.Filters))
	for i, f := range col.Filters {
		filters[i] = compileFilter(f)
	}
	for _, r := range col.Rules {
		res := Result{Source: r}
		rule, diags := compileRule(r)
		res.Diags = diags
		if !diags.HasErrors() {
			for i, f := range col.Filters {
				if filterApplies(f, r) {
					res.Diags = append(res.Diags, filters[i].apply(rule, f)...)
				}
			}
		}
		if !res.Diags.HasErrors() {
			ds, unmapped, subject := finish(r, rule, opts)
			res.Diags = append(res.Diags, ds...)
			res.Unmapped = unmapped
			res.Subject = subject
		}
		if !res.Diags.HasErrors() {
			res.Rule = rule
		}
		out = append(out, res)
	}
	return out
}

// finish runs the pipeline pass over a rule whose conditions still hold
// detection items (filters included, so the pipeline maps their fields
// too, as pySigma does), then assembles the items into tests, bounds the
// result and simplifies it.
func finish(src *sigma.Rule, rule *ir.Rule, opts Options) (diag.List, []string, *pipeline.Subject) {
	subject := &pipeline.Subject{Rule: src, Logsource: &rule.Logsource, Conditions: rule.Conditions, Fields: src.Fields, Pos: src.Pos, Compile: compileItems,
		SkipStrict: opts.Unmapped != AutoUnmapped} // an explicit --unmapped overrides the pipeline's strictness
	diags := opts.Pipeline.Apply(subject)
	if diags.HasErrors() {
		return diags, nil, nil
	}
	var unmapped []string
	var at diag.Pos
	if opts.Pipeline != nil {
		unmapped, at = subject.Unmapped()
	}
	if len(unmapped) > 0 {
		list := strings.Join(unmapped, ", ")
		switch opts.Unmapped {
		case ErrorUnmapped:
			diags.Add(diag.Errorf(at, "the pipeline maps no field named %s (--unmapped error); map them, or pass --unmapped keep or drop", list))
			return diags, unmapped, nil
		case DropUnmapped:
			if it, ok := subject.DropFields(unmapped); !ok {
				diags.Add(diag.Errorf(it.Pos, "%s is tested under `not`, where dropping its test would make the query narrower than the rule (--unmapped drop); map it, or pass --unmapped keep", diag.Quote(it.Field)))
				return diags, unmapped, nil
			}
			diags.Add(diag.Warnf(at, "dropped the tests of %s, which the pipeline does not map (--unmapped drop); the query is broader than the rule", list))
		}
	}
	rule.Conditions = append([]ir.Expr(nil), subject.Conditions...) // the subject keeps its items
	rule.Custom = subject.Custom
	rule.Fields = subject.Fields
	for i, cond := range rule.Conditions {
		e, ds := opts.Pipeline.Assemble(cond)
		diags = append(diags, ds...)
		if ds.HasErrors() {
			return diags, unmapped, nil
		}
		if ir.Size(e, MaxExpandedSize) > MaxExpandedSize {
			diags.Add(diag.Errorf(cond.Position(), "condition expands to more than %d nodes (tests, and, or, not) once selections repeated by name or by `N of` are written out; simplify it", MaxExpandedSize))
			return diags, unmapped, nil
		}
		rule.Conditions[i] = ir.Simplify(e)
	}
	return diags, unmapped, subject
}

// UnusedFilters reports filters that named no loaded rule.
func UnusedFilters(col *sigma.Collection) diag.List {
	var out diag.List
	for _, f := range col.Filters {
		hit := false
		for _, r := range col.Rules {
			if filterApplies(f, r) {
				hit = true
			}
		}
		if !hit {
			out.Add(diag.Warnf(f.Pos, "filter %s applies to no loaded rule; check its `rules` list and logsource", diag.Quote(f.Title)))
		}
	}
	return out
}

// filterApplies follows the filter specification (and pySigma): the filter
// names the rule by id or name, or says `any` / `all` (an empty list too),
// and every logsource field the filter sets equals the rule's.
func filterApplies(f *sigma.Filter, r *sigma.Rule) bool {
	named := len(f.Rules) == 0
	for _, ref := range f.Rules {
		if strings.EqualFold(ref.Raw, "any") || strings.EqualFold(ref.Raw, "all") || (ref.Raw != "" && (ref.Raw == r.ID || ref.Raw == r.Name)) {
			named = true
		}
	}
	if !named {
		return false
	}
	ls := f.Logsource
	match := func(want, have string) bool { return want == "" || strings.EqualFold(want, have) }
	return match(ls.Category, r.Logsource.Category) && match(ls.Product, r.Logsource.Product) && match(ls.Service, r.Logsource.Service)
}

// compiledFilter is a filter's condition, compiled once for every rule it
// applies to.
type compiledFilter struct {
	cond     ir.Expr
	diags    diag.List
	reported *bool // its diagnostics were given with the first rule
}

func compileFilter(f *sigma.Filter) compiledFilter {
	c := &ruleCompiler{det: &f.Detection}
	conds := c.conditions()
	if len(f.Detection.Conditions) > 1 {
		c.errorf(f.Detection.Conditions[1].Pos, "a filter takes one condition string, not a list; join the conditions with `and` or `or`")
	}
	out := compiledFilter{diags: c.diags, reported: new(bool)}
	if !c.diags.HasErrors() && len(conds) == 1 {
		out.cond = conds[0]
	}
	return out
}

// apply ANDs the filter's condition, as written, to each of the rule's
// conditions: `(rule condition) and (filter condition)`, so an exclusion
// filter says `condition: not selection` (filter specification; pySigma
// sigma/filters.py does the same).
func (f compiledFilter) apply(rule *ir.Rule, src *sigma.Filter) diag.List {
	if f.cond == nil {
		if *f.reported {
			return diag.List{diag.Errorf(rule.Pos, "filter %s (%s) failed to compile, so this rule cannot be filtered; fix the filter", diag.Quote(src.Title), src.Pos)}
		}
		*f.reported = true
		return f.diags
	}
	for i, cond := range rule.Conditions {
		// Each rule gets its own copy of the filter's items: the pipeline
		// pass treats them as the rule's (logsource conditions included).
		rule.Conditions[i] = &ir.And{Node: ir.Node{Pos: cond.Position()}, Args: []ir.Expr{cond, pipeline.Clone(f.cond)}}
	}
	if *f.reported {
		return nil
	}
	*f.reported = true
	return f.diags // warnings
}

func compileRule(r *sigma.Rule) (*ir.Rule, diag.List) {
	c := &ruleCompiler{det: &r.Detection}
	conds := c.conditions()
	rule := &ir.Rule{
		ID: r.ID, Name: r.Name, Title: r.Title, Level: r.Level, Status: r.Status,
		Description: r.Description, Author: r.Author, Tags: r.Tags, File: r.File, Pos: r.Pos,
		Logsource:  ir.Logsource{Category: r.Logsource.Category, Product: r.Logsource.Product, Service: r.Logsource.Service},
		Conditions: conds,
	}
	return rule, c.diags
}

// compileItems compiles `field|modifiers: values` from a pipeline
// (add_condition) exactly as a rule's selection.
func compileItems(items []sigma.FieldItem) ([]*pipeline.Item, diag.List) {
	c := &ruleCompiler{}
	var out []*pipeline.Item
	for i := range items {
		if it := c.compileItem(&items[i]); it != nil {
			out = append(out, it)
		}
	}
	return out, c.diags
}

// MaxExpandedSize bounds a condition's tree once selections referenced
// several times are counted each time: what every backend renders and the
// evaluator plans.
const MaxExpandedSize = 1_000_000

type ruleCompiler struct {
	det   *sigma.Detection
	diags diag.List
	cache map[string]ir.Expr
}

func (c *ruleCompiler) errorf(p diag.Pos, format string, args ...any) {
	c.diags.Add(diag.Errorf(p, format, args...))
}

func (c *ruleCompiler) conditions() []ir.Expr {
	var out []ir.Expr
	for _, cond := range c.det.Conditions {
		ast, err := condition.Parse(cond.Text)
		if err != nil {
			pe := err.(*condition.Error)
			c.errorf(cond.Pos.Shift(pe.Pos.Line, pe.Pos.Column), "%s", pe.Msg)
			continue
		}
		e := c.condExpr(ast, cond.Pos)
		if e == nil {
			continue
		}
		if ir.Size(e, MaxExpandedSize) > MaxExpandedSize { // items count one each: checked again once assembled
			c.errorf(cond.Pos, "condition expands to more than %d nodes (tests, and, or, not) once selections repeated by name or by `N of` are written out; simplify it", MaxExpandedSize)
			continue
		}
		out = append(out, e)
	}
	// Compile selections the condition does not use too: their errors matter.
	for _, s := range c.det.Searches {
		c.search(s)
	}
	return out
}

func (c *ruleCompiler) condExpr(e condition.Expr, base diag.Pos) ir.Expr {
	p := e.Position()
	pos := base.Shift(p.Line, p.Column)
	node := ir.Node{Pos: pos}
	switch n := e.(type) {
	case *condition.Binary:
		args := make([]ir.Expr, 0, len(n.Args))
		for _, a := range n.Args {
			x := c.condExpr(a, base)
			if x == nil {
				return nil
			}
			args = append(args, x)
		}
		if n.Op == "and" {
			return &ir.And{Node: node, Args: args}
		}
		return &ir.Or{Node: node, Args: args}
	case *condition.Not:
		x := c.condExpr(n.Arg, base)
		if x == nil {
			return nil
		}
		return &ir.Not{Node: node, Arg: x}
	case *condition.Ident:
		s := c.det.Lookup(n.Name)
		if s == nil {
			c.errorf(pos, "condition names %s, which is not defined in the detection; define it or fix the name%s", diag.Quote(n.Name), c.nameHint(n.Name))
			return nil
		}
		return c.search(s)
	case *condition.Quantifier:
		var names []string
		for _, s := range c.det.Searches {
			if n.Pattern == "them" {
				if !strings.HasPrefix(s.Name, "_") {
					names = append(names, s.Name)
				}
			} else if ok, _ := path.Match(globToPath(n.Pattern), s.Name); ok {
				names = append(names, s.Name)
			}
		}
		if len(names) == 0 {
			c.errorf(pos, "%s matches no selection of the detection", diag.Quote(n.Pattern))
			return nil
		}
		args := make([]ir.Expr, 0, len(names))
		for _, name := range names {
			x := c.search(c.det.Lookup(name))
			if x == nil {
				return nil
			}
			args = append(args, x)
		}
		switch {
		case n.All:
			return &ir.And{Node: node, Args: args}
		case n.Count <= 1:
			return &ir.Or{Node: node, Args: args}
		case n.Count > len(args):
			c.diags.Add(diag.Warnf(pos, "%d of %s can never match: only %d selections match the pattern", n.Count, diag.Quote(n.Pattern), len(args)))
			return &ir.Const{Node: node, Value: false}
		default:
			if binomial(len(args), n.Count, maxCombinations) > maxCombinations {
				c.errorf(pos, "%d of %s over %d selections expands to more than %d combinations; restructure the condition", n.Count, diag.Quote(n.Pattern), len(args), maxCombinations)
				return nil
			}
			combos := combinations(args, n.Count)
			var alts []ir.Expr
			for _, cmb := range combos {
				alts = append(alts, &ir.And{Node: node, Args: cmb})
			}
			return &ir.Or{Node: node, Args: alts}
		}
	}
	panic(fmt.Sprintf("compiler: unknown condition node %T", e))
}

func (c *ruleCompiler) nameHint(name string) string {
	best, bestD := "", 3
	for _, s := range c.det.Searches {
		if d := editDistance(name, s.Name); d < bestD {
			best, bestD = s.Name, d
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %s?)", diag.Quote(best))
	}
	return ""
}

// globToPath escapes path.Match metacharacters other than `*`.
func globToPath(p string) string {
	r := strings.NewReplacer("?", `\?`, "[", `\[`, `\`, `\\`)
	return r.Replace(p)
}

// maxCombinations bounds the expansion of `N of pattern` into an OR of
// ANDs.
const maxCombinations = 4096

// binomial is n choose k, or limit+1 once it exceeds limit.
func binomial(n, k, limit int) int {
	k = min(k, n-k)
	r := 1
	for i := 1; i <= k; i++ {
		r = r * (n - k + i) / i // exact: r is C(n-k+i, i) after each step
		if r > limit {
			return limit + 1
		}
	}
	return r
}

// combinations lists the k-element subsets of args in order; it visits
// only prefixes that can still be completed, so its work is proportional
// to its output.
func combinations(args []ir.Expr, k int) [][]ir.Expr {
	var out [][]ir.Expr
	var rec func(start int, cur []ir.Expr)
	rec = func(start int, cur []ir.Expr) {
		if len(cur) == k {
			out = append(out, append([]ir.Expr(nil), cur...))
			return
		}
		for i := start; i <= len(args)-(k-len(cur)); i++ {
			rec(i+1, append(cur, args[i]))
		}
	}
	rec(0, nil)
	return out
}

// search compiles a named selection once.
func (c *ruleCompiler) search(s *sigma.Search) ir.Expr {
	if c.cache == nil {
		c.cache = map[string]ir.Expr{}
	}
	if e, ok := c.cache[s.Name]; ok {
		return e
	}
	var alts []ir.Expr
	failed := false
	for i := range s.Alts {
		a := &s.Alts[i]
		if a.Keyword != nil {
			it := sigma.FieldItem{Pos: a.Keyword.Pos, Values: []sigma.Value{*a.Keyword}}
			if e := c.compileItem(&it); e != nil {
				alts = append(alts, ir.Expr(e))
			} else {
				failed = true
			}
			continue
		}
		var items []ir.Expr
		for j := range a.Items {
			e := c.compileItem(&a.Items[j])
			if e == nil {
				failed = true
				continue
			}
			items = append(items, ir.Expr(e))
		}
		if len(a.Items) == 0 {
			c.errorf(a.Pos, "selection %s has an empty map; give it field: value pairs", diag.Quote(s.Name))
			failed = true
		}
		alts = append(alts, &ir.And{Node: ir.Node{Pos: a.Pos}, Args: items})
	}
	var e ir.Expr
	if !failed {
		e = &ir.Or{Node: ir.Node{Pos: s.Pos}, Args: alts}
	}
	c.cache[s.Name] = e
	return e
}
