package eval

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Flattener turns JSON objects into Events without building a map first:
// leaves are sliced out of the record text, nested paths are interned, and
// the Event is reused from record to record. The input must be valid JSON
// (the log readers check it), so the walk does no validation of its own.
type Flattener struct {
	ev     Event
	intern map[string]string
	path   []byte
	src    string
	// keys holds the keys seen in the object open at each depth, to notice
	// a key given twice; Dup reports it for the last record.
	keys [][]string
	seen []map[string]struct{}
	Dup  bool
}

// NewFlattener returns a Flattener.
func NewFlattener() *Flattener {
	return &Flattener{ev: Event{Fields: map[string][]Scalar{}}, intern: map[string]string{}}
}

// maxKeys bounds the reused field map: logs whose keys never repeat would
// otherwise grow it without end.
const maxKeys = 4096

// Flatten parses raw (one valid JSON object) into the reused Event, which
// stays valid until the next call. Its strings share raw's memory, so raw
// must not change afterwards.
func (f *Flattener) Flatten(raw []byte) *Event {
	ev := &f.ev
	if len(ev.Fields) > maxKeys {
		ev.Fields = map[string][]Scalar{}
	}
	for k, v := range ev.Fields {
		ev.Fields[k] = v[:0]
	}
	ev.All = ev.All[:0]
	f.Dup = false
	if len(f.intern) > 4*maxKeys {
		f.intern = map[string]string{}
	}
	if len(raw) == 0 {
		return ev
	}
	f.src = unsafe.String(&raw[0], len(raw))
	f.path = f.path[:0]
	i := f.skipSpace(0)
	f.value(i, 0)
	return ev
}

func (f *Flattener) skipSpace(i int) int {
	for i < len(f.src) {
		switch f.src[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// key returns the interned path for the current path buffer.
func (f *Flattener) key() string {
	if k, ok := f.intern[string(f.path)]; ok {
		return k
	}
	k := string(f.path)
	f.intern[k] = k
	return k
}

func (f *Flattener) add(s Scalar) {
	k := f.key()
	f.ev.Fields[k] = append(f.ev.Fields[k], s)
	if !s.Null {
		f.ev.All = append(f.ev.All, s)
	}
}

// value walks the value at i and returns the index after it.
func (f *Flattener) value(i, depth int) int {
	s := f.src
	c := s[i]
	if (c == '{' || c == '[') && depth > maxFlattenDepth {
		return f.skipValue(i)
	}
	switch {
	case c == '{':
		i = f.skipSpace(i + 1)
		if s[i] == '}' {
			return i + 1
		}
		base := len(f.path)
		for len(f.keys) <= depth {
			f.keys = append(f.keys, nil)
			f.seen = append(f.seen, nil)
		}
		f.keys[depth] = f.keys[depth][:0]
		if f.seen[depth] != nil {
			clear(f.seen[depth])
		}
		for {
			key, next := f.str(i)
			f.noteKey(depth, key)
			f.path = f.path[:base]
			if depth > 0 { // keys of nested objects extend their parent's path
				f.path = append(f.path, '.')
			}
			f.path = append(f.path, key...)
			i = f.skipSpace(next)
			i = f.skipSpace(i + 1) // ':'
			i = f.skipSpace(f.value(i, depth+1))
			if s[i] == ',' {
				i = f.skipSpace(i + 1)
				continue
			}
			f.path = f.path[:base]
			return i + 1 // '}'
		}
	case c == '[':
		i = f.skipSpace(i + 1)
		if s[i] == ']' {
			return i + 1
		}
		for {
			i = f.skipSpace(f.value(i, depth+1))
			if s[i] == ',' {
				i = f.skipSpace(i + 1)
				continue
			}
			return i + 1
		}
	case c == '"':
		v, next := f.str(i)
		f.add(Scalar{Str: v})
		return next
	case c == 't':
		f.add(Scalar{Str: "true"})
		return i + 4
	case c == 'f':
		f.add(Scalar{Str: "false"})
		return i + 5
	case c == 'n':
		f.add(Scalar{Null: true})
		return i + 4
	default:
		j := i
		for j < len(s) && (s[j] == '-' || s[j] == '+' || s[j] == '.' || s[j] == 'e' || s[j] == 'E' || (s[j] >= '0' && s[j] <= '9')) {
			j++
		}
		num := s[i:j]
		v, err := strconv.ParseFloat(num, 64)
		f.add(Scalar{Str: num, Num: v, IsNum: err == nil})
		return j
	}
}

// noteKey records a key of the object at depth and sets Dup when the
// object already had it. Small objects are scanned, large ones hashed.
func (f *Flattener) noteKey(depth int, key string) {
	if f.Dup {
		return
	}
	ks := f.keys[depth]
	if len(ks) < 32 {
		for _, k := range ks {
			if k == key {
				f.Dup = true
				return
			}
		}
		f.keys[depth] = append(ks, key)
		return
	}
	if f.seen[depth] == nil {
		f.seen[depth] = map[string]struct{}{}
	}
	if len(f.seen[depth]) == 0 {
		for _, k := range ks {
			f.seen[depth][k] = struct{}{}
		}
	}
	if _, ok := f.seen[depth][key]; ok {
		f.Dup = true
		return
	}
	f.seen[depth][key] = struct{}{}
}

// skipValue steps over a value without recording it (too deep).
func (f *Flattener) skipValue(i int) int {
	depth := 0
	for i < len(f.src) {
		switch f.src[i] {
		case '"':
			_, i = f.str(i)
			if depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth <= 0 {
				return i + 1
			}
		case ',':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	return i
}

// str reads the string starting at the quote at i: a slice of the input
// when it has no escapes, else an unescaped copy.
func (f *Flattener) str(i int) (string, int) {
	s := f.src
	j := i + 1
	for j < len(s) && s[j] != '"' && s[j] != '\\' {
		j++
	}
	if s[j] == '"' {
		return s[i+1 : j], j + 1
	}
	b := make([]byte, 0, j-i+16)
	b = append(b, s[i+1:j]...)
	for j < len(s) && s[j] != '"' {
		if s[j] != '\\' {
			b = append(b, s[j])
			j++
			continue
		}
		j++
		switch s[j] {
		case 'n':
			b = append(b, '\n')
		case 't':
			b = append(b, '\t')
		case 'r':
			b = append(b, '\r')
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'u':
			r := hex4(s[j+1 : j+5])
			j += 4
			if utf16.IsSurrogate(r) && j+6 < len(s) && s[j+1] == '\\' && s[j+2] == 'u' {
				if r2 := hex4(s[j+3 : j+7]); utf16.DecodeRune(r, r2) != utf8.RuneError {
					r = utf16.DecodeRune(r, r2)
					j += 6
				}
			}
			b = utf8.AppendRune(b, r)
		default: // \" \\ \/
			b = append(b, s[j])
		}
		j++
	}
	return string(b), j + 1
}

func hex4(s string) rune {
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		}
	}
	return r
}
