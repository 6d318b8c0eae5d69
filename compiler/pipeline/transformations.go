package pipeline

import (
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/diag"
	"github.com/sigc-project/sigc/sigma"
)

// transformation is one transformation type with its parameters read.
type transformation interface {
	apply(c *ctx) *diag.Diagnostic
}

// transformations is pySigma's YAML registry, by type name (filled in
// init: `nest` reads items, which look the registry up).
var transformations map[string]func(*params) transformation

func init() { transformations = transformationRegistry() }

func transformationRegistry() map[string]func(*params) transformation {
	return map[string]func(*params) transformation{
		"field_name_mapping":           readFieldMapping,
		"field_name_prefix_mapping":    readPrefixMapping,
		"field_name_prefix":            func(p *params) transformation { return readAffix(p, "prefix") },
		"field_name_suffix":            func(p *params) transformation { return readAffix(p, "suffix") },
		"drop_detection_item":          func(p *params) transformation { return dropItems{} },
		"hashes_fields":                readHashes,
		"wildcard_placeholders":        func(p *params) transformation { return &placeholders{sel: readSelection(p), wildcard: true} },
		"value_placeholders":           func(p *params) transformation { return &placeholders{sel: readSelection(p)} },
		"add_condition":                readAddCondition,
		"change_logsource":             readChangeLogsource,
		"add_field":                    func(p *params) transformation { return &fieldsList{op: "add", names: needList(p, "field")} },
		"remove_field":                 func(p *params) transformation { return &fieldsList{op: "remove", names: needList(p, "field")} },
		"set_field":                    func(p *params) transformation { return &fieldsList{op: "set", names: needList(p, "fields")} },
		"replace_string":               readReplaceString,
		"map_string":                   readMapString,
		"set_state":                    readSetState,
		"regex":                        readToRegex,
		"set_value":                    readSetValue,
		"convert_type":                 readConvertType,
		"rule_failure":                 func(p *params) transformation { m, _ := p.need("message"); return &failure{msg: m} },
		"detection_item_failure":       func(p *params) transformation { m, _ := p.need("message"); return &failure{msg: m, perItem: true} },
		"strict_field_mapping_failure": func(p *params) transformation { return strictMapping{} },
		"set_custom_attribute":         readCustomAttribute,
		"nest":                         readNest,
		"case":                         readCase,
	}
}

// refusedTransformations run code or reach outside sigc; each says why.
var refusedTransformations = map[string]string{
	"field_name_transform":          "it calls a Python function, which a YAML pipeline cannot name; use field_name_mapping, field_name_prefix or field_name_suffix",
	"query_expression_placeholders": "it inserts text of one target's query language, while sigc's IR is shared by every target and the evaluator; define the placeholder under `vars:` (value_placeholders) instead",
	"file_placeholders":             "it reads files named by the pipeline at conversion time; put the values under `vars:`",
	"http_placeholders":             "it fetches values over the network at conversion time; put the values under `vars:`",
	"command_placeholders":          "it runs a command at conversion time; put the values under `vars:`",
}

func needList(p *params, key string) []string {
	if !p.has(key) {
		p.r.errorf(p.node, "%s needs %s", p.what, diag.Quote(key))
	}
	return p.list(key)
}

// Field names ----------------------------------------------------------

// fieldNames renames fields: in detection items (and fields named by
// fieldref values), in the rule's `fields`, and in a correlation's
// group-by, aliases and value field. names returns nil for a name it
// leaves alone; several names make an OR of copies of the item.
type fieldNames struct {
	names func(string) []string
}

func readFieldMapping(p *params) transformation {
	n := p.get("mapping")
	if n == nil {
		p.r.errorf(p.node, "%s needs `mapping`", p.what)
		return &fieldNames{names: func(string) []string { return nil }}
	}
	m := map[string][]string{}
	for _, e := range p.r.entries(n, p.what+": `mapping`") {
		key := e.Key
		if e.Node.Tag == "!!null" {
			key = "" // a null key maps keyword items
		}
		if e.Val.Kind == yaml.ScalarNode && e.Val.Tag == "!!null" {
			continue // no target: no mapping (pySigma's mapping.get gives None)
		}
		for _, v := range e.Values {
			if v == "" {
				p.r.errorf(e.Val, "%s: %s maps to an empty field name, which would search the raw message; give a name, or [] to drop its tests", p.what, diag.Quote(e.Key))
			}
		}
		m[key] = e.Values
		if len(e.Values) == 0 {
			m[key] = []string{} // []: the field's tests are dropped
		}
	}
	return &fieldNames{names: func(f string) []string { return m[f] }}
}

