package logs

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readAllFrom reads every record of data in a format through stdin and
// checks what every reader promises: no panic, an end, records and errors
// in line order, errors positioned, JSON records valid objects.
func readAllFrom(t *testing.T, format string, data []byte) (records int) {
	t.Helper()
	r, c, err := Open("-", format, bytes.NewReader(data))
	if err != nil {
		if !strings.HasPrefix(err.Error(), "<stdin>: error: ") {
			t.Fatalf("open error without the file name: %v", err)
		}
		return 0
	}
	defer c.Close()
	lines := bytes.Count(data, []byte("\n")) + 1
	last := 0
	for steps := 0; ; steps++ {
		if steps > len(data)+lines+8 {
			t.Fatalf("reader does not end: %d steps over %d bytes", steps, len(data))
		}
		rec, err := r.Next()
		if err == io.EOF {
			return records
		}
		var re *RecordError
		if errors.As(err, &re) {
			if re.Line < 1 || re.File != "<stdin>" {
				t.Fatalf("error without a position: %v", re)
			}
			continue
		}
		if err != nil {
			return records
		}
		if rec.Line < last {
			t.Fatalf("record at line %d after one at line %d", rec.Line, last)
		}
		last = rec.Line
		if rec.Fields == nil {
			var m map[string]any
			if json.Unmarshal(rec.Raw, &m) != nil || m == nil {
				t.Fatalf("JSON record is not an object: %q", rec.Raw)
			}
		}
		records++
	}
}

func seeds(f *testing.F, extra ...string) {
	for _, s := range extra {
		f.Add([]byte(s))
	}
	for _, glob := range []string{"../../golden/*/logs.*", "../../examples/serverless/*.jsonl", "../../examples/serverless/*.log"} {
		files, _ := filepath.Glob(glob)
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
				f.Add(b)
			}
		}
	}
}

func FuzzReadJSON(f *testing.F) {
	seeds(f, "{\"a\":\"open\n{\"b\":1}\n", "{\n  \"a\": {\n\n{\"c\":2}\n", "[{\"a\":1},\n{\"b\":\"x\"}]", "\ufeff{}{}[]", "{\"a\":\"\\ud800\"}")
	f.Fuzz(func(t *testing.T, data []byte) { readAllFrom(t, "json", data) })
}

func FuzzReadCSV(f *testing.F) {
	seeds(f, "a,b\n1,\"open\n2,3\n", "a\n\"x\"\"y\"\n\"q\"z\n", "\ufeffa,b\r\n1,2\r\n")
	f.Fuzz(func(t *testing.T, data []byte) { readAllFrom(t, "csv", data) })
}

func FuzzReadKV(f *testing.F) {
	seeds(f, "a=1 b=\"x y\" c='q\\'s'\nbare words\nd=\"open\n")
	f.Fuzz(func(t *testing.T, data []byte) { readAllFrom(t, "kv", data) })
}

// FuzzReadGzip compresses the input, then damages the compressed bytes at
// a fuzzed offset: the reader refuses the whole stream or reads exactly the
// records of the intact input, never records of garbage.
func FuzzReadGzip(f *testing.F) {
	f.Add([]byte("{\"a\":1}\n{\"a\":2}\n"), uint16(0), byte(0))
	f.Add([]byte("{\"a\":1}\n{\"a\":2}\n"), uint16(20), byte(0xff))
	f.Fuzz(func(t *testing.T, data []byte, at uint16, flip byte) {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write(data)
		w.Close()
		z := b.Bytes()
		want := readAllFrom(t, "json", data)
		if flip != 0 {
			z[int(at)%len(z)] ^= flip
		}
		r, c, err := Open("-", "json", bytes.NewReader(z))
		if err != nil {
			return // refused as a whole
		}
		c.Close()
		_ = r
		if got := readAllFrom(t, "json", z); flip == 0 && got != want {
			t.Fatalf("%d records through gzip, %d without", got, want)
		}
	})
}
