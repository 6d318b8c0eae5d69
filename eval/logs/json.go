package logs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/sigc-project/sigc/diag"
)

// jsonReader splits a stream into top-level JSON objects: one per line
// (JSON Lines), pretty-printed objects back to back, or the elements of
// top-level arrays. It reads line by line, so a broken record costs only
// its own lines:
//   - a string still open at the end of its line is broken (JSON strings
//     cannot hold a raw line break);
//   - a line that starts with `{` at or left of the column where the open
//     object began is remembered as where the next record may start
//     (pretty printers indent nested objects). The object is read on: if
//     it closes as valid JSON it is one record (valid JSON is never
//     split); if it does not close, or closes invalid, it is reported and
//     reading starts again at the remembered line.
//
// After a broken record without such a line, lines are skipped up to the
// next line that starts a record at or left of its column, and one error
// names the record's position, what is wrong and the lines skipped.
type jsonReader struct {
	file  string
	lines lineReader

	line    []byte // the current line, from pos on not yet consumed
	lineNo  int
	pos     int
	eof     bool
	inArray bool
	first   bool // nothing read yet (a byte order mark may come)

	rec     []byte     // the record being read
	pending []jsonLine // lines to read again (after a record broke)
}

type jsonLine struct {
	no   int
	text []byte
}

func newJSONReader(file string, lr lineReader) *jsonReader {
	return &jsonReader{file: file, lines: lr, first: true}
}

