package eval_test

import (
	"bufio"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/sigc-project/sigc/compiler"
	"github.com/sigc-project/sigc/compiler/ir"
	"github.com/sigc-project/sigc/eval"
	"github.com/sigc-project/sigc/eval/logs"
	"github.com/sigc-project/sigc/sigma"
)

const beaconRules = `title: Serverless connection
id: b0000000-0000-4000-8000-000000000001
name: serverless_connection
logsource: {category: network_connection}
detection:
  selection:
    DestinationHostname|endswith: ['.workers.dev', '.deno.dev', '.run.app']
  condition: selection
---
title: Beaconing by volume
id: b0000000-0000-4000-8000-000000000002
correlation:
  type: aggregate
  rules: serverless_connection
  group-by: [ComputerName, Image, DestinationHostname]
  timespan: 1h
  aggregate:
    connections: count()
    minutes: count_distinct(bucket(1m))
    avg_sent: avg(BytesSent)
    jitter: stddev(interval()) / avg(interval())
  condition: connections >= 12 and avg_sent < 4096 and jitter < 0.5
---
title: Many connections
id: b0000000-0000-4000-8000-000000000003
correlation:
  type: event_count
  rules: serverless_connection
  group-by: [ComputerName]
  timespan: 10m
  condition: {gte: 50}
`

func compileAll(t testing.TB, src string) ([]*ir.Rule, []*ir.Correlation) {
	t.Helper()
	col, diags := sigma.Load("bench.yml", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	res := compiler.Compile(col, compiler.Options{})
	var rules []*ir.Rule
	for _, r := range res {
		if r.Rule == nil {
			t.Fatal(r.Diags)
		}
		rules = append(rules, r.Rule)
	}
	var corrs []*ir.Correlation
	for _, c := range compiler.CompileCorrelations(col, res, compiler.Options{}) {
		if c.Correlation == nil {
			t.Fatal(c.Diags)
		}
		corrs = append(corrs, c.Correlation)
	}
	return rules, corrs
}

// eventStream writes n JSON lines, one second apart, from 500 hosts.
func eventStream(n int) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		w := bufio.NewWriterSize(pw, 1<<16)
		start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
		for i := 0; i < n; i++ {
			host := i % 500
			dest := "cdn.example.com"
			if host%5 == 0 {
				dest = fmt.Sprintf("h%d.workers.dev", host%50)
			}
			fmt.Fprintf(w, `{"@timestamp":%q,"ComputerName":"WS-%04d","Image":"C:\\Tools\\agent%d.exe","DestinationHostname":%q,"BytesSent":%d,"BytesReceived":%d}`+"\n",
				start.Add(time.Duration(i)*time.Second/10).Format(time.RFC3339Nano), host, host%7, dest, 300+i%900, 1000+i%5000)
		}
		w.Flush()
		pw.Close()
	}()
	return pr
}

// run evaluates a stream and reports events, firings and the peak number
// of live groups.
func run(t testing.TB, r io.Reader, sample func()) (events, firings, peakGroups int) {
	rules, corrs := compileAll(t, beaconRules)
	eng, err := eval.New(rules)
	if err != nil {
		t.Fatal(err)
	}
	cor := eval.NewCorrelator(corrs, "", func(*eval.Firing) { firings++ })
	rd, closer, err := logs.Open("-", "json", r)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	prep := eval.NewPreparer(eval.Options{})
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ev := prep.Prepare(rec)
		eng.Each(ev, func(m *eval.Rule) { cor.Add(m.IR, ev) })
		events++
		if events%10000 == 0 {
			peakGroups = max(peakGroups, cor.LiveGroups())
			if sample != nil {
				sample()
			}
		}
	}
	cor.Close()
	return events, firings, peakGroups
}

// TestCorrelatorMemoryBounded: live state follows the groups of the open
// windows, not the length of the input.
func TestCorrelatorMemoryBounded(t *testing.T) {
	_, firings, peak10k := run(t, eventStream(10_000), nil)
	_, firings2, peak200k := run(t, eventStream(200_000), nil)
	if firings == 0 || firings2 <= firings {
		t.Errorf("firings: %d then %d; the stream should make the correlations fire more on more input", firings, firings2)
	}
	if peak200k > 2*peak10k+50 {
		t.Errorf("live groups grew with the input: %d at 10k events, %d at 200k", peak10k, peak200k)
	}
}

// BenchmarkCorrelate runs one million events through detection and two
// correlations (with interval() statistics), reading JSON Lines:
//
//	go test ./eval -run XXX -bench Correlate -benchtime 1x
func BenchmarkCorrelate(b *testing.B) {
	const n = 1_000_000
	for i := 0; i < b.N; i++ {
		var peakHeap uint64
		var ms runtime.MemStats
		sample := func() {
			runtime.ReadMemStats(&ms)
			peakHeap = max(peakHeap, ms.HeapInuse)
		}
		start := time.Now()
		events, firings, peak := run(b, eventStream(n), sample)
		el := time.Since(start)
		b.ReportMetric(float64(events)/el.Seconds(), "events/s")
		b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(peak), "peak-live-groups")
		b.ReportMetric(float64(firings), "firings")
	}
}
