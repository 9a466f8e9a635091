package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
)

// cutoverIn runs the command line in process with stdin, as an operator typing answers.
func cutoverIn(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := realMain(args, strings.NewReader(stdin), &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// actionsRun lists the steps of a journal whose automatic action started, in order.
func actionsRun(t *testing.T, jpath string) []string {
	t.Helper()
	j, err := journal.Read(jpath)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range j.Events {
		if ev.Type == steps.EvActionStart {
			out = append(out, ev.Step)
		}
	}
	return out
}

// TestStepAsksBeforeEachAction: with --step, the run shows each automatic action and
// asks; yes runs it, quit stops the run there with exit 3 and nothing of that action
// run, and a resume goes on to the end. The first action is the pre-seed of the Hub's
// data, the second stopping Maestro.
func TestStepAsksBeforeEachAction(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a lab run")
	}
	l := startLab(t)
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	r := cutoverIn(t, "yes\ny\nmaybe\nq\n", "run", "--from", l.runFile(), "--headless", "--journal", jpath, "--step")
	wantCode(t, r, 3,
		"step preseed-hub-data (Copy the Hub's settings and registries to the new server ahead of the outage): about to pre-seed 3 paths from hub to staging names on spare",
		"step stop-maestro (Shut down LISTSERV Maestro on every server): about to stop maestro on lui, hub, trk, spare",
		"Run it? [y]es / [q]uit (resumable): ",
		"Answer y (run it) or q (stop here, resumable): ",
		"stopped before the action of step install-fresh, as asked (--step); nothing of it ran. Continue with: cutover resume "+jpath)
	if got := actionsRun(t, jpath); strings.Join(got, ",") != "preseed-hub-data,stop-maestro" {
		t.Errorf("actions run: %v, want only preseed-hub-data's and stop-maestro's", got)
	}
	if exists(l.file("spare", "hub/hub.ini")) {
		t.Error("the installation ran although the operator quit before it")
	}
	st := stateOf(t, jpath)
	if st.Ended || !strings.Contains(st.Notes[len(st.Notes)-1].Message, "stopped before the action of step install-fresh") {
		t.Errorf("the stop is not journaled as a note of a run still open: ended %v, notes %+v", st.Ended, st.Notes)
	}
	// No one answers (end of input): the run stops, resumable, before the next action.
	r = cutoverIn(t, "", "resume", jpath, "--headless", "--step")
	wantCode(t, r, 3, "stopped before the action of step install-fresh")
	r = cutover(t, "resume", jpath, "--headless", "--answers", l.runFile())
	wantCode(t, r, 0, "done: every step is done")
	movedHub(t, l)
}

// TestStopAfter: --stop-after ends the run resumably once the step has ended; the
// resume goes on from the next step.
func TestStopAfter(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a lab run")
	}
	l := startLab(t)
	origTRK := readFile(t, l.file("trk", "trk/tracker.ini"))
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	r := cutover(t, "run", "--from", l.runFile(), "--headless", "--journal", jpath, "--stop-after", "point-lui-to-hub")
	wantCode(t, r, 3, "stopped after step point-lui-to-hub, as asked (--stop-after); nothing is lost. Continue with: cutover resume "+jpath)
	if !strings.Contains(readFile(t, l.file("lui", "lui/lui.ini")), "RegistryHubHost=spare.maestro.lab") {
		t.Error("point-lui-to-hub did not run before the stop")
	}
	if readFile(t, l.file("trk", "trk/tracker.ini")) != origTRK {
		t.Error("a step after the stop ran")
	}
	r = cutover(t, "run", "--from", l.runFile(), "--headless", "--stop-after", "no-such-step")
	wantCode(t, r, 2, "--stop-after no-such-step: maestro/move-hub has no step no-such-step")
	r = cutover(t, "resume", jpath, "--headless", "--answers", l.runFile())
	wantCode(t, r, 0, "done: every step is done")
	movedHub(t, l)
}

// TestStartAtAdoptsAfterAManualFix: --start-at refuses while a step before it is not
// done on the hosts, naming the gate; once the operator has done it by hand, the run
// adopts it (journaled as adopted with its gates as evidence, its action never run)
// and goes on from the step asked for.
func TestStartAtAdoptsAfterAManualFix(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a lab run")
	}
	l := startLab(t)
	refused := filepath.Join(t.TempDir(), "refused.jsonl")
	r := cutover(t, "run", "--from", l.runFile(), "--headless", "--journal", refused, "--start-at", "install-fresh")
	wantCode(t, r, 1, `cannot start at install-fresh: step stop-maestro is not done on the hosts: its gate "Maestro is stopped everywhere" does not hold now`,
		"nothing was adopted or run")
	if got := actionsRun(t, refused); len(got) != 0 {
		t.Errorf("a refused start ran actions: %v", got)
	}

	// The operator stops Maestro by hand, as the first step would have.
	for _, h := range []string{"lui", "hub", "trk"} {
		onHost(t, l, h, "maestroctl", "stop")
	}
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	r = cutover(t, "run", "--from", l.runFile(), "--headless", "--journal", jpath, "--start-at", "install-fresh")
	wantCode(t, r, 0, "done: every step is done")
	movedHub(t, l)
	if got := actionsRun(t, jpath); len(got) == 0 || got[0] == "stop-maestro" {
		t.Errorf("the adopted step's action ran: %v", got)
	}
	st := stateOf(t, jpath).Step("stop-maestro")
	if st == nil || !st.Adopted() || !strings.Contains(st.Reason, "Maestro is stopped everywhere") {
		t.Fatalf("stop-maestro is not journaled as adopted with its gate: %+v", st)
	}
	if g := st.Gates[0]; g == nil || g.Status != steps.Pass || len(g.Evidence) == 0 && g.Summary == "" {
		t.Errorf("no evidence for the adoption: %+v", g)
	}
	// Nothing shows the pre-seed done and nothing needs it: it is skipped, saying why,
	// and the window's copy sent everything.
	if pre := stateOf(t, jpath).Step("preseed-hub-data"); pre == nil || pre.Status != steps.StepSkipped ||
		!strings.Contains(pre.Reason, "step transfer-hub-data copies everything without it") {
		t.Errorf("preseed-hub-data is not journaled as skipped with its reason: %+v", pre)
	}
	if st := stateOf(t, jpath).Step("check-https-apart"); st == nil || !st.Adopted() {
		t.Errorf("check-https-apart is not adopted by its gate: %+v", st)
	}
	r = cutover(t, "export", jpath)
	wantCode(t, r, 0, "adopted (started at install-fresh)")
}
