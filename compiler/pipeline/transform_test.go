package pipeline_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/sigc-project/sigc/compiler"
	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/compiler/pipeline"
	"github.com/sigc-project/sigc/sigma"
)

// compile compiles one rule with the pipelines (YAML texts, applied in
// the resolver's order) and returns the flattened IR of every condition,
// the logsource, or the diagnostics.
func compile(t *testing.T, rule string, pipelines ...string) string {
	t.Helper()
	var specs []pipeline.Spec
	for i, src := range pipelines {
		p, err := pipeline.Parse("p.yml", []byte(src))
		if err != nil {
			t.Fatalf("pipeline %d: %v", i, err)
		}
		specs = append(specs, pipeline.Spec{Spec: string(rune('a' + i)), Pipeline: p})
	}
	col, diags := sigma.Load("r.yml", []byte(rule))
	if diags.HasErrors() {
		t.Fatalf("rule: %v", diags)
	}
	res := compiler.Compile(col, compiler.Options{Pipeline: pipeline.Resolve(specs)})
	var b strings.Builder
	for _, r := range res {
		for _, d := range r.Diags {
			b.WriteString(d.Error() + "\n")
		}
		if r.Rule != nil {
			ls := r.Rule.Logsource
			b.WriteString("logsource " + ls.Category + "/" + ls.Product + "/" + ls.Service + "\n")
			for _, c := range r.Rule.Conditions {
				b.WriteString(flat(ir.Print(c)) + "\n")
			}
			if len(r.Rule.Fields) > 0 {
				b.WriteString("fields " + strings.Join(r.Rule.Fields, ",") + "\n")
			}
			for k, v := range r.Rule.Custom {
				b.WriteString("custom " + k + "=" + v + "\n")
			}
		}
	}
	return b.String()
}

var spaces = regexp.MustCompile(`\s+`)

func flat(s string) string { return spaces.ReplaceAllString(s, " ") }

func rule(logsource, detection string) string {
	return "title: t\nid: 11111111-1111-1111-1111-111111111111\nlevel: high\nstatus: test\ntags: [attack.t1059, attack.execution]\nlogsource: " + logsource + "\ndetection:\n" + detection
}

const procWin = "{category: process_creation, product: windows}"

type tcase struct {
	name    string
	rule    string
	pipes   []string
	want    []string
	wantNot []string
}

func run(t *testing.T, cases []tcase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := compile(t, c.rule, c.pipes...)
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in:\n%s", w, got)
				}
			}
			for _, w := range c.wantNot {
				if strings.Contains(got, w) {
					t.Errorf("unexpected %q in:\n%s", w, got)
				}
			}
		})
	}
}

const selImage = "  sel:\n    Image|endswith: '\\cmd.exe'\n    CommandLine|contains: whoami\n  condition: sel\n"

