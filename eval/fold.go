package eval

import (
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// Case-insensitive matching lower-cases both sides, rune by rune, with
// Unicode's simple lower-case mapping (what strings.ToLower does and what
// the targets do: Sumo Logic's toLowerCase() on both sides, LogScale's
// classes of lower-case equivalents). Needles are lowered once at plan
// time; event values are lowered at most once per event and field, into a
// buffer reused from event to event, so matching allocates nothing.

// appendLower appends the lower-case form of s to dst. It returns s itself
// (and dst unchanged) when s is already lower-case ASCII.
func appendLower(dst []byte, s string) (string, []byte) {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			break
		}
	}
	if i == len(s) {
		return s, dst
	}
	start := len(dst)
	dst = append(dst, s[:i]...)
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
		i += size
	}
	b := dst[start:]
	return unsafe.String(unsafe.SliceData(b), len(b)), dst
}

// lowerCache holds the lower-cased values of the current event, computed on
// first use; a generation number invalidates it for the next event.
type lowerCache struct {
	gen     uint32
	slotGen []uint32
	slots   [][]string
	allGen  uint32
	all     []string
	buf     []byte
}

// reset starts a new event with room for n slots.
func (c *lowerCache) reset(n int) {
	c.gen++
	if c.gen == 0 { // wrapped: forget every old generation
		clear(c.slotGen)
		c.allGen = 0
		c.gen = 1
	}
	for len(c.slotGen) < n {
		c.slotGen = append(c.slotGen, 0)
		c.slots = append(c.slots, nil)
	}
	// Strings of the previous event may point into buf: they are dead now.
	// A buffer grown very large by one huge event is dropped.
	if cap(c.buf) > 1<<20 {
		c.buf = nil
	}
	c.buf = c.buf[:0]
}

func (c *lowerCache) lower(dst []string, vals []Scalar) []string {
	dst = dst[:0]
	for i := range vals {
		var s string
		if !vals[i].Null {
			s, c.buf = appendLower(c.buf, vals[i].Str)
		}
		dst = append(dst, s)
	}
	return dst
}

// slot returns the lower-cased values of a slot, aligned with its scalars.
func (c *lowerCache) slot(i int, vals []Scalar) []string {
	if c.slotGen[i] != c.gen {
		c.slots[i] = c.lower(c.slots[i], vals)
		c.slotGen[i] = c.gen
	}
	return c.slots[i]
}

// everything returns the lower-cased values of every leaf (keywords).
func (c *lowerCache) everything(vals []Scalar) []string {
	if c.allGen != c.gen {
		c.all = c.lower(c.all, vals)
		c.allGen = c.gen
	}
	return c.all
}
