package aggexpr

import "testing"

func expect(t *testing.T, in, want string) {
	t.Helper()
	e, err := Parse(in)
	if err != nil {
		t.Fatalf("Parse(%q): %v", in, err)
	}
	if got := String(e); got != want {
		t.Errorf("Parse(%q)\n-want %s\n+got  %s", in, want, got)
	}
}

func TestParse(t *testing.T) {
	expect(t, "count()", "count()")
	expect(t, "count_distinct(bucket(1h))", "count_distinct(bucket(1h))")
	expect(t, "stddev(interval()) / avg(interval())", "(stddev(interval()) / avg(interval()))")
	expect(t, "connections / hours", "(connections / hours)")
	expect(t, "a + b * c - d", "((a + (b * c)) - d)")
	expect(t, "(a + b) * c", "((a + b) * c)")
	expect(t, "percentile(`bytes-sent`, 95)", "percentile(`bytes-sent`, 95)")
	expect(t, "connections >= 12 and hours >= 3 and avg_sent < 4096", "(((connections >= 12) and (hours >= 3)) and (avg_sent < 4096))")
	expect(t, "a or b and not c", "(a or (b and (not c)))")
	expect(t, "not (x > 1 or y == 2)", "(not ((x > 1) or (y == 2)))")
	expect(t, "x != -1.5e3", "(x != (-1.5e3))")
	expect(t, "A AND NOT b", "(A and (not b))")
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{"", "count(", "a >", "a b", "1 +", "a & b", "x >= 3 4"} {
		if _, err := Parse(in); err == nil {
			t.Errorf("Parse(%q): want an error", in)
		}
	}
	_, err := Parse("connections >= ")
	if e := err.(*Error); e.Pos.Column != 16 {
		t.Errorf("error column %d, want 16: %v", e.Pos.Column, err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"count()", "stddev(interval()) / avg(interval())", "a >= 1 and not b", "percentile(x, 95)", "`a-b` + 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if e, err := Parse(s); err == nil {
			String(e)
		}
	})
}

// A dash is subtraction; a field name with a dash needs back-quotes.
func TestDashIsMinus(t *testing.T) {
	expect(t, "a-b", "(a - b)")
	expect(t, "`a-b` - 1", "(`a-b` - 1)")
}
