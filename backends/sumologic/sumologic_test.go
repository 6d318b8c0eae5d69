package sumologic

import (
	"strings"
	"testing"

	"github.com/sigc-project/sigc/compiler/ir"
)

// Bytes that are not UTF-8 (utf16 without base64) are refused, also when
// several values of one field fold into an `in` list: lower-casing must not
// turn them into replacement characters silently.
func TestInvalidUTF8Refused(t *testing.T) {
	bad := &ir.Match{Field: "f", Pattern: ir.Literal("\xff\xfeA")}
	good := &ir.Match{Field: "f", Pattern: ir.Literal("b")}
	for _, e := range []ir.Expr{bad, &ir.Or{Args: []ir.Expr{bad, good}}} {
		_, _, err := Backend{}.Render(&ir.Rule{Conditions: []ir.Expr{e}})
		if err == nil || !strings.Contains(err.Error(), "not valid UTF-8") {
			t.Errorf("%s: want a UTF-8 refusal, got %v", ir.Print(e), err)
		}
	}
}
