package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/hosttext"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/export"
	"github.com/cutover/cutover/steps/journal"
	"github.com/cutover/cutover/steps/runner"
)

// exportOptions are the flags of cutover export.
type exportOptions struct {
	roles, params                   pairs
	preset, inv, output, journalDir string
	last                            bool
}

func newExportCmd(e *env) *cobra.Command {
	o := &exportOptions{roles: pairs{}, params: pairs{}}
	cmd := &cobra.Command{
		Use:   "export RUNBOOK|JOURNAL|--last [--role ROLE=HOST]... [--set KEY=VALUE]... [-i INVENTORY] [-o FILE]",
		Short: "print a runbook's plan or a journal as a Markdown checklist",
		Example: `  cutover export maestro/move-hub --role old=hub --role new=hub2 -o plan.md
  cutover export ~/.local/state/cutover/journals/maestro-move-hub-20260102-0304.jsonl -o night.md
  cutover export --last -o night.md`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmdExport(cmd.Context(), e, o, args)
		},
	}
	fs := cmd.Flags()
	fs.Var(o.roles, "role", "bind a role to a host: ROLE=HOST (repeatable)")
	fs.Var(o.params, "set", "set a parameter: KEY=VALUE (repeatable)")
	fs.StringVar(&o.preset, "preset", "", "start from one of the runbook's presets")
	fs.StringVarP(&o.inv, "inventory", "i", "", "inventory `FILE` (optional: hosts are named as given when absent)")
	fs.StringVarP(&o.output, "output", "o", "", "write to `FILE` instead of standard output")
	fs.BoolVar(&o.last, "last", false, "export the newest finished run in the journal folder (on the inventory of -i, when given)")
	fs.StringVar(&o.journalDir, "journal-dir", "", "with --last: `DIR` of the journals (default: "+journal.DefaultDir()+")")
	cmd.ValidArgsFunction = prefixed(completeRunbooksAndJournals)
	return complete(cmd, map[string]completion{"role": completeRoles, "set": completeParams})
}

