package steps

import (
	"context"
	"fmt"
	"time"
)

// judgement runs one kind of look at a check: the check itself (CheckSpec.eval), or the
// preflight's look at the hosts' history (calibrator.calibrate).
type judgement func(ctx context.Context, x *stepExec) CheckResult

// evaluation is one check to evaluate for a step: the engine's pre-checks and gates,
// verify-only replays and the preflight all go through evaluate, so a result is named,
// stamped and cleaned of secrets the same way wherever it comes from.
type evaluation struct {
	check *Check
	phase Phase
	index int
	// judge is what to run; nil means the check itself.
	judge judgement
	// poll lets a check with a wait look again while it fails, until its timeout.
	// Without it the check is looked at once (verify-only, the preflight, and the gates
	// of an action of unknown outcome, which are evidence for a decision, not a wait).
	poll bool
}

// evaluate runs ev for x: its condition first (a false one skips the check), then the
// judgement, once or polling. It returns nil when ctx ends first.
func (x *stepExec) evaluate(ctx context.Context, ev evaluation) *CheckResult {
	ch := ev.check
	judge := ev.judge
	if judge == nil {
		judge = ch.Spec.eval
	}
	finish := func(r CheckResult, attempts int, waited time.Duration) *CheckResult {
		r.Phase, r.Index, r.Kind, r.Name = ev.phase, ev.index, ch.Kind, ch.Name
		if r.Name == "" {
			r.Name = ch.Spec.describe(x)
		}
		r.Attempts, r.Waited, r.At = attempts, Millis(waited), x.now()
		r.Name, r.Summary = x.redact(r.Name), x.redact(r.Summary)
		for j, e := range r.Evidence {
			r.Evidence[j] = x.redact(e)
		}
		return &r
	}
	if ch.When != nil {
		ok, err := ch.When.eval(x.rb.schema, x.vals(), "")
		if err != nil {
			return finish(errResult(err), 1, 0)
		}
		if !ok {
			return finish(CheckResult{Status: Skipped, Summary: "not needed: " + ch.When.Src + " is false"}, 0, 0)
		}
	}
	t0 := x.now()
	for attempt := 1; ; attempt++ {
		r := judge(ctx, x)
		if ctx.Err() != nil {
			return nil
		}
		if ch.Advice && r.Status == Fail {
			// Advice warns and lets the step go on; an error (the host did not answer)
			// stays one: it says nothing about the advice.
			r.Status = Warn
		}
		waited := x.now().Sub(t0)
		if r.OK() || r.Final || ch.Wait == nil || !ev.poll {
			return finish(r, attempt, waited)
		}
		left := ch.Wait.Timeout.D - waited
		if left <= 0 {
			r.Summary = fmt.Sprintf("%s (still failing after %s, %s)", r.Summary, waited.Round(time.Second), Plural(attempt, "attempt", "attempts"))
			return finish(r, attempt, waited)
		}
		every := ch.Wait.Every.D
		if every <= 0 {
			every = 5 * time.Second
		}
		last := finish(r, attempt, waited)
		x.progress(Progress{Phase: ev.phase, Gate: ev.index, Attempt: attempt, Remaining: left, Last: last})
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(min(every, left)):
		}
	}
}
