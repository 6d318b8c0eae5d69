package golden

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigc-project/sigc/compiler"
	"github.com/sigc-project/sigc/compiler/pipeline"
	"github.com/sigc-project/sigc/sigma"
)

// vendorPipeline moves every field into a vendor's naming (a prefix) and
// scopes every rule to the vendor's event type, after the case's own
// pipelines.
const vendorPipeline = `name: vendor
priority: 1000
transformations:
  - id: vendor_names
    type: field_name_prefix
    prefix: v_
  - id: vendor_scope
    type: add_condition
    conditions: {vendor_event: sigc}
`

// TestPipelineDifferential: for every golden case with JSON logs, the
// generic logs evaluated without the vendor pipeline and the same logs
// renamed into the vendor's shape (by the pipeline's own field renaming,
// plus the scoping field) evaluated with it give the same matches and
// the same correlation firings.
func TestPipelineDifferential(t *testing.T) {
	cases, err := Cases(".")
	if err != nil {
		t.Fatal(err)
	}
	vendor, err := pipeline.Parse("vendor.yml", []byte(vendorPipeline))
	if err != nil {
		t.Fatal(err)
	}
	checked, matched := 0, 0
	for _, c := range cases {
		files := c.LogFiles()
		if len(files) == 0 || !allJSONLines(files) {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			generic := c.compileWith(t, nil)
			if len(generic.Rules) == 0 {
				t.Skip("no rule compiles")
			}
			shaped := c.compileWith(t, vendor)
			dir := t.TempDir()
			var renamed []string
			for _, f := range files {
				out := filepath.Join(dir, filepath.Base(f))
				if err := renameJSONLines(f, out, vendorRename(vendor)); err != nil {
					t.Fatal(err)
				}
				renamed = append(renamed, out)
			}
			want, err := Evaluate(c.Dir, generic.Rules, generic.Correlations, files)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Evaluate(dir, shaped.Rules, shaped.Correlations, renamed)
			if err != nil {
				t.Fatal(err)
			}
			got = strings.ReplaceAll(got, `"v_`, `"`) // correlation group names
			if got != want {
				t.Errorf("matches differ with the vendor pipeline over renamed logs\n--- generic\n%s--- vendor\n%s", want, got)
			}
			checked++
			if strings.Contains(want, `"rule_id"`) {
				matched++
			}
		})
	}
	t.Logf("pipeline differential: %d golden cases agree over vendor-shaped logs (%d of them with matches)", checked, matched)
	if matched < 20 {
		t.Errorf("only %d cases with matches checked", matched)
	}
}

// vendorRename is the pipeline's own renaming of a field name: the field
// is put through the pipeline as a rule's `fields:` entry.
func vendorRename(p *pipeline.Pipeline) func(string) string {
	return func(name string) string {
		s := &pipeline.Subject{Rule: &sigma.Rule{}, Fields: []string{name}}
		if d := p.Apply(s); d.HasErrors() || len(s.Fields) != 1 {
			return name
		}
		return s.Fields[0]
	}
}

// compileWith compiles the case with its own pipelines plus extra.
func (c Case) compileWith(t *testing.T, extra *pipeline.Pipeline) Compiled {
	t.Helper()
	var specs []pipeline.Spec
	for _, spec := range c.Pipelines() {
		ss, err := pipeline.LoadSpec(spec)
		if err != nil {
			t.Fatal(err)
		}
		specs = append(specs, ss...)
	}
	if extra != nil {
		specs = append(specs, pipeline.Spec{Spec: "~vendor", Pipeline: extra})
	}
	f := sigma.LoadFile(filepath.Join(c.Dir, "rule.yml"), nil)
	opts := compiler.Options{Pipeline: pipeline.Resolve(specs)}
	results := compiler.Compile(f.Collection, opts)
	var out Compiled
	for _, r := range results {
		if r.Rule != nil {
			out.Rules = append(out.Rules, r.Rule)
		}
	}
	for _, r := range compiler.CompileCorrelations(f.Collection, results, opts) {
		if r.Correlation != nil {
			out.Correlations = append(out.Correlations, r.Correlation)
		}
	}
	return out
}

func allJSONLines(files []string) bool {
	for _, f := range files {
		if !strings.HasSuffix(f, ".jsonl") {
			return false
		}
		b, err := os.ReadFile(f)
		if err != nil || bytes.Contains(b, []byte(`"Event":`)) { // EventLog-shaped: names come from the mapping
			return false
		}
	}
	return true
}

// timeKeys stay as they are (the correlator reads them) and are copied
// under the vendor name too.
var timeKeys = map[string]bool{"@timestamp": true, "timestamp": true, "time": true, "_time": true, "TimeCreated": true, "UtcTime": true, "ts": true}

// renameJSONLines writes every record with its top-level keys renamed
// and the vendor's scoping field added; lines that are not JSON objects
// are copied as they are (the reader reports them the same way).
func renameJSONLines(in, out string, rename func(string) string) error {
	src, err := os.Open(in)
	if err != nil {
		return err
	}
	defer src.Close()
	var b bytes.Buffer
	sc := bufio.NewScanner(src)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var rec map[string]json.RawMessage
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&rec); err != nil || rec == nil {
			b.Write(line)
			b.WriteByte('\n')
			continue
		}
		outRec := map[string]json.RawMessage{"vendor_event": json.RawMessage(`"sigc"`)}
		for k, v := range rec {
			outRec[rename(k)] = v
			if timeKeys[k] {
				outRec[k] = v
			}
		}
		enc, _ := json.Marshal(outRec)
		b.Write(enc)
		b.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return os.WriteFile(out, b.Bytes(), 0o644)
}
