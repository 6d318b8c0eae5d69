package logs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"unicode/utf8"

	"github.com/sigc-project/sigc/diag"
)

// jsonReader splits a stream into top-level JSON objects: one per line
// (JSON Lines), pretty-printed objects back to back, or the elements of
// top-level arrays. It reads line by line, in one pass, so a broken record
// costs only its own lines and no input costs more than linear work:
//   - a string still open at the end of its line is broken (JSON strings
//     cannot hold a raw line break);
//   - inside an open object, a line that starts with `{` at or left of the
//     column where the object began may start the next record (pretty
//     printers indent nested objects). The scan goes on: if the object
//     closes as valid JSON it is one record (valid JSON is never split);
//     if it does not close, or closes invalid, the objects that started on
//     such lines and closed are the records read, in order, and the rest
//     is reported.
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

	readErr error       // a read error met while skipping, for the next call
	rec     []byte      // the record being read
	ready   []readyItem // records and errors recovered from a broken record
}

// readyItem is a recovered record or the error of a broken one.
type readyItem struct {
	rec *Record
	err error
}

func newJSONReader(file string, lr lineReader) *jsonReader {
	return &jsonReader{file: file, lines: lr, first: true}
}

// nextLine loads the next line; false at the end of the input. An
// over-long line is returned empty and reported by the caller through
// long.
func (j *jsonReader) nextLine() (long bool, err error) {
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
	if err := j.readErr; err != nil && len(j.ready) == 0 {
		j.readErr = nil
		return nil, err
	}
	if len(j.ready) > 0 {
		it := j.ready[0]
		j.ready = j.ready[1:]
		return it.rec, it.err
	}
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
		rec, err := j.object(startLine, startCol)
		if err == nil && rec == nil && len(j.ready) > 0 { // recovered
			it := j.ready[0]
			j.ready = j.ready[1:]
			return it.rec, it.err
		}
		return rec, err
	}
}

// resync skips the rest of the current line and the lines after it up to
// one whose first byte is `{` (or `[`) at or left of column col, and says
// which lines were skipped.
func (j *jsonReader) resync(from, col int) string {
	j.pos = len(j.line)
	for !j.eof {
		if _, err := j.nextLine(); err != nil {
			j.eof, j.readErr = true, err // reported by the next Next
			break
		}
		if ind, c := indent(j.line); ind > 0 && ind <= col && (c == '{' || c == '[') {
			j.pos = ind - 1
			break
		}
	}
	to := j.lineNo - 1 // the line it stopped at, or the end (counted one past)
	if to <= from {
		return ""
	}
	return fmt.Sprintf(" (lines %d-%d skipped)", from, to)
}

// candidate is a line inside an open object that may start the next
// record: its `{` at depth (the depth before it), where it starts in rec,
// and, once its object closed, where it ends.
type candidate struct {
	line, col, depth int
	off, end         int
}

// object reads the object whose `{` is at the current position. On a
// broken object it returns the first error and queues what it recovered.
func (j *jsonReader) object(startLine, startCol int) (*Record, error) {
	j.rec = j.rec[:0]
	depth, inStr, esc := 0, false, false
	strLine, strCol := 0, 0
	var open, closed []*candidate // candidates still open / closed, in order
	// fail ends a broken record; located says the error points at the
	// fault itself (not at the record's start, as for a missing close).
	fail := func(err *RecordError, located bool) (*Record, error) {
		return nil, j.recover(err, located, startLine, open, closed)
	}
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
				if n := len(open); n > 0 && depth == open[n-1].depth {
					cd := open[n-1]
					open = open[:n-1]
					cd.end = len(j.rec) + (i + 1 - j.pos)
					closed = append(closed, cd)
				}
			}
			if depth == 0 {
				i++
				break
			}
		}
		if len(j.rec)+(i-j.pos) > MaxRecord {
			j.pos = i
			err := j.errAt(startLine, startCol, "record is larger than %d bytes", MaxRecord)
			if len(closed) == 0 && len(open) == 0 {
				err.Msg += j.resync(startLine, startCol)
				return nil, err
			}
			// An object that started on this line is read again from its
			// start, as a record of its own; else go on at the next line
			// that may start one.
			// (It is the last opened, or the last closed if it closed on this
			// line, past the bytes kept.)
			switch n, m := len(open), len(closed); {
			case n > 0 && open[n-1].line == j.lineNo:
				j.pos = open[n-1].col - 1
				open = open[:n-1]
			case m > 0 && closed[m-1].line == j.lineNo:
				j.pos = closed[m-1].col - 1
				closed = closed[:m-1]
			default:
				j.resync(j.lineNo, startCol)
			}
			return fail(err, false)
		}
		j.rec = append(j.rec, l[j.pos:i]...)
		j.pos = i
		if depth == 0 {
			break
		}
		// The line ended inside the object.
		if inStr {
			err := j.errAt(strLine, strCol, "malformed JSON: the string opened here is not closed on its line")
			skipped := j.resync(startLine, startCol)
			if len(closed) == 0 && len(open) == 0 {
				err.Msg += skipped
				return nil, err
			}
			return fail(err, true)
		}
		long, err := j.nextLine()
		if err != nil {
			return nil, err
		}
		if j.eof {
			return fail(j.errAt(startLine, startCol, "the JSON object is not closed before the end of the file"), false)
		}
		if long {
			e := j.errAt(startLine, startCol, "the JSON object has a line (%d) longer than %d bytes; skipped", j.lineNo, MaxRecord)
			longLine := j.lineNo
			j.resync(j.lineNo, startCol)
			_, err := fail(e, false)
			j.ready = append(j.ready, readyItem{err: j.errAt(longLine, 1, "line is longer than %d bytes; skipped", MaxRecord)})
			return nil, err
		}
		j.rec = append(j.rec, '\n')
		if ind, c := indent(j.line); ind > 0 && ind <= startCol && c == '{' {
			open = append(open, &candidate{line: j.lineNo, col: ind, depth: depth, off: len(j.rec) + ind - 1})
		}
	}
	if i := diag.InvalidUTF8(j.rec); i >= 0 {
		line, col := offsetPos(j.rec, i, startLine, startCol)
		return fail(j.errAt(line, col, "record is not valid UTF-8; skipped"), true)
	}
	if !json.Valid(j.rec) {
		line, col, msg := syntaxPos(j.rec, startLine, startCol)
		return fail(j.errAt(line, col, "malformed JSON: %s", msg), true)
	}
	raw := make([]byte, len(j.rec))
	copy(raw, j.rec)
	return &Record{Line: startLine, Raw: raw}, nil
}