func readPrefixMapping(p *params) transformation {
	entries := p.mapping("mapping", true)
	for _, e := range entries {
		if e.Node.Tag == "!!null" {
			p.r.errorf(e.Node, "%s: a prefix cannot be null", p.what)
		}
	}
	return &fieldNames{names: func(f string) []string {
		if f == "" {
			return nil
		}
		for _, e := range entries {
			if strings.HasPrefix(f, e.Key) {
				out := make([]string, len(e.Values))
				for i, v := range e.Values {
					out[i] = v + f[len(e.Key):]
				}
				return out
			}
		}
		return nil
	}}
}

func readAffix(p *params, key string) transformation {
	a, _ := p.need(key)
	return &fieldNames{names: func(f string) []string {
		if f == "" {
			return nil
		}
		if key == "prefix" {
			return []string{a + f}
		}
		return []string{f + a}
	}}
}

// maxFieldName bounds a field name a pipeline builds (prefix after
// prefix could grow it without end).
const maxFieldName = 1024

// rename maps one name when the field-name conditions allow it.
func (t *fieldNames) rename(c *ctx, name string) ([]string, bool) {
	out := t.names(name)
	if out == nil || !c.fieldMatches(name) {
		return []string{name}, false
	}
	marks := copySet(c.s.fieldApplied[name])
	if c.pi.ID != "" {
		marks[c.pi.ID] = true
	}
	delete(c.s.fieldApplied, name)
	for _, o := range out {
		c.s.fieldApplied[o] = copySet(marks)
	}
	return out, true
}

func (t *fieldNames) apply(c *ctx) *diag.Diagnostic {
	c.s.mappingRan = true
	var fields []string
	for _, f := range c.s.Fields {
		out, _ := t.rename(c, f)
		for _, o := range out {
			if len(o) > maxFieldName {
				return c.errorf(c.s.Pos, "the pipeline makes a field name of %d bytes from %s; field names are at most %d", len(o), diag.Quote(f), maxFieldName)
			}
		}
		fields = append(fields, out...)
	}
	c.s.Fields = fields
	for _, cf := range c.s.CorrFields {
		var names []string
		for _, n := range cf.Names {
			out, _ := t.rename(c, n)
			names = append(names, out...)
		}
		if len(names) != 1 {
			// pySigma would group by all of them, so an event lacking one
			// of the fields would never be counted.
			return c.errorf(cf.Pos, "the field %s of this correlation maps to %d fields (%s); a correlation groups and aggregates by one field each: map it to one", diag.Quote(cf.Names[0]), len(names), strings.Join(names, ", "))
		}
		cf.Names = names
	}
	return c.eachItem(func(it *Item) (ir.Expr, *diag.Diagnostic) {
		for _, o := range t.names(it.Field) {
			if len(o) > maxFieldName {
				return nil, c.errorf(it.Pos, "the pipeline makes a field name of %d bytes from %s; field names are at most %d", len(o), diag.Quote(it.Field), maxFieldName)
			}
		}
		changed := false
		for _, v := range it.Values {
			var alts []ir.Expr
			for _, a := range v.Alts {
				r, ok := a.(*ir.FieldRef)
				if !ok {
					alts = append(alts, a)
					continue
				}
				out, did := t.rename(c, r.Other)
				if !did {
					alts = append(alts, a)
					continue
				}
				changed = true
				for _, o := range out {
					cp := *r
					cp.Other = o
					alts = append(alts, &cp)
				}
			}
			v.Alts = alts
		}
		out := t.names(it.Field)
		if out == nil || !c.fieldMatches(it.Field) {
			if changed {
				return it, nil
			}
			return nil, nil
		}
		orig := it.Field
		c.s.mapped[orig] = true
		for _, o := range out {
			c.s.mapped[o] = true
		}
		if orig == "" { // a keyword becomes a field: keep its substring meaning
			wrapKeyword(it)
		}
		if len(out) == 1 {
			it.SetField(out[0])
			return it, nil
		}
		copies := make([]ir.Expr, 0, len(out))
		for _, o := range out {
			cp := it.clone()
			cp.applied = map[string]bool{}
			cp.SetField(o)
			copies = append(copies, cp)
		}
		if len(copies) == 0 {
			c.s.warnings.Add(diag.Warnf(it.Pos, "the pipeline maps %s to no field (an empty list), so its tests are dropped (pipeline %s)", diag.Quote(orig), c.pi.describe()))
			return &dropped{Node: it.Node}, nil
		}
		return &ir.Or{Node: it.Node, Args: copies}, nil
	})
}

// wrapKeyword gives each string value of a keyword item a leading and a
// trailing `*` (pySigma does so when a mapping names a keyword's field).
func wrapKeyword(it *Item) {
	for _, v := range it.Values {
		for _, a := range v.Alts {
			if m, ok := a.(*ir.Match); ok {
				m.Pattern = m.Pattern.Wrap(true, true)
			}
		}
	}
}

// CorrField is one field a correlation names (group-by, alias, value
// field); field-name transformations rename it, to exactly one field.
type CorrField struct {
	Names []string
	Pos   diag.Pos
}

// Detection items ------------------------------------------------------

