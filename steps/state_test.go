package steps_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/cutover/cutover/steps"
)

var stateT0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// stateLog builds a journal's events with sequence numbers and times.
type stateLog struct{ events []*steps.Event }

func (l *stateLog) add(ev *steps.Event) *stateLog {
	ev.Seq = len(l.events) + 1
	ev.Time = stateT0.Add(time.Duration(ev.Seq) * time.Minute)
	l.events = append(l.events, ev)
	return l
}

func (l *stateLog) start() *stateLog {
	return l.
		add(&steps.Event{Type: steps.EvSession, Session: &steps.Session{RunID: "r1", Runbook: "test/state"}}).
		add(&steps.Event{Type: steps.EvPlan, Plan: []steps.PlannedStep{
			{ID: "a", Title: "A"},
			{ID: "b", Title: "B", Skip: true, Reason: "not needed"},
			{ID: "c", Title: "C"},
		}})
}

func (l *stateLog) check(step string, phase steps.Phase, i int, st steps.Status) *stateLog {
	return l.add(&steps.Event{Type: steps.EvCheck, Step: step, Check: &steps.CheckResult{Phase: phase, Index: i, Status: st}})
}

func (l *stateLog) decide(step string, k steps.DecisionKind, on steps.DecisionOn, reason string) *stateLog {
	return l.add(&steps.Event{Type: steps.EvDecision, Step: step, Decision: &steps.Decision{Kind: k, On: on, Reason: reason}})
}

func (l *stateLog) actionStart(step string) *stateLog {
	return l.add(&steps.Event{Type: steps.EvActionStart, Step: step, Action: &steps.ActionRecord{Kind: "run", Summary: "run it"}})
}

func (l *stateLog) actionResult(step string, ok bool) *stateLog {
	return l.add(&steps.Event{Type: steps.EvActionResult, Step: step, Action: &steps.ActionRecord{Kind: "run", Summary: "run it", OK: ok}})
}

func (l *stateLog) stepStart(step string) *stateLog {
	return l.add(&steps.Event{Type: steps.EvStepStart, Step: step, Marks: map[string]steps.Mark{"log": {Size: 10}}})
}

func (l *stateLog) stepEnd(step string, status steps.StepStatus, msg string) *stateLog {
	return l.add(steps.StepEnd(step, status, msg))
}

