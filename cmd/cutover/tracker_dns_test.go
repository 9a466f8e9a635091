package main

import (
	"os"
	"testing"

	"github.com/cutover/cutover/steps"
)

// TestTrackerDNSPropagationIsAFollowUp: the Tracker keeps its name and the outside
// world's resolvers still give the old address. The move itself goes through (the
// zone's own name server and the Maestro servers already give the new address), the run
// stops only at the follow-up after Maestro runs again, and a resume once the outside
// caught up ticks it.
func TestTrackerDNSPropagationIsAFollowUp(t *testing.T) {
	t.Parallel()
	l := startScenario(t, "maestro", "dns-slow-outside")
	r, jpath := runOf(t, l, "maestro/move-tracker")
	wantCode(t, r, 1, "stopped at step dns-follow-up", "From outside, the old name points at the new server",
		"ops: trk.maestro.lab resolves to 10.77.0.12",
		"PASS  The zone's own name server gives the old name the new server's address")
	st := stateOf(t, jpath)
	for _, id := range []string{"repoint-dns", "uninstall-old-trk", "start-maestro", "tracker-answers"} {
		if s := st.Step(id); s == nil || s.Status != steps.StepDone {
			t.Errorf("step %s is not done before the follow-up: %+v", id, s)
		}
	}
	movedTrackerKeepingItsName(t, l)

	// The outside's cache runs out; the follow-up is looked at again.
	if err := os.Remove(hostFile(l, "ops", "var/dns.zone")); err != nil {
		t.Fatal(err)
	}
	r = cutover(t, "resume", jpath, "--decide", "dns-follow-up=retry", "--headless")
	wantCode(t, r, 0, "from ops, http://trk.maestro.lab:8888/trk/ answers 200")
	if st := stateOf(t, jpath); st.Outcome != steps.RunDone {
		t.Errorf("outcome %s", st.Outcome)
	}
}
