package headless

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/cutover/cutover/probe/hosttext"
	"github.com/cutover/cutover/steps"
)

// Control steers a headless run between transitions, as ansible-playbook --step does:
// Step asks before each automatic action, StopAfter ends the run resumably once that
// step has ended. Either stop is journaled as a note and exits 3 (interrupted,
// resumable): nothing is lost, and cutover resume goes on from there.
type Control struct {
	// Step asks Ask before each automatic action: yes runs it, quit stops before it.
	Step bool
	// Ask shows a question and returns the operator's answer (io.EOF: no one answers,
	// which stops the run).
	Ask func(question string) (string, error)
	// StopAfter is the id of the step after which the run stops.
	StopAfter string

	stopSeen bool // the step had ended before this drive began: do not stop again
	started  bool
}

// DriveControlled is Drive with step control; a nil ctl drives as Drive does.
func DriveControlled(ctx context.Context, e *steps.Engine, d Decider, journalPath string, ctl *Control) Result {
	res := drive(ctx, e, d, journalPath, ctl)
	res.Message = hosttext.Line(res.Message)
	return res
}

// before is called before each transition; a result ends the drive.
func (c *Control) before(e *steps.Engine, journalPath string) *Result {
	if c == nil {
		return nil
	}
	if c.StopAfter != "" {
		st := e.State().Step(c.StopAfter)
		ended := st != nil && st.Finished()
		if !c.started {
			c.started, c.stopSeen = true, ended
		}
		if ended && !c.stopSeen {
			c.stopSeen = true
			msg := fmt.Sprintf("stopped after step %s, as asked (--stop-after)", c.StopAfter)
			if err := e.Note(msg); err != nil {
				return &Result{Code: ExitNeedsOp, Message: err.Error()}
			}
			return &Result{Code: ExitInterrupted, Message: fmt.Sprintf("%s; nothing is lost. Continue with: cutover resume %s", msg, journalPath)}
		}
	}
	if !c.Step {
		return nil
	}
	p := e.ActionNext()
	if p == nil {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "step %s (%s): about to %s", p.Step, p.Title, p.Action.Summary)
	for _, cmd := range p.Action.Commands {
		fmt.Fprintf(&b, "\n    %s", cmd)
	}
	for _, ch := range p.Action.Changes {
		fmt.Fprintf(&b, "\n    %s", ch)
	}
	b.WriteString("\nRun it? [y]es / [q]uit (resumable): ")
	for {
		ans, err := c.Ask(hosttext.Text(b.String()))
		ans = strings.ToLower(strings.TrimSpace(ans))
		switch {
		case err == nil && (ans == "y" || ans == "yes"):
			return nil
		case err == io.EOF || ans == "q" || ans == "quit":
			msg := fmt.Sprintf("stopped before the action of step %s, as asked (--step); nothing of it ran", p.Step)
			if err := e.Note(msg); err != nil {
				return &Result{Code: ExitNeedsOp, Message: err.Error()}
			}
			return &Result{Code: ExitInterrupted, Message: fmt.Sprintf("%s. Continue with: cutover resume %s", msg, journalPath)}
		case err != nil:
			return &Result{Code: ExitNeedsOp, Message: "--step: " + err.Error()}
		}
		b.Reset()
		b.WriteString("Answer y (run it) or q (stop here, resumable): ")
	}
}
