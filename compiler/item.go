package compiler

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"

	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/compiler/pipeline"
	"github.com/sigc-project/sigc/diag"
	"github.com/sigc-project/sigc/sigma"
)

// itemPlan is a field item's modifiers, validated and classified.
type itemPlan struct {
	wrapLead, wrapTrail bool
	all, cased, neq     bool
	transforms          []sigma.Modifier
	regex               bool
	reI, reM, reS       bool
	cidr                bool
	cmp                 ir.CmpOp
	hasCmp              bool
	exists              bool
	fieldref            bool
	refKind             ir.RefKind
	timeUnit            ir.TimeUnit
	hasTime             bool
}

// planItem validates the modifier chain of one item, pointing at the
// offending modifier on error.
func planItem(it *sigma.FieldItem) (*itemPlan, *diag.Diagnostic) {
	p := &itemPlan{}
	var matchMod *sigma.Modifier // the one modifier that decides the match type
	setMatch := func(m *sigma.Modifier) *diag.Diagnostic {
		if matchMod != nil {
			return diag.Errorf(m.Pos, "modifier %s cannot be combined with %s; use one of them", diag.Quote(m.Name), diag.Quote(matchMod.Name))
		}
		matchMod = m
		return nil
	}
	var wrapMod *sigma.Modifier
	for i := range it.Modifiers {
		m := &it.Modifiers[i]
		kind, ok := Modifiers[m.Name]
		if !ok {
			return nil, diag.Errorf(m.Pos, "unknown modifier %s; %s", diag.Quote(m.Name), suggestModifier(m.Name))
		}
		switch kind {
		case modWrap:
			if wrapMod != nil {
				return nil, diag.Errorf(m.Pos, "modifier %s cannot be combined with %s; use one of them", diag.Quote(m.Name), diag.Quote(wrapMod.Name))
			}
			wrapMod = m
			switch m.Name {
			case "contains":
				p.wrapLead, p.wrapTrail = true, true
			case "startswith":
				p.wrapTrail = true
			case "endswith":
				p.wrapLead = true
			}
			p.transforms = append(p.transforms, *m) // applied in order with the transforms
		case modFlag:
			switch m.Name {
			case "all":
				p.all = true
			case "cased":
				p.cased = true
			case "neq":
				p.neq = true
			}
		case modTransform:
			p.transforms = append(p.transforms, *m)
		case modRegex:
			if err := setMatch(m); err != nil {
				return nil, err
			}
			p.regex = true
		case modRegexFlag:
			if !p.regex {
				return nil, diag.Errorf(m.Pos, "modifier %s only applies after `re`; write `|re|%s`", diag.Quote(m.Name), m.Name)
			}
			switch m.Name {
			case "i", "ignorecase":
				p.reI = true
			case "m", "multiline":
				p.reM = true
			case "s", "dotall":
				p.reS = true
			}
		case modCIDR:
			if err := setMatch(m); err != nil {
				return nil, err
			}
			p.cidr = true
		case modCompare:
			if err := setMatch(m); err != nil {
				return nil, err
			}
			p.hasCmp = true
			p.cmp = map[string]ir.CmpOp{"lt": ir.Lt, "lte": ir.Lte, "gt": ir.Gt, "gte": ir.Gte}[m.Name]
		case modExists:
			if err := setMatch(m); err != nil {
				return nil, err
			}
			p.exists = true
		case modFieldRef:
			if err := setMatch(m); err != nil {
				return nil, err
			}
			p.fieldref = true
		case modTime:
			if err := setMatch(m); err != nil {
				return nil, err
			}
			p.hasTime = true
			p.timeUnit, _ = ir.TimeUnitByName(m.Name)
		}
	}
	if matchMod != nil && !p.fieldref {
		if wrapMod != nil {
			return nil, diag.Errorf(wrapMod.Pos, "modifier %s cannot be combined with %s", diag.Quote(wrapMod.Name), diag.Quote(matchMod.Name))
		}
		for _, t := range p.transforms {
			return nil, diag.Errorf(t.Pos, "modifier %s cannot be combined with %s", diag.Quote(t.Name), diag.Quote(matchMod.Name))
		}
	}
	if p.fieldref {
		for _, t := range p.transforms {
			switch t.Name {
			case "contains":
				p.refKind = ir.RefContains
			case "startswith":
				p.refKind = ir.RefPrefix
			case "endswith":
				p.refKind = ir.RefSuffix
			default:
				return nil, diag.Errorf(t.Pos, "modifier %s cannot be combined with fieldref", diag.Quote(t.Name))
			}
		}
	}
	if p.exists && (p.neq || p.all || p.cased) {
		return nil, diag.Errorf(it.Pos, "`exists` takes no other modifiers; write `%s|exists: true` or `false`", it.Field)
	}
	if it.Field == "" && (matchMod != nil || p.neq) {
		return nil, diag.Errorf(it.Pos, "a keyword search (empty field name) accepts only string modifiers")
	}
	return p, nil
}

