package eval

import (
	"strings"
	"time"
)

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02",
}

// ParseTime reads ISO 8601 text or epoch seconds / milliseconds (by size).
// A timestamp without a zone keeps its own clock, read as UTC.
func ParseTime(s *Scalar) (time.Time, bool) {
	if f, ok := s.Number(); ok {
		switch {
		case f > 1e17: // nanoseconds
			return time.Unix(0, int64(f)).UTC(), true
		case f > 1e14: // microseconds
			return time.UnixMicro(int64(f)).UTC(), true
		case f > 1e11: // milliseconds
			return time.UnixMilli(int64(f)).UTC(), true
		default:
			sec := int64(f)
			return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), true
		}
	}
	str := strings.TrimSpace(s.Str)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, str); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
