package hostile

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

var sigc string // the binary under test, built once

// launch is the launcher mode of the test binary: it runs the command in
// its arguments and writes the child's peak RSS to file descriptor 3. A
// child's peak RSS counts the memory of the process it was forked from
// (Linux records the parent's footprint at exec), so sigc is started from
// this small process, not from the test process holding the inputs.
func launch() {
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Run()
	report := os.NewFile(3, "report")
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		fmt.Fprintf(report, "%d\n", ru.Maxrss)
	}
	report.Close()
	os.Exit(cmd.ProcessState.ExitCode())
}

func TestMain(m *testing.M) {
	if os.Getenv("SIGC_HOSTILE_LAUNCH") == "1" {
		launch()
	}
	dir, err := os.MkdirTemp("", "sigc-hostile-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sigc = filepath.Join(dir, "sigc")
	if out, err := exec.Command("go", "build", "-o", sigc, "../cmd/sigc").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build sigc: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// bound is what a run may cost.
type bound struct {
	time time.Duration
	rss  int64 // MiB
}

// result is one run of the binary.
type result struct {
	code           int
	stdout, stderr string
	wall           time.Duration
	rssMiB         int64
}

// run runs sigc with args (stdin from in) and fails the test if it
// exceeds the bound, crashes or panics.
func run(t *testing.T, b bound, in string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), b.time+5*time.Second)
	defer cancel()
	self, _ := os.Executable()
	cmd := exec.CommandContext(ctx, self, append([]string{sigc}, args...)...)
	cmd.Env = append(os.Environ(), "SIGC_HOSTILE_LAUNCH=1")
	cmd.Stdin = strings.NewReader(in)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.ExtraFiles = []*os.File{pw}
	start := time.Now()
	err = cmd.Start()
	pw.Close()
	if err != nil {
		t.Fatal(err)
	}
	report := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(pr)
		report <- string(b)
	}()
	err = cmd.Wait()
	r := result{stdout: out.String(), stderr: errb.String(), wall: time.Since(start)}
	if ctx.Err() != nil {
		t.Fatalf("sigc %s: still running after %v (bound %v)", short(args), r.wall, b.time)
	}
	if cmd.ProcessState == nil {
		t.Fatalf("sigc %s: %v", short(args), err)
	}
	r.code = cmd.ProcessState.ExitCode()
	var kb int64
	fmt.Sscan(<-report, &kb) // kilobytes on Linux
	r.rssMiB = kb / 1024
	if strings.Contains(r.stderr, "panic:") || strings.Contains(r.stderr, "fatal error:") || strings.Contains(r.stderr, "goroutine ") {
		t.Fatalf("sigc %s crashed:\n%s", short(args), cut(r.stderr))
	}
	if r.wall > b.time {
		t.Errorf("sigc %s took %v, bound %v", short(args), r.wall, b.time)
	}
	if b.rss > 0 && r.rssMiB > b.rss {
		t.Errorf("sigc %s peaked at %d MiB RSS, bound %d MiB", short(args), r.rssMiB, b.rss)
	}
	t.Logf("sigc %s: exit %d in %v, %d MiB RSS", short(args), r.code, r.wall.Round(time.Millisecond), r.rssMiB)
	return r
}

func short(args []string) string {
	s := strings.Join(args, " ")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

func cut(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}

var positioned = regexp.MustCompile(`(?m)^[^:\n]+:\d+:\d+: error: [a-z0-9%"'\x60(]`)

// expectError wants a non-zero exit and a positioned, lower-case message
// containing want.
func expectError(t *testing.T, r result, want string) {
	t.Helper()
	if r.code == 0 {
		t.Errorf("exit 0, want an error containing %q", want)
	}
	if !positioned.MatchString(r.stderr) {
		t.Errorf("no path:line:col: error: message in:\n%s", cut(r.stderr))
	}
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, cut(r.stderr))
	}
}

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func rule(detection string) string {
	return "title: hostile\nid: h1\nlogsource: {product: test}\ndetection:\n" + detection
}