func TestFieldNameTransformations(t *testing.T) {
	run(t, []tcase{
		{name: "mapping one-to-one", rule: rule(procWin, selImage),
			pipes: []string{"transformations:\n- type: field_name_mapping\n  mapping: {Image: ImageFileName}\n"},
			want:  []string{`(match "ImageFileName" "*\\cmd.exe")`, `(match "CommandLine" "*whoami*")`}},
		{name: "mapping one-to-many ORs copies of the whole item", rule: rule(procWin, "  sel:\n    Image|all: [a, b]\n  condition: sel\n"),
			pipes: []string{"transformations:\n- type: field_name_mapping\n  mapping: {Image: [X, Y]}\n"},
			want:  []string{`(or (and (match "X" "a") (match "X" "b")) (and (match "Y" "a") (match "Y" "b")))`}},
		{name: "mapping is case-sensitive", rule: rule(procWin, selImage),
			pipes: []string{"transformations:\n- type: field_name_mapping\n  mapping: {image: X}\n"},
			want:  []string{`(match "Image" "*\\cmd.exe")`}},
		{name: "null key maps keywords, which keep their substring meaning", rule: rule(procWin, "  kw: [mimikatz]\n  condition: kw\n"),
			pipes: []string{"transformations:\n- type: field_name_mapping\n  mapping: {null: Message}\n"},
			want:  []string{`(match "Message" "*mimikatz*")`}},
		{name: "prefix mapping: first matching prefix", rule: rule(procWin, "  sel:\n    winlog.Image: a\n  condition: sel\n"),
			pipes: []string{"transformations:\n- type: field_name_prefix_mapping\n  mapping: {winlog.: event_data., win: no}\n"},
			want:  []string{`(match "event_data.Image" "a")`}},
		{name: "YAML merge keys", rule: rule(procWin, selImage),
			pipes: []string{"transformations:\n- &base {type: field_name_suffix, suffix: _a, field_name_conditions: [{type: include_fields, fields: [Image]}]}\n- <<: *base\n  suffix: _b\n"},
			want:  []string{`"Image_a"`, `"CommandLine"`}},
		{name: "prefix and suffix", rule: rule(procWin, selImage),
			pipes: []string{"transformations:\n- type: field_name_prefix\n  prefix: 'process.'\n- type: field_name_suffix\n  suffix: '.keyword'\n"},
			want:  []string{`"process.Image.keyword"`, `"process.CommandLine.keyword"`}},
		{name: "field name conditions see the current name", rule: rule(procWin, selImage),
			pipes: []string{"transformations:\n- type: field_name_mapping\n  mapping: {Image: ImageFileName}\n- type: field_name_suffix\n  suffix: _x\n  field_name_conditions: [{type: include_fields, fields: [ImageFileName]}]\n"},
			want:  []string{`"ImageFileName_x"`, `"CommandLine"`}},
		{name: "exclude_fields", rule: rule(procWin, selImage),
			pipes: []string{"transformations:\n- type: field_name_suffix\n  suffix: _x\n  field_name_conditions: [{type: exclude_fields, fields: [Image]}]\n"},
			want:  []string{`"Image"`, `"CommandLine_x"`}},
		{name: "include_fields in re mode is anchored at the start", rule: rule(procWin, selImage),
			pipes: []string{"transformations:\n- type: field_name_suffix\n  suffix: _x\n  field_name_conditions: [{type: include_fields, mode: re, fields: ['Comm']}]\n"},
			want:  []string{`"CommandLine_x"`, `"Image"`}},
		{name: "fieldref values are renamed too", rule: rule(procWin, "  sel:\n    User|fieldref: TargetUser\n  condition: sel\n"),
			pipes: []string{"transformations:\n- type: field_name_mapping\n  mapping: {TargetUser: target.user, User: user}\n"},
			want:  []string{`(fieldref "user" equals "target.user")`}},
		{name: "rule fields list", rule: rule(procWin, selImage+"fields: [Image, CommandLine]\n"),
			pipes: []string{"transformations:\n- type: field_name_mapping\n  mapping: {Image: [A, B]}\n- type: add_field\n  field: extra\n- type: remove_field\n  field: CommandLine\n"},
			want:  []string{"fields A,B,extra"}},
		{name: "set_field", rule: rule(procWin, selImage+"fields: [Image]\n"),
			pipes: []string{"transformations:\n- type: set_field\n  fields: [x, y]\n"},
			want:  []string{"fields x,y"}},
	})
}