// compileItem turns one `field|mods: values` into a pipeline item: the
// modifiers applied to every value, the field as written (the pipeline
// pass maps it).
func (c *ruleCompiler) compileItem(it *sigma.FieldItem) *pipeline.Item {
	plan, d := planItem(it)
	if d != nil {
		c.diags.Add(d)
		return nil
	}
	field := it.Field
	pos := it.Pos
	node := ir.Node{Pos: pos}
	item := &pipeline.Item{Node: node, Field: field, All: plan.all, Neq: plan.neq}
	for _, m := range it.Modifiers {
		item.Modifiers = append(item.Modifiers, m.Name)
	}
	add := func(p diag.Pos, alts ...ir.Expr) {
		if len(alts) > 0 {
			item.Values = append(item.Values, &pipeline.Value{Pos: p, Alts: alts})
		}
	}

	if plan.exists {
		if len(it.Values) != 1 || it.Values[0].Kind != sigma.Bool {
			c.errorf(pos, "`exists` needs a single true or false")
			return nil
		}
		e := ir.Expr(&ir.Exists{Node: node, Field: field})
		if strings.EqualFold(it.Values[0].Raw, "false") {
			e = &ir.Not{Node: node, Arg: e}
		}
		add(it.Values[0].Pos, e)
		return item
	}

	failed := false
	for _, v := range it.Values {
		vn := ir.Node{Pos: v.Pos}
		if v.Kind == sigma.Null {
			if len(it.Modifiers) > 0 {
				c.errorf(v.Pos, "null cannot take modifiers; write `%s: null`", it.Field)
				return nil
			}
			if len(it.Values) > 1 {
				c.errorf(v.Pos, "null cannot share a list with other values; use a separate selection joined with `or`")
				return nil
			}
			if it.Field == "" {
				c.errorf(v.Pos, "a keyword cannot be null")
				return nil
			}
			add(v.Pos, &ir.Null{Node: node, Field: field})
			return item
		}
		switch {
		case plan.regex:
			re, ok := c.regex(field, v, plan)
			if ok {
				add(v.Pos, re)
			} else {
				failed = true
			}
		case plan.cidr:
			prefix, err := parseCIDR(v.Raw)
			if err != nil {
				c.errorf(v.Pos, "%s is not a CIDR network: %v; write e.g. 10.0.0.0/8 or 2001:db8::/32", diag.Quote(v.Raw), err)
				failed = true
				continue
			}
			add(v.Pos, &ir.CIDR{Node: vn, Field: field, Prefix: prefix})
		case plan.hasCmp:
			f, text, err := Number(v.Raw)
			if err != nil {
				c.errorf(v.Pos, "%s needs a number: %v", plan.cmp, err)
				failed = true
				continue
			}
			add(v.Pos, &ir.Number{Node: vn, Field: field, Op: plan.cmp, Value: f, Text: text})
		case plan.hasTime:
			n, err := strconv.Atoi(v.Raw)
			if err != nil {
				c.errorf(v.Pos, "%s needs a whole number, got %s", plan.timeUnit, diag.Quote(v.Raw))
				failed = true
				continue
			}
			add(v.Pos, &ir.TimePart{Node: vn, Field: field, Unit: plan.timeUnit, Value: n})
		case plan.fieldref:
			if v.Raw == "" {
				c.errorf(v.Pos, "fieldref needs the name of another field")
				failed = true
				continue
			}
			add(v.Pos, &ir.FieldRef{Node: vn, Field: field, Other: v.Raw, Kind: plan.refKind, Cased: plan.cased})
		case (v.Kind == sigma.Int || v.Kind == sigma.Float) && len(plan.transforms) == 0 && it.Field != "":
			f, text, err := Number(v.Raw)
			if err != nil {
				c.errorf(v.Pos, "%v; quote it to match it as text", err)
				failed = true
				continue
			}
			add(v.Pos, &ir.Number{Node: vn, Field: field, Op: ir.Eq, Value: f, Text: text})
		default:
			alts, ok := c.stringAlternatives(field, v, plan, it.Field == "")
			if !ok {
				failed = true
			}
			add(v.Pos, alts...)
		}
	}
	if failed || len(item.Values) == 0 {
		return nil
	}
	return item
}

func (c *ruleCompiler) regex(field string, v sigma.Value, plan *itemPlan) (ir.Expr, bool) {
	re := &ir.Regex{Node: ir.Node{Pos: v.Pos}, Field: field, Pattern: v.Raw, IgnoreCase: plan.reI, Multiline: plan.reM, DotAll: plan.reS}
	flags := re.Flags()
	src := v.Raw
	if flags != "" {
		src = "(?" + flags + ")" + src
	}
	if _, err := regexp.Compile(src); err != nil {
		msg := err.Error()
		var se *syntax.Error
		if errors.As(err, &se) { // its message repeats the whole expression
			msg = fmt.Sprintf("%s at %s", se.Code, diag.Quote(se.Expr))
		}
		if lookaroundRE.MatchString(v.Raw) {
			msg += " (RE2 has no lookaround or backreferences; rewrite the expression without them)"
		}
		c.errorf(v.Pos, "regular expression does not compile: %s", msg)
		return nil, false
	}
	return re, true
}

