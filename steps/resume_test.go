package steps_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/headless"
	"github.com/cutover/cutover/steps/journal"
)

// TestResumeBeforeThePlan: the process died between recording the session and the plan
// (a crash test found this window). Nothing was done yet: resume plans again from the
// recorded inputs, records the plan and runs to the end.
func TestResumeBeforeThePlan(t *testing.T) {
	m := startMaestroLab(t)
	run, _ := m.runTransitions(t, 0, nil)
	path := run.Journal.Path()
	run.Close()
	truncateAfter(t, path, func(ev *steps.Event) bool { return ev.Type == steps.EvSession })
	res, e := m.resumeAndDrive(t, path, m.rf.Answers)
	if res.Code != headless.ExitDone {
		t.Fatalf("code %d: %s", res.Code, res.Message)
	}
	checkDone(t, e)
	checkCommandsOnce(t, m)
	j, err := journal.Read(path)
	if err != nil || j.Broken != nil {
		t.Fatalf("journal: %v %v", err, j.Broken)
	}
	if j.Events[1].Type != steps.EvResume || j.Events[2].Type != steps.EvPlan {
		t.Errorf("events 2 and 3 are %s and %s, want resume and plan", j.Events[1].Type, j.Events[2].Type)
	}
}

// TestUnknownOutcomeLooksOnce: the gates of an action of unknown outcome are checked
// once, without waiting out their timeout; the operator may look again (retry).
func TestUnknownOutcomeLooksOnce(t *testing.T) {
	lh := newLocalHosts(t, "h1")
	rb := parseRunbook(t, `  - id: start
    title: Start something that takes a while
    action:
      run: {role: a, command: "true"}
    gates:
      - file_exists: {role: a, path: started.flag}
        wait: {timeout: 1m, every: 50ms}
`)
	rec := &memRec{}
	e := startLocal(t, lh, rb, map[string]string{"password": "pw"}, rec, nil)
	for e.State().Step("start") == nil || e.State().Step("start").ActionRuns == 0 {
		if err := e.Advance(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// The process died right after journaling the action's start: its outcome is unknown.
	cut := 0
	for i, ev := range rec.events {
		if ev.Type == steps.EvActionStart {
			cut = i + 1
		}
	}
	e2, err := steps.Resume(rec.events[:cut], rb, lh.lookup, &memRec{}, steps.Options{Pool: lh.pool, Secrets: map[string]string{"password": "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	p := untilPrompt(t, e2)
	if took := time.Since(t0); took > 10*time.Second {
		t.Errorf("the prompt came after %v: the gate waited out its timeout", took)
	}
	wantPrompt(t, p, "start", steps.AskUnknown)
	for _, k := range []steps.DecisionKind{steps.Retry, steps.Override, steps.Rerun} {
		if !p.Allows(k) {
			t.Errorf("%s is not offered: %v", k, p.Choices)
		}
	}
	if p.Allows(steps.Accept) {
		t.Error("accept is offered although the gate fails")
	}
	// The operator sees it started now, and looks again.
	if err := writeFile(filepath.Join(lh.root, "h1", "started.flag")); err != nil {
		t.Fatal(err)
	}
	mustDecide(t, e2, steps.Decision{Kind: steps.Retry})
	p = untilPrompt(t, e2)
	wantPrompt(t, p, "start", steps.AskUnknown)
	if !p.Allows(steps.Accept) {
		t.Fatalf("after looking again the gate passes and accept is offered: %v", p.Choices)
	}
	mustDecide(t, e2, steps.Decision{Kind: steps.Accept})
	if p := untilPrompt(t, e2); p != nil || !e2.Finished() {
		t.Fatalf("the run did not finish: %+v", p)
	}
	if n := e2.State().Step("start").ActionRuns; n != 1 {
		t.Errorf("the action started %d times", n)
	}
}

func writeFile(p string) error { return os.WriteFile(p, []byte("1\n"), 0o644) }