// --- Bounded work ---------------------------------------------------------

// Wildcard patterns that made a backtracking matcher exponential, on one
// value just under the 8 MiB record bound.
func TestWildcardOnHugeValue(t *testing.T) {
	value := strings.Repeat("a", 8<<20-64)
	logs := write(t, "logs.jsonl", `{"CommandLine":"`+value+`"}`+"\n")
	for _, pat := range []string{`*a*a*a*a*a*a*b`, `* /tmp/*.b64 *`, `*a?a?a?a?a?b*`, `*a*a*a*a*a*a*`} {
		r := run(t, bound{10 * time.Second, 400}, "", "eval", "--logs", logs, write(t, "r.yml", rule("  s:\n    CommandLine: '"+pat+"'\n  condition: s\n")))
		if r.code != 0 {
			t.Errorf("%s: exit %d: %s", pat, r.code, cut(r.stderr))
		}
		if want := strings.HasSuffix(pat, "*") && !strings.Contains(pat, "b"); want != strings.Contains(r.stdout, `"rule_id":"h1"`) {
			t.Errorf("%s: match %v, want %v", pat, !want, want)
		}
	}
}

// Regexes with counted repetitions cost value length × program size on a
// backtracking-free NFA; on RE2's DFA they are linear.
func TestRegexOnHugeValue(t *testing.T) {
	value := strings.Repeat("a", 8<<20-64)
	logs := write(t, "logs.jsonl", `{"CommandLine":"`+value+`"}`+"\n")
	for _, re := range []string{`a.{0,200}b`, `[a-z]{500}b`, `(?i)[a-z0-9]{100}==`, `[A-Za-z0-9+/]{64}\.exe`, `(a|aa)+b`, `a{1000}$`} {
		r := run(t, bound{10 * time.Second, 400}, "", "eval", "--logs", logs, write(t, "r.yml", rule("  s:\n    CommandLine|re: '"+re+"'\n  condition: s\n")))
		if r.code != 0 {
			t.Errorf("%s: exit %d: %s", re, r.code, cut(r.stderr))
		}
		if want := re == `a{1000}$`; want != strings.Contains(r.stdout, `"rule_id":"h1"`) {
			t.Errorf("%s: match %v, want %v", re, !want, want)
		}
	}
}

// A million parentheses, 900,000 `not`: refused with a position, fast —
// by their length; under the length limit, by their depth.
func TestConditionNesting(t *testing.T) {
	for _, c := range map[string]struct{ cond, want string }{
		"parens":       {strings.Repeat("(", 1_000_000) + "s" + strings.Repeat(")", 1_000_000), "condition is longer than 65536 characters"},
		"not":          {strings.Repeat("not ", 900_000) + "s", "condition is longer than 65536 characters"},
		"short parens": {strings.Repeat("(", 30_000) + "s" + strings.Repeat(")", 30_000), "condition nests deeper than 100 levels"},
		"short not":    {strings.Repeat("not ", 15_000) + "s", "condition nests deeper than 100 levels"},
		"mixed":        {strings.Repeat("s and (s or (", 2_000) + "s" + strings.Repeat("))", 2_000), "condition nests deeper than 100 levels"},
	} {
		src := write(t, "r.yml", rule("  s:\n    A: x\n  condition: "+c.cond+"\n"))
		for _, cmd := range [][]string{{"convert", "-t", "logscale", src}, {"eval", "--logs", write(t, "l.jsonl", "{\"A\":\"x\"}\n"), src}} {
			r := run(t, bound{3 * time.Second, 300}, "", cmd...)
			expectError(t, r, c.want)
		}
	}
}