func parseCIDR(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, err
	}
	return p.Masked(), nil
}

// stringAlternatives applies the wrap and transform modifiers in the order
// written, producing plain wildcard patterns.
func (c *ruleCompiler) stringAlternatives(field string, v sigma.Value, plan *itemPlan, keyword bool) ([]ir.Expr, bool) {
	pats := []ir.Pattern{ir.ParsePattern(v.Raw)}
	if v.Kind == sigma.Null {
		pats = []ir.Pattern{{}}
	}
	for _, t := range plan.transforms {
		var next []ir.Pattern
		for _, p := range pats {
			out, d := c.transform(t, p, v)
			if d != nil {
				c.diags.Add(d)
				return nil, false
			}
			next = append(next, out...)
		}
		pats = next
	}
	cased := plan.cased
	for _, t := range plan.transforms {
		if t.Name == "base64" || t.Name == "base64offset" {
			cased = true // base64 text is case-sensitive: folding it would match other bytes
		}
	}
	var out []ir.Expr
	seen := map[string]bool{}
	for _, p := range pats {
		if keyword {
			p = p.Wrap(true, true)
		}
		key := p.String()
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, &ir.Match{Node: ir.Node{Pos: v.Pos}, Field: field, Pattern: p, Cased: cased})
	}
	return out, true
}

// lookaroundRE spots the PCRE features RE2 lacks, to say so in the error.
var lookaroundRE = regexp.MustCompile(`\(\?<?[=!]|\\[1-9]|\(\?>|\(\?P?=`)

func (c *ruleCompiler) transform(t sigma.Modifier, p ir.Pattern, v sigma.Value) ([]ir.Pattern, *diag.Diagnostic) {
	literal := func() (string, *diag.Diagnostic) {
		if p.HasWildcards() {
			return "", diag.Errorf(t.Pos, "%s cannot encode the wildcards in %s; put `contains`, `startswith` or `endswith` after %s instead of wildcards", t.Name, diag.Quote(v.Raw), t.Name)
		}
		_, s := p.Shape()
		return s, nil
	}
	switch t.Name {
	case "contains":
		return []ir.Pattern{p.Wrap(true, true)}, nil
	case "startswith":
		return []ir.Pattern{p.Wrap(false, true)}, nil
	case "endswith":
		return []ir.Pattern{p.Wrap(true, false)}, nil
	case "windash":
		// Permute dash-like characters inside literal segments.
		out := []ir.Pattern{{}}
		for _, seg := range p {
			if seg.Kind != ir.Lit {
				for i := range out {
					out[i] = append(out[i], seg)
				}
				continue
			}
			vars, ok := windashVariants(seg.Text)
			if !ok || len(out)*len(vars) > maxWindashVariants {
				return nil, diag.Errorf(t.Pos, "windash on %s makes more than %d variants; split the value", diag.Quote(v.Raw), maxWindashVariants)
			}
			next := make([]ir.Pattern, 0, len(out)*len(vars))
			for _, prefix := range out {
				for _, s := range vars {
					q := append(append(ir.Pattern{}, prefix...), ir.Seg{Kind: ir.Lit, Text: s})
					next = append(next, q)
				}
			}
			out = next
		}
		for i := range out {
			out[i] = out[i].Normalize()
		}
		return out, nil
	case "base64":
		s, d := literal()
		if d != nil {
			return nil, d
		}
		return []ir.Pattern{ir.Literal(encodeBase64(s))}, nil
	case "base64offset":
		s, d := literal()
		if d != nil {
			return nil, d
		}
		var out []ir.Pattern
		for _, e := range base64Offsets(s) {
			out = append(out, ir.Literal(e))
		}
		return out, nil
	case "utf16le", "wide", "utf16be", "utf16":
		s, d := literal()
		if d != nil {
			return nil, d
		}
		enc := map[string]func(string) string{"utf16le": utf16LE, "wide": utf16LE, "utf16be": utf16BE, "utf16": utf16BOM}[t.Name]
		return []ir.Pattern{ir.Literal(enc(s))}, nil
	case "expand":
		return c.expand(t, p, v)
	}
	return nil, diag.Errorf(t.Pos, "internal: unhandled modifier %s", diag.Quote(t.Name))
}

// expand marks %placeholders% in literal segments as placeholder
// segments; the pipeline pass gives them values (pySigma's `expand`).
func (c *ruleCompiler) expand(t sigma.Modifier, p ir.Pattern, v sigma.Value) ([]ir.Pattern, *diag.Diagnostic) {
	out, found := pipeline.MarkPlaceholders(p)
	if !found {
		return nil, diag.Errorf(t.Pos, "`expand` is set but %s has no %%placeholder%%", diag.Quote(v.Raw))
	}
	return []ir.Pattern{out}, nil
}
