package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/sigc-project/sigc/diag"
)

// MaxFileSize bounds a rule file; Sigma rules are a few kilobytes.
const MaxFileSize = 4 << 20

// maxNodes bounds the YAML nodes visited per document, alias expansion
// included, so an alias bomb costs a bounded amount of work.
const maxNodes = 200_000

// maxDepth bounds nesting: Sigma rules nest a handful of levels.
const maxDepth = 64

// Load parses every YAML document of one file. Diagnostics name the file,
// line and column. It never panics on bad input.
func Load(file string, src []byte) (*Collection, diag.List) {
	var diags diag.List
	out := &Collection{}
	if d := screen(file, src, "for a rule file; is it really a Sigma rule?", "a YAML rule"); d != nil {
		diags.Add(d)
		return out, diags
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for docIndex := 0; ; docIndex++ {
		var doc yaml.Node
		err := safeDecode(dec, &doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			diags.Add(yamlError(file, err))
			break
		}
		l := &loader{file: file}
		l.loadDocument(&doc, out)
		for _, d := range l.diags {
			diags.Add(d)
		}
	}
	return out, diags
}

// screen refuses what no YAML input may be: larger than MaxFileSize,
// binary, not UTF-8. limitHint ends the size message, binaryAs names what
// the file should have been.
func screen(file string, src []byte, limitHint, binaryAs string) *diag.Diagnostic {
	if len(src) > MaxFileSize {
		return diag.Errorf(diag.Pos{File: file}, "file is %d bytes, larger than the %d-byte limit %s", len(src), MaxFileSize, limitHint)
	}
	if i := bytes.IndexByte(src, 0); i >= 0 {
		return diag.Errorf(offsetPos(file, src, i), "file contains a NUL byte; it is binary, not %s", binaryAs)
	}
	if i := diag.InvalidUTF8(src); i >= 0 {
		return diag.Errorf(offsetPos(file, src, i), "file is not valid UTF-8 here (byte 0x%02x); save it as UTF-8", src[i])
	}
	return nil
}

// offsetPos is the position of a byte offset of src.
func offsetPos(file string, src []byte, off int) diag.Pos {
	line, col := diag.LineCol(src, off, 1, 1)
	return diag.Pos{File: file, Line: line, Col: col}
}

// safeDecode turns a panic inside the YAML library into an error.
func safeDecode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return dec.Decode(n)
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlError(file string, err error) *diag.Diagnostic {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		var line int
		fmt.Sscanf(m[1], "%d", &line)
		return diag.Errorf(diag.Pos{File: file, Line: line, Col: 1}, "not valid YAML: %s", m[2])
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	return diag.Errorf(diag.Pos{File: file, Line: 1, Col: 1}, "not valid YAML: %s", msg)
}

type loader struct {
	file    string
	diags   []*diag.Diagnostic
	nodes   int
	aliases bool // the document uses aliases (for the size message)
	// counting is on while checkShape walks the document: the node budget
	// is spent there, once; loading the checked document visits nodes
	// again (keys twice, for merge keys) and must not run out of it.
	counting bool
}

func (l *loader) pos(n *yaml.Node) diag.Pos {
	return diag.Pos{File: l.file, Line: n.Line, Col: n.Column}
}

func (l *loader) errorf(n *yaml.Node, format string, args ...any) {
	l.diags = append(l.diags, diag.Errorf(l.pos(n), format, args...))
}

// resolve follows aliases, counting nodes so expansion stays bounded.
func (l *loader) resolve(n *yaml.Node) (*yaml.Node, bool) {
	for hops := 0; n != nil && n.Kind == yaml.AliasNode; hops++ {
		if hops > 16 {
			return nil, false
		}
		l.aliases = true
		n = n.Alias
	}
	if n == nil {
		return nil, false
	}
	if l.counting {
		l.nodes++
		if l.nodes > maxNodes {
			return nil, false
		}
	}
	return n, true
}

// checkShape rejects documents too deep or too large before any semantics.
func (l *loader) checkShape(n *yaml.Node, depth int) bool {
	if depth > maxDepth {
		l.errorf(n, "nesting deeper than %d levels; Sigma rules nest a few levels, check the indentation", maxDepth)
		return false
	}
	r, ok := l.resolve(n)
	if !ok {
		if l.aliases {
			l.errorf(n, "document expands to more than %d YAML nodes once its aliases (*name) are expanded; use fewer aliases", maxNodes)
		} else {
			l.errorf(n, "document has more than %d YAML nodes; a Sigma rule has hundreds, split it into several rules", maxNodes)
		}
		return false
	}
	for _, c := range r.Content {
		if !l.checkShape(c, depth+1) {
			return false
		}
	}
	return true
}

func (l *loader) loadDocument(doc *yaml.Node, out *Collection) {
	if doc.Kind == 0 {
		return
	}
	root := doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return
		}
		root = doc.Content[0]
	}
	l.counting = true
	ok := l.checkShape(root, 0)
	l.counting = false
	if !ok {
		return
	}
	root, _ = l.resolve(root)
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return // empty document between separators
	}
	if root.Kind != yaml.MappingNode {
		l.errorf(root, "a Sigma document must be a mapping of keys such as title, logsource and detection")
		return
	}
	keys := l.mapping(root)
	switch {
	case keys["action"] != nil:
		l.errorf(keys["action"], "legacy `action:` collections are not supported; split the file into complete rules, one per YAML document")
	case keys["correlation"] != nil:
		if c := l.loadCorrelation(root, keys); c != nil && len(l.diags) == 0 {
			out.Correlations = append(out.Correlations, c)
		}
	case keys["filter"] != nil && keys["detection"] == nil:
		// A document with errors is reported, never half-used.
		if f := l.loadFilter(root, keys); f != nil && len(l.diags) == 0 {
			out.Filters = append(out.Filters, f)
		}
	case keys["detection"] != nil:
		if r := l.loadRule(root, keys); r != nil && len(l.diags) == 0 {
			out.Rules = append(out.Rules, r)
		}
	default:
		l.errorf(root, "document has no `detection`, `filter` or `correlation` section; it is not a Sigma rule")
	}
}

