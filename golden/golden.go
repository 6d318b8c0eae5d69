// Package golden holds the golden test cases: one folder per case with a
// rule, sample logs and the expected output of every backend, the evaluator
// and the IR printer. `go test ./golden -update` rewrites the expectations.
package golden

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sigc-project/sigc/backends"
	"github.com/sigc-project/sigc/backends/text"
	"github.com/sigc-project/sigc/compiler"
	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/compiler/pipeline"
	"github.com/sigc-project/sigc/diag"
	"github.com/sigc-project/sigc/eval"
	"github.com/sigc-project/sigc/eval/logs"
	"github.com/sigc-project/sigc/sigma"
)

// Case is one golden folder.
type Case struct {
	Name string
	Dir  string
}

// Cases lists the case folders under dir (folders holding a rule.yml).
func Cases(dir string) ([]Case, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Case
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		d := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(d, "rule.yml")); err == nil {
			out = append(out, Case{Name: e.Name(), Dir: d})
		}
	}
	return out, nil
}

// Compiled is the outcome of compiling a case's rule file.
type Compiled struct {
	Rules        []*ir.Rule
	Correlations []*ir.Correlation
	IR           string // ir.txt: the IR dump or the diagnostics
}

// Compile loads rule.yml (and pipeline.yml when present).
func (c Case) Compile() Compiled {
	var opts compiler.Options
	if specs := c.Pipelines(); len(specs) > 0 {
		var loaded []pipeline.Spec
		for _, spec := range specs {
			ss, err := pipeline.LoadSpec(spec)
			if err != nil {
				return Compiled{IR: relative(c.Dir, err.Error()) + "\n"}
			}
			loaded = append(loaded, ss...)
		}
		opts.Pipeline = pipeline.Resolve(loaded)
	}
	f := sigma.LoadFile(filepath.Join(c.Dir, "rule.yml"), nil)
	var b strings.Builder
	for _, d := range f.Diags {
		b.WriteString(relative(c.Dir, d.Error()) + "\n")
	}
	var rules []*ir.Rule
	results := compiler.Compile(f.Collection, opts)
	for _, res := range results {
		for _, d := range res.Diags {
			b.WriteString(relative(c.Dir, d.Error()) + "\n")
		}
		if res.Rule != nil {
			rules = append(rules, res.Rule)
			b.WriteString(ir.PrintRule(res.Rule))
		}
	}
	var corrs []*ir.Correlation
	for _, res := range compiler.CompileCorrelations(f.Collection, results, opts) {
		for _, d := range res.Diags {
			b.WriteString(relative(c.Dir, d.Error()) + "\n")
		}
		if res.Correlation != nil {
			corrs = append(corrs, res.Correlation)
			b.WriteString(ir.PrintCorrelation(res.Correlation))
		}
	}
	return Compiled{Rules: rules, Correlations: corrs, IR: b.String()}
}

// Pipelines lists the case's pipelines: every pipeline*.yml of the folder
// and the built-ins named one per line in pipelines.txt.
func (c Case) Pipelines() []string {
	files, _ := filepath.Glob(filepath.Join(c.Dir, "pipeline*.yml"))
	sort.Strings(files)
	if b, err := os.ReadFile(filepath.Join(c.Dir, "pipelines.txt")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				files = append(files, line)
			}
		}
	}
	return files
}

// Render renders every rule and then every correlation for one backend:
// the queries, or the first error.
func Render(b backends.Backend, dir string, rules []*ir.Rule, corrs []*ir.Correlation) (out string, isErr bool) {
	var sb strings.Builder
	write := func(qs []string, warns []*diag.Diagnostic) {
		if sb.Len() > 0 {
			sb.WriteString("\n")
		}
		for _, w := range warns {
			sb.WriteString("# " + relative(dir, w.Error()) + "\n")
		}
		sb.WriteString(strings.Join(qs, "\n\n") + "\n")
	}
	for _, r := range rules {
		qs, warns, err := b.Render(r)
		if err != nil {
			return relative(dir, err.Error()) + "\n", true
		}
		write(qs, warns)
	}
	for _, c := range corrs {
		q, warns, err := b.RenderCorrelation(c)
		if err != nil {
			return relative(dir, err.Error()) + "\n", true
		}
		write([]string{q}, warns)
	}
	return sb.String(), false
}

// LogFiles lists the case's sample logs (logs.*), sorted.
func (c Case) LogFiles() []string {
	m, _ := filepath.Glob(filepath.Join(c.Dir, "logs.*"))
	sort.Strings(m)
	return m
}

// Match is one evaluator match as recorded in eval.jsonl.
type Match struct {
	RuleID string `json:"rule_id"`
	File   string `json:"file"`
	Line   int    `json:"line"`
}

// Evaluate runs the rules and correlations over the case's logs and
// returns the lines `sigc eval` would print (events shortened to file and
// line), detection matches suppressed as the correlation spec says.
func Evaluate(dir string, rules []*ir.Rule, corrs []*ir.Correlation, files []string) (string, error) {
	eng, err := eval.New(rules)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	hideRule, hideCorr := eval.Suppressed(corrs)
	cor := eval.NewCorrelator(corrs, "", func(f *eval.Firing) {
		if !hideCorr[f.Correlation] {
			b.Write(f.JSON())
			b.WriteByte('\n')
		}
	})
	err = eachRecord(files, func(f string, rec *logs.Record, ev *eval.Event) {
		eng.Each(ev, func(m *eval.Rule) {
			cor.Add(m.IR, ev)
			if hideRule[m.IR] {
				return
			}
			line, _ := json.Marshal(Match{RuleID: eval.RuleID(m.IR.ID, m.IR.Name), File: filepath.Base(f), Line: rec.Line})
			b.Write(line)
			b.WriteByte('\n')
		})
	}, func(re *logs.RecordError) {
		fmt.Fprintf(&b, "# %s\n", relative(dir, re.Error()))
	})
	cor.Close()
	if cor.NoTime > 0 {
		fmt.Fprintf(&b, "# %d matching events had no timestamp\n", cor.NoTime)
	}
	if cor.Late > 0 {
		fmt.Fprintf(&b, "# %d events arrived after their window closed\n", cor.Late)
	}
	return b.String(), err
}

// eachRecord reads every record of the files (format sniffed), prepares it
// with the EventLog mapping and calls fn; bad records go to bad.
func eachRecord(files []string, fn func(file string, rec *logs.Record, ev *eval.Event), bad func(*logs.RecordError)) error {
	prep := eval.NewPreparer(eval.Options{EventLog: true})
	for _, f := range files {
		r, closer, err := logs.Open(f, "auto", nil)
		if err != nil {
			return err
		}
		for {
			rec, err := r.Next()
			if err != nil {
				if re, ok := err.(*logs.RecordError); ok {
					bad(re)
					continue
				}
				break
			}
			fn(f, rec, prep.Prepare(rec))
		}
		closer.Close()
	}
	return nil
}

// Visible reports the first invisible character of a rendered query (line
// breaks between stages aside): queries must not mislead a reviewer.
func Visible(q string) error {
	if i := strings.IndexFunc(q, func(r rune) bool { return r != '\n' && text.Invisible(r) }); i >= 0 {
		return fmt.Errorf("query holds the invisible character %q at byte %d", []rune(q[i:])[0], i)
	}
	return nil
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// relative strips the case directory from messages so golden files do not
// depend on where the checkout lives.
func relative(dir, msg string) string {
	return strings.ReplaceAll(msg, dir+string(filepath.Separator), "")
}