// recover queues, in line order, what a broken record held: each object
// that started on a candidate line and closed (the outermost ones) is a
// record if it is valid JSON, and each that never closed is an error. The
// first error, for the record itself, says which lines it lost.
func (j *jsonReader) recover(first *RecordError, located bool, startLine int, open, closed []*candidate) error {
	// Objects nest or are disjoint, so in order of their start the
	// outermost of a nest comes first; an object is kept unless it lies
	// inside the last one kept. One that closed past the bytes kept (at the
	// size bound) counts as open.
	var all []*candidate
	for _, c := range closed {
		if c.end <= len(j.rec) {
			all = append(all, c)
		} else {
			open = append(open, c)
		}
	}
	sort.Slice(all, func(a, b int) bool { return all[a].off < all[b].off })
	sort.Slice(open, func(a, b int) bool { return open[a].off < open[b].off })
	var outer []*candidate
	end := -1
	for _, c := range all {
		if c.off >= end {
			outer = append(outer, c)
			end = c.end
		}
	}
	// An open object inside a kept one is part of it; the others are
	// broken records of their own.
	var broken []*candidate
	k := 0
	for _, o := range open {
		for k < len(outer) && outer[k].end <= o.off {
			k++
		}
		if k < len(outer) && outer[k].off <= o.off {
			continue
		}
		broken = append(broken, o)
	}
	firstLine := 0
	if len(outer) > 0 {
		firstLine = outer[0].line
	}
	if len(broken) > 0 && (firstLine == 0 || broken[0].line < firstLine) {
		firstLine = broken[0].line
	}
	if firstLine > startLine {
		// The record is what came before the first object recovered: say
		// what is wrong there, if it is not the cause found later.
		var head int
		if len(outer) > 0 && outer[0].line == firstLine {
			head = outer[0].off
		} else {
			head = broken[0].off
		}
		if !located || first.Line >= firstLine {
			line, col, msg := syntaxPos(j.rec[:head], startLine, first.Col)
			if msg != "" && msg != "unexpected end of JSON input" {
				first.Line, first.Col, first.Msg = line, col, "malformed JSON: "+msg
			} else {
				first.Line, first.Msg = startLine, fmt.Sprintf("the JSON object is not closed before line %d, which starts another object", firstLine)
			}
		}
		first.Msg += fmt.Sprintf("; lines %d-%d skipped", startLine, firstLine-1)
	}
	notClosed := func(c *candidate) readyItem {
		return readyItem{err: j.errAt(c.line, 1, "the JSON object is not closed (it ran into the broken record at line %d)", startLine)}
	}
	var ready []readyItem
	b := 0
	for _, c := range outer {
		for ; b < len(broken) && broken[b].off < c.off; b++ {
			ready = append(ready, notClosed(broken[b]))
		}
		body := j.rec[c.off:c.end]
		if !json.Valid(body) {
			line, col, msg := syntaxPos(body, c.line, 1)
			ready = append(ready, readyItem{err: j.errAt(line, col, "malformed JSON: %s", msg)})
			continue
		}
		ready = append(ready, readyItem{rec: &Record{Line: c.line, Raw: append([]byte(nil), body...)}})
	}
	for ; b < len(broken); b++ {
		ready = append(ready, notClosed(broken[b]))
	}
	j.ready = append(j.ready, ready...)
	return first
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