func cmdExport(ctx context.Context, e *env, o *exportOptions, pos []string) error {
	roles, params := o.roles, o.params
	if o.last {
		last, err := lastRun(pos, journalDir(o.journalDir), o.inv, journal.Finished)
		if err != nil {
			return err
		}
		pos = []string{last}
	}
	if len(pos) != 1 {
		return bad("give one runbook id or journal file")
	}
	lookup := func(name string) *probe.Host { return &probe.Host{Name: name} }
	var invf *inventory.Inventory
	if o.inv != "" {
		var err error
		if invf, err = loadInventory(o.inv); err != nil {
			return err
		}
		lookup = invf.Host
	}
	w, done, err := output(e, o.output)
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
	rb, err := e.runbook(pos[0])
	if err != nil {
		return badInput{err}
	}
	in := steps.Inputs{Roles: roles, Params: params, Preset: o.preset}
	plan, err := steps.Prepare(rb, lookup, in, nil)
	if err != nil {
		return err
	}
	if invf != nil {
		if plan, err = probedPlan(ctx, e, rb, invf, in); err != nil {
			return err
		}
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

func newVerifyCmd(e *env) *cobra.Command {
	var signers string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify JOURNAL [--signers ALLOWED_SIGNERS]",
		Short: "check a journal's integrity (hash chain) and its signature (--signers)",
		Example: `  cutover verify night.jsonl
  cutover verify night.jsonl --signers ~/.ssh/allowed_signers
  cutover verify night.jsonl --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmdVerify(e, signers, asJSON, args)
		},
	}
	cmd.ValidArgsFunction = onlyFirst(completeJournals)
	cmd.Flags().StringVar(&signers, "signers", "", "check the journal's signature (JOURNAL.sig) against this allowed_signers `FILE` (ssh-keygen's format); without it a signature is checked against the journal but not its signer")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the findings as a JSON object")
	return cmd
}

// journalCheck is what verify found; --json prints it, and the text form its lines.
type journalCheck struct {
	Journal string `json:"journal"`
	// OK is false when the chain is broken, a signature does not match, or lines were
	// added after the signature (exit 1).
	OK          bool   `json:"ok"`
	Events      int    `json:"events"`
	ChainIntact bool   `json:"chain_intact"`
	BrokenLine  int    `json:"broken_line,omitempty"`
	Torn        bool   `json:"torn_last_line,omitempty"`
	Signature   string `json:"signature"` // none, matches, partial, not_valid, trusted
	// SignedBy is the key that signed (type and SHA-256 fingerprint), Principals who it
	// is in the allowed signers, SignedLines how many lines the signature covers.
	SignedBy    string   `json:"signed_by,omitempty"`
	Principals  []string `json:"principals,omitempty"`
	SignedLines int      `json:"signed_lines,omitempty"`
	Problem     string   `json:"problem,omitempty"`

	text []string
}

func (r *journalCheck) say(format string, args ...any) {
	r.text = append(r.text, r.Journal+": "+fmt.Sprintf(format, args...))
}

func cmdVerify(e *env, signersFile string, asJSON bool, pos []string) error {
	if len(pos) != 1 {
		return bad("give one journal file")
	}
	path := pos[0]
	var signers []journal.AllowedSigner
	if signersFile != "" {
		var err error
		if signers, err = journal.LoadAllowedSigners(signersFile); err != nil {
			return badInput{err}
		}
	}
	j, err := journal.Read(path)
	if err != nil {
		return badInput{err}
	}
	warnExposure(e, path)
	r := verify(j, path, signersFile != "", signers)
	if asJSON {
		if err := writeJSON(e.stdout, r); err != nil {
			return err
		}
	} else {
		for _, l := range r.text {
			fmt.Fprintln(e.stdout, l)
		}
	}
	if !r.OK {
		return quiet{1}
	}
	return nil
}

// verify checks the chain of journal j (read from path) and its signature: against
// the allowed signers when withSigners, else against the journal alone.
func verify(j *journal.Journal, path string, withSigners bool, signers []journal.AllowedSigner) *journalCheck {
	r := &journalCheck{Journal: path, Events: len(j.Events), Signature: "none"}
	if j.Broken != nil {
		r.BrokenLine, r.Problem = j.Broken.Line, j.Broken.Msg
		r.say("BROKEN at line %d: %s", j.Broken.Line, j.Broken.Msg)
		return r
	}
	r.ChainIntact, r.Torn = true, j.Torn
	torn := ""
	if j.Torn {
		torn = " (the last line was torn by a crash and is ignored)"
	}
	r.say("%d events, hash chain intact%s", len(j.Events), torn)
	if withSigners {
		signed, err := journal.VerifySigned(path, signers, time.Now())
		if err != nil {
			r.Signature, r.Problem = "not_valid", err.Error()
			r.say("SIGNATURE NOT VALID: %v", err)
			return r
		}
		r.OK, r.Signature, r.SignedBy, r.Principals, r.SignedLines = true, "trusted", keyName(signed.Key), signed.Principals, signed.Signature.Lines
		r.say("signed by %s (%s), every line", strings.Join(signed.Principals, ", "), keyName(signed.Key))
		return r
	}
	// Without allowed signers the chain is all that is vouched for: it catches
	// accidents, and anyone who can write the file can recompute it. A signature that
	// does not match is still evidence of a change.
	sig, err := journal.ReadSignature(path)
	switch {
	case errors.Is(err, journal.ErrNoSignature):
		r.OK = true
		r.say("not signed: the chain shows accidents and cut journals, not deliberate changes (runs sign with --sign)")
	case err != nil:
		r.Signature, r.Problem = "not_valid", err.Error()
		r.say("SIGNATURE NOT VALID: %v", err)
	case sig.Whole:
		r.OK, r.Signature, r.SignedBy, r.SignedLines = true, "matches", keyName(sig.Key), sig.Lines
		r.say("signature by %s matches every line; give --signers FILE to check that this key may sign", keyName(sig.Key))
	default:
		r.Signature, r.SignedBy, r.SignedLines = "partial", keyName(sig.Key), sig.Lines
		r.Problem = fmt.Sprintf("lines after %d were not signed", sig.Lines)
		r.say("signature by %s matches lines 1-%d only: the lines after it were not signed", keyName(sig.Key), sig.Lines)
	}
	return r
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

// probedPlan plans rb with the facts of its role hosts, probed now (reading only), so
// the checklist names real values where a plan without an inventory shows
// placeholders such as <new.hostname>. A host that does not answer leaves the
// placeholders, with a warning.
func probedPlan(ctx context.Context, e *env, rb *steps.Runbook, inv *inventory.Inventory, in steps.Inputs) (*steps.Plan, error) {
	rf := runFlags{keepalive: 10 * time.Second, keepaliveTimeout: 15 * time.Second}
	pool := probe.NewPool(headlessDialer(e, &rf))
	defer pool.Close()
	facts, err := (&runner.Config{Inventory: inv}).ProbeRoles(ctx, pool, in.Roles, rb)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		fmt.Fprintf(e.stderr, "cutover export: warning: %s; the checklist shows placeholders for the facts of the hosts\n", hosttext.Line(err.Error()))
		return steps.Prepare(rb, inv.Host, in, nil)
	}
	return steps.Prepare(rb, inv.Host, in, facts)
}
