package steps

import (
	"fmt"
	"strings"
	"time"

	"github.com/cutover/cutover/probe"
)

// StepStatus is where a step stands: pending, running, or how it ended.
type StepStatus string

// Step statuses.
const (
	StepPending    StepStatus = "pending"
	StepRunning    StepStatus = "running"
	StepDone       StepStatus = "done"
	StepSkipped    StepStatus = "skipped"
	StepOverridden StepStatus = "overridden" // done, but a failed check or action was accepted with a reason
	StepAborted    StepStatus = "aborted"
)

// RunStatus is how a run ended.
type RunStatus string

// Run outcomes.
const (
	RunDone    RunStatus = "done"
	RunAborted RunStatus = "aborted"
)

// StepState is what the events say about one step.
type StepState struct {
	Planned PlannedStep
	Status  StepStatus
	// Reason explains a skip or an override.
	Reason     string
	Start, End time.Time
	Marks      map[string]Mark
	// Pre and Gates hold the latest result of each check in the current attempt.
	Pre   map[int]*CheckResult
	Gates map[int]*CheckResult
	// History keeps every check result, retries included, for exports.
	History []*CheckResult
	// Action is the latest action record (the plan at its start, the outcome at its end).
	Action *ActionRecord
	// ActionPending means the action's outcome is unknown: it started and no result was
	// recorded (the process died), or its result says the connection to a host dropped
	// while it ran (Action.Unknown), so what it did on that host is not known.
	ActionPending bool
	ActionDone    bool
	// ActionRuns counts action starts, so tests can prove nothing ran twice.
	ActionRuns int
	Confirmed  bool
	Answer     *AnswerRun
	// Overrides maps a failed check's OverrideKey ("pre/2", "gate/0"), or
	// ActionOverrideKey, to the operator's reason for accepting it.
	Overrides map[string]string
	// SkipAsked is set when the operator chose to skip the step.
	SkipAsked bool
	Decisions []Decision
}

// ID is the step's id.
func (s *StepState) ID() string { return s.Planned.ID }

// Finished reports whether the step has ended one way or another.
func (s *StepState) Finished() bool {
	return s.Status != StepPending && s.Status != StepRunning
}

// RunState is the fold of a journal's events: the engine, the TUI, the exporter and
// resume all derive what they show from it, by applying the same events in order.
type RunState struct {
	Session *Session
	Steps   []*StepState
	byID    map[string]*StepState
	// Ended is set by run_end, with Outcome done or aborted.
	Ended   bool
	Outcome RunStatus
	Message string
	Started time.Time
	EndedAt time.Time
	Resumes int
	LastSeq int
	// Notes are the run's remarks in order: locks taken, locks broken with the reason.
	Notes []Note
	// Preflight is the latest preflight's report (nil before it ran, after a retry, and
	// after a resume while nothing had changed: it runs again then); PreflightOverride
	// the operator's reason for going on although it failed.
	Preflight         *PreflightReport
	PreflightOverride string
	// factsSincePlan is set when a host's facts were learnt after the plan was recorded:
	// the engine plans the steps not started yet again (Engine.replan).
	factsSincePlan bool
}

// Note is a remark the journal keeps.
type Note struct {
	Time    time.Time
	Message string
}

// Step returns the state of step id, or nil.
func (rs *RunState) Step(id string) *StepState { return rs.byID[id] }

// Current returns the first step not yet finished, or nil when all are.
func (rs *RunState) Current() *StepState {
	for _, s := range rs.Steps {
		if !s.Finished() {
			return s
		}
	}
	return nil
}