type dropItems struct{}

func (dropItems) apply(c *ctx) *diag.Diagnostic {
	return c.eachItem(func(it *Item) (ir.Expr, *diag.Diagnostic) { return &dropped{Node: it.Node}, nil })
}

type hashes struct {
	algos      map[string]bool
	prefix     string
	dropPrefix bool
	list       []string
}

func readHashes(p *params) transformation {
	h := &hashes{algos: map[string]bool{}, list: needList(p, "valid_hash_algos"), prefix: p.str("field_prefix", ""), dropPrefix: p.boolean("drop_algo_prefix", false)}
	for _, a := range h.list {
		h.algos[a] = true
	}
	return h
}

var hashLengths = map[int]string{32: "MD5", 40: "SHA1", 64: "SHA256", 128: "SHA512"}

// apply splits `ALGO=hash` values (or `ALGO|hash`, or a bare hash whose
// length names its algorithm) into one item per algorithm, ORed.
func (h *hashes) apply(c *ctx) *diag.Diagnostic {
	return c.eachItem(func(it *Item) (ir.Expr, *diag.Diagnostic) {
		var order []string
		byField := map[string]*Item{}
		for _, v := range it.Values {
			for _, a := range v.Alts {
				m, ok := a.(*ir.Match)
				if !ok {
					return nil, nil // not all strings: pySigma leaves the item alone
				}
				s := plain(m.Pattern)
				var parts []string
				if strings.Contains(s, "|") {
					parts = strings.Split(s, "|")
				} else {
					parts = strings.Split(s, "=")
				}
				algo, hash := "", s
				if len(parts) == 2 {
					algo, hash = strings.ToUpper(strings.TrimLeft(parts[0], "*")), parts[1]
				} else {
					algo = hashLengths[len(s)]
				}
				if !h.algos[algo] {
					continue
				}
				field := h.prefix
				if !h.dropPrefix {
					field += algo
				}
				if field == "keyword" {
					field = ""
				}
				c.s.mapped[it.Field] = true
				c.s.mapped[field] = true
				ni := byField[field]
				if ni == nil {
					ni = &Item{Node: it.Node, Field: field, applied: copySet(it.applied)}
					byField[field] = ni
					order = append(order, field)
				}
				ni.Values = append(ni.Values, &Value{Pos: v.Pos, Alts: []ir.Expr{&ir.Match{Node: m.Node, Field: field, Pattern: ir.ParsePattern(hash), Cased: m.Cased}}})
			}
		}
		if len(order) == 0 {
			return nil, c.errorf(it.Pos, "no valid hash algorithm found in the %s values; use one of %s", diag.Quote(it.Field), strings.Join(h.list, ", "))
		}
		alts := make([]ir.Expr, len(order))
		for i, f := range order {
			alts[i] = byField[f]
		}
		if len(alts) == 1 {
			return alts[0], nil
		}
		return &ir.Or{Node: it.Node, Args: alts}, nil
	})
}

// selection is the include/exclude choice of the placeholder
// transformations.
type selection struct{ include, exclude map[string]bool }

func readSelection(p *params) selection {
	s := selection{}
	inc, exc := p.list("include"), p.list("exclude")
	if len(inc) > 0 && len(exc) > 0 {
		p.r.errorf(p.node, "%s takes `include` or `exclude`, not both", p.what)
	}
	if len(inc) > 0 {
		s.include = setOf(inc)
	}
	if len(exc) > 0 {
		s.exclude = setOf(exc)
	}
	return s
}

