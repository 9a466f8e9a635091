package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/probe/hosttext"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/headless"
	"github.com/cutover/cutover/steps/runner"
)

// newRollbackCmd undoes the completed automatic actions of a recorded run, newest
// first, as a gated run of its own.
func newRollbackCmd(e *env) *cobra.Command {
	var rf runFlags
	var journalPath string
	cmd := &cobra.Command{
		Use:   "rollback JOURNAL [-i INVENTORY] [--journal FILE]",
		Short: "undo the completed automatic actions of a run, newest first, as a gated run of its own",
		Long: `Undo what a recorded run changed, newest step first: INI files get their kept
originals back, what a copy replaced comes back from where it was kept aside, services
return to the state they were in. The undos run as a runbook of their own, each gated,
with a journal of their own; a run still open is ended first. Rollback stops at a step
that cannot be undone and lists what remains for the operator.`,
		Example: `  cutover rollback ~/.local/state/cutover/journals/maestro-move-hub-20261206T210237Z.jsonl
  cutover rollback night.jsonl -i site.yaml --journal night-rollback.jsonl`,
		RunE: func(cmd *cobra.Command, args []string) error {
			path, rec, err := parseRecorded(&rf, args, "roll back")
			if err != nil {
				return err
			}
			return runRollback(cmd.Context(), e, &rf, path, rec, journalPath)
		},
	}
	fs := cmd.Flags()
	rf.register(fs)
	fs.StringVar(&journalPath, "journal", "", "write the rollback run's journal to exactly this `FILE`")
	cmd.ValidArgsFunction = onlyFirst(completeJournals)
	return cmd
}

// runRollback prints the back-out plan, ends the recorded run if it is still open, and
// runs the generated rollback runbook headless. What remains for the operator is said
// at the end; exit codes are those of a run.
func runRollback(ctx context.Context, e *env, rf *runFlags, path string, rec *recorded, out string) error {
	if rec.j.Broken != nil {
		return bad("%s:%v: refusing to roll back a journal that fails its integrity check (cutover verify %s)", path, rec.j.Broken, path)
	}
	st, rb := rec.st, rec.rb
	w := e.stdout
	if rf.json {
		w = e.stderr // stdout carries the run's events, one JSON object per line
	}
	others := generatedRuns(rf, path, out)
	if prev := openGenerated(others, st.Session.RunID, steps.RollbackOf); prev != nil {
		// A rollback of this run was cut short: it goes on from its journal (its undos
		// are written to be run again safely), rather than a second one over it.
		if err := resumeGenerated(ctx, e, w, rf, prev, "rollback"); err != nil {
			return err
		}
		return remainsManual(w, steps.BackOut(st, rb))
	}
	for _, r := range others {
		if steps.RollbackOf(r.Session) == st.Session.RunID && r.State.Outcome == steps.RunDone {
			return fmt.Errorf("run %s was rolled back already (journal %s): nothing was changed", st.Session.RunID, r.Path())
		}
	}
	items := withoutCleaned(steps.BackOut(st, rb), st.Session.RunID, others)
	fmt.Fprintf(w, "back-out plan for run %s of %s, newest step first:\n", st.Session.RunID, rb.ID)
	writeBackOut(w, items)
	if out == "" {
		out = rf.generatedJournal(rb.ID + "-rollback")
	}
	data, err := steps.RollbackRunbook(st, rb, path, items)
	if err != nil {
		return badInput{err}
	}
	if data == nil {
		fmt.Fprintln(w, "nothing to undo automatically")
		return remainsManual(w, items)
	}
	inv, err := rec.inventory(rf.inventory)
	if err != nil {
		return err
	}
	e.signals()
	cfg, release, err := rf.config(e, inv, &headless.Printer{W: e.stdout, JSON: rf.json, Verbose: rf.verbose, Journal: out})
	if err != nil {
		return err
	}
	defer release()
	if !st.Ended {
		// The run is still open (stopped, interrupted): end it, so its locks go and
		// nobody resumes it over the undone changes.
		run, err := cfg.Resume(ctx, path, rb, runner.ResumeOptions{})
		if err != nil {
			return err
		}
		err = run.Engine.End("ended to be rolled back (cutover rollback, journal " + out + ")")
		if cerr := run.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	if err := runGenerated(ctx, e, w, cfg, st, out, "rollback", "rolling back", data); err != nil {
		return err
	}
	return remainsManual(w, items)
}

// writeBackOut prints the back-out plan.
func writeBackOut(w io.Writer, items []steps.BackOutItem) {
	for _, it := range items {
		fmt.Fprintln(w, hosttext.Line(fmt.Sprintf("  %s (%s)", it.Step, it.Title)))
		for _, u := range it.Undos {
			fmt.Fprintln(w, hosttext.Line("    auto:   "+u.String()))
		}
		if it.Manual != "" {
			fmt.Fprintln(w, hosttext.Line("    manual: "+it.Manual))
		}
		if it.Irreversible {
			fmt.Fprintln(w, hosttext.Line("    rollback stops here: the steps before "+it.Step+" are not undone"))
		}
	}
}

// remainsManual says what the operator still has to undo by hand.
func remainsManual(w io.Writer, items []steps.BackOutItem) error {
	var left []string
	for _, it := range items {
		if it.Manual != "" {
			left = append(left, it.Step+": "+it.Manual)
		}
	}
	if len(left) == 0 {
		fmt.Fprintln(w, "rollback: every completed step is undone")
		return nil
	}
	fmt.Fprintln(w, "rollback: what remains for you to undo by hand, in this order:")
	for _, l := range left {
		fmt.Fprintln(w, hosttext.Line("  - "+l))
	}
	return nil
}
