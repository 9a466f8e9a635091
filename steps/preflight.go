package steps

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cutover/cutover/probe"
)

// The preflight: before a run changes anything, every gate that rests on assumptions no
// vendor document gives (a log's name, the phrase it writes, an INI key) is checked
// against the hosts' own history. The engine runs it before the first step that
// changes something (and again on resume while nothing has changed), journals what it
// found, and stops at a gate whose wording was never seen, until the operator fixes
// the parameter (a new run) or overrides with a reason. The wizard's plan screen shows
// the same report before anything starts.

// PreflightReport is what the preflight found, gate by gate, in plan order.
type PreflightReport struct {
	Items []PreflightItem `json:"items"`
}

// PreflightItem is one calibrated gate of a step the plan keeps.
type PreflightItem struct {
	Step      string `json:"step"`
	StepTitle string `json:"step_title"`
	// Gate is the gate's place in its step (0-based).
	Gate int `json:"gate"`
	// Because is the gate's assumption, in the runbook's words.
	Because string `json:"because,omitempty"`
	// Result is the look at the host's history: pass when the gate's wording was seen,
	// fail when it never was (the evidence holds what was found instead), skipped when
	// the gate does not apply or its host may be down, error when the host did not
	// answer.
	Result *CheckResult `json:"result"`
	// Seen counts the earlier files (or the INI file) that show the gate's wording, Read
	// how many were read; Newest names the newest that shows it (host:path) and NewestTime
	// its time.
	Seen       int       `json:"seen,omitempty"`
	Read       int       `json:"read,omitempty"`
	Newest     string    `json:"newest,omitempty"`
	NewestTime time.Time `json:"newest_time,omitzero"`
}

// Failed lists the items whose wording was not seen (or could not be looked for).
func (r *PreflightReport) Failed() []*CheckResult {
	if r == nil {
		return nil
	}
	var out []*CheckResult
	for _, it := range r.Items {
		if it.Result != nil && !it.Result.OK() {
			out = append(out, it.Result)
		}
	}
	return out
}

// Headline says in one line how the preflight came out.
func (r *PreflightReport) Headline() string {
	if r == nil || len(r.Items) == 0 {
		return "no gate rests on wording the vendor documents leave open"
	}
	failed := len(r.Failed())
	n := Plural(len(r.Items), "gate's wording", "gates' wording")
	if failed == 0 {
		return n + " checked against the hosts' own history: all seen there"
	}
	return fmt.Sprintf("%s checked against the hosts' own history: %d not seen there", n, failed)
}

// WriteText writes the report for a terminal or a ticket: a headline, then one entry
// per gate with what was found, and for each gate that did not pass the lines found
// instead and what the gate assumes.
func (r *PreflightReport) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Preflight: %s\n", r.Headline())
	if r != nil {
		for _, it := range r.Items {
			res := it.Result
			fmt.Fprintf(&b, "  %-5s %s, gate %d: %s\n", strings.ToUpper(string(res.Status)), it.Step, it.Gate+1, res.Name)
			fmt.Fprintf(&b, "        %s\n", res.Summary)
			if res.OK() {
				continue
			}
			for _, e := range res.Evidence {
				fmt.Fprintf(&b, "        | %s\n", e)
			}
			if it.Because != "" {
				fmt.Fprintf(&b, "        assumes: %s\n", it.Because)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Preflight checks, without changing anything, the calibrated gates of every step the
// plan keeps against the hosts' own history, through pool. It returns nil when ctx
// ends first. The wizard's plan screen and a plan command call it; a run calls the
// same evaluation from its engine.
func Preflight(ctx context.Context, plan *Plan, pool *probe.Pool) *PreflightReport {
	return preflight(ctx, plan.env(pool, time.Now), plan.Steps)
}

func preflight(ctx context.Context, env *runEnv, planned []PlannedStep) *PreflightReport {
	rep := &PreflightReport{}
	for _, ps := range planned {
		s := env.rb.Step(ps.ID)
		if s == nil || ps.Skip {
			continue
		}
		for i, ch := range s.Gates {
			c, ok := ch.Spec.(calibrator)
			if !ok || c.calibration() == nil {
				continue
			}
			x := &stepExec{runEnv: env, step: s}
			var hist history
			judge := func(ctx context.Context, x *stepExec) CheckResult {
				r, h := c.calibrate(ctx, x)
				hist = h
				return r
			}
			r := x.evaluate(ctx, evaluation{check: ch, phase: PhasePreflight, index: len(rep.Items), judge: judge})
			if r == nil {
				return nil
			}
			rep.Items = append(rep.Items, PreflightItem{Step: s.ID, StepTitle: s.Title, Gate: i, Because: c.calibration().Because,
				Result: r, Seen: hist.Seen, Read: hist.Read, Newest: hist.Newest, NewestTime: hist.NewestTime})
		}
	}
	return rep
}

// calibrated reports whether any step the plan keeps has a calibrated gate.
func calibrated(rb *Runbook, planned []PlannedStep) bool {
	for _, ps := range planned {
		s := rb.Step(ps.ID)
		if s == nil || ps.Skip {
			continue
		}
		for _, ch := range s.Gates {
			if c, ok := ch.Spec.(calibrator); ok && c.calibration() != nil {
				return true
			}
		}
	}
	return false
}

// changes reports whether a step changes something on the hosts: it has an action, or
// the operator does it by hand.
func (s *Step) changes() bool { return s.Action != nil || s.Manual }

// preflightDue reports whether step s must wait for the preflight: it is the first step
// that changes something, nothing was changed in this run yet, and the plan has gates
// to calibrate.
func (e *Engine) preflightDue(s *Step) bool {
	return s != nil && s.changes() && !e.state.changed() && calibrated(e.rb, e.plan.Steps)
}