func setOf(xs []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func (s selection) handles(name string) bool {
	switch {
	case s.include != nil:
		return s.include[name]
	case s.exclude != nil:
		return !s.exclude[name]
	}
	return true
}

type placeholders struct {
	sel      selection
	wildcard bool
}

// apply replaces the handled placeholders by `*`, or by the pipeline's
// vars (each value a new value of the item: ORed, ANDed under `|all`).
func (t *placeholders) apply(c *ctx) *diag.Diagnostic {
	lookup := func(name string) ([]string, bool) {
		if t.wildcard {
			return []string{"*"}, true
		}
		x, ok := c.p.Vars[name]
		return x, ok
	}
	return c.eachItem(func(it *Item) (ir.Expr, *diag.Diagnostic) {
		changed, missing, at := substituteItem(it, lookup, t.sel.handles)
		if missing == "*" {
			return nil, c.errorf(at, "placeholders expand to more than %d values", maxExpansion)
		}
		if missing != "" {
			return nil, c.errorf(at, "placeholder %%%s%% has no value under the pipeline's `vars:` (it defines: %s)", missing, strings.Join(sortedKeys(c.p.Vars), ", "))
		}
		if !changed {
			return nil, nil
		}
		return it, nil
	})
}

// substituteItem gives the item's placeholders their values. A value with
// one test and a placeholder of several values becomes several values of
// the item, so `|all` requires each of them (pySigma); a value that
// already had alternatives keeps the new ones among them. It returns the
// first placeholder lookup does not know, or one whose expansion passes
// maxExpansion (missing "*" then).
func substituteItem(it *Item, lookup func(string) ([]string, bool), handled func(string) bool) (changed bool, missing string, at diag.Pos) {
	var vals []*Value
	for _, v := range it.Values {
		var perAlt [][]ir.Expr
		for _, a := range v.Alts {
			m, ok := a.(*ir.Match)
			if !ok || !hasHandled(m.Pattern, handled) {
				perAlt = append(perAlt, []ir.Expr{a})
				continue
			}
			changed = true
			pats, miss := substitute(m.Pattern, lookup, handled)
			if miss != "" {
				return changed, miss, v.Pos
			}
			if len(pats) > maxExpansion {
				return changed, "*", v.Pos
			}
			leaves := make([]ir.Expr, 0, len(pats))
			for _, q := range pats {
				cp := *m
				cp.Pattern = q
				leaves = append(leaves, &cp)
			}
			perAlt = append(perAlt, leaves)
		}
		if len(perAlt) == 1 && len(perAlt[0]) > 1 {
			for _, l := range perAlt[0] {
				vals = append(vals, &Value{Pos: v.Pos, Alts: []ir.Expr{l}})
			}
			continue
		}
		var alts []ir.Expr
		for _, l := range perAlt {
			alts = append(alts, l...)
		}
		vals = append(vals, &Value{Pos: v.Pos, Alts: alts})
	}
	if changed {
		it.Values = vals
	}
	return changed, "", at
}

func hasHandled(p ir.Pattern, handled func(string) bool) bool {
	for _, s := range p {
		if s.Kind == ir.Placeholder && (handled == nil || handled(s.Text)) {
			return true
		}
	}
	return false
}

// leafRewrite is a value transformation: fn returns the replacements of
// one test (nil: unchanged).
type leafRewrite struct {
	fn func(c *ctx, it *Item, leaf ir.Expr) ([]ir.Expr, *diag.Diagnostic)
}

func (t *leafRewrite) apply(c *ctx) *diag.Diagnostic {
	return c.eachItem(func(it *Item) (ir.Expr, *diag.Diagnostic) {
		changed := false
		for _, v := range it.Values {
			var alts []ir.Expr
			for _, a := range v.Alts {
				out, d := t.fn(c, it, a)
				if d != nil {
					return nil, d
				}
				if out == nil {
					alts = append(alts, a)
					continue
				}
				changed = true
				alts = append(alts, out...)
			}
			v.Alts = alts
		}
		if !changed {
			return nil, nil
		}
		vals := it.Values[:0]
		for _, v := range it.Values {
			if len(v.Alts) > 0 {
				vals = append(vals, v)
			}
		}
		it.Values = vals
		if len(vals) == 0 {
			return &dropped{Node: it.Node}, nil
		}
		return it, nil
	})
}

// pyReplacement turns a Python re.sub replacement into Go's: `\1` and
// `\g<name>` are groups, `\\` one backslash, `\n` and `\t` control
// characters; `$` is literal.
func pyReplacement(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '$':
			b.WriteString("$$")
		case c == '\\' && i+1 < len(s):
			n := s[i+1]
			switch {
			case n >= '0' && n <= '9':
				j := i + 1
				for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '9' {
					j++
				}
				b.WriteString("${" + s[i+1:j] + "}")
				i = j - 1
			case n == 'g' && i+2 < len(s) && s[i+2] == '<':
				end := strings.IndexByte(s[i:], '>')
				if end < 0 {
					b.WriteByte(c)
					continue
				}
				b.WriteString("${" + s[i+3:i+end] + "}")
				i += end
			case n == '\\':
				b.WriteByte('\\')
				i++
			case n == 'n':
				b.WriteByte('\n')
				i++
			case n == 't':
				b.WriteByte('\t')
				i++
			default:
				b.WriteByte(c)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func readReplaceString(p *params) transformation {
	expr, en := p.need("regex")
	repl := pyReplacement(p.str("replacement", ""))
	if !p.has("replacement") {
		p.r.errorf(p.node, "%s needs `replacement`", p.what)
	}
	skip := p.boolean("skip_special", false)
	interpret := p.boolean("interpret_special", false)
	re, err := regexp.Compile(expr)
	if err != nil {
		p.r.errorf(en, "%s: the regex does not compile (RE2 syntax, no lookaround or backreferences): %v", p.what, err)
		re = regexp.MustCompile(`$^`)
	}
	return &leafRewrite{fn: func(c *ctx, it *Item, leaf ir.Expr) ([]ir.Expr, *diag.Diagnostic) {
		var pat ir.Pattern
		var m *ir.Match
		switch n := leaf.(type) {
		case *ir.Match:
			m, pat = n, n.Pattern
		case *ir.Number: // numbers are replaced as strings, as pySigma does
			m = &ir.Match{Node: n.Node, Field: n.Field}
			pat = ir.Literal(n.Text)
		default:
			return nil, nil
		}
		var out ir.Pattern
		if skip {
			for _, s := range pat {
				if s.Kind != ir.Lit {
					out = append(out, s)
					continue
				}
				r := re.ReplaceAllString(s.Text, repl)
				if interpret {
					out = append(out, ir.ParsePattern(r)...)
				} else {
					out = append(out, ir.Seg{Kind: ir.Lit, Text: r})
				}
			}
		} else {
			out = replaceKeeping(re, repl, pat)
		}
		out = out.Normalize()
		if n := patternBytes(out); n > maxValueBytes {
			return nil, c.errorf(leaf.Position(), "replace_string makes a value of %d bytes; values are at most %d", n, maxValueBytes)
		}
		if _, isNum := leaf.(*ir.Number); !isNum && out.String() == pat.String() {
			return nil, nil
		}
		cp := *m
		cp.Pattern = out
		return []ir.Expr{&cp}, nil
	}}
}

// maxValueBytes bounds a value a transformation rewrites (a replacement
// that doubles the value, applied again and again, would grow it without
// end): values in rules are rarely more than a few KiB.
const maxValueBytes = 1 << 20

func patternBytes(p ir.Pattern) int {
	n := 0
	for _, s := range p {
		n += len(s.Text) + 1
	}
	return n
}

// replaceKeeping runs the regex over the value as pySigma's plain text
// (wildcards `*` and `?`, literal ones `\*` and `\?`, backslashes as they
// are). Text between matches keeps what it was; only the replacements are
// read back as Sigma text (`*` a wildcard, `%name%` a placeholder). So a
// literal backslash before a wildcard stays a backslash, which pySigma,
// reading the whole result back, turns into an escape.
func replaceKeeping(re *regexp.Regexp, repl string, pat ir.Pattern) ir.Pattern {
	text, src := plainSource(pat)
	var out ir.Pattern
	var lit strings.Builder // runs of literal bytes, merged as they come
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, ir.Seg{Kind: ir.Lit, Text: lit.String()})
			lit.Reset()
		}
	}
	keep := func(from, to int) {
		for i := from; i < to; i++ {
			switch code := src[i]; {
			case code == srcLiteral:
				lit.WriteByte(text[i])
			case code == srcEscaped:
				if i+1 < len(text) {
					lit.WriteByte(text[i+1])
				}
			case code >= 0:
				flush()
				out = append(out, pat[code])
			}
		}
		flush()
	}
	last := 0
	for _, m := range re.FindAllStringSubmatchIndex(text, -1) {
		keep(last, m[0])
		out = append(out, parseWithPlaceholders(string(re.ExpandString(nil, repl, text, m)))...)
		last = m[1]
	}
	keep(last, len(text))
	return out.Normalize()
}

