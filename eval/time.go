package eval

import (
	"math"
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

// The event times sigc accepts. Later or earlier stamps (9999-12-31, 1e300)
// are data errors, and windows computed from them would leave the
// nanosecond clock (years 1678 to 2262) that windows are counted in.
var (
	minTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// timeStatus says why a value is or is not an event time.
type timeStatus int

const (
	timeOK timeStatus = iota
	timeUnparsed
	timeOutOfRange
)

// ParseTime reads ISO 8601 text or epoch seconds / milliseconds /
// microseconds / nanoseconds (by size), between the years 1900 and 2200.
// A timestamp without a zone keeps its own clock, read as UTC.
func ParseTime(s *Scalar) (time.Time, bool) {
	t, st := parseTime(s)
	return t, st == timeOK
}

func parseTime(s *Scalar) (time.Time, timeStatus) {
	if f, ok := s.Number(); ok {
		if math.IsNaN(f) || math.Abs(f) >= 9e18 {
			return time.Time{}, timeOutOfRange
		}
		var t time.Time
		switch a := math.Abs(f); {
		case a > 1e17: // nanoseconds
			t = time.Unix(0, int64(f))
		case a > 1e14: // microseconds
			t = time.UnixMicro(int64(f))
		case a > 1e11: // milliseconds
			t = time.UnixMilli(int64(f))
		default:
			sec, frac := math.Modf(f)
			t = time.Unix(int64(sec), int64(frac*1e9))
		}
		return inRange(t.UTC())
	}
	str := strings.TrimSpace(s.Str)
	if len(str) > 64 { // no layout is longer; do not parse a megabyte
		return time.Time{}, timeUnparsed
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, str); err == nil {
			return inRange(t)
		}
	}
	return time.Time{}, timeUnparsed
}

func inRange(t time.Time) (time.Time, timeStatus) {
	if t.Before(minTime) || !t.Before(maxTime) {
		return time.Time{}, timeOutOfRange
	}
	return t, timeOK
}
