package steps

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cutover/cutover/probe"
)

// Recorder persists events before the engine acts on them (the journal).
type Recorder interface {
	Record(ev *Event) error
}

// Observer sees every event after it is recorded, and live progress that is not.
type Observer interface {
	Event(ev *Event)
	Progress(p Progress)
}

// Options configure an engine.
type Options struct {
	// Pool provides the connections; nil means no host access (tests of the fold only).
	Pool *probe.Pool
	// Observer receives events and progress; nil means nobody watches.
	Observer Observer
	// Now is the operator's clock; nil means time.Now.
	Now func() time.Time
	// Hard, when cancelled, interrupts a running action. Cancelling the context given to
	// Advance only stops waiting: an action already started runs to its end and its
	// result is recorded, so an interrupt never leaves an outcome unknown by choice.
	Hard context.Context
	// Operator is who runs it (user@machine); Version the program's version.
	Operator, Machine, Version string
	// Inventory and InventoryDigest name the inventory the hosts came from.
	Inventory, InventoryDigest string
	// Replay names the journal a replay follows.
	Replay string
	// Secrets gives the values of secret parameters when resuming (they are never
	// recorded, so they must be given again).
	Secrets map[string]string
	// AllowChanged lets a resume or replay use a runbook that changed since recording.
	AllowChanged bool
	// RunID names a new run; empty means Start makes one up (NewRunID). The runner picks
	// it before Start so the hosts' locks can name the run they belong to.
	RunID string
}

// NewRunID names a run started at t: the time and a random suffix.
func NewRunID(t time.Time) string {
	var rnd [3]byte
	_, _ = rand.Read(rnd[:])
	return t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(rnd[:])
}

// Engine runs a plan one transition at a time: each call to Advance performs exactly one
// thing (start a step, run one check, run the action, end a step) and records it before
// returning. When the operator must decide, Advance refuses and Prompt says what is
// asked; Decide records the answer. The headless runner, the TUI and the tests all
// drive it through these four methods.
type Engine struct {
	plan  *Plan
	rb    *Runbook
	env   *runEnv
	rec   Recorder
	obs   Observer
	hard  context.Context
	state *RunState
	seq   int
	opts  Options
}

// StartError says a step could not start: cutover could not note where its logs end
// (the host did not answer). Nothing was recorded; Advance tries again when called.
type StartError struct {
	Step string
	Err  error
}

// Error names the step and why it could not start.
func (e *StartError) Error() string {
	return fmt.Sprintf("step %s has not started: noting where its logs end failed: %v (nothing ran; try again when the host answers)", e.Step, e.Err)
}

// Unwrap returns the cause.
func (e *StartError) Unwrap() error { return e.Err }

// Sentinel errors of Advance and Decide.
var (
	ErrNeedDecision = errors.New("the operator must decide before the run can go on")
	ErrFinished     = errors.New("the run has ended")
)

func newEngine(plan *Plan, rec Recorder, opts Options) *Engine {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	hard := opts.Hard
	if hard == nil {
		hard = context.Background()
	}
	e := &Engine{plan: plan, rb: plan.Runbook, rec: rec, obs: opts.Observer, hard: hard, opts: opts,
		state: &RunState{byID: map[string]*StepState{}}}
	e.env = plan.env(opts.Pool, now)
	if opts.Observer != nil {
		e.env.observe = opts.Observer.Progress
	}
	return e
}

// Start begins a new run of plan, recording the session and the plan.
func Start(plan *Plan, rec Recorder, opts Options) (*Engine, error) {
	e := newEngine(plan, rec, opts)
	e.env.runID = opts.RunID
	if e.env.runID == "" {
		e.env.runID = NewRunID(e.env.now())
	}
	sess := &Session{
		RunID: e.env.runID, Runbook: e.rb.ID, Title: e.rb.Title, Hash: e.rb.Hash, File: e.rb.File,
		Roles: map[string]string{}, Params: map[string]string{}, Facts: map[string]*probe.Facts{},
		Inventory: opts.Inventory, InventoryDigest: opts.InventoryDigest,
		Operator: opts.Operator, Machine: opts.Machine, Version: opts.Version, Replay: opts.Replay,
	}
	for r, h := range plan.Roles {
		sess.Roles[r] = h.Name
		if f := plan.Facts[h.Name]; f != nil {
			sess.Facts[h.Name] = f
		}
	}
	for _, p := range e.rb.Params {
		if p.Secret {
			sess.Secret = append(sess.Secret, p.ID)
			continue
		}
		sess.Params[p.ID] = format(plan.Params[p.ID])
	}
	if err := e.emit(&Event{Type: EvSession, Session: sess}); err != nil {
		return nil, err
	}
	if err := e.emit(&Event{Type: EvPlan, Plan: plan.Steps}); err != nil {
		return nil, err
	}
	return e, nil
}

