package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/cutover/cutover/runbooks"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/headless"
	"github.com/cutover/cutover/steps/journal"
	"github.com/cutover/cutover/steps/runner"
)

// runFlags are the flags run and resume share.
type runFlags struct {
	inventory  string
	answers    string
	headless   bool
	json       bool
	verbose    bool
	journalDir string
}

func (rf *runFlags) register(fs interface {
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
}) {
	fs.StringVar(&rf.inventory, "i", "", "inventory file")
	fs.StringVar(&rf.answers, "answers", "", "answers for manual steps (a run file; only its answers are used)")
	fs.BoolVar(&rf.headless, "headless", false, "run without the full-screen wizard: one line per event, decisions from answers")
	fs.BoolVar(&rf.json, "json", false, "with --headless: one JSON object per event")
	fs.BoolVar(&rf.verbose, "v", false, "with --headless: also print command output and every wait")
	fs.StringVar(&rf.journalDir, "journal-dir", "", "folder for the journal (default: "+journal.DefaultDir()+")")
}

func cmdRun(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "run", "RUNBOOK -i INVENTORY --role ROLE=HOST... [--set KEY=VALUE]... [--answers FILE] --headless\n       cutover run --from RUNFILE [-i INVENTORY] --headless")
	var rf runFlags
	rf.register(fs)
	roles, params := pairs{}, pairs{}
	fs.Var(roles, "role", "bind a role to a host: ROLE=HOST (repeatable)")
	fs.Var(params, "set", "set a parameter: KEY=VALUE (repeatable)")
	preset := fs.String("preset", "", "start from one of the runbook's presets")
	from := fs.String("from", "", "run file: runbook, roles, parameters and answers")
	journalPath := fs.String("journal", "", "write the journal to exactly this file")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return bad("give one runbook, not %d", len(pos))
	}
	in := steps.Inputs{Roles: map[string]string{}, Params: map[string]string{}, Preset: *preset}
	answers := map[string]*steps.Answer{}
	var runbookID string
	if len(pos) == 1 {
		runbookID = pos[0]
	}
	if *from != "" {
		runf, err := steps.LoadRunFile(*from)
		if err != nil {
			return badInput{err}
		}
		if runbookID != "" && runbookID != runf.Runbook {
			return bad("the run file is for %s, not %s", runf.Runbook, runbookID)
		}
		runbookID = runf.Runbook
		in = runf.Inputs()
		if *preset != "" {
			in.Preset = *preset
		}
		answers = runf.Answers
		if rf.inventory == "" {
			rf.inventory = runf.Inventory
		}
	}
	for k, v := range roles {
		in.Roles[k] = v
	}
	for k, v := range params {
		in.Params[k] = v
	}
	if runbookID == "" {
		return bad("which runbook? give its id (cutover runbooks lists them) or --from RUNFILE")
	}
	rb, err := runbooks.Get(runbookID)
	if err != nil {
		return badInput{err}
	}
	if err := mergeAnswers(answers, rf.answers, rb); err != nil {
		return err
	}
	if err := (&steps.RunFile{Answers: answers}).CheckAgainst(rb); err != nil {
		return badInput{err}
	}
	inv, err := loadInventory(rf.inventory)
	if err != nil {
		return err
	}
	if !rf.headless {
		var runf *steps.RunFile
		if *from != "" {
			runf, _ = steps.LoadRunFile(*from)
		}
		return wizard(ctx, e, wizardOptions{inv: inv, runbook: rb.ID, runFile: runf, journalDir: rf.journalDir})
	}
	e.signals()
	path := *journalPath
	if path == "" {
		dir := rf.journalDir
		if dir == "" {
			dir = journal.DefaultDir()
		}
		path = journal.NewPath(dir, rb.ID, time.Now())
	}
	printer := &headless.Printer{W: e.stdout, JSON: rf.json, Verbose: rf.verbose, Journal: path}
	cfg := &runner.Config{Inventory: inv, Dialer: dialer(), JournalPath: path, Observer: printer, Hard: e.hard, Version: version()}
	run, err := cfg.Start(ctx, rb, in, "")
	if err != nil {
		return explainStart(e, err)
	}
	defer run.Close()
	return finish(e, headless.Drive(ctx, run.Engine, &steps.Answerer{Answers: answers, Via: "runfile"}, run.Journal.Path()))
}