// `99 of sel*` over 100 selections is 100 combinations: computed at once;
// `50 of` is 10^29: refused at once.
func TestNOfPattern(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&b, "  sel%d:\n    A%d: x\n", i, i)
	}
	ok := write(t, "ok.yml", rule(b.String()+"  condition: 99 of sel*\n"))
	r := run(t, bound{5 * time.Second, 400}, "", "convert", "-t", "sumologic", ok)
	if r.code != 0 {
		t.Errorf("99 of 100: exit %d: %s", r.code, cut(r.stderr))
	}
	bad := write(t, "bad.yml", rule(b.String()+"  condition: 50 of sel*\n"))
	r = run(t, bound{2 * time.Second, 200}, "", "eval", "--logs", write(t, "l.jsonl", "{}\n"), bad)
	expectError(t, r, "expands to more than 4096 combinations")
}

// A selection repeated by name is counted as often as it is used.
func TestExpansionBound(t *testing.T) {
	var b strings.Builder
	b.WriteString("  s:\n    A:\n")
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&b, "      - v%d\n", i)
	}
	b.WriteString("  condition: " + strings.TrimSuffix(strings.Repeat("s or ", 60), " or ") + "\n")
	r := run(t, bound{3 * time.Second, 300}, "", "convert", "-t", "logscale", write(t, "r.yml", rule(b.String())))
	expectError(t, r, "condition expands to more than 1000000 nodes")
}

// A selection used by many combinations of `N of` is tested once per
// event: the cost is the distinct tests, not the 800,000 of the expansion.
func TestSharedSelectionsOnce(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 90; i++ {
		fmt.Fprintf(&b, "  sel%d:\n    f%d|contains:\n", i, i)
		for j := 0; j < 100; j++ {
			fmt.Fprintf(&b, "      - 'v%dx%d'\n", i, j)
		}
	}
	src := write(t, "nof.yml", rule(b.String()+"  condition: 2 of sel*\n"))
	logs := write(t, "l.jsonl", strings.Repeat(`{"f1":"xv1x7y","g":"nothing here"}`+"\n", 10000))
	r := run(t, bound{10 * time.Second, 400}, "", "eval", "--logs", logs, src)
	if r.code != 0 || r.stdout != "" {
		t.Errorf("exit %d, %d bytes of matches: %s", r.code, len(r.stdout), cut(r.stderr))
	}
	r = run(t, bound{20 * time.Second, 1000}, "", "convert", "-t", "sumologic", src)
	if !strings.Contains(r.stderr, "warning: the query is") {
		t.Errorf("a query of %d bytes converts without a size warning: %s", len(r.stdout), cut(r.stderr))
	}
}

// Rendering is linear: 99 levels of alternating and/or over wide
// selections convert in well under a second.
func TestDeepRendering(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 4; i++ {
		fmt.Fprintf(&b, "  s%d:\n    A%d|contains: [a, b, c]\n", i, i)
	}
	cond := strings.Repeat("s0 and (s1 or (", 49) + "s2" + strings.Repeat("))", 49)
	for _, target := range []string{"logscale", "sumologic"} {
		r := run(t, bound{2 * time.Second, 200}, "", "convert", "-t", target, write(t, "r.yml", rule(b.String()+"  condition: "+cond+"\n")))
		if r.code != 0 {
			t.Errorf("%s: exit %d: %s", target, r.code, cut(r.stderr))
		}
	}
}

