// Package ir is the contract between the compiler and every consumer
// (backends, evaluator): a small typed boolean tree of matching primitives.
// Value-transforming Sigma modifiers (base64, utf16, windash, …) are already
// lowered into plain alternatives here, so no consumer re-implements them.
package ir

import (
	"net/netip"

	"github.com/sigc-project/sigc/diag"
)

// Expr is a node of the boolean tree. The interface is sealed: every consumer
// switches over the concrete types below and panics on an unknown one.
type Expr interface {
	Position() diag.Pos
	isExpr()
}

// Node carries the source position shared by all nodes.
type Node struct{ Pos diag.Pos }

func (n Node) Position() diag.Pos { return n.Pos }
func (Node) isExpr()              {}

// And is true when every argument is true.
type And struct {
	Node
	Args []Expr
}

// Or is true when any argument is true.
type Or struct {
	Node
	Args []Expr
}

// Not negates its argument. A missing field makes a Match false, so Not of it
// is true: this is how Sigma's `not` reaches events that lack a field.
type Not struct {
	Node
	Arg Expr
}

// Const is a constant truth value (an empty `1 of` resolves to false).
type Const struct {
	Node
	Value bool
}

// Match tests a field's string form against a wildcard pattern. Field "" is
// a keyword (full-text) search: any value of the event contains the pattern.
// Matching is case-insensitive unless Cased.
type Match struct {
	Node
	Field   string
	Pattern Pattern
	Cased   bool
}

// CmpOp is a numeric comparison.
type CmpOp int

// Add a row to cmpNames when you add an operator.
const (
	Eq CmpOp = iota
	Lt
	Lte
	Gt
	Gte
)

var cmpNames = [...]string{Eq: "==", Lt: "<", Lte: "<=", Gt: ">", Gte: ">="}

func (o CmpOp) String() string { return cmpNames[o] }

// Number compares a field numerically. The event may hold a number or a
// numeric string; anything else never matches.
type Number struct {
	Node
	Field string
	Op    CmpOp
	Value float64
	Text  string // the number as written in the rule
}

// Regex is an unanchored RE2 search over the field's string form.
type Regex struct {
	Node
	Field      string
	Pattern    string
	IgnoreCase bool // re|i
	Multiline  bool // re|m
	DotAll     bool // re|s
}

// Flags returns the regex flags in Go's inline syntax order ("i", "m", "s").
func (r *Regex) Flags() string {
	f := ""
	if r.IgnoreCase {
		f += "i"
	}
	if r.Multiline {
		f += "m"
	}
	if r.DotAll {
		f += "s"
	}
	return f
}

// CIDR tests that the field is an IP address inside Prefix.
type CIDR struct {
	Node
	Field  string
	Prefix netip.Prefix
}

// Exists is true when the field is present and not null.
type Exists struct {
	Node
	Field string
}

// Null is true when the field is absent or null (Sigma's `field: null`).
type Null struct {
	Node
	Field string
}

// RefKind says how a FieldRef compares the two fields.
type RefKind int

// Add a row to refNames when you add a kind.
const (
	RefEquals RefKind = iota
	RefPrefix
	RefSuffix
	RefContains
)

var refNames = [...]string{RefEquals: "equals", RefPrefix: "startswith", RefSuffix: "endswith", RefContains: "contains"}

func (k RefKind) String() string { return refNames[k] }

// FieldRef compares one field to another field of the same event.
type FieldRef struct {
	Node
	Field string
	Other string
	Kind  RefKind
	Cased bool
}

// TimeUnit is a component extracted from a timestamp field.
type TimeUnit int

// Add a row to timeNames when you add a unit.
const (
	Minute TimeUnit = iota
	Hour
	Day
	Week
	Month
	Year
)

var timeNames = [...]string{Minute: "minute", Hour: "hour", Day: "day", Week: "week", Month: "month", Year: "year"}

func (u TimeUnit) String() string { return timeNames[u] }

// TimeUnitByName maps a Sigma modifier name to its unit.
func TimeUnitByName(s string) (TimeUnit, bool) {
	for i, n := range timeNames {
		if n == s {
			return TimeUnit(i), true
		}
	}
	return 0, false
}

// TimePart is true when the given component of the field's timestamp equals
// Value (no time zone conversion: the timestamp's own clock is used).
type TimePart struct {
	Node
	Field string
	Unit  TimeUnit
	Value int
}

// Logsource is the rule's logsource, kept for backends that scope by it.
type Logsource struct {
	Category, Product, Service string
}

// Rule is one compiled detection rule: one query per condition entry.
type Rule struct {
	ID, Name, Title, Level, Status string
	Description, Author            string
	Tags                           []string
	File                           string
	Pos                            diag.Pos
	Logsource                      Logsource
	Conditions                     []Expr
	Warnings                       []*diag.Diagnostic
	// Custom holds the attributes a pipeline set (set_custom_attribute),
	// for deployment templates.
	Custom map[string]string
	// Fields are the rule's `fields:` after the pipeline renamed them.
	Fields []string
}