func TestItemTransformations(t *testing.T) {
	run(t, []tcase{
		{name: "drop_detection_item", rule: rule(procWin, selImage),
			pipes:   []string{"transformations:\n- type: drop_detection_item\n  field_name_conditions: [{type: include_fields, fields: [CommandLine]}]\n"},
			want:    []string{`(match "Image" "*\\cmd.exe")`},
			wantNot: []string{"CommandLine"}},
		{name: "dropping every item is an error", rule: rule(procWin, selImage),
			pipes: []string{"transformations:\n- type: drop_detection_item\n"},
			want:  []string{"the pipeline removed every detection item"}},
		{name: "a dropped filter leaves the rule", rule: rule(procWin, "  sel: {Image: a}\n  filter: {User: b}\n  condition: sel and not filter\n"),
			pipes:   []string{"transformations:\n- type: drop_detection_item\n  field_name_conditions: [{type: include_fields, fields: [User]}]\n"},
			want:    []string{`(match "Image" "a")`},
			wantNot: []string{"not"}},
		{name: "hashes_fields", rule: rule(procWin, "  sel:\n    Hashes|contains: ['SHA256=AB12', 'MD5=CD34', 'IMPHASH=EF56']\n  condition: sel\n"),
			pipes:   []string{"transformations:\n- type: hashes_fields\n  valid_hash_algos: [MD5, SHA256]\n  field_prefix: File\n  field_name_conditions: [{type: include_fields, fields: [Hashes]}]\n"},
			want:    []string{`(match "FileSHA256" "AB12*")`, `(match "FileMD5" "CD34*")`},
			wantNot: []string{"EF56"}},
		{name: "hashes_fields with no valid value", rule: rule(procWin, "  sel:\n    Hashes: 'IMPHASH=EF56'\n  condition: sel\n"),
			pipes: []string{"transformations:\n- type: hashes_fields\n  valid_hash_algos: [MD5]\n  field_name_conditions: [{type: include_fields, fields: [Hashes]}]\n"},
			want:  []string{"no valid hash algorithm"}},
		{name: "value_placeholders from merged vars", rule: rule(procWin, "  sel:\n    User|expand: '%admins%'\n  condition: sel\n"),
			pipes: []string{"vars: {admins: [root]}\n", "vars: {admins: [root, toor]}\ntransformations:\n- type: value_placeholders\n"},
			want:  []string{`(or (match "User" "root") (match "User" "toor"))`}},
		{name: "value_placeholders under all keeps all", rule: rule(procWin, "  sel:\n    User|expand|all: '%admins%'\n  condition: sel\n"),
			pipes: []string{"vars: {admins: [a, b]}\ntransformations:\n- type: value_placeholders\n"},
			want:  []string{`(and (match "User" "a") (match "User" "b"))`}},
		{name: "wildcard_placeholders with include", rule: rule(procWin, "  sel:\n    User|expand: '%a%-%b%'\n  condition: sel\n"),
			pipes: []string{"vars: {b: [x]}\ntransformations:\n- type: wildcard_placeholders\n  include: [a]\n"},
			want:  []string{`(match "User" "*-x")`}},
		{name: "an undefined placeholder", rule: rule(procWin, "  sel:\n    User|expand: '%nope%'\n  condition: sel\n"),
			pipes: []string{"vars: {b: [x]}\ntransformations:\n- type: value_placeholders\n"},
			want:  []string{"placeholder %nope% has no value"}},
		{name: "replace_string keeps a literal backslash before a wildcard", rule: rule(procWin, "  sel:\n    Image|startswith: 'C:\\Windows\\'\n  condition: sel\n"),
			pipes: []string{"transformations:\n- type: replace_string\n  regex: '^C:'\n  replacement: 'D:'\n"},
			want:  []string{`(match "Image" "D:\\Windows\\\\*")`}},
		{name: "replace_string sees each backslash once", rule: rule(procWin, "  sel:\n    Image|startswith: 'C:\\Windows\\'\n  condition: sel\n"),
			pipes: []string{"transformations:\n- type: replace_string\n  regex: '\\\\'\n  replacement: '/'\n"},
			want:  []string{`(match "Image" "C:/Windows/*")`}},
		{name: "a null mapping target keeps the field", rule: rule(procWin, selImage),
			pipes: []string{"transformations:\n- type: field_name_mapping\n  mapping: {Image: ~}\n"},
			want:  []string{`(match "Image" "*\\cmd.exe")`}},
		{name: "an empty mapping target drops the field, with a warning", rule: rule(procWin, selImage),
			pipes:   []string{"transformations:\n- type: field_name_mapping\n  mapping: {Image: []}\n"},
			want:    []string{"warning: the pipeline maps \"Image\" to no field", `(match "CommandLine" "*whoami*")`},
			wantNot: []string{`(match "Image"`}},
		{name: "vars alone keep |all", rule: rule(procWin, "  sel:\n    User|expand|all: '%admins%'\n  condition: sel\n"),
			pipes: []string{"vars: {admins: [a, b]}\n"},
			want:  []string{`(and (match "User" "a") (match "User" "b"))`}},
		{name: "replace_string with groups", rule: rule(procWin, "  sel:\n    ParentImage: '*\\parent.exe'\n  condition: sel\n"),
			pipes: []string{"transformations:\n- type: replace_string\n  regex: '^\\*\\\\([^\\\\]+)$'\n  replacement: '\\1'\n"},
			want:  []string{`(match "ParentImage" "parent.exe")`}},
		{name: "replace_string skip_special with interpret_special", rule: rule(procWin, "  sel:\n    Image: 'C:\\x.exe'\n  condition: sel\n"),
			pipes: []string{"transformations:\n- type: replace_string\n  regex: '[C-Z]:'\n  replacement: '\\\\Device\\\\HarddiskVolume?'\n  skip_special: true\n  interpret_special: true\n"},
			want:  []string{`(match "Image" "\\Device\\HarddiskVolume?\\x.exe")`}},
		{name: "map_string compares the whole value, wildcards included", rule: rule(procWin, "  sel:\n    Level: High\n  sel2:\n    Level|contains: High\n  condition: sel or sel2\n"),
			pipes: []string{"transformations:\n- type: map_string\n  mapping: {High: '12288'}\n"},
			want:  []string{`(match "Level" "12288")`, `(match "Level" "*High*")`}},
		{name: "map_string to several values", rule: rule(procWin, "  sel:\n    Level: High\n  condition: sel\n"),
			pipes: []string{"transformations:\n- type: map_string\n  mapping: {High: ['3', '4']}\n"},
			want:  []string{`(or (match "Level" "3") (match "Level" "4"))`}},
		{name: "set_value replaces every value", rule: rule(procWin, "  sel:\n    Level: [a, b]\n  condition: sel\n"),
			pipes:   []string{"transformations:\n- type: set_value\n  value: 5\n"},
			want:    []string{`(number "Level" == 5)`},
			wantNot: []string{`"a"`}},
		{name: "convert_type to num and to str", rule: rule(procWin, "  sel:\n    Port: '443'\n    EventID: 4688\n  condition: sel\n"),
			pipes: []string{"transformations:\n- type: convert_type\n  target_type: num\n  field_name_conditions: [{type: include_fields, fields: [Port]}]\n- type: convert_type\n  target_type: str\n  field_name_conditions: [{type: include_fields, fields: [EventID]}]\n"},
			want:  []string{`(number "Port" == 443)`, `(match "EventID" "4688")`}},
		{name: "convert_type refuses text", rule: rule(procWin, "  sel:\n    Port: abc\n  condition: sel\n"),
			pipes: []string{"transformations:\n- type: convert_type\n  target_type: num\n"},
			want:  []string{"cannot be converted to a number"}},
		{name: "regex", rule: rule(procWin, "  sel:\n    Image: 'a*b'\n  condition: sel\n"),
			pipes: []string{"transformations:\n- type: regex\n  method: ignore_case_flag\n"},
			want:  []string{`(regex "Image" "^a.*b$" /i)`}},
		{name: "case", rule: rule(procWin, "  sel:\n    Image: 'AbC*'\n  condition: sel\n"),
			pipes: []string{"transformations:\n- type: case\n  method: lower\n"},
			want:  []string{`(match "Image" "abc*")`}},
		{name: "detection_item_failure at the item", rule: rule(procWin, selImage),
			pipes: []string{"transformations:\n- type: detection_item_failure\n  message: no command lines here\n  field_name_conditions: [{type: include_fields, fields: [CommandLine]}]\n"},
			want:  []string{"r.yml:10:5: error: no command lines here"}},
		{name: "strict_field_mapping_failure", rule: rule(procWin, selImage),
			pipes: []string{"transformations:\n- type: field_name_mapping\n  mapping: {Image: X}\n- type: strict_field_mapping_failure\n"},
			want:  []string{"maps no field named CommandLine"}},
	})
}

