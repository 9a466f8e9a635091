package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/probe/lab/labtest"
	"github.com/cutover/cutover/runbooks"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
)

// result is what one cutover command did.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) out() string { return r.stdout + r.stderr }

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout:\n%s--- stderr:\n%s", r.code, r.stdout, r.stderr)
}

// cutover runs the command line in process, exactly as main does.
func cutover(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := realMain(args, strings.NewReader(""), &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func wantCode(t *testing.T, r result, code int, has ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("want exit %d, got %s", code, r)
	}
	for _, s := range has {
		if !strings.Contains(r.out(), s) {
			t.Errorf("output lacks %q:\n%s", s, r)
		}
	}
}

// testLab is a practice lab served in process for one test.
type testLab struct {
	*lab.Lab
	stop func()
}

// startScenario serves a lab of the named scenario for one test.
func startScenario(t *testing.T, scenario string, faults ...string) *testLab {
	t.Helper()
	sc, err := runbooks.Scenario(scenario, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	l, stop := labtest.ServeStoppable(t, sc, lab.Options{Faults: faults})
	return &testLab{Lab: l, stop: stop}
}

// startLab serves the maestro scenario for one test.
func startLab(t *testing.T, faults ...string) *testLab {
	t.Helper()
	return startScenario(t, "maestro", faults...)
}

func (l *testLab) runFile() string { return filepath.Join(l.Dir(), "runs", "maestro-move-hub.yaml") }

func (l *testLab) file(host, rel string) string {
	return filepath.Join(l.HostRoot(host), "opt", "maestro", filepath.FromSlash(rel))
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// roleArgs bind move-hub's roles as the lab's run file does.
var roleArgs = []string{"--role", "old=hub", "--role", "new=spare", "--role", "lui=lui", "--role", "trk=trk", "--set", "database=internal"}

// probeFacts is the part of `cutover probe --json` the tests read.
type probeFacts struct {
	Name       string                       `json:"name"`
	Reachable  bool                         `json:"reachable"`
	Components []string                     `json:"components"`
	Settings   map[string]map[string]string `json:"settings"`
	Services   map[string]string            `json:"services"`
}

func probeJSON(t *testing.T, inv string, hosts ...string) map[string]probeFacts {
	t.Helper()
	r := cutover(t, append([]string{"probe", "-i", inv, "--json"}, hosts...)...)
	wantCode(t, r, 0)
	var list []probeFacts
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("probe --json is not a JSON array of facts: %v\n%s", err, r.stdout)
	}
	out := map[string]probeFacts{}
	for _, f := range list {
		out[f.Name] = f
	}
	return out
}

func onlyJournal(t *testing.T, dir string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if len(m) != 1 {
		t.Fatalf("journals in %s: %v, want exactly one", dir, m)
	}
	return m[0]
}

// TestRunMoveHub: the lab's run file moves the Hub from hub to spare.
func TestRunMoveHub(t *testing.T) {
	t.Parallel()
	l := startLab(t)
	origHub := readFile(t, l.file("hub", "hub/hub.ini"))
	origLUI := readFile(t, l.file("lui", "lui/lui.ini"))
	origTRK := readFile(t, l.file("trk", "trk/tracker.ini"))
	origReg := treeOf(t, l.file("hub", "hub/accountreg"))
	jdir := t.TempDir()

	r := cutover(t, "run", "--from", l.runFile(), "--headless", "--journal-dir", jdir)
	wantCode(t, r, 0, "run                            done: every step is done")
	path := onlyJournal(t, jdir)
	if !strings.Contains(r.stdout, path) {
		t.Errorf("the output does not say where the journal is (%s)", path)
	}

	movedHub(t, l)

	// The files themselves.
	if got := readFile(t, l.file("spare", "hub/hub.ini")); got != origHub {
		t.Errorf("hub.ini on spare is not the old one, byte for byte:\n%q\nwant\n%q", got, origHub)
	}
	if got := treeOf(t, l.file("spare", "hub/accountreg")); got != origReg {
		t.Errorf("the account registry on spare differs from the old one")
	}
	if _, err := os.Stat(l.file("hub", "hub")); !os.IsNotExist(err) {
		t.Errorf("the Hub is still installed on hub: %v", err)
	}
	checkEdited(t, l.file("lui", "lui/lui.ini"), origLUI, "\r\n")
	checkEdited(t, l.file("trk", "trk/tracker.ini"), origTRK, "\n")

	// The journal exports as a filled checklist and verifies.
	r = cutover(t, "export", path)
	wantCode(t, r, 0, "- [x] **3. Shut down LISTSERV Maestro on every server**", "Outcome: **done**")
	if strings.Contains(r.stdout, "- [ ] ") {
		t.Errorf("a finished run exports unticked items:\n%s", r.stdout)
	}
	wantCode(t, cutover(t, "verify", path), 0, "hash chain intact")
	endStateHolds(t, path)
}

// checkEdited demands that file differs from orig only in its RegistryHubHost line, keeps
// its line endings, and that the original is kept beside it.
func checkEdited(t *testing.T, file, orig, eol string) {
	t.Helper()
	got := readFile(t, file)
	backups, _ := filepath.Glob(file + ".cutover-*")
	if len(backups) != 1 {
		t.Fatalf("backups of %s: %v, want one", file, backups)
	}
	if b := readFile(t, backups[0]); b != orig {
		t.Errorf("%s is not the original:\n%q\nwant\n%q", backups[0], b, orig)
	}
	if eol == "\r\n" && strings.Count(got, "\n") != strings.Count(got, "\r\n") {
		t.Errorf("%s lost its CRLF line endings: %q", file, got)
	}
	ol, nl := strings.Split(orig, eol), strings.Split(got, eol)
	if len(ol) != len(nl) {
		t.Fatalf("%s has %d lines, the original %d:\n%q", file, len(nl), len(ol), got)
	}
	changed := 0
	for i := range ol {
		if ol[i] == nl[i] {
			continue
		}
		changed++
		if ol[i] != "RegistryHubHost=hub.maestro.lab" || nl[i] != "RegistryHubHost=spare.maestro.lab" {
			t.Errorf("%s line %d: %q -> %q, only RegistryHubHost may change", file, i+1, ol[i], nl[i])
		}
	}
	if changed != 1 {
		t.Errorf("%s: %d lines changed, want 1", file, changed)
	}
}

// treeOf lists the files below dir with their content, for comparisons.
func treeOf(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			fmt.Fprintf(&b, "%s/\n", rel)
			return nil
		}
		data, err := os.ReadFile(p)
		fmt.Fprintf(&b, "%s %d %x\n", rel, len(data), data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestRunStartupDBError: the startup log reports crashed tables; the run stops
// at start-maestro with the log's lines as evidence.
func TestRunStartupDBError(t *testing.T) {
	t.Parallel()
	l := startLab(t, "startup-db-error")
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	r := cutover(t, "run", "--from", l.runFile(), "--headless", "--journal", jpath)
	const crashed = "Table 'maestro.lui_recipient_data' is marked as crashed"
	wantCode(t, r, 1, "start-maestro", "The new Hub started cleanly", "The User Interface started cleanly", crashed,
		"stopped at step start-maestro", "a check failed")
	// The evidence is quoted under the failed gate, not just somewhere.
	if !regexp.MustCompile(`(?m)^\s+\| new line \d+: .*ERROR \[main\] ` + regexp.QuoteMeta(crashed)).MatchString(r.stdout) {
		t.Errorf("the ERROR line is not quoted as evidence:\n%s", r.stdout)
	}

	j, err := journal.Read(jpath)
	if err != nil {
		t.Fatal(err)
	}
	var last *steps.CheckResult
	for _, ev := range j.Events {
		if ev.Type == steps.EvCheck && ev.Step == "start-maestro" {
			last = ev.Check
		}
	}
	if last == nil || last.Status != steps.Fail {
		t.Fatalf("last check of start-maestro: %+v, want a failure", last)
	}
	found := false
	for _, e := range last.Evidence {
		found = found || strings.Contains(e, crashed)
	}
	if !found {
		t.Errorf("the journaled failure lacks the log line as evidence: %q", last.Evidence)
	}
	if st := steps.NewRunState(j.Events); st.Ended || st.Step("start-maestro").Status != steps.StepRunning {
		t.Errorf("the run should wait at start-maestro for the operator")
	}
}

// TestRunSecondForm: runbook, inventory, roles and parameters on the command
// line, answers from the run file.
func TestRunSecondForm(t *testing.T) {
	t.Parallel()
	l := startLab(t)
	args := append([]string{"run", "maestro/move-hub", "-i", l.Inventory()}, roleArgs...)
	jdir := t.TempDir()
	args = append(args, "--answers", l.runFile(), "--headless", "--json", "--journal-dir", jdir)
	r := cutover(t, args...)
	wantCode(t, r, 0)
	// --json: one event per line, the same events as the journal, between the stream's
	// first and terminal records (stream_test.go), with progress records among them.
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if !strings.Contains(l, `"type":"stream`) && !strings.Contains(l, `"type":"progress"`) {
			lines = append(lines, l)
		}
	}
	j, err := journal.Read(onlyJournal(t, jdir))
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != len(j.Events) {
		t.Errorf("--json printed %d lines for %d journaled events", len(lines), len(j.Events))
	}
	for i, line := range lines {
		var ev steps.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.Seq != i+1 {
			t.Fatalf("line %d is not event %d: %v\n%s", i+1, i+1, err, line)
		}
	}
	if st := steps.NewRunState(j.Events); st.Outcome != steps.RunDone {
		t.Errorf("outcome %q", st.Outcome)
	}
	if got := probeJSON(t, l.Inventory())["spare"].Components; !slices.Equal(got, []string{"hub"}) {
		t.Errorf("spare has %v after the run", got)
	}
}

// writeInventory writes a variant of the lab's inventory beside it (so its relative key
// and known_hosts paths still resolve) and returns its path.
func writeInventory(t *testing.T, l *testLab, name string, edit func(string) string) string {
	t.Helper()
	src := readFile(t, l.Inventory())
	out := edit(src)
	if out == src {
		t.Fatalf("the edit of %s changed nothing", name)
	}
	p := filepath.Join(l.Dir(), name)
	if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestExitCodes: each way a run can end gives its documented exit code.
func TestExitCodes(t *testing.T) {
	t.Parallel()
	l := startLab(t)
	inv := l.Inventory()
	run := func(extra ...string) []string {
		return append(append([]string{"run", "maestro/move-hub", "-i"}, extra...), append(slices.Clone(roleArgs), "--headless", "--journal-dir", t.TempDir())...)
	}
	badYAML := filepath.Join(t.TempDir(), "broken.yaml")
	os.WriteFile(badYAML, []byte("hosts:\n  hub:\n    address: 127.0.0.1\n    port: [22\n"), 0o644)
	badType := filepath.Join(t.TempDir(), "badtype.yaml")
	os.WriteFile(badType, []byte("hosts:\n  hub:\n    address: 127.0.0.1\n    port: twenty-two\n"), 0o644)
	down := writeInventory(t, l, "inventory-down.yaml", func(s string) string {
		return strings.Replace(s, fmt.Sprintf("port: %d\n", l.Port("spare")), fmt.Sprintf("port: %d\n", closedPort(t)), 1)
	})
	os.WriteFile(filepath.Join(l.Dir(), "empty_known_hosts"), nil, 0o644)
	unknownKey := writeInventory(t, l, "inventory-unknown-key.yaml", func(s string) string {
		return strings.Replace(s, "known_hosts: known_hosts\n", "known_hosts: empty_known_hosts\n", 1)
	})

	tests := []struct {
		name string
		args []string
		code int
		has  []string
		re   string
	}{
		{"no command", []string{"frobnicate"}, 2, []string{`unknown command "frobnicate"`}, ""},
		{"bad flag", []string{"run", "--no-such-flag"}, 2, []string{"unknown flag: --no-such-flag"}, ""},
		{"bad pair", []string{"run", "maestro/move-hub", "--role", "old"}, 2, []string{`expected KEY=VALUE, got "old"`}, ""},
		{"help", []string{"run", "-h"}, 0, []string{"Usage:\n  cutover run RUNBOOK", "Examples:"}, ""},
		{"two runbooks", []string{"run", "a/b", "c/d"}, 2, []string{"give one runbook, not 2"}, ""},
		{"no runbook", []string{"run", "--headless"}, 2, []string{"which runbook?"}, ""},
		{"unknown runbook", []string{"run", "nope/nothing", "-i", inv, "--headless"}, 2, []string{`no runbook "nope/nothing"`, "maestro/move-hub"}, ""},
		{"unknown role", append(run(inv), "--role", "bogus=hub"), 2, []string{`unknown role "bogus"`}, ""},
		{"unknown host", append(run(inv), "--role", "new=nosuchhost"), 2, []string{`role new: host "nosuchhost" is not in the inventory`}, ""},
		{"unknown parameter", append(run(inv), "--set", "colour=blue"), 2, []string{`unknown parameter "colour"`}, ""},
		{"bad parameter", append(run(inv), "--set", "database=oracle"), 2, []string{"parameter database: expected one of internal, external"}, ""},
		{"bad host parameter", append(run(inv), "--set", "hub_host=spare:8080"), 2, []string{"carries a port"}, ""},
		{"not headless", []string{"run", "--from", l.runFile()}, 2, []string{"use --headless"}, ""},
		{"wizard would drop flags", []string{"run", "maestro/move-hub", "-i", inv, "--role", "old=hub", "--break-lock", "gone since noon"}, 2, []string{"--break-lock, --role only apply with --headless"}, ""},
		{"inventory syntax", run(badYAML), 2, nil, regexp.QuoteMeta(badYAML) + `:\d+:\d+`},
		{"inventory type", run(badType), 2, []string{"expected a whole number"}, regexp.QuoteMeta(badType) + `:4:\d+`},
		{"missing inventory", run(filepath.Join(t.TempDir(), "none.yaml")), 2, []string{"none.yaml"}, ""},
		{"host down", run(down), 4, []string{"spare", "unreachable"}, ""},
		{"unknown host key", run(unknownKey), 4, []string{"is unknown", "empty_known_hosts"}, ""},
		{"probe down", []string{"probe", "-i", down}, 4, []string{"spare"}, ""},
		{"requirements", append(run(inv), "--role", "old=spare", "--role", "new=hub"), 1,
			[]string{"do not meet the runbook's requirements", "the Administration Hub must be installed here"}, ""},
		{"export nothing", []string{"export"}, 2, []string{"give one runbook id or journal file"}, ""},
		{"probe unknown host", []string{"probe", "-i", inv, "nosuch"}, 2, []string{`host "nosuch" is not in`}, ""},
		{"probe one host", []string{"probe", "-i", inv, "spare"}, 0, []string{"spare", "spare.maestro.lab"}, ""},
		{"lab without dir", []string{"lab"}, 2, []string{"give --dir DIR"}, ""},
		{"lab faults", []string{"lab", "--faults"}, 0, []string{"startup-db-error", "backup-fails", "installer-autostarts"}, ""},
		{"lab scenario", []string{"lab", "--scenario", "nope", "--dir", t.TempDir()}, 2, []string{`no lab scenario "nope"`}, ""},
		{"lab fault", []string{"lab", "--fault", "meteor", "--dir", t.TempDir()}, 2, []string{`no fault "meteor"`}, ""},
		{"verify missing", []string{"verify", filepath.Join(t.TempDir(), "x.jsonl")}, 2, []string{"x.jsonl"}, ""},
		{"resume missing", []string{"resume", filepath.Join(t.TempDir(), "x.jsonl"), "--headless"}, 2, []string{"x.jsonl"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := cutover(t, tc.args...)
			wantCode(t, r, tc.code, tc.has...)
			if tc.re != "" && !regexp.MustCompile(tc.re).MatchString(r.out()) {
				t.Errorf("output does not match %s:\n%s", tc.re, r)
			}
		})
	}
	// None of the refused runs touched a host: Maestro still runs on hub.
	if got := probeJSON(t, inv)["hub"]; got.Services["maestro"] != "running" || !slices.Equal(got.Components, []string{"hub"}) {
		t.Errorf("a refused run changed hub: %+v", got)
	}
}

// TestExitChangedHostKey: a host that presents another key than known_hosts has is
// refused with the warning, exit 4.
func TestExitChangedHostKey(t *testing.T) {
	t.Parallel()
	l := startLab(t)
	if err := l.RotateKey("trk"); err != nil {
		t.Fatal(err)
	}
	r := cutover(t, "run", "--from", l.runFile(), "--headless", "--journal-dir", t.TempDir())
	wantCode(t, r, 4, "HOST KEY CHANGED", "trk")
	if strings.Contains(r.stdout, "session") {
		t.Errorf("a run started although a host key changed:\n%s", r)
	}
	wantCode(t, cutover(t, "probe", "-i", l.Inventory()), 4, "HOST KEY CHANGED")
}

// TestExitHostDownAfterStop: the whole lab is gone.
func TestExitLabStopped(t *testing.T) {
	t.Parallel()
	l := startLab(t)
	l.stop()
	r := cutover(t, "run", "--from", l.runFile(), "--headless", "--journal-dir", t.TempDir())
	wantCode(t, r, 4, "unreachable")
	for _, h := range []string{"lui", "hub", "trk", "spare"} {
		if !strings.Contains(r.stderr, "cutover: "+h+": ") {
			t.Errorf("host %s is not named:\n%s", h, r)
		}
	}
}

// TestExitNeedsOperator: a manual step without an answer stops the run with exit 1.
func TestExitNeedsOperator(t *testing.T) {
	t.Parallel()
	l := startLab(t)
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	args := append([]string{"run", "maestro/move-hub", "-i", l.Inventory()}, roleArgs...)
	r := cutover(t, append(args, "--headless", "--journal", jpath)...)
	wantCode(t, r, 1, "stopped at step install-fresh", "needs an operator", "cutover resume "+jpath)
	// Resuming with the answers finishes the run.
	r = cutover(t, "resume", jpath, "--answers", l.runFile(), "--headless")
	wantCode(t, r, 0, "done: every step is done")
	wantCode(t, cutover(t, "resume", jpath, "--headless"), 2, "has already ended")
}

// syncBuffer is a Buffer safe to write from one goroutine and read from another.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// signalOn is the standard output of a run that interrupts the program (a real
// SIGINT, as Ctrl-C sends) when a line matches, and waits until the program says it
// is stopping.
type signalOn struct {
	syncBuffer
	match   *regexp.Regexp
	stderr  *syncBuffer
	fired   bool
	timeout time.Duration
	err     error
}

func (s *signalOn) Write(p []byte) (int, error) {
	n, err := s.syncBuffer.Write(p)
	if !s.fired && s.match.Match(p) {
		s.fired = true
		if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
			s.err = err
			return n, err
		}
		deadline := time.Now().Add(s.timeout)
		for !strings.Contains(s.stderr.String(), "cutover: interrupted") {
			if time.Now().After(deadline) {
				s.err = fmt.Errorf("the program did not notice the interrupt within %s", s.timeout)
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return n, err
}

// TestInterruptAndResume sends the process a real SIGINT in the middle of a run: the
// run stops at the next safe point with exit 3 and resumes to the end. Not parallel:
// the signal goes to the whole test process.
func TestInterruptAndResume(t *testing.T) {
	// Whatever happens, the test process itself must not die of the signal.
	guard := make(chan os.Signal, 8)
	signal.Notify(guard, os.Interrupt)
	defer signal.Stop(guard)

	l := startLab(t)
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	stderr := &syncBuffer{}
	stdout := &signalOn{match: regexp.MustCompile(`step\s+transfer-hub-data\s+started`), stderr: stderr, timeout: 10 * time.Second}
	code := realMain([]string{"run", "--from", l.runFile(), "--headless", "--journal", jpath}, strings.NewReader(""), stdout, stderr)
	if stdout.err != nil {
		t.Fatal(stdout.err)
	}
	r := result{code, stdout.String(), stderr.String()}
	wantCode(t, r, 3, "interrupted; nothing is lost", "cutover resume "+jpath)
	st := stateOf(t, jpath)
	if st.Ended || st.Step("transfer-hub-data").Status != steps.StepRunning || st.Step("transfer-hub-data").ActionDone {
		t.Fatalf("the interrupted run should stand at transfer-hub-data, started, nothing copied")
	}
	if _, err := os.Stat(l.file("spare", "hub/accountreg/registry.properties")); err != nil {
		t.Fatalf("the fresh installation should be in place: %v", err)
	}

	r = cutover(t, "resume", jpath, "--answers", l.runFile(), "--headless")
	wantCode(t, r, 0, "resume", "done: every step is done")
	if strings.Contains(r.stdout, "install-fresh        started") {
		t.Errorf("resume redid a finished step:\n%s", r.stdout)
	}
	st = stateOf(t, jpath)
	if st.Resumes != 1 || st.Outcome != steps.RunDone {
		t.Errorf("resumes %d outcome %s", st.Resumes, st.Outcome)
	}
}

func stateOf(t *testing.T, path string) *steps.RunState {
	t.Helper()
	j, err := journal.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return steps.NewRunState(j.Events)
}

// TestResumeDecideAccept: the program died after starting Maestro and before it could
// journal that; resume checks the gates and asks; --decide accept completes the run
// without starting anything twice.
func TestResumeDecideAccept(t *testing.T) {
	t.Parallel()
	l := startLab(t)
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	wantCode(t, cutover(t, "run", "--from", l.runFile(), "--headless", "--journal", jpath), 0)
	// Cut the journal right after the last step's action started.
	data := readFile(t, jpath)
	lines := strings.SplitAfter(data, "\n")
	cut := -1
	for i, line := range lines {
		if strings.Contains(line, `"type":"action_start","step":"start-maestro"`) {
			cut = i
		}
	}
	if cut < 0 {
		t.Fatalf("no action_start for start-maestro in\n%s", data)
	}
	os.WriteFile(jpath, []byte(strings.Join(lines[:cut+1], "")), 0o600)

	r := cutover(t, "resume", jpath, "--answers", l.runFile(), "--headless")
	wantCode(t, r, 1, "stopped at step start-maestro", "outcome is unknown", "accept or rerun")
	r = cutover(t, "resume", jpath, "--decide", "start-maestro=maybe", "--headless")
	wantCode(t, r, 2, "use accept, rerun or retry")
	r = cutover(t, "resume", jpath, "--decide", "start-maestro=accept", "--headless")
	wantCode(t, r, 0, "accept [flag]", "done: every step is done")

	entries, err := l.Audit()
	if err != nil {
		t.Fatal(err)
	}
	starts := map[string]int{}
	for _, e := range entries {
		if e.Kind == "exec" && e.Command == "maestroctl start" {
			starts[e.Host]++
		}
	}
	if fmt.Sprint(starts) != "map[lui:1 spare:1 trk:1]" {
		t.Errorf("maestroctl start ran %v, want once on spare, lui and trk", starts)
	}
}

// TestVerify: an intact journal verifies; an edited middle line is named.
func TestVerify(t *testing.T) {
	t.Parallel()
	l := startLab(t)
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	wantCode(t, cutover(t, "run", "--from", l.runFile(), "--headless", "--journal", jpath), 0)
	r := cutover(t, "verify", jpath)
	wantCode(t, r, 0, "hash chain intact")
	n := strings.Count(readFile(t, jpath), "\n")
	if !strings.Contains(r.stdout, fmt.Sprintf(": %d events,", n)) {
		t.Errorf("verify does not count %d events: %s", n, r.stdout)
	}

	lines := strings.SplitAfter(readFile(t, jpath), "\n")
	const edited = 10 // 1-based
	orig := lines[edited-1]
	lines[edited-1] = strings.Replace(orig, `"seq":10,`, `"seq":10,"message":"nothing to see here",`, 1)
	if lines[edited-1] == orig {
		t.Fatalf("line %d was not edited: %s", edited, orig)
	}
	tampered := filepath.Join(t.TempDir(), "tampered.jsonl")
	os.WriteFile(tampered, []byte(strings.Join(lines, "")), 0o600)
	r = cutover(t, "verify", tampered)
	// The chain breaks where a line no longer follows the one before it: the edited
	// line itself still follows its predecessor, so the break shows on the next line.
	wantCode(t, r, 1, "BROKEN at line")
	if !regexp.MustCompile(fmt.Sprintf(`BROKEN at line (%d|%d):`, edited, edited+1)).MatchString(r.stdout) {
		t.Errorf("verify does not name the edited line %d: %s", edited, r.stdout)
	}
	// A tampered journal still exports, with a warning on top.
	r = cutover(t, "export", tampered)
	wantCode(t, r, 0, "WARNING: this journal fails its integrity check")

	// The tampered journal cannot be resumed: remove the run's end first, so that resume
	// gets as far as checking the chain.
	lines = lines[:len(lines)-2]
	os.WriteFile(tampered, []byte(strings.Join(lines, "")), 0o600)
	r = cutover(t, "resume", tampered, "--headless")
	if r.code == 0 || !strings.Contains(r.out(), "integrity") {
		t.Errorf("resume of a tampered journal: %s", r)
	}
}

// TestInterruptWhileProbing: Ctrl-C while a host does not answer the probe is an
// interruption (exit 3), not an unreachable host (exit 4). Not parallel: it signals
// the whole test process.
func TestInterruptWhileProbing(t *testing.T) {
	labtest.SkipShort(t)
	guard := make(chan os.Signal, 8)
	signal.Notify(guard, os.Interrupt)
	defer signal.Stop(guard)

	sc, err := runbooks.Scenario("maestro", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	labLog := &syncBuffer{}
	l, err := lab.Setup(t.TempDir(), sc, lab.Options{Log: labLog})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- l.Serve(ctx) }()
	defer func() { cancel(); <-served }()
	l.Hang("hub")
	defer l.Unhang("hub")

	for _, args := range [][]string{
		{"run", "--from", filepath.Join(l.Dir(), "runs", "maestro-move-hub.yaml"), "--headless", "--journal-dir", t.TempDir()},
		{"probe", "-i", l.Inventory()},
	} {
		t.Run(args[0], func(t *testing.T) {
			before := strings.Count(labLog.String(), "exit 0")
			var stdout, stderr syncBuffer
			done := make(chan int, 1)
			go func() { done <- realMain(args, strings.NewReader(""), &stdout, &stderr) }()
			// The three hosts that answer finish their probe; hub hangs.
			deadline := time.Now().Add(10 * time.Second)
			for strings.Count(labLog.String(), "exit 0") < before+3 {
				if time.Now().After(deadline) {
					t.Fatalf("the probe did not reach the hosts:\n%s", labLog.String())
				}
				time.Sleep(5 * time.Millisecond)
			}
			if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			select {
			case code := <-done:
				r := result{code, stdout.String(), stderr.String()}
				wantCode(t, r, 3, "interrupted")
				if strings.Contains(r.out(), "unreachable") {
					t.Errorf("an interrupted probe is reported as an unreachable host:\n%s", r)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("the interrupt did not stop the probe")
			}
		})
	}
}

// TestResumeFromAnotherFolder: a run started with a relative inventory path resumes
// from another working folder. Not parallel: it changes the working folder.
func TestResumeFromAnotherFolder(t *testing.T) {
	l := startLab(t)
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	t.Chdir(l.Dir())
	args := append([]string{"run", "maestro/move-hub", "-i", "inventory.yaml"}, roleArgs...)
	wantCode(t, cutover(t, append(args, "--headless", "--journal", jpath)...), 1, "needs an operator")
	t.Chdir(t.TempDir())
	wantCode(t, cutover(t, "resume", jpath, "--answers", l.runFile(), "--headless"), 0, "done: every step is done")
}

// TestFileRunbookFromAnotherFolder: a run of a runbook file named relative to the
// working folder resumes and exports from another folder. Not parallel: it changes
// the working folder.
func TestFileRunbookFromAnotherFolder(t *testing.T) {
	inv, rbFile, _ := localSetup(t)
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	t.Chdir(filepath.Dir(rbFile))
	wantCode(t, cutover(t, "run", filepath.Base(rbFile), "-i", filepath.Base(inv), "--role", "app=me", "--set", "token=x",
		"--headless", "--journal", jpath), 0)
	lines := strings.SplitAfter(readFile(t, jpath), "\n")
	os.WriteFile(jpath, []byte(strings.Join(lines[:3], "")), 0o600)
	t.Chdir(t.TempDir())
	wantCode(t, cutover(t, "export", jpath), 0, "# Store an API token")
	wantCode(t, cutover(t, "resume", jpath, "--set", "token=x", "--headless"), 0, "done: every step is done")
}

// TestHostGoesDownMidRun: the lab stops while a run is under way; the next check
// cannot reach its hosts and the run stops with exit 4.
func TestHostGoesDownMidRun(t *testing.T) {
	t.Parallel()
	l := startLab(t)
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	stdout := &funcWriter{match: regexp.MustCompile(`step\s+transfer-hub-data\s+started`), fire: l.stop}
	var stderr bytes.Buffer
	code := realMain([]string{"run", "--from", l.runFile(), "--headless", "--journal", jpath}, strings.NewReader(""), stdout, &stderr)
	r := result{code, stdout.String(), stderr.String()}
	wantCode(t, r, 4, "stopped at step transfer-hub-data")
	st := stateOf(t, jpath)
	if st.Ended || st.Step("transfer-hub-data").ActionRuns != 0 {
		t.Errorf("the copy must not start when its pre-check cannot reach the hosts")
	}
}

// funcWriter calls fire once, when a written line matches.
type funcWriter struct {
	syncBuffer
	match *regexp.Regexp
	fire  func()
	fired bool
}

func (f *funcWriter) Write(p []byte) (int, error) {
	n, err := f.syncBuffer.Write(p)
	if !f.fired && f.match.Match(p) {
		f.fired = true
		f.fire()
	}
	return n, err
}

// TestRunInstallerAutostarts: the installer starts Maestro although the runbook says
// not to; the gate notices and nothing is copied over a running Hub.
func TestRunInstallerAutostarts(t *testing.T) {
	t.Parallel()
	l := startLab(t, "installer-autostarts")
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	r := cutover(t, "run", "--from", l.runFile(), "--headless", "--journal", jpath)
	wantCode(t, r, 1, "stopped at step install-fresh", "Maestro was not started after the installation", "maestro is not stopped on spare")
	if st := stateOf(t, jpath); st.Step("transfer-hub-data").Status != steps.StepPending {
		t.Errorf("the run went past the failed gate")
	}
}