// Note records a remark in the journal (a lock taken or broken, with its reason).
func (e *Engine) Note(msg string) error {
	return e.emit(&Event{Type: EvNote, Message: msg})
}

// Plan is the plan being run.
func (e *Engine) Plan() *Plan { return e.plan }

// State is the fold of every event so far. Callers must not change it, and must read it
// only from the goroutine that drives the engine.
func (e *Engine) State() *RunState { return e.state }

// Finished reports whether the run has ended.
func (e *Engine) Finished() bool { return e.state.Ended }

// emit records an event (secrets removed), folds it into the state and tells the observer.
func (e *Engine) emit(ev *Event) error {
	e.seq++
	ev.Seq = e.seq
	if ev.Time.IsZero() {
		ev.Time = e.env.now()
	}
	ev = e.scrub(ev)
	if err := e.rec.Record(ev); err != nil {
		e.seq--
		return fmt.Errorf("journal: %w", err)
	}
	e.state.Apply(ev)
	if ev.Type == EvFacts && ev.Facts != nil {
		e.learn(ev.Facts)
	}
	if e.obs != nil {
		e.obs.Event(ev)
	}
	return nil
}

// scrub removes every secret value from an event, wherever it hides (command output,
// evidence, an INI diff), leaving the fields the fold relies on intact (redactEvent).
func (e *Engine) scrub(ev *Event) *Event {
	return redactEvent(ev, e.env.secrets)
}

type phase int

const (
	phIdle phase = iota
	phStart
	phSkip
	phPre
	phAction
	phGate
	phEnd
	phFinish
	phReplan
	phPreflight
)

// where works out what comes next from the state alone. It is the single place that
// defines the order of a step's parts.
func (e *Engine) where() (phase, int, *Prompt) {
	if e.state.Ended {
		return phIdle, 0, nil
	}
	st := e.state.Current()
	if st == nil {
		return phFinish, 0, nil
	}
	s := e.rb.Step(st.ID())
	if st.Status == StepPending {
		if e.state.factsSincePlan {
			return phReplan, 0, nil
		}
		if st.Planned.Skip {
			return phSkip, 0, nil
		}
		if e.preflightDue(s) {
			if e.state.Preflight == nil {
				return phPreflight, 0, nil
			}
			if failed := e.state.PreflightFailed(); len(failed) > 0 {
				return phIdle, 0, e.prompt(st, s, AskCheckFailed, OnPreflight, failed)
			}
		}
		return phStart, 0, nil
	}
	if st.SkipAsked {
		return phEnd, 0, nil
	}
	for i := range s.Pre {
		r := st.Pre[i]
		if r == nil {
			return phPre, i, nil
		}
	}
	if failed := failedChecks(st, st.Pre, PhasePre); len(failed) > 0 {
		return phIdle, 0, e.prompt(st, s, AskCheckFailed, OnPre, failed)
	}
	if (s.Manual || s.Confirm || !s.Phrase.IsZero()) && !st.Confirmed {
		return phIdle, 0, e.prompt(st, s, AskConfirm, OnConfirm, nil)
	}
	if s.Action != nil || st.Answer != nil {
		if st.ActionPending {
			for i := range s.Gates {
				if st.Gates[i] == nil {
					return phGate, i, nil
				}
			}
			return phIdle, 0, e.prompt(st, s, AskUnknown, OnUnknown, failedChecks(st, st.Gates, PhaseGate))
		}
		if !st.ActionDone {
			return phAction, 0, nil
		}
		if st.Action != nil && !st.Action.OK {
			if _, ok := st.ActionOverride(); !ok {
				return phIdle, 0, e.prompt(st, s, AskActionFailed, OnAction, nil)
			}
		}
	}
	for i := range s.Gates {
		if st.Gates[i] == nil {
			return phGate, i, nil
		}
	}
	if failed := failedChecks(st, st.Gates, PhaseGate); len(failed) > 0 {
		return phIdle, 0, e.prompt(st, s, AskCheckFailed, OnGates, failed)
	}
	return phEnd, 0, nil
}