// pairs calls fn for each key and value of a mapping node, aliases
// followed. YAML merge keys (`<<: *base`, `<<: [*a, *b]`) are expanded in
// place: the merged mapping's keys come where `<<` stands, the mapping's
// own keys override them, and among several merged mappings the first
// wins, as YAML 1.1 defines it.
func (l *loader) pairs(n *yaml.Node, fn func(k, v *yaml.Node)) {
	for _, kv := range l.mergedPairs(n, 0) {
		fn(kv[0], kv[1])
	}
}

func (l *loader) mergedPairs(n *yaml.Node, depth int) [][2]*yaml.Node {
	var own, out [][2]*yaml.Node
	ownKeys := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, _ := l.resolve(n.Content[i])
		if k != nil && k.Tag != "!!merge" {
			ownKeys[k.Value] = true
		}
	}
	taken := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, _ := l.resolve(n.Content[i])
		v, _ := l.resolve(n.Content[i+1])
		if k == nil || v == nil {
			continue
		}
		if k.Tag != "!!merge" {
			own = append(own, [2]*yaml.Node{k, v})
			out = append(out, own[len(own)-1])
			continue
		}
		if depth > 8 {
			l.errorf(k, "merge keys (`<<`) nest more than 8 deep; flatten them")
			continue
		}
		sources := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			sources = nil
			for _, c := range v.Content {
				if c, ok := l.resolve(c); ok {
					sources = append(sources, c)
				}
			}
		}
		for _, src := range sources {
			if src.Kind != yaml.MappingNode {
				l.errorf(src, "a merge key (`<<`) takes a mapping or a list of mappings, usually aliases such as *base")
				continue
			}
			for _, m := range l.mergedPairs(src, depth+1) {
				if ownKeys[m[0].Value] || taken[m[0].Value] {
					continue
				}
				taken[m[0].Value] = true
				out = append(out, m)
			}
		}
	}
	return out
}