// mergeAnswers adds the answers of an --answers file (a run file) to answers.
func mergeAnswers(answers map[string]*steps.Answer, file string, rb *steps.Runbook) error {
	if file == "" {
		return nil
	}
	af, err := steps.LoadRunFile(file)
	if err != nil {
		return badInput{err}
	}
	if af.Runbook != "" && af.Runbook != rb.ID {
		return bad("%s answers %s, not %s", file, af.Runbook, rb.ID)
	}
	for k, v := range af.Answers {
		answers[k] = v
	}
	return nil
}

// explainStart prints what kept a run from starting, host by host.
func explainStart(e *env, err error) error {
	if ue, ok := err.(*runner.UnreachableError); ok {
		for _, f := range ue.Facts {
			fmt.Fprintf(e.stderr, "cutover: %s: %s\n", f.Name, f.Error)
		}
		return quiet{headless.ExitUnreachable}
	}
	return err
}

func finish(e *env, res headless.Result) error {
	if res.Code == 0 {
		return nil
	}
	fmt.Fprintf(e.stderr, "cutover: %s\n", res.Message)
	return quiet{res.Code}
}

func cmdResume(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "resume", "JOURNAL [-i INVENTORY] [--answers FILE] [--decide STEP=accept|rerun]... [--set SECRET=VALUE]... --headless")
	var rf runFlags
	rf.register(fs)
	decide, secrets := pairs{}, pairs{}
	fs.Var(decide, "decide", "settle an action of unknown outcome: STEP=accept or STEP=rerun (repeatable)")
	fs.Var(secrets, "set", "give a secret parameter again: KEY=VALUE (secrets are never journaled)")
	allowChanged := fs.Bool("allow-changed", false, "go on even though the runbook changed since the run was recorded")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return bad("give the journal file of the run to resume")
	}
	path := pos[0]
	j, err := journal.Read(path)
	if err != nil {
		return badInput{err}
	}
	st := steps.NewRunState(j.Events)
	if st.Session == nil {
		return bad("%s is not a cutover journal", path)
	}
	if st.Ended {
		return bad("the run in %s has already ended (%s); export it with: cutover export %s", path, st.Outcome, path)
	}
	rb, err := runbooks.Get(st.Session.Runbook)
	if err != nil && st.Session.File != "" {
		rb, err = runbooks.LoadFile(st.Session.File)
	}
	if err != nil {
		return badInput{err}
	}
	if rf.inventory == "" {
		rf.inventory = st.Session.Inventory
		if _, err := os.Stat(rf.inventory); err != nil {
			return bad("the recorded inventory %s is gone: give -i INVENTORY", rf.inventory)
		}
	}
	inv, err := loadInventory(rf.inventory)
	if err != nil {
		return err
	}
	if inv.Digest != st.Session.InventoryDigest && st.Session.InventoryDigest != "" {
		fmt.Fprintf(e.stderr, "cutover: note: the inventory changed since the run started; hosts are matched by name\n")
	}
	answers := map[string]*steps.Answer{}
	if err := mergeAnswers(answers, rf.answers, rb); err != nil {
		return err
	}
	for step, d := range decide {
		if d != "accept" && d != "rerun" {
			return bad("--decide %s=%s: use accept or rerun", step, d)
		}
		a := answers[step]
		if a == nil {
			a = &steps.Answer{}
			answers[step] = a
		}
		a.Unknown, a.Via = d, "flag"
	}
	if err := (&steps.RunFile{Answers: answers}).CheckAgainst(rb); err != nil {
		return badInput{err}
	}
	if !rf.headless {
		return wizard(ctx, e, wizardOptions{inv: inv, resume: path, journalDir: rf.journalDir})
	}
	e.signals()
	printer := &headless.Printer{W: e.stdout, JSON: rf.json, Verbose: rf.verbose, Journal: path}
	cfg := &runner.Config{Inventory: inv, Dialer: dialer(), Observer: printer, Hard: e.hard, Version: version()}
	run, err := cfg.Resume(ctx, path, rb, runner.ResumeOptions{Secrets: secrets, AllowChanged: *allowChanged})
	if err != nil {
		return err
	}
	defer run.Close()
	return finish(e, headless.Drive(ctx, run.Engine, &steps.Answerer{Answers: answers, Via: "runfile"}, path))
}
