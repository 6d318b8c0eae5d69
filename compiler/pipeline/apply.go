package pipeline

import (
	"sort"
	"strings"

	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/diag"
	"github.com/sigc-project/sigc/sigma"
)

// Subject is one rule as the passes see it: its metadata and its
// conditions with detection items still in place. Correlation is set (and
// Rule nil) for a correlation rule.
type Subject struct {
	Rule        *sigma.Rule
	Correlation *sigma.Correlation
	// Refs are the logsources of the rules a correlation refers to (the
	// `logsource` condition matches a correlation through them).
	Refs       []ir.Logsource
	Logsource  *ir.Logsource
	Conditions []ir.Expr
	Fields     []string
	Custom     map[string]string
	// CorrFields are the fields a correlation names (group-by, aliases,
	// value field); field-name transformations rename them in place.
	CorrFields []*CorrField
	// Pos is where errors about the rule as a whole point.
	Pos diag.Pos
	// SkipStrict turns strict_field_mapping_failure items off (the user
	// chose what happens to unmapped fields).
	SkipStrict bool
	// Compile turns `field|modifiers: values` into items (add_condition);
	// the compiler provides it, so modifiers mean what they mean in rules.
	Compile func([]sigma.FieldItem) ([]*Item, diag.List)

	applied      map[string]bool
	fieldApplied map[string]map[string]bool // field name -> ids that renamed it
	state        map[string]string
	mapped       map[string]bool // fields a mapping renamed (from or to)
	mappingRan   bool            // a field-name transformation applied to the rule
	warnings     diag.List
}

// meta is the metadata of the rule or correlation (nil for neither).
func (s *Subject) meta() *sigma.Meta {
	switch {
	case s.Rule != nil:
		return &s.Rule.Meta
	case s.Correlation != nil:
		return &s.Correlation.Meta
	}
	return nil
}

// metaField reads a metadata attribute by pySigma's name; known is false
// for a name that is not one.
func metaField(m *sigma.Meta, name string) (v string, known bool) {
	switch name {
	case "title":
		return m.Title, true
	case "id":
		return m.ID, true
	case "name":
		return m.Name, true
	case "status":
		return m.Status, true
	case "description":
		return m.Description, true
	case "author":
		return m.Author, true
	case "date":
		return m.Date, true
	case "modified":
		return m.Modified, true
	case "level":
		return m.Level, true
	}
	return "", false
}

// attribute is a rule attribute by pySigma's name, for `rule_attribute`:
// a metadata attribute that is set (title and description always are), or
// a custom attribute.
func (s *Subject) attribute(name string) (string, bool) {
	if m := s.meta(); m != nil {
		if v, known := metaField(m, name); known {
			return v, v != "" || name == "title" || name == "description"
		}
	}
	v, ok := s.Custom[name]
	return v, ok
}

// listAttribute is a list attribute of the rule (tags, references,
// falsepositives, fields).
func (s *Subject) listAttribute(name string) []string {
	switch name {
	case "tags":
		return s.tags()
	case "fields":
		return s.Fields
	}
	if s.Rule != nil {
		switch name {
		case "references":
			return s.Rule.References
		case "falsepositives":
			return s.Rule.Falsepositives
		}
	}
	return nil
}

func (s *Subject) tags() []string {
	if m := s.meta(); m != nil {
		return m.Tags
	}
	return nil
}

func (s *Subject) init() {
	s.applied = map[string]bool{}
	s.fieldApplied = map[string]map[string]bool{}
	s.state = map[string]string{}
	s.mapped = map[string]bool{}
	if s.Custom == nil {
		s.Custom = map[string]string{}
	}
	if s.Logsource == nil {
		s.Logsource = &ir.Logsource{}
	}
}

// Apply runs every processing item over the subject in order, each seeing
// what the ones before it did (renamed fields, added conditions, the new
// logsource, state). A nil pipeline applies nothing.
func (p *Pipeline) Apply(s *Subject) diag.List {
	s.init()
	if p == nil {
		return nil
	}
	var diags diag.List
	for _, pi := range p.Items {
		if d := pi.run(p, s); d != nil {
			diags.Add(d)
			return diags
		}
	}
	return append(diags, s.warnings...)
}