// Pipelines have the rule files' size limit; a FIFO or device inside a
// rule directory is skipped; a linked directory is reported.
func TestPathKinds(t *testing.T) {
	r := run(t, bound{2 * time.Second, 100}, "", "convert", "-t", "logscale", "-p", "/dev/zero", write(t, "r.yml", rule("  s: {A: x}\n  condition: s\n")))
	if r.code == 0 || !strings.Contains(r.stderr, "/dev/zero: error: file is larger than the 4194304-byte limit") {
		t.Errorf("-p /dev/zero: exit %d: %s", r.code, cut(r.stderr))
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.yml"), []byte(rule("  s: {A: x}\n  condition: s\n")), 0o644)
	if err := syscall.Mkfifo(filepath.Join(dir, "blocked.yml"), 0o644); err != nil {
		t.Skipf("SKIP: mkfifo: %v", err)
	}
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "b.yml"), []byte(rule("  s: {B: x}\n  condition: s\n")), 0o644)
	os.Symlink(other, filepath.Join(dir, "linked"))
	r = run(t, bound{3 * time.Second, 100}, "", "convert", "-t", "logscale", dir)
	if r.code != 0 || strings.TrimSpace(r.stdout) != `A=/\Ax\z/i` {
		t.Errorf("directory with a FIFO: exit %d, out %q", r.code, r.stdout)
	}
	for _, want := range []string{"blocked.yml: warning: skipped: not a regular file (a FIFO)", "linked: warning: skipped: a symbolic link to a directory is not followed"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q: %s", want, r.stderr)
		}
	}
}

// CSV records are bounded like the others.
func TestCSVHugeRecord(t *testing.T) {
	var b strings.Builder
	b.WriteString("A,B\n")
	b.WriteString("x," + strings.Repeat("y", 40<<20) + "\n")
	b.WriteString("x,1\n")
	logs := write(t, "big.csv", b.String())
	r := run(t, bound{5 * time.Second, 200}, "", "eval", "--logs", logs, write(t, "r.yml", rule("  s: {A: x}\n  condition: s\n")))
	expectError(t, r, "big.csv:2:1: error: line is longer than 8388608 bytes")
	if n := strings.Count(r.stdout, "\n"); n != 1 {
		t.Errorf("want the record after the huge one matched, got %d lines", n)
	}
}

// --- Nothing lost ---------------------------------------------------------

func countMatches(t *testing.T, stdout string) int {
	t.Helper()
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("output line is not JSON: %q", l)
		}
		n++
	}
	return n
}

func TestBrokenRecordsResynchronise(t *testing.T) {
	r1 := write(t, "r.yml", rule("  s: {A: x}\n  condition: s\n"))
	var jsonl strings.Builder
	jsonl.WriteString(`{"A":"x","broken":"unterminated}` + "\n")
	for i := 0; i < 49_999; i++ {
		jsonl.WriteString(`{"A":"x"}` + "\n")
	}
	r := run(t, bound{5 * time.Second, 200}, "", "eval", "--logs", write(t, "a.jsonl", jsonl.String()), r1)
	expectError(t, r, "a.jsonl:1:")
	if n := countMatches(t, r.stdout); n != 49_999 {
		t.Errorf("JSON Lines: %d matches, want the 49,999 records after the broken line", n)
	}
	pretty := "{\n  \"A\": \"x\",\n  \"B\": {\n    \"c\": 1\n\n" + strings.Repeat("{\n  \"A\": \"x\"\n}\n", 100)
	r = run(t, bound{3 * time.Second, 100}, "", "eval", "--logs", write(t, "p.json", pretty), r1)
	expectError(t, r, "p.json:1:1: error: the JSON object is not closed before line 6")
	if n := countMatches(t, r.stdout); n != 100 {
		t.Errorf("pretty JSON: %d matches, want 100", n)
	}
	csv := "A,B\nx,\"unclosed\n" + strings.Repeat("x,2\n", 1000)
	r = run(t, bound{3 * time.Second, 100}, "", "eval", "--logs", write(t, "c.csv", csv), r1)
	expectError(t, r, "c.csv:2:3: error: malformed CSV: the quoted field opened here is not closed")
	if n := countMatches(t, r.stdout); n != 1000 {
		t.Errorf("CSV: %d matches, want 1000", n)
	}
}

