// Package aggexpr parses the expressions of correlation rules: the named
// aggregates of the `aggregate` type (`count_distinct(bucket(1h))`,
// `stddev(interval()) / avg(interval())`) and conditions
// (`connections >= 12 and not hours < 3`, temporal `a and not b`), using
// participle. One grammar serves both; the compiler checks which is which.
package aggexpr

import (
	"fmt"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// Expr is a parsed expression node.
type Expr interface{ Position() lexer.Position }

// Binary is L Op R for arithmetic, comparison, `and` and `or`.
type Binary struct {
	Pos  lexer.Position
	Op   string
	L, R Expr
}

// Not is `not X`.
type Not struct {
	Pos lexer.Position
	Arg Expr
}

// Neg is `-X`.
type Neg struct {
	Pos lexer.Position
	Arg Expr
}

// Call is name(args…).
type Call struct {
	Pos  lexer.Position
	Name string
	Args []Expr
}

// Ident is a name or a back-quoted field name.
type Ident struct {
	Pos    lexer.Position
	Name   string
	Quoted bool
}

// Number is a numeric literal.
type Number struct {
	Pos  lexer.Position
	Text string
}

// Duration is a literal such as 1h or 30s.
type Duration struct {
	Pos  lexer.Position
	Text string
}

func (n *Binary) Position() lexer.Position   { return n.Pos }
func (n *Not) Position() lexer.Position      { return n.Pos }
func (n *Neg) Position() lexer.Position      { return n.Pos }
func (n *Call) Position() lexer.Position     { return n.Pos }
func (n *Ident) Position() lexer.Position    { return n.Pos }
func (n *Number) Position() lexer.Position   { return n.Pos }
func (n *Duration) Position() lexer.Position { return n.Pos }

// grammar, loosest first ---------------------------------------------------

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
	Pos lexer.Position
	Not *gNot `parser:"  \"not\" @@"`
	Cmp *gCmp `parser:"| @@"`
}

type gCmp struct {
	Pos   lexer.Position
	Left  *gSum  `parser:"@@"`
	Op    string `parser:"( @( \"<=\" | \">=\" | \"==\" | \"!=\" | \"<\" | \">\" )"`
	Right *gSum  `parser:"  @@ )?"`
}

type gSum struct {
	Pos  lexer.Position
	Left *gProd   `parser:"@@"`
	Rest []*gSumR `parser:"@@*"`
}

type gSumR struct {
	Pos lexer.Position
	Op  string `parser:"@( \"+\" | \"-\" )"`
	R   *gProd `parser:"@@"`
}

type gProd struct {
	Pos  lexer.Position
	Left *gUnary   `parser:"@@"`
	Rest []*gProdR `parser:"@@*"`
}

type gProdR struct {
	Pos lexer.Position
	Op  string  `parser:"@( \"*\" | \"/\" )"`
	R   *gUnary `parser:"@@"`
}

type gUnary struct {
	Pos  lexer.Position
	Neg  *gUnary   `parser:"  \"-\" @@"`
	Prim *gPrimary `parser:"| @@"`
}

type gPrimary struct {
	Pos      lexer.Position
	Duration *string `parser:"  @Duration"`
	Number   *string `parser:"| @Number"`
	Call     *gCall  `parser:"| @@"`
	Quoted   *string `parser:"| @Backtick"`
	Ident    *string `parser:"| @Ident"`
	Group    *gOr    `parser:"| \"(\" @@ \")\""`
}

type gCall struct {
	Pos  lexer.Position
	Name string `parser:"@Ident \"(\""`
	Args []*gOr `parser:"( @@ ( \",\" @@ )* )? \")\""`
}

var exprLexer = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "Duration", Pattern: `[0-9]+[smhdw]\b`},
	{Name: "Number", Pattern: `[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?`},
	{Name: "Backtick", Pattern: "`[^`]*`"},
	{Name: "Ident", Pattern: `[A-Za-z_@][A-Za-z0-9_.@]*`},
	{Name: "Op", Pattern: `<=|>=|==|!=|[-+*/()<>,]`},
	{Name: "whitespace", Pattern: `\s+`},
	{Name: "Other", Pattern: `.`},
})

var parser = participle.MustBuild[gOr](
	participle.Lexer(exprLexer),
	participle.CaseInsensitive("Ident"),
	participle.UseLookahead(2),
)

// Error is a parse error at a position inside the expression string.
type Error struct {
	Pos lexer.Position
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Column, e.Msg) }

// MaxLength and MaxDepth bound an expression: correlation expressions are
// a line or two, and the parser and the passes after it recurse once per
// level of parentheses, `not` and unary minus.
const (
	MaxLength = 8192
	MaxDepth  = 64
)

