package steps

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/local"
)

// fixture is a set of "hosts" that are folders of a temporary directory, reached
// through probe/local (real files, real /bin/sh) via a probe.Pool, as a run reaches
// its hosts over SSH. Each host h has InstallDir ROOT/h and a service "svc" whose
// commands run ROOT/h/svc.sh.
type fixture struct {
	t     *testing.T
	root  string
	hosts map[string]*probe.Host
	pool  *probe.Pool
	// wrap, when set, wraps the transport of each host (byte counters, corruption).
	wrap func(host string, t probe.Transport) probe.Transport
	// order is the file service scripts append "HOST start|stop" to.
	order string
}

// svcScript is a service control script: state in ./running, every start and stop
// appended to $2 (the order file), and a file ./fail-ACTION makes that action fail.
const svcScript = `#!/bin/sh
d=$(cd "$(dirname "$0")" && pwd)
h=$(basename "$d")
case "$1" in
start | stop)
	echo "$h $1" >>"$2"
	if [ -f "$d/fail-$1" ]; then echo "cannot $1 on $h" >&2; exit 1; fi
	if [ "$1" = start ]; then touch "$d/running"; else rm -f "$d/running"; fi
	echo "$1 ok on $h"
	;;
status)
	if [ -f "$d/running" ]; then echo "svc is running on $h"; exit 0; fi
	echo "svc is stopped on $h"; exit 3
	;;
esac
`

