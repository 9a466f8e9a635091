package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRollbackResumesAfterKill: the real binary rolls back a move of the Hub stopped
// after its INI edits and is killed with SIGKILL in the middle, once its fourth undo
// (putting back one of the folders the copy kept aside) has started. Running cutover rollback again goes on from the rollback's journal
// (the action cut short runs again: restores are safe to repeat) and ends with every
// edited file's exact original bytes back, the new server's fresh installation back,
// Maestro running where it ran; a cleanup of the rolled-back run is then refused.
func TestRollbackResumesAfterKill(t *testing.T) {
	t.Parallel()
	bin := cutoverBinary(t)
	l := startLab(t)
	origLUI := readFile(t, l.file("lui", "lui/lui.ini"))
	origTRK := readFile(t, l.file("trk", "trk/tracker.ini"))
	jdir := t.TempDir()
	jpath := filepath.Join(jdir, "run.jsonl")
	// The binary runs it, so that its locks, kept while it stops resumably, are those of
	// a process that is gone (the rollback's own binary takes them over).
	if p := runUntil(t, bin, jpath, 0, 0, "run", "--from", l.runFile(), "--headless", "--journal", jpath, "--stop-after", "point-tracker-to-hub"); p.code != 3 {
		t.Fatalf("the run: exit %d, want 3:\n%s", p.code, p.out)
	}
	// What the copy replaced, the fresh installation's hub.ini, is kept aside.
	aside, _ := filepath.Glob(l.file("spare", "hub/hub.ini.cutover-*-replaced"))
	if readFile(t, l.file("lui", "lui/lui.ini")) == origLUI || len(aside) != 1 {
		t.Fatalf("the run did not edit lui.ini or keep the new server's hub.ini aside: %v", aside)
	}
	freshHub := readFile(t, aside[0])

	rpath := filepath.Join(jdir, "rollback.jsonl")
	out := killAtActionStart(t, bin, rpath, 4, "rollback", jpath, "--journal", rpath)
	if st := stateOf(t, rpath); st.Ended {
		t.Fatalf("the rollback ended before it was killed:\n%s", out)
	}

	r := cutover(t, "rollback", jpath, "--journal", rpath)
	wantCode(t, r, 0, "continuing the run cut short: "+rpath, "done: every step is done", "rollback: what remains for you to undo by hand")
	if got := readFile(t, l.file("lui", "lui/lui.ini")); got != origLUI {
		t.Errorf("lui.ini is not the original, byte for byte:\n%q\nwant\n%q", got, origLUI)
	}
	if got := readFile(t, l.file("trk", "trk/tracker.ini")); got != origTRK {
		t.Errorf("tracker.ini is not the original, byte for byte:\n%q\nwant\n%q", got, origTRK)
	}
	if got := readFile(t, l.file("spare", "hub/hub.ini")); got != freshHub {
		t.Errorf("spare's hub.ini is not the fresh installation's again:\n%q\nwant\n%q", got, freshHub)
	}
	maestroRuns(t, probeJSON(t, l.Inventory()), "lui", "hub", "trk")
	if st := stateOf(t, rpath); !st.Ended || st.Outcome != "done" || st.Resumes == 0 {
		t.Errorf("the rollback's journal: ended %v, outcome %s, resumed %d times", st.Ended, st.Outcome, st.Resumes)
	}
	// Done once; a second rollback and a cleanup of the rolled-back run are refused.
	wantCode(t, cutover(t, "rollback", jpath, "--journal", filepath.Join(jdir, "again.jsonl")), 1, "was rolled back already")
	wantCode(t, cutover(t, "cleanup", jpath, "--yes"), 1, "was rolled back (journal "+rpath+")", "nothing was removed")
}

// killAtActionStart runs the binary and kills it with SIGKILL as soon as its journal
// holds n action starts; it returns what the process printed.
func killAtActionStart(t *testing.T, bin, jpath string, n int, args ...string) string {
	t.Helper()
	p := runKilling(t, bin, func() bool {
		b, err := os.ReadFile(jpath)
		return err == nil && strings.Count(string(b), `"type":"action_start"`) >= n
	}, 0, args...)
	if !p.killed {
		t.Fatalf("cutover %v ended (exit %d) before it reached %d actions and was killed:\n%s", args, p.code, n, p.out)
	}
	return p.out
}