func TestWriteErrors(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("SKIP: no /dev/full here")
	}
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("SKIP: %v", err)
	}
	defer full.Close()
	logs := write(t, "l.jsonl", strings.Repeat(`{"A":"x"}`+"\n", 100))
	rl := write(t, "r.yml", rule("  s: {A: x}\n  condition: s\n"))
	for _, args := range [][]string{{"eval", "--logs", logs, rl}, {"convert", "-t", "logscale", rl}} {
		cmd := exec.Command(sigc, args...)
		cmd.Stdout = full
		var errb bytes.Buffer
		cmd.Stderr = &errb
		err := cmd.Run()
		if err == nil || !strings.Contains(errb.String(), "cannot write the output") || !strings.Contains(errb.String(), "no space left on device") {
			t.Errorf("%s > /dev/full: %v, %s", args[0], err, errb.String())
		}
	}
}

// SIGINT ends eval between records: every output line is complete.
func TestInterruptEndsOnALineBoundary(t *testing.T) {
	rl := write(t, "r.yml", rule("  s: {A: x}\n  condition: s\n"))
	cmd := exec.Command(sigc, "eval", "--logs", "-", rl)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		line := []byte(`{"A":"x","pad":"` + strings.Repeat("p", 500) + `"}` + "\n")
		for i := 0; i < 1_000_000; i++ {
			if _, err := stdin.Write(line); err != nil {
				return
			}
		}
		stdin.Close()
	}()
	var out bytes.Buffer
	got := make(chan struct{})
	go func() {
		br := bufio.NewReader(stdout)
		buf := make([]byte, 64<<10)
		first := true
		for {
			n, err := br.Read(buf)
			out.Write(buf[:n])
			if first && n > 0 {
				first = false
				close(got)
			}
			if err != nil {
				return
			}
		}
	}()
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("no output within 10 s")
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit %d (%v), want 130; stderr %s", code, err, errb.String())
	}
	s := out.String()
	if !strings.HasSuffix(s, "\n") {
		t.Errorf("output does not end with a complete line: …%q", s[max(0, len(s)-80):])
	}
	n := countMatches(t, s)
	if !strings.Contains(errb.String(), "interrupted;") {
		t.Errorf("stderr: %s", errb.String())
	}
	t.Logf("%d complete lines before the interrupt", n)
}

// A match reaches a pipe within a second even when nothing follows it, and
// SIGINT ends a run that waits for input.
func TestInterruptWhileWaiting(t *testing.T) {
	rl := write(t, "r.yml", rule("  s: {A: x}\n  condition: s\n"))
	cmd := exec.Command(sigc, "eval", "--logs", "-", rl)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdin.Write([]byte(`{"A":"x"}` + "\n" + `{"A":"no"}` + "\n"))
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		if !strings.Contains(l, `"rule_id":"h1"`) {
			t.Errorf("first line %q", l)
		}
	case <-time.After(3 * time.Second):
		t.Error("the match did not reach the pipe within 3 s")
	}
	cmd.Process.Signal(os.Interrupt)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-exited:
		if code := cmd.ProcessState.ExitCode(); code != 130 {
			t.Errorf("exit %d, want 130", code)
		}
	case <-time.After(3 * time.Second):
		cmd.Process.Kill()
		t.Error("SIGINT did not end a run waiting for input")
	}
}

