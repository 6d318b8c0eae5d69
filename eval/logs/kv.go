package logs

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/sigc-project/sigc/diag"
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
		if i := diag.InvalidUTF8(line); i >= 0 {
			return nil, &RecordError{File: k.file, Line: n, Col: utf8.RuneCount(line[:i]) + 1, Msg: "line is not valid UTF-8; skipped"}
		}
		m, col, perr := parseKV(string(line))
		if perr != nil {
			return nil, &RecordError{File: k.file, Line: n, Col: col, Msg: perr.Error()}
		}
		raw, _ := json.Marshal(m)
		return &Record{Line: n, Fields: m, Raw: raw}, nil
	}
}

// parseKV reads one line; on error it also returns the column (in
// characters) where the fault starts. A key given twice keeps its last
// value.
func parseKV(s string) (map[string]any, int, error) {
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
				return nil, utf8.RuneCountInString(s[:start+len(key)+1]) + 1, fmt.Errorf("unclosed quote in the value of %q; close it, or escape it with a backslash", key)
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
		return nil, 1, errors.New("no key=value pairs on this line; is it a key=value log?")
	}
	m["_raw"] = s
	return m, 0, nil
}
