package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"text/template"
	"text/template/parse"

	"gopkg.in/yaml.v3"

	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/diag"
	"github.com/sigc-project/sigc/sigma"
)

// postprocessor rewrites one rendered query of one rule.
type postprocessor interface {
	post(q *QueryContext, query string) (string, error)
}

// QueryContext is what query templates see: `.Query`, `.Rule` (title, id,
// level, tags, custom attributes…), `.Pipeline.Vars` — the names pySigma's
// templates use, in Go's text/template syntax (`{{.Rule.Title}}`).
type QueryContext struct {
	Query    string
	Rule     TemplateRule
	Pipeline TemplatePipeline
	subject  *Subject // for simple_template's {rule.…}
}

// TemplateRule is the rule's metadata as templates see it.
type TemplateRule struct {
	ID, Name, Title, Level, Status, Description, Author, Date, Modified string
	Tags, References, Falsepositives                                    []string
	// Fields are the rule's `fields:` after the pipeline renamed them.
	Fields    []string
	Custom    map[string]string
	Logsource ir.Logsource
}

// TemplatePipeline is the pipeline as templates see it: each var's values
// joined by commas ({{index .Pipeline.Vars "name"}}).
type TemplatePipeline struct {
	Name string
	Vars map[string]string
}

func templateVars(vars map[string][]string) map[string]string {
	out := make(map[string]string, len(vars))
	for k, v := range vars {
		out[k] = strings.Join(v, ",")
	}
	return out
}

// postprocessors is pySigma's postprocessing registry (filled in init:
// `nest` reads items, which look the registry up).
var postprocessors map[string]func(*params) postprocessor

func init() { postprocessors = postprocessorRegistry() }

func postprocessorRegistry() map[string]func(*params) postprocessor {
	return map[string]func(*params) postprocessor{
		"embed": func(p *params) postprocessor {
			return &embedPost{prefix: p.str("prefix", ""), suffix: p.str("suffix", "")}
		},
		"simple_template": readPyTemplate,
		"template":        readGoTemplate,
		"json":            readJSONEmbed,
		"replace": func(p *params) postprocessor {
			pat, pn := p.need("pattern")
			re, err := regexp.Compile(pat)
			if err != nil {
				p.r.errorf(pn, "%s: the pattern does not compile (RE2 syntax): %v", p.what, err)
				re = regexp.MustCompile(`$^`)
			}
			return &replace{re: re, repl: pyReplacement(p.str("replacement", ""))}
		},
		"nest": func(p *params) postprocessor {
			n := p.get("items")
			if n == nil {
				p.r.errorf(p.node, "%s needs `items`", p.what)
				return &nestPost{}
			}
			return &nestPost{items: p.r.items(n, "postprocessing")}
		},
	}
}

type embedPost struct{ prefix, suffix string }

func (e *embedPost) post(_ *QueryContext, q string) (string, error) {
	return e.prefix + q + e.suffix, nil
}

type replace struct {
	re   *regexp.Regexp
	repl string
}

func (r *replace) post(_ *QueryContext, q string) (string, error) {
	return r.re.ReplaceAllString(q, r.repl), nil
}

type nestPost struct{ items []*ProcessingItem }

func (n *nestPost) post(q *QueryContext, query string) (string, error) {
	return runPost(n.items, q, query)
}

type goTemplate struct{ t *template.Template }

func readGoTemplate(p *params) postprocessor {
	src, sn := p.need("template")
	if p.has("path") || p.has("vars") {
		p.get("path")
		p.get("vars")
		p.r.errorf(p.node, "%s: `path` and `vars` read files at conversion time; sigc takes the template inline", p.what)
	}
	p.boolean("autoescape", false)
	t, err := parseTemplate("template", src)
	if err != nil {
		p.r.errorf(sn, "%s: %v", p.what, err)
		t = template.Must(template.New("template").Parse("{{.Query}}"))
	}
	return &goTemplate{t: t}
}

