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
	expectRead(t, "d.jsonl", "{\"a\":1}\n{\"a\":\n{\"a\":3}\n", []int{1, 3}, "d.jsonl:2:1: error: the JSON object is not closed before line 3, which starts another object; lines 2-2 skipped")
	expectRead(t, "e.jsonl", "{\"a\":1}\n{\"a\" 2}\n{\"a\":3}\n", []int{1, 3}, "e.jsonl:2:6: error: malformed JSON: invalid character '2' after object key")
	expectRead(t, "f.jsonl", "{\"a\":1}\n42\n{\"a\":3}\n", []int{1, 3}, "f.jsonl:2:1: error: expected a JSON object")
	expectRead(t, "g.jsonl", "{\"a\":\"\xff\xfe\"}\n{\"a\":3}\n", []int{2}, "g.jsonl:1:7: error: record is not valid UTF-8")
	expectRead(t, "h.json", "[{\"a\":1},{\"a\":2}]\n[\n  {\"a\": 3}\n]\n", []int{1, 1, 3})
	expectRead(t, "i.json", "\ufeff{\"a\":1}{\"a\":2}\n", []int{1, 1})
	expectRead(t, "j.jsonl", "{\"a\":1} trailing\n{\"a\":2}\n", []int{1, 2}, "j.jsonl:1:9: error: expected a JSON object, found 't'")
}

// A broken record loses only its own lines: the reader resynchronises at
// the next record and says which lines it skipped.
func TestJSONResync(t *testing.T) {
	var rest strings.Builder
	var want []int
	for i := 2; i <= 50000; i++ {
		rest.WriteString(`{"n":1,"s":"ok"}` + "\n")
		want = append(want, i)
	}
	// JSON Lines whose first line has an unterminated string.
	expectRead(t, "a.jsonl", "{\"s\":\"open, \"n\":1}x\n"+rest.String(), want, "a.jsonl:1:15: error: malformed JSON: the string opened here is not closed on its line")
	// Pretty-printed objects, the first never closed.
	pretty := "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": 2\n  }\n{\n  \"d\": 1\n}\n{\n  \"e\": 2\n}\n"
	expectRead(t, "b.json", pretty, []int{6, 9}, "b.json:1:1: error: the JSON object is not closed before line 6, which starts another object; lines 1-5 skipped")
	// A pretty object with an unterminated string: its remaining lines are
	// skipped and counted, the next object is read.
	broken := "{\n  \"a\": \"open,\n  \"b\": 2\n}\n{\n  \"ok\": true\n}\n"
	expectRead(t, "c.json", broken, []int{5}, "c.json:2:8: error: malformed JSON: the string opened here is not closed on its line (lines 1-4 skipped)")
	// Garbage lines between records.
	expectRead(t, "d.jsonl", "{\"a\":1}\nnot json\nstill not\n{\"a\":2}\n", []int{1, 4}, "d.jsonl:2:1: error: expected a JSON object, found 'n'; each record must be a JSON object (lines 2-3 skipped)")
	// An object cut off by the end of the file.
	expectRead(t, "e.json", "{\"a\":1}\n{\n  \"b\": 2,\n", []int{1}, "e.json:2:1: error: the JSON object is not closed before the end of the file")
	// Valid JSON is never split, however it is indented.
	expectRead(t, "v1.json", "{\n\"a\": 1,\n\"n\":\n{\n\"x\": 1\n}\n}\n{\n\"a\": 2\n}\n", []int{1, 8})
	expectRead(t, "v2.json", "[\n{\n\"a\": 1,\n\"arr\": [\n{\n\"x\": 1\n}\n]\n}\n]\n", []int{2})
	expectRead(t, "v3.json", "[\n    {\n        \"a\": 1,\n\t\t\"n\":\n\t\t{\"x\": 1}\n    },\n    {\"a\": 2}\n]\n", []int{2, 7})
	// A syntax error inside a broken object is reported where it is.
	expectRead(t, "s.json", "{\"a\":9, \"b\": {\"c\": [1,2,}\n{\"a\":1}\n", []int{2}, "s.json:1:25: error: malformed JSON: invalid character '}' looking for beginning of value; lines 1-1 skipped")
	// Elements of an array resynchronise at their own indentation.
	arr := "[\n  {\n    \"a\": \"open\n  },\n  {\n    \"a\": 2\n  }\n]\n"
	expectRead(t, "f.json", arr, []int{5}, "f.json:3:10: error: malformed JSON: the string opened here is not closed on its line (lines 2-4 skipped)")
}