// nextLine loads the next line; false at the end of the input. An
// over-long line is returned empty and reported by the caller through
// long.
func (j *jsonReader) nextLine() (long bool, err error) {
	if len(j.pending) > 0 {
		l := j.pending[0]
		j.pending = j.pending[1:]
		j.line, j.lineNo, j.pos = l.text, l.no, 0
		return false, nil
	}
	l, err := j.lines.next()
	j.lineNo = j.lines.line
	j.pos = 0
	if err == errTooLong {
		j.line = nil
		return true, nil
	}
	if err == io.EOF {
		j.line, j.eof = nil, true
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if j.first {
		j.first = false
		if len(l) >= 3 && l[0] == 0xef && l[1] == 0xbb && l[2] == 0xbf {
			l = l[3:]
		}
	}
	j.line = l
	return false, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// indent is the column (1-based) of the first non-space byte of a line, and
// that byte (0 for a blank line).
func indent(l []byte) (int, byte) {
	for i, c := range l {
		if !isSpace(c) {
			return i + 1, c
		}
	}
	return 0, 0
}

func (j *jsonReader) errAt(line, col int, format string, args ...any) *RecordError {
	return &RecordError{File: j.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

func (j *jsonReader) Next() (*Record, error) {
	for {
		// Skip blanks and the punctuation of top-level arrays.
		for j.pos < len(j.line) {
			c := j.line[j.pos]
			switch {
			case isSpace(c):
				j.pos++
				continue
			case c == '[' && !j.inArray:
				j.inArray = true
				j.pos++
				continue
			case (c == ',' || c == ']') && j.inArray:
				if c == ']' {
					j.inArray = false
				}
				j.pos++
				continue
			}
			break
		}
		if j.pos >= len(j.line) {
			if j.eof {
				return nil, io.EOF
			}
			long, err := j.nextLine()
			if err != nil {
				return nil, err
			}
			if long {
				return nil, j.errAt(j.lineNo, 1, "line is longer than %d bytes; skipped", MaxRecord)
			}
			continue
		}
		startLine, startCol := j.lineNo, j.pos+1
		if j.line[j.pos] != '{' {
			col := j.pos + 1
			c, _ := utf8.DecodeRune(j.line[j.pos:])
			skipped := j.resync(startLine, startCol)
			return nil, j.errAt(startLine, col, "expected a JSON object, found %q; each record must be a JSON object%s", c, skipped)
		}
		return j.object(startLine, startCol)
	}
}

// resync skips the rest of the current line and the lines after it up to
// one whose first byte is `{` (or `[`) at or left of column col, and says
// which lines were skipped.
func (j *jsonReader) resync(from, col int) string {
	j.pos = len(j.line)
	for !j.eof {
		if _, err := j.nextLine(); err != nil {
			j.eof = true
			break
		}
		if ind, c := indent(j.line); ind > 0 && ind <= col && (c == '{' || c == '[') {
			j.pos = ind - 1
			break
		}
	}
	to := j.lineNo - 1
	if j.eof {
		to = j.lineNo
	}
	if to <= from {
		return ""
	}
	return fmt.Sprintf(" (lines %d-%d skipped)", from, to)
}

// candidate is a line inside an open object that may start the next record.
type candidate struct {
	line int
	off  int // where the line starts in rec
}

// object reads the object whose `{` is at the current position.
func (j *jsonReader) object(startLine, startCol int) (*Record, error) {
	j.rec = j.rec[:0]
	depth, inStr, esc, tooBig := 0, false, false, false
	strLine, strCol := 0, 0
	var next *candidate
	for {
		l := j.line
		i := j.pos
		for ; i < len(l); i++ {
			c := l[i]
			switch {
			case esc:
				esc = false
			case inStr:
				if c == '\\' {
					esc = true
				} else if c == '"' {
					inStr = false
				}
			case c == '"':
				inStr, strLine, strCol = true, j.lineNo, i+1
			case c == '{' || c == '[':
				depth++
			case c == '}' || c == ']':
				depth--
			}
			if depth == 0 {
				i++
				break
			}
		}
		if !tooBig && len(j.rec)+(i-j.pos) > MaxRecord {
			if next != nil {
				return nil, j.breakAt(next, startLine, startCol, i)
			}
			tooBig = true
			j.rec = j.rec[:0]
		}
		if !tooBig {
			j.rec = append(j.rec, l[j.pos:i]...)
		}
		j.pos = i
		if depth == 0 {
			break
		}
		// The line ended inside the object.
		if inStr {
			if next != nil && strLine >= next.line {
				return nil, j.breakAt(next, startLine, startCol, j.pos)
			}
			skipped := j.resync(startLine, startCol)
			return nil, j.errAt(strLine, strCol, "malformed JSON: the string opened here is not closed on its line%s", skipped)
		}
		long, err := j.nextLine()
		if err != nil {
			return nil, err
		}
		if j.eof {
			if next != nil {
				return nil, j.breakAt(next, startLine, startCol, 0)
			}
			return nil, j.errAt(startLine, startCol, "the JSON object is not closed before the end of the file")
		}
		if long {
			j.resync(startLine, startCol)
			return nil, j.errAt(startLine, startCol, "the JSON object has a line longer than %d bytes; skipped", MaxRecord)
		}
		if !tooBig {
			j.rec = append(j.rec, '\n')
		}
		if ind, c := indent(j.line); next == nil && !tooBig && ind > 0 && ind <= startCol && c == '{' {
			next = &candidate{line: j.lineNo, off: len(j.rec)}
		}
	}
	if tooBig {
		return nil, j.errAt(startLine, startCol, "record is larger than %d bytes; skipped (lines %d-%d)", MaxRecord, startLine, j.lineNo)
	}
	if i := diag.InvalidUTF8(j.rec); i >= 0 {
		line, col := offsetPos(j.rec, i, startLine, startCol)
		return nil, j.errAt(line, col, "record is not valid UTF-8; skipped")
	}
	if !json.Valid(j.rec) {
		if next != nil {
			return nil, j.breakAt(next, startLine, startCol, j.pos)
		}
		line, col, msg := syntaxPos(j.rec, startLine, startCol)
		return nil, j.errAt(line, col, "malformed JSON: %s", msg)
	}
	raw := make([]byte, len(j.rec))
	copy(raw, j.rec)
	return &Record{Line: startLine, Raw: raw}, nil
}

// breakAt ends a broken record at the remembered line where the next one
// may start: the lines from there on (up to position upto of the current
// line, whose rest follows) are read again, and the error names the first
// syntax error of the broken part, or says it is not closed.
func (j *jsonReader) breakAt(next *candidate, startLine, startCol, upto int) error {
	head := j.rec[:next.off]
	tail := append([]byte(nil), j.rec[next.off:]...)
	if upto < len(j.line) && j.line != nil {
		tail = append(tail, j.line[upto:]...)
	}
	var replay []jsonLine
	for n, text := range bytes.Split(tail, []byte("\n")) {
		replay = append(replay, jsonLine{no: next.line + n, text: text})
	}
	if j.eof && len(replay) > 0 && len(replay[len(replay)-1].text) == 0 {
		replay = replay[:len(replay)-1]
	}
	j.pending = append(replay, j.pending...)
	j.line, j.pos = nil, 0
	j.eof = false // the line reader says so again once the replay is read
	line, col, msg := syntaxPos(head, startLine, startCol)
	if msg != "" && msg != "unexpected end of JSON input" {
		return j.errAt(line, col, "malformed JSON: %s; skipped lines %d-%d", msg, startLine, next.line-1)
	}
	return j.errAt(startLine, startCol, "the JSON object is not closed before line %d, which starts another object; skipped lines %d-%d", next.line, startLine, next.line-1)
}

// offsetPos turns a byte offset of a record into a line and a column (in
// characters) of the file.
func offsetPos(rec []byte, off, startLine, startCol int) (int, int) {
	return diag.LineCol(rec, off, startLine, startCol)
}

// syntaxPos locates the first syntax error of a record.
func syntaxPos(rec []byte, startLine, startCol int) (int, int, string) {
	var v json.RawMessage
	err := json.Unmarshal(rec, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off := int(se.Offset) - 1
		if off < 0 {
			off = 0
		}
		line, col := offsetPos(rec, off, startLine, startCol)
		return line, col, se.Error()
	}
	if err != nil {
		return startLine, startCol, err.Error()
	}
	return startLine, startCol, "not a JSON object"
}