func TestRunStateFollowsARun(t *testing.T) {
	l := (&stateLog{}).start()
	rs := steps.NewRunState(l.events)
	if rs.Session == nil || rs.Session.RunID != "r1" || !rs.Started.Equal(stateT0.Add(time.Minute)) {
		t.Fatalf("session = %+v, started %v", rs.Session, rs.Started)
	}
	if len(rs.Steps) != 3 || rs.Current() != rs.Step("a") || rs.Step("a").Status != steps.StepPending {
		t.Fatalf("after the plan: %d steps, current %v", len(rs.Steps), rs.Current())
	}
	if !rs.Step("b").Planned.Skip || rs.Step("b").Planned.Reason != "not needed" {
		t.Errorf("planned b = %+v", rs.Step("b").Planned)
	}

	l.stepStart("a").check("a", "pre", 0, steps.Pass).actionStart("a")
	rs = steps.NewRunState(l.events)
	a := rs.Step("a")
	t.Run("a started action without result has an unknown outcome", func(t *testing.T) {
		if a.Status != steps.StepRunning || !a.ActionPending || a.ActionDone || a.ActionRuns != 1 {
			t.Errorf("a = status %s pending %v done %v runs %d", a.Status, a.ActionPending, a.ActionDone, a.ActionRuns)
		}
		if a.Marks["log"].Size != 10 || !a.Start.Equal(stateT0.Add(3*time.Minute)) {
			t.Errorf("marks %v, start %v", a.Marks, a.Start)
		}
		if a.Pre[0] == nil || a.Pre[0].Status != steps.Pass || len(a.History) != 1 {
			t.Errorf("pre = %v, history %d", a.Pre, len(a.History))
		}
		if a.Finished() || rs.Current() != a {
			t.Error("a running step is not finished and is current")
		}
	})

	l.actionResult("a", true).check("a", "gate", 0, steps.Pass).check("a", "gate", 1, steps.Fail).
		decide("a", steps.Override, steps.OnGates, "checked by hand").
		stepEnd("a", steps.StepOverridden, "checked by hand").
		stepEnd("b", steps.StepSkipped, "not needed")
	rs = steps.NewRunState(l.events)
	a = rs.Step("a")
	t.Run("the result settles the action", func(t *testing.T) {
		if a.ActionPending || !a.ActionDone || a.Action == nil || !a.Action.OK {
			t.Errorf("a = pending %v done %v action %+v", a.ActionPending, a.ActionDone, a.Action)
		}
	})
	t.Run("an override covers the failed gates only", func(t *testing.T) {
		want := map[string]string{"gate/1": "checked by hand"}
		if !reflect.DeepEqual(a.Overrides, want) {
			t.Errorf("overrides = %v, want %v", a.Overrides, want)
		}
		if len(a.Decisions) != 1 || a.Decisions[0].Kind != steps.Override {
			t.Errorf("decisions = %+v", a.Decisions)
		}
	})
	t.Run("step ends carry status and reason", func(t *testing.T) {
		if a.Status != steps.StepOverridden || a.Reason != "checked by hand" || !a.Finished() || a.End.IsZero() {
			t.Errorf("a = %s %q end %v", a.Status, a.Reason, a.End)
		}
		if b := rs.Step("b"); b.Status != steps.StepSkipped || b.Reason != "not needed" {
			t.Errorf("b = %s %q", b.Status, b.Reason)
		}
		if rs.Current() != rs.Step("c") {
			t.Errorf("current = %v, want c", rs.Current())
		}
	})

	l.add(&steps.Event{Type: steps.EvResume, Message: "resumed"}).
		stepStart("c").
		decide("c", steps.Confirm, steps.OnConfirm, "").
		stepEnd("c", steps.StepDone, "").
		add(steps.RunEnd(steps.RunDone, "every step is done"))
	rs = steps.NewRunState(l.events)
	t.Run("the run ends", func(t *testing.T) {
		if !rs.Ended || rs.Outcome != steps.RunDone || rs.Message != "every step is done" || rs.EndedAt.IsZero() {
			t.Errorf("ended %v outcome %q message %q at %v", rs.Ended, rs.Outcome, rs.Message, rs.EndedAt)
		}
		if rs.Resumes != 1 || rs.LastSeq != len(l.events) || rs.Current() != nil {
			t.Errorf("resumes %d last seq %d current %v", rs.Resumes, rs.LastSeq, rs.Current())
		}
		if c := rs.Step("c"); !c.Confirmed || c.Status != steps.StepDone {
			t.Errorf("c = %+v", c)
		}
	})
}

