package pipeline

import (
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/sigc-project/sigc/diag"
)

// reader walks a pipeline document, keeping every problem with its
// position; a key nobody asked for is an error, never ignored.
type reader struct {
	file  string
	diags diag.List
	count int // processing items read so far
}

func (r *reader) pos(n *yaml.Node) diag.Pos {
	return diag.Pos{File: r.file, Line: n.Line, Col: n.Column}
}

// errorf reports at n (at the file's start when n is missing: every
// caller passes a node, this only keeps a mistake from panicking).
func (r *reader) errorf(n *yaml.Node, format string, args ...any) {
	pos := diag.Pos{File: r.file, Line: 1, Col: 1}
	if n != nil {
		pos = r.pos(n)
	}
	r.diags.Add(diag.Errorf(pos, format, args...))
}

// at is the node of a key, or the mapping's own node when it is absent.
func (p *params) at(key string) *yaml.Node {
	if n := p.keys[key]; n != nil {
		return n
	}
	return p.node
}

// deref follows aliases (the document's expansion was bounded when it was
// parsed).
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 32; i++ {
		n = n.Alias
	}
	return n
}

// params is one mapping whose keys are read one by one.
type params struct {
	r    *reader
	node *yaml.Node
	keys map[string]*yaml.Node
	kpos map[string]*yaml.Node
	used map[string]bool
	what string // "transformation `field_name_mapping`", for messages
}

func (r *reader) params(n *yaml.Node, what string) *params {
	n = deref(n)
	p := &params{r: r, node: n, keys: map[string]*yaml.Node{}, kpos: map[string]*yaml.Node{}, used: map[string]bool{}, what: what}
	if n == nil || n.Kind != yaml.MappingNode {
		if n != nil {
			r.errorf(n, "%s must be a mapping of keys to values", what)
		}
		return p
	}
	var merged []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k.Tag == "!!merge" || (k.Value == "<<" && k.Style == 0) {
			merged = append(merged, mergeSources(deref(v))...) // YAML merge keys, as PyYAML reads them
			continue
		}
		if _, dup := p.keys[k.Value]; dup {
			r.errorf(k, "key %s is repeated in %s; keep one", diag.Quote(k.Value), what)
			continue
		}
		p.keys[k.Value] = deref(v)
		p.kpos[k.Value] = k
	}
	for _, m := range merged { // keys written in the mapping win
		for i := 0; i+1 < len(m.Content); i += 2 {
			k := deref(m.Content[i])
			if _, ok := p.keys[k.Value]; !ok {
				p.keys[k.Value] = deref(m.Content[i+1])
				p.kpos[k.Value] = k
			}
		}
	}
	return p
}

// mergeSources lists the mappings a merge key names: one, or a list.
func mergeSources(v *yaml.Node) []*yaml.Node {
	switch v.Kind {
	case yaml.MappingNode:
		return []*yaml.Node{v}
	case yaml.SequenceNode:
		var out []*yaml.Node
		for _, c := range v.Content {
			if c = deref(c); c.Kind == yaml.MappingNode {
				out = append(out, c)
			}
		}
		return out
	}
	return nil
}

func (p *params) has(key string) bool { _, ok := p.keys[key]; return ok }

func (p *params) get(key string) *yaml.Node {
	p.used[key] = true
	return p.keys[key]
}

// finish reports the keys nobody read.
func (p *params) finish(known ...string) {
	var unknown []string
	for k := range p.keys {
		if !p.used[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Slice(unknown, func(i, j int) bool { return p.kpos[unknown[i]].Line < p.kpos[unknown[j]].Line })
	seen := map[string]bool{}
	var names []string
	for _, k := range known {
		if !seen[k] {
			seen[k] = true
			names = append(names, k)
		}
	}
	for _, k := range unknown {
		hint := ""
		if len(names) > 0 {
			hint = "; it takes " + strings.Join(quoteAll(names), ", ")
		}
		p.r.errorf(p.kpos[k], "%s has no key %s%s", p.what, diag.Quote(k), hint)
	}
}

func quoteAll(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = "`" + x + "`"
	}
	return out
}

// scalar reads a scalar as text (nulls as "" with ok=false).
func (p *params) scalar(n *yaml.Node, key string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		p.r.errorf(n, "%s: %s must be a single value, not a %s", p.what, diag.Quote(key), kindName(n))
		return "", false
	}
	if n.Tag == "!!null" {
		return "", false
	}
	return n.Value, true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "value"
}

