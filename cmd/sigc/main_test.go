package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sigc(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

const goodRule = "title: Good\nid: g1\nlogsource: {product: p}\ndetection:\n  s:\n    A: x\n  condition: s\n"
const badRule = "title: Bad\nid: b1\nlogsource: {product: p}\ndetection:\n  s:\n    A|nope: x\n  condition: s\n"

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestConvertExamples(t *testing.T) {
	for _, target := range []string{"logscale", "sumologic"} {
		code, out, errs := sigc(t, "", "convert", "-t", target, "../../examples/serverless")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", target, code, errs)
		}
		// Two beaconing correlations, the endpoint rule, the proxy rule,
		// in file order.
		parts := strings.Split(strings.TrimSpace(out), "\n\n")
		if len(parts) != 4 || !strings.Contains(parts[0], "_window") || !strings.Contains(parts[1], "_window") {
			t.Errorf("%s: want 4 queries separated by a blank line, correlations first, got %d:\n%s", target, len(parts), out)
		}
		if !strings.Contains(errs, "4 converted, 0 failed") {
			t.Errorf("%s: summary missing: %q", target, errs)
		}
	}
}

func TestConvertJSONAndBadRule(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a/good.yml": goodRule, "b/bad.yml": badRule})
	code, out, errs := sigc(t, "", "convert", "-t", "logscale", "-f", "json", dir)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(errs, "bad.yml:6:7: error: unknown modifier \"nope\"") {
		t.Errorf("stderr lacks positioned error: %s", errs)
	}
	if !strings.Contains(errs, "1 converted, 1 failed") {
		t.Errorf("summary: %s", errs)
	}
	var jr jsonRule
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &jr); err != nil {
		t.Fatalf("json output %q: %v", out, err)
	}
	if jr.ID != "g1" || jr.Target != "logscale" || jr.Query != `A=/\Ax\z/i` || !strings.HasSuffix(jr.File, "good.yml") {
		t.Errorf("json rule: %+v", jr)
	}
}

func TestConvertFailFastWritesNothing(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.yml": goodRule, "b.yml": badRule})
	outFile := filepath.Join(dir, "out.txt")
	code, _, errs := sigc(t, "", "convert", "-t", "sumologic", "--fail-fast", "-o", outFile, dir)
	if code == 0 {
		t.Error("want a failure")
	}
	if _, err := os.Stat(outFile); err == nil {
		t.Error("output file written despite --fail-fast failure")
	}
	if !strings.Contains(errs, "nothing written") {
		t.Errorf("stderr: %s", errs)
	}
	code, _, _ = sigc(t, "", "convert", "-t", "sumologic", "-o", outFile, filepath.Join(dir, "a.yml"))
	if b, _ := os.ReadFile(outFile); code != 0 || !strings.Contains(string(b), `toLowerCase(A) = "x"`) {
		t.Errorf("exit %d, output %q", code, b)
	}
}

func TestConvertStdinAndErrors(t *testing.T) {
	code, out, _ := sigc(t, goodRule, "convert", "-t", "logscale", "-")
	if code != 0 || strings.TrimSpace(out) != `A=/\Ax\z/i` {
		t.Errorf("stdin: exit %d, %q", code, out)
	}
	code, _, errs := sigc(t, "", "convert", "-t", "splunk", "-")
	if code != 2 || !strings.Contains(errs, "unknown target") {
		t.Errorf("unknown target: %d %s", code, errs)
	}
	code, _, errs = sigc(t, "", "convert", "-t", "logscale", "/does/not/exist.yml")
	if code == 0 || !strings.Contains(errs, "/does/not/exist.yml: error: cannot read") {
		t.Errorf("missing file: %d %s", code, errs)
	}
	code, _, errs = sigc(t, "not: [yaml", "convert", "-t", "logscale", "-")
	if code == 0 || !strings.Contains(errs, "<stdin>:1:1: error: not valid YAML") {
		t.Errorf("bad yaml: %d %s", code, errs)
	}
}

func TestEval(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"r.yml":      goodRule,
		"logs.jsonl": "{\"A\":\"X\"}\n{\"A\":\"y\"}\nnot json\n{\"A\":\"x\",\"n\":1}\n",
	})
	code, out, errs := sigc(t, "", "eval", "--logs", filepath.Join(dir, "logs.jsonl"), filepath.Join(dir, "r.yml"))
	if code != 1 {
		t.Errorf("exit %d, want 1 for the malformed line", code)
	}
	if !strings.Contains(errs, "logs.jsonl:3:1: error:") {
		t.Errorf("stderr: %s", errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 matches, got %q", out)
	}
	var m struct {
		RuleID string         `json:"rule_id"`
		Title  string         `json:"title"`
		Event  map[string]any `json:"event"`
		File   string         `json:"file"`
		Line   int            `json:"line"`
	}
	json.Unmarshal([]byte(lines[1]), &m)
	if m.RuleID != "g1" || m.Title != "Good" || m.Line != 4 || m.Event["A"] != "x" || !strings.HasSuffix(m.File, "logs.jsonl") {
		t.Errorf("match line: %+v", m)
	}
	// No match is not an error.
	code, out, _ = sigc(t, "{\"A\":\"none\"}\n", "eval", "--logs", "-", filepath.Join(dir, "r.yml"))
	if code != 0 || out != "" {
		t.Errorf("no match: exit %d, out %q", code, out)
	}
}

