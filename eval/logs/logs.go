// Package logs reads log files for the evaluator: JSON Lines, concatenated
// (pretty-printed) JSON objects, a JSON array, key=value lines and CSV with a
// header row, gzip-compressed or not. A malformed record is reported with its
// file and line and skipped; memory stays bounded by MaxRecord.
package logs

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// MaxRecord bounds one log record (a line, or one pretty-printed object).
const MaxRecord = 8 << 20

// Record is one event as read.
type Record struct {
	Line int // 1-based line where the record starts
	// Fields is the decoded event for key=value and CSV records; nil for
	// JSON records, whose Raw text the evaluator flattens directly.
	Fields map[string]any
	Raw    []byte // the event as a JSON object, for output and evaluation
}

// Map returns the record as a map (numbers as json.Number), decoding JSON
// records on demand.
func (r *Record) Map() (map[string]any, error) {
	if r.Fields != nil {
		return r.Fields, nil
	}
	return decodeObject(r.Raw)
}

// RecordError is a bad record: reported, then reading goes on. Col is the
// column (in characters) of the fault, 1 when it is the whole line.
type RecordError struct {
	File      string
	Line, Col int
	Msg       string
	Warning   bool // nothing was skipped; the input is read as the message says
}

func (e *RecordError) Error() string {
	sev := "error"
	if e.Warning {
		sev = "warning"
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Line, max(e.Col, 1), sev, e.Msg)
}

// DisplayName is how messages and match lines name a log path.
func DisplayName(path string) string {
	if path == "-" {
		return "<stdin>"
	}
	return path
}

// Reader yields records; Next returns io.EOF at the end, a *RecordError for
// a skippable bad record, and any other error for a fatal one.
type Reader interface {
	Next() (*Record, error)
}

// Formats lists the accepted --format values.
var Formats = []string{"auto", "json", "kv", "csv"}

// Open opens path ("-" is stdin) in the given format ("auto" sniffs it).
func Open(path, format string, stdin io.Reader) (Reader, io.Closer, error) {
	name := path
	var rc io.ReadCloser
	if path == "-" {
		name = "<stdin>"
		rc = io.NopCloser(stdin)
	} else {
		f, err := os.Open(path)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, nil, fmt.Errorf("%s: error: cannot read logs: %v", path, err)
		}
		rc = f
	}
	br := bufio.NewReaderSize(rc, 64<<10)
	closer := io.Closer(rc)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		plain, err := verifiedGzip(rc, br)
		if err != nil {
			rc.Close()
			return nil, nil, fmt.Errorf("%s: error: %v", name, err)
		}
		br = bufio.NewReaderSize(plain, 64<<10)
		closer = multiCloser{plain, rc}
	}
	// Sniff what has arrived (at least one byte, or the end): waiting for
	// 4 KiB would hold up the first record of a slow pipe.
	br.Peek(1)
	head, _ := br.Peek(min(4096, br.Buffered()))
	if bytes.IndexByte(head, 0) >= 0 {
		closer.Close()
		return nil, nil, fmt.Errorf("%s: error: file is binary (it contains NUL bytes), not JSON, key=value or CSV logs", name)
	}
	if format == "" || format == "auto" {
		format = sniff(path, head)
	}
	switch format {
	case "json":
		return newJSONReader(name, lineReader{r: br}), closer, nil
	case "kv":
		return &kvReader{file: name, lines: lineReader{r: br}}, closer, nil
	case "csv":
		return newCSVReader(name, lineReader{r: br}), closer, nil
	}
	closer.Close()
	return nil, nil, fmt.Errorf("%s: error: unknown log format %q; use one of %s", name, format, strings.Join(Formats, ", "))
}

