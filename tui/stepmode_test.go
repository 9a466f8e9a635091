package tui

import (
	"strings"
	"testing"
)

// TestStepModeAsksBeforeEachAction: t on the plan review starts the run in step mode;
// the run then stops before each automatic action, saying what it is about to do, and
// nothing of it runs until y. t on the step screen turns step mode off, and the action
// that waited runs.
func TestStepModeAsksBeforeEachAction(t *testing.T) {
	h, _ := labHarness(t)
	pp := toPlan(t, h)
	h.key("t")
	if !pp.stepMode || !strings.Contains(h.view(), "Step mode on: the run will stop before each automatic action") {
		t.Fatalf("t on the plan review:\n%s", h.view())
	}
	h.key("s")
	h.pump("the run to open", wait, func() bool { _, ok := h.top().(*runPage); return ok })
	rp := h.top().(*runPage)
	if !rp.stepMode {
		t.Fatal("the run did not start in step mode")
	}

	// The first action is the pre-seeding copy: held, with nothing of it started.
	h.pump("step mode's question", wait, func() bool { return rp.ahead != nil })
	h.waitView(wait, "Step mode: step 2 (Copy the Hub's settings and registries", "is about to pre-seed", "y runs it", "y run the action")
	if ss := rp.state.Step("preseed-hub-data"); ss.ActionRuns != 0 || ss.ActionPending {
		t.Fatalf("the held action started: runs %d, pending %v", ss.ActionRuns, ss.ActionPending)
	}
	// Keys that answer nothing leave it held.
	h.key("enter")
	h.key("r")
	if rp.ahead == nil || rp.busy || rp.state.Step("preseed-hub-data").ActionRuns != 0 {
		t.Fatal("a key other than y ran the held action")
	}
	h.key("y")
	// The next action (stopping Maestro everywhere) is held in turn, with its commands.
	h.pump("the next held action", wait, func() bool { return rp.ahead != nil && rp.ahead.Step == "stop-maestro" })
	h.waitView(wait, "Step mode: step 3 (Shut down LISTSERV Maestro on every server)", "$ ", "maestroctl stop")
	if ss := rp.state.Step("preseed-hub-data"); ss.ActionRuns != 1 || !ss.Action.OK {
		t.Fatalf("y did not run the pre-seeding once: runs %d, action %+v", ss.ActionRuns, ss.Action)
	}
	if rp.state.Step("stop-maestro").ActionRuns != 0 {
		t.Fatal("stop-maestro ran before y")
	}
	// t turns step mode off: the held action runs and the rest go on without asking,
	// up to the first manual step.
	h.key("t")
	h.waitView(wait, "Install the Hub on the new server", "waiting for you")
	if rp.stepMode || rp.ahead != nil {
		t.Fatalf("after t: step mode %v, held %v", rp.stepMode, rp.ahead)
	}
	if ss := rp.state.Step("stop-maestro"); ss.ActionRuns != 1 || !ss.Action.OK {
		t.Fatalf("stop-maestro after t: runs %d, action %+v", ss.ActionRuns, ss.Action)
	}
	st := readJournal(t, rp.d.journalPath())
	for _, id := range []string{"preseed-hub-data", "stop-maestro"} {
		if ss := st.Step(id); ss.ActionRuns != 1 || len(ss.Decisions) != 0 {
			t.Errorf("journal: %s ran %d times with decisions %+v; step mode records nothing of its own", id, ss.ActionRuns, ss.Decisions)
		}
	}
}
