package steps_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/local"
	"github.com/cutover/cutover/steps"
)

// guardRunbook is a standby start behind a split-brain guard: the pre-check passes
// while the primary's "primary-running" marker is absent; the action logs each start.
const guardSteps = `  - id: start-standby
    title: Start the standby
    pre:
      - name: the primary is stopped (split-brain guard)
        file_absent: {role: a, path: primary-running}
    action:
      run: {role: a, command: "test -f can-start && echo started >> started.log"}
`

func started(t *testing.T, lh *localHosts) bool {
	t.Helper()
	_, err := os.Stat(filepath.Join(lh.root, "h1", "started.log"))
	return err == nil
}

// TestRetryOfAFailedActionChecksThePreChecksAgain: the start failed, the primary came
// back meanwhile; retrying must not start the standby on the old guard result.
func TestRetryOfAFailedActionChecksThePreChecksAgain(t *testing.T) {
	lh := newLocalHosts(t, "h1")
	rb := parseRunbook(t, guardSteps)
	e := startLocal(t, lh, rb, map[string]string{"password": "pw"}, &memRec{}, nil)
	wantPrompt(t, untilPrompt(t, e), "start-standby", steps.AskActionFailed)

	// Hours later: the primary rebooted and autostarted; the start would now work.
	for _, f := range []string{"primary-running", "can-start"} {
		if err := writeFile(filepath.Join(lh.root, "h1", f)); err != nil {
			t.Fatal(err)
		}
	}
	mustDecide(t, e, steps.Decision{Kind: steps.Retry})
	p := untilPrompt(t, e)
	wantPrompt(t, p, "start-standby", steps.AskCheckFailed)
	if p.On != steps.OnPre {
		t.Errorf("prompt on %s, want the pre-checks", p.On)
	}
	if started(t, lh) || e.State().Step("start-standby").ActionRuns != 1 {
		t.Fatalf("the action ran again without its guard (%d starts)", e.State().Step("start-standby").ActionRuns)
	}
}

// cutAfter returns the events up to and including the last one match accepts.
func cutAfter(t *testing.T, events []*steps.Event, match func(*steps.Event) bool) []*steps.Event {
	t.Helper()
	cut := -1
	for i, ev := range events {
		if match(ev) {
			cut = i
		}
	}
	if cut < 0 {
		t.Fatal("no event to cut after")
	}
	return events[:cut+1]
}