func TestRuleTransformations(t *testing.T) {
	run(t, []tcase{
		{name: "add_condition goes first and later items map it", rule: rule(procWin, selImage),
			pipes: []string{"transformations:\n- type: add_condition\n  conditions: {EventType: ProcessStart}\n- type: field_name_mapping\n  mapping: {EventType: event.type}\n"},
			want:  []string{`(and (match "event.type" "ProcessStart") (match "Image"`}},
		{name: "earlier items do not see an added condition", rule: rule(procWin, selImage),
			pipes: []string{"transformations:\n- type: field_name_mapping\n  mapping: {EventType: event.type}\n- type: add_condition\n  conditions: {EventType: ProcessStart}\n"},
			want:  []string{`(match "EventType" "ProcessStart")`}},
		{name: "a later pipeline maps an added condition", rule: rule(procWin, selImage),
			pipes: []string{"priority: 1\ntransformations:\n- type: add_condition\n  conditions: {EventType: X}\n", "priority: 2\ntransformations:\n- type: field_name_mapping\n  mapping: {EventType: et}\n"},
			want:  []string{`(match "et" "X")`}},
		{name: "add_condition negated, with modifiers and a template", rule: rule(procWin, selImage),
			pipes: []string{"transformations:\n- type: add_condition\n  negated: true\n  template: true\n  conditions: {'Source|startswith': '$product-$category'}\n"},
			want:  []string{`(not (match "Source" "windows-process_creation*"))`}},
		{name: "change_logsource replaces the whole logsource", rule: rule(procWin, selImage),
			pipes:   []string{"transformations:\n- type: change_logsource\n  service: sysmon\n- type: add_condition\n  conditions: {x: y}\n  rule_conditions: [{type: logsource, product: windows}]\n"},
			want:    []string{"logsource //sysmon"},
			wantNot: []string{`"x"`}},
		{name: "rule_failure", rule: rule(procWin, selImage),
			pipes: []string{"transformations:\n- type: rule_failure\n  message: windows rules are not for this target\n  rule_conditions: [{type: logsource, product: windows}]\n"},
			want:  []string{"error: windows rules are not for this target"}},
		{name: "set_state and processing_state", rule: rule(procWin, selImage),
			pipes:   []string{"transformations:\n- type: set_state\n  key: index\n  val: win\n- type: add_condition\n  conditions: {index: win}\n  rule_conditions: [{type: processing_state, key: index, val: win}]\n- type: add_condition\n  conditions: {never: x}\n  rule_conditions: [{type: processing_state, key: unset, val: x, op: ne}]\n"},
			want:    []string{`(match "index" "win")`},
			wantNot: []string{"never"}},
		{name: "set_custom_attribute", rule: rule(procWin, selImage),
			pipes: []string{"transformations:\n- type: set_custom_attribute\n  attribute: index\n  value: main\n"},
			want:  []string{"custom index=main"}},
		{name: "nest applies its items under the outer conditions", rule: rule(procWin, selImage),
			pipes: []string{"transformations:\n- type: nest\n  rule_conditions: [{type: logsource, product: windows}]\n  items:\n  - type: field_name_prefix\n    prefix: win.\n"},
			want:  []string{`"win.Image"`}},
	})
}

