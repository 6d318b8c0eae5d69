package logs

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/sigc-project/sigc/diag"
)

// csvReader reads CSV (RFC 4180) with a header row; every value is a
// string. A record is bounded by MaxRecord. A quoted field may span lines,
// but a quote left open to the end of the file, or past MaxRecord, or a
// quote inside a quoted field that is not doubled, makes the record
// broken: it is reported at the opening quote and reading resumes on the
// line after the record's first line, so one stray quote costs one line,
// never the rest of the file. A quote left open to the end of the file (or
// past the bound) also means the quoting of the lines after it cannot be
// trusted: from there on a quoted field may not span lines, so every line
// is read at most twice, whatever the input.
type csvReader struct {
	file   string
	lines  lineReader
	queue  []csvLine // lines to read again after a broken record, last first (a stack)
	header []string
	extra  map[int]string // names of the columns past the header
	names  map[string]int // header name -> its last column
	err    error          // a fatal error of the header, reported once
	warn   error          // a warning about the header, reported once
	done   bool
	// oneLine: quoted fields may no longer span lines (after a quote that
	// ran to the end of the file or past the bound).
	oneLine bool
}

// extraName names a value past the header's columns: _extra1, _extra2, …,
// never a name the header already uses.
func (c *csvReader) extraName(i int) string {
	if n, ok := c.extra[i]; ok {
		return n
	}
	n := fmt.Sprintf("_extra%d", i-len(c.header)+1)
	for {
		if _, taken := c.names[n]; !taken {
			break
		}
		n += "_"
	}
	c.extra[i] = n
	return n
}

type csvLine struct {
	n    int
	text string
}

func newCSVReader(file string, lr lineReader) *csvReader {
	c := &csvReader{file: file, lines: lr}
	for {
		fields, line, err := c.record()
		if err == io.EOF {
			c.done = true
			return c
		}
		if err != nil {
			if re, ok := err.(*RecordError); ok {
				re.Msg = "cannot read the CSV header: " + re.Msg
			}
			c.err = err
			return c
		}
		if fields == nil {
			continue // blank line
		}
		c.header = fields
		c.header[0] = strings.TrimPrefix(c.header[0], "\ufeff")
		seen := map[string]int{}
		for i, h := range c.header {
			if j, dup := seen[h]; dup && c.warn == nil {
				c.warn = &RecordError{File: file, Line: line, Warning: true, Msg: fmt.Sprintf("the header names the column %s twice (columns %d and %d); the last one's value is used, as JSON parsers keep a repeated key's last value", diag.Quote(h), j+1, i+1)}
			}
			seen[h] = i
		}
		c.extra = map[int]string{}
		c.names = seen
		return c
	}
}

// line returns the next line to parse: one queued for re-reading, or a new
// one.
func (c *csvReader) line() (csvLine, error) {
	if n := len(c.queue); n > 0 {
		l := c.queue[n-1]
		c.queue = c.queue[:n-1]
		return l, nil
	}
	b, err := c.lines.next()
	if err == errTooLong {
		return csvLine{n: c.lines.line}, &RecordError{File: c.file, Line: c.lines.line, Msg: fmt.Sprintf("line is longer than %d bytes; skipped", MaxRecord)}
	}
	if err != nil {
		return csvLine{}, err
	}
	return csvLine{n: c.lines.line, text: string(b)}, nil
}

// record parses the next record: its fields (nil for a blank line) and
// its first line.
func (c *csvReader) record() ([]string, int, error) {
	first, err := c.line()
	if err != nil {
		return nil, first.n, err
	}
	if first.text == "" {
		return nil, first.n, nil
	}
	var fields []string
	var field strings.Builder
	used := []csvLine{first}
	size := len(first.text)
	text, i := first.text, 0
	broken := func(l csvLine, at int, format string, args ...any) ([]string, int, error) {
		// Read again every line of the record after its first (pushed last
		// first, so the stack gives them back in order).
		for k := len(used) - 1; k >= 1; k-- {
			c.queue = append(c.queue, used[k])
		}
		col := utf8.RuneCountInString(l.text[:min(at, len(l.text))]) + 1
		return nil, first.n, &RecordError{File: c.file, Line: l.n, Col: col, Msg: fmt.Sprintf(format, args...)}
	}
	for {
		// At the start of a field.
		if i < len(text) && text[i] == '"' {
			open, openAt := used[len(used)-1], i
			i++
			for {
				j := strings.IndexByte(text[i:], '"')
				if j < 0 {
					if c.oneLine {
						return broken(open, openAt, "malformed CSV: the quoted field opened here is not closed on its line (after the unclosed quote before it, quoted fields may not span lines); the record is skipped")
					}
					// The quoted field goes on at the next line.
					field.WriteString(text[i:])
					next, err := c.line()
					if err == io.EOF {
						c.oneLine = true
						return broken(open, openAt, "malformed CSV: the quoted field opened here is not closed before the end of the file; the record is skipped, and from here on quoted fields may not span lines")
					}
					if err != nil {
						if _, ok := err.(*RecordError); ok {
							return broken(open, openAt, "malformed CSV: the quoted field opened here runs into a line longer than %d bytes; the record is skipped", MaxRecord)
						}
						return nil, first.n, err
					}
					used = append(used, next)
					size += len(next.text) + 1
					if size > MaxRecord {
						c.oneLine = true
						return broken(open, openAt, "malformed CSV: the quoted field opened here is not closed within %d bytes; the record is skipped, and from here on quoted fields may not span lines", MaxRecord)
					}
					field.WriteByte('\n')
					text, i = next.text, 0
					continue
				}
				field.WriteString(text[i : i+j])
				i += j + 1
				if i < len(text) && text[i] == '"' { // a doubled quote
					field.WriteByte('"')
					i++
					continue
				}
				if i < len(text) && text[i] != ',' {
					return broken(used[len(used)-1], i-1, "malformed CSV: a quote inside a quoted field must be doubled (\"\"); the record is skipped")
				}
				break
			}
		} else {
			j := strings.IndexByte(text[i:], ',')
			if j < 0 {
				j = len(text) - i
			}
			field.WriteString(text[i : i+j])
			i += j
		}
		fields = append(fields, field.String())
		field.Reset()
		if i >= len(text) {
			return fields, first.n, nil
		}
		i++ // the comma
		if len(fields) > MaxRecord/64 {
			return broken(used[len(used)-1], i, "row has more than %d columns; skipped", MaxRecord/64)
		}
	}
}

func (c *csvReader) Next() (*Record, error) {
	if c.err != nil {
		err := c.err
		c.err, c.done = nil, true
		return nil, err
	}
	if c.warn != nil {
		w := c.warn
		c.warn = nil
		return nil, w
	}
	if c.done {
		return nil, io.EOF
	}
	for {
		row, line, err := c.record()
		if err != nil {
			return nil, err
		}
		if row == nil {
			continue
		}
		m := make(map[string]any, len(row))
		for i, v := range row {
			if !utf8.ValidString(v) {
				return nil, &RecordError{File: c.file, Line: line, Msg: fmt.Sprintf("row is not valid UTF-8 (in its column %d); skipped", i+1)}
			}
			if i < len(c.header) {
				m[c.header[i]] = v
			} else {
				m[c.extraName(i)] = v
			}
		}
		raw, _ := json.Marshal(m)
		return &Record{Line: line, Fields: m, Raw: raw}, nil
	}
}