func TestOutputFiles(t *testing.T) {
	rl := write(t, "r.yml", rule("  s: {A: x}\n  condition: s\n"))
	dir := t.TempDir()
	// A symlink is written through, not replaced.
	target := filepath.Join(dir, "target.txt")
	os.WriteFile(target, []byte("old"), 0o640)
	link := filepath.Join(dir, "link.txt")
	os.Symlink(target, link)
	r := run(t, bound{2 * time.Second, 100}, "", "convert", "-t", "logscale", "-o", link, rl)
	if st, err := os.Lstat(link); r.code != 0 || err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("symlink replaced or run failed: %d %v %s", r.code, err, r.stderr)
	}
	if b, _ := os.ReadFile(target); !strings.Contains(string(b), `A=/\Ax\z/i`) {
		t.Errorf("target not written: %q", b)
	}
	if st, _ := os.Stat(target); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want the old 0640 kept", st.Mode().Perm())
	}
	// A hard link keeps seeing the file.
	other := filepath.Join(dir, "hard.txt")
	os.Link(target, other)
	run(t, bound{2 * time.Second, 100}, "", "convert", "-t", "sumologic", "-o", target, rl)
	if b, _ := os.ReadFile(other); !strings.Contains(string(b), "toLowerCase(A)") {
		t.Errorf("hard link broken: %q", b)
	}
	// A new file gets 0666 less the umask (022 here: 0644).
	fresh := filepath.Join(dir, "new.txt")
	old := syscall.Umask(0o022)
	run(t, bound{2 * time.Second, 100}, "", "convert", "-t", "logscale", "-o", fresh, rl)
	syscall.Umask(old)
	if st, err := os.Stat(fresh); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("new file mode %v (%v), want 0644", st.Mode(), err)
	}
	// The output may not be one of the inputs.
	before, _ := os.ReadFile(rl)
	r = run(t, bound{2 * time.Second, 100}, "", "convert", "-t", "logscale", "-o", rl, rl)
	after, _ := os.ReadFile(rl)
	if r.code != 2 || !bytes.Equal(before, after) || !strings.Contains(r.stderr, "the output file is also an input") {
		t.Errorf("-o rule.yml rule.yml: exit %d, rule changed %v: %s", r.code, !bytes.Equal(before, after), r.stderr)
	}
	// A device is written through: /dev/null stays a device.
	if st, err := os.Stat("/dev/null"); err == nil && st.Mode()&os.ModeCharDevice != 0 {
		r = run(t, bound{2 * time.Second, 100}, "", "convert", "-t", "logscale", "-o", "/dev/null", rl)
		if st, err := os.Stat("/dev/null"); r.code != 0 || err != nil || st.Mode()&os.ModeCharDevice == 0 {
			t.Fatalf("-o /dev/null: exit %d, /dev/null is now %v", r.code, st.Mode())
		}
	}
	// A directory is refused with a message, not a rename error.
	r = run(t, bound{2 * time.Second, 100}, "", "convert", "-t", "logscale", "-o", dir+"/", rl)
	if r.code == 0 || !strings.Contains(r.stderr, "is a directory; give -o a file name") {
		t.Errorf("-o DIR/: exit %d: %s", r.code, r.stderr)
	}
}

func TestCorruptGzip(t *testing.T) {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	for i := 0; i < 10000; i++ {
		w.Write([]byte(`{"A":"x"}` + "\n"))
	}
	w.Close()
	data := b.Bytes()
	rl := write(t, "r.yml", rule("  s: {A: x}\n  condition: s\n"))
	badCRC := append([]byte(nil), data...)
	badCRC[len(badCRC)-8] ^= 0xff
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"crc.jsonl.gz":       {badCRC, "corrupt gzip data (checksum mismatch)"},
		"truncated.jsonl.gz": {data[:len(data)/2], "gzip data is truncated"},
	} {
		p := write(t, name, string(c.data))
		r := run(t, bound{3 * time.Second, 100}, "", "eval", "--logs", p, rl)
		if r.code == 0 || r.stdout != "" || !strings.Contains(r.stderr, p+": error: "+c.want) {
			t.Errorf("%s: exit %d, %d bytes of matches, stderr %s", name, r.code, len(r.stdout), r.stderr)
		}
		r = run(t, bound{3 * time.Second, 100}, string(c.data), "eval", "--logs", "-", rl)
		if r.code == 0 || r.stdout != "" || !strings.Contains(r.stderr, "<stdin>: error: "+c.want) {
			t.Errorf("%s on stdin: exit %d, %d bytes of matches, stderr %s", name, r.code, len(r.stdout), r.stderr)
		}
	}
}

// --- Queries and verdicts -------------------------------------------------