func TestHugeLine(t *testing.T) {
	big := "{\"a\":\"" + strings.Repeat("x", 10<<20) + "\"}\n{\"a\":1}\n"
	expectRead(t, "h.jsonl", big, []int{2}, "h.jsonl:1:1: error: line is longer than")
	pretty := "{\n" + strings.Repeat("  \"a\": \""+strings.Repeat("x", 1<<20)+"\",\n", 9) + "  \"z\": 1\n}\n{\"a\":1}\n"
	expectRead(t, "p.json", pretty, []int{13}, "p.json:1:1: error: record is larger than 8388608 bytes (lines 1-12 skipped)")
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

// Corrupt or truncated gzip input is refused before any record is read,
// from a file and from a pipe.
func TestGzipVerified(t *testing.T) {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	for i := 0; i < 2000; i++ {
		w.Write([]byte("{\"a\":1}\n"))
	}
	w.Close()
	good := b.Bytes()
	badCRC := append([]byte(nil), good...)
	badCRC[len(badCRC)-8] ^= 0xff // the CRC-32 in the trailer
	truncated := good[:len(good)-20]
	trailing := append(append([]byte(nil), good...), 'x')
	for name, data := range map[string][]byte{"crc": badCRC, "truncated": truncated, "trailing": trailing} {
		p := filepath.Join(t.TempDir(), name+".jsonl.gz")
		os.WriteFile(p, data, 0o644)
		_, _, err := Open(p, "auto", nil)
		want := map[string]string{"crc": "checksum mismatch", "truncated": "gzip data is truncated", "trailing": "bytes after the end of the compressed stream"}[name]
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s from a file: %v, want an error naming the file and %q", name, err, want)
		}
		_, _, err = Open("-", "auto", bytes.NewReader(data))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "<stdin>") {
			t.Errorf("%s from a pipe: %v", name, err)
		}
	}
	r, c, err := Open("-", "auto", bytes.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n := 0
	for {
		if _, err := r.Next(); err != nil {
			break
		}
		n++
	}
	if n != 2000 {
		t.Errorf("gzip from a pipe: %d records, want 2000", n)
	}
}

func TestKV(t *testing.T) {
	m, _, err := parseKV(`ts=1 a="x y" b='q\'s' c=plain word d=`)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"a": "x y", "b": "q's", "c": "plain", "d": ""} {
		if m[k] != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
	if _, col, err := parseKV(`x=1 a="open`); err == nil || col != 7 {
		t.Errorf("want an error at column 7 for an unclosed quote, got %d %v", col, err)
	}
	expectRead(t, "k.log", "a=1\nno pairs here\n# comment\nb=2\n", []int{1, 4}, "k.log:2:1: error: no key=value pairs")
}

func TestCSV(t *testing.T) {
	expectRead(t, "c.csv", "a,b\n1,2\n\"3\n4\",5\n6,\"x\"\"y\"\n", []int{2, 3, 5})
	expectRead(t, "q.csv", "a,b\n6,\"x\"y\"\n7,8\n", []int{3}, "q.csv:2:5: error: malformed CSV: a quote inside a quoted field must be doubled")
	// An unclosed quote costs its own line only: the lines after it are
	// read again as records.
	var rest strings.Builder
	var want []int
	for i := 3; i <= 5002; i++ {
		rest.WriteString("x,y\n")
		want = append(want, i)
	}
	expectRead(t, "u.csv", "a,b\n1,\"open\n"+rest.String(), want, "u.csv:2:3: error: malformed CSV: the quoted field opened here is not closed before the end of the file")
	// A record larger than the bound is skipped, and so are its lines.
	big := "a,b\n1,\"" + strings.Repeat(strings.Repeat("x", 1<<20)+"\n", 9) + "\"\n2,3\n"
	got := readAll(t, "big.csv", []byte(big))
	if len(got.errors) == 0 || !strings.Contains(got.errors[0], "big.csv:2:3: error: malformed CSV: the quoted field opened here is not closed within 8388608 bytes") {
		t.Errorf("big record: %v", got.errors)
	}
	if n := len(got.lines); n == 0 || got.lines[n-1] != 12 {
		t.Errorf("big record: the record after it must be read, got lines %v", got.lines)
	}
	expectRead(t, "dup.csv", "User,Image,User,_extra1\nadmin,x.exe,root,e\n", []int{2}, "dup.csv:1:1: warning: the header names the column \"User\" twice (columns 1 and 3)")
	expectRead(t, "bom.csv", "\ufeffa,\"b,c\"\n1,2\n\n3,4\n", []int{2, 4})
}
