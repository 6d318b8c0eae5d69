package eval

import "strings"

// FlattenEventLog adds the flat field names Sigma rules use to a Windows
// EventLog record exported as JSON (`Event.System`, `Event.EventData`,
// `UserData`), as the SigmaHQ regression samples and EVTX-to-JSON tools
// write them. System attributes become `Provider_Name`, `TimeCreated_SystemTime`
// and so on; EventData and UserData values become top-level fields; names
// with spaces also get a spaceless alias (`Threat Name` → `ThreatName`).
// The record's own nested paths stay reachable. It reports whether the
// record looked like an EventLog record.
func FlattenEventLog(ev *Event, m map[string]any) bool {
	root, ok := m["Event"].(map[string]any)
	if !ok {
		return false
	}
	sys, ok := root["System"].(map[string]any)
	if !ok {
		return false
	}
	for k, v := range sys {
		switch x := v.(type) {
		case map[string]any:
			if t, ok := x["#text"]; ok {
				ev.setIfAbsent(k, t)
			}
			if attrs, ok := x["#attributes"].(map[string]any); ok {
				for a, av := range attrs {
					ev.setIfAbsent(k+"_"+a, av)
				}
			}
		default:
			ev.setIfAbsent(k, v)
		}
	}
	addData := func(data map[string]any) {
		for k, v := range data {
			if k == "#attributes" {
				continue
			}
			if k == "Data" {
				ev.addDataList(v)
				continue
			}
			ev.Set(k, v)
			if strings.Contains(k, " ") {
				ev.Set(strings.ReplaceAll(k, " ", ""), v)
			}
		}
	}
	if data, ok := root["EventData"].(map[string]any); ok {
		addData(data)
	}
	if ud, ok := root["UserData"].(map[string]any); ok {
		for k, v := range ud {
			if inner, ok := v.(map[string]any); ok && k != "#attributes" {
				addData(inner)
			}
		}
	}
	return true
}

// addDataList handles `Data: [{"#attributes": {"Name": n}, "#text": v}, …]`.
func (ev *Event) addDataList(v any) {
	list, ok := v.([]any)
	if !ok {
		if one, ok := v.(map[string]any); ok {
			list = []any{one}
		} else {
			ev.Set("Data", v)
			return
		}
	}
	for _, e := range list {
		item, ok := e.(map[string]any)
		if !ok {
			ev.add("Data", e, 0)
			continue
		}
		name := ""
		if attrs, ok := item["#attributes"].(map[string]any); ok {
			name, _ = attrs["Name"].(string)
		}
		if name == "" {
			name, _ = item["@Name"].(string)
		}
		if name == "" {
			continue
		}
		ev.Set(name, item["#text"])
	}
}

func (ev *Event) setIfAbsent(k string, v any) {
	if _, ok := ev.Fields[k]; !ok {
		ev.add(k, v, 0)
	}
}
