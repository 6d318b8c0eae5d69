package eval_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/eval"
)

// TestGates: rules indexed by a field they require are skipped only when
// the event cannot match them — values in other cases, numbers written
// as text, signs and fractions, arrays, nulls, several conditions.
func TestGates(t *testing.T) {
	rules := []*ir.Rule{
		compileRule(t, "  s: {Channel: Security, User: bob}\n  condition: s\n"),
		compileRule(t, "  s: {EventID: [4688, 1], Image|endswith: x.exe}\n  condition: s\n"),
		compileRule(t, "  s: {Channel: [Sysmon, Security]}\n  f: {EventID: 3}\n  condition: s and not f\n"),
		compileRule(t, "  s: {Channel|cased: Security}\n  condition: s\n"),
		compileRule(t, "  s: {User: bob}\n  condition: s\n"),
		compileRule(t, "  s: {EventID: 9007199254740993}\n  condition: s\n"),
	}
	gated, err := eval.New(rules)
	if err != nil {
		t.Fatal(err)
	}
	every, _ := eval.New(rules)
	every.DisableGates()
	events := []string{
		`{"Channel": "security", "User": "BOB"}`,
		`{"Channel": "SECURITY", "User": "bob", "EventID": 3}`,
		`{"EventID": "+4688", "Image": "C:\\x.exe"}`,
		`{"EventID": "04688", "Image": "C:\\x.exe"}`,
		`{"EventID": 1.0, "Image": "C:\\x.exe"}`,
		`{"EventID": "1.0", "Image": "C:\\x.exe"}`,
		`{"EventID": [7, 1], "Image": "x.exe"}`,
		`{"Channel": ["x", "Sysmon"], "EventID": 5}`,
		`{"Channel": null, "User": "bob"}`,
		`{"Channel": "Security"}`,
		`{"EventID": 9007199254740993}`,
		`{"EventID": "9007199254740993"}`,
		`{"EventID": 9007199254740992}`,
		`{}`,
	}
	index := map[*ir.Rule]string{}
	for i, r := range rules {
		index[r] = string(rune('a' + i))
	}
	matched := 0
	for _, src := range events {
		var m map[string]any
		dec := json.NewDecoder(strings.NewReader(src))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		ev := eval.Prepare(m, eval.Options{})
		var got, want []string
		gated.Each(ev, func(r *eval.Rule) { got = append(got, index[r.IR]) })
		every.Each(ev, func(r *eval.Rule) { want = append(want, index[r.IR]) })
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: gated %v, every rule %v", src, got, want)
		}
		matched += len(want)
	}
	if matched < 10 {
		t.Errorf("only %d matches: the cases do not exercise the gates", matched)
	}
}