func TestRunStateDecisions(t *testing.T) {
	// Each case starts step a, runs what is given, and looks at a's state.
	tests := []struct {
		name  string
		build func(l *stateLog)
		check func(t *testing.T, a *steps.StepState)
	}{
		{
			name: "accept settles an unknown outcome as done and successful",
			build: func(l *stateLog) {
				l.actionStart("a").check("a", "gate", 0, steps.Pass).decide("a", steps.Accept, steps.OnUnknown, "")
			},
			check: func(t *testing.T, a *steps.StepState) {
				if a.ActionPending || !a.ActionDone || a.Action == nil || !a.Action.OK || a.ActionRuns != 1 {
					t.Errorf("a = pending %v done %v action %+v runs %d", a.ActionPending, a.ActionDone, a.Action, a.ActionRuns)
				}
			},
		},
		{
			name: "rerun forgets the unknown action and its gates",
			build: func(l *stateLog) {
				l.actionStart("a").check("a", "gate", 0, steps.Fail).decide("a", steps.Rerun, steps.OnUnknown, "")
			},
			check: func(t *testing.T, a *steps.StepState) {
				if a.ActionPending || a.ActionDone || a.Action != nil || len(a.Gates) != 0 {
					t.Errorf("a = pending %v done %v action %+v gates %v", a.ActionPending, a.ActionDone, a.Action, a.Gates)
				}
				if len(a.History) != 1 {
					t.Errorf("history lost the gate result: %d entries", len(a.History))
				}
			},
		},
		{
			name: "an override of an unknown outcome accepts the action and the failed gates",
			build: func(l *stateLog) {
				l.actionStart("a").check("a", "gate", 0, steps.Fail).check("a", "gate", 1, steps.Pass).
					decide("a", steps.Override, steps.OnUnknown, "seen in the console")
			},
			check: func(t *testing.T, a *steps.StepState) {
				want := map[string]string{"action": "seen in the console", "gate/0": "seen in the console"}
				if !reflect.DeepEqual(a.Overrides, want) || a.ActionPending || !a.ActionDone {
					t.Errorf("overrides %v pending %v done %v", a.Overrides, a.ActionPending, a.ActionDone)
				}
			},
		},
		{
			name: "retry of pre-checks clears them",
			build: func(l *stateLog) {
				l.check("a", "pre", 0, steps.Fail).decide("a", steps.Retry, steps.OnPre, "")
			},
			check: func(t *testing.T, a *steps.StepState) {
				if len(a.Pre) != 0 {
					t.Errorf("pre = %v", a.Pre)
				}
			},
		},
		{
			name: "retry of a failed action clears it and its gates",
			build: func(l *stateLog) {
				l.actionStart("a").actionResult("a", false).check("a", "gate", 0, steps.Fail).decide("a", steps.Retry, steps.OnAction, "")
			},
			check: func(t *testing.T, a *steps.StepState) {
				if a.ActionDone || a.Action != nil || len(a.Gates) != 0 || a.ActionRuns != 1 {
					t.Errorf("done %v action %+v gates %v runs %d", a.ActionDone, a.Action, a.Gates, a.ActionRuns)
				}
			},
		},
		{
			name: "retry of gates keeps the action",
			build: func(l *stateLog) {
				l.actionStart("a").actionResult("a", true).check("a", "gate", 0, steps.Fail).decide("a", steps.Retry, steps.OnGates, "")
			},
			check: func(t *testing.T, a *steps.StepState) {
				if !a.ActionDone || a.Action == nil || len(a.Gates) != 0 {
					t.Errorf("done %v action %+v gates %v", a.ActionDone, a.Action, a.Gates)
				}
			},
		},
		{
			name: "an override of failed pre-checks covers only the failed ones",
			build: func(l *stateLog) {
				l.check("a", "pre", 0, steps.Pass).check("a", "pre", 1, steps.Error).check("a", "pre", 2, steps.Skipped).
					decide("a", steps.Override, steps.OnPre, "host is being rebuilt")
			},
			check: func(t *testing.T, a *steps.StepState) {
				if want := map[string]string{"pre/1": "host is being rebuilt"}; !reflect.DeepEqual(a.Overrides, want) {
					t.Errorf("overrides = %v, want %v", a.Overrides, want)
				}
			},
		},
		{
			name: "an override of a failed action",
			build: func(l *stateLog) {
				l.actionStart("a").actionResult("a", false).decide("a", steps.Override, steps.OnAction, "done by hand")
			},
			check: func(t *testing.T, a *steps.StepState) {
				if want := map[string]string{"action": "done by hand"}; !reflect.DeepEqual(a.Overrides, want) {
					t.Errorf("overrides = %v, want %v", a.Overrides, want)
				}
			},
		},
		{
			name: "skip is noted",
			build: func(l *stateLog) {
				l.decide("a", steps.Skip, steps.OnConfirm, "not today")
			},
			check: func(t *testing.T, a *steps.StepState) {
				if !a.SkipAsked || a.Confirmed {
					t.Errorf("skip asked %v confirmed %v", a.SkipAsked, a.Confirmed)
				}
			},
		},
		{
			name: "a confirmation with an answer command keeps it",
			build: func(l *stateLog) {
				l.add(&steps.Event{Type: steps.EvDecision, Step: "a", Decision: &steps.Decision{Kind: steps.Confirm, On: steps.OnConfirm, Run: &steps.AnswerRun{Role: "old", Command: "true"}}})
			},
			check: func(t *testing.T, a *steps.StepState) {
				if !a.Confirmed || a.Answer == nil || a.Answer.Command != "true" {
					t.Errorf("confirmed %v answer %+v", a.Confirmed, a.Answer)
				}
			},
		},
		{
			name: "a second action start counts as a second run",
			build: func(l *stateLog) {
				l.actionStart("a").actionResult("a", false).decide("a", steps.Retry, steps.OnAction, "").actionStart("a")
			},
			check: func(t *testing.T, a *steps.StepState) {
				if a.ActionRuns != 2 || !a.ActionPending {
					t.Errorf("runs %d pending %v", a.ActionRuns, a.ActionPending)
				}
			},
		},
		{
			name: "a later check result replaces the earlier one of the same index",
			build: func(l *stateLog) {
				l.check("a", "gate", 0, steps.Fail).check("a", "gate", 0, steps.Pass)
			},
			check: func(t *testing.T, a *steps.StepState) {
				if a.Gates[0].Status != steps.Pass || len(a.History) != 2 {
					t.Errorf("gate 0 = %s, history %d", a.Gates[0].Status, len(a.History))
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := (&stateLog{}).start().stepStart("a")
			tt.build(l)
			tt.check(t, steps.NewRunState(l.events).Step("a"))
		})
	}
}

func TestRunStateAbort(t *testing.T) {
	l := (&stateLog{}).start().stepStart("a").
		decide("a", steps.Abort, steps.OnConfirm, "wrong window").
		stepEnd("a", steps.StepAborted, "wrong window").
		add(steps.RunEnd(steps.RunAborted, "aborted at step a: wrong window"))
	rs := steps.NewRunState(l.events)
	if a := rs.Step("a"); a.Status != steps.StepAborted || !a.Finished() {
		t.Errorf("a = %s", a.Status)
	}
	if !rs.Ended || rs.Outcome != steps.RunAborted {
		t.Errorf("run ended %v outcome %q", rs.Ended, rs.Outcome)
	}
	if rs.Current() != rs.Step("b") {
		t.Errorf("current = %v, want b: the steps after an abort stay unfinished", rs.Current())
	}
}

func TestRunStateToleratesOddJournals(t *testing.T) {
	tests := []struct {
		name   string
		events func(l *stateLog)
	}{
		{"events of an unknown step", func(l *stateLog) {
			l.stepStart("zz").check("zz", "gate", 0, steps.Fail).actionStart("zz").decide("zz", steps.Override, steps.OnGates, "x").stepEnd("zz", steps.StepDone, "")
		}},
		{"a check before its step started", func(l *stateLog) {
			l.check("a", "pre", 0, steps.Fail).check("a", "gate", 0, steps.Fail)
		}},
		{"an override before its step started", func(l *stateLog) {
			l.decide("a", steps.Override, steps.OnUnknown, "x").decide("a", steps.Override, steps.OnPre, "x")
		}},
		{"a check and a decision without their payload", func(l *stateLog) {
			l.add(&steps.Event{Type: steps.EvCheck, Step: "a"}).add(&steps.Event{Type: steps.EvDecision, Step: "a"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := (&stateLog{}).start()
			tt.events(l)
			rs := steps.NewRunState(l.events) // must not panic
			if rs.Step("zz") != nil || len(rs.Steps) != 3 {
				t.Errorf("steps = %d, zz %v", len(rs.Steps), rs.Step("zz"))
			}
		})
	}
}

func TestFoldingDoesNotChangeTheEvents(t *testing.T) {
	l := (&stateLog{}).start().stepStart("a").actionStart("a").check("a", "gate", 0, steps.Pass).
		decide("a", steps.Accept, steps.OnUnknown, "")
	before, err := json.Marshal(l.events)
	if err != nil {
		t.Fatal(err)
	}
	rs := steps.NewRunState(l.events)
	after, _ := json.Marshal(l.events)
	if string(before) != string(after) {
		t.Errorf("NewRunState changed its events:\nbefore %s\nafter  %s", before, after)
	}
	// Folding a prefix again (as an export of the run so far does) must show the action
	// as started, not as accepted.
	prefix := steps.NewRunState(l.events[:4])
	if a := prefix.Step("a"); a.Action == nil || a.Action.OK || !a.ActionPending {
		t.Errorf("prefix: action %+v pending %v", a.Action, a.ActionPending)
	}
	if !rs.Step("a").Action.OK {
		t.Error("the whole fold lost the accepted action")
	}
}