// Parse parses one expression.
func Parse(src string) (Expr, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &Error{Pos: lexer.Position{Line: 1, Column: 1}, Msg: "expression is empty"}
	}
	if len(src) > MaxLength {
		return nil, &Error{Pos: lexer.Position{Line: 1, Column: 1}, Msg: fmt.Sprintf("expression is longer than %d characters; correlation expressions are a line or two, split it into named aggregates", MaxLength)}
	}
	if err := checkDepth(src); err != nil {
		return nil, err
	}
	g, err := parser.ParseString("", src)
	if err != nil {
		pos := lexer.Position{Line: 1, Column: 1}
		msg := err.Error()
		if pe, ok := err.(participle.Error); ok {
			pos, msg = pe.Position(), pe.Message()
		}
		return nil, &Error{Pos: pos, Msg: "expression syntax: " + msg}
	}
	return convOr(g), nil
}

// checkDepth refuses nesting deeper than MaxDepth before the recursive
// parser sees it. Every `(`, `not` and `-` counts until the operand that
// closes it.
func checkDepth(src string) error {
	toks, err := exprLexer.Lex("", strings.NewReader(src))
	if err != nil {
		return &Error{Pos: lexer.Position{Line: 1, Column: 1}, Msg: err.Error()}
	}
	pending := []int{0} // unary operators waiting for an operand, per level
	depth := 0
	for {
		t, err := toks.Next()
		if err != nil || t.EOF() {
			return nil // the parser reports lexing errors with their position
		}
		switch v := strings.ToLower(t.Value); {
		case v == "(":
			pending = append(pending, 0)
			depth++
		case v == ")":
			if len(pending) > 1 {
				depth -= pending[len(pending)-1] + 1
				pending = pending[:len(pending)-1]
				depth -= pending[len(pending)-1]
				pending[len(pending)-1] = 0
			}
		case v == "not" || v == "-":
			pending[len(pending)-1]++
			depth++
		case v == "and" || v == "or" || v == "," || v == "+" || v == "*" || v == "/" || strings.ContainsAny(v[:1], "<>=!"):
		default:
			depth -= pending[len(pending)-1]
			pending[len(pending)-1] = 0
		}
		if depth > MaxDepth {
			return &Error{Pos: t.Pos, Msg: fmt.Sprintf("expression nests deeper than %d levels; simplify it", MaxDepth)}
		}
	}
}

func convOr(g *gOr) Expr {
	e := convAnd(g.Left)
	for _, r := range g.Right {
		e = &Binary{Pos: g.Pos, Op: "or", L: e, R: convAnd(r)}
	}
	return e
}

func convAnd(g *gAnd) Expr {
	e := convNot(g.Left)
	for _, r := range g.Right {
		e = &Binary{Pos: g.Pos, Op: "and", L: e, R: convNot(r)}
	}
	return e
}

func convNot(g *gNot) Expr {
	if g.Not != nil {
		return &Not{Pos: g.Pos, Arg: convNot(g.Not)}
	}
	l := convSum(g.Cmp.Left)
	if g.Cmp.Right == nil {
		return l
	}
	return &Binary{Pos: g.Cmp.Pos, Op: g.Cmp.Op, L: l, R: convSum(g.Cmp.Right)}
}

func convSum(g *gSum) Expr {
	e := convProd(g.Left)
	for _, r := range g.Rest {
		e = &Binary{Pos: r.Pos, Op: r.Op, L: e, R: convProd(r.R)}
	}
	return e
}

func convProd(g *gProd) Expr {
	e := convUnary(g.Left)
	for _, r := range g.Rest {
		e = &Binary{Pos: r.Pos, Op: r.Op, L: e, R: convUnary(r.R)}
	}
	return e
}

func convUnary(g *gUnary) Expr {
	if g.Neg != nil {
		return &Neg{Pos: g.Pos, Arg: convUnary(g.Neg)}
	}
	p := g.Prim
	switch {
	case p.Duration != nil:
		return &Duration{Pos: p.Pos, Text: *p.Duration}
	case p.Number != nil:
		return &Number{Pos: p.Pos, Text: *p.Number}
	case p.Call != nil:
		c := &Call{Pos: p.Call.Pos, Name: strings.ToLower(p.Call.Name)}
		for _, a := range p.Call.Args {
			c.Args = append(c.Args, convOr(a))
		}
		return c
	case p.Quoted != nil:
		return &Ident{Pos: p.Pos, Name: strings.Trim(*p.Quoted, "`"), Quoted: true}
	case p.Ident != nil:
		return &Ident{Pos: p.Pos, Name: *p.Ident}
	default:
		return convOr(p.Group)
	}
}

// String renders an expression canonically (tests).
func String(e Expr) string {
	switch n := e.(type) {
	case *Binary:
		return "(" + String(n.L) + " " + n.Op + " " + String(n.R) + ")"
	case *Not:
		return "(not " + String(n.Arg) + ")"
	case *Neg:
		return "(-" + String(n.Arg) + ")"
	case *Call:
		parts := make([]string, len(n.Args))
		for i, a := range n.Args {
			parts[i] = String(a)
		}
		return n.Name + "(" + strings.Join(parts, ", ") + ")"
	case *Ident:
		if n.Quoted {
			return "`" + n.Name + "`"
		}
		return n.Name
	case *Number:
		return n.Text
	case *Duration:
		return n.Text
	}
	panic(fmt.Sprintf("aggexpr.String: unknown node %T", e))
}
