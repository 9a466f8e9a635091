package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/probe/hosttext"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/headless"
	"github.com/cutover/cutover/steps/journal"
)

// replayOptions are the flags of cutover replay.
type replayOptions struct {
	rf                                  runFlags
	roles, secrets                      pairs
	files                               secretFlags
	allowChanged, overrides, verifyOnly bool
	journalPath, junit                  string
}

func newReplayCmd(e *env) *cobra.Command {
	o := &replayOptions{roles: pairs{}, secrets: pairs{}}
	cmd := &cobra.Command{
		Use:   "replay JOURNAL [-i INVENTORY] [--role ROLE=HOST]... [--set SECRET=VALUE]... [--verify-only] --headless",
		Short: "run a recorded run again, headless (or --verify-only: check its gates)",
		Long: `Run a recorded run again, headless: the recorded runbook, roles, parameters and
decisions, on the recorded inventory or another one. With --verify-only no step runs:
the gates of the recorded steps are checked against the hosts as they are now.`,
		Example: `  cutover replay lab-run.jsonl -i staging.yaml --headless
  cutover replay night.jsonl --role new=hub3 --replay-overrides --headless
  cutover replay night.jsonl --verify-only --json
  cutover replay night.jsonl --verify-only --junit gates.xml`,
		Annotations: map[string]string{streams: "yes"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmdReplay(cmd.Context(), e, o, args)
		},
	}
	fs := cmd.Flags()
	o.rf.register(fs)
	fs.Var(o.roles, "role", "bind a role to another host than recorded: ROLE=HOST (repeatable)")
	fs.Var(o.secrets, "set", "give a secret parameter again: KEY=VALUE (secrets are never journaled); better with --set-file, "+paramEnvPrefix+"KEY or at the prompt")
	o.files.register(fs)
	fs.BoolVar(&o.allowChanged, "allow-changed", false, "replay even though the runbook changed since the recording")
	fs.BoolVar(&o.overrides, "replay-overrides", false, "repeat the recording's overrides (accepted failures) with their reasons; without it the replay stops where a check fails")
	fs.BoolVar(&o.verifyOnly, "verify-only", false, "run no step: check the end-state gates of the recorded steps against the hosts now, and report which still hold (nothing is written on a host, no journal)")
	fs.StringVar(&o.junit, "junit", "", "with --verify-only: also write the gates as JUnit XML to `FILE`, for monitoring and CI")
	fs.StringVar(&o.journalPath, "journal", "", "write the new run's journal to exactly this `FILE`")
	cmd.ValidArgsFunction = onlyFirst(completeJournals)
	return complete(cmd, map[string]completion{"role": completeRoles, "set": completeParams})
}

// cmdReplay runs a recorded run again, headless: the recorded runbook, roles,
// parameters and decisions, on the recorded inventory or another one. See
// steps.PrepareReplay for what becomes of each recorded decision.
func cmdReplay(ctx context.Context, e *env, o *replayOptions, args []string) error {
	rf, roles, secrets := &o.rf, o.roles, o.secrets
	if !o.verifyOnly {
		e.openStream("replay", rf)
	}
	path, rec, err := parseRecorded(rf, args, "replay")
	if err != nil {
		return err
	}
	j, st, rb := rec.j, rec.st, rec.rb
	if j.Broken != nil {
		return bad("%s:%v: refusing to replay a journal that fails its integrity check (cutover verify %s)", path, j.Broken, path)
	}
	if problems := journal.Exposure(path); len(problems) > 0 {
		return bad("refusing to replay %s: %s; make it yours and writable only by you (chown, chmod go-w) if you trust its content", path, strings.Join(problems, "; "))
	}
	if _, err := journal.ReadSignature(path); err != nil && !errors.Is(err, journal.ErrNoSignature) {
		return bad("refusing to replay: %v", err)
	}
	inv, err := rec.inventory(rf.inventory)
	if err != nil {
		return err
	}
	setOnly := pairs{}
	for k, v := range secrets {
		setOnly[k] = v
	}
	if err := o.files.read(secrets); err != nil {
		return err
	}
	e.recordedSecrets(rb, st.Session.Secret, secrets, setOnly, true)
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}

	if o.verifyOnly {
		return verifyOnlyReplay(ctx, e, rf, j, rb, inv.Host, roles, secrets, o.allowChanged, inv, o.junit)
	}
	if o.junit != "" {
		return bad("--junit writes the report of --verify-only: give both, or neither")
	}

	rep, err := steps.PrepareReplay(j.Events, rb, steps.ReplayOptions{
		Secrets: secrets, Roles: roles, AllowChanged: o.allowChanged, Overrides: o.overrides,
	})
	if err != nil {
		return err
	}
	answers := rep.Answers
	if err := mergeAnswers(answers, rf.answers, rb); err != nil {
		return err
	}
	if err := (&steps.RunFile{Answers: answers}).CheckAgainst(rb); err != nil {
		return badInput{err}
	}
	out := o.journalPath
	if out == "" {
		out = journal.NewPath(rf.journalDir, rb.ID, time.Now())
	}
	if !rf.json {
		fmt.Fprintf(e.stdout, "replaying %s (run %s of %s)\n", path, st.Session.RunID, rb.ID)
		for _, n := range rep.Notes {
			fmt.Fprintf(e.stdout, "  note: %s\n", hosttext.Line(n))
		}
	}
	printer := e.printer(rf, out)
	cfg, release, err := rf.config(e, inv, printer)
	if err != nil {
		return err
	}
	cfg.JournalPath = out
	run, err := cfg.Start(ctx, rb, rep.Inputs, path)
	if err != nil {
		release()
		return explainStart(e, err)
	}
	defer closeRun(e, run, cfg, release)
	warnExposure(e, out)
	return finish(e, headless.Drive(ctx, run.Engine, &steps.Answerer{Answers: answers, Via: "replay"}, run.Journal.Path()))
}
