package logs

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type readResult struct {
	lines  []int
	errors []string
}

func readAll(t *testing.T, name string, content []byte) readResult {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	r, c, err := Open(p, "auto", nil)
	if err != nil {
		return readResult{errors: []string{err.Error()}}
	}
	defer c.Close()
	var out readResult
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out
		}
		var re *RecordError
		if errors.As(err, &re) {
			out.errors = append(out.errors, re.Error())
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out.lines = append(out.lines, rec.Line)
	}
}

func expectRead(t *testing.T, name, content string, lines []int, errs ...string) {
	t.Helper()
	got := readAll(t, name, []byte(content))
	if len(got.lines) != len(lines) {
		t.Fatalf("%s: records at lines %v, want %v (errors %v)", name, got.lines, lines, got.errors)
	}
	for i := range lines {
		if got.lines[i] != lines[i] {
			t.Errorf("%s: records at lines %v, want %v", name, got.lines, lines)
		}
	}
	if len(got.errors) != len(errs) {
		t.Fatalf("%s: errors %v, want %d containing %v", name, got.errors, len(errs), errs)
	}
	for i, e := range errs {
		if !strings.Contains(got.errors[i], e) {
			t.Errorf("%s: error %q lacks %q", name, got.errors[i], e)
		}
	}
}

func TestJSONForms(t *testing.T) {
	expectRead(t, "a.jsonl", "{\"a\":1}\n{\"a\":2}\n\n{\"a\":3}\n", []int{1, 2, 4})
	expectRead(t, "b.json", "{\n  \"a\": 1\n}\n{\n  \"a\": {\"b\": \"}\"}\n}\n", []int{1, 4})
	expectRead(t, "c.json", "[\n {\"a\": 1},\n {\"a\": 2}\n]\n", []int{2, 3})
	expectRead(t, "d.jsonl", "{\"a\":1}\n{\"a\":\n{\"a\":3}\n", []int{1, 3}, "d.jsonl:2:1: error: malformed JSON line")
	expectRead(t, "e.jsonl", "{\"a\":1}\n{\"a\" 2}\n{\"a\":3}\n", []int{1, 3}, "e.jsonl:2:1: error: malformed JSON")
	expectRead(t, "f.jsonl", "{\"a\":1}\n42\n{\"a\":3}\n", []int{1, 3}, "f.jsonl:2:1: error: expected a JSON object")
	expectRead(t, "g.jsonl", "{\"a\":\"\xff\xfe\"}\n{\"a\":3}\n", []int{2}, "g.jsonl:1:1: error: record is not valid UTF-8")
}

func TestHugeLine(t *testing.T) {
	big := "{\"a\":\"" + strings.Repeat("x", 10<<20) + "\"}\n{\"a\":1}\n"
	expectRead(t, "h.jsonl", big, []int{2}, "h.jsonl:1:1: error: record is larger than")
	kv := "a=" + strings.Repeat("x", 10<<20) + "\nb=1\n"
	expectRead(t, "h.log", kv, []int{2}, "h.log:1:1: error: line is longer than")
}

func TestBinary(t *testing.T) {
	got := readAll(t, "bin.log", []byte("\x7fELF\x00\x00\x01binary"))
	if len(got.errors) != 1 || !strings.Contains(got.errors[0], "binary") {
		t.Fatalf("got %v", got.errors)
	}
}

func TestGzip(t *testing.T) {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte("{\"a\":1}\n{\"a\":2}\n"))
	w.Close()
	got := readAll(t, "x.jsonl.gz", b.Bytes())
	if len(got.lines) != 2 {
		t.Fatalf("got %v", got)
	}
}

func TestKV(t *testing.T) {
	m, err := parseKV(`ts=1 a="x y" b='q\'s' c=plain word d=`)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"a": "x y", "b": "q's", "c": "plain", "d": ""} {
		if m[k] != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
	if _, err := parseKV(`a="open`); err == nil {
		t.Error("want an error for an unclosed quote")
	}
	expectRead(t, "k.log", "a=1\nno pairs here\n# comment\nb=2\n", []int{1, 4}, "k.log:2:1: error: no key=value pairs")
}

func TestCSV(t *testing.T) {
	expectRead(t, "c.csv", "a,b\n1,2\n\"3\n4\",5\n6,\"x\"y\"\n", []int{2, 3, 5})
}
