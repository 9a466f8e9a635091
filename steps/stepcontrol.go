package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Step control: an operator steers a run between transitions. A front end asks before
// each automatic action (ActionNext), ends a run resumably after a step, or starts a
// run at a later step by adopting the steps before it (Adopt) when the hosts show them
// done.

// ActionNext returns the step whose automatic action the next transition runs, or nil
// when the next transition is something else (a check, a prompt, the end).
func (e *Engine) ActionNext() *Prompt {
	ph, _, p := e.where()
	if p != nil || ph != phAction {
		return nil
	}
	st := e.state.Current()
	s := e.rb.Step(st.ID())
	x := e.exec(st, s)
	out := &Prompt{Step: s.ID, Title: s.Title, Optional: s.Optional, Manual: s.Manual}
	if st.Answer != nil {
		out.Action = &ActionRecord{Kind: "run", Answer: true, Summary: "perform the manual step with a command on " + x.host(st.Answer.Role).Name,
			Commands: []string{x.redact(st.Answer.Command)}}
		return out
	}
	rec, err := s.Action.Spec.plan(x)
	rec.Summary = x.redact(rec.Summary)
	if err != nil {
		rec.Error = x.redact(err.Error())
	}
	out.Action = &rec
	return out
}

// AdoptError says why a run cannot start at a step: a step before it whose gates do
// not hold now (Gate names the first that fails), or one without a gate to show it
// done.
type AdoptError struct {
	At, Step string
	Gate     *CheckResult
}

// Error names the step and the failing gate with its summary.
func (e *AdoptError) Error() string {
	if e.Gate == nil {
		return fmt.Sprintf("cannot start at %s: step %s has no gate that could show it is done; start at %s or earlier", e.At, e.Step, e.Step)
	}
	return fmt.Sprintf("cannot start at %s: step %s is not done on the hosts: its gate %q does not hold now (%s)", e.At, e.Step, e.Gate.Name, e.Gate.Summary)
}

// Adopt starts the run at step at: every step before it that the plan keeps and that
// has not started must show itself done on the hosts now, by all its gates evaluated
// once (a gate with a wait is not waited for). When they all hold, each is journaled
// as adopted: a step start, its gates' results as evidence, and a done end that says
// so; steps the plan skips end skipped as usual. When one does not hold, no step is
// adopted or run: the run ends, aborted, with the error (*AdoptError) as its message,
// which names the gate; a step with nothing to check is refused too, since nothing
// would show it done, except a pre-seed: it is skipped, saying why, since the copy it
// prepares copies everything without it.
func (e *Engine) Adopt(ctx context.Context, at string) error {
	err := e.adopt(ctx, at)
	var ae *AdoptError
	if errors.As(err, &ae) {
		if eerr := e.emit(RunEnd(RunAborted, "refused to start: "+ae.Error())); eerr != nil {
			return eerr
		}
	}
	return err
}

func (e *Engine) adopt(ctx context.Context, at string) error {
	if e.rb.Step(at) == nil {
		return &InputError{Problems: []string{fmt.Sprintf("--start-at %s: %s has no step %s", at, e.rb.ID, at)}}
	}
	type adopted struct {
		st      *StepState
		results []*CheckResult
		skip    string // why a step that is not needed is skipped instead
	}
	var todo []adopted
	for _, st := range e.state.Steps {
		if st.ID() == at {
			break
		}
		if st.Finished() {
			continue
		}
		if st.Status != StepPending {
			return &InputError{Problems: []string{fmt.Sprintf("--start-at %s: step %s has already started: resume the run instead", at, st.ID())}}
		}
		if st.Planned.Skip {
			todo = append(todo, adopted{st: st})
			continue
		}
		s := e.rb.Step(st.ID())
		x := &stepExec{runEnv: e.env, step: s, start: e.env.now()}
		a := adopted{st: st}
		applied := 0
		for i, ch := range s.Gates {
			r := x.evaluate(ctx, evaluation{check: ch, phase: PhaseGate, index: i})
			if r == nil {
				return ctx.Err()
			}
			if !r.OK() {
				return &AdoptError{At: at, Step: s.ID, Gate: r}
			}
			if r.Status != Skipped {
				applied++
			}
			a.results = append(a.results, r)
		}
		if applied == 0 {
			if p, ok := s.Action.spec().(*PreseedAction); ok {
				// Nothing shows a pre-seed done, and nothing needs it: the copy it
				// prepares sends everything when it finds no staging copy.
				a.skip = fmt.Sprintf("not run (started at %s): a pre-seed only shortens the outage; step %s copies everything without it", at, p.Copy)
				todo = append(todo, a)
				continue
			}
			return &AdoptError{At: at, Step: s.ID}
		}
		todo = append(todo, a)
	}
	for _, a := range todo {
		id := a.st.ID()
		if a.st.Planned.Skip || a.skip != "" {
			reason := a.st.Planned.Reason
			if a.skip != "" {
				reason = a.skip
			}
			if err := e.emit(StepEnd(id, StepSkipped, reason)); err != nil {
				return err
			}
			continue
		}
		if err := e.emit(&Event{Type: EvStepStart, Step: id, Time: e.env.now()}); err != nil {
			return err
		}
		var names []string
		for _, r := range a.results {
			if err := e.emit(&Event{Type: EvCheck, Step: id, Check: r}); err != nil {
				return err
			}
			if r.Status == Pass {
				names = append(names, r.Name)
			}
		}
		msg := fmt.Sprintf("adopted (started at %s): its gates hold now: %s", at, strings.Join(names, "; "))
		if err := e.emit(StepEnd(id, StepDone, msg)); err != nil {
			return err
		}
	}
	return nil
}

// Adopted reports whether a step was adopted by a run started at a later step, not
// performed by it.
func (s *StepState) Adopted() bool {
	return s.Status == StepDone && strings.HasPrefix(s.Reason, "adopted (started at ")
}

// End ends an open run where it stands, aborted with msg, without going on: cutover
// rollback ends the run it backs out, so that its locks are released and it is not
// resumed over the undone changes.
func (e *Engine) End(msg string) error {
	if e.state.Ended {
		return nil
	}
	return e.emit(RunEnd(RunAborted, msg))
}