// What a byte of plainSource's text stands for: a literal byte, the
// escape of a literal `*` or `?` (the next byte), nothing (the rest of an
// escape or placeholder), or the pattern's segment at that index.
const (
	srcLiteral int32 = -1
	srcEscaped int32 = -2
	srcNothing int32 = -3
)

// plainSource writes a pattern as plain text (see plain) and what each
// byte of it stands for.
func plainSource(p ir.Pattern) (string, []int32) {
	var b strings.Builder
	var src []int32
	for i, s := range p {
		switch s.Kind {
		case ir.Star, ir.One:
			b.WriteByte(map[ir.SegKind]byte{ir.Star: '*', ir.One: '?'}[s.Kind])
			src = append(src, int32(i))
		case ir.Placeholder:
			t := "%" + s.Text + "%"
			b.WriteString(t)
			src = append(src, int32(i))
			for range len(t) - 1 {
				src = append(src, srcNothing)
			}
		case ir.Lit:
			for j := 0; j < len(s.Text); j++ {
				if c := s.Text[j]; c == '*' || c == '?' {
					b.WriteByte('\\')
					b.WriteByte(c)
					src = append(src, srcEscaped, srcNothing)
					continue
				}
				b.WriteByte(s.Text[j])
				src = append(src, srcLiteral)
			}
		}
	}
	return b.String(), src
}

// parseWithPlaceholders reads Sigma text where `%name%` is a placeholder.
func parseWithPlaceholders(s string) ir.Pattern {
	p, _ := MarkPlaceholders(ir.ParsePattern(s))
	return p
}

