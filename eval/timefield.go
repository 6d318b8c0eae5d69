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
	t, st := eventTime(ev, field)
	return t, st == timeOK
}

// eventTime also tells an absent or unreadable time from one out of range.
func eventTime(ev *Event, field string) (time.Time, timeStatus) {
	if field != "" {
		return firstTime(ev.Fields[field])
	}
	status := timeUnparsed
	for _, f := range TimeFields {
		t, st := firstTime(ev.Fields[f])
		if st == timeOK {
			return t, st
		}
		if st == timeOutOfRange {
			status = st
		}
	}
	return time.Time{}, status
}

func firstTime(vals []Scalar) (time.Time, timeStatus) {
	status := timeUnparsed
	for i := range vals {
		if vals[i].Null {
			continue
		}
		t, st := parseTime(&vals[i])
		if st == timeOK {
			return t.UTC(), st
		}
		if st == timeOutOfRange {
			status = st
		}
	}
	return time.Time{}, status
}
