// Package pipeline reads pySigma processing pipelines (the YAML format
// pySigma and sigconverter.io accept) and applies them as a pass over the
// IR: after Sigma → IR, before any backend or the evaluator, so `convert`
// and `eval` see the same mapped, scoped rules.
//
// A rule's conditions reach the pass with their detection items intact
// (Item nodes in the tree); each processing item runs over the whole rule
// in order, as pySigma's do, and Assemble then lowers the items into the
// IR's tests.
package pipeline

import (
	"sort"

	"gopkg.in/yaml.v3"

	"github.com/sigc-project/sigc/diag"
	"github.com/sigc-project/sigc/sigma"
)

// Pipeline is one pipeline file, or the resolution of several.
type Pipeline struct {
	Name     string
	Priority int
	Pos      diag.Pos
	// Vars are the placeholder values, in name order when listed.
	Vars map[string][]string
	// AllowedBackends, when set, names the targets the pipeline is for.
	AllowedBackends []string
	Items           []*ProcessingItem
	Postprocessing  []*ProcessingItem
	Finalizers      []*Finalizer
}

// ProcessingItem is one entry of `transformations` (or `postprocessing`):
// a transformation and the conditions that decide where it applies.
type ProcessingItem struct {
	ID    string
	Type  string
	Pos   diag.Pos
	rule  condGroup
	item  condGroup
	field condGroup
	t     transformation
	post  postprocessor
}

// Load reads a pipeline file with the size and encoding limits of rule
// files.
func Load(path string) (*Pipeline, error) {
	name, src, d := sigma.ReadSource(path, nil)
	if d != nil {
		return nil, d
	}
	return Parse(name, src)
}

// Parse reads a pipeline from its text; path names it in messages. Every
// problem is reported at its line and column; an unknown key,
// transformation or condition type is an error.
func Parse(path string, src []byte) (*Pipeline, error) {
	root, diags := sigma.ParseDocument(path, src, "pipeline")
	if diags.HasErrors() {
		return nil, diags
	}
	if root == nil {
		return nil, diag.Errorf(diag.Pos{File: path, Line: 1, Col: 1}, "the pipeline file is empty; give it a `name` and `transformations`")
	}
	r := &reader{file: path}
	p := &Pipeline{Pos: r.pos(root), Vars: map[string][]string{}}
	top := r.params(root, "a pipeline")
	if top.has("detection") || top.has("correlation") || (top.has("logsource") && top.has("title")) {
		return nil, diag.Errorf(r.pos(root), "this is a Sigma rule, not a processing pipeline; pass rules as paths and pipelines with -p")
	}
	p.Name = top.str("name", "")
	p.Priority = top.integer("priority", 0)
	if n := top.get("vars"); n != nil {
		for _, e := range r.entries(n, "`vars`") {
			p.Vars[e.Key] = e.Values
		}
	}
	p.AllowedBackends = top.list("allowed_backends")
	if n := top.get("transformations"); n != nil {
		p.Items = r.items(n, "transformation")
	}
	if n := top.get("postprocessing"); n != nil {
		p.Postprocessing = r.items(n, "postprocessing")
	}
	if n := top.get("finalizers"); n != nil {
		p.Finalizers = r.finalizers(n)
	}
	if k, ok := top.kpos["field_mapping"]; ok {
		top.get("field_mapping")
		r.errorf(k, "`field_mapping` is the format of sigc before 0.2; pySigma pipelines (which sigc now reads) write it as `transformations: [{type: field_name_mapping, mapping: {...}}]`")
	}
	top.finish("name", "priority", "vars", "allowed_backends", "transformations", "postprocessing", "finalizers")
	if r.diags.HasErrors() {
		return nil, r.diags
	}
	return p, nil
}

// items reads a list of processing items.
func (r *reader) items(n *yaml.Node, kind string) []*ProcessingItem {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		r.errorf(n, "`%ss` must be a list of items, each with a `type`", kind)
		return nil
	}
	var out []*ProcessingItem
	for _, c := range n.Content {
		if r.count++; r.count > maxItems {
			r.errorf(c, "the pipeline has more than %d processing items (nested ones and aliases counted); split it", maxItems)
			return out
		}
		if it := r.item(c, kind); it != nil {
			out = append(out, it)
		}
	}
	return out
}

// maxItems bounds the processing items of one pipeline file, nested and
// repeated through aliases included: pipelines have tens to hundreds.
const maxItems = 5000

func (r *reader) item(n *yaml.Node, kind string) *ProcessingItem {
	p := r.params(n, "a "+kind)
	typ, tn := p.kind("a " + kind)
	if typ == "" {
		return nil
	}
	it := &ProcessingItem{Type: typ, Pos: r.pos(tn)}
	it.ID = p.str("id", "")
	p.what = kind + " " + diag.Quote(typ)
	it.rule = r.condGroup(p, "rule", ruleConditions)
	known := []string{"type", "id", "rule_conditions", "rule_cond_expr", "rule_cond_op", "rule_cond_not"}
	if kind == "postprocessing" {
		mk, ok := postprocessors[typ]
		if !ok {
			r.errorf(tn, "unknown postprocessing type %s; sigc knows %s", diag.Quote(typ), listKeys(postprocessors))
			return nil
		}
		it.post = mk(p)
		p.finish(append(known, p.usedKeys()...)...)
		return it
	}
	it.item = r.condGroup(p, "detection_item", itemConditions)
	it.field = r.condGroup(p, "field_name", fieldConditions)
	known = append(known, "detection_item_conditions", "detection_item_cond_expr", "detection_item_cond_op", "detection_item_cond_not",
		"field_name_conditions", "field_name_cond_expr", "field_name_cond_op", "field_name_cond_not")
	if why, refused := refusedTransformations[typ]; refused {
		r.errorf(tn, "transformation %s is not supported: %s", diag.Quote(typ), why)
		return nil
	}
	mk, ok := transformations[typ]
	if !ok {
		r.errorf(tn, "unknown transformation type %s; sigc knows %s", diag.Quote(typ), listKeys(transformations))
		return nil
	}
	it.t = mk(p)
	p.finish(append(known, p.usedKeys()...)...)
	return it
}

func (p *params) usedKeys() []string {
	var out []string
	for k := range p.used {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func listKeys[V any](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := ""
	for i, k := range keys {
		if i > 0 {
			out += ", "
		}
		out += k
	}
	return out
}