// mapping indexes a mapping node's keys; duplicate keys are errors.
func (l *loader) mapping(n *yaml.Node) map[string]*yaml.Node {
	m := make(map[string]*yaml.Node, len(n.Content)/2)
	l.pairs(n, func(k, v *yaml.Node) {
		if _, dup := m[k.Value]; dup {
			l.errorf(k, "duplicate key %q; YAML keeps only one, merge them", k.Value)
			return
		}
		m[k.Value] = v
	})
	return m
}

func (l *loader) str(n *yaml.Node, what string) string {
	if n == nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		l.errorf(n, "%s must be a single value", what)
		return ""
	}
	return n.Value
}

func (l *loader) strList(n *yaml.Node, what string) []string {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	var out []string
	for _, v := range l.scalarList(n, what) {
		out = append(out, v.Raw)
	}
	return out
}

func (l *loader) loadLogsource(n *yaml.Node) Logsource {
	ls := Logsource{}
	if n == nil {
		return ls
	}
	ls.Pos = l.pos(n)
	if n.Kind != yaml.MappingNode {
		l.errorf(n, "logsource must be a mapping of category, product and service")
		return ls
	}
	m := l.mapping(n)
	ls.Category = l.str(m["category"], "logsource category")
	ls.Product = l.str(m["product"], "logsource product")
	ls.Service = l.str(m["service"], "logsource service")
	ls.Definition = l.str(m["definition"], "logsource definition")
	return ls
}

func (l *loader) loadMeta(keys map[string]*yaml.Node) Meta {
	for _, k := range []string{"id", "name"} {
		if n := keys[k]; n != nil && n.Kind == yaml.ScalarNode {
			if i := strings.IndexFunc(n.Value, Invisible); i >= 0 {
				r, _ := utf8.DecodeRuneInString(n.Value[i:])
				l.errorf(n, "%s holds the invisible character U+%04X; ids and names are references other rules and targets quote, use printable characters", k, r)
			}
		}
	}
	return Meta{
		Title: l.str(keys["title"], "title"), ID: l.str(keys["id"], "id"), Name: l.str(keys["name"], "name"),
		Status: l.str(keys["status"], "status"), Description: l.str(keys["description"], "description"),
		Author: l.str(keys["author"], "author"), Date: l.str(keys["date"], "date"),
		Modified: l.str(keys["modified"], "modified"), Level: l.str(keys["level"], "level"),
		Tags: l.strList(keys["tags"], "tags"),
	}
}

func (l *loader) loadRule(root *yaml.Node, keys map[string]*yaml.Node) *Rule {
	r := &Rule{File: l.file, Pos: l.pos(root), Meta: l.loadMeta(keys)}
	r.References = l.strList(keys["references"], "references")
	r.Falsepositives = l.strList(keys["falsepositives"], "falsepositives")
	r.Fields = l.strList(keys["fields"], "fields")
	if keys["title"] == nil {
		l.errorf(root, "rule has no title; add `title:`")
	}
	if keys["logsource"] == nil {
		l.errorf(root, "rule has no logsource; add `logsource:` with a category, product or service")
	}
	r.Logsource = l.loadLogsource(keys["logsource"])
	r.Detection = l.loadDetection(keys["detection"], "detection", nil)
	return r
}

func (l *loader) loadFilter(root *yaml.Node, keys map[string]*yaml.Node) *Filter {
	f := &Filter{File: l.file, Pos: l.pos(root), Meta: l.loadMeta(keys)}
	if keys["logsource"] == nil {
		l.errorf(root, "filter has no logsource; add `logsource:` (the filter applies to the named rules whose logsource it matches)")
	}
	f.Logsource = l.loadLogsource(keys["logsource"])
	fn := keys["filter"]
	if fn.Kind != yaml.MappingNode {
		l.errorf(fn, "filter must be a mapping with `rules`, selections and `condition`")
		return nil
	}
	var rulesNode *yaml.Node
	f.Detection = l.loadDetection(fn, "filter", func(k string, v *yaml.Node) bool {
		if k == "rules" {
			rulesNode = v
			return true
		}
		return false
	})
	if rulesNode == nil {
		l.errorf(fn, "filter has no `rules` list; name the rule ids or names it applies to (or `any`)")
		return nil
	}
	if rulesNode.Kind == yaml.ScalarNode && rulesNode.Tag == "!!null" {
		l.errorf(rulesNode, "filter `rules` is empty; list the rule ids or names it applies to, or write `any`")
		return nil
	}
	f.Rules = l.scalarList(rulesNode, "filter `rules` (rule ids or names)")
	return f
}