// optional reads an optional scalar parameter: its text and node, or
// ok=false when it is absent or null.
func (p *params) optional(key string) (string, *yaml.Node, bool) {
	n := p.get(key)
	if n == nil {
		return "", nil, false
	}
	s, ok := p.scalar(n, key)
	return s, n, ok
}

// str reads an optional string parameter.
func (p *params) str(key, def string) string {
	if s, _, ok := p.optional(key); ok {
		return s
	}
	return def
}

// need reads a required string parameter.
func (p *params) need(key string) (string, *yaml.Node) {
	n := p.get(key)
	if n == nil {
		p.r.errorf(p.node, "%s needs %s", p.what, diag.Quote(key))
		return "", p.node
	}
	s, ok := p.scalar(n, key)
	if !ok && n.Kind == yaml.ScalarNode {
		p.r.errorf(n, "%s: %s is null; give it a value", p.what, diag.Quote(key))
	}
	return s, n
}

// kind reads an entry's `type` ("" when it is missing, null or empty,
// each reported); what names the entry ("a transformation").
func (p *params) kind(what string) (string, *yaml.Node) {
	typ, tn := p.need("type")
	if typ == "" && p.has("type") && tn.Tag != "!!null" {
		p.r.errorf(tn, "%s needs a type, not an empty string", what)
	}
	return typ, tn
}

func (p *params) boolean(key string, def bool) bool {
	s, n, ok := p.optional(key)
	if !ok {
		return def
	}
	switch strings.ToLower(s) {
	case "true", "yes", "on":
		return true
	case "false", "no", "off":
		return false
	}
	p.r.errorf(n, "%s: %s must be true or false, not %s", p.what, diag.Quote(key), diag.Quote(s))
	return def
}

func (p *params) integer(key string, def int) int {
	s, n, ok := p.optional(key)
	if !ok {
		return def
	}
	var v int
	if _, err := fmt.Sscanf(s, "%d", &v); err != nil || fmt.Sprint(v) != strings.TrimPrefix(s, "+") {
		p.r.errorf(n, "%s: %s must be a whole number, not %s", p.what, diag.Quote(key), diag.Quote(s))
		return def
	}
	return v
}

// list reads a string or a list of strings.
func (p *params) list(key string) []string {
	n := p.get(key)
	if n == nil {
		return nil
	}
	return p.r.strings(n, p.what+": "+diag.Quote(key))
}

func (r *reader) strings(n *yaml.Node, what string) []string {
	n = deref(n)
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil
		}
		return []string{n.Value}
	case yaml.SequenceNode:
		out := make([]string, 0, len(n.Content))
		for _, c := range n.Content {
			c = deref(c)
			if c.Kind != yaml.ScalarNode {
				r.errorf(c, "%s: list entries must be single values, not a %s", what, kindName(c))
				continue
			}
			out = append(out, c.Value)
		}
		return out
	}
	r.errorf(n, "%s must be a value or a list of values, not a mapping", what)
	return nil
}

// entry is one key of a mapping parameter with its values.
type entry struct {
	Key    string
	Values []string
	Node   *yaml.Node // the key, for positions
	Val    *yaml.Node
}

// mapping reads `key: value-or-list` pairs in written order.
func (p *params) mapping(key string, required bool) []entry {
	n := p.get(key)
	if n == nil {
		if required {
			p.r.errorf(p.node, "%s needs %s", p.what, diag.Quote(key))
		}
		return nil
	}
	return p.r.entries(n, p.what+": "+diag.Quote(key))
}

func (r *reader) entries(n *yaml.Node, what string) []entry {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		r.errorf(n, "%s must be a mapping", what)
		return nil
	}
	var out []entry
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if seen[k.Value] {
			r.errorf(k, "%s: key %s is repeated; keep one", what, diag.Quote(k.Value))
			continue
		}
		seen[k.Value] = true
		out = append(out, entry{Key: k.Value, Values: r.strings(v, what+" "+diag.Quote(k.Value)), Node: k, Val: v})
	}
	return out
}