// MarkPlaceholders turns each `%name%` inside the literal segments of p
// into a placeholder segment (what the `expand` modifier does); found
// says whether there was one.
func MarkPlaceholders(p ir.Pattern) (out ir.Pattern, found bool) {
	for _, seg := range p {
		if seg.Kind != ir.Lit {
			out = append(out, seg)
			continue
		}
		last := 0
		for _, loc := range placeholderText.FindAllStringIndex(seg.Text, -1) {
			found = true
			out = append(out, ir.Seg{Kind: ir.Lit, Text: seg.Text[last:loc[0]]}, ir.Seg{Kind: ir.Placeholder, Text: seg.Text[loc[0]+1 : loc[1]-1]})
			last = loc[1]
		}
		out = append(out, ir.Seg{Kind: ir.Lit, Text: seg.Text[last:]})
	}
	return out.Normalize(), found
}

var placeholderText = regexp.MustCompile(`%[A-Za-z0-9_.\-]+%`)

func readMapString(p *params) transformation {
	entries := p.mapping("mapping", true)
	return &leafRewrite{fn: func(c *ctx, it *Item, leaf ir.Expr) ([]ir.Expr, *diag.Diagnostic) {
		m, ok := leaf.(*ir.Match)
		if !ok {
			return nil, nil
		}
		key := plain(m.Pattern)
		for _, e := range entries {
			if e.Key != key {
				continue
			}
			var out []ir.Expr
			for _, v := range e.Values {
				cp := *m
				cp.Pattern = ir.ParsePattern(v)
				out = append(out, &cp)
			}
			return out, nil
		}
		return nil, nil
	}}
}

func readSetValue(p *params) transformation {
	n := p.get("value")
	if n == nil {
		p.r.errorf(p.node, "%s needs `value`", p.what)
		return &leafRewrite{fn: func(*ctx, *Item, ir.Expr) ([]ir.Expr, *diag.Diagnostic) { return nil, nil }}
	}
	force := p.str("force_type", "")
	kind := n.Tag
	text := n.Value
	switch force {
	case "":
	case "str":
		if kind == "!!bool" || kind == "!!null" {
			p.r.errorf(p.at("force_type"), "%s: force_type cannot apply to a %s value", p.what, strings.TrimPrefix(kind, "!!"))
		}
		kind = "!!str"
	case "num":
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			p.r.errorf(n, "%s: %s is not a number, so force_type num cannot apply", p.what, diag.Quote(text))
		}
		kind = "!!int"
	default:
		p.r.errorf(p.at("force_type"), "%s: force_type must be `str` or `num`, not %s", p.what, diag.Quote(force))
	}
	if n.Kind != yaml.ScalarNode {
		p.r.errorf(n, "%s: value must be a single value", p.what)
	}
	// set_value replaces every value of the item by this one.
	return &setValue{kind: kind, text: text}
}

type setValue struct{ kind, text string }

func (t *setValue) apply(c *ctx) *diag.Diagnostic {
	return c.eachItem(func(it *Item) (ir.Expr, *diag.Diagnostic) {
		node := ir.Node{Pos: it.Pos}
		var leaf ir.Expr
		switch t.kind {
		case "!!null":
			leaf = &ir.Null{Node: node, Field: it.Field}
		case "!!int", "!!float":
			f, err := strconv.ParseFloat(t.text, 64)
			if err != nil {
				return nil, c.errorf(it.Pos, "set_value: %s is not a number", diag.Quote(t.text))
			}
			leaf = &ir.Number{Node: node, Field: it.Field, Op: ir.Eq, Value: f, Text: t.text}
		case "!!bool":
			leaf = &ir.Match{Node: node, Field: it.Field, Pattern: ir.Literal(strings.ToLower(t.text))}
		default:
			leaf = &ir.Match{Node: node, Field: it.Field, Pattern: ir.ParsePattern(t.text)}
		}
		it.Values = []*Value{{Pos: it.Pos, Alts: []ir.Expr{leaf}}}
		return it, nil
	})
}

func readConvertType(p *params) transformation {
	target, tn := p.need("target_type")
	if target != "str" && target != "num" && target != "" {
		p.r.errorf(tn, "%s: target_type must be `str` or `num`, not %s", p.what, diag.Quote(target))
	}
	return &leafRewrite{fn: func(c *ctx, it *Item, leaf ir.Expr) ([]ir.Expr, *diag.Diagnostic) {
		switch n := leaf.(type) {
		case *ir.Number:
			if target == "str" {
				return []ir.Expr{&ir.Match{Node: n.Node, Field: n.Field, Pattern: ir.ParsePattern(n.Text)}}, nil
			}
		case *ir.Match:
			if target == "num" {
				_, s := n.Pattern.Shape()
				f, err := strconv.ParseFloat(s, 64)
				if n.Pattern.HasWildcards() || err != nil {
					return nil, c.errorf(n.Pos, "convert_type: %s cannot be converted to a number for the field %s", diag.Quote(n.Pattern.String()), diag.Quote(it.Field))
				}
				return []ir.Expr{&ir.Number{Node: n.Node, Field: n.Field, Op: ir.Eq, Value: f, Text: s}}, nil
			}
		}
		return nil, nil
	}}
}