// loadDetection reads selections and the condition; extra lets the filter
// loader claim its own keys.
func (l *loader) loadDetection(n *yaml.Node, what string, extra func(string, *yaml.Node) bool) Detection {
	d := Detection{Pos: l.pos(n)}
	if n.Kind != yaml.MappingNode {
		l.errorf(n, "%s must be a mapping of named selections and a condition", what)
		return d
	}
	seen := map[string]bool{}
	l.pairs(n, func(k, v *yaml.Node) {
		if seen[k.Value] {
			l.errorf(k, "duplicate key %q in %s; YAML keeps only one, rename it", k.Value, what)
			return
		}
		seen[k.Value] = true
		switch k.Value {
		case "condition":
			d.Conditions = l.loadConditions(v)
			return
		case "timeframe":
			return // obsolete; correlation rules carry time spans now
		}
		if extra != nil && extra(k.Value, v) {
			return
		}
		if s := l.loadSearch(k, v); s != nil {
			d.Searches = append(d.Searches, s)
		}
	})
	if len(d.Conditions) == 0 {
		l.errorf(n, "%s has no condition; add `condition:` naming the selections", what)
	}
	return d
}

func (l *loader) loadConditions(v *yaml.Node) []Condition {
	switch v.Kind {
	case yaml.ScalarNode:
		return []Condition{l.condition(v)}
	case yaml.SequenceNode:
		var out []Condition
		for _, c := range v.Content {
			if c, ok := l.resolve(c); ok && c.Kind == yaml.ScalarNode {
				out = append(out, l.condition(c))
			} else if ok {
				l.errorf(c, "each condition must be a string")
			}
		}
		return out
	}
	l.errorf(v, "condition must be a string or a list of strings")
	return nil
}

func (l *loader) condition(n *yaml.Node) Condition {
	p := l.pos(n)
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		p.Col++
	}
	return Condition{Text: n.Value, Pos: p}
}

func (l *loader) loadSearch(k, v *yaml.Node) *Search {
	s := &Search{Name: k.Value, Pos: l.pos(k)}
	switch v.Kind {
	case yaml.MappingNode:
		s.Alts = []Alt{{Pos: l.pos(v), Items: l.loadItems(v)}}
	case yaml.SequenceNode:
		if len(v.Content) == 0 {
			l.errorf(v, "selection %q is an empty list; give it values", k.Value)
			return nil
		}
		for _, c := range v.Content {
			c, ok := l.resolve(c)
			if !ok {
				continue
			}
			switch c.Kind {
			case yaml.MappingNode:
				s.Alts = append(s.Alts, Alt{Pos: l.pos(c), Items: l.loadItems(c)})
			case yaml.ScalarNode:
				val := l.scalar(c)
				s.Alts = append(s.Alts, Alt{Pos: l.pos(c), Keyword: &val})
			default:
				l.errorf(c, "selection %q entries must be maps or keyword strings", k.Value)
			}
		}
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			l.errorf(v, "selection %q is empty; give it field: value pairs or keywords", k.Value)
			return nil
		}
		val := l.scalar(v)
		s.Alts = []Alt{{Pos: l.pos(v), Keyword: &val}}
	}
	return s
}

