package eval

import "time"

// TimeFields are the timestamp fields tried, in order, when no --time-field
// is given: the common names of SIEM exports, Sysmon and EventLog JSON.
var TimeFields = []string{
	"@timestamp", "timestamp", "_time", "time", "EventTime", "UtcTime", "eventTime",
	"TimeCreated_SystemTime", "Event.System.TimeCreated.#attributes.SystemTime",
	"Event.System.TimeCreated.SystemTime", "_messagetime", "date", "ts",
}

// EventTime finds the event's time: in field when given, else in the first
// of TimeFields that parses.
func EventTime(ev *Event, field string) (time.Time, bool) {
	if field != "" {
		return firstTime(ev.Fields[field])
	}
	for _, f := range TimeFields {
		if t, ok := firstTime(ev.Fields[f]); ok {
			return t, true
		}
	}
	return time.Time{}, false
}

func firstTime(vals []Scalar) (time.Time, bool) {
	for i := range vals {
		if vals[i].Null {
			continue
		}
		if t, ok := ParseTime(&vals[i]); ok {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
