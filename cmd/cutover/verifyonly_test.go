package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
	"github.com/cutover/cutover/steps/lock"
)

// fileState fingerprints every file, folder and link below root: its type, mode, size,
// modification time and content (or link target), one line each, sorted. Two states
// that are equal mean nothing below root was created, removed, written, touched or
// chmodded in between. skip leaves out paths (relative to root) that change by
// themselves.
func fileState(t *testing.T, root string, skip ...string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if slices.Contains(skip, rel) {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %v %d %d", rel, fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			line += " -> " + target
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// diffLines names the lines of a that b lacks and those b adds.
func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for _, l := range al {
		if !slices.Contains(bl, l) {
			out = append(out, "- "+l)
		}
	}
	for _, l := range bl {
		if !slices.Contains(al, l) {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

// TestVerifyOnlyChangesNothing proves what replay --verify-only promises: with every
// host locked by another operator's run (a run taking a lock would be refused), it
// checks the recorded gates and changes nothing at all. Every file of the lab (all hosts, the lab's
// DNS, the locks) is the same, byte for byte and to the nanosecond of its modification
// time; the lab's audit log shows no file operation and no command that an action of the
// recording ran or that starts or stops a service; no journal is written anywhere and
// the recording itself is untouched; the locks are still those of the other run.
func TestVerifyOnlyChangesNothing(t *testing.T) {
	// Not parallel: the journal folder of every run is this test's own, to be watched.
	journals := t.TempDir()
	t.Setenv("CUTOVER_JOURNALS", journals)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	l := startLab(t)
	rec := filepath.Join(t.TempDir(), "recorded.jsonl")
	wantCode(t, cutover(t, "run", "--from", l.runFile(), "--headless", "--journal", rec), 0)

	// Another operator's run now holds every host of the recording.
	j, err := journal.Read(rec)
	if err != nil {
		t.Fatal(err)
	}
	st := steps.NewRunState(j.Events)
	var hosts []string
	for _, h := range st.Session.Roles {
		if !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	slices.Sort(hosts)
	owner := lock.Owner{Operator: "alice@far", Machine: "far", PID: 4242, Runbook: "maestro/move-hub", RunID: "other-run",
		Journal: "/home/alice/run.jsonl", Since: time.Now().Add(-time.Hour), Hosts: hosts}
	data, _ := json.Marshal(owner)
	for _, h := range hosts {
		if err := os.WriteFile(lockFile(l, h), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	recorded := readFile(t, rec)
	before := fileState(t, l.Dir(), "audit.jsonl")
	audit, err := l.Audit()
	if err != nil {
		t.Fatal(err)
	}
	r := cutover(t, "replay", rec, "--verify-only")
	if r.code != 0 && r.code != 1 {
		t.Fatalf("verify-only: %s", r)
	}
	wantCode(t, r, r.code, "PASS  transfer-hub-data", "(nothing was changed, no journal written)")
	if strings.Contains(r.out(), "alice@far") || strings.Contains(r.out(), "locked") {
		t.Errorf("verify-only went for the hosts' locks:\n%s", r)
	}

	if after := fileState(t, l.Dir(), "audit.jsonl"); after != before {
		t.Errorf("verify-only changed the lab's files:\n%s", diffLines(before, after))
	}
	if readFile(t, rec) != recorded {
		t.Error("verify-only changed the recording")
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(rec), "*")); len(m) != 1 {
		t.Errorf("verify-only wrote beside the recording: %v", m)
	}
	if left := fileState(t, journals); strings.Contains(left, "\n") { // more than the folder itself
		t.Errorf("verify-only wrote into the journal folder:\n%s", left)
	}
	for _, h := range hosts {
		if got := readFile(t, lockFile(l, h)); got != string(data) {
			t.Errorf("the lock on %s is now %s", h, got)
		}
	}

	// What it ran: reads only. Nothing an action of the recording ran, no service start or
	// stop, no file operation.
	forbidden := serviceCommands(t, l)
	for _, ev := range j.Events {
		if ev.Type == steps.EvActionStart && ev.Action != nil {
			for _, c := range ev.Action.Commands {
				_, cmd, ok := strings.Cut(c, ": ") // service actions record "host: command"
				if !ok || ev.Action.Kind != "service" {
					cmd = c
				}
				forbidden = append(forbidden, cmd)
			}
		}
	}
	entries, err := l.Audit()
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, e := range entries[len(audit):] {
		if e.Kind != "exec" {
			t.Errorf("verify-only operated on a file: %+v", e)
			continue
		}
		ran++
		for _, f := range forbidden {
			if f != "" && strings.Contains(e.Command, f) {
				t.Errorf("verify-only ran %q on %s (an action's or a service's command)", e.Command, e.Host)
			}
		}
	}
	if ran == 0 {
		t.Error("verify-only ran no command at all: the gates were not checked on the hosts")
	}
}

// endStateHolds demands that replay --verify-only of a successful run, on the hosts the
// run left, finds every end-state gate holding and exits 0; the gates that hold only
// during a run are named as left out, not failed.
func endStateHolds(t *testing.T, jpath string) {
	t.Helper()
	r := cutover(t, "replay", jpath, "--verify-only")
	if r.code != 0 || !strings.Contains(r.stdout, "end-state gates of the recorded steps still hold") {
		t.Errorf("verify-only after a successful run: %s", r)
	}
	if strings.Contains(r.stdout, "FAIL") || strings.Contains(r.stdout, "ERROR") {
		t.Errorf("verify-only after a successful run reports a failure:\n%s", r.stdout)
	}
}

// TestVerifyOnlyDrift: the morning after a move of the Hub, verify-only is a drift
// check. On the hosts as the run left them it exits 0, leaving out the gates that hold
// only during a run (Maestro stopped everywhere), with --json as data and --junit as a
// JUnit report; after someone points the User Interface back at the old Hub it exits
// 1, names the gate and shows the value, in all three forms.
func TestVerifyOnlyDrift(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a lab run")
	}
	l := startLab(t)
	rec := filepath.Join(t.TempDir(), "run.jsonl")
	wantCode(t, cutover(t, "run", "--from", l.runFile(), "--headless", "--journal", rec), 0)

	type report struct {
		Runbook string `json:"runbook"`
		Held    int    `json:"held"`
		Checked int    `json:"checked"`
		LeftOut int    `json:"left_out"`
		Exit    int    `json:"exit"`
		Gates   []struct {
			Step, Gate, Status, Summary string
			NotChecked                  string   `json:"not_checked"`
			Evidence                    []string `json:"evidence"`
		} `json:"gates"`
	}
	verify := func(code int) (report, string) {
		t.Helper()
		junit := filepath.Join(t.TempDir(), "gates.xml")
		r := cutover(t, "replay", rec, "--verify-only", "--json", "--junit", junit)
		wantCode(t, r, code)
		var rep report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("--json is not one JSON report: %v\n%s", err, r.stdout)
		}
		if rep.Runbook != "maestro/move-hub" || rep.Exit != code || rep.Checked == 0 {
			t.Errorf("report %+v", rep)
		}
		return rep, readFile(t, junit)
	}

	rep, junit := verify(0)
	if rep.Held != rep.Checked || rep.LeftOut != 2 {
		t.Errorf("after the run: %d of %d hold, %d left out; want all, and 2 left out (stopped everywhere, not started after the installation)", rep.Held, rep.Checked, rep.LeftOut)
	}
	leftOut := false
	for _, g := range rep.Gates {
		if g.Step == "stop-maestro" && g.Gate == "Maestro is stopped everywhere" && g.NotChecked == "holds only during the run" {
			leftOut = true
		}
	}
	if !leftOut {
		t.Errorf("the stop gate is not reported as left out: %+v", rep.Gates)
	}
	for _, s := range []string{`<?xml version="1.0"`, `<testsuite name="cutover verify-only maestro/move-hub`, `failures="0"`, `errors="0"`, `skipped="`,
		`<testcase classname="maestro/move-hub.transfer-hub-data"`, `<skipped message="holds only during the run">`} {
		if !strings.Contains(junit, s) {
			t.Errorf("JUnit report lacks %q:\n%s", s, junit)
		}
	}

	// Drift: someone puts the old Hub back into lui.ini.
	ini := l.file("lui", "lui/lui.ini")
	edited := strings.Replace(readFile(t, ini), "RegistryHubHost=spare.maestro.lab", "RegistryHubHost=hub.maestro.lab", 1)
	if err := os.WriteFile(ini, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, junit = verify(1)
	if rep.Held != rep.Checked-1 {
		t.Errorf("after the drift: %d of %d hold, want exactly one failing", rep.Held, rep.Checked)
	}
	var failed []string
	for _, g := range rep.Gates {
		if g.Status == "fail" {
			failed = append(failed, g.Step+": "+g.Summary)
		}
	}
	if len(failed) != 1 || !strings.Contains(failed[0], "point-lui-to-hub: ") || !strings.Contains(failed[0], "hub.maestro.lab") {
		t.Errorf("failed gates %q, want the User Interface's RegistryHubHost showing hub.maestro.lab", failed)
	}
	if !strings.Contains(junit, `failures="1"`) || !strings.Contains(junit, "<failure message=") || !strings.Contains(junit, "hub.maestro.lab") {
		t.Errorf("the JUnit report does not show the drift:\n%s", junit)
	}
	r := cutover(t, "replay", rec, "--verify-only")
	wantCode(t, r, 1, "FAIL  point-lui", "1 of ")
}