// run applies one processing item when its rule conditions hold.
func (pi *ProcessingItem) run(p *Pipeline, s *Subject) *diag.Diagnostic {
	if !pi.rule.evalRule(func(c any) bool { return c.(ruleCond).rule(s) }) {
		return nil
	}
	if pi.ID != "" {
		s.applied[pi.ID] = true
	}
	return pi.t.apply(&ctx{p: p, s: s, pi: pi})
}

// evalRule: with no rule conditions the item applies, `rule_cond_not`
// or not (pySigma).
func (g *condGroup) evalRule(match func(any) bool) bool {
	if !g.set {
		return true
	}
	return g.eval(match)
}

// ctx is what a transformation works with.
type ctx struct {
	p  *Pipeline
	s  *Subject
	pi *ProcessingItem
}

func (c *ctx) errorf(pos diag.Pos, format string, args ...any) *diag.Diagnostic {
	if pos.File == "" {
		pos = c.s.Pos
	}
	d := diag.Errorf(pos, format, args...)
	d.Msg += " (pipeline " + c.pi.describe() + ")"
	return d
}

func (pi *ProcessingItem) describe() string {
	what := pi.Type
	if pi.ID != "" {
		what = pi.ID
	}
	return diag.Quote(what) + " at " + pi.Pos.String()
}

// itemMatches applies the item's detection-item and field-name conditions
// to one detection item (both must hold; an empty group negated holds for
// no item, as in pySigma).
func (c *ctx) itemMatches(it *Item) bool {
	g := &c.pi.item
	di := true
	if g.set {
		di = g.eval(func(x any) bool { return x.(itemCond).item(c.s, it) })
	} else if g.not {
		di = false
	}
	return di && c.fieldMatchesItem(it)
}

// fieldMatchesItem tests the field-name conditions on the item's field or
// on any field a fieldref value names.
func (c *ctx) fieldMatchesItem(it *Item) bool {
	g := &c.pi.field
	if !g.set {
		return !g.not
	}
	return g.eval(func(x any) bool {
		if a, ok := x.(*appliedCond); ok {
			return it.applied[a.id]
		}
		fc := x.(fieldCond)
		if fc.field(c.s, it.Field) {
			return true
		}
		for _, v := range it.Values {
			for _, a := range v.Alts {
				if r, ok := a.(*ir.FieldRef); ok && fc.field(c.s, r.Other) {
					return true
				}
			}
		}
		return false
	})
}

// fieldMatches tests the field-name conditions on a bare name.
func (c *ctx) fieldMatches(name string) bool {
	g := &c.pi.field
	if !g.set {
		return !g.not
	}
	return g.eval(func(x any) bool { return x.(fieldCond).field(c.s, name) })
}

// eachItem replaces every detection item the conditions select by fn's
// result (nil keeps it), marking what changed with the item's id. Each
// distinct item is visited once, in written order.
func (c *ctx) eachItem(fn func(it *Item) (ir.Expr, *diag.Diagnostic)) *diag.Diagnostic {
	if c.s.Rule == nil {
		return nil // detection-item transformations do not touch correlations
	}
	var failed *diag.Diagnostic
	memo := map[ir.Expr]ir.Expr{}
	for i, cond := range c.s.Conditions {
		c.s.Conditions[i] = rewriteWith(cond, memo, func(it *Item) ir.Expr {
			if failed != nil || it == nil || !c.itemMatches(it) {
				return it
			}
			out, d := fn(it)
			if d != nil {
				failed = d
				return it
			}
			if out == nil {
				return it
			}
			c.mark(out)
			return out
		})
	}
	return failed
}

// mark records the processing item on every item of a replacement.
func (c *ctx) mark(e ir.Expr) {
	if c.pi.ID == "" {
		return
	}
	for _, it := range Items(e) {
		if it.applied == nil {
			it.applied = map[string]bool{}
		}
		it.applied[c.pi.ID] = true
	}
}

