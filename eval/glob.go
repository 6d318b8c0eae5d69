package eval

import (
	"strings"
	"unicode/utf8"

	"github.com/sigc-project/sigc/compiler/ir"
)

// glob is a wildcard pattern compiled for matching in time linear in the
// value's length (times the pattern's): the pattern is cut at its stars
// into fixed pieces (literals and `?`), the first piece is matched at the
// start, the last at the end, and each piece between at its leftmost
// occurrence after the previous one. Leftmost is always right: a piece
// spans a fixed number of runes, so the earliest start also ends earliest
// and leaves the most room for the pieces after it. No backtracking, so no
// pattern shape (`*a*a*a*b`) can make a value cost more than one pass per
// piece.
type glob struct {
	pieces      []piece
	lead, trail bool // a star before the first piece / after the last
}

// piece is a run of literals and single-character wildcards, with the
// literal find searches for (anchor, -1 for none) and the runes before it.
type piece struct {
	segs   []ir.Seg
	anchor int
	before int
}

func newPiece(segs []ir.Seg) piece {
	pc := piece{segs: segs, anchor: -1}
	runes := 0
	for i, seg := range segs {
		if seg.Kind == ir.Lit && (pc.anchor < 0 || len(seg.Text) >= len(segs[pc.anchor].Text)) {
			pc.anchor, pc.before = i, runes
		}
		if seg.Kind == ir.Lit {
			runes += utf8.RuneCountInString(seg.Text)
		} else {
			runes++
		}
	}
	return pc
}

func compileGlob(p ir.Pattern) *glob {
	g := &glob{}
	var cur []ir.Seg
	for i, s := range p {
		if s.Kind == ir.Star {
			if i == 0 {
				g.lead = true
			}
			if len(cur) > 0 {
				g.pieces = append(g.pieces, newPiece(cur))
				cur = nil
			}
			if i == len(p)-1 {
				g.trail = true
			}
			continue
		}
		cur = append(cur, s)
	}
	if len(cur) > 0 {
		g.pieces = append(g.pieces, newPiece(cur))
	}
	return g
}

func (g *glob) match(s string) bool {
	if len(g.pieces) == 0 {
		return g.lead || s == ""
	}
	if len(g.pieces) == 1 && !g.lead && !g.trail {
		end, ok := g.pieces[0].matchAt(s, 0)
		return ok && end == len(s)
	}
	pos, end := 0, len(s)
	first, last := 0, len(g.pieces)
	if !g.lead {
		e, ok := g.pieces[0].matchAt(s, 0)
		if !ok {
			return false
		}
		pos, first = e, 1
	}
	if !g.trail {
		st, ok := g.pieces[last-1].matchBefore(s, end)
		if !ok || st < pos {
			return false
		}
		end, last = st, last-1
	}
	for _, pc := range g.pieces[first:last] {
		e, ok := pc.find(s[:end], pos)
		if !ok {
			return false
		}
		pos = e
	}
	return true
}

// matchAt matches the piece at byte offset i and returns where it ends.
func (pc piece) matchAt(s string, i int) (int, bool) {
	for _, seg := range pc.segs {
		if seg.Kind == ir.Lit {
			if !strings.HasPrefix(s[i:], seg.Text) {
				return 0, false
			}
			i += len(seg.Text)
			continue
		}
		if i >= len(s) {
			return 0, false
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return i, true
}

// matchBefore matches the piece so that it ends at byte offset end and
// returns where it starts.
func (pc piece) matchBefore(s string, end int) (int, bool) {
	for k := len(pc.segs) - 1; k >= 0; k-- {
		seg := pc.segs[k]
		if seg.Kind == ir.Lit {
			if !strings.HasSuffix(s[:end], seg.Text) {
				return 0, false
			}
			end -= len(seg.Text)
			continue
		}
		if end <= 0 {
			return 0, false
		}
		_, size := utf8.DecodeLastRuneInString(s[:end])
		end -= size
	}
	return end, true
}

// find returns the end of the piece's leftmost occurrence at or after from.
// Candidates come from strings.Index of the piece's longest literal (the
// rarest, as a rule); the runes before it in the piece are counted back to
// the candidate's start, then the whole piece is checked there.
func (pc piece) find(s string, from int) (int, bool) {
	if pc.anchor < 0 { // only `?`: the next runes
		return pc.matchAt(s, from)
	}
	lit := pc.segs[pc.anchor].Text
	if len(pc.segs) == 1 { // one literal: the common case
		j := strings.Index(s[from:], lit)
		if j < 0 {
			return 0, false
		}
		return from + j + len(lit), true
	}
	for at := from; at <= len(s); {
		j := strings.Index(s[at:], lit)
		if j < 0 {
			return 0, false
		}
		c := at + j
		if start, ok := backRunes(s, c, pc.before, from); ok {
			if e, ok := pc.matchAt(s, start); ok {
				return e, true
			}
		}
		_, size := utf8.DecodeRuneInString(s[c:])
		at = c + max(size, 1)
	}
	return 0, false
}

// backRunes steps n runes back from byte offset i, not before floor.
func backRunes(s string, i, n, floor int) (int, bool) {
	for ; n > 0; n-- {
		if i <= floor {
			return 0, false
		}
		_, size := utf8.DecodeLastRuneInString(s[floor:i])
		i -= size
	}
	return i, true
}