func newFixture(t *testing.T, names ...string) *fixture {
	t.Helper()
	if len(names) == 0 {
		names = []string{"h1", "h2", "h3"}
	}
	f := &fixture{t: t, root: t.TempDir(), hosts: map[string]*probe.Host{}}
	f.order = filepath.Join(f.root, "order.log")
	for _, n := range names {
		dir := filepath.Join(f.root, n)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		script := filepath.Join(dir, "svc.sh")
		if err := os.WriteFile(script, []byte(svcScript), 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := func(verb string) string { return fmt.Sprintf("sh %s %s %s", script, verb, f.order) }
		f.hosts[n] = &probe.Host{Name: n, Address: "local", InstallDir: dir,
			Services: map[string]probe.Service{"svc": {Start: cmd("start"), Stop: cmd("stop"), Status: cmd("status")}}}
	}
	f.pool = probe.NewPool(probe.DialerFunc(func(_ context.Context, h *probe.Host) (probe.Transport, error) {
		var tr probe.Transport = &local.Transport{Dir: h.InstallDir}
		if f.wrap != nil {
			tr = f.wrap(h.Name, tr)
		}
		return tr, nil
	}))
	t.Cleanup(func() { f.pool.Close() })
	return f
}

func (f *fixture) lookup(name string) *probe.Host { return f.hosts[name] }

// path is the absolute path of rel on host.
func (f *fixture) path(host, rel string) string {
	return filepath.Join(f.hosts[host].InstallDir, filepath.FromSlash(rel))
}

// write creates a file on host (and its folders) and returns its absolute path.
func (f *fixture) write(host, rel, content string) string {
	f.t.Helper()
	p := f.path(host, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *fixture) read(host, rel string) string {
	f.t.Helper()
	b, err := os.ReadFile(f.path(host, rel))
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}

func (f *fixture) setRunning(host string, running bool) {
	f.t.Helper()
	p := f.path(host, "running")
	if running {
		f.write(host, "running", "")
	} else if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
		f.t.Fatal(err)
	}
}

func (f *fixture) chtime(host, rel string, mt time.Time) {
	f.t.Helper()
	if err := os.Chtimes(f.path(host, rel), mt, mt); err != nil {
		f.t.Fatal(err)
	}
}

// testRunbook wraps step definitions (YAML, indented by two spaces under steps:) in a
// runbook with roles a, b, c and a secret parameter.
func testRunbook(t *testing.T, stepsYAML string) *Runbook {
	t.Helper()
	src := testRunbookText(stepsYAML)
	rb, err := Parse("unit.yaml", []byte(src))
	if err != nil {
		t.Fatalf("runbook does not load: %v\n%s", err, src)
	}
	return rb
}

// testRunbookText is the source of the unit-test runbook with these steps.
func testRunbookText(stepsYAML string) string {
	return `id: test/unit
title: Unit test runbook
system: Test
source: the tests
roles:
  - {id: a, title: first host}
  - {id: b, title: second host}
  - {id: c, title: third host}
params:
  - {id: password, title: A password, type: string, secret: true, optional: true}
  - {id: word, title: A word, type: string, default: hello}
steps:
` + stepsYAML
}

var defaultRoles = map[string]string{"a": "h1", "b": "h2", "c": "h3"}

// exec returns the view step id has of a run bound to the fixture's hosts.
func (f *fixture) exec(rb *Runbook, id string, roles map[string]string, params map[string]string) *stepExec {
	f.t.Helper()
	if roles == nil {
		roles = defaultRoles
	}
	plan, err := Prepare(rb, f.lookup, Inputs{Roles: roles, Params: params}, nil)
	if err != nil {
		f.t.Fatalf("Prepare: %v", err)
	}
	s := rb.Step(id)
	if s == nil {
		f.t.Fatalf("no step %s", id)
	}
	x := plan.exec(s)
	x.runEnv.pool = f.pool
	x.runEnv.now = time.Now
	x.runEnv.runID = "RUNID"
	x.start = time.Now()
	for _, p := range rb.Params {
		if v, ok := plan.Params[p.ID]; ok && p.Secret && format(v) != "" {
			x.runEnv.secrets = append(x.runEnv.secrets, format(v))
		}
	}
	return x
}

// gate evaluates gate i of step s once.
func evalGate(t *testing.T, x *stepExec, i int) CheckResult {
	t.Helper()
	if i >= len(x.step.Gates) {
		t.Fatalf("step %s has %d gates", x.step.ID, len(x.step.Gates))
	}
	return x.step.Gates[i].Spec.eval(context.Background(), x)
}

func wantStatus(t *testing.T, r CheckResult, want Status, summaryHas ...string) {
	t.Helper()
	if r.Status != want {
		t.Errorf("status %s, want %s (summary %q, evidence %q)", r.Status, want, r.Summary, r.Evidence)
	}
	for _, s := range summaryHas {
		if !strings.Contains(r.Summary, s) {
			t.Errorf("summary %q lacks %q", r.Summary, s)
		}
	}
}

func evidenceHas(t *testing.T, r CheckResult, want string) {
	t.Helper()
	for _, e := range r.Evidence {
		if strings.Contains(e, want) {
			return
		}
	}
	t.Errorf("no evidence line contains %q; evidence:\n  %s", want, strings.Join(r.Evidence, "\n  "))
}

func TestFileChecks(t *testing.T) {
	f := newFixture(t)
	f.write("h1", "conf/app.ini", "x=1\n")
	if err := os.MkdirAll(f.path("h1", "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	rb := testRunbook(t, `  - id: s
    title: files
    gates:
      - file_exists: {role: a, path: conf/app.ini}
      - file_exists: {role: a, path: conf/app.ini, type: file}
      - file_exists: {role: a, path: conf/app.ini, type: dir}
      - file_exists: {role: a, path: data, type: dir}
      - file_exists: {role: a, path: data, type: file}
      - file_exists: {role: a, path: missing.ini}
      - file_absent: {role: a, path: missing.ini}
      - file_absent: {role: a, path: data}
      - file_exists: {role: b, path: conf/app.ini}
      - file_exists: {role: a, path: "{{ params.word }}/x"}
`)
	x := f.exec(rb, "s", nil, nil)
	tests := []struct {
		gate     int
		want     Status
		summary  string
		evidence string
	}{
		{0, Pass, "exists on h1", "h1:" + f.path("h1", "conf/app.ini") + ": file, 4 bytes"},
		{1, Pass, "exists on h1", "file, 4 bytes"},
		{2, Fail, "is not a folder", "file, 4 bytes"},
		{3, Pass, "exists on h1", "folder"},
		{4, Fail, "is a folder, not a file", "folder"},
		{5, Fail, "is missing on h1", "no such file or folder"},
		{6, Pass, "is absent on h1", "no such file or folder"},
		{7, Fail, "still exists on h1", "folder"},
		{8, Fail, "is missing on h2", "h2:" + f.path("h2", "conf/app.ini")},
		{9, Fail, f.path("h1", "hello/x"), "no such file"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint("gate", tc.gate), func(t *testing.T) {
			r := evalGate(t, x, tc.gate)
			wantStatus(t, r, tc.want, tc.summary)
			evidenceHas(t, r, tc.evidence)
			if r.Final {
				t.Errorf("a file check is never final: waiting can change a file's presence")
			}
		})
	}
}

func TestNewestFileFreshness(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	f.write("h1", "logs/backup-1.log", "Backup completed successfully\n")
	f.write("h1", "logs/backup-2.log", "Backup FAILED\n")
	f.write("h1", "logs/other.txt", "newest, but not a match\n")
	f.chtime("h1", "logs/backup-1.log", now.Add(-2*time.Hour))
	f.chtime("h1", "logs/backup-2.log", now.Add(-30*time.Minute))
	f.chtime("h1", "logs/other.txt", now)
	rb := testRunbook(t, `  - id: s
    title: newest
    gates:
      - newest_file: {role: a, path: logs/backup-*.log}
      - newest_file: {role: a, path: logs/backup-*.log, newer_than: 1h}
      - newest_file: {role: a, path: logs/backup-*.log, newer_than: 10m}
      - newest_file: {role: a, path: logs/backup-*.log, newer_than: step_start}
      - newest_file: {role: a, path: logs/none-*.log}
      - newest_file: {role: a, path: nologs/backup-*.log}
`)
	x := f.exec(rb, "s", nil, nil)
	x.start = now.Add(-time.Hour)

	r := evalGate(t, x, 0)
	wantStatus(t, r, Pass, "backup-2.log on h1")
	evidenceHas(t, r, f.path("h1", "logs/backup-2.log"))

	wantStatus(t, evalGate(t, x, 1), Pass)
	r = evalGate(t, x, 2)
	wantStatus(t, r, Fail, "backup-2.log", "older than")
	evidenceHas(t, r, "needed: modified after")

	// newer than the step's start: an hour ago passes, a start after the file fails.
	wantStatus(t, evalGate(t, x, 3), Pass)
	x.start = now.Add(-10 * time.Minute)
	wantStatus(t, evalGate(t, x, 3), Fail, "older than")
	// File times are coarse: a file written within the clock slack still counts.
	x.start = now.Add(-30*time.Minute + 500*time.Millisecond)
	wantStatus(t, evalGate(t, x, 3), Pass)

	r = evalGate(t, x, 4)
	wantStatus(t, r, Fail, "no file matching none-*.log")
	r = evalGate(t, x, 5)
	wantStatus(t, r, Fail, "does not exist on h1")
}

func TestNewestFileContains(t *testing.T) {
	f := newFixture(t)
	f.write("h1", "logs/LUI-1.LOG", "2024-01-01 INFO starting\r\n"+
		"2024-01-01 INFO Startup complete\r\n")
	f.write("h2", "logs/LUI-1.LOG", "2024-01-01 INFO starting\n"+
		"2024-01-01 ERROR Table 'maestro.x' is marked as crashed\n"+
		"2024-01-01 ERROR Database table check failed\n"+
		"2024-01-01 INFO Startup complete\n")
	f.write("h3", "logs/LUI-1.LOG", "2024-01-01 INFO starting\n")
	rb := testRunbook(t, `  - id: s
    title: contains
    gates:
      - newest_file:
          role: a
          path: logs/LUI-*.LOG
          contains: ['(?i)startup complete']
          not_contains: ['(?i)\berror\b', '(?i)table\b.*\bcrashed']
      - newest_file:
          role: b
          path: logs/LUI-*.LOG
          contains: ['(?i)startup complete']
          not_contains: ['(?i)\berror\b', '(?i)table\b.*\bcrashed']
      - newest_file:
          role: c
          path: logs/LUI-*.LOG
          contains: ['(?i)startup complete']
`)
	x := f.exec(rb, "s", nil, nil)

	r := evalGate(t, x, 0)
	wantStatus(t, r, Pass, "has the expected lines and no unwanted ones")
	evidenceHas(t, r, "line 2: 2024-01-01 INFO Startup complete")
	for _, e := range r.Evidence {
		if strings.Contains(e, "\r") {
			t.Errorf("evidence keeps a carriage return: %q", e)
		}
	}

	r = evalGate(t, x, 1)
	wantStatus(t, r, Fail, `2 lines match /(?i)\berror\b/`, `1 line matches /(?i)table\b.*\bcrashed/`)
	if !r.Final {
		t.Error("an unwanted line already written must make the failure final (no waiting)")
	}
	evidenceHas(t, r, "line 2: 2024-01-01 ERROR Table 'maestro.x' is marked as crashed")
	evidenceHas(t, r, "line 3: 2024-01-01 ERROR Database table check failed")
	n := 0
	for _, e := range r.Evidence {
		if strings.Contains(e, "marked as crashed") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the bad line matches two patterns and must be quoted once, got %d times: %q", n, r.Evidence)
	}

	r = evalGate(t, x, 2)
	wantStatus(t, r, Fail, "no line matches /(?i)startup complete/")
	if r.Final {
		t.Error("a missing line may still be written: the failure must not be final")
	}
}

// TestNewestFileMarks: a log that existed when the step started is read only from where
// it ended then, so old errors do not fail the gate and old successes do not pass it.
func TestNewestFileMarks(t *testing.T) {
	f := newFixture(t)
	old := "2024-01-01 ERROR Database table check failed\n2024-01-01 INFO Startup complete\n"
	f.write("h1", "logs/HUB-1.LOG", old)
	rb := testRunbook(t, `  - id: s
    title: marks
    gates:
      - newest_file:
          role: a
          path: logs/HUB-*.LOG
          newer_than: step_start
          contains: ['(?i)startup complete']
          not_contains: ['(?i)\berror\b']
`)
	x := f.exec(rb, "s", nil, nil)
	x.start = time.Now().Add(-5 * time.Second)
	ch := x.step.Gates[0]
	marks := map[string]Mark{}
	ch.Spec.(marker).mark(context.Background(), x, marks)
	key := "h1:" + filepath.ToSlash(f.path("h1", "logs/HUB-1.LOG"))
	if m, ok := marks[key]; !ok || m.Size != int64(len(old)) {
		t.Fatalf("marks = %v, want %s at size %d", marks, key, len(old))
	}
	x.marks = marks

	// Nothing new yet: the old "Startup complete" does not count.
	r := evalGate(t, x, 0)
	wantStatus(t, r, Fail, "no line matches")
	evidenceHas(t, r, fmt.Sprintf("read bytes %d-%d", len(old), len(old)))

	fh, err := os.OpenFile(f.path("h1", "logs/HUB-1.LOG"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	added := "2024-01-02 INFO starting again\n2024-01-02 INFO Startup complete\n"
	if _, err := fh.WriteString(added); err != nil {
		t.Fatal(err)
	}
	fh.Close()
	r = evalGate(t, x, 0)
	wantStatus(t, r, Pass)
	evidenceHas(t, r, fmt.Sprintf("read bytes %d-%d", len(old), len(old)+len(added)))
	evidenceHas(t, r, "new line 2: 2024-01-02 INFO Startup complete")

	// A log that was started afresh (smaller than the mark) is read from its start.
	f.write("h1", "logs/HUB-1.LOG", "ERROR fresh\n")
	r = evalGate(t, x, 0)
	wantStatus(t, r, Fail)
	evidenceHas(t, r, "read bytes 0-12")
	evidenceHas(t, r, "line 1: ERROR fresh")
}

// countingTransport counts the bytes read from files opened through it.
type countingTransport struct {
	probe.Transport
	read atomic.Int64
}

func (c *countingTransport) Open(ctx context.Context, p string) (probe.File, error) {
	fh, err := c.Transport.Open(ctx, p)
	if err != nil {
		return nil, err
	}
	return &countingFile{File: fh, n: &c.read}, nil
}

type countingFile struct {
	probe.File
	n *atomic.Int64
}

func (f *countingFile) Read(b []byte) (int, error) {
	n, err := f.File.Read(b)
	f.n.Add(int64(n))
	return n, err
}

func (f *countingFile) ReadAt(b []byte, off int64) (int, error) {
	n, err := f.File.ReadAt(b, off)
	f.n.Add(int64(n))
	return n, err
}

// TestNewestFileWindow: a 50 MB log costs what its last window costs.
func TestNewestFileWindow(t *testing.T) {
	f := newFixture(t)
	counter := &countingTransport{}
	f.wrap = func(_ string, tr probe.Transport) probe.Transport { counter.Transport = tr; return counter }

	const size = 50 << 20
	line := "2024-01-01 10:00:00,000 INFO  [worker] delivered a message to a recipient\n" // 75 bytes
	block := bytes.Repeat([]byte(line), (64<<10)/len(line))
	p := f.path("h1", "logs/big.log")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	written := 0
	// An error early in the file, far outside the window: it must not be seen.
	early := "2024-01-01 09:00:00,000 ERROR [main] an old error, long ago\n"
	fh.WriteString(early)
	written += len(early)
	for written < size {
		n, _ := fh.Write(block)
		written += n
	}
	tailLine := "2024-01-01 11:00:00,000 INFO  [main] Startup complete\n"
	fh.WriteString(tailLine)
	written += len(tailLine)
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}

	rb := testRunbook(t, `  - id: s
    title: big
    gates:
      - newest_file:
          role: a
          path: logs/big.log
          contains: ['Startup complete']
          not_contains: ['ERROR']
      - newest_file:
          role: a
          path: logs/big.log
          window: 64KiB
          contains: ['Startup complete']
`)
	x := f.exec(rb, "s", nil, nil)
	r := evalGate(t, x, 0)
	wantStatus(t, r, Pass)
	if got := counter.read.Load(); got > defaultWindow+int64(len(line)) {
		t.Errorf("read %d bytes of a %d-byte file; the default window is %d", got, written, defaultWindow)
	}
	// The window starts at the first whole line after size-window.
	start := int64(written) - defaultWindow
	start += int64(len(line)) - (start-int64(len(early)))%int64(len(line))
	if (start-int64(len(early)))%int64(len(line)) != 0 {
		t.Fatalf("test arithmetic: start %d is not a line boundary", start)
	}
	evidenceHas(t, r, fmt.Sprintf("%d bytes; read bytes %d-%d)", written, start, written))

	counter.read.Store(0)
	r = evalGate(t, x, 1)
	wantStatus(t, r, Pass)
	if got := counter.read.Load(); got > 64<<10 {
		t.Errorf("window 64KiB: read %d bytes", got)
	}
}

func TestINIChecks(t *testing.T) {
	f := newFixture(t)
	f.write("h1", "app/settings.ini", "# settings\r\nRegistryHubHost=Spare.Maestro.Lab\r\nHTTPPort=80\r\n[db]\r\nHost=db1\r\n")
	rb := testRunbook(t, `  - id: s
    title: ini
    gates:
      - ini: {role: a, file: app/settings.ini, key: RegistryHubHost, equals: spare.maestro.lab}
      - ini: {role: a, file: app/settings.ini, key: RegistryHubHost, equals: spare.maestro.lab, ignore_case: true}
      - ini: {role: a, file: app/settings.ini, key: registryhubhost, equals: Spare.Maestro.Lab}
      - ini: {role: a, file: app/settings.ini, key: HubExternalHostName, absent: true}
      - ini: {role: a, file: app/settings.ini, key: HTTPPort, absent: true}
      - ini: {role: a, file: app/settings.ini, key: TrackerHost, equals: x}
      - ini: {role: a, file: app/settings.ini, section: db, key: Host, equals: db1}
      - ini: {role: a, file: app/missing.ini, key: X, equals: "1"}
      - ini: {role: a, file: app/settings.ini, key: HTTPPort, equals: "{{ params.word }}"}
`)
	x := f.exec(rb, "s", nil, nil)
	tests := []struct {
		gate     int
		want     Status
		summary  string
		evidence string
	}{
		{0, Fail, `RegistryHubHost is "Spare.Maestro.Lab"`, "RegistryHubHost=Spare.Maestro.Lab"},
		{1, Pass, "RegistryHubHost=Spare.Maestro.Lab", "RegistryHubHost=Spare.Maestro.Lab"},
		{2, Pass, "registryhubhost=Spare.Maestro.Lab", ""},
		{3, Pass, "is not set", "HubExternalHostName is not set"},
		{4, Fail, "is still set", "HTTPPort=80"},
		{5, Fail, `TrackerHost is not set`, "TrackerHost is not set"},
		{6, Pass, "[db] Host=db1", "[db] Host=db1"},
		{7, Fail, "does not exist on h1", "no such file"},
		{8, Fail, `want "hello"`, "HTTPPort=80"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint("gate", tc.gate), func(t *testing.T) {
			r := evalGate(t, x, tc.gate)
			wantStatus(t, r, tc.want, tc.summary)
			if tc.evidence != "" {
				evidenceHas(t, r, tc.evidence)
			}
			for _, e := range r.Evidence {
				if strings.Contains(e, "\r") {
					t.Errorf("evidence keeps a carriage return: %q", e)
				}
			}
		})
	}
}

// TestINIChecksReadMaestroFilesAsJavaDoes: lui.ini is read as Java properties unless the
// check says otherwise: escapes are decoded, ":" separates, keys compare exactly.
func TestINIChecksReadMaestroFilesAsJavaDoes(t *testing.T) {
	f := newFixture(t)
	f.write("h1", "lui/lui.ini", "RestoreBackup=C:\\\\temp\\\\restore\r\nTrackerHost : trk.example\r\n")
	rb := testRunbook(t, `  - id: s
    title: ini
    gates:
      - ini: {role: a, file: lui/lui.ini, key: RestoreBackup, equals: 'C:\temp\restore'}
      - ini: {role: a, file: lui/lui.ini, key: TrackerHost, equals: trk.example}
      - ini: {role: a, file: lui/lui.ini, key: trackerhost, absent: true}
      - ini: {role: a, file: lui/lui.ini, key: RestoreBackup, equals: 'C:\\temp\\restore', format: ini}
`)
	x := f.exec(rb, "s", nil, nil)
	for i := range 4 {
		wantStatus(t, evalGate(t, x, i), Pass)
	}
	_, err := Parse("x.yaml", []byte(testRunbookText(`  - id: s
    title: ini
    gates:
      - ini: {role: a, file: lui/lui.ini, key: K, absent: true, format: toml}
`)))
	if err == nil || !strings.Contains(err.Error(), "ini or properties") {
		t.Errorf("an unknown format: %v", err)
	}
}

func TestCommandChecks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rb := testRunbook(t, `  - id: s
    title: commands
    gates:
      - command: {role: a, run: "echo version 23.2; exit 0"}
      - command: {role: a, run: "echo broken; exit 2"}
      - command: {role: a, run: "exit 3", exit: 3}
      - command: {role: a, run: "echo version 23.2", output_contains: ['version 2[0-9]'], output_not_contains: [beta]}
      - command: {role: a, run: "echo version 23.2-beta", output_not_contains: [beta]}
      - command: {role: a, run: "echo nothing", output_contains: [something]}
      - command: {role: a, run: "pwd"}
      - command: {role: a, run: "sleep 5", timeout: 100ms}
`)
	x := f.exec(rb, "s", nil, nil)
	tests := []struct {
		gate     int
		want     Status
		summary  string
		evidence string
	}{
		{0, Pass, "echo on h1 exited 0", "h1$ echo version 23.2; exit 0  (exit 0)"},
		{1, Fail, "exit code 2, want 0", "broken"},
		{2, Pass, "exited 3", "(exit 3)"},
		{3, Pass, "", "version 23.2"},
		{4, Fail, "output has /beta/", "version 23.2-beta"},
		{5, Fail, "output lacks /something/", "nothing"},
		{6, Pass, "", f.hosts["h1"].InstallDir},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint("gate", tc.gate), func(t *testing.T) {
			r := evalGate(t, x, tc.gate)
			wantStatus(t, r, tc.want, tc.summary)
			evidenceHas(t, r, tc.evidence)
		})
	}
	t.Run("timeout", func(t *testing.T) {
		t0 := time.Now()
		r := evalGate(t, x, 7)
		if r.OK() {
			t.Errorf("a command that outlives its timeout passed: %+v", r)
		}
		if d := time.Since(t0); d > 3*time.Second {
			t.Errorf("the timeout of 100ms took %s", d)
		}
	})
}

func TestServiceChecks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.setRunning("h1", true)
	f.setRunning("h2", false)
	delete(f.hosts["h3"].Services, "svc")
	rb := testRunbook(t, `  - id: s
    title: services
    gates:
      - service: {roles: a, name: svc, state: running}
      - service: {roles: [a, b], name: svc, state: running}
      - service: {roles: [b], name: svc, state: stopped}
      - service: {roles: [a, b], name: svc, state: stopped}
      - service: {roles: [a, c], name: svc, state: running}
`)
	x := f.exec(rb, "s", nil, nil)
	r := evalGate(t, x, 0)
	wantStatus(t, r, Pass, "svc is running on h1")
	evidenceHas(t, r, "(exit 0: running) svc is running on h1")

	r = evalGate(t, x, 1)
	wantStatus(t, r, Fail, "svc is not running on h2")
	evidenceHas(t, r, "(exit 3: stopped) svc is stopped on h2")
	if len(r.Hosts) != 2 {
		t.Errorf("hosts %v, want both", r.Hosts)
	}

	wantStatus(t, evalGate(t, x, 2), Pass, "stopped on h2")
	wantStatus(t, evalGate(t, x, 3), Fail, "not stopped on h1")

	r = evalGate(t, x, 4)
	wantStatus(t, r, Error)
	evidenceHas(t, r, "h3: the inventory gives no svc service commands")

	// Two roles on one host: the host is asked once.
	x = f.exec(rb, "s", map[string]string{"a": "h1", "b": "h1", "c": "h3"}, nil)
	r = evalGate(t, x, 1)
	wantStatus(t, r, Pass)
	if len(r.Hosts) != 1 || len(r.Evidence) != 1 {
		t.Errorf("two roles on h1: hosts %v, evidence %q; want h1 once", r.Hosts, r.Evidence)
	}
}

func TestTCPChecks(t *testing.T) {
	f := newFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	// A port that was just free: nothing listens there.
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln2.Addr().(*net.TCPAddr).Port
	ln2.Close()
	openPort := ln.Addr().(*net.TCPAddr).Port

	rb := testRunbook(t, fmt.Sprintf(`  - id: s
    title: tcp
    gates:
      - tcp: {from: a, host: 127.0.0.1, port: "%d"}
      - tcp: {from: a, host: 127.0.0.1, port: "%d", expect: closed}
      - tcp: {from: a, host: 127.0.0.1, port: "%d"}
      - tcp: {from: a, host: 127.0.0.1, port: "%d", expect: closed}
      - tcp: {from: a, host: 127.0.0.1, port: "99999"}
`, openPort, closedPort, closedPort, openPort))
	x := f.exec(rb, "s", nil, nil)
	addrOpen := fmt.Sprintf("127.0.0.1:%d", openPort)
	addrClosed := fmt.Sprintf("127.0.0.1:%d", closedPort)

	r := evalGate(t, x, 0)
	wantStatus(t, r, Pass, "h1 reaches "+addrOpen)
	evidenceHas(t, r, "h1 -> "+addrOpen+": connected")
	wantStatus(t, evalGate(t, x, 1), Pass, "cannot reach "+addrClosed)
	r = evalGate(t, x, 2)
	wantStatus(t, r, Fail, "cannot reach "+addrClosed)
	evidenceHas(t, r, "refused")
	wantStatus(t, evalGate(t, x, 3), Fail, "reaches "+addrOpen)
	wantStatus(t, evalGate(t, x, 4), Error, "not a number from 1 to 65535")
}

// memRecorder keeps events in memory, as JSON round trips, like the journal would.
type memRecorder struct {
	mu     sync.Mutex
	events []*Event
}

func (m *memRecorder) Record(ev *Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, ev)
	return nil
}

// progressFunc is an Observer that only watches progress.
type progressFunc func(Progress)

func (progressFunc) Event(*Event)          {}
func (p progressFunc) Progress(x Progress) { p(x) }

// startRun plans rb on the fixture and starts an engine.
func (f *fixture) startRun(rb *Runbook, obs Observer) (*Engine, *memRecorder) {
	f.t.Helper()
	plan, err := Prepare(rb, f.lookup, Inputs{Roles: defaultRoles}, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	rec := &memRecorder{}
	e, err := Start(plan, rec, Options{Pool: f.pool, Observer: obs, Operator: "tester"})
	if err != nil {
		f.t.Fatal(err)
	}
	return e, rec
}

// advanceUntilPrompt advances until the run ends or asks something.
func advanceUntilPrompt(t *testing.T, e *Engine) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if e.Finished() || e.Prompt() != nil {
			return
		}
		if err := e.Advance(context.Background()); err != nil {
			t.Fatalf("Advance: %v", err)
		}
	}
	t.Fatal("the run does not end")
}

// TestWaitingGate: a waiting gate polls until it passes; a final failure stops it at
// once, long before its timeout.
func TestWaitingGate(t *testing.T) {
	f := newFixture(t)
	rb := testRunbook(t, `  - id: s
    title: wait for a file
    gates:
      - name: the file appears
        file_exists: {role: a, path: appears.txt}
        wait: {timeout: 30s, every: 20ms}
  - id: t
    title: a log that already has an error
    gates:
      - newest_file: {role: a, path: logs/*.LOG, not_contains: [ERROR], contains: [done]}
        wait: {timeout: 1m, every: 20ms}
`)
	f.write("h1", "logs/A.LOG", "ERROR it broke\n")
	var attempts []int
	obs := progressFunc(func(p Progress) {
		if p.Last == nil || p.Step != "s" {
			return
		}
		attempts = append(attempts, p.Attempt)
		if p.Attempt == 2 {
			// The operator (or the host) acts while the gate waits.
			f.write("h1", "appears.txt", "here\n")
		}
		if p.Remaining <= 0 || p.Remaining > 30*time.Second {
			t.Errorf("progress says %s remain of a 30s wait", p.Remaining)
		}
	})
	e, _ := f.startRun(rb, obs)
	t0 := time.Now()
	advanceUntilPrompt(t, e)
	st := e.State().Step("s")
	r := st.Gates[0]
	if r == nil || r.Status != Pass || r.Attempts != 3 {
		t.Fatalf("gate after the file appeared: %+v; want pass on attempt 3", r)
	}
	if time.Duration(r.Waited) < 40*time.Millisecond {
		t.Errorf("waited %s, want at least two intervals of 20ms", time.Duration(r.Waited))
	}
	if fmt.Sprint(attempts) != "[1 2]" {
		t.Errorf("progress reported attempts %v, want [1 2]", attempts)
	}
	if st.Status != StepDone {
		t.Errorf("step s is %s", st.Status)
	}
	p := e.Prompt()
	if p == nil || p.Step != "t" || p.Kind != AskCheckFailed {
		t.Fatalf("prompt %+v, want the failed gate of t", p)
	}
	rt := e.State().Step("t").Gates[0]
	if rt.Attempts != 1 {
		t.Errorf("a final failure was polled %d times", rt.Attempts)
	}
	if d := time.Since(t0); d > 10*time.Second {
		t.Errorf("the run took %s: the final failure waited", d)
	}
}

// TestWaitingGateTimesOut: a gate that never passes gives up after its timeout and says
// how long it tried.
func TestWaitingGateTimesOut(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rb := testRunbook(t, `  - id: s
    title: wait in vain
    gates:
      - file_exists: {role: a, path: never.txt}
        wait: {timeout: 150ms, every: 40ms}
`)
	e, _ := f.startRun(rb, nil)
	advanceUntilPrompt(t, e)
	r := e.State().Step("s").Gates[0]
	if r.Status != Fail || r.Attempts < 2 || !strings.Contains(r.Summary, "still failing after") {
		t.Errorf("gate %+v: want a failure after several attempts that says it waited", r)
	}
}

// TestCheckInterrupted: cancelling while a gate waits records nothing; the gate runs
// again when the run goes on.
func TestCheckInterrupted(t *testing.T) {
	f := newFixture(t)
	rb := testRunbook(t, `  - id: s
    title: wait
    gates:
      - file_exists: {role: a, path: later.txt}
        wait: {timeout: 1m, every: 20ms}
`)
	ctx, cancel := context.WithCancel(context.Background())
	obs := progressFunc(func(p Progress) {
		if p.Last != nil {
			cancel()
		}
	})
	e, rec := f.startRun(rb, obs)
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		err = e.Advance(ctx)
	}
	if err != context.Canceled {
		t.Fatalf("Advance = %v, want context.Canceled", err)
	}
	for _, ev := range rec.events {
		if ev.Type == EvCheck {
			t.Errorf("an interrupted check was recorded: %+v", ev.Check)
		}
	}
	f.write("h1", "later.txt", "")
	advanceUntilPrompt(t, e)
	if !e.Finished() || e.State().Outcome != RunDone {
		t.Errorf("run did not finish after the interruption: %+v", e.State())
	}
}

// cancelOnReadDir cancels the run while a step start notes its log marks, as a Ctrl-C
// at that moment would.
type cancelOnReadDir struct {
	probe.Transport
	cancel func()
}

func (c cancelOnReadDir) ReadDir(ctx context.Context, p string) ([]fs.FileInfo, error) {
	c.cancel()
	return nil, ctx.Err()
}

// TestStepStartInterruptedWhileMarking: a step start whose log marks could not be taken
// because of an interrupt is not recorded (it would make the gate read old lines).
func TestStepStartInterruptedWhileMarking(t *testing.T) {
	f := newFixture(t)
	f.write("h1", "logs/A.LOG", "old: Startup complete\n")
	rb := testRunbook(t, `  - id: s
    title: start and read the log
    gates:
      - newest_file: {role: a, path: logs/*.LOG, newer_than: step_start, contains: ['Startup complete']}
`)
	ctx, cancel := context.WithCancel(context.Background())
	f.wrap = func(_ string, tr probe.Transport) probe.Transport { return cancelOnReadDir{tr, cancel} }
	e, rec := f.startRun(rb, nil)
	if err := e.Advance(ctx); err != context.Canceled {
		t.Fatalf("Advance = %v, want context.Canceled", err)
	}
	for _, ev := range rec.events {
		if ev.Type == EvStepStart {
			t.Fatalf("a step start without its marks was recorded: %+v", ev)
		}
	}
	// Going on (the connection now works): the marks are taken and the old line does
	// not pass the gate.
	f.pool.Drop("h1")
	f.wrap = nil
	if err := e.Advance(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := e.State().Step("s")
	if len(st.Marks) != 1 {
		t.Fatalf("marks %v", st.Marks)
	}
	advanceUntilPrompt(t, e)
	if r := st.Gates[0]; r == nil || r.Status != Fail {
		t.Errorf("the gate passed on a line written before the step: %+v", r)
	}
}