func (g *goTemplate) post(q *QueryContext, _ string) (string, error) {
	var b bytes.Buffer
	if err := g.t.Execute(&b, q); err != nil {
		return "", fmt.Errorf("the template cannot be filled: %v (it sees .Query, .Rule.Title, .Rule.ID, .Rule.Level, .Rule.Tags, .Rule.Fields, .Rule.Custom, .Rule.Logsource, .Pipeline.Vars)", err)
	}
	return b.String(), nil
}

// pyTemplate is simple_template: Python's str.format with `{query}`,
// `{rule.title}`, `{rule.id}`…, `{pipeline.vars[name]}`; `{{` and `}}`
// are literal braces.
type pyTemplate struct{ parts []pyPart }

type pyPart struct {
	text string
	ref  string // "" for text
}

var pyFieldRE = regexp.MustCompile(`^(query|rule\.[a-z_]+|pipeline\.(?:name|vars\[[^\]]+\]))$`)

func readPyTemplate(p *params) postprocessor {
	src, sn := p.need("template")
	t := &pyTemplate{}
	var text strings.Builder
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '{' && i+1 < len(src) && src[i+1] == '{':
			text.WriteByte('{')
			i++
		case c == '}' && i+1 < len(src) && src[i+1] == '}':
			text.WriteByte('}')
			i++
		case c == '{':
			end := strings.IndexByte(src[i:], '}')
			if end < 0 {
				p.r.errorf(sn, "%s: `{` at offset %d is not closed; write `{{` for a literal brace", p.what, i)
				return t
			}
			ref := src[i+1 : i+end]
			if !pyFieldRE.MatchString(ref) {
				p.r.errorf(sn, "%s: {%s} is not a field sigc fills; use {query}, {rule.title}, {rule.id}, {rule.level}… or {pipeline.vars[name]}", p.what, ref)
			}
			t.parts = append(t.parts, pyPart{text: text.String()}, pyPart{ref: ref})
			text.Reset()
			i += end
		case c == '}':
			p.r.errorf(sn, "%s: a single `}` at offset %d; write `}}` for a literal brace", p.what, i)
			return t
		default:
			text.WriteByte(c)
		}
	}
	t.parts = append(t.parts, pyPart{text: text.String()})
	return t
}

