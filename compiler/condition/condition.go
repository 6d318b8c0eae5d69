// Package condition parses Sigma condition strings (`sel and not 1 of filter_*`)
// into a small AST with byte offsets, using participle.
package condition

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// Expr is a parsed condition node.
type Expr interface{ Position() lexer.Position }

// Binary is `a and b` or `a or b`, flattened: Op applies between all Args.
type Binary struct {
	Pos  lexer.Position
	Op   string // "and" | "or"
	Args []Expr
}

// Not is `not X`.
type Not struct {
	Pos lexer.Position
	Arg Expr
}

// Ident names one search (no wildcard) .
type Ident struct {
	Pos  lexer.Position
	Name string
}

// Quantifier is `1 of X*`, `all of them`, `3 of sel_*`. Count 0 means all.
type Quantifier struct {
	Pos     lexer.Position
	All     bool
	Count   int
	Pattern string // "them" or a name pattern with `*`
}

func (b *Binary) Position() lexer.Position     { return b.Pos }
func (n *Not) Position() lexer.Position        { return n.Pos }
func (i *Ident) Position() lexer.Position      { return i.Pos }
func (q *Quantifier) Position() lexer.Position { return q.Pos }

// grammar ---------------------------------------------------------------

type gOr struct {
	Pos   lexer.Position
	Left  *gAnd   `parser:"@@"`
	Right []*gAnd `parser:"( \"or\" @@ )*"`
}

type gAnd struct {
	Pos   lexer.Position
	Left  *gNot   `parser:"@@"`
	Right []*gNot `parser:"( \"and\" @@ )*"`
}

type gNot struct {
	Pos  lexer.Position
	Not  *gNot  `parser:"\"not\" @@"`
	Term *gTerm `parser:"| @@"`
}

type gTerm struct {
	Pos   lexer.Position
	Quant *gQuant `parser:"@@"`
	Group *gOr    `parser:"| \"(\" @@ \")\""`
	Ident *string `parser:"| @Ident"`
}

type gQuant struct {
	Pos    lexer.Position
	Count  string `parser:"@Ident \"of\""`
	Target string `parser:"@Ident"`
}

var condLexer = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "Ident", Pattern: `[A-Za-z0-9_*\-.$]+`},
	{Name: "Paren", Pattern: `[()]`},
	{Name: "Pipe", Pattern: `\|`},
	{Name: "whitespace", Pattern: `\s+`},
	{Name: "Other", Pattern: `.`},
})

var parser = participle.MustBuild[gOr](
	participle.Lexer(condLexer),
	participle.CaseInsensitive("Ident"),
	participle.UseLookahead(3),
)

// Error is a parse error at a byte offset of the condition string.
type Error struct {
	Pos lexer.Position
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Column, e.Msg) }

var keywords = map[string]bool{"and": true, "or": true, "not": true, "of": true}

// MaxDepth bounds the nesting of parentheses and `not`: Sigma conditions
// nest a few levels, and the parser and every pass after it recurse once
// per level. MaxLength bounds a condition's text: the longest in SigmaHQ
// is under 600 characters.
const (
	MaxDepth  = 100
	MaxLength = 64 << 10
)

// Parse parses one condition string.
func Parse(src string) (Expr, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &Error{Pos: lexer.Position{Line: 1, Column: 1}, Msg: "condition is empty; name the selections to combine"}
	}
	if len(src) > MaxLength {
		return nil, &Error{Pos: lexer.Position{Line: 1, Column: 1}, Msg: fmt.Sprintf("condition is longer than %d characters; Sigma conditions are a line or two, combine selections with `1 of sel_*` or correlation rules", MaxLength)}
	}
	if err := checkTokens(src); err != nil {
		return nil, err
	}
	g, err := parser.ParseString("", src)
	if err != nil {
		pos := lexer.Position{Line: 1, Column: 1}
		msg := err.Error()
		if pe, ok := err.(participle.Error); ok {
			pos = pe.Position()
			msg = pe.Message()
		}
		return nil, &Error{Pos: pos, Msg: "condition syntax: " + msg + "; expected selections joined by and/or/not, `N of pattern` or parentheses"}
	}
	return convertOr(g)
}