func TestBoundedValues(t *testing.T) {
	corr := rule("  s: {A: x}\n  condition: s\n") + "---\ntitle: c\nid: c1\ncorrelation:\n  type: event_count\n  rules: h1\n  timespan: 99999999w\n  condition: {gte: 1}\n"
	r := run(t, bound{2 * time.Second, 100}, "", "convert", "-t", "logscale", write(t, "c.yml", corr))
	expectError(t, r, "c.yml:13:13: error: bad timespan \"99999999w\"")
	good := strings.Replace(corr, "99999999w", "1h", 1)
	logs := write(t, "l.jsonl", `{"A":"x","@timestamp":"9999-12-31T23:59:59Z"}`+"\n"+`{"A":"x","@timestamp":1e300}`+"\n")
	r = run(t, bound{2 * time.Second, 100}, "", "eval", "--logs", logs, write(t, "g.yml", good))
	if r.code != 0 || strings.Contains(r.stdout, "window") || !strings.Contains(r.stderr, "2 matching event(s) had a timestamp before 1900 or after 2200") {
		t.Errorf("out-of-range timestamps: exit %d, out %s, err %s", r.code, r.stdout, r.stderr)
	}
}

func TestMessagesAndExitCodes(t *testing.T) {
	rl := write(t, "r.yml", rule("  s: {A: x}\n  condition: s\n"))
	logs := write(t, "l.jsonl", "{}\n")
	r := run(t, bound{2 * time.Second, 100}, "", "eval", "--format", "xml", "--logs", logs, "--logs", logs, rl)
	if r.code != 2 || strings.Count(r.stderr, "xml") != 1 {
		t.Errorf("--format xml: exit %d, stderr %s", r.code, r.stderr)
	}
	r = run(t, bound{2 * time.Second, 100}, "", "eval", "--lateness", "-5m", "--logs", logs, rl)
	if r.code != 2 || !strings.Contains(r.stderr, "negative") {
		t.Errorf("--lateness -5m: exit %d, stderr %s", r.code, r.stderr)
	}
	r = run(t, bound{2 * time.Second, 100}, "", "convert", "-t", "logscale", "-")
	if !strings.Contains(r.stderr, "<stdin>: warning: holds no rule") {
		t.Errorf("empty stdin: %s", r.stderr)
	}
	bad := write(t, "bad.yml", "title: t\nlogsource: {product: x}\ndetection:\n  s: {A: 'a\xffb'}\n  condition: s\n")
	r = run(t, bound{2 * time.Second, 100}, "", "convert", "-t", "logscale", bad)
	expectError(t, r, "bad.yml:4:12: error: file is not valid UTF-8 here")
	long := write(t, "long.yml", rule("  s:\n    A|re: '("+strings.Repeat("a", 10000)+"'\n  condition: s\n"))
	r = run(t, bound{2 * time.Second, 100}, "", "convert", "-t", "logscale", long)
	expectError(t, r, "regular expression does not compile")
	if len(r.stderr) > 1000 {
		t.Errorf("the message echoes %d bytes", len(r.stderr))
	}
	missing := write(t, "m.yml", rule("  s: {A: x}\n  condition: s\n"))
	os.Remove(missing)
	r = run(t, bound{2 * time.Second, 100}, "", "convert", "-t", "logscale", "-p", missing, rl)
	if strings.Count(r.stderr, missing) != 1 {
		t.Errorf("the path is printed %d times: %s", strings.Count(r.stderr, missing), r.stderr)
	}
	// Suggestions are the same on every run.
	typo := write(t, "t.yml", rule("  s: {A|containz: x}\n  condition: s\n"))
	first := run(t, bound{2 * time.Second, 100}, "", "convert", "-t", "logscale", typo).stderr
	for i := 0; i < 5; i++ {
		if again := run(t, bound{2 * time.Second, 100}, "", "convert", "-t", "logscale", typo).stderr; again != first {
			t.Fatalf("message changed between runs:\n%s\n%s", first, again)
		}
	}
}