func readToRegex(p *params) transformation {
	method := p.str("method", "ignore_case_brackets")
	switch method {
	case "plain", "ignore_case_flag", "ignore_case_brackets":
	default:
		p.r.errorf(p.at("method"), "%s: method must be plain, ignore_case_flag or ignore_case_brackets, not %s", p.what, diag.Quote(method))
	}
	return &leafRewrite{fn: func(c *ctx, it *Item, leaf ir.Expr) ([]ir.Expr, *diag.Diagnostic) {
		m, ok := leaf.(*ir.Match)
		if !ok || len(m.Pattern) == 0 {
			return nil, nil
		}
		var b strings.Builder
		for _, s := range m.Pattern {
			switch s.Kind {
			case ir.Star:
				b.WriteString(".*")
			case ir.One:
				b.WriteString(".")
			case ir.Placeholder:
				return nil, c.errorf(m.Pos, "regex: the value %s still holds a placeholder; resolve it first (value_placeholders)", diag.Quote(m.Pattern.String()))
			case ir.Lit:
				for _, r := range s.Text {
					lo, up := unicode.ToLower(r), unicode.ToUpper(r)
					if method == "ignore_case_brackets" && lo != up {
						b.WriteString("[" + string(lo) + string(up) + "]")
					} else {
						b.WriteString(regexp.QuoteMeta(string(r)))
					}
				}
			}
		}
		// A Sigma string test is anchored; the regex IR node searches.
		return []ir.Expr{&ir.Regex{Node: m.Node, Field: m.Field, Pattern: "^" + b.String() + "$", IgnoreCase: method == "ignore_case_flag"}}, nil
	}}
}

func readCase(p *params) transformation {
	method, mn := p.need("method")
	var fn func(string) string
	switch method {
	case "lower":
		fn = strings.ToLower
	case "upper":
		fn = strings.ToUpper
	case "snake_case":
		fn = func(s string) string {
			var b strings.Builder
			for i, r := range s {
				if i > 0 && r >= 'A' && r <= 'Z' {
					b.WriteByte('_')
				}
				b.WriteRune(unicode.ToLower(r))
			}
			return b.String()
		}
	default:
		p.r.errorf(mn, "%s: method must be lower, upper or snake_case, not %s", p.what, diag.Quote(method))
		fn = func(s string) string { return s }
	}
	return &leafRewrite{fn: func(c *ctx, it *Item, leaf ir.Expr) ([]ir.Expr, *diag.Diagnostic) {
		m, ok := leaf.(*ir.Match)
		if !ok {
			return nil, nil
		}
		out := make(ir.Pattern, len(m.Pattern))
		for i, s := range m.Pattern {
			if s.Kind == ir.Lit {
				s.Text = fn(s.Text)
			}
			out[i] = s
		}
		cp := *m
		cp.Pattern = out
		return []ir.Expr{&cp}, nil
	}}
}

type failure struct {
	msg     string
	perItem bool
}

func (t *failure) apply(c *ctx) *diag.Diagnostic {
	if !t.perItem {
		return c.errorf(c.s.Pos, "%s", t.msg)
	}
	return c.eachItem(func(it *Item) (ir.Expr, *diag.Diagnostic) {
		return nil, c.errorf(it.Pos, "%s", t.msg)
	})
}

type strictMapping struct{}

// apply fails for the fields of detection items no earlier mapping of
// this run renamed (from or to); the items the pipeline added are its own
// (pySigma would count them too). `--unmapped keep|drop|error` turns it off.
func (strictMapping) apply(c *ctx) *diag.Diagnostic {
	if c.s.Rule == nil || c.s.SkipStrict {
		return nil
	}
	if missing, first := c.s.Unmapped(); len(missing) > 0 {
		return c.errorf(first, "the pipeline maps no field named %s; map them, leave the rule out, or pass --unmapped keep", strings.Join(missing, ", "))
	}
	return nil
}

// Rule level -----------------------------------------------------------

type addCondition struct {
	items    []sigma.FieldItem
	name     string
	template bool
	negated  bool
}

func readAddCondition(p *params) transformation {
	t := &addCondition{template: p.boolean("template", false), negated: p.boolean("negated", false)}
	t.name = p.str("name", "")
	if t.name == "" {
		t.name = "_cond_" + randomName()
	}
	n := p.get("conditions")
	if n == nil {
		p.r.errorf(p.node, "%s needs `conditions`, a mapping of `field|modifiers: values`", p.what)
		return t
	}
	items, diags := sigma.LoadItems(p.r.file, n)
	p.r.diags = append(p.r.diags, diags...)
	t.items = items
	return t
}

// randomName is pySigma's `_cond_` suffix: ten lower-case letters, chosen
// once per processing item. Its value never reaches a query.
func randomName() string {
	b := make([]byte, 10)
	for i := range b {
		b[i] = byte('a' + rand.IntN(26))
	}
	return string(b)
}