// verifiedGzip checks a whole gzip stream (every member's checksum and
// length) before any record is read from it, so no match is ever computed
// from corrupt data that the checksum only catches at the end. A regular
// file is read twice; a pipe's compressed bytes are kept in a temporary
// file (as large as the input, never as the decompressed data), removed
// when the returned reader is closed.
func verifiedGzip(f io.ReadCloser, br *bufio.Reader) (io.ReadCloser, error) {
	if file, ok := f.(*os.File); ok {
		if st, err := file.Stat(); err == nil && st.Mode().IsRegular() {
			if err := checkGzip(br); err != nil {
				return nil, err
			}
			if _, err := file.Seek(0, io.SeekStart); err != nil {
				return nil, err
			}
			gz, err := gzip.NewReader(bufio.NewReaderSize(file, 64<<10))
			if err != nil {
				return nil, gzipError(err)
			}
			return gz, nil
		}
	}
	tmp, err := os.CreateTemp("", "sigc-gzip-*")
	if err != nil {
		return nil, fmt.Errorf("cannot make a temporary file to check the gzip data: %v", err)
	}
	os.Remove(tmp.Name()) // unlinked: gone when closed, whatever happens
	if err := checkGzip(io.TeeReader(br, tmp)); err != nil {
		tmp.Close()
		return nil, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		tmp.Close()
		return nil, err
	}
	gz, err := gzip.NewReader(bufio.NewReaderSize(tmp, 64<<10))
	if err != nil {
		tmp.Close()
		return nil, gzipError(err)
	}
	return spooled{gz, multiCloser{gz, tmp}}, nil
}

// spooled reads the decompressed data and closes the spool too.
type spooled struct {
	io.Reader
	io.Closer
}

// checkGzip reads every member of a gzip stream to its end, checking each
// one's checksum and length, and refuses bytes after the last member.
func checkGzip(r io.Reader) error {
	br := bufio.NewReader(r)
	gz, err := gzip.NewReader(br)
	if err != nil {
		return gzipError(err)
	}
	for {
		gz.Multistream(false)
		if _, err := io.Copy(io.Discard, gz); err != nil {
			return gzipError(err)
		}
		next, _ := br.Peek(2)
		if len(next) == 0 {
			return nil
		}
		if len(next) < 2 || next[0] != 0x1f || next[1] != 0x8b {
			return errors.New("corrupt gzip data (bytes after the end of the compressed stream); nothing was read from it")
		}
		if err := gz.Reset(br); err != nil {
			return gzipError(err)
		}
	}
}

func gzipError(err error) error {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errors.New("gzip data is truncated (the file ends inside the compressed stream); nothing was read from it, check the file is complete")
	case errors.Is(err, gzip.ErrChecksum):
		return errors.New("corrupt gzip data (checksum mismatch); nothing was read from it")
	}
	return fmt.Errorf("corrupt gzip data (%v); nothing was read from it", err)
}

type multiCloser []io.Closer

func (m multiCloser) Close() error {
	var first error
	for _, c := range m {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// sniff picks a format from the file name, then from the first bytes.
func sniff(path string, head []byte) string {
	p := strings.TrimSuffix(strings.ToLower(path), ".gz")
	switch {
	case strings.HasSuffix(p, ".csv"):
		return "csv"
	case strings.HasSuffix(p, ".json"), strings.HasSuffix(p, ".jsonl"), strings.HasSuffix(p, ".ndjson"):
		return "json"
	}
	t := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return "json"
	}
	return "kv"
}

// decodeObject decodes a JSON object keeping numbers as written.
func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("unexpected data after the JSON object")
	}
	if m == nil {
		return nil, errors.New("expected a JSON object")
	}
	return m, nil
}

// lineReader reads lines of bounded length, counting them.
type lineReader struct {
	r    *bufio.Reader
	line int
	buf  []byte
}

var errTooLong = errors.New("too long")

// next returns the next line without its newline. A line over MaxRecord is
// drained and reported with errTooLong.
func (l *lineReader) next() ([]byte, error) {
	l.buf = l.buf[:0]
	l.line++
	tooLong := false
	for {
		chunk, err := l.r.ReadSlice('\n')
		if !tooLong {
			if len(l.buf)+len(chunk) > MaxRecord {
				tooLong = true
				l.buf = l.buf[:0]
			} else {
				l.buf = append(l.buf, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && (len(l.buf) > 0 || tooLong) {
			err = nil
		} else if err != nil {
			return nil, err
		}
		if tooLong {
			return nil, errTooLong
		}
		return bytes.TrimRight(l.buf, "\r\n"), nil
	}
}
