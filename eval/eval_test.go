package eval_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/sigc-project/sigc/compiler"
	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/eval"
	"github.com/sigc-project/sigc/eval/logs"
	"github.com/sigc-project/sigc/sigma"
)

func compileRule(t testing.TB, detection string) *ir.Rule {
	t.Helper()
	src := "title: t\nid: x\nlogsource: {product: p}\ndetection:\n" + detection
	col, diags := sigma.Load("t.yml", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	res := compiler.Compile(col, compiler.Options{})
	if res[0].Rule == nil {
		t.Fatal(res[0].Diags)
	}
	return res[0].Rule
}

func expectMatch(t *testing.T, detection, event string, want bool) {
	t.Helper()
	r := compileRule(t, detection)
	eng, err := eval.New([]*ir.Rule{r})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(event))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	got := eng.Rules[0].Matches(eval.Prepare(m, eval.Options{EventLog: true}))
	if got != want {
		t.Errorf("detection\n%s\nevent %s: got %v, want %v", detection, event, got, want)
	}
}

func TestSemantics(t *testing.T) {
	sel := func(item string) string { return "  s:\n    " + item + "\n  condition: s\n" }
	notSel := func(item string) string { return "  s:\n    " + item + "\n  condition: not s\n" }
	expectMatch(t, sel("A: foo"), `{"A":"FOO"}`, true)
	expectMatch(t, sel("A: foo"), `{"B":"foo"}`, false)
	expectMatch(t, notSel("A: foo"), `{"B":"foo"}`, true) // not reaches missing fields
	expectMatch(t, sel("A|cased: foo"), `{"A":"FOO"}`, false)
	expectMatch(t, sel("A: 5"), `{"A":"5"}`, true)
	expectMatch(t, sel("A: 5"), `{"A":5.0}`, true)
	expectMatch(t, sel("A: '5'"), `{"A":5}`, true)
	expectMatch(t, sel("A: ''"), `{"A":""}`, true)
	expectMatch(t, sel("A: ''"), `{"A":null}`, false)
	expectMatch(t, sel("A: null"), `{"A":null}`, true)
	expectMatch(t, sel("A: null"), `{}`, true)
	expectMatch(t, sel("A: null"), `{"A":""}`, false)
	expectMatch(t, sel("A: x"), `{"A":["y","X"]}`, true)
	expectMatch(t, sel("a.b.c: x"), `{"a":{"b":{"c":"x"}}}`, true)
	expectMatch(t, sel("a.b.c: x"), `{"a.b.c":"x"}`, true)
	expectMatch(t, sel("a.b.c: x"), `{"a":{"b.c":"x"}}`, true)
	expectMatch(t, sel("A|re: 'b+c'"), `{"A":"abbbcd"}`, true)
	expectMatch(t, sel("A|re: 'B+C'"), `{"A":"abbbcd"}`, false)
	expectMatch(t, sel("A|re|i: 'B+C'"), `{"A":"abbbcd"}`, true)
	expectMatch(t, sel("A|cidr: 10.0.0.0/8"), `{"A":"::ffff:10.1.2.3"}`, true)
	expectMatch(t, sel("A: 'a?c'"), `{"A":"aéc"}`, true)
	expectMatch(t, sel("A: 'ÄB*'"), `{"A":"äbx"}`, true)
	expectMatch(t, sel("A|contains: 'ß'"), `{"A":"xßx"}`, true)
	// Case-insensitive means both sides lower-cased: İ lower-cases to i.
	expectMatch(t, sel("Image: İstanbul"), `{"Image":"İstanbul"}`, true)
	expectMatch(t, sel("Image: İstanbul"), `{"Image":"ISTANBUL"}`, true)
	expectMatch(t, sel("Image: istanbul"), `{"Image":"İSTANBUL"}`, true)
	expectMatch(t, sel("Image: 'Σ*'"), `{"Image":"σx"}`, true)
	expectMatch(t, sel("Image: 'σ'"), `{"Image":"ς"}`, false) // final sigma lower-cases to itself
	expectMatch(t, sel("A: '*a*b*c*'"), `{"A":"xxaxxbxxcxx"}`, true)
	expectMatch(t, sel("A: '*a*b*c*'"), `{"A":"xxaxxcxxbxx"}`, false)
	expectMatch(t, sel("EventID: 1"), `{"Event":{"System":{"EventID":1},"EventData":{"Image":"x"}}}`, true)
	expectMatch(t, sel("Provider_Name: Foo"), `{"Event":{"System":{"Provider":{"#attributes":{"Name":"foo"}}}}}`, true)
	expectMatch(t, sel("ThreatName: t"), `{"Event":{"System":{},"EventData":{"Threat Name":"T"}}}`, true)
	expectMatch(t, sel("User: bob"), `{"Event":{"System":{},"UserData":{"LogFileCleared":{"User":"bob"}}}}`, true)
	expectMatch(t, sel("Image: x"), `{"Event":{"System":{},"EventData":{"Data":[{"#attributes":{"Name":"Image"},"#text":"x"}]}}}`, true)
}

