package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/cutover/cutover/probe/hosttext"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/headless"
	"github.com/cutover/cutover/steps/runner"
)

// stepFlags are the step control flags of run and resume: --step, --start-at,
// --stop-after.
type stepFlags struct {
	step      bool
	startAt   string
	stopAfter string
}

func (sf *stepFlags) register(fs interface {
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
}, startAt bool) {
	fs.BoolVar(&sf.step, "step", false, "with --headless: ask before each automatic action: yes runs it, quit stops the run there (resumable)")
	if startAt {
		fs.StringVar(&sf.startAt, "start-at", "", "with --headless: start at this `STEP`, adopting the steps before it when their gates hold now (journaled as adopted, with the evidence); refused, naming the gate, when one does not")
	}
	fs.StringVar(&sf.stopAfter, "stop-after", "", "with --headless: end the run resumably once this `STEP` has ended (exit 3; cutover resume goes on)")
}

// check refuses step ids the runbook does not have, before any host is touched.
func (sf *stepFlags) check(rb *steps.Runbook) error {
	for flag, id := range map[string]string{"start-at": sf.startAt, "stop-after": sf.stopAfter} {
		if id != "" && rb.Step(id) == nil {
			return bad("--%s %s: %s has no step %s (its steps: cutover export %s)", flag, id, rb.ID, id, rb.ID)
		}
	}
	return nil
}

// control is the headless control these flags ask for; nil when none.
func (sf *stepFlags) control(e *env) *headless.Control {
	if !sf.step && sf.stopAfter == "" {
		return nil
	}
	in := bufio.NewReader(e.stdin)
	return &headless.Control{Step: sf.step, StopAfter: sf.stopAfter, Ask: func(q string) (string, error) {
		fmt.Fprint(e.stdout, q)
		line, err := in.ReadString('\n')
		if err == io.EOF && line != "" {
			err = nil
		}
		if err == io.EOF {
			fmt.Fprintln(e.stdout)
		}
		return line, err
	}}
}

// begin adopts the steps before --start-at, or explains why it cannot (exit 1 naming
// the gate, or 2 for a step that already started).
func (sf *stepFlags) begin(ctx context.Context, e *env, run *runner.Run) error {
	if sf.startAt == "" {
		return nil
	}
	err := run.Engine.Adopt(ctx, sf.startAt)
	var ae *steps.AdoptError
	if errors.As(err, &ae) {
		fmt.Fprintf(e.stderr, "cutover: %s\n", hosttext.Line(ae.Error()))
		if ae.Gate != nil {
			for _, l := range ae.Gate.Evidence {
				fmt.Fprintf(e.stderr, "          | %s\n", hosttext.Line(l))
			}
		}
		fmt.Fprintf(e.stderr, "cutover: nothing was adopted or run; the journal %s records the refused start\n", run.Journal.Path())
		return quiet{headless.ExitNeedsOp}
	}
	return err
}

// drive drives the run with the control these flags ask for.
func (sf *stepFlags) drive(ctx context.Context, e *env, run *runner.Run, d headless.Decider) headless.Result {
	return headless.DriveControlled(ctx, run.Engine, d, run.Journal.Path(), sf.control(e))
}