// apply ANDs the added detection in front of every condition: `added and
// (original)`, or `not added and (original)` when negated. Later items
// process the added items like any other; earlier ones never saw them.
func (t *addCondition) apply(c *ctx) *diag.Diagnostic {
	if c.s.Rule == nil || len(t.items) == 0 || len(c.s.Conditions) == 0 {
		return nil
	}
	items := t.items
	if t.template {
		items = make([]sigma.FieldItem, len(t.items))
		for i, it := range t.items {
			it.Values = append([]sigma.Value(nil), it.Values...)
			for j, v := range it.Values {
				if v.Kind == sigma.String {
					it.Values[j].Raw = c.s.templateLogsource(v.Raw)
				}
			}
			items[i] = it
		}
	}
	if c.s.Compile == nil {
		return c.errorf(c.s.Pos, "internal: no item compiler")
	}
	compiled, diags := c.s.Compile(items)
	if diags.HasErrors() {
		return diags[0]
	}
	args := make([]ir.Expr, len(compiled))
	for i, it := range compiled {
		it.added = true
		it.applied = map[string]bool{}
		if c.pi.ID != "" {
			it.applied[c.pi.ID] = true
		}
		args[i] = it
	}
	pos := c.pi.Pos
	added := ir.Expr(&ir.And{Node: ir.Node{Pos: pos}, Args: args})
	if t.negated {
		added = &ir.Not{Node: ir.Node{Pos: pos}, Arg: added}
	}
	for i, cond := range c.s.Conditions {
		c.s.Conditions[i] = &ir.And{Node: ir.Node{Pos: cond.Position()}, Args: []ir.Expr{added, cond}}
	}
	return nil
}

// templateLogsource substitutes $category, $product and $service with the
// current logsource (Python's safe_substitute: unknown names stay; an
// unset attribute reads "None").
func (s *Subject) templateLogsource(v string) string {
	get := func(x string) string {
		if x == "" {
			return "None"
		}
		return x
	}
	r := strings.NewReplacer("$$", "$", "${category}", get(s.Logsource.Category), "${product}", get(s.Logsource.Product), "${service}", get(s.Logsource.Service),
		"$category", get(s.Logsource.Category), "$product", get(s.Logsource.Product), "$service", get(s.Logsource.Service))
	return r.Replace(v)
}

type changeLogsource struct{ ls ir.Logsource }

func readChangeLogsource(p *params) transformation {
	t := &changeLogsource{ls: ir.Logsource{Category: p.str("category", ""), Product: p.str("product", ""), Service: p.str("service", "")}}
	if t.ls == (ir.Logsource{}) {
		p.r.errorf(p.node, "%s needs at least one of `category`, `product`, `service`", p.what)
	}
	return t
}

// apply replaces the whole logsource: attributes it does not name become
// unset (pySigma).
func (t *changeLogsource) apply(c *ctx) *diag.Diagnostic {
	if c.s.Rule != nil {
		*c.s.Logsource = t.ls
	}
	return nil
}

type fieldsList struct {
	op    string
	names []string
}

func (t *fieldsList) apply(c *ctx) *diag.Diagnostic {
	switch t.op {
	case "add":
		c.s.Fields = append(c.s.Fields, t.names...)
	case "set":
		c.s.Fields = append([]string(nil), t.names...)
	case "remove":
		for _, n := range t.names {
			for i, f := range c.s.Fields {
				if f == n {
					c.s.Fields = append(c.s.Fields[:i:i], c.s.Fields[i+1:]...)
					break
				}
			}
		}
	}
	return nil
}

type setState struct{ key, val string }

func readSetState(p *params) transformation {
	k, _ := p.need("key")
	v, _ := p.need("val")
	return &setState{key: k, val: v}
}

func (t *setState) apply(c *ctx) *diag.Diagnostic {
	c.s.state[t.key] = t.val
	return nil
}

type customAttribute struct{ key, val string }

func readCustomAttribute(p *params) transformation {
	k, _ := p.need("attribute")
	v, _ := p.need("value")
	return &customAttribute{key: k, val: v}
}

func (t *customAttribute) apply(c *ctx) *diag.Diagnostic {
	c.s.Custom[t.key] = t.val
	return nil
}

type nest struct{ items []*ProcessingItem }

func readNest(p *params) transformation {
	n := p.get("items")
	if n == nil {
		p.r.errorf(p.node, "%s needs `items`, a list of processing items", p.what)
		return &nest{}
	}
	return &nest{items: p.r.items(n, "transformation")}
}

// apply runs the nested items in order as one more pipeline whose vars
// are empty, as pySigma's are; state and marks carry over.
func (t *nest) apply(c *ctx) *diag.Diagnostic {
	inner := &Pipeline{Vars: map[string][]string{}}
	for _, pi := range t.items {
		if d := pi.run(inner, c.s); d != nil {
			return d
		}
	}
	return nil
}
