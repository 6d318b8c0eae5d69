// Package diag holds the one diagnostic type every stage of sigc reports with:
// a 1-based source position, a severity and a message that says what to do.
package diag

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Pos is a 1-based position in a source file. A zero Line means "no position".
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	switch {
	case p.File == "" && p.Line == 0:
		return "<input>"
	case p.Line == 0:
		return p.File
	default:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	}
}

// Shift returns the position of byte offset off inside a single-line scalar
// that starts at p (used for positions inside condition strings).
func (p Pos) Shift(line, col int) Pos {
	if line <= 1 {
		return Pos{File: p.File, Line: p.Line, Col: p.Col + col - 1}
	}
	return Pos{File: p.File, Line: p.Line + line - 1, Col: col}
}

// Severity of a diagnostic.
type Severity int

const (
	Error Severity = iota
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Diagnostic is one message about the input.
type Diagnostic struct {
	Pos      Pos
	Severity Severity
	Msg      string
}

func (d *Diagnostic) Error() string {
	return fmt.Sprintf("%s: %s: %s", d.Pos, d.Severity, d.Msg)
}

// Errorf builds an error diagnostic.
func Errorf(p Pos, format string, args ...any) *Diagnostic {
	return &Diagnostic{Pos: p, Severity: Error, Msg: fmt.Sprintf(format, args...)}
}

// Warnf builds a warning diagnostic.
func Warnf(p Pos, format string, args ...any) *Diagnostic {
	return &Diagnostic{Pos: p, Severity: Warning, Msg: fmt.Sprintf(format, args...)}
}

// MaxErrors caps a List so one broken file cannot flood the terminal.
const MaxErrors = 50

// List collects diagnostics; it is itself an error when it holds any error.
type List []*Diagnostic

// Add appends d unless the list is full.
func (l *List) Add(d *Diagnostic) {
	if len(*l) < MaxErrors {
		*l = append(*l, d)
	}
}

// HasErrors reports whether any diagnostic is an error.
func (l List) HasErrors() bool {
	for _, d := range l {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Err returns the list as an error, or nil when it holds no error.
func (l List) Err() error {
	if !l.HasErrors() {
		return nil
	}
	return l
}

func (l List) Error() string {
	var b strings.Builder
	for i, d := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.Error())
	}
	return b.String()
}

// Flatten turns any error into diagnostics, keeping positions where it has them.
func Flatten(err error) List {
	switch e := err.(type) {
	case nil:
		return nil
	case List:
		return e
	case *Diagnostic:
		return List{e}
	default:
		return List{{Severity: Error, Msg: err.Error()}}
	}
}

// maxEcho bounds how much of a value a message repeats.
const maxEcho = 60

// Quote writes a value for a message: Go-quoted (so control and invisible
// characters show as escapes) and cut after maxEcho characters, so a
// message never echoes a 10 KB regex.
func Quote(s string) string {
	n := 0
	for i := range s {
		if n == maxEcho {
			return fmt.Sprintf("%q… (%d bytes)", s[:i], len(s))
		}
		n++
	}
	return fmt.Sprintf("%q", s)
}

// LineCol is the line and column (in characters, 1-based) of byte offset
// off of src, whose first byte stands at line, col.
func LineCol(src []byte, off, line, col int) (int, int) {
	for i := 0; i < off && i < len(src); {
		if src[i] == '\n' {
			line, col = line+1, 1
			i++
			continue
		}
		_, size := utf8.DecodeRune(src[i:])
		i += size
		col++
	}
	return line, col
}

// InvalidUTF8 is the offset of the first byte of b that is not UTF-8, or -1.
func InvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}
