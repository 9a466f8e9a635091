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

	"github.com/cutover/cutover/probe/inventory"
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
	inv, err := inventory.Load(l.Inventory())
	if err != nil {
		t.Fatal(err)
	}
	var forbidden []string
	for _, h := range inv.Hosts {
		for _, s := range h.Services {
			forbidden = append(forbidden, s.Start, s.Stop)
		}
	}
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