func TestConditions(t *testing.T) {
	suffix := func(conds string) []string {
		return []string{"transformations:\n- type: field_name_suffix\n  suffix: _hit\n" + conds}
	}
	run(t, []tcase{
		{name: "logsource holds", rule: rule(procWin, selImage), pipes: suffix("  rule_conditions: [{type: logsource, category: process_creation}]\n"), want: []string{"Image_hit"}},
		{name: "logsource fails", rule: rule(procWin, selImage), pipes: suffix("  rule_conditions: [{type: logsource, category: dns_query}]\n"), wantNot: []string{"_hit"}},
		{name: "contains_detection_item sees modified values", rule: rule(procWin, selImage), pipes: suffix("  rule_conditions: [{type: contains_detection_item, field: CommandLine, value: '*whoami*'}]\n"), want: []string{"_hit"}},
		{name: "contains_detection_item fails on the raw value", rule: rule(procWin, selImage), pipes: suffix("  rule_conditions: [{type: contains_detection_item, field: CommandLine, value: whoami}]\n"), wantNot: []string{"_hit"}},
		{name: "contains_field", rule: rule(procWin, selImage), pipes: suffix("  rule_conditions: [{type: contains_field, field: Image}]\n"), want: []string{"_hit"}},
		{name: "is_sigma_rule", rule: rule(procWin, selImage), pipes: suffix("  rule_conditions: [{type: is_sigma_rule}]\n"), want: []string{"_hit"}},
		{name: "is_sigma_correlation_rule", rule: rule(procWin, selImage), pipes: suffix("  rule_conditions: [{type: is_sigma_correlation_rule}]\n"), wantNot: []string{"_hit"}},
		{name: "rule_attribute level gte", rule: rule(procWin, selImage), pipes: suffix("  rule_conditions: [{type: rule_attribute, attribute: level, value: medium, op: gte}]\n"), want: []string{"_hit"}},
		{name: "rule_attribute level lt", rule: rule(procWin, selImage), pipes: suffix("  rule_conditions: [{type: rule_attribute, attribute: level, value: medium, op: lt}]\n"), wantNot: []string{"_hit"}},
		{name: "rule_attribute tags in", rule: rule(procWin, selImage), pipes: suffix("  rule_conditions: [{type: rule_attribute, attribute: tags, value: attack.execution, op: in}]\n"), want: []string{"_hit"}},
		{name: "rule_attribute tags not_in", rule: rule(procWin, selImage), pipes: suffix("  rule_conditions: [{type: rule_attribute, attribute: tags, value: attack.execution, op: not_in}]\n"), wantNot: []string{"_hit"}},
		{name: "tag", rule: rule(procWin, selImage), pipes: suffix("  rule_conditions: [{type: tag, tag: attack.t1059}]\n"), want: []string{"_hit"}},
		{name: "tag absent", rule: rule(procWin, selImage), pipes: suffix("  rule_conditions: [{type: tag, tag: attack.t1000}]\n"), wantNot: []string{"_hit"}},
		{name: "rule_cond_not", rule: rule(procWin, selImage), pipes: suffix("  rule_cond_not: true\n  rule_conditions: [{type: tag, tag: attack.t1000}]\n"), want: []string{"_hit"}},
		{name: "rule_cond_op or", rule: rule(procWin, selImage), pipes: suffix("  rule_cond_op: or\n  rule_conditions: [{type: tag, tag: attack.t1000}, {type: is_sigma_rule}]\n"), want: []string{"_hit"}},
		{name: "rule_cond_expr", rule: rule(procWin, selImage), pipes: suffix("  rule_cond_expr: a and not b\n  rule_conditions:\n    a: {type: is_sigma_rule}\n    b: {type: tag, tag: attack.t1000}\n"), want: []string{"_hit"}},
		{name: "processing_item_applied (rule)", rule: rule(procWin, selImage),
			pipes: []string{"transformations:\n- id: first\n  type: set_state\n  key: k\n  val: v\n- type: field_name_suffix\n  suffix: _hit\n  rule_conditions: [{type: processing_item_applied, processing_item_id: first}]\n"}, want: []string{"_hit"}},
		{name: "match_string any (anchored at the start)", rule: rule(procWin, selImage), pipes: suffix("  detection_item_conditions: [{type: match_string, cond: any, pattern: 'who', negate: false}]\n"), wantNot: []string{"CommandLine_hit"}},
		{name: "match_string with the wildcard", rule: rule(procWin, selImage), pipes: suffix("  detection_item_conditions: [{type: match_string, cond: any, pattern: '\\*who'}]\n"), want: []string{"CommandLine_hit", `"Image"`}},
		{name: "match_value", rule: rule(procWin, selImage), pipes: suffix("  detection_item_conditions: [{type: match_value, cond: any, value: '*whoami*'}]\n"), want: []string{"CommandLine_hit", `"Image"`}},
		{name: "contains_wildcard", rule: rule(procWin, "  sel: {A: 'x*', B: y}\n  condition: sel\n"), pipes: suffix("  detection_item_conditions: [{type: contains_wildcard, cond: any}]\n"), want: []string{"A_hit", `"B"`}},
		{name: "is_null", rule: rule(procWin, "  sel: {A: null, B: y}\n  condition: sel\n"), pipes: suffix("  detection_item_conditions: [{type: is_null, cond: all}]\n"), want: []string{"A_hit", `"B"`}},
		{name: "processing_item_applied (item)", rule: rule(procWin, selImage),
			pipes: []string{"transformations:\n- id: m\n  type: field_name_mapping\n  mapping: {Image: X}\n- type: field_name_suffix\n  suffix: _hit\n  detection_item_conditions: [{type: processing_item_applied, processing_item_id: m}]\n"}, want: []string{"X_hit", `"CommandLine"`}},
		{name: "detection_item_cond_not", rule: rule(procWin, selImage),
			pipes: []string{"transformations:\n- id: m\n  type: field_name_mapping\n  mapping: {Image: X}\n- type: field_name_suffix\n  suffix: _hit\n  detection_item_cond_not: true\n  detection_item_conditions: [{type: processing_item_applied, processing_item_id: m}]\n"}, want: []string{`"X"`, "CommandLine_hit"}},
		// pySigma tracks field-name marks for `fields:` and correlation
		// fields only: a detection item's own field is checked again by
		// name inside the renaming, and that check fails.
		{name: "processing_item_applied (field) does not rename an item", rule: rule(procWin, selImage),
			pipes: []string{"transformations:\n- id: m\n  type: field_name_mapping\n  mapping: {Image: X}\n- type: field_name_suffix\n  suffix: _hit\n  field_name_conditions: [{type: processing_item_applied, processing_item_id: m}]\n"}, wantNot: []string{"_hit"}},
		{name: "processing_item_applied (field) renames a listed field", rule: rule(procWin, selImage+"fields: [Image, CommandLine]\n"),
			pipes: []string{"transformations:\n- id: m\n  type: field_name_mapping\n  mapping: {Image: X}\n- type: field_name_suffix\n  suffix: _hit\n  field_name_conditions: [{type: processing_item_applied, processing_item_id: m}]\n"}, want: []string{"fields X_hit,CommandLine"}},
		{name: "include_fields never matches a keyword", rule: rule(procWin, "  kw: [abc]\n  condition: kw\n"),
			pipes: []string{"transformations:\n- type: drop_detection_item\n  field_name_conditions: [{type: include_fields, fields: [x]}]\n"}, want: []string{`(match <keyword> "*abc*")`}},
		{name: "exclude_fields matches a keyword", rule: rule(procWin, "  kw: [abc]\n  sel: {x: 1}\n  condition: kw and sel\n"),
			pipes: []string{"transformations:\n- type: drop_detection_item\n  field_name_conditions: [{type: exclude_fields, fields: [x]}]\n"}, wantNot: []string{"keyword"}},
	})
}