// TestRerunChecksThePreChecksAgain: an action of unknown outcome that the operator says
// did not happen runs again only after its guard holds again.
func TestRerunChecksThePreChecksAgain(t *testing.T) {
	lh := newLocalHosts(t, "h1")
	rb := parseRunbook(t, guardSteps)
	rec := &memRec{}
	e := startLocal(t, lh, rb, map[string]string{"password": "pw"}, rec, nil)
	wantPrompt(t, untilPrompt(t, e), "start-standby", steps.AskActionFailed)
	// The process died right after journaling the action's start.
	events := cutAfter(t, rec.events, func(ev *steps.Event) bool { return ev.Type == steps.EvActionStart })
	for _, f := range []string{"primary-running", "can-start"} {
		if err := writeFile(filepath.Join(lh.root, "h1", f)); err != nil {
			t.Fatal(err)
		}
	}
	e2, err := steps.Resume(events, rb, lh.lookup, &memRec{}, steps.Options{Pool: lh.pool, Secrets: map[string]string{"password": "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	wantPrompt(t, untilPrompt(t, e2), "start-standby", steps.AskUnknown)
	mustDecide(t, e2, steps.Decision{Kind: steps.Rerun})
	p := untilPrompt(t, e2)
	wantPrompt(t, p, "start-standby", steps.AskCheckFailed)
	if p.On != steps.OnPre || started(t, lh) {
		t.Fatalf("rerun went on without the guard: prompt on %s, started %v", p.On, started(t, lh))
	}
}

// TestResumeBeforeTheActionChecksThePreChecksAgain: the process died after the guard
// passed and before the action started. The resume evaluates the guard again; the
// journal it writes still folds, and so does the old one.
func TestResumeBeforeTheActionChecksThePreChecksAgain(t *testing.T) {
	lh := newLocalHosts(t, "h1")
	rb := parseRunbook(t, guardSteps)
	rec := &memRec{}
	e := startLocal(t, lh, rb, map[string]string{"password": "pw"}, rec, nil)
	wantPrompt(t, untilPrompt(t, e), "start-standby", steps.AskActionFailed)
	events := cutAfter(t, rec.events, func(ev *steps.Event) bool { return ev.Type == steps.EvCheck && ev.Check.Phase == "pre" })
	if old := steps.NewRunState(events).Step("start-standby"); old.Pre[0] == nil || !old.Pre[0].OK() {
		t.Fatalf("an old journal must fold as before: pre %v", old.Pre)
	}
	for _, f := range []string{"primary-running", "can-start"} {
		if err := writeFile(filepath.Join(lh.root, "h1", f)); err != nil {
			t.Fatal(err)
		}
	}
	rec2 := &memRec{}
	e2, err := steps.Resume(events, rb, lh.lookup, rec2, steps.Options{Pool: lh.pool, Secrets: map[string]string{"password": "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	p := untilPrompt(t, e2)
	wantPrompt(t, p, "start-standby", steps.AskCheckFailed)
	if p.On != steps.OnPre || started(t, lh) || e2.State().Step("start-standby").ActionRuns != 0 {
		t.Fatalf("the resumed run went on without the guard: prompt on %s, started %v", p.On, started(t, lh))
	}
	if ev := rec2.events[0]; ev.Type != steps.EvResume || ev.Step != "start-standby" {
		t.Errorf("the resume does not name the step whose pre-checks run again: %+v", ev)
	}
	// The whole journal folds to the engine's state.
	all := append(append([]*steps.Event{}, events...), rec2.events...)
	if got := steps.NewRunState(all).Step("start-standby"); got.Pre[0] == nil || got.Pre[0].OK() {
		t.Errorf("the fold of the resumed journal keeps the old pass: %+v", got.Pre[0])
	}

	// With the primary stopped again the guard passes and the standby starts once.
	if err := os.Remove(filepath.Join(lh.root, "h1", "primary-running")); err != nil {
		t.Fatal(err)
	}
	mustDecide(t, e2, steps.Decision{Kind: steps.Retry})
	if p := untilPrompt(t, e2); p != nil || !e2.Finished() {
		t.Fatalf("the run did not finish: %+v", p)
	}
	if !started(t, lh) || e2.State().Step("start-standby").ActionRuns != 1 {
		t.Errorf("started %v, %d action starts", started(t, lh), e2.State().Step("start-standby").ActionRuns)
	}
}

// TestRunStateFreshPreChecks: the fold forgets pre-check results (and overrides of
// failed ones) on an action retry, a rerun and a resume that names the step; a resume
// that names no step (every journal written before) changes nothing.
func TestRunStateFreshPreChecks(t *testing.T) {
	tests := []struct {
		name  string
		build func(l *stateLog)
		fresh bool
	}{
		{"retry of a failed action", func(l *stateLog) {
			l.actionStart("a").actionResult("a", false).decide("a", steps.Retry, steps.OnAction, "")
		}, true},
		{"rerun of an unknown outcome", func(l *stateLog) {
			l.actionStart("a").decide("a", steps.Rerun, steps.OnUnknown, "")
		}, true},
		{"a resume naming the step", func(l *stateLog) {
			l.add(&steps.Event{Type: steps.EvResume, Step: "a"})
		}, true},
		{"an old resume", func(l *stateLog) {
			l.add(&steps.Event{Type: steps.EvResume})
		}, false},
		{"a resume naming a step whose action started", func(l *stateLog) {
			l.actionStart("a").add(&steps.Event{Type: steps.EvResume, Step: "a"})
		}, false},
		{"retry of gates", func(l *stateLog) {
			l.actionStart("a").actionResult("a", true).check("a", "gate", 0, steps.Fail).decide("a", steps.Retry, steps.OnGates, "")
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := (&stateLog{}).start().stepStart("a").check("a", "pre", 0, steps.Fail).
				decide("a", steps.Override, steps.OnPre, "known and accepted")
			tt.build(l)
			a := steps.NewRunState(l.events).Step("a")
			_, overridden := a.Overrides["pre/0"]
			if fresh := len(a.Pre) == 0 && !overridden; fresh != tt.fresh {
				t.Errorf("pre %v overrides %v; want fresh=%v", a.Pre, a.Overrides, tt.fresh)
			}
			if len(a.History) == 0 {
				t.Error("the history lost the pre-check result")
			}
		})
	}
}

// downHosts are local hosts whose dialer refuses the ones marked down.
type downHosts struct {
	*localHosts
	down map[string]*atomic.Bool
}

func newDownHosts(t *testing.T, names ...string) *downHosts {
	t.Helper()
	dh := &downHosts{localHosts: newLocalHosts(t, names...), down: map[string]*atomic.Bool{}}
	for _, n := range names {
		dh.down[n] = &atomic.Bool{}
	}
	dh.pool.Close()
	dh.pool = probe.NewPool(probe.DialerFunc(func(_ context.Context, h *probe.Host) (probe.Transport, error) {
		if dh.down[h.Name].Load() {
			return nil, &probe.UnreachableError{Host: h.Name, Addr: "local", Err: errors.New("connection refused")}
		}
		return &local.Transport{Dir: h.InstallDir}, nil
	}))
	t.Cleanup(func() { dh.pool.Close() })
	return dh
}

const failoverSrc = `id: test/failover
title: Failover test
system: Test
source: the tests
roles:
  - {id: primary, title: the primary, may_be_down: true}
  - {id: standby, title: the standby}
steps:
  - id: early-fence
    title: Fenced before the primary came back
    when: roles.primary.reachable
    action:
      run: {role: primary, command: "echo early >> fence.log"}
  - id: assess
    title: Assess
    action:
      run: {role: standby, command: "echo assess >> steps.log"}
  - id: fence-autostart
    title: Fence the primary's autostart
    when: roles.primary.reachable
    skip_reason: the primary does not answer
    action:
      run: {role: primary, command: "echo autostart >> fence.log"}
  - id: fence-down
    title: The primary stays off
    when: '!roles.primary.reachable'
    action:
      run: {role: standby, command: "echo down >> steps.log"}
  - id: by-param
    title: Never, whatever the hosts say
    when: 'false'
    action:
      run: {role: standby, command: "echo never >> steps.log"}
`

// TestReplanWhenAMayBeDownHostComesBack: the primary is down at the start, so its
// fencing steps are planned as skipped; it answers after the first step. The steps not
// started yet that it skipped now run; a step already skipped stays skipped, a step
// planned to run keeps running, and the journal records the new plan and folds to it.
func TestReplanWhenAMayBeDownHostComesBack(t *testing.T) {
	t.Parallel()
	dh := newDownHosts(t, "p1", "s1")
	dh.down["p1"].Store(true)
	rb, err := steps.Parse("failover.yaml", []byte(failoverSrc))
	if err != nil {
		t.Fatal(err)
	}
	prober := &probe.Prober{Pool: dh.pool}
	facts := map[string]*probe.Facts{}
	for _, n := range []string{"p1", "s1"} {
		facts[n] = prober.Probe(context.Background(), dh.hosts[n])
	}
	if facts["p1"].Reachable || !facts["s1"].Reachable {
		t.Fatalf("reachable: p1 %v s1 %v", facts["p1"].Reachable, facts["s1"].Reachable)
	}
	plan, err := steps.Prepare(rb, dh.lookup, steps.Inputs{Roles: map[string]string{"primary": "p1", "standby": "s1"}}, facts)
	if err != nil {
		t.Fatal(err)
	}
	rec := &memRec{}
	e, err := steps.Start(plan, rec, steps.Options{Pool: dh.pool, Operator: "tester@test"})
	if err != nil {
		t.Fatal(err)
	}
	for !e.Finished() {
		if ss := e.State().Step("assess"); ss.Finished() {
			dh.down["p1"].Store(false) // the primary answers again
		}
		if err := e.Advance(context.Background()); err != nil {
			t.Fatalf("Advance: %v", err)
		}
	}
	want := map[string]steps.StepStatus{
		"early-fence":     steps.StepSkipped, // skipped before the primary came back
		"assess":          steps.StepDone,
		"fence-autostart": steps.StepDone, // planned again: it runs now
		"fence-down":      steps.StepDone, // planned to run: new facts never drop a step
		"by-param":        steps.StepSkipped,
	}
	check := func(what string, rs *steps.RunState) {
		t.Helper()
		for id, status := range want {
			if got := rs.Step(id).Status; got != status {
				t.Errorf("%s: step %s is %s, want %s", what, id, got, status)
			}
		}
	}
	check("engine", e.State())
	check("fold of the journal", steps.NewRunState(rec.events))
	if b, _ := os.ReadFile(filepath.Join(dh.root, "p1", "fence.log")); string(b) != "autostart\n" {
		t.Errorf("fence.log on the primary = %q", b)
	}
	var plans []*steps.Event
	for _, ev := range rec.events {
		if ev.Type == steps.EvPlan {
			plans = append(plans, ev)
		}
	}
	if len(plans) != 2 || !strings.Contains(plans[1].Message, "now run fence-autostart") {
		t.Fatalf("plans recorded: %d, the second saying %q", len(plans), plans[len(plans)-1].Message)
	}
	for _, ps := range plans[1].Plan {
		if ps.ID == "early-fence" && !ps.Skip {
			t.Error("the new plan changed a step that had ended")
		}
	}

	// A crash between learning the facts and recording the new plan: the resume plans
	// again before going on.
	events := cutAfter(t, rec.events, func(ev *steps.Event) bool { return ev.Type == steps.EvFacts })
	if err := os.Remove(filepath.Join(dh.root, "p1", "fence.log")); err != nil {
		t.Fatal(err)
	}
	rec2 := &memRec{}
	e2, err := steps.Resume(events, rb, dh.lookup, rec2, steps.Options{Pool: dh.pool})
	if err != nil {
		t.Fatal(err)
	}
	if p := untilPrompt(t, e2); p != nil {
		t.Fatalf("prompt %+v", p)
	}
	check("resumed engine", e2.State())
	if b, _ := os.ReadFile(filepath.Join(dh.root, "p1", "fence.log")); string(b) != "autostart\n" {
		t.Errorf("after the resume, fence.log on the primary = %q", b)
	}
}