// Advance performs the next transition. It returns ErrNeedDecision when a prompt is
// open, ErrFinished when the run has ended, or ctx's error when interrupted while
// waiting (nothing is recorded for an interrupted check; it runs again on resume).
func (e *Engine) Advance(ctx context.Context) error {
	ph, i, p := e.where()
	if p != nil {
		return ErrNeedDecision
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	st := e.state.Current()
	switch ph {
	case phIdle:
		return ErrFinished
	case phFinish:
		return e.emit(RunEnd(RunDone, "every step is done"))
	case phReplan:
		return e.replan()
	case phSkip:
		if s := e.rb.Step(st.ID()); s != nil && s.When != nil && usesFacts(s.When.Src) {
			// The step is skipped for what the hosts looked like: a host that was down may
			// answer by now, and then the step may be needed after all.
			if ev := e.cameBack(ctx); ev != nil {
				return e.emit(ev)
			}
		}
		return e.emit(StepEnd(st.ID(), StepSkipped, st.Planned.Reason))
	}
	s := e.rb.Step(st.ID())
	switch ph {
	case phStart:
		if ev := e.cameBack(ctx); ev != nil {
			return e.emit(ev)
		}
		start := e.env.now()
		x := e.exec(st, s)
		x.start = start
		marks := map[string]Mark{}
		for _, ch := range append(append([]*Check{}, s.Pre...), s.Gates...) {
			if m, ok := ch.Spec.(marker); ok {
				if err := m.mark(ctx, x, marks); err != nil && ctx.Err() == nil {
					return &StartError{Step: s.ID, Err: err}
				}
			}
		}
		if err := ctx.Err(); err != nil {
			// Interrupted while noting where the logs end: a start without its marks would
			// let the gates read lines written before the step. Nothing is recorded; the
			// step starts again when the run goes on.
			return err
		}
		if len(marks) == 0 {
			marks = nil
		}
		return e.emit(&Event{Type: EvStepStart, Step: s.ID, Time: start, Marks: marks})
	case phPre:
		r := e.runCheck(ctx, st, s, s.Pre[i], PhasePre, i)
		if r == nil {
			return ctx.Err()
		}
		return e.emit(&Event{Type: EvCheck, Step: s.ID, Check: r})
	case phGate:
		r := e.runCheck(ctx, st, s, s.Gates[i], PhaseGate, i)
		if r == nil {
			return ctx.Err()
		}
		return e.emit(&Event{Type: EvCheck, Step: s.ID, Check: r})
	case phAction:
		return e.runAction(ctx, st, s)
	case phPreflight:
		rep := preflight(ctx, e.env, e.plan.Steps)
		if rep == nil {
			return ctx.Err()
		}
		return e.emit(&Event{Type: EvPreflight, Step: s.ID, Preflight: rep, Message: rep.Headline()})
	case phEnd:
		status, msg := StepDone, ""
		if st.SkipAsked {
			status = StepSkipped
			msg = lastReason(st, Skip)
		} else if len(st.Overrides) > 0 {
			status = StepOverridden
			msg = lastReason(st, Override)
		}
		return e.emit(StepEnd(s.ID, status, msg))
	}
	return fmt.Errorf("internal: unknown phase %d", ph)
}

func (e *Engine) exec(st *StepState, s *Step) *stepExec {
	return &stepExec{runEnv: e.env, step: s, start: st.Start, marks: st.Marks}
}

// runCheck evaluates one check of the current step, polling while it fails if the check
// waits. The gates of an action of unknown outcome are looked at once: they are evidence
// for the operator's decision, who should not wait minutes for a service that may never
// have been started (retry looks again). It returns nil when ctx ends first.
func (e *Engine) runCheck(ctx context.Context, st *StepState, s *Step, ch *Check, phase Phase, i int) *CheckResult {
	poll := !(phase == PhaseGate && st.ActionPending)
	return e.exec(st, s).evaluate(ctx, evaluation{check: ch, phase: phase, index: i, poll: poll})
}

// runAction records what is about to be done, does it, and records the outcome. The
// action runs under the hard context only: an interrupt waits for it to finish.
func (e *Engine) runAction(ctx context.Context, st *StepState, s *Step) error {
	x := e.exec(st, s)
	var rec ActionRecord
	var err error
	var do func(context.Context)
	if st.Answer != nil {
		cmd := st.Answer.Command
		h := x.host(st.Answer.Role)
		rec = ActionRecord{Kind: "run", Answer: true, Hosts: []string{h.Name}, Commands: []string{x.redact(cmd)},
			Summary: fmt.Sprintf("perform the manual step with a command on %s", h.Name)}
		do = func(actx context.Context) { runCommand(actx, x, st.Answer.Role, cmd, []int{0}, &rec) }
	} else {
		rec, err = s.Action.Spec.plan(x)
		do = func(actx context.Context) { s.Action.Spec.run(actx, x, &rec) }
	}
	if err := e.emit(&Event{Type: EvActionStart, Step: s.ID, Action: copyRecord(rec)}); err != nil {
		return err
	}
	t0 := e.env.now()
	if err != nil {
		rec.Error = err.Error()
	} else {
		actx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		stop := context.AfterFunc(e.hard, cancel)
		do(actx)
		stop()
		cancel()
		if e.hard.Err() != nil && !rec.OK {
			// Say that the operator stopped it, not that it failed by itself: the resume
			// asks whether to run it again, and the export shows why it did not finish.
			rec.Error = "interrupted by the operator while it ran (a second interrupt stops a running action): " + rec.Error
		}
	}
	rec.Elapsed = Millis(e.env.now().Sub(t0))
	rec.Error = e.env.redact(rec.Error)
	return e.emit(&Event{Type: EvActionResult, Step: s.ID, Action: &rec})
}

func copyRecord(r ActionRecord) *ActionRecord { return &r }

// cameBack looks again at a host that may be down (a failed primary) and did not answer
// so far: once it answers, its facts are recorded, so the steps that follow (bringing it
// back, failing back to it) see its names and addresses. It returns the event to record,
// or nil.
func (e *Engine) cameBack(ctx context.Context) *Event {
	if e.env.pool == nil {
		return nil
	}
	for _, r := range e.rb.Roles {
		h := e.plan.Roles[r.ID]
		if !r.MayBeDown || h == nil {
			continue
		}
		if f := e.env.facts[h.Name]; f != nil && f.Reachable {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		f := (&probe.Prober{Pool: e.env.pool, Now: e.env.now}).Probe(pctx, h)
		cancel()
		if f.Reachable {
			return &Event{Type: EvFacts, Facts: f, Message: h.Name + " answers again"}
		}
	}
	return nil
}

// replan records the plan again once a host that was down answers (its facts were
// learnt): a step not started yet that was skipped because of what the hosts looked like
// then runs if its condition now holds (the primary's fencing, once the primary answers).
// A step already planned to run keeps running: new facts add work, they never drop it,
// since a step it would replace may be behind already (fence-down-sync stops the sync
// job on the standby when fence-sync, which would have stopped it on both, was skipped).
// Steps that started or ended keep their fate.
func (e *Engine) replan() error {
	next, added := e.plan.replanned(e.state)
	msg := "planned again with the new facts: no step changes"
	if len(added) > 0 {
		msg = "planned again with the new facts: now run " + strings.Join(added, ", ")
	}
	if err := e.emit(&Event{Type: EvPlan, Plan: next, Message: msg}); err != nil {
		return err
	}
	e.plan.Steps = next
	return nil
}

// learn takes in a host's new facts: what expressions and checks see of its roles.
func (e *Engine) learn(f *probe.Facts) {
	facts := make(map[string]*probe.Facts, len(e.env.facts)+1)
	for k, v := range e.env.facts {
		facts[k] = v
	}
	facts[f.Name] = f
	e.env.facts, e.plan.Facts = facts, facts
	vals := e.plan.values()
	e.env.values.Roles = vals.Roles
}
