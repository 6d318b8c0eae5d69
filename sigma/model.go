// Package sigma is the Sigma model: rules, filters and (later) correlations
// loaded from YAML with a source position for every node and the order of
// detection items kept as written. Only the compiler reads it.
package sigma

import "github.com/sigc-project/sigc/diag"

// ValueKind is how a scalar was written in YAML.
type ValueKind int

const (
	String ValueKind = iota
	Int
	Float
	Bool
	Null
)

// Value is a scalar as written: Raw keeps the exact text, so an unquoted
// `00000429` stays the string it looks like.
type Value struct {
	Pos  diag.Pos
	Kind ValueKind
	Raw  string
}

// Modifier is one `|name` after a field name.
type Modifier struct {
	Name string
	Pos  diag.Pos
}

// FieldItem is `field|mod|mod: value(s)`. Field is "" for a keyword map key
// such as `'|all':`.
type FieldItem struct {
	Pos       diag.Pos
	Key       string
	Field     string
	Modifiers []Modifier
	Values    []Value
	List      bool // the value was written as a YAML sequence
}

// Alt is one alternative of a search: a map (AND of items) or a keyword.
type Alt struct {
	Pos     diag.Pos
	Items   []FieldItem
	Keyword *Value
}

// Search is a named detection identifier: OR of its alternatives.
type Search struct {
	Name string
	Pos  diag.Pos
	Alts []Alt
}

// Condition is one condition expression with the position of its scalar.
// For a quoted scalar Pos is the first character inside the quotes.
type Condition struct {
	Text string
	Pos  diag.Pos
}

// Detection holds searches in the order written and the condition(s).
type Detection struct {
	Pos        diag.Pos
	Searches   []*Search
	Conditions []Condition
}

// Lookup finds a search by name.
func (d *Detection) Lookup(name string) *Search {
	for _, s := range d.Searches {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Logsource selects the log data a rule applies to.
type Logsource struct {
	Category, Product, Service, Definition string
	Pos                                    diag.Pos
}

// Meta is the metadata every Sigma document may carry.
type Meta struct {
	Title, ID, Name, Status, Description string
	Author, Date, Modified, Level        string
	Tags                                 []string
}

// Rule is a Sigma detection rule.
type Rule struct {
	Meta
	File                               string
	Pos                                diag.Pos
	References, Falsepositives, Fields []string
	Logsource                          Logsource
	Detection                          Detection
}

// Filter is a Sigma meta filter: `and not (its condition)` for the rules it names.
type Filter struct {
	Meta
	File      string
	Pos       diag.Pos
	Logsource Logsource
	Rules     []Value // ids or names; a single "any" matches every rule
	Detection Detection
}

// Collection is everything loaded from a set of files.
type Collection struct {
	Rules        []*Rule
	Filters      []*Filter
	Correlations []*Correlation
}
