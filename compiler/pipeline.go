package compiler

import (
	"errors"
	"fmt"
	"io"
	"sort"

	"gopkg.in/yaml.v3"

	"github.com/sigc-project/sigc/diag"
	"github.com/sigc-project/sigc/sigma"
)

// Pipeline is a processing pipeline: placeholder values for `|expand` and a
// field name mapping applied to every rule before rendering or evaluation.
//
//	name: my-environment
//	vars:
//	  admin_users: [root, admin]
//	field_mapping:
//	  Image: ImageFileName
type Pipeline struct {
	Name         string              `yaml:"name"`
	Vars         map[string][]string `yaml:"vars"`
	FieldMapping map[string]string   `yaml:"field_mapping"`
	File         string              `yaml:"-"`
}

// LoadPipeline reads a pipeline file, with the same size limit and
// messages as rule files.
func LoadPipeline(path string) (*Pipeline, error) {
	name, src, d := sigma.ReadSource(path, nil)
	if d != nil {
		return nil, d
	}
	return ParsePipeline(name, src)
}

// ParsePipeline reads a pipeline from its text; path names it in messages.
func ParsePipeline(path string, src []byte) (*Pipeline, error) {
	if len(src) > sigma.MaxFileSize {
		return nil, diag.Errorf(diag.Pos{File: path}, "file is larger than the %d-byte limit for a rule or pipeline file; is it really one?", sigma.MaxFileSize)
	}
	var raw struct {
		Name         string            `yaml:"name"`
		Vars         map[string]any    `yaml:"vars"`
		FieldMapping map[string]string `yaml:"field_mapping"`
	}
	dec := yaml.NewDecoder(bytesReader(src))
	dec.KnownFields(true)
	if err := safeDecode(dec, &raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, diag.Errorf(diag.Pos{File: path, Line: 1, Col: 1}, "the pipeline file is empty; give it `name` and `field_mapping` or `vars`")
		}
		return nil, yamlPipelineError(path, err)
	}
	p := &Pipeline{Name: raw.Name, FieldMapping: raw.FieldMapping, File: path, Vars: map[string][]string{}}
	for k, v := range raw.Vars {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				p.Vars[k] = append(p.Vars[k], fmt.Sprint(e))
			}
		default:
			p.Vars[k] = []string{fmt.Sprint(x)}
		}
	}
	return p, nil
}

// Merge combines pipelines in order; later ones win on conflicts.
func Merge(ps []*Pipeline) *Pipeline {
	out := &Pipeline{Vars: map[string][]string{}, FieldMapping: map[string]string{}}
	for _, p := range ps {
		for k, v := range p.Vars {
			out.Vars[k] = v
		}
		for k, v := range p.FieldMapping {
			out.FieldMapping[k] = v
		}
	}
	return out
}

// mapField applies the field mapping.
func (p *Pipeline) mapField(f string) string {
	if p == nil {
		return f
	}
	if m, ok := p.FieldMapping[f]; ok {
		return m
	}
	return f
}

// VarNames lists the placeholders a pipeline defines (for error messages).
func (p *Pipeline) VarNames() []string {
	if p == nil {
		return nil
	}
	var out []string
	for k := range p.Vars {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