func TestPipelineOrder(t *testing.T) {
	// Equal priorities go by the spec (name or path), not by command-line
	// order: "a" (here the second file given) runs first.
	a := pipeline.Spec{Spec: "b.yml", Pipeline: mustParse(t, "transformations:\n- type: field_name_prefix\n  prefix: 'b.'\n")}
	b := pipeline.Spec{Spec: "a.yml", Pipeline: mustParse(t, "transformations:\n- type: field_name_prefix\n  prefix: 'a.'\n")}
	c := pipeline.Spec{Spec: "c.yml", Pipeline: mustParse(t, "priority: -5\ntransformations:\n- type: field_name_prefix\n  prefix: 'c.'\n")}
	if got := strings.Join(pipeline.Order([]pipeline.Spec{a, b, c}), " "); got != "c.yml a.yml b.yml" {
		t.Fatalf("order %s", got)
	}
	col, _ := sigma.Load("r.yml", []byte(rule(procWin, selImage)))
	res := compiler.Compile(col, compiler.Options{Pipeline: pipeline.Resolve([]pipeline.Spec{a, b, c})})
	if got := ir.Print(res[0].Rule.Conditions[0]); !strings.Contains(got, `"b.a.c.Image"`) {
		t.Fatalf("prefixes applied out of order:\n%s", got)
	}
}

