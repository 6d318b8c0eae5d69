package sigma

import (
	"bytes"
	"errors"
	"io"

	"gopkg.in/yaml.v3"

	"github.com/sigc-project/sigc/diag"
)

// ParseDocument reads a file holding one YAML document with the guards rule
// files get (size, NUL bytes, UTF-8, nesting depth, node budget with
// aliases expanded), for other YAML inputs such as processing pipelines.
// It returns the document's root node with aliases still in place (their
// expansion fits the budget); nil and no diagnostics for an empty file.
func ParseDocument(file string, src []byte, what string) (*yaml.Node, diag.List) {
	var diags diag.List
	if d := screen(file, src, "for a rule or pipeline file; is it really a "+what+"?", "a "+what); d != nil {
		diags.Add(d)
		return nil, diags
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	err := safeDecode(dec, &doc)
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		diags.Add(yamlError(file, err))
		return nil, diags
	}
	var next yaml.Node
	if err := safeDecode(dec, &next); !errors.Is(err, io.EOF) {
		p := diag.Pos{File: file, Line: next.Line, Col: next.Column}
		if err != nil {
			diags.Add(yamlError(file, err))
		} else {
			diags.Add(diag.Errorf(p, "a %s file holds one YAML document; remove the `---` and what follows, or split the file", what))
		}
		return nil, diags
	}
	l := &loader{file: file, counting: true}
	if !l.checkShape(&doc, 0) {
		return nil, l.diags
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0], nil
	}
	return &doc, nil
}

// LoadItems reads a mapping of `field|modifiers: values` (a selection) from
// another YAML input, such as a pipeline's add_condition, with the same
// rules and positions as a rule's selection.
func LoadItems(file string, n *yaml.Node) ([]FieldItem, diag.List) {
	l := &loader{file: file}
	r, ok := l.resolve(n)
	if !ok || r.Kind != yaml.MappingNode {
		if r == nil {
			r = n
		}
		l.errorf(r, "conditions must be a mapping of `field|modifiers: values`")
		return nil, l.diags
	}
	items := l.loadItems(r)
	return items, l.diags
}
