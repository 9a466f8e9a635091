package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

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
		j.CheckSignature() // a journal that fails its signature says so on top
		if err := export.Journal(w, j, plan, st); err != nil {
			return err
		}
		if j.Broken != nil {
			fmt.Fprintf(e.stderr, "cutover export: WARNING: %s fails its integrity check: %v\n", pos[0], j.Broken)
		}
		if j.SignatureErr != nil {
			fmt.Fprintf(e.stderr, "cutover export: WARNING: %v\n", j.SignatureErr)
		}
		warnExposure(e, pos[0])
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
	fs := newFlags(e, "verify", "JOURNAL [--signers ALLOWED_SIGNERS]")
	signersFile := fs.String("signers", "", "check the journal's signature (JOURNAL.sig) against this allowed_signers file (ssh-keygen's format); without it a signature is checked against the journal but not its signer")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return bad("give one journal file")
	}
	path := pos[0]
	var signers []journal.AllowedSigner
	if *signersFile != "" {
		if signers, err = journal.LoadAllowedSigners(*signersFile); err != nil {
			return badInput{err}
		}
	}
	j, err := journal.Read(path)
	if err != nil {
		return badInput{err}
	}
	warnExposure(e, path)
	if j.Broken != nil {
		fmt.Fprintf(e.stdout, "%s: BROKEN at line %d: %s\n", path, j.Broken.Line, j.Broken.Msg)
		return quiet{1}
	}
	torn := ""
	if j.Torn {
		torn = " (the last line was torn by a crash and is ignored)"
	}
	fmt.Fprintf(e.stdout, "%s: %d events, hash chain intact%s\n", path, len(j.Events), torn)
	if *signersFile != "" {
		signed, err := journal.VerifySigned(path, signers, time.Now())
		if err != nil {
			fmt.Fprintf(e.stdout, "%s: SIGNATURE NOT VALID: %v\n", path, err)
			return quiet{1}
		}
		fmt.Fprintf(e.stdout, "%s: signed by %s (%s), every line\n", path, strings.Join(signed.Principals, ", "), keyName(signed.Key))
		return nil
	}
	// Without allowed signers the chain is all that is vouched for: it catches
	// accidents, and anyone who can write the file can recompute it. A signature that
	// does not match is still evidence of a change.
	sig, err := journal.ReadSignature(path)
	switch {
	case errors.Is(err, journal.ErrNoSignature):
		fmt.Fprintf(e.stdout, "%s: not signed: the chain shows accidents and cut journals, not deliberate changes (runs sign with --sign)\n", path)
	case err != nil:
		fmt.Fprintf(e.stdout, "%s: SIGNATURE NOT VALID: %v\n", path, err)
		return quiet{1}
	case sig.Whole:
		fmt.Fprintf(e.stdout, "%s: signature by %s matches every line; give --signers FILE to check that this key may sign\n", path, keyName(sig.Key))
	default:
		fmt.Fprintf(e.stdout, "%s: signature by %s matches lines 1-%d only: the lines after it were not signed\n", path, keyName(sig.Key), sig.Lines)
		return quiet{1}
	}
	return nil
}

// keyName names a public key as ssh-keygen does: its type and SHA-256 fingerprint.
func keyName(k ssh.PublicKey) string {
	return k.Type() + " key " + ssh.FingerprintSHA256(k)
}

// warnExposure says on stderr when a journal, or its folder, could have been written by
// someone other than the operator (resume and replay refuse such a journal).
func warnExposure(e *env, path string) {
	for _, p := range journal.Exposure(path) {
		fmt.Fprintf(e.stderr, "cutover: WARNING: %s: someone else could change what it records (resume and replay refuse it)\n", p)
	}
}