func TestEvalExamples(t *testing.T) {
	code, out, errs := sigc(t, "", "eval", "--logs", "../../examples/serverless/endpoint.jsonl", "--logs", "../../examples/serverless/proxy.log", "../../examples/serverless")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// The endpoint rule feeds the beaconing correlations (generate: false),
	// so only the proxy rule's 4 matches are reported on their own.
	if n := strings.Count(out, "\n"); n != 4 {
		t.Errorf("want 4 proxy matches, got %d:\n%s", n, out)
	}
	code, out, errs = sigc(t, "", "eval", "--logs", "../../examples/serverless/beacon_endpoint.jsonl", "../../examples/serverless")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"beacon-7.deno.dev"`) || !strings.Contains(lines[0], "Timing Regularity") ||
		!strings.Contains(lines[1], `"cdn-sync.acme-telemetry.workers.dev"`) || !strings.Contains(lines[1], "By Volume") {
		t.Errorf("want the timing firing for WS-0200 and the volume firing for WS-0142, got:\n%s", out)
	}
}

func TestListAndVersion(t *testing.T) {
	_, out, _ := sigc(t, "", "list", "targets")
	if !strings.Contains(out, "logscale") || !strings.Contains(out, "sumologic") {
		t.Errorf("targets: %s", out)
	}
	_, out, _ = sigc(t, "", "list", "modifiers")
	for _, m := range []string{"base64offset", "windash", "fieldref", "cidr", "utf16le", "expand"} {
		if !strings.Contains(out, m) {
			t.Errorf("modifiers lack %s", m)
		}
	}
	_, out, _ = sigc(t, "", "version")
	if !strings.HasPrefix(out, "sigc ") {
		t.Errorf("version: %q", out)
	}
}

func TestEvalTimeField(t *testing.T) {
	corr := goodRule + `---
title: Twice
id: c1
correlation:
  type: event_count
  rules: g1
  timespan: 1m
  condition: {gte: 2}
`
	dir := writeFiles(t, map[string]string{
		"r.yml":      corr,
		"logs.jsonl": "{\"A\":\"x\",\"when\":1762070400}\n{\"A\":\"x\",\"when\":1762070410}\n{\"A\":\"x\"}\n",
	})
	code, out, errs := sigc(t, "", "eval", "--time-field", "when", "--logs", filepath.Join(dir, "logs.jsonl"), filepath.Join(dir, "r.yml"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, `"rule_id":"c1"`) || !strings.Contains(out, `"events":2`) || !strings.Contains(out, `"window_start":"2025-11-02T08:00:00Z"`) {
		t.Errorf("firing: %s", out)
	}
	if !strings.Contains(errs, "1 matching event(s) had no readable time in the field \"when\"") {
		t.Errorf("want a warning for the event without time: %s", errs)
	}
}

// A correlation resolves rules in files given after it (pySigma depends on
// the order; sigc must not).
func TestCorrelationFileOrder(t *testing.T) {
	corr := "title: Twice\nid: c1\ncorrelation:\n  type: event_count\n  rules: g1\n  timespan: 1m\n  condition: {gte: 2}\n"
	dir := writeFiles(t, map[string]string{"a_corr.yml": corr, "b_rule.yml": goodRule})
	for _, order := range [][]string{
		{filepath.Join(dir, "a_corr.yml"), filepath.Join(dir, "b_rule.yml")},
		{filepath.Join(dir, "b_rule.yml"), filepath.Join(dir, "a_corr.yml")},
	} {
		code, out, errs := sigc(t, "", append([]string{"convert", "-t", "sumologic"}, order...)...)
		if code != 0 || !strings.Contains(out, "count as event_count by _window") {
			t.Errorf("order %v: exit %d, %s\n%s", order, code, errs, out)
		}
	}
	code, _, errs := sigc(t, "", "convert", "-t", "logscale", filepath.Join(dir, "a_corr.yml"))
	if code == 0 || !strings.Contains(errs, "a_corr.yml:5:10: error: no loaded rule or correlation has the name or id \"g1\"") {
		t.Errorf("missing rule: exit %d, %s", code, errs)
	}
}

// Out-of-order input: late events are reported, and --lateness keeps the
// window open for them.
func TestEvalLateness(t *testing.T) {
	corr := goodRule + "---\ntitle: Twice\nid: c1\ncorrelation:\n  type: event_count\n  rules: g1\n  timespan: 1m\n  condition: {gte: 2}\n"
	logs := `{"A":"x","@timestamp":"2026-01-01T00:00:10Z"}
{"A":"x","@timestamp":"2026-01-01T00:05:00Z"}
{"A":"x","@timestamp":"2026-01-01T00:00:20Z"}
`
	dir := writeFiles(t, map[string]string{"r.yml": corr, "logs.jsonl": logs})
	code, out, errs := sigc(t, "", "eval", "--logs", filepath.Join(dir, "logs.jsonl"), filepath.Join(dir, "r.yml"))
	if code != 0 || out != "" || !strings.Contains(errs, "1 event(s) arrived after their correlation window had closed") {
		t.Errorf("without lateness: exit %d, out %q, err %q", code, out, errs)
	}
	code, out, errs = sigc(t, "", "eval", "--lateness", "10m", "--logs", filepath.Join(dir, "logs.jsonl"), filepath.Join(dir, "r.yml"))
	if code != 0 || !strings.Contains(out, `"events":2`) {
		t.Errorf("with lateness: exit %d, out %q, err %q", code, out, errs)
	}
}
