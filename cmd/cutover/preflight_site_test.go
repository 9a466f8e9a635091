package main

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
)

// TestPreflightStopsOnTheSitesWording: in the lab situation whose Maestro words its
// startup and backup logs otherwise than the runbooks' defaults, move-lui stops before
// its first change (the backup it asks for) with the lines the site's logs do hold, and
// no file on any host has changed. Given the site's words as parameters, the same run
// goes through.
func TestPreflightStopsOnTheSitesWording(t *testing.T) {
	t.Parallel()
	l := startScenario(t, "maestro", "site-wording")
	before := hostsTree(t, l)
	r, jpath := runOf(t, l, "maestro/move-lui")
	wantCode(t, r, 1, "stopped before step trigger-backup",
		"FAIL  trigger-backup, gate 1", "/(?i)backup completed successfully/ never seen on hub",
		"Backup done, all files written",
		"FAIL  start-maestro, gate 2", "/(?i)startup complete/ never seen on lui",
		"Server ready, listening for requests")
	// The stopped run keeps its lock on the hosts (it may be resumed); nothing else is new.
	if got := withoutLocks(hostsTree(t, l)); got != before {
		t.Errorf("the preflight's stop changed the hosts:\n%s", diffTrees(before, got))
	}
	j, err := journal.Read(jpath)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range j.Events {
		if ev.Type == steps.EvActionStart || ev.Type == steps.EvDecision && ev.Step == "trigger-backup" {
			t.Errorf("the run acted before its preflight passed: %s %s", ev.Type, ev.Step)
		}
	}

	// The operator gives the site's words (a new run, in a lab as fresh): the preflight
	// sees them in the history and the gates read them in the new logs.
	l = startScenario(t, "maestro", "site-wording")
	r, _ = runOf(t, l, "maestro/move-lui", "--set", "backup_done=(?i)backup done, all files written",
		"--set", "started=(?i)server ready")
	wantCode(t, r, 0, "run                            done: every step is done")
	for _, s := range []string{"PASS  trigger-backup, gate 1", "PASS  start-maestro, gate 2"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("output lacks %q:\n%s", s, r.stdout)
		}
	}
	movedLUIInternal(t, l)
}

// withoutLocks drops cutover's lock files from a hostsTree listing.
func withoutLocks(tree string) string {
	var keep []string
	for _, line := range strings.Split(tree, "\n") {
		if name, _, _ := strings.Cut(line, " "); !strings.HasSuffix(name, "/.cutover.lock") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}
