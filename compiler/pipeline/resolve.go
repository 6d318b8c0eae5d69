package pipeline

import (
	"embed"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sigc-project/sigc/diag"
)

//go:embed builtin/*.yml
var builtinFS embed.FS

// Builtins lists the built-in pipelines by name.
func Builtins() []string {
	entries, _ := builtinFS.ReadDir("builtin")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".yml"))
	}
	sort.Strings(out)
	return out
}

// BuiltinSource is a built-in pipeline's YAML, for `sigc pipeline show`.
func BuiltinSource(name string) ([]byte, bool) {
	b, err := builtinFS.ReadFile("builtin/" + name + ".yml")
	return b, err == nil
}

// BuiltinSummary is the first comment line of a built-in pipeline.
func BuiltinSummary(name string) string {
	src, _ := BuiltinSource(name)
	for _, line := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(line, "# ") {
			return strings.TrimPrefix(line, "# ")
		}
	}
	return ""
}

// Spec is one `-p` argument with what it resolved to.
type Spec struct {
	Spec     string
	Pipeline *Pipeline
}

// LoadSpec resolves one `-p` argument as pySigma does: a built-in name
// first, else a file, else a directory (every `*.yml` below it, in path
// order).
func LoadSpec(spec string) ([]Spec, error) {
	if src, ok := BuiltinSource(spec); ok {
		p, err := Parse("builtin:"+spec, src)
		if err != nil {
			return nil, err
		}
		return []Spec{{Spec: spec, Pipeline: p}}, nil
	}
	trimmed := strings.TrimRight(spec, "/*")
	if trimmed == "" {
		trimmed = spec
	}
	if st, err := os.Stat(trimmed); err == nil && st.IsDir() {
		var paths []string
		err := filepath.WalkDir(trimmed, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(path, ".yml") {
				paths = append(paths, path)
			}
			return nil
		})
		if err != nil {
			return nil, diag.Errorf(diag.Pos{File: spec}, "cannot read the pipeline directory: %v", err)
		}
		sort.Strings(paths)
		if len(paths) == 0 {
			return nil, diag.Errorf(diag.Pos{File: spec}, "the pipeline directory holds no *.yml file; give a pipeline file or a built-in name")
		}
		var out []Spec
		var diags diag.List
		for _, path := range paths {
			p, err := Load(path)
			if err != nil {
				diags = append(diags, diag.Flatten(err)...)
				continue
			}
			out = append(out, Spec{Spec: path, Pipeline: p})
		}
		if diags.HasErrors() {
			return nil, diags
		}
		return out, nil
	}
	if spec == "-" {
		return nil, diag.Errorf(diag.Pos{File: "-"}, "a pipeline cannot come from standard input (rules may); give its file name")
	}
	if _, err := os.Stat(spec); err != nil && !strings.ContainsAny(spec, `/\.`) {
		return nil, diag.Errorf(diag.Pos{File: spec}, "no built-in pipeline or file is called %s; `sigc list pipelines` shows the built-ins (%s)", diag.Quote(spec), strings.Join(Builtins(), ", "))
	}
	p, err := Load(spec)
	if err != nil {
		return nil, err
	}
	return []Spec{{Spec: spec, Pipeline: p}}, nil
}

// sortSpecs orders pipelines as pySigma's resolver does: by priority,
// equal priorities by the spec as given (built-in name or path), not by
// command-line order.
func sortSpecs(specs []Spec) []Spec {
	sorted := append([]Spec(nil), specs...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.Pipeline.Priority != b.Pipeline.Priority {
			return a.Pipeline.Priority < b.Pipeline.Priority
		}
		return a.Spec < b.Spec
	})
	return sorted
}

// Resolve combines pipelines in sortSpecs order into one: items,
// postprocessing and finalizers concatenated, vars merged with the later
// pipeline winning on a name both define. Nil for no pipelines.
func Resolve(specs []Spec) *Pipeline {
	if len(specs) == 0 {
		return nil
	}
	out := &Pipeline{Vars: map[string][]string{}}
	var names []string
	for _, s := range sortSpecs(specs) {
		p := s.Pipeline
		if p.Name != "" {
			names = append(names, p.Name)
		}
		for k, v := range p.Vars {
			out.Vars[k] = v
		}
		out.Items = append(out.Items, p.Items...)
		out.Postprocessing = append(out.Postprocessing, p.Postprocessing...)
		out.Finalizers = append(out.Finalizers, p.Finalizers...)
		out.AllowedBackends = append(out.AllowedBackends, p.AllowedBackends...)
	}
	out.Name = strings.Join(names, " + ")
	return out
}

// Order lists the specs in the order Resolve applies them.
func Order(specs []Spec) []string {
	var out []string
	for _, s := range sortSpecs(specs) {
		out = append(out, s.Spec)
	}
	return out
}

// CheckTargets refuses a built-in pipeline used with a target it does not
// name in `allowed_backends`; for a file it only warns, since pySigma
// checks pipelines resolved by name, not files.
func CheckTargets(specs []Spec, target string) diag.List {
	var out diag.List
	for _, s := range specs {
		if len(s.Pipeline.AllowedBackends) == 0 {
			continue
		}
		ok := false
		for _, b := range s.Pipeline.AllowedBackends {
			ok = ok || b == target
		}
		if ok {
			continue
		}
		if _, builtin := BuiltinSource(s.Spec); builtin {
			out.Add(diag.Errorf(diag.Pos{File: s.Spec}, "the built-in pipeline %s is for %s, not %s; choose a pipeline for %s", diag.Quote(s.Spec), strings.Join(s.Pipeline.AllowedBackends, ", "), target, target))
		} else {
			out.Add(diag.Warnf(s.Pipeline.Pos, "the pipeline's allowed_backends (%s) does not name %s; it is applied anyway, as pySigma applies pipeline files", strings.Join(s.Pipeline.AllowedBackends, ", "), target))
		}
	}
	return out
}
