package sumocheck

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The search scope (the keyword expression before the first pipe) and the
// extraction stages before `where`, as the docs describe them: metadata
// terms `_sourceCategory=value` (case-insensitive, `*` wildcards, a value
// with other characters double-quoted and then without wildcards), joined
// by spaces or AND, OR and parentheses; `parse regex "…(?<name>…)…"
// nodrop`; `json field=_raw "a.b", … as x, … nodrop`.

// scopeExpr is a parsed scope; nil matches every message (`*`).
type scopeExpr interface{ match(ev *Event) bool }

type scopeAnd []scopeExpr
type scopeOr []scopeExpr

type scopeTerm struct {
	field string
	glob  *regexp.Regexp
}

func (a scopeAnd) match(ev *Event) bool {
	for _, x := range a {
		if !x.match(ev) {
			return false
		}
	}
	return true
}

func (o scopeOr) match(ev *Event) bool {
	for _, x := range o {
		if x.match(ev) {
			return true
		}
	}
	return false
}

func (t *scopeTerm) match(ev *Event) bool {
	for _, v := range field(t.field, ev) {
		if t.glob.MatchString(v) {
			return true
		}
	}
	return false
}

// metadataFields are the built-in fields a scope may select on.
var metadataFields = map[string]bool{"_sourcecategory": true, "_index": true, "_view": true, "_sourcehost": true, "_sourcename": true, "_source": true, "_collector": true}

var (
	scopeToken = regexp.MustCompile(`^\s*(\(|\)|"(?:\\.|[^"\\])*"|[^\s()"]+)`)
	bareValue  = regexp.MustCompile(`^[A-Za-z0-9\-_:/.+@#$%^*]+$`)
)

func tokenizeScope(s string) ([]string, error) {
	var out []string
	for strings.TrimSpace(s) != "" {
		m := scopeToken.FindStringSubmatch(s)
		if m == nil {
			return nil, fmt.Errorf("scope: cannot read %q", s)
		}
		out = append(out, m[1])
		s = s[len(m[0]):]
	}
	return out, nil
}

