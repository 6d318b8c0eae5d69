package ir

import (
	"fmt"
	"strconv"
	"strings"
)

// Print renders an expression as a canonical, indented S-expression. Tests
// assert trees through it, so its output is stable.
func Print(e Expr) string {
	var b strings.Builder
	print(&b, e, 0)
	return b.String()
}

// PrintRule renders every condition of a rule with a header line.
func PrintRule(r *Rule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "rule %s %q\n", r.ID, r.Title)
	for i, c := range r.Conditions {
		fmt.Fprintf(&b, "condition %d:\n", i)
		print(&b, c, 1)
		b.WriteByte('\n')
	}
	return b.String()
}

func print(b *strings.Builder, e Expr, depth int) {
	ind := strings.Repeat("  ", depth)
	b.WriteString(ind)
	switch n := e.(type) {
	case *And:
		printList(b, "and", n.Args, depth)
	case *Or:
		printList(b, "or", n.Args, depth)
	case *Not:
		b.WriteString("(not\n")
		print(b, n.Arg, depth+1)
		b.WriteString(")")
	case *Const:
		fmt.Fprintf(b, "(const %t)", n.Value)
	case *Match:
		field := strconv.Quote(n.Field)
		if n.Field == "" {
			field = "<keyword>"
		}
		cased := ""
		if n.Cased {
			cased = " cased"
		}
		fmt.Fprintf(b, "(match %s %s%s)", field, strconv.Quote(n.Pattern.String()), cased)
	case *Number:
		fmt.Fprintf(b, "(number %q %s %s)", n.Field, n.Op, n.Text)
	case *Regex:
		flags := n.Flags()
		if flags != "" {
			flags = " /" + flags
		}
		fmt.Fprintf(b, "(regex %q %s%s)", n.Field, strconv.Quote(n.Pattern), flags)
	case *CIDR:
		fmt.Fprintf(b, "(cidr %q %s)", n.Field, n.Prefix)
	case *Exists:
		fmt.Fprintf(b, "(exists %q)", n.Field)
	case *Null:
		fmt.Fprintf(b, "(null %q)", n.Field)
	case *FieldRef:
		cased := ""
		if n.Cased {
			cased = " cased"
		}
		fmt.Fprintf(b, "(fieldref %q %s %q%s)", n.Field, n.Kind, n.Other, cased)
	case *TimePart:
		fmt.Fprintf(b, "(time %q %s %d)", n.Field, n.Unit, n.Value)
	default:
		panic(fmt.Sprintf("ir.Print: unknown node %T", e))
	}
}

func printList(b *strings.Builder, op string, args []Expr, depth int) {
	b.WriteString("(" + op)
	for _, a := range args {
		b.WriteByte('\n')
		print(b, a, depth+1)
	}
	b.WriteString(")")
}
