package ir

import (
	"fmt"

	"github.com/sigc-project/sigc/diag"
)

// Walk calls fn for e and every descendant, parents first.
func Walk(e Expr, fn func(Expr)) {
	fn(e)
	switch n := e.(type) {
	case *And:
		for _, a := range n.Args {
			Walk(a, fn)
		}
	case *Or:
		for _, a := range n.Args {
			Walk(a, fn)
		}
	case *Not:
		Walk(n.Arg, fn)
	case *Const, *Match, *Number, *Regex, *CIDR, *Exists, *Null, *FieldRef, *TimePart:
	default:
		panic(fmt.Sprintf("ir.Walk: unknown node %T", e))
	}
}

// Simplify flattens nested and/or, drops constants where they are neutral and
// folds double negation. The compiler runs it before handing the IR out. A
// subtree shared by several parents is simplified once and stays shared,
// so consumers can plan it once.
func Simplify(e Expr) Expr {
	s := simplifier{memo: map[Expr]Expr{}}
	return s.simplify(e)
}

type simplifier struct{ memo map[Expr]Expr }

func (s *simplifier) simplify(e Expr) Expr {
	if out, ok := s.memo[e]; ok {
		return out
	}
	var out Expr
	switch n := e.(type) {
	case *And:
		out = s.list(n.Pos, n.Args, true)
	case *Or:
		out = s.list(n.Pos, n.Args, false)
	case *Not:
		inner := s.simplify(n.Arg)
		switch in := inner.(type) {
		case *Not:
			out = in.Arg
		case *Const:
			out = &Const{Node: n.Node, Value: !in.Value}
		case *Exists: // absent or null is exactly Null
			out = &Null{Node: n.Node, Field: in.Field}
		case *Null:
			out = &Exists{Node: n.Node, Field: in.Field}
		default:
			out = &Not{Node: n.Node, Arg: inner}
		}
	default:
		out = e
	}
	s.memo[e] = out
	return out
}

func (s *simplifier) list(pos0 diag.Pos, args []Expr, isAnd bool) Expr {
	out := make([]Expr, 0, len(args))
	for _, a := range args {
		a = s.simplify(a)
		switch x := a.(type) {
		case *Const:
			if x.Value == isAnd {
				continue // neutral element
			}
			return &Const{Node: Node{Pos: pos0}, Value: !isAnd}
		case *And:
			if isAnd {
				out = append(out, x.Args...)
				continue
			}
		case *Or:
			if !isAnd {
				out = append(out, x.Args...)
				continue
			}
		}
		out = append(out, a)
	}
	switch len(out) {
	case 0:
		return &Const{Node: Node{Pos: pos0}, Value: isAnd}
	case 1:
		return out[0]
	}
	if isAnd {
		return &And{Node: Node{Pos: pos0}, Args: out}
	}
	return &Or{Node: Node{Pos: pos0}, Args: out}
}

// Size counts the nodes of e as consumers see them (a subtree referenced
// twice counts twice), stopping at limit+1. The compiler shares selection
// subtrees, so the count is computed once per distinct node: a rule whose
// conditions would expand past the limit is refused in time linear in its
// source, before any pass walks the expansion.
func Size(e Expr, limit int) int {
	memo := map[Expr]int{}
	var size func(Expr) int
	size = func(e Expr) int {
		if n, ok := memo[e]; ok {
			return n
		}
		n := 1
		var args []Expr
		switch x := e.(type) {
		case *And:
			args = x.Args
		case *Or:
			args = x.Args
		case *Not:
			args = []Expr{x.Arg}
		}
		for _, a := range args {
			n += size(a)
			if n > limit {
				n = limit + 1
				break
			}
		}
		memo[e] = n
		return n
	}
	return size(e)
}
