package golden

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sigc-project/sigc/backends"
	"github.com/sigc-project/sigc/compiler"
	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/sigma"
)

const generatedRules = `title: Connection
id: 90000000-0000-4000-8000-000000000001
name: conn
logsource: {category: network_connection}
detection:
  selection:
    DestinationHostname|endswith: ['.workers.dev', '.run.app']
  condition: selection
---
title: Admin tool
id: 90000000-0000-4000-8000-000000000002
name: admin
logsource: {category: process_creation}
detection:
  selection:
    Image|endswith: '\psexec.exe'
  condition: selection
---
title: Mixed statistics
id: 90000000-0000-4000-8000-000000000010
correlation:
  type: aggregate
  rules: conn
  group-by: [Host, DestinationHostname]
  timespan: 30m
  aggregate:
    n: count()
    minutes: count_distinct(bucket(5m))
    avg_sent: avg(BytesSent)
    spread: stddev(BytesSent)
    p75: percentile(BytesSent, 75)
  condition: n >= 4 and (avg_sent < 500 or p75 > 900) and not spread > 400 and minutes >= 2
---
title: Timing statistics
id: 90000000-0000-4000-8000-000000000014
correlation:
  type: aggregate
  rules: [conn, admin]
  group-by: [Host]
  timespan: 20m
  aggregate:
    n: count()
    with_bytes: count(BytesSent)
    minutes: count_distinct(bucket(5m))
    sent: sum(BytesSent)
    avg_sent: avg(BytesSent)
    spread: stddev(BytesSent)
    low: min(BytesSent)
    gaps: count(interval())
    regular: stddev(interval()) / avg(interval())
    shortest: min(interval())
    longest: max(interval())
    waited: sum(interval())
  condition: n >= 3 and (regular < 0.9 or shortest == 0) and longest < 600 and waited > 60 and (spread > 100 or low < 50) and minutes >= 2
---
title: Many destinations
id: 90000000-0000-4000-8000-000000000011
correlation:
  type: value_count
  rules: conn
  group-by: [Host]
  timespan: 1h
  condition: {gte: 2, field: DestinationHostname}
---
title: Tool then connection
id: 90000000-0000-4000-8000-000000000012
correlation:
  type: temporal_ordered
  rules: [admin, conn]
  group-by: [Host]
  timespan: 15m
---
title: Volume
id: 90000000-0000-4000-8000-000000000013
correlation:
  type: value_sum
  rules: conn
  group-by: [Host]
  timespan: 10m
  condition: {gt: 2500, field: BytesSent}
`

// TestGeneratedCorrelationDifferential runs generated event streams through
// the evaluator and through each target's rendered correlation queries in
// the reference interpreters: both must fire for the same windows and groups.
func TestGeneratedCorrelationDifferential(t *testing.T) {
	col, diags := sigma.Load("generated.yml", []byte(generatedRules))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	results := compiler.Compile(col, compiler.Options{})
	var rules []*ir.Rule
	for _, r := range results {
		rules = append(rules, r.Rule)
	}
	var corrs []*ir.Correlation
	for _, c := range compiler.CompileCorrelations(col, results, compiler.Options{}) {
		if c.Correlation == nil {
			t.Fatal(c.Diags)
		}
		corrs = append(corrs, c.Correlation)
	}
	fired := map[string]int{}
	for seed := int64(1); seed <= 5; seed++ {
		path := filepath.Join(t.TempDir(), "logs.jsonl")
		writeGenerated(t, path, seed, 1500)
		out, err := Evaluate(filepath.Dir(path), rules, corrs, []string{path})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range corrs {
			fired[c.Title] += strings.Count(out, c.ID)
		}
		for _, b := range backends.All {
			queries := map[*ir.Correlation]string{}
			for _, c := range corrs {
				q, _, err := b.RenderCorrelation(c)
				if err != nil {
					t.Fatal(err)
				}
				queries[c] = q
			}
			diff, err := CorrelationDifferential(b.Name(), rules, corrs, queries, []string{path})
			if err != nil {
				t.Fatal(err)
			}
			if diff != "" {
				t.Errorf("seed %d, %s:\n%s", seed, b.Name(), diff)
			}
		}
	}
	// The streams must exercise every correlation, or the test checks nothing.
	for _, c := range corrs {
		if fired[c.Title] == 0 {
			t.Errorf("%q never fired on the generated streams", c.Title)
		}
	}
	t.Logf("firings over 5 streams: %v", fired)
}

// writeGenerated writes n events over six hours, in time order, from a few
// hosts; no event matches both rules (that case is a documented warning).
func writeGenerated(t *testing.T, path string, seed int64, n int) {
	rng := rand.New(rand.NewSource(seed))
	start := time.Date(2026, 11, 2, 6, 0, 0, 0, time.UTC)
	times := make([]time.Duration, n)
	for i := range times {
		times[i] = time.Duration(rng.Int63n(int64(6 * time.Hour)))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	dests := []string{"a.workers.dev", "b.workers.dev", "svc.run.app", "example.com"}
	for i, d := range times {
		ev := map[string]any{
			"@timestamp": start.Add(d).Format(time.RFC3339Nano),
			"Host":       fmt.Sprintf("h%d", rng.Intn(6)),
		}
		if rng.Intn(8) == 0 {
			ev["Image"] = `C:\Tools\PsExec.exe`
		} else {
			ev["DestinationHostname"] = dests[rng.Intn(len(dests))]
			if rng.Intn(10) > 0 {
				ev["BytesSent"] = rng.Intn(1000)
			}
		}
		if err := enc.Encode(ev); err != nil {
			t.Fatal(err)
		}
		_ = i
	}
}