// rewriteWith is Rewrite with a memo shared across several trees.
func rewriteWith(e ir.Expr, memo map[ir.Expr]ir.Expr, fn func(*Item) ir.Expr) ir.Expr {
	if out, ok := memo[e]; ok {
		return out
	}
	var out ir.Expr
	switch n := e.(type) {
	case *Item:
		out = fn(n)
	case *ir.And:
		args := make([]ir.Expr, len(n.Args))
		for i, a := range n.Args {
			args[i] = rewriteWith(a, memo, fn)
		}
		out = &ir.And{Node: n.Node, Args: args}
	case *ir.Or:
		args := make([]ir.Expr, len(n.Args))
		for i, a := range n.Args {
			args[i] = rewriteWith(a, memo, fn)
		}
		out = &ir.Or{Node: n.Node, Args: args}
	case *ir.Not:
		out = &ir.Not{Node: n.Node, Arg: rewriteWith(n.Arg, memo, fn)}
	default:
		out = e
	}
	memo[e] = out
	return out
}

// dropped stands for a detection item a pipeline removed: Assemble leaves
// it out of its parent, as pySigma drops an emptied detection.
type dropped struct{ ir.Node }

// Assemble lowers the items of a processed condition into the IR's tests.
// Placeholders no transformation resolved take the pipeline's `vars`
// (pySigma would refuse them; sigc resolves them, as `expand` always did).
func (p *Pipeline) Assemble(e ir.Expr) (ir.Expr, diag.List) {
	var diags diag.List
	memo := map[ir.Expr]ir.Expr{}
	var walk func(ir.Expr) ir.Expr
	walk = func(e ir.Expr) ir.Expr {
		if out, ok := memo[e]; ok {
			return out
		}
		var out ir.Expr
		switch n := e.(type) {
		case *Item:
			if d := p.resolveLeftovers(n); d != nil {
				diags.Add(d)
				out = n.lower()
			} else {
				out = n.lower()
			}
		case *dropped:
			out = nil
		case *ir.And:
			args := walkKeep(n.Args, walk)
			out = join(args, func(a []ir.Expr) ir.Expr { return &ir.And{Node: n.Node, Args: a} })
		case *ir.Or:
			args := walkKeep(n.Args, walk)
			out = join(args, func(a []ir.Expr) ir.Expr { return &ir.Or{Node: n.Node, Args: a} })
		case *ir.Not:
			if a := walk(n.Arg); a != nil {
				out = &ir.Not{Node: n.Node, Arg: a}
			}
		default:
			out = e
		}
		memo[e] = out
		return out
	}
	out := walk(e)
	if out == nil && !diags.HasErrors() {
		diags.Add(diag.Errorf(e.Position(), "the pipeline removed every detection item this condition tests (drop_detection_item, an empty mapping or --unmapped drop), so no query is left"))
	}
	return out, diags
}

func walkKeep(args []ir.Expr, walk func(ir.Expr) ir.Expr) []ir.Expr {
	out := make([]ir.Expr, 0, len(args))
	for _, a := range args {
		if x := walk(a); x != nil {
			out = append(out, x)
		}
	}
	return out
}

func join(args []ir.Expr, mk func([]ir.Expr) ir.Expr) ir.Expr {
	switch len(args) {
	case 0:
		return nil
	case 1:
		return args[0]
	}
	return mk(args)
}

// resolveLeftovers gives placeholders still in an item the pipeline's
// vars, as value_placeholders would, or says which one has no value.
func (p *Pipeline) resolveLeftovers(it *Item) *diag.Diagnostic {
	var vars map[string][]string
	if p != nil {
		vars = p.Vars
	}
	lookup := func(name string) ([]string, bool) { x, ok := vars[name]; return x, ok }
	_, missing, at := substituteItem(it, lookup, nil)
	switch {
	case missing == "*":
		return diag.Errorf(at, "placeholders expand to more than %d values", maxExpansion)
	case missing != "" && len(vars) == 0:
		return diag.Errorf(at, "placeholder %%%s%% needs a value: pass a pipeline with `-p FILE` whose `vars:` defines %s", missing, missing)
	case missing != "":
		return diag.Errorf(at, "placeholder %%%s%% is not defined by the pipeline (it defines: %s); add it under `vars:`", missing, strings.Join(sortedKeys(vars), ", "))
	}
	return nil
}

