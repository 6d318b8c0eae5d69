package logs

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// kvReader reads `key=value` lines (proxy and firewall logs). Values may be
// quoted with " or ' and use backslash escapes inside quotes. Words without
// `=` (a leading timestamp, say) are kept under `_raw` only.
type kvReader struct {
	file  string
	lines lineReader
}

func (k *kvReader) Next() (*Record, error) {
	for {
		line, err := k.lines.next()
		n := k.lines.line
		if err == errTooLong {
			return nil, &RecordError{File: k.file, Line: n, Msg: fmt.Sprintf("line is longer than %d bytes; skipped", MaxRecord)}
		}
		if err != nil {
			return nil, err
		}
		if len(strings.TrimSpace(string(line))) == 0 || line[0] == '#' {
			continue
		}
		if !utf8.Valid(line) {
			return nil, &RecordError{File: k.file, Line: n, Msg: "line is not valid UTF-8; skipped"}
		}
		m, perr := parseKV(string(line))
		if perr != nil {
			return nil, &RecordError{File: k.file, Line: n, Msg: perr.Error()}
		}
		raw, _ := json.Marshal(m)
		return &Record{Line: n, Fields: m, Raw: raw}, nil
	}
}

func parseKV(s string) (map[string]any, error) {
	m := map[string]any{}
	i := 0
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			break
		}
		start := i
		for i < len(s) && s[i] != '=' && s[i] != ' ' && s[i] != '\t' {
			i++
		}
		if i >= len(s) || s[i] != '=' {
			continue // a bare word
		}
		key := s[start:i]
		i++
		var val strings.Builder
		if i < len(s) && (s[i] == '"' || s[i] == '\'') {
			q := s[i]
			i++
			closed := false
			for i < len(s) {
				c := s[i]
				if c == '\\' && i+1 < len(s) {
					val.WriteByte(s[i+1])
					i += 2
					continue
				}
				if c == q {
					closed = true
					i++
					break
				}
				val.WriteByte(c)
				i++
			}
			if !closed {
				return nil, fmt.Errorf("unclosed quote in the value of %q", key)
			}
		} else {
			for i < len(s) && s[i] != ' ' && s[i] != '\t' {
				val.WriteByte(s[i])
				i++
			}
		}
		if key != "" {
			m[key] = val.String()
		}
	}
	if len(m) == 0 {
		return nil, errors.New("no key=value pairs on this line; is it a key=value log?")
	}
	m["_raw"] = s
	return m, nil
}

// csvReader reads CSV with a header row; every value is a string.
type csvReader struct {
	file   string
	r      *csv.Reader
	header []string
	err    error
}

func newCSVReader(file string, r *bufio.Reader) *csvReader {
	cr := csv.NewReader(io.LimitReader(r, 1<<62))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	c := &csvReader{file: file, r: cr}
	h, err := cr.Read()
	if err != nil {
		c.err = err
		return c
	}
	c.header = append([]string(nil), h...)
	if len(c.header) > 0 {
		c.header[0] = strings.TrimPrefix(c.header[0], "\ufeff")
	}
	return c
}

func (c *csvReader) Next() (*Record, error) {
	if c.err != nil {
		err := c.err
		c.err = io.EOF
		if err == io.EOF {
			return nil, err
		}
		return nil, &RecordError{File: c.file, Line: 1, Msg: "cannot read the CSV header: " + err.Error()}
	}
	row, err := c.r.Read()
	if err == io.EOF {
		return nil, err
	}
	line, _ := c.r.FieldPos(0)
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, &RecordError{File: c.file, Line: pe.StartLine, Msg: "malformed CSV: " + pe.Err.Error()}
		}
		return nil, err
	}
	m := make(map[string]any, len(row))
	for i, v := range row {
		if !utf8.ValidString(v) {
			return nil, &RecordError{File: c.file, Line: line, Msg: "row is not valid UTF-8; skipped"}
		}
		if i < len(c.header) {
			m[c.header[i]] = v
		} else {
			m[fmt.Sprintf("_extra%d", i-len(c.header)+1)] = v
		}
	}
	if len(row) > MaxRecord/64 {
		return nil, &RecordError{File: c.file, Line: line, Msg: "row has too many columns; skipped"}
	}
	raw, _ := json.Marshal(m)
	return &Record{Line: line, Fields: m, Raw: raw}, nil
}
