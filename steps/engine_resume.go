package steps

// Taking a run up again from its journal: Resume continues it, Restore rebuilds its
// plan and state for exports and verify-only replays, RecordedInputs reads back the
// inputs its session recorded.

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/cutover/cutover/probe"
)

// Resume rebuilds a run from its journal and continues it: completed steps stay done,
// and an action that started without a recorded result is treated as of unknown
// outcome: its gates are checked and the operator decides. The recorded plan is kept.
func Resume(events []*Event, rb *Runbook, lookup HostLookup, rec Recorder, opts Options) (*Engine, error) {
	plan, st, err := Restore(events, rb, lookup, opts)
	if err != nil {
		return nil, err
	}
	// A run that died between recording its session and its plan did nothing yet: it
	// is planned again from the recorded inputs and facts (Restore did), and the plan is
	// recorded now.
	replanned := st.Steps == nil
	var lost []string
	for _, ss := range st.Steps {
		if rb.Step(ss.ID()) == nil {
			// Possible only with AllowChanged: the recorded plan names a step the runbook
			// no longer has, and the engine cannot run a step it has no definition of.
			lost = append(lost, fmt.Sprintf("step %s was planned when the run was recorded and runbook %s no longer has it", ss.ID(), rb.ID))
		}
	}
	if len(lost) > 0 {
		return nil, &InputError{Problems: lost}
	}
	e := newEngine(plan, rec, opts)
	e.state = st
	e.env.runID = st.Session.RunID
	if len(events) > 0 {
		e.seq = events[len(events)-1].Seq
	}
	resume := &Event{Type: EvResume, Message: "resumed by " + opts.Operator}
	if cur := st.Current(); cur != nil && e.preStale(cur) {
		// Naming the step makes the fold forget its pre-check results (RunState.Apply):
		// the guard they passed may no longer hold, so they run again before the action;
		// one that failed stopped the run, and its cause may have been fixed since.
		resume.Step = cur.ID()
		if len(failedChecks(cur, cur.Pre, PhasePre)) > 0 {
			resume.Message += "; the pre-checks of step " + cur.ID() + " are checked again"
		} else {
			resume.Message += "; the pre-checks of step " + cur.ID() + " run again before its action"
		}
	}
	if !st.changed() && st.Preflight != nil {
		resume.Message += "; nothing was changed yet, so the preflight looks at the hosts' history again before the first change"
	}
	if err := e.emit(resume); err != nil {
		return nil, err
	}
	if replanned {
		if err := e.emit(&Event{Type: EvPlan, Plan: plan.Steps}); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// preStale reports whether a step's pre-check results are stale on resume: nothing of
// the step has run in this attempt, its pre-checks have results, and either it has an
// action (or an answer command) they would let start on evidence from before the
// interruption, or one of them failed and stopped the run (a manual step too: the
// operator may have fixed the cause, and a resume looks again).
func (e *Engine) preStale(st *StepState) bool {
	s := e.rb.Step(st.ID())
	if s == nil || st.Status != StepRunning || st.SkipAsked || len(st.Pre) == 0 {
		return false
	}
	if st.Action != nil || st.ActionPending || st.ActionDone {
		return false
	}
	return s.Action != nil || st.Answer != nil || len(failedChecks(st, st.Pre, PhasePre)) > 0
}

// Restore rebuilds the plan and state a journal describes, without recording anything
// (exports, verify-only replays and Resume use it).
func Restore(events []*Event, rb *Runbook, lookup HostLookup, opts Options) (*Plan, *RunState, error) {
	st := NewRunState(events)
	if st.Session == nil {
		return nil, nil, errors.New("the journal has no session: it is not a cutover journal, or it is empty")
	}
	s := st.Session
	if rb.ID != s.Runbook {
		return nil, nil, fmt.Errorf("the journal is a run of %s, not %s", s.Runbook, rb.ID)
	}
	if rb.Hash != s.Hash && !opts.AllowChanged {
		return nil, nil, &InputError{Problems: []string{fmt.Sprintf(
			"runbook %s changed since this run was recorded (recorded %s, now %s); use --allow-changed to go on with the new text", rb.ID, short(s.Hash), short(rb.Hash))}}
	}
	plan := &Plan{Runbook: rb, Roles: map[string]*probe.Host{}, Params: map[string]any{}, Facts: map[string]*probe.Facts{}}
	var bad []string
	for _, role := range slices.Sorted(maps.Keys(s.Roles)) {
		host := s.Roles[role]
		h := lookup(host)
		if h == nil {
			bad = append(bad, fmt.Sprintf("role %s: host %q (recorded) is not in the inventory", role, host))
			continue
		}
		plan.Roles[role] = h
		plan.Facts[host] = s.Facts[host]
	}
	for _, p := range rb.Params {
		text, ok := s.Params[p.ID]
		if v, given := opts.Secrets[p.ID]; given && (p.Secret || !ok) {
			text, ok = v, true
		}
		if !ok && !p.Optional && p.Type != TypeBool {
			if p.Secret {
				bad = append(bad, fmt.Sprintf("parameter %s is secret and was not recorded: give it again (--set %s=...)", p.ID, p.ID))
			} else {
				bad = append(bad, fmt.Sprintf("parameter %s is not in the journal (the runbook gained it since): give it with --set %s=...", p.ID, p.ID))
			}
			continue
		}
		if p.Optional && text == format(zeroValue(p.Type)) {
			// Start records an optional parameter left empty as its zero value ("0" for a
			// port), which Parse refuses: read it back as the empty value it was.
			text = ""
		}
		v, err := p.Parse(text)
		if err != nil {
			bad = append(bad, fmt.Sprintf("parameter %s: %v", p.ID, err))
			continue
		}
		plan.Params[p.ID] = v
	}
	if len(bad) > 0 {
		return nil, nil, &InputError{Problems: bad}
	}
	if st.Steps == nil {
		// The session was recorded and the plan was not (the process died in between):
		// nothing was done yet, so the recorded inputs are planned again.
		again, err := Prepare(rb, lookup, RecordedInputs(s, rb, opts.Secrets), s.Facts)
		if err != nil {
			return nil, nil, fmt.Errorf("the journal ends before its plan, and planning again failed: %w", err)
		}
		return again, st, nil
	}
	for _, ss := range st.Steps {
		plan.Steps = append(plan.Steps, ss.Planned)
	}
	return plan, st, nil
}

// RecordedInputs are the roles and parameters a session recorded, as plan inputs;
// secrets (never recorded) come from secrets. An optional parameter left empty was
// recorded as its type's zero value ("0" for a port) and is given back empty.
func RecordedInputs(s *Session, rb *Runbook, secrets map[string]string) Inputs {
	in := Inputs{Roles: map[string]string{}, Params: map[string]string{}}
	for r, h := range s.Roles {
		in.Roles[r] = h
	}
	for _, p := range rb.Params {
		text, ok := s.Params[p.ID]
		if v, given := secrets[p.ID]; given && (p.Secret || !ok) {
			text, ok = v, true
		}
		if !ok {
			continue
		}
		if p.Optional && text == format(zeroValue(p.Type)) {
			text = ""
		}
		in.Params[p.ID] = text
	}
	return in
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