func mustParse(t *testing.T, src string) *pipeline.Pipeline {
	t.Helper()
	p, err := pipeline.Parse("p.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUnmappedPolicy(t *testing.T) {
	p := mustParse(t, "transformations:\n- type: add_condition\n  conditions: {event: proc}\n- type: field_name_mapping\n  mapping: {Image: ImageFileName}\n")
	col, _ := sigma.Load("r.yml", []byte(rule(procWin, selImage)))
	for policy, want := range map[compiler.Unmapped]string{
		compiler.KeepUnmapped:  `(match "CommandLine" "*whoami*")`,
		compiler.DropUnmapped:  `(and (match "event" "proc") (match "ImageFileName" "*\\cmd.exe"))`,
		compiler.ErrorUnmapped: `r.yml:10:5: error: the pipeline maps no field named CommandLine (--unmapped error)`,
	} {
		res := compiler.Compile(col, compiler.Options{Pipeline: pipeline.Resolve([]pipeline.Spec{{Spec: "p", Pipeline: p}}), Unmapped: policy})[0]
		got := res.Diags.Error()
		if res.Rule != nil {
			got += flat(ir.Print(res.Rule.Conditions[0]))
		}
		if !strings.Contains(got, want) {
			t.Errorf("policy %d: got %s, want %s", policy, got, want)
		}
		if strings.Join(res.Unmapped, ",") != "CommandLine" {
			t.Errorf("policy %d: unmapped %v (the added field is the pipeline's own)", policy, res.Unmapped)
		}
	}
}

func TestPostprocessingSeesTheRule(t *testing.T) {
	p := mustParse(t, `transformations:
- id: mark
  type: set_state
  key: index
  val: win
postprocessing:
- type: embed
  prefix: 'index=win '
  rule_conditions: [{type: processing_state, key: index, val: win}]
- type: simple_template
  template: '{query} // {rule.title} ({rule.level})'
  rule_conditions: [{type: processing_item_applied, processing_item_id: mark}]
- type: embed
  suffix: ' never'
  rule_conditions: [{type: tag, tag: attack.t1000}]
`)
	col, _ := sigma.Load("r.yml", []byte(rule(procWin, selImage)))
	res := compiler.Compile(col, compiler.Options{Pipeline: pipeline.Resolve([]pipeline.Spec{{Spec: "p", Pipeline: p}})})[0]
	got, err := p.PostprocessQuery(res.Subject, "Q")
	if err != nil || got != "index=win Q // t (high)" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestCorrelationRuleFailure(t *testing.T) {
	p := mustParse(t, "transformations:\n- type: rule_failure\n  message: no correlations here\n  rule_conditions: [{type: is_sigma_correlation_rule}]\n")
	src := rule(procWin, selImage) + "name: base\n---\ntitle: c\ncorrelation:\n  type: event_count\n  rules: base\n  timespan: 1h\n  group-by: [User, Image]\n  condition: {gte: 2}\n"
	col, diags := sigma.Load("r.yml", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	opts := compiler.Options{Pipeline: pipeline.Resolve([]pipeline.Spec{{Spec: "p", Pipeline: p}})}
	results := compiler.Compile(col, opts)
	if results[0].Rule == nil {
		t.Fatalf("the detection rule fails too: %v", results[0].Diags)
	}
	corr := compiler.CompileCorrelations(col, results, opts)[0]
	if corr.Correlation != nil || strings.Count(corr.Diags.Error(), "no correlations here") != 1 {
		t.Fatalf("want one refusal, got %v", corr.Diags)
	}
}

// FuzzPipelineApply: any pipeline that loads applies to a rule (and its
// filter and correlation) without panicking, and what compiles renders
// through Assemble to a tree without items.
func FuzzPipelineApply(f *testing.F) {
	for _, name := range pipeline.Builtins() {
		src, _ := pipeline.BuiltinSource(name)
		f.Add(src)
	}
	f.Add([]byte("vars: {a: [x, '*y']}\ntransformations:\n- type: value_placeholders\n- type: hashes_fields\n  valid_hash_algos: [MD5]\n- type: replace_string\n  regex: '(.)'\n  replacement: '\\1\\1'\n"))
	src := rule(procWin, "  sel:\n    Image|endswith: '\\x.exe'\n    CommandLine|expand: '%a%'\n    Hashes: 'MD5=0123'\n  kw: [abc]\n  f: {User: bob}\n  condition: (sel or kw) and not f\n") +
		"name: base\n---\ntitle: c\ncorrelation:\n  type: value_count\n  rules: base\n  timespan: 1h\n  group-by: [Image]\n  condition: {field: User, gte: 2}\n"
	col, diags := sigma.Load("r.yml", []byte(src))
	if diags.HasErrors() {
		f.Fatal(diags)
	}
	f.Fuzz(func(t *testing.T, pipe []byte) {
		p, err := pipeline.Parse("p.yml", pipe)
		if err != nil {
			return
		}
		opts := compiler.Options{Pipeline: pipeline.Resolve([]pipeline.Spec{{Spec: "p", Pipeline: p}})}
		results := compiler.Compile(col, opts)
		for _, r := range results {
			if r.Rule == nil {
				continue
			}
			for _, c := range r.Rule.Conditions {
				ir.Walk(c, func(ir.Expr) {}) // panics on an item or unknown node
			}
		}
		compiler.CompileCorrelations(col, results, opts)
	})
}

func TestUnmappedDropUnderNot(t *testing.T) {
	p := mustParse(t, "transformations:\n- type: field_name_mapping\n  mapping: {Image: proc}\n")
	col, _ := sigma.Load("r.yml", []byte(rule(procWin, "  sel: {Image|endswith: x.exe}\n  filter: {CurrentDirectory|startswith: 'C:\\Scripts\\'}\n  condition: sel and not filter\n")))
	res := compiler.Compile(col, compiler.Options{Pipeline: pipeline.Resolve([]pipeline.Spec{{Spec: "p", Pipeline: p}}), Unmapped: compiler.DropUnmapped})[0]
	if res.Rule != nil || !strings.Contains(res.Diags.Error(), "r.yml:9:12: error: \"CurrentDirectory\" is tested under `not`") {
		t.Fatalf("got %v", res.Diags)
	}
}

func TestScopingPipelinesLeaveNothingUnmapped(t *testing.T) {
	src, _ := pipeline.BuiltinSource("windows")
	p := mustParse(t, string(src))
	col, _ := sigma.Load("r.yml", []byte(rule(procWin, selImage)))
	res := compiler.Compile(col, compiler.Options{Pipeline: pipeline.Resolve([]pipeline.Spec{{Spec: "windows", Pipeline: p}}), Unmapped: compiler.ErrorUnmapped})[0]
	if res.Rule == nil || len(res.Unmapped) > 0 {
		t.Fatalf("windows renames nothing, so nothing is unmapped: %v %v", res.Unmapped, res.Diags)
	}
}

func TestTemplatesSeeVarsAsText(t *testing.T) {
	p := mustParse(t, "vars: {index: main, hosts: [a, b]}\npostprocessing:\n- type: template\n  template: 'index={{index .Pipeline.Vars \"index\"}} hosts={{index .Pipeline.Vars \"hosts\"}} fields={{range .Rule.Fields}}{{.}};{{end}} {{.Query}}'\n")
	col, _ := sigma.Load("r.yml", []byte(rule(procWin, selImage+"fields: [Image]\n")))
	res := compiler.Compile(col, compiler.Options{Pipeline: pipeline.Resolve([]pipeline.Spec{{Spec: "p", Pipeline: p}})})[0]
	got, err := p.PostprocessQuery(res.Subject, "Q")
	if err != nil || got != "index=main hosts=a,b fields=Image; Q" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestCorrelationFieldMapsToOne(t *testing.T) {
	p := mustParse(t, "transformations:\n- type: field_name_mapping\n  mapping: {User: [source.user, target.user]}\n")
	src := rule(procWin, selImage) + "name: base\n---\ntitle: c\ncorrelation:\n  type: event_count\n  rules: base\n  timespan: 1h\n  group-by: [User]\n  condition: {gte: 2}\n"
	col, _ := sigma.Load("r.yml", []byte(src))
	opts := compiler.Options{Pipeline: pipeline.Resolve([]pipeline.Spec{{Spec: "p", Pipeline: p}})}
	corr := compiler.CompileCorrelations(col, compiler.Compile(col, opts), opts)[0]
	if corr.Correlation != nil || !strings.Contains(corr.Diags.Error(), "maps to 2 fields") {
		t.Fatalf("got %v", corr.Diags)
	}
}
