package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/runbooks"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/export"
	"github.com/cutover/cutover/steps/journal"
)

func cmdExport(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "export", "RUNBOOK|JOURNAL [--role R=HOST]... [--set K=V]... [-i INVENTORY] [-o FILE]")
	roles, params := pairs{}, pairs{}
	fs.Var(roles, "role", "bind a role to a host: ROLE=HOST (repeatable)")
	fs.Var(params, "set", "set a parameter: KEY=VALUE (repeatable)")
	preset := fs.String("preset", "", "start from one of the runbook's presets")
	inv := fs.String("i", "", "inventory file (optional: hosts are named as given when absent)")
	out := fs.String("o", "", "write to FILE instead of standard output")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return bad("give one runbook id or journal file")
	}
	lookup := func(name string) *probe.Host { return &probe.Host{Name: name} }
	if *inv != "" {
		in, err := loadInventory(*inv)
		if err != nil {
			return err
		}
		lookup = in.Host
	}
	w, done, err := output(e, *out)
	if err != nil {
		return err
	}
	if isJournal(pos[0]) {
		rec, err := readRecorded(pos[0])
		if err != nil {
			return err
		}
		j, st, rb := rec.j, rec.st, rec.rb
		// Secret parameters were never recorded and a checklist must not show them:
		// they are restored as a placeholder.
		secrets := map[string]string{}
		for _, id := range st.Session.Secret {
			secrets[id] = "[secret]"
		}
		plan, st, err := steps.Restore(j.Events, rb, lookup, steps.Options{AllowChanged: true, Secrets: secrets})
		if err != nil {
			return err
		}
		if err := export.Journal(w, j, plan, st); err != nil {
			return err
		}
		if j.Broken != nil {
			fmt.Fprintf(e.stderr, "cutover export: WARNING: %s fails its integrity check: %v\n", pos[0], j.Broken)
		}
		return done()
	}
	rb, err := runbooks.Get(pos[0])
	if err != nil {
		return badInput{err}
	}
	plan, err := steps.Prepare(rb, lookup, steps.Inputs{Roles: roles, Params: params, Preset: *preset}, nil)
	if err != nil {
		return err
	}
	if err := export.Plan(w, plan); err != nil {
		return err
	}
	return done()
}

func isJournal(arg string) bool {
	if !strings.HasSuffix(arg, ".jsonl") {
		return false
	}
	_, err := os.Stat(arg)
	return err == nil
}

func cmdVerify(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "verify", "JOURNAL")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return bad("give one journal file")
	}
	j, err := journal.Read(pos[0])
	if err != nil {
		return badInput{err}
	}
	if j.Broken != nil {
		fmt.Fprintf(e.stdout, "%s: BROKEN at line %d: %s\n", pos[0], j.Broken.Line, j.Broken.Msg)
		return quiet{1}
	}
	torn := ""
	if j.Torn {
		torn = " (the last line was torn by a crash and is ignored)"
	}
	fmt.Fprintf(e.stdout, "%s: %d events, hash chain intact%s\n", pos[0], len(j.Events), torn)
	return nil
}
