package steps

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/cutover/cutover/probe"
)

// Replaying a recorded run: the same runbook, roles, parameters and decisions, run again
// headless as a new run (with its own journal, whose session names the recording), on
// the same inventory or another one.
//
// What the recording's decisions become:
//   - A confirmation answers the same step again, with the phrase typed then and the
//     answer command that performed a manual step, which runs again. The step's gates
//     still decide whether it is done: a recorded confirmation never passes a gate.
//     A manual step with nothing to check (no gates) and no recorded answer command
//     gets no answer: the replay stops there with "needs an operator", because nothing
//     can show that the operator's hand work was done on these hosts.
//   - A skip of an optional step is repeated, with its reason.
//   - An override (a failed check or action accepted with a reason) is not repeated
//     unless asked for (ReplayOptions.Overrides): what was acceptable then, on those
//     hosts, is for an operator to accept again. Without it the replay stops at the
//     failure like any run.
//   - accept and rerun (settling an action of unknown outcome after a crash), retries
//     and an abort belong to the moment they were made and are not repeated.

// ReplayOptions are the choices of a replay.
type ReplayOptions struct {
	// Secrets gives the secret parameters again: they were never recorded.
	Secrets map[string]string
	// Roles rebinds roles to other hosts (another inventory's names).
	Roles map[string]string
	// AllowChanged accepts a runbook whose content changed since the recording.
	AllowChanged bool
	// Overrides repeats the recording's overrides, with their reasons.
	Overrides bool
}

// Replay is a recorded run turned into the inputs of a new one.
type Replay struct {
	Session *Session
	Inputs  Inputs
	// Answers answer the prompts the recording's decisions answered.
	Answers map[string]*Answer
	// Notes say what of the recording is not replayed, and why.
	Notes []string
}

// PrepareReplay reads a recorded run for replaying it with rb. A runbook whose content
// changed since the recording is refused unless allowed; a secret parameter must be
// given again. Errors are *InputError.
func PrepareReplay(events []*Event, rb *Runbook, opts ReplayOptions) (*Replay, error) {
	st := NewRunState(events)
	s := st.Session
	if s == nil {
		return nil, &InputError{Problems: []string{"the journal has no session: it is not a cutover journal, or it is empty"}}
	}
	if rb.ID != s.Runbook {
		return nil, &InputError{Problems: []string{fmt.Sprintf("the journal is a run of %s, not %s", s.Runbook, rb.ID)}}
	}
	if rb.Hash != s.Hash && !opts.AllowChanged {
		return nil, &InputError{Problems: []string{fmt.Sprintf(
			"runbook %s changed since this run was recorded (recorded %s, now %s): a replay would not repeat what was recorded; use --allow-changed to replay it with the new text",
			rb.ID, short(s.Hash), short(rb.Hash))}}
	}
	var bad []string
	for _, id := range slices.Sorted(maps.Keys(opts.Secrets)) {
		switch p := rb.Param(id); {
		case p == nil:
			bad = append(bad, fmt.Sprintf("--set %s: %s has no parameter %s", id, rb.ID, id))
		case !p.Secret:
			bad = append(bad, fmt.Sprintf("--set %s: the recording has this parameter (%s) and a replay repeats it: --set gives secret parameters only", id, s.Params[id]))
		}
	}
	for _, id := range s.Secret {
		if _, ok := opts.Secrets[id]; !ok && rb.Param(id) != nil {
			bad = append(bad, fmt.Sprintf("parameter %s is secret and was not recorded: give it again with --set %s=...", id, id))
		}
	}
	if len(bad) > 0 {
		return nil, &InputError{Problems: bad}
	}
	in := RecordedInputs(s, rb, opts.Secrets)
	for r, h := range opts.Roles {
		in.Roles[r] = h
	}
	r := &Replay{Session: s, Inputs: in, Answers: map[string]*Answer{}}
	note := func(format string, args ...any) { r.Notes = append(r.Notes, fmt.Sprintf(format, args...)) }
	for _, ss := range st.Steps {
		step := rb.Step(ss.ID())
		if step == nil {
			if len(ss.Decisions) > 0 {
				note("step %s: its recorded decisions are not replayed: the runbook no longer has the step", ss.ID())
			}
			continue
		}
		for _, d := range ss.Decisions {
			a := r.Answers[step.ID]
			get := func() *Answer {
				if a == nil {
					a = &Answer{}
					r.Answers[step.ID] = a
				}
				return a
			}
			switch d.Kind {
			case Confirm:
				if step.Manual && d.Run == nil && len(step.Gates) == 0 {
					note("step %s: a manual step with nothing to check, done by hand in the recording: the replay stops there (needs an operator)", step.ID)
					continue
				}
				x := get()
				x.Confirm, x.Phrase, x.Run = true, d.Phrase, d.Run
				// Gates may all be conditioned off on the hosts of the replay: then too it
				// stops for an operator (Answerer.Decide).
				x.NeedsCheck = step.Manual && d.Run == nil
			case Skip:
				get().Skip = d.Reason
			case Override:
				if !opts.Overrides {
					note("step %s: the recording overrode a failure (%s; reason: %s): not repeated, the replay stops if it fails again (--replay-overrides repeats it)", step.ID, d.On, d.Reason)
					continue
				}
				x := get()
				x.Override = "replayed from the recording: " + d.Reason
				if d.On != "" {
					x.OverrideOn = append(x.OverrideOn, d.On)
				}
			case Abort:
				note("step %s: the recording was aborted here: the replay goes on as far as the answers take it", step.ID)
			}
		}
	}
	return r, nil
}