// Apply folds one event into the state. It never fails: a journal that the reader
// accepted is replayed as it is.
func (rs *RunState) Apply(ev *Event) {
	rs.LastSeq = ev.Seq
	st := rs.byID[ev.Step]
	switch ev.Type {
	case EvSession:
		rs.Session = ev.Session
		rs.Started = ev.Time
	case EvFacts:
		if rs.Session != nil && ev.Facts != nil {
			if rs.Session.Facts == nil {
				rs.Session.Facts = map[string]*probe.Facts{}
			}
			rs.Session.Facts[ev.Facts.Name] = ev.Facts
			rs.factsSincePlan = true
		}
	case EvPlan:
		// A plan recorded mid-run (a host that was down answers again, see Engine.replan)
		// changes only the steps that have not started: a step that started or ended keeps
		// the fate it was run under, and its state.
		old := rs.byID
		rs.Steps, rs.byID = nil, map[string]*StepState{}
		for _, p := range ev.Plan {
			s := old[p.ID]
			switch {
			case s == nil:
				s = &StepState{Planned: p, Status: StepPending}
			case s.Status == StepPending:
				s.Planned = p
			}
			rs.Steps = append(rs.Steps, s)
			rs.byID[p.ID] = s
		}
		rs.factsSincePlan = false
	case EvResume:
		rs.Resumes++
		if !rs.changed() {
			// Nothing changed yet: the hosts' history may have (a log rotated, a phrase
			// fixed), so the preflight looks again before the first change.
			rs.Preflight, rs.PreflightOverride = nil, ""
		}
		// The resume names the step whose pre-checks were passed but whose action has not
		// started: hours may have gone by, so they are evaluated again before it runs.
		if st != nil && !st.ActionPending && !st.ActionDone {
			st.freshPre()
		}
	case EvStepStart:
		if st == nil {
			return
		}
		st.Status, st.Start, st.Marks = StepRunning, ev.Time, ev.Marks
		st.Pre, st.Gates = map[int]*CheckResult{}, map[int]*CheckResult{}
		st.Overrides = map[string]string{}
	case EvCheck:
		if st == nil || ev.Check == nil {
			return
		}
		r := ev.Check
		st.ensureMaps()
		st.History = append(st.History, r)
		if r.Phase == PhasePre {
			st.Pre[r.Index] = r
		} else {
			st.Gates[r.Index] = r
		}
	case EvActionStart:
		if st == nil {
			return
		}
		st.Action, st.ActionPending, st.ActionDone = ev.Action, true, false
		st.ActionRuns++
	case EvActionResult:
		if st == nil {
			return
		}
		st.Action, st.ActionPending, st.ActionDone = ev.Action, false, true
		if a := ev.Action; a != nil && !a.OK && a.Unknown {
			// The connection died while the action ran: it may have done all, some or none
			// of its work. Like a crash mid-action, its gates are checked and the operator
			// decides; it is never run again by itself.
			st.ActionPending, st.ActionDone = true, false
		}
	case EvDecision:
		if st == nil || ev.Decision == nil {
			return
		}
		rs.decide(st, ev.Decision)
	case EvStepEnd:
		if st == nil {
			return
		}
		st.Status, st.Reason, st.End = StepStatus(ev.Status), ev.Message, ev.Time
	case EvRunEnd:
		rs.Ended, rs.Outcome, rs.Message, rs.EndedAt = true, RunStatus(ev.Status), ev.Message, ev.Time
	case EvNote:
		rs.Notes = append(rs.Notes, Note{Time: ev.Time, Message: ev.Message})
	case EvPreflight:
		rs.Preflight, rs.PreflightOverride = ev.Preflight, ""
	}
}

// changed reports whether the run has changed anything yet: an action started, or the
// operator confirmed a step (done by hand, or go ahead with its action).
func (rs *RunState) changed() bool {
	for _, s := range rs.Steps {
		if s.ActionRuns > 0 || s.Confirmed {
			return true
		}
	}
	return false
}

// PreflightFailed lists the preflight's results that stop the run: those that did not
// pass, unless the operator overrode them.
func (rs *RunState) PreflightFailed() []*CheckResult {
	if rs.PreflightOverride != "" {
		return nil
	}
	return rs.Preflight.Failed()
}