// checkTokens catches obsolete syntax early with a useful message, and
// refuses nesting deeper than MaxDepth before the recursive parser sees it.
func checkTokens(src string) error {
	toks, err := condLexer.Lex("", strings.NewReader(src))
	if err != nil {
		return &Error{Pos: lexer.Position{Line: 1, Column: 1}, Msg: err.Error()}
	}
	syms := condLexer.Symbols()
	// nots[i] counts the `not` waiting for an operand at parenthesis level
	// i; depth is the open parentheses plus every waiting `not`.
	nots := []int{0}
	depth := 0
	operand := func() {
		depth -= nots[len(nots)-1]
		nots[len(nots)-1] = 0
	}
	for {
		t, err := toks.Next()
		if err != nil {
			return &Error{Pos: lexer.Position{Line: 1, Column: 1}, Msg: err.Error()}
		}
		if t.EOF() {
			return nil
		}
		switch t.Type {
		case syms["Pipe"]:
			return &Error{Pos: t.Pos, Msg: "the pipe aggregation syntax (`| count() by …`) is obsolete; express it as a correlation rule"}
		case syms["Other"]:
			return &Error{Pos: t.Pos, Msg: fmt.Sprintf("unexpected character %q in condition", t.Value)}
		case syms["Paren"]:
			if t.Value == "(" {
				nots = append(nots, 0)
				depth++
			} else if len(nots) > 1 {
				depth -= nots[len(nots)-1] + 1
				nots = nots[:len(nots)-1]
				operand() // the group is the operand of the `not` before it
			}
		case syms["Ident"]:
			switch strings.ToLower(t.Value) {
			case "near":
				return &Error{Pos: t.Pos, Msg: "`near` is obsolete; express it as a temporal correlation rule"}
			case "not":
				nots[len(nots)-1]++
				depth++
			case "and", "or", "of":
			default:
				operand()
			}
		}
		if depth > MaxDepth {
			return &Error{Pos: t.Pos, Msg: fmt.Sprintf("condition nests deeper than %d levels of parentheses and `not`; Sigma conditions nest a few levels, simplify it", MaxDepth)}
		}
	}
}

func convertOr(g *gOr) (Expr, error) {
	left, err := convertAnd(g.Left)
	if err != nil || len(g.Right) == 0 {
		return left, err
	}
	out := &Binary{Pos: g.Pos, Op: "or", Args: []Expr{left}}
	for _, r := range g.Right {
		e, err := convertAnd(r)
		if err != nil {
			return nil, err
		}
		out.Args = append(out.Args, e)
	}
	return out, nil
}

func convertAnd(g *gAnd) (Expr, error) {
	left, err := convertNot(g.Left)
	if err != nil || len(g.Right) == 0 {
		return left, err
	}
	out := &Binary{Pos: g.Pos, Op: "and", Args: []Expr{left}}
	for _, r := range g.Right {
		e, err := convertNot(r)
		if err != nil {
			return nil, err
		}
		out.Args = append(out.Args, e)
	}
	return out, nil
}

func convertNot(g *gNot) (Expr, error) {
	if g.Not != nil {
		e, err := convertNot(g.Not)
		if err != nil {
			return nil, err
		}
		return &Not{Pos: g.Pos, Arg: e}, nil
	}
	t := g.Term
	switch {
	case t.Quant != nil:
		return convertQuant(t.Quant)
	case t.Group != nil:
		return convertOr(t.Group)
	default:
		name := *t.Ident
		if keywords[strings.ToLower(name)] || strings.EqualFold(name, "them") {
			return nil, &Error{Pos: t.Pos, Msg: fmt.Sprintf("unexpected %q; expected a selection name", name)}
		}
		return &Ident{Pos: t.Pos, Name: name}, nil
	}
}

func convertQuant(q *gQuant) (Expr, error) {
	out := &Quantifier{Pos: q.Pos, Pattern: q.Target}
	switch c := strings.ToLower(q.Count); c {
	case "all":
		out.All = true
	case "any":
		out.Count = 1
	default:
		n, err := strconv.Atoi(c)
		if err != nil || n < 1 {
			return nil, &Error{Pos: q.Pos, Msg: fmt.Sprintf("%q before `of` must be `all`, `any` or a positive number", q.Count)}
		}
		out.Count = n
	}
	if strings.EqualFold(out.Pattern, "them") {
		out.Pattern = "them"
	}
	return out, nil
}

// String renders the AST canonically (for tests and fuzzing round trips).
func String(e Expr) string {
	switch n := e.(type) {
	case *Binary:
		parts := make([]string, len(n.Args))
		for i, a := range n.Args {
			parts[i] = String(a)
		}
		return "(" + strings.Join(parts, " "+n.Op+" ") + ")"
	case *Not:
		return "(not " + String(n.Arg) + ")"
	case *Ident:
		return n.Name
	case *Quantifier:
		if n.All {
			return "(all of " + n.Pattern + ")"
		}
		return fmt.Sprintf("(%d of %s)", n.Count, n.Pattern)
	}
	panic(fmt.Sprintf("condition.String: unknown node %T", e))
}