const maxExpansion = 4096

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func hasPlaceholder(p ir.Pattern) bool {
	for _, s := range p {
		if s.Kind == ir.Placeholder {
			return true
		}
	}
	return false
}

// substitute replaces each placeholder the lookup knows by each of its
// values (parsed as Sigma strings, so `*` in a value is a wildcard): the
// cartesian product, in order. handled filters the names to replace
// (nil: all). It returns the first name lookup does not know.
func substitute(p ir.Pattern, lookup func(string) ([]string, bool), handled func(string) bool) ([]ir.Pattern, string) {
	out := []ir.Pattern{{}}
	for _, seg := range p {
		if seg.Kind != ir.Placeholder || (handled != nil && !handled(seg.Text)) {
			for i := range out {
				out[i] = append(out[i], seg)
			}
			continue
		}
		vals, ok := lookup(seg.Text)
		if !ok {
			return nil, seg.Text
		}
		next := make([]ir.Pattern, 0, len(out)*len(vals))
		for _, base := range out {
			for _, v := range vals {
				next = append(next, append(append(ir.Pattern{}, base...), ir.ParsePattern(v)...))
			}
			if len(next) > maxExpansion {
				return next, ""
			}
		}
		out = next
	}
	for i := range out {
		out[i] = out[i].Normalize()
	}
	return out, ""
}

// Unmapped lists, in written order, the fields of the subject's detection
// items that no field-name transformation of the pipeline renamed (from or
// to): the fields the pipeline "cannot map".
// Items the pipeline added (add_condition) speak the target's names
// already and are not counted. first is the position of the first one.
// A pipeline that renames nothing for the rule (windows, sysmon: they
// only scope) leaves nothing unmapped.
func (s *Subject) Unmapped() (fields []string, first diag.Pos) {
	if !s.mappingRan {
		return nil, first
	}
	seen := map[string]bool{}
	for _, cond := range s.Conditions {
		for _, it := range Items(cond) {
			if it.Field == "" || it.added || s.mapped[it.Field] || seen[it.Field] {
				continue
			}
			if len(fields) == 0 {
				first = it.Pos
			}
			seen[it.Field] = true
			fields = append(fields, it.Field)
		}
	}
	return fields, first
}

// DropFields removes the rule's detection items on the named fields (as
// drop_detection_item does); the items the pipeline added stay. Dropping a
// test under `not` would narrow the query, so such a test is refused: the
// first one is returned.
func (s *Subject) DropFields(names []string) (*Item, bool) {
	drop := map[string]bool{}
	for _, n := range names {
		drop[n] = true
	}
	var negated *Item
	var scan func(e ir.Expr, neg bool)
	scan = func(e ir.Expr, neg bool) {
		switch n := e.(type) {
		case *Item:
			if neg && drop[n.Field] && !n.added && negated == nil {
				negated = n
			}
		case *ir.And:
			for _, a := range n.Args {
				scan(a, neg)
			}
		case *ir.Or:
			for _, a := range n.Args {
				scan(a, neg)
			}
		case *ir.Not:
			scan(n.Arg, !neg)
		}
	}
	for _, cond := range s.Conditions {
		scan(cond, false)
	}
	if negated != nil {
		return negated, false
	}
	memo := map[ir.Expr]ir.Expr{}
	for i, cond := range s.Conditions {
		s.Conditions[i] = rewriteWith(cond, memo, func(it *Item) ir.Expr {
			if drop[it.Field] && !it.added {
				return &dropped{Node: it.Node}
			}
			return it
		})
	}
	return nil, true
}