// GateReport is one gate of a recorded step evaluated again (--verify-only).
type GateReport struct {
	Step, Title string
	// Recorded is how the gate ended in the recording ("" when it has no result there).
	Recorded Status
	// Result is the gate now; nil when the step was not checked (see Why).
	Result *CheckResult
	// Why explains a step whose gates were not checked (skipped, never reached).
	Why string
	// Gate names a gate left out because it holds only during the run (Result is nil).
	Gate string
}

// VerifyGates evaluates, once and without waiting, every end-state gate of the steps a
// recorded run completed (a gate marked during_run is reported as left out, and a step
// without gates, skipped or not completed is reported with why), against the
// hosts as they are now, and changes nothing (checks only read;
// nothing is journaled). Log gates read from where the recording's step began, as they
// did then. facts, when not nil, replaces the recorded facts (a fresh probe).
func VerifyGates(ctx context.Context, events []*Event, rb *Runbook, lookup HostLookup, pool *probe.Pool, facts map[string]*probe.Facts, opts Options) ([]GateReport, error) {
	plan, st, err := Restore(events, rb, lookup, opts)
	if err != nil {
		return nil, err
	}
	if st.Steps == nil {
		return nil, &InputError{Problems: []string{"the journal ends before its plan: the recorded run did nothing to verify"}}
	}
	if facts != nil {
		for _, h := range plan.Roles {
			if f := facts[h.Name]; f != nil {
				plan.Facts[h.Name] = f
			}
		}
	}
	env := plan.env(pool, nowFunc(opts))
	env.runID = st.Session.RunID
	var out []GateReport
	for _, ss := range st.Steps {
		s := rb.Step(ss.ID())
		if s == nil {
			continue // AllowChanged: the runbook lost the step
		}
		rep := GateReport{Step: s.ID, Title: s.Title}
		switch {
		case ss.Status == StepSkipped:
			rep.Why = "skipped in the recording"
			out = append(out, rep)
			continue
		case ss.Status != StepDone && ss.Status != StepOverridden:
			rep.Why = fmt.Sprintf("not completed in the recording (%s)", ss.Status)
			out = append(out, rep)
			continue
		case len(s.Gates) == 0:
			// Listed all the same, so that the report accounts for every step recorded.
			rep.Why = "the step has no gate: nothing to check again"
			out = append(out, rep)
			continue
		}
		x := &stepExec{runEnv: env, step: s, start: ss.Start, marks: ss.Marks}
		for i, ch := range s.Gates {
			if ch.DuringRun {
				g := rep
				g.Gate, g.Why = x.checkName(ch), "holds only during the run"
				out = append(out, g)
				continue
			}
			r := x.evaluate(ctx, evaluation{check: ch, phase: PhaseGate, index: i})
			if r == nil {
				return nil, ctx.Err()
			}
			g := rep
			g.Result = r
			for _, h := range ss.History {
				if h.Phase == PhaseGate && h.Index == i {
					g.Recorded = h.Status
				}
			}
			out = append(out, g)
		}
	}
	return out, nil
}

func nowFunc(opts Options) func() time.Time {
	if opts.Now != nil {
		return opts.Now
	}
	return time.Now
}

// checkName is how a check is named in reports: its own name, or what it verifies.
func (x *stepExec) checkName(ch *Check) string {
	if ch.Name != "" {
		return x.redact(ch.Name)
	}
	return x.redact(ch.Spec.describe(x))
}
