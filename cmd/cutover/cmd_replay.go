package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/hosttext"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/headless"
	"github.com/cutover/cutover/steps/journal"
	"github.com/cutover/cutover/steps/runner"
)

// cmdReplay runs a recorded run again, headless: the recorded runbook, roles,
// parameters and decisions, on the recorded inventory or another one. See
// steps.PrepareReplay for what becomes of each recorded decision.
func cmdReplay(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "replay", "JOURNAL [-i INVENTORY] [--role ROLE=HOST]... [--set SECRET=VALUE]... [--allow-changed] [--replay-overrides] [--verify-only] --headless")
	var rf runFlags
	rf.register(fs)
	roles, secrets := pairs{}, pairs{}
	fs.Var(roles, "role", "bind a role to another host than recorded: ROLE=HOST (repeatable)")
	fs.Var(secrets, "set", "give a secret parameter again: KEY=VALUE (secrets are never journaled)")
	allowChanged := fs.Bool("allow-changed", false, "replay even though the runbook changed since the recording")
	overrides := fs.Bool("replay-overrides", false, "repeat the recording's overrides (accepted failures) with their reasons; without it the replay stops where a check fails")
	verifyOnly := fs.Bool("verify-only", false, "run no step: check the gates of the recorded steps against the hosts now, and report which still hold (nothing is written, no journal)")
	journalPath := fs.String("journal", "", "write the new run's journal to exactly this file")
	path, rec, err := parseRecorded(fs, &rf, args, "replay")
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
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}

	if *verifyOnly {
		return verifyOnlyReplay(ctx, e, &rf, j, rb, inv.Host, roles, secrets, *allowChanged, inv)
	}

	rep, err := steps.PrepareReplay(j.Events, rb, steps.ReplayOptions{
		Secrets: secrets, Roles: roles, AllowChanged: *allowChanged, Overrides: *overrides,
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
	out := *journalPath
	if out == "" {
		dir := rf.journalDir
		if dir == "" {
			dir = journal.DefaultDir()
		}
		out = journal.NewPath(dir, rb.ID, time.Now())
	}
	if !rf.json {
		fmt.Fprintf(e.stdout, "replaying %s (run %s of %s)\n", path, st.Session.RunID, rb.ID)
		for _, n := range rep.Notes {
			fmt.Fprintf(e.stdout, "  note: %s\n", hosttext.Line(n))
		}
	}
	printer := &headless.Printer{W: e.stdout, JSON: rf.json, Verbose: rf.verbose, Journal: out}
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

// verifyOnlyReplay checks the gates of the recorded steps against the hosts as they are,
// runs nothing that changes them and writes no journal. Exit 0 when every gate still
// holds, 1 when one does not, 4 when a host cannot be reached.
func verifyOnlyReplay(ctx context.Context, e *env, rf *runFlags, j *journal.Journal, rb *steps.Runbook,
	lookup steps.HostLookup, roles, secrets pairs, allowChanged bool, inv *inventory.Inventory) error {
	events := j.Events
	if len(roles) > 0 {
		// Rebind roles in a copy of the session: the recording itself is not touched.
		events = append([]*steps.Event(nil), j.Events...)
		for i, ev := range events {
			if ev.Type == steps.EvSession && ev.Session != nil {
				cp := *ev
				sess := *ev.Session
				sess.Roles = map[string]string{}
				for r, h := range ev.Session.Roles {
					sess.Roles[r] = h
				}
				for r, h := range roles {
					if _, ok := sess.Roles[r]; !ok {
						return bad("--role %s: the recorded run has no role %s", r, r)
					}
					sess.Roles[r] = h
				}
				cp.Session = &sess
				events[i] = &cp
			}
		}
	}
	opts := steps.Options{Secrets: secrets, AllowChanged: allowChanged}
	plan, _, err := steps.Restore(events, rb, lookup, opts)
	if err != nil {
		return err
	}
	roleNames := map[string]string{}
	for r, h := range plan.Roles {
		roleNames[r] = h.Name
	}
	// A fresh probe: the gates judge the hosts with today's facts (clock offsets).
	pool := probe.NewPool(headlessDialer(e, rf))
	defer pool.Close()
	facts, err := (&runner.Config{Inventory: inv}).ProbeRoles(ctx, pool, roleNames, rb)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return explainStart(e, err)
	}
	reps, err := steps.VerifyGates(ctx, events, rb, lookup, pool, facts, opts)
	if err != nil {
		return err
	}
	hold, total, unreachable := 0, 0, false
	for _, r := range reps {
		if r.Result == nil {
			fmt.Fprintf(e.stdout, "-     %-20s not checked: %s\n", r.Step, hosttext.Line(r.Why))
			continue
		}
		total++
		mark := strings.ToUpper(string(r.Result.Status))
		if r.Result.OK() {
			hold++
		}
		unreachable = unreachable || r.Result.Unreachable
		recorded := ""
		if r.Recorded != "" {
			recorded = fmt.Sprintf(" (recorded: %s)", r.Recorded)
		}
		fmt.Fprintln(e.stdout, hosttext.Line(fmt.Sprintf("%-5s %-20s %s: %s%s", mark, r.Step, r.Result.Name, r.Result.Summary, recorded)))
		if !r.Result.OK() {
			for _, l := range r.Result.Evidence {
				fmt.Fprintf(e.stdout, "          | %s\n", hosttext.Line(l))
			}
		}
	}
	fmt.Fprintf(e.stdout, "verify-only: %d of %d gates of the recorded steps still hold (nothing was changed, no journal written)\n", hold, total)
	switch {
	case hold == total:
		return nil
	case unreachable:
		fmt.Fprintf(e.stderr, "cutover: a host could not be reached: %d gates could not be checked\n", total-hold)
		return quiet{headless.ExitUnreachable}
	}
	fmt.Fprintf(e.stderr, "cutover: %d of %d gates no longer hold\n", total-hold, total)
	return quiet{headless.ExitNeedsOp}
}
