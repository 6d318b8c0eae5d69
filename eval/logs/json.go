package logs

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"unicode/utf8"
)

// jsonReader splits a stream into top-level JSON values: one object per
// line, pretty-printed objects back to back, or the elements of a top-level
// array. Once the first record ends on its own line the stream is taken as
// JSON Lines, so a broken line cannot swallow the lines after it.
type jsonReader struct {
	file    string
	r       *bufio.Reader
	line    int
	buf     []byte
	started bool
	inArray bool
	jsonl   bool
	decided bool
}

func (j *jsonReader) readByte() (byte, error) {
	c, err := j.r.ReadByte()
	if err == nil && c == '\n' {
		j.line++
	}
	return c, err
}

func (j *jsonReader) errAt(line int, format string, args ...any) *RecordError {
	return &RecordError{File: j.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// skipLine drops the rest of the current line.
func (j *jsonReader) skipLine() {
	for {
		c, err := j.readByte()
		if err != nil || c == '\n' {
			return
		}
	}
}

func (j *jsonReader) Next() (*Record, error) {
	for {
		c, err := j.readByte()
		if err != nil {
			return nil, err
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case ',':
			if j.inArray {
				continue
			}
		case ']':
			if j.inArray {
				j.inArray = false
				continue
			}
		case '[':
			if !j.started {
				j.started = true
				j.inArray = true
				continue
			}
		case '\xef': // UTF-8 byte order mark
			if !j.started {
				j.r.ReadByte()
				j.r.ReadByte()
				continue
			}
		}
		j.started = true
		start := j.line
		if c != '{' {
			j.skipLine()
			return nil, j.errAt(start, "expected a JSON object, found %q; each record must be a JSON object", c)
		}
		rec, err := j.object(start)
		if err != nil {
			return nil, err
		}
		return rec, nil
	}
}

// object scans one object whose '{' was just read, bounded by MaxRecord.
func (j *jsonReader) object(start int) (*Record, error) {
	j.buf = append(j.buf[:0], '{')
	depth, inStr, esc, tooBig := 1, false, false, false
	for depth > 0 {
		c, err := j.readByte()
		if err == io.EOF {
			return nil, j.errAt(start, "JSON object is not closed before the end of the file")
		}
		if err != nil {
			return nil, err
		}
		if c == '\n' && j.jsonl {
			return nil, j.errAt(start, "malformed JSON line: the object is not closed on its line")
		}
		if !tooBig {
			if len(j.buf) >= MaxRecord {
				tooBig = true
				j.buf = j.buf[:0]
			} else {
				j.buf = append(j.buf, c)
			}
		}
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		}
	}
	if !j.decided {
		j.decided = true
		j.jsonl = j.line == start && !j.inArray
	}
	if tooBig {
		return nil, j.errAt(start, "record is larger than %d bytes; skipped", MaxRecord)
	}
	if !utf8.Valid(j.buf) {
		return nil, j.errAt(start, "record is not valid UTF-8; skipped")
	}
	if !json.Valid(j.buf) {
		_, err := decodeObject(j.buf) // for the message
		return nil, j.errAt(start, "malformed JSON: %v", err)
	}
	raw := make([]byte, len(j.buf))
	copy(raw, j.buf)
	return &Record{Line: start, Raw: raw}, nil
}