// BenchmarkEvaluate measures throughput over a generated JSONL stream with
// 50 rules, reading, flattening and matching each line:
// go test ./eval -run XXX -bench Evaluate -benchmem
func BenchmarkEvaluate(b *testing.B) {
	var rules []*ir.Rule
	for i := 0; i < 50; i++ {
		det := fmt.Sprintf(`  sel:
    Image|endswith:
      - '\tool%d.exe'
      - '\other%d.exe'
    CommandLine|contains|all:
      - ' -flag%d '
      - 'payload'
  sel_host:
    DestinationHostname|endswith: '.svc%d.workers.dev'
  filter:
    User|startswith: 'NT AUTHORITY\'
  condition: 1 of sel* and not filter
`, i, i, i, i)
		rules = append(rules, compileRule(b, det))
	}
	eng, err := eval.New(rules)
	if err != nil {
		b.Fatal(err)
	}
	var lines [][]byte
	for i := 0; i < 1000; i++ {
		ev := map[string]any{
			"Image":               fmt.Sprintf(`C:\Program Files\App%d\bin\app.exe`, i%37),
			"CommandLine":         fmt.Sprintf(`app.exe --config C:\cfg\%d.json -v -flag%d data`, i, i%60),
			"DestinationHostname": fmt.Sprintf("host%d.svc%d.workers.dev", i, i%70),
			"User":                "CORP\\user",
			"ProcessId":           i,
		}
		l, _ := json.Marshal(ev)
		lines = append(lines, l)
	}
	stream := bytes.Join(lines, []byte("\n"))
	b.ResetTimer()
	b.ReportAllocs()
	b.SetBytes(int64(len(stream) / len(lines)))
	matches, events := 0, 0
	prep := eval.NewPreparer(eval.Options{})
	for events < b.N {
		r, closer, err := logs.Open("-", "json", bytes.NewReader(stream))
		if err != nil {
			b.Fatal(err)
		}
		for events < b.N {
			rec, err := r.Next()
			if err != nil {
				break
			}
			ev := prep.Prepare(rec)
			eng.Each(ev, func(*eval.Rule) { matches++ })
			events++
		}
		closer.Close()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkMatchOnly isolates rule matching on a prepared event: it must
// report 0 allocs/op (nothing allocated per event per rule).
func BenchmarkMatchOnly(b *testing.B) {
	var rules []*ir.Rule
	for i := 0; i < 50; i++ {
		rules = append(rules, compileRule(b, fmt.Sprintf("  s:\n    Image|endswith: '\\tool%d.exe'\n    CommandLine|contains: 'x%d'\n  k:\n    - 'kw%d*z'\n  condition: s or k\n", i, i, i)))
	}
	eng, _ := eval.New(rules)
	ev := eval.Prepare(map[string]any{"Image": `C:\Windows\tool7.exe`, "CommandLine": "run x7 now", "Other": "abc"}, eval.Options{})
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		eng.Each(ev, func(*eval.Rule) { n++ })
	}
}

// A key given twice in a JSON record keeps its last value, as JSON parsers
// (and the key=value reader) do; the Preparer counts such records.
func TestDuplicateJSONKeys(t *testing.T) {
	evil := compileRule(t, "  s:\n    Image|endswith: evil.exe\n  condition: s\n")
	benign := compileRule(t, "  s:\n    Image|endswith: benign.exe\n  condition: s\n")
	nested := compileRule(t, "  s:\n    a.b: 1\n  condition: s\n")
	eng, err := eval.New([]*ir.Rule{evil, benign, nested})
	if err != nil {
		t.Fatal(err)
	}
	prep := eval.NewPreparer(eval.Options{})
	ev := prep.Prepare(&logs.Record{Raw: []byte(`{"Image":"C:\\evil.exe","Image":"C:\\benign.exe","a":{"b":1},"a":{"c":2}}`)})
	var got []bool
	for _, r := range eng.Rules {
		got = append(got, r.Matches(ev))
	}
	if fmt.Sprint(got) != "[false true false]" {
		t.Errorf("matches %v, want the last value of each key only: [false true false]", got)
	}
	if n := prep.DuplicateKeys(); n != 1 {
		t.Errorf("DuplicateKeys = %d, want 1", n)
	}
	ev = prep.Prepare(&logs.Record{Raw: []byte(`{"x":[{"k":1},{"k":2}],"Image":"C:\\evil.exe"}`)})
	if !eng.Rules[0].Matches(ev) || prep.DuplicateKeys() != 0 {
		t.Error("keys of different objects in an array are not duplicates")
	}
}

// Integers compare exactly, beyond float64's 2^53.
func TestIntegersExact(t *testing.T) {
	sel := func(item string) string { return "  s:\n    " + item + "\n  condition: s\n" }
	expectMatch(t, sel("a: 9007199254740993"), `{"a":9007199254740992}`, false)
	expectMatch(t, sel("a: 9007199254740993"), `{"a":"9007199254740993"}`, true)
	expectMatch(t, sel("a: 99999999999999999999"), `{"a":100000000000000000000}`, false)
	expectMatch(t, sel("a|gt: 9007199254740992"), `{"a":9007199254740993}`, true)
	expectMatch(t, sel("a|lt: -5"), `{"a":"-6"}`, true)
	expectMatch(t, sel("a|gte: 0"), `{"a":"-0"}`, true)
	expectMatch(t, sel("a: 5"), `{"a":"005"}`, true)
	expectMatch(t, sel("a|gt: 4"), `{"a":4.5}`, true)
}
