package eval

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"unicode/utf8"
)

// flatPairs lists an event's (path, value) pairs, sorted.
func flatPairs(ev *Event) []string {
	var out []string
	for k, vs := range ev.Fields {
		for _, v := range vs {
			s := k + "=" + v.Str
			if v.Null {
				s = k + "=<null>"
			}
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// expectSameFlattening checks the fast flattener against the map-based one.
func expectSameFlattening(t *testing.T, raw []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return
	}
	want := flatPairs(NewEvent(m))
	got := flatPairs(NewFlattener().Flatten(raw))
	if len(got) != len(want) {
		// Duplicate keys: the map keeps the last value, the flattener all.
		if len(got) > len(want) {
			return
		}
		t.Fatalf("%s:\n-want %v\n+got  %v", raw, want, got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s:\n-want %v\n+got  %v", raw, want, got)
		}
	}
}

func TestFlattenMatchesMap(t *testing.T) {
	for _, s := range []string{
		`{}`, `{"a":1}`, `{"a":"x","b":{"c":[1,"2",{"d":null}],"e":true}}`,
		`{"esc":"a\"b\\c\/d\n\u00e9\ud83d\ude00","k\"ey":1}`, `{"n":-1.5e3,"z":0,"big":1e400}`,
		` { "sp" : [ ] , "o" : { } } `, `{"a.b":1,"a":{"b":2}}`,
	} {
		expectSameFlattening(t, []byte(s))
	}
	files, _ := filepath.Glob("../golden/*/logs.jsonl")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, line := range bytes.Split(b, []byte("\n")) {
			if len(bytes.TrimSpace(line)) > 0 {
				expectSameFlattening(t, line)
			}
		}
	}
}

// The reused Event must not leak values from one record into the next.
func TestFlattenerReuse(t *testing.T) {
	f := NewFlattener()
	f.Flatten([]byte(`{"a":"1","b":"2"}`))
	ev := f.Flatten([]byte(`{"a":"3"}`))
	if len(ev.Fields["b"]) != 0 || len(ev.Fields["a"]) != 1 || ev.Fields["a"][0].Str != "3" || len(ev.All) != 1 {
		t.Errorf("stale state: %v %v", ev.Fields, ev.All)
	}
}

func FuzzFlatten(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":{"b":[1,{"c":"\u0041"}]}}`, `{"x":"\\\"","y":[[],[{}]]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		// The readers pass only valid UTF-8 JSON objects.
		if !json.Valid(raw) || !utf8.Valid(raw) || len(bytes.TrimSpace(raw)) == 0 || bytes.TrimSpace(raw)[0] != '{' {
			return
		}
		expectSameFlattening(t, raw)
	})
}
