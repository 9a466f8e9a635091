package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestRollbackMoveHub: a move of the Hub stopped after its INI edits is rolled back:
// every edited file gets its exact original bytes again, the Hub's files the new
// server had before the copy come back (the copy kept aside, nothing deleted),
// Maestro runs again where it ran, the rollback is a run with a journal of its own,
// and what only the operator can undo (the installation) is said.
func TestRollbackMoveHub(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a lab run")
	}
	l := startLab(t)
	origLUI := readFile(t, l.file("lui", "lui/lui.ini"))
	origTRK := readFile(t, l.file("trk", "trk/tracker.ini"))
	jdir := t.TempDir()
	jpath := filepath.Join(jdir, "run.jsonl")
	r := cutover(t, "run", "--from", l.runFile(), "--headless", "--journal", jpath, "--stop-after", "point-tracker-to-hub")
	wantCode(t, r, 3, "stopped after step point-tracker-to-hub")
	freshHub := readFile(t, l.file("spare", "hub/hub.ini")) // the copy, over the fresh installation's
	if readFile(t, l.file("lui", "lui/lui.ini")) == origLUI || readFile(t, l.file("trk", "trk/tracker.ini")) == origTRK {
		t.Fatal("the run did not edit the INI files")
	}

	rpath := filepath.Join(jdir, "rollback.jsonl")
	r = cutover(t, "rollback", jpath, "--journal", rpath)
	wantCode(t, r, 0,
		"back-out plan for run ",
		"point-tracker-to-hub (Point the Tracker at the new Hub)",
		"auto:   trk: put the original ",
		"install-fresh (Install the Hub on the new server (fresh installation))",
		"manual: ",
		"done: every step is done",
		"rollback: what remains for you to undo by hand, in this order:")
	if got := readFile(t, l.file("lui", "lui/lui.ini")); got != origLUI {
		t.Errorf("lui.ini is not the original, byte for byte:\n%q\nwant\n%q", got, origLUI)
	}
	if got := readFile(t, l.file("trk", "trk/tracker.ini")); got != origTRK {
		t.Errorf("tracker.ini is not the original, byte for byte:\n%q\nwant\n%q", got, origTRK)
	}
	if got := readFile(t, l.file("spare", "hub/hub.ini")); got == freshHub || !strings.Contains(got, "fresh installation") {
		t.Errorf("spare's hub.ini is not the fresh installation's again:\n%s", got)
	}
	if m, _ := filepath.Glob(l.file("spare", "hub/hub.ini.cutover-*")); len(m) == 0 {
		t.Error("the rolled-back copy was not kept aside")
	}
	facts := probeJSON(t, l.Inventory())
	maestroRuns(t, facts, "lui", "hub", "trk")
	if got := facts["lui"].Settings["lui"]["RegistryHubHost"]; got != "hub.maestro.lab" {
		t.Errorf("lui's RegistryHubHost = %q after the rollback", got)
	}
	// Both runs are over: the recording was ended for the rollback, and the rollback's own
	// journal says done.
	if st := stateOf(t, jpath); !st.Ended || !strings.Contains(st.Message, "rolled back") {
		t.Errorf("the recorded run is not ended for the rollback: %v %q", st.Ended, st.Message)
	}
	if st := stateOf(t, rpath); !st.Ended || st.Outcome != "done" {
		t.Errorf("the rollback's journal: ended %v, outcome %s", st.Ended, st.Outcome)
	}
	wantCode(t, cutover(t, "export", rpath), 0, "Undo: Point the Tracker at the new Hub")
}