// parseScope reads the scope line.
func parseScope(s string) (scopeExpr, error) {
	if s == "*" {
		return nil, nil
	}
	// A term is one token `_field=value` or `_field="quoted value"`; glue
	// a quoted value back to its field.
	raw, err := tokenizeScope(s)
	if err != nil {
		return nil, err
	}
	var toks []string
	for i := 0; i < len(raw); i++ {
		if strings.HasSuffix(raw[i], "=") && i+1 < len(raw) && strings.HasPrefix(raw[i+1], `"`) {
			toks = append(toks, raw[i]+raw[i+1])
			i++
			continue
		}
		toks = append(toks, raw[i])
	}
	p := &scopeParser{toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i != len(p.toks) {
		return nil, fmt.Errorf("scope: unexpected %q", p.toks[p.i])
	}
	return e, nil
}

type scopeParser struct {
	toks []string
	i    int
}

func (p *scopeParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *scopeParser) or() (scopeExpr, error) {
	var alts scopeOr
	for {
		a, err := p.and()
		if err != nil {
			return nil, err
		}
		alts = append(alts, a)
		if p.peek() != "OR" {
			break
		}
		p.i++
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return alts, nil
}

func (p *scopeParser) and() (scopeExpr, error) {
	var all scopeAnd
	for {
		switch t := p.peek(); {
		case t == "" || t == ")" || t == "OR":
			if len(all) == 0 {
				return nil, fmt.Errorf("scope: a term is missing before %q", t)
			}
			return all, nil
		case t == "AND":
			p.i++
		case t == "(":
			p.i++
			e, err := p.or()
			if err != nil {
				return nil, err
			}
			if p.peek() != ")" {
				return nil, fmt.Errorf("scope: ( is not closed")
			}
			p.i++
			all = append(all, e)
		default:
			term, err := readTerm(t)
			if err != nil {
				return nil, err
			}
			p.i++
			all = append(all, term)
		}
	}
}

func readTerm(t string) (*scopeTerm, error) {
	eq := strings.IndexByte(t, '=')
	if eq <= 0 {
		return nil, fmt.Errorf("scope: %q is not a metadata term `_field=value`", t)
	}
	f, v := t[:eq], t[eq+1:]
	if !metadataFields[strings.ToLower(f)] {
		return nil, fmt.Errorf("scope: %q is not a built-in metadata field", f)
	}
	var re string
	switch {
	case strings.HasPrefix(v, `"`):
		s, err := unquote(v)
		if err != nil {
			return nil, err
		}
		if strings.Contains(s, "*") {
			return nil, fmt.Errorf("scope: a quoted value cannot hold a wildcard (%s)", v)
		}
		re = regexp.QuoteMeta(s)
	case bareValue.MatchString(v):
		parts := strings.Split(v, "*")
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		re = strings.Join(parts, ".*")
	default:
		return nil, fmt.Errorf("scope: the value %q must be double-quoted", v)
	}
	return &scopeTerm{field: f, glob: regexp.MustCompile(`(?is)^` + re + `$`)}, nil
}

// extraction is a parse regex or json stage.
type extraction struct {
	re     *regexp.Regexp
	keys   []string
	as     []string
	isJSON bool
	auto   bool // json auto
}

var (
	parseStageRE = regexp.MustCompile(`^parse regex ("(?:\\.|[^"\\])*") nodrop$`) // the body is read by unquoteRegex
	jsonStageRE  = regexp.MustCompile(`^json field=_raw ("(?:\\.|[^"\\])*"(?:, "(?:\\.|[^"\\])*")*) as ([A-Za-z][A-Za-z0-9_]*(?:, [A-Za-z][A-Za-z0-9_]*)*) nodrop$`)
	groupName    = regexp.MustCompile(`\(\?<([^>]*)>`)
	validGroup   = regexp.MustCompile(`^[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?$`)
	quotedString = regexp.MustCompile(`"(?:\\.|[^"\\])*"`)
)

// isExtraction reports whether a stage extracts fields.
func isExtraction(s string) bool {
	return strings.HasPrefix(s, "parse ") || strings.HasPrefix(s, "json ")
}

func parseExtraction(s string) (*extraction, error) {
	if s == "json auto" {
		return &extraction{isJSON: true, auto: true}, nil
	}
	if m := parseStageRE.FindStringSubmatch(s); m != nil {
		body, err := unquoteRegex(m[1])
		if err != nil {
			return nil, err
		}
		names := groupName.FindAllStringSubmatch(body, -1)
		if len(names) == 0 {
			return nil, fmt.Errorf("parse regex needs a named group (?<name>…)")
		}
		for _, n := range names {
			if !validGroup.MatchString(n[1]) {
				return nil, fmt.Errorf("parse regex: group name %q must be letters, digits and _, starting and ending with a letter or digit", n[1])
			}
		}
		// Go's RE2 reads (?P<name>…); Sumo writes (?<name>…).
		re, err := regexp.Compile(groupName.ReplaceAllString(body, "(?P<$1>"))
		if err != nil {
			return nil, fmt.Errorf("parse regex: %v", err)
		}
		for _, n := range re.SubexpNames()[1:] {
			if n == "" {
				return nil, fmt.Errorf("parse regex: unnamed groups are not allowed; write (?:…)")
			}
		}
		return &extraction{re: re}, nil
	}
	if m := jsonStageRE.FindStringSubmatch(s); m != nil {
		x := &extraction{isJSON: true}
		for _, k := range quotedString.FindAllString(m[1], -1) {
			key, err := unquote(k)
			if err != nil {
				return nil, err
			}
			x.keys = append(x.keys, key)
		}
		x.as = strings.Split(m[2], ", ")
		if len(x.as) != len(x.keys) {
			return nil, fmt.Errorf("json: %d keys but %d names after as", len(x.keys), len(x.as))
		}
		return x, nil
	}
	return nil, fmt.Errorf("not a parse regex … nodrop or json field=_raw … as … nodrop stage: %q", s)
}

// apply extracts into ev (a copy). The fields a stage extracts come from
// the message only: the test events arrive already parsed, so their
// values are removed first and a regex or key that misses leaves the
// field null (nodrop keeps the message), as in Sumo without extraction
// rules. json auto replaces every field but the metadata (`_…`).
func (x *extraction) apply(ev *Event) {
	if !x.isJSON {
		for _, n := range x.re.SubexpNames()[1:] {
			delete(ev.Fields, n)
		}
		m := x.re.FindStringSubmatch(ev.message())
		if m == nil {
			return
		}
		for i, n := range x.re.SubexpNames() {
			if i > 0 && n != "" {
				ev.Fields[n] = []string{m[i]}
			}
		}
		return
	}
	if x.auto {
		for k := range ev.Fields {
			if !strings.HasPrefix(k, "_") { // metadata and _raw stay
				delete(ev.Fields, k)
			}
		}
	} else {
		for _, n := range x.as {
			delete(ev.Fields, n)
		}
	}
	var doc map[string]any
	if json.Unmarshal([]byte(ev.message()), &doc) != nil {
		return
	}
	if x.auto { // every key, nested ones under dotted names
		var walk func(prefix string, m map[string]any)
		walk = func(prefix string, m map[string]any) {
			for k, v := range m {
				if sub, ok := v.(map[string]any); ok {
					walk(prefix+k+".", sub)
					continue
				}
				if s, ok := jsonText(v); ok {
					ev.Fields[prefix+k] = []string{s}
				}
			}
		}
		walk("", doc)
		return
	}
	for i, k := range x.keys {
		var cur any = doc
		for _, part := range strings.Split(k, ".") {
			obj, ok := cur.(map[string]any)
			if !ok {
				cur = nil
				break
			}
			cur = obj[part]
		}
		if s, ok := jsonText(cur); ok {
			ev.Fields[x.as[i]] = []string{s}
		}
	}
}

// jsonText is a JSON value as Sumo shows it in a field.
func jsonText(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", false
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return fmt.Sprint(v), true
	}
	b, _ := json.Marshal(v)
	return string(b), true
}

func copyEvent(ev *Event) *Event {
	m := make(map[string][]string, len(ev.Fields))
	for k, v := range ev.Fields {
		m[k] = v
	}
	return &Event{Fields: m, Raw: ev.Raw}
}

// unquoteRegex reads a parse regex string: `\"` is a quote, every other
// backslash belongs to the regex (the docs write `\d` with one).
func unquoteRegex(s string) (string, error) {
	body := s[1 : len(s)-1]
	for i := 0; i < len(body); i++ {
		if body[i] == '"' && (i == 0 || body[i-1] != '\\') {
			return "", fmt.Errorf("parse regex: a quote inside the regex must be written \\\"")
		}
	}
	return strings.ReplaceAll(body, `\"`, `"`), nil
}