func (l *loader) loadItems(m *yaml.Node) []FieldItem {
	var items []FieldItem
	seen := map[string]bool{}
	l.pairs(m, func(k, v *yaml.Node) {
		if k.Kind != yaml.ScalarNode {
			l.errorf(k, "field names must be plain strings")
			return
		}
		if seen[k.Value] {
			l.errorf(k, "duplicate field %q in one selection; YAML keeps only one, use a list of values or `|all`", k.Value)
			return
		}
		seen[k.Value] = true
		if k.Value == "" {
			l.errorf(k, "empty field name; for a keyword search list the values under the selection, and write `'|all':` or `'|contains':` to give keywords modifiers")
			return
		}
		it := FieldItem{Pos: l.pos(k), Key: k.Value}
		parts := strings.Split(k.Value, "|")
		it.Field = parts[0]
		col := k.Column + len(parts[0])
		if k.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			col++
		}
		for _, p := range parts[1:] {
			it.Modifiers = append(it.Modifiers, Modifier{Name: p, Pos: diag.Pos{File: l.file, Line: k.Line, Col: col + 1}})
			col += 1 + len(p)
		}
		switch v.Kind {
		case yaml.ScalarNode:
			it.Values = []Value{l.scalar(v)}
		case yaml.SequenceNode:
			it.List = true
			for _, c := range v.Content {
				c, ok := l.resolve(c)
				if !ok {
					continue
				}
				if c.Kind != yaml.ScalarNode {
					l.errorf(c, "values of %q must be plain values, not nested lists or maps", k.Value)
					continue
				}
				it.Values = append(it.Values, l.scalar(c))
			}
			if len(v.Content) == 0 {
				l.errorf(v, "field %q has an empty list of values", k.Value)
				return
			}
		default:
			l.errorf(v, "value of %q must be a value or a list of values, not a map", k.Value)
			return
		}
		items = append(items, it)
	})
	return items
}

// tagged reads a scalar with an explicit tag.
func (l *loader) tagged(n *yaml.Node, v Value) Value {
	switch n.Tag {
	case "!!str":
	case "!!null":
		switch n.Value {
		case "", "~", "null", "Null", "NULL":
			v.Kind = Null
		default:
			l.errorf(n, "!!null takes no value, but has %s; remove the tag or the value", diag.Quote(n.Value))
		}
	case "!!bool":
		switch n.Value {
		case "true", "True", "TRUE", "false", "False", "FALSE":
			v.Kind = Bool
		default:
			l.errorf(n, "!!bool needs true or false, got %s", diag.Quote(n.Value))
		}
	case "!!int":
		if !intRE.MatchString(n.Value) {
			l.errorf(n, "!!int needs a decimal integer, got %s", diag.Quote(n.Value))
		}
		v.Kind = Int
	case "!!float":
		if !intRE.MatchString(n.Value) && !floatRE.MatchString(n.Value) {
			l.errorf(n, "!!float needs a decimal number, got %s", diag.Quote(n.Value))
		}
		v.Kind = Float
	default:
		l.errorf(n, "the YAML tag %s is not one sigc reads (it reads !!str, !!int, !!float, !!bool and !!null); remove it", n.Tag)
	}
	return v
}

// Invisible reports characters a reader cannot see or that change how the
// text around them is shown: control characters, format characters (bidi
// overrides, zero-width joiners, the byte order mark) and line and
// paragraph separators.
func Invisible(r rune) bool {
	return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

var (
	intRE = regexp.MustCompile(`^[-+]?(0|[1-9][0-9]*)$`)
	// A float as PyYAML (so pySigma) reads YAML 1.1: a point is required and
	// an exponent has a sign, so 1e3 and 1.0e3 are strings, 1.0e+3 a number.
	floatRE = regexp.MustCompile(`^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+][0-9]+)?$`)
)

// scalar reads a value as written: only plain (unquoted) scalars can be
// numbers, booleans or null, and a number with leading zeros stays a string.
//
// An explicit tag decides: `!!null ”` is null, `!!str 42` a string,
// `!!int '5'` a number; a tag sigc does not know is an error.
func (l *loader) scalar(n *yaml.Node) Value {
	v := Value{Pos: l.pos(n), Raw: n.Value, Kind: String}
	quoted := n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0
	if quoted {
		v.Pos.Col++
	}
	if n.Style&yaml.TaggedStyle != 0 {
		return l.tagged(n, v)
	}
	if quoted {
		return v
	}
	switch s := n.Value; {
	case s == "" || s == "~" || s == "null" || s == "Null" || s == "NULL":
		if n.Tag == "!!null" {
			v.Kind = Null
		}
	case s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE":
		v.Kind = Bool
	case intRE.MatchString(s):
		v.Kind = Int
	case floatRE.MatchString(s):
		v.Kind = Float
	}
	return v
}
