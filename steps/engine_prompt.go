package steps

// What a run asks its operator (a Prompt: confirm a step, decide about a failed check,
// an action or one of unknown outcome) and how an answer is taken (Decide).

import (
	"errors"
	"fmt"
	"strings"
)

// PromptKind says what the operator is asked.
type PromptKind string

// Prompts.
const (
	AskConfirm      PromptKind = "confirm"       // do the manual step / go ahead with the action
	AskCheckFailed  PromptKind = "check_failed"  // a pre-check or gate failed
	AskActionFailed PromptKind = "action_failed" // the action failed
	AskUnknown      PromptKind = "unknown"       // the action's outcome is unknown
)

// Prompt is a question the run cannot go on without.
type Prompt struct {
	Step  string
	Title string
	Kind  PromptKind
	// On is what a decision will answer (OnConfirm, OnPre, OnAction, OnGates, OnUnknown).
	On DecisionOn
	// Text is the step's operator text, rendered.
	Text string
	// Phrase must be typed to confirm, when set.
	Phrase string
	// Optional means the step may be skipped, with a reason.
	Optional bool
	// Checked means at least one of the step's gates applies to these hosts, so a
	// confirmation is checked against them (a replay answers only such steps by itself).
	Checked bool
	// Manual means the operator does the step by hand.
	Manual bool
	// Failed lists the checks that failed; Gates all gate results (for unknown outcomes).
	Failed []*CheckResult
	Gates  []*CheckResult
	Action *ActionRecord
	// Choices are the decisions that Decide accepts now.
	Choices []DecisionKind
	// Unreachable means the failure came from a host that could not be reached.
	Unreachable bool
}

// Allows reports whether k is a valid answer.
func (p *Prompt) Allows(k DecisionKind) bool {
	for _, c := range p.Choices {
		if c == k {
			return true
		}
	}
	return false
}

func failedChecks(st *StepState, results map[int]*CheckResult, phase Phase) []*CheckResult {
	var out []*CheckResult
	for i := 0; i < len(results); i++ {
		_, over := st.CheckOverride(phase, i)
		if r := results[i]; r != nil && !r.OK() && !over {
			out = append(out, r)
		}
	}
	return out
}

func (e *Engine) prompt(st *StepState, s *Step, kind PromptKind, on DecisionOn, failed []*CheckResult) *Prompt {
	x := e.exec(st, s)
	p := &Prompt{Step: s.ID, Title: s.Title, Kind: kind, On: on, Text: x.renderText(s.Text),
		Phrase: x.mustRender(s.Phrase), Optional: s.Optional, Manual: s.Manual, Failed: failed, Action: st.Action}
	for i := 0; i < len(s.Gates); i++ {
		if r := st.Gates[i]; r != nil {
			p.Gates = append(p.Gates, r)
		}
	}
	for _, g := range s.Gates {
		if g.When == nil {
			p.Checked = true
			break
		}
		if ok, err := g.When.eval(e.rb.schema, x.vals(), ""); err == nil && ok {
			p.Checked = true
			break
		}
	}
	for _, f := range failed {
		p.Unreachable = p.Unreachable || f.Unreachable
	}
	switch kind {
	case AskConfirm:
		p.Choices = []DecisionKind{Confirm}
	case AskCheckFailed, AskActionFailed:
		p.Choices = []DecisionKind{Retry, Override}
		if kind == AskActionFailed && st.Action != nil {
			p.Unreachable = st.Action.Unreachable
		}
		if kind == AskActionFailed && s.Manual && st.Answer != nil {
			// The command that was to perform a manual step failed: the operator may try
			// another one, or do the step by hand and confirm it.
			p.Choices = append(p.Choices, Confirm)
		}
	case AskUnknown:
		if len(failed) == 0 && len(p.Gates) == len(s.Gates) {
			p.Choices = append(p.Choices, Accept)
		} else {
			// Look at the gates again (they were checked once, without waiting), or accept
			// the failure with a reason.
			p.Choices = append(p.Choices, Retry, Override)
		}
		p.Choices = append(p.Choices, Rerun)
	}
	if s.Optional && on != OnPreflight {
		// A skip answers the step; the preflight is the run's, and stays due.
		p.Choices = append(p.Choices, Skip)
	}
	p.Choices = append(p.Choices, Abort)
	return p
}

// Prompt returns the question the operator must answer before the run can go on, or
// nil when Advance can proceed.
func (e *Engine) Prompt() *Prompt {
	_, _, p := e.where()
	return p
}

// Decide records the operator's answer to the current prompt.
func (e *Engine) Decide(d Decision) error {
	p := e.Prompt()
	if p == nil {
		return errors.New("nothing to decide now")
	}
	if !p.Allows(d.Kind) {
		return fmt.Errorf("%s is not possible here (choose %s)", d.Kind, joinKinds(p.Choices))
	}
	d.Reason = strings.TrimSpace(d.Reason)
	switch d.Kind {
	case Skip, Override:
		if len(d.Reason) < 3 {
			return fmt.Errorf("%s needs a reason: it is recorded and shown in every export", d.Kind)
		}
	case Confirm:
		if p.Phrase != "" && strings.TrimSpace(d.Phrase) != p.Phrase {
			return fmt.Errorf("to confirm, type exactly: %s", p.Phrase)
		}
		if d.Run != nil {
			if _, ok := e.plan.Roles[d.Run.Role]; !ok {
				return fmt.Errorf("answer command: unknown role %q", d.Run.Role)
			}
			if redactText(d.Run.Command, e.env.secrets) != d.Run.Command {
				// The command is journaled as typed, so that a resume or replay can run it
				// again; a secret in it would reach the journal.
				return errors.New("answer command: it contains the value of a secret parameter, which would be journaled; do the step by hand, or have the command read the secret from a file on the host")
			}
			if !p.Manual {
				return errors.New("only a manual step can be performed by an answer command")
			}
		}
	}
	if d.By == "" {
		d.By = e.opts.Operator
	}
	d.On = p.On
	if err := e.emit(&Event{Type: EvDecision, Step: p.Step, Decision: &d}); err != nil {
		return err
	}
	if d.Kind == Abort {
		if err := e.emit(StepEnd(p.Step, StepAborted, d.Reason)); err != nil {
			return err
		}
		msg := "aborted at step " + p.Step
		if d.Reason != "" {
			msg += ": " + d.Reason
		}
		return e.emit(RunEnd(RunAborted, msg))
	}
	return nil
}

func joinKinds(ks []DecisionKind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}
func lastReason(st *StepState, k DecisionKind) string {
	for i := len(st.Decisions) - 1; i >= 0; i-- {
		if st.Decisions[i].Kind == k {
			return st.Decisions[i].Reason
		}
	}
	return ""
}