func (t *pyTemplate) post(q *QueryContext, _ string) (string, error) {
	var b strings.Builder
	for _, p := range t.parts {
		if p.ref == "" {
			b.WriteString(p.text)
			continue
		}
		v, err := q.lookup(p.ref)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

func (q *QueryContext) lookup(ref string) (string, error) {
	switch {
	case ref == "query":
		return q.Query, nil
	case ref == "pipeline.name":
		return q.Pipeline.Name, nil
	case strings.HasPrefix(ref, "pipeline.vars["):
		k := strings.Trim(strings.TrimSuffix(strings.TrimPrefix(ref, "pipeline.vars["), "]"), `'"`)
		v, ok := q.Pipeline.Vars[k]
		if !ok {
			return "", fmt.Errorf("the template names pipeline.vars[%s], which the pipeline does not define", k)
		}
		return v, nil
	}
	name := strings.TrimPrefix(ref, "rule.")
	if m := q.subject.meta(); m != nil {
		if v, known := metaField(m, name); known {
			return v, nil
		}
	}
	switch {
	case listAttributes[name]:
		return strings.Join(q.subject.listAttribute(name), ", "), nil
	case name == "logsource":
		ls := q.Rule.Logsource
		return strings.Trim(strings.Join([]string{ls.Category, ls.Product, ls.Service}, "/"), "/"), nil
	}
	if v, ok := q.subject.Custom[name]; ok {
		return v, nil
	}
	return "", fmt.Errorf("the template names {%s}, which this rule does not have", ref)
}

type jsonEmbed struct{ doc any }

func readJSONEmbed(p *params) postprocessor {
	src, sn := p.need("json_template")
	var doc any
	if !p.has("json_template") {
		return &jsonEmbed{}
	}
	if err := json.Unmarshal([]byte(src), &doc); err != nil {
		p.r.errorf(sn, "%s: json_template is not JSON: %v", p.what, err)
	}
	return &jsonEmbed{doc: doc}
}

// post puts the query wherever a string value is exactly `%QUERY%`.
func (j *jsonEmbed) post(_ *QueryContext, q string) (string, error) {
	var fill func(any) any
	fill = func(v any) any {
		switch x := v.(type) {
		case string:
			if x == "%QUERY%" {
				return q
			}
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = fill(e)
			}
			return out
		case map[string]any:
			out := make(map[string]any, len(x))
			for k, e := range x {
				out[k] = fill(e)
			}
			return out
		}
		return v
	}
	b, err := json.Marshal(fill(j.doc))
	return string(b), err
}

// PostprocessQuery runs the pipeline's postprocessing items whose rule
// conditions hold over one rendered query. s is the rule (Rule or
// Correlation set, Logsource and Custom as compiled).
func (p *Pipeline) PostprocessQuery(s *Subject, query string) (string, error) {
	if p == nil || len(p.Postprocessing) == 0 {
		return query, nil
	}
	if s.applied == nil { // not through Apply (a correlation): empty state
		custom := s.Custom
		s.init()
		if custom != nil {
			s.Custom = custom
		}
	}
	q := &QueryContext{Query: query, Rule: s.templateRule(), Pipeline: TemplatePipeline{Name: p.Name, Vars: templateVars(p.Vars)}, subject: s}
	return runPostWith(p.Postprocessing, s, q, query)
}

func (s *Subject) templateRule() TemplateRule {
	var m sigma.Meta
	if mp := s.meta(); mp != nil {
		m = *mp
	}
	return TemplateRule{ID: m.ID, Name: m.Name, Title: m.Title, Level: m.Level, Status: m.Status, Description: m.Description,
		Author: m.Author, Date: m.Date, Modified: m.Modified, Tags: m.Tags, Fields: s.Fields, Custom: s.Custom, Logsource: *s.Logsource,
		References: s.listAttribute("references"), Falsepositives: s.listAttribute("falsepositives")}
}

func runPost(items []*ProcessingItem, q *QueryContext, query string) (string, error) {
	return runPostWith(items, nil, q, query)
}

func runPostWith(items []*ProcessingItem, s *Subject, q *QueryContext, query string) (string, error) {
	for _, it := range items {
		if s != nil && !it.rule.evalRule(func(c any) bool { return c.(ruleCond).rule(s) }) {
			continue
		}
		q.Query = query
		out, err := it.post.post(q, query)
		if err != nil {
			return "", fmt.Errorf("postprocessing %s: %v", it.describe(), err)
		}
		query = out
	}
	return query, nil
}

// Finalizer turns the list of every query into the output.
type Finalizer struct {
	Type string
	Pos  diag.Pos
	fin  func(queries []string, p *Pipeline) (string, error)
}

func (r *reader) finalizers(n *yaml.Node) []*Finalizer {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		r.errorf(n, "`finalizers` must be a list, each with a `type`")
		return nil
	}
	var out []*Finalizer
	for _, c := range n.Content {
		if f := r.finalizer(c); f != nil {
			out = append(out, f)
		}
	}
	return out
}