func (rs *RunState) decide(st *StepState, d *Decision) {
	st.ensureMaps()
	st.Decisions = append(st.Decisions, *d)
	if d.On == OnPreflight {
		// The preflight belongs to the run, not to the step it stopped in front of.
		switch d.Kind {
		case Retry:
			rs.Preflight = nil
		case Override:
			rs.PreflightOverride = d.Reason
		}
		return
	}
	switch d.Kind {
	case Confirm:
		st.Confirmed, st.Answer = true, d.Run
		if d.On == OnAction {
			// A manual step whose command failed is performed again: by another command,
			// or by hand. Its pre-checks are proved again first, as before a retried action.
			st.ActionPending, st.ActionDone, st.Action = false, false, nil
			st.Gates = map[int]*CheckResult{}
			st.freshPre()
		}
	case Skip:
		st.SkipAsked = true
	case Retry:
		switch d.On {
		case OnPre:
			st.Pre = map[int]*CheckResult{}
		case OnAction:
			// The action runs again: what the pre-checks proved before the failed attempt
			// (the primary stopped, say) is proved again first.
			st.ActionPending, st.ActionDone, st.Action = false, false, nil
			st.Gates = map[int]*CheckResult{}
			st.freshPre()
		default:
			st.Gates = map[int]*CheckResult{}
		}
	case Override:
		switch d.On {
		case OnPre:
			for i, r := range st.Pre {
				if !r.OK() {
					st.Overrides[OverrideKey(PhasePre, i)] = d.Reason
				}
			}
		case OnAction:
			st.Overrides[ActionOverrideKey] = d.Reason
			// A journal written before unreachable results meant "outcome unknown" may
			// override one as a failed action.
			st.ActionPending, st.ActionDone = false, true
		case OnUnknown:
			st.Overrides[ActionOverrideKey] = d.Reason
			st.ActionPending, st.ActionDone = false, true
			fallthrough
		default:
			for i, r := range st.Gates {
				if !r.OK() {
					st.Overrides[OverrideKey(PhaseGate, i)] = d.Reason
				}
			}
		}
	case Accept:
		st.ActionPending, st.ActionDone = false, true
		if st.Action != nil {
			// A copy: the record belongs to the action_start event, which must keep saying
			// what was recorded when a prefix of the journal is folded again.
			a := *st.Action
			a.OK = true
			st.Action = &a
		}
	case Rerun:
		// Run again, maybe hours after the pre-checks passed: they are evaluated again first.
		st.ActionPending, st.ActionDone, st.Action = false, false, nil
		st.Gates = map[int]*CheckResult{}
		st.freshPre()
	}
}

// freshPre forgets the pre-check results of the attempt, and the operator's overrides
// of failed ones: they answered evidence that is no longer current.
func (s *StepState) freshPre() {
	s.ensureMaps()
	s.Pre = map[int]*CheckResult{}
	for k := range s.Overrides {
		if phase, _, ok := strings.Cut(k, "/"); ok && Phase(phase) == PhasePre {
			delete(s.Overrides, k)
		}
	}
}

// ensureMaps makes the per-attempt maps usable when a journal has results or decisions
// for a step without its step_start (the fold must accept any journal the reader does).
func (s *StepState) ensureMaps() {
	if s.Pre == nil {
		s.Pre = map[int]*CheckResult{}
	}
	if s.Gates == nil {
		s.Gates = map[int]*CheckResult{}
	}
	if s.Overrides == nil {
		s.Overrides = map[string]string{}
	}
}

// OverrideKey is the key of StepState.Overrides for check index of phase: "pre/2",
// "gate/0".
func OverrideKey(phase Phase, index int) string { return fmt.Sprintf("%s/%d", phase, index) }

// ActionOverrideKey is the key of StepState.Overrides for a failed action, or one of
// unknown outcome, that the operator accepted.
const ActionOverrideKey = "action"

// CheckOverride returns the operator's reason for accepting failed check i of phase,
// and whether they did.
func (s *StepState) CheckOverride(phase Phase, i int) (string, bool) {
	reason, ok := s.Overrides[OverrideKey(phase, i)]
	return reason, ok
}

// ActionOverride returns the operator's reason for accepting the step's failed action,
// and whether they did.
func (s *StepState) ActionOverride() (string, bool) {
	reason, ok := s.Overrides[ActionOverrideKey]
	return reason, ok
}

// NewRunState folds events into a fresh state.
func NewRunState(events []*Event) *RunState {
	rs := &RunState{byID: map[string]*StepState{}}
	for _, ev := range events {
		rs.Apply(ev)
	}
	return rs
}