func (r *reader) finalizer(n *yaml.Node) *Finalizer {
	p := r.params(n, "a finalizer")
	typ, tn := p.kind("a finalizer")
	if typ == "" {
		return nil
	}
	p.what = "finalizer " + diag.Quote(typ)
	f := &Finalizer{Type: typ, Pos: r.pos(tn)}
	switch typ {
	case "concat":
		sep, prefix, suffix := p.str("separator", "\n"), p.str("prefix", ""), p.str("suffix", "")
		f.fin = func(qs []string, _ *Pipeline) (string, error) { return prefix + strings.Join(qs, sep) + suffix, nil }
	case "json":
		indent := p.integer("indent", -1)
		if indent > 32 {
			r.errorf(p.at("indent"), "%s: indent %d is more than 32 spaces", p.what, indent)
			return nil
		}
		f.fin = func(qs []string, _ *Pipeline) (string, error) {
			var b []byte
			var err error
			if indent >= 0 {
				b, err = json.MarshalIndent(qs, "", strings.Repeat(" ", indent))
			} else {
				b, err = json.Marshal(qs)
			}
			return string(b), err
		}
	case "yaml":
		indent := p.integer("indent", 2)
		if indent > 32 {
			r.errorf(p.at("indent"), "%s: indent %d is more than 32 spaces", p.what, indent)
			return nil
		}
		f.fin = func(qs []string, _ *Pipeline) (string, error) {
			var b bytes.Buffer
			enc := yaml.NewEncoder(&b)
			enc.SetIndent(max(indent, 2))
			if err := enc.Encode(qs); err != nil {
				return "", err
			}
			return b.String(), enc.Close()
		}
	case "template":
		src, sn := p.need("template")
		t, err := parseTemplate("finalizer", src)
		if err != nil {
			r.errorf(sn, "%s: %v", p.what, err)
			return nil
		}
		f.fin = func(qs []string, pl *Pipeline) (string, error) {
			var b bytes.Buffer
			err := t.Execute(&b, struct {
				Queries  []string
				Pipeline TemplatePipeline
			}{qs, TemplatePipeline{Name: pl.Name, Vars: templateVars(pl.Vars)}})
			return b.String(), err
		}
	case "nested":
		inner := p.get("finalizers")
		if inner == nil {
			r.errorf(tn, "finalizer `nested` needs `finalizers`")
			return nil
		}
		subs := r.finalizers(inner)
		f.fin = func(qs []string, pl *Pipeline) (string, error) {
			return finalize(subs, qs, pl)
		}
	default:
		r.errorf(tn, "unknown finalizer type %s; sigc knows concat, json, yaml, template, nested", diag.Quote(typ))
		return nil
	}
	p.finish(p.usedKeys()...)
	return f
}

// Finalize turns every query into the output text; false when the
// pipeline has no finalizer (each query is then written on its own).
func (p *Pipeline) Finalize(queries []string) (string, bool, error) {
	if p == nil || len(p.Finalizers) == 0 {
		return "", false, nil
	}
	out, err := finalize(p.Finalizers, queries, p)
	return out, true, err
}

// finalize chains finalizers: each one's output is the next one's only
// query.
func finalize(fs []*Finalizer, queries []string, p *Pipeline) (string, error) {
	out := ""
	for i, f := range fs {
		if i > 0 {
			queries = []string{out}
		}
		var err error
		if out, err = f.fin(queries, p); err != nil {
			return "", fmt.Errorf("finalizer %s at %s: %v", diag.Quote(f.Type), f.Pos, err)
		}
	}
	return out, nil
}

// parseTemplate parses a Go text/template and keeps its work bounded by
// the size of its data: no {{define}} or {{template}} (a template calling
// another twice, nested, doubles the output at each level), and {{range}}
// only over data (.Queries, .Rule.Tags), never over a number.
func parseTemplate(name, src string) (*template.Template, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("the Go text/template does not parse: %v", err)
	}
	if len(t.Templates()) > 1 {
		return nil, fmt.Errorf("{{define}} is not allowed in a pipeline template; write the text inline")
	}
	var check func(n parse.Node) error
	check = func(n parse.Node) error {
		switch x := n.(type) {
		case *parse.ListNode:
			if x == nil {
				return nil
			}
			for _, c := range x.Nodes {
				if err := check(c); err != nil {
					return err
				}
			}
		case *parse.TemplateNode:
			return fmt.Errorf("{{template %q}} is not allowed in a pipeline template", x.Name)
		case *parse.RangeNode:
			if len(x.Pipe.Cmds) != 1 || len(x.Pipe.Cmds[0].Args) != 1 {
				return fmt.Errorf("{{range}} takes data (.Queries, .Rule.Tags), not an expression")
			}
			switch x.Pipe.Cmds[0].Args[0].(type) {
			case *parse.FieldNode, *parse.VariableNode, *parse.ChainNode, *parse.DotNode:
			default:
				return fmt.Errorf("{{range}} takes data (.Queries, .Rule.Tags), not a number or a function")
			}
			if err := check(x.List); err != nil {
				return err
			}
			return check(x.ElseList)
		case *parse.IfNode:
			if err := check(x.List); err != nil {
				return err
			}
			return check(x.ElseList)
		case *parse.WithNode:
			if err := check(x.List); err != nil {
				return err
			}
			return check(x.ElseList)
		}
		return nil
	}
	return t, check(t.Tree.Root)
}
