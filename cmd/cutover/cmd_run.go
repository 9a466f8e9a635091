package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/hosttext"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/sshx"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/headless"
	"github.com/cutover/cutover/steps/journal"
	"github.com/cutover/cutover/steps/runner"
)

// runFlags are the flags run, resume and replay share.
type runFlags struct {
	inventory        string
	answers          string
	headless         bool
	json             bool
	verbose          bool
	journalDir       string
	breakLock        string
	keepalive        time.Duration
	keepaliveTimeout time.Duration
	sign             bool
	signKey          string
}

func (rf *runFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&rf.inventory, "inventory", "i", "", "inventory `FILE` (resume and replay: default the one the run recorded)")
	fs.StringVar(&rf.answers, "answers", "", "answers for manual steps (a run `FILE`; only its answers are used)")
	fs.BoolVar(&rf.headless, "headless", false, "run without the full-screen wizard: one line per event, decisions from answers")
	fs.BoolVar(&rf.json, "json", false, "with --headless: one JSON object per event")
	fs.BoolVarP(&rf.verbose, "verbose", "v", false, "with --headless: also print command output and every wait")
	fs.StringVar(&rf.journalDir, "journal-dir", "", "`DIR` for the journal (default: "+journal.DefaultDir()+")")
	_ = fs.SetAnnotation("journal-dir", cobra.BashCompSubdirsInDir, []string{})
	fs.StringVar(&rf.breakLock, "break-lock", "", "break host locks left by a run whose process is gone, giving the `REASON` (journaled); a live run's lock is never broken")
	fs.DurationVar(&rf.keepalive, "keepalive", 10*time.Second, "check every SSH connection this often; a host that stops answering is noticed within keepalive + keepalive-timeout")
	fs.DurationVar(&rf.keepaliveTimeout, "keepalive-timeout", 15*time.Second, "how long a keepalive may go unanswered before the host counts as unreachable")
	fs.BoolVar(&rf.sign, "sign", false, "sign the journal with your SSH key (ssh-agent's first key, else ~/.ssh/id_*) each time the run stops, in JOURNAL.sig; check with cutover verify --signers")
	fs.StringVar(&rf.signKey, "sign-key", "", "with --sign: the key to sign with, a private key `FILE` or the .pub of a key in ssh-agent (implies --sign)")
}

// headlessOnly refuses the named flags when they were given without --headless: the
// wizard asks for these itself, and silently dropping one (a --break-lock, a --role)
// would leave the operator believing it applied.
func headlessOnly(fs *pflag.FlagSet, names ...string) error {
	var given []string
	fs.Visit(func(f *pflag.Flag) {
		if slices.Contains(names, f.Name) {
			given = append(given, "--"+f.Name)
		}
	})
	if len(given) == 0 {
		return nil
	}
	return bad("%s only apply with --headless; the wizard asks for these itself (it takes -i, --from and --journal-dir)", strings.Join(given, ", "))
}

// check refuses flag values that make no sense.
func (rf *runFlags) check() error {
	if rf.keepalive <= 0 || rf.keepaliveTimeout <= 0 {
		return bad("--keepalive and --keepalive-timeout must be positive durations (such as 10s), not %s and %s", rf.keepalive, rf.keepaliveTimeout)
	}
	if rf.breakLock != "" && len(strings.TrimSpace(rf.breakLock)) < 3 {
		return bad("--break-lock needs a reason (it is journaled), not %q", rf.breakLock)
	}
	return nil
}

// config is the runner configuration of a headless run. With --sign it finds the key
// first (asking for its passphrase), before anything touches a host; release ends the
// agent connection once the run is closed.
func (rf *runFlags) config(e *env, inv *inventory.Inventory, printer *headless.Printer) (cfg *runner.Config, release func(), err error) {
	cfg = &runner.Config{Inventory: inv, Dialer: headlessDialer(e, rf), Observer: printer, Hard: e.hard, Version: version(),
		BreakLock: strings.TrimSpace(rf.breakLock)}
	release = func() {}
	if rf.sign || rf.signKey != "" {
		d := &sshx.Dialer{Passphrase: passphrasePrompt(e)}
		if cfg.Signer, release, err = d.SigningKey(rf.signKey); err != nil {
			return nil, nil, bad("--sign: %v", err)
		}
	}
	return cfg, release, nil
}

// headlessDialer is the command line's dialer with the keepalive flags, asking for the
// passphrase of an encrypted key and a sudo password on the terminal (never echoed) or
// through SSH_ASKPASS.
func headlessDialer(e *env, rf *runFlags) probe.Dialer {
	return newDialer(&sshx.Dialer{KeepaliveInterval: rf.keepalive, KeepaliveTimeout: rf.keepaliveTimeout,
		Passphrase: passphrasePrompt(e), BecomePassword: becomePasswordPrompt(e, true)})
}

// closeRun closes a run (which signs its journal with --sign) and says what could not
// be done (a lock left behind, a signature refused).
func closeRun(e *env, run *runner.Run, cfg *runner.Config, release func()) {
	defer release()
	sayKeptAside(e, run, cfg)
	if err := run.Close(); err != nil {
		fmt.Fprintf(e.stderr, "cutover: warning: %v\n", err)
		return
	}
	if k := cfg.Signer; k != nil {
		fmt.Fprintf(e.stderr, "cutover: journal signed with %s: %s\n", keyName(k.PublicKey()), journal.SigPath(run.Journal.Path()))
	}
}

// runOptions are the flags of cutover run.
type runOptions struct {
	rf                        runFlags
	sf                        stepFlags
	files                     secretFlags
	roles, params             pairs
	preset, from, journalPath string
}

func newRunCmd(e *env) *cobra.Command {
	o := &runOptions{roles: pairs{}, params: pairs{}}
	cmd := &cobra.Command{
		Use:   "run RUNBOOK -i INVENTORY --role ROLE=HOST... [--set KEY=VALUE]... --headless\n  cutover run --from RUNFILE [-i INVENTORY] [--headless]",
		Short: "run a runbook (--headless without a terminal)",
		Long: `Run a runbook: in the full-screen wizard on a terminal, or with --headless one line (or
JSON object) per event, the decisions of manual steps taken from a run file's answers.`,
		Example: `  cutover run maestro/move-hub -i site.yaml --role old=hub --role new=hub2
  cutover run --from /tmp/lab/runs/maestro-move-hub.yaml --headless
  cutover run --from night.yaml --headless --json > events.jsonl`,
		Annotations: map[string]string{ownSignals: "yes", streams: "yes"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmdRun(cmd.Context(), e, cmd.Flags(), o, args)
		},
	}
	fs := cmd.Flags()
	o.rf.register(fs)
	fs.Var(o.roles, "role", "bind a role to a host: ROLE=HOST (repeatable)")
	fs.Var(o.params, "set", "set a parameter: KEY=VALUE (repeatable); a secret is better given with --set-file, "+paramEnvPrefix+"KEY or at the prompt")
	o.files.register(fs)
	fs.StringVar(&o.preset, "preset", "", "start from one of the runbook's presets")
	fs.StringVar(&o.from, "from", "", "run `FILE`: runbook, roles, parameters and answers")
	fs.StringVar(&o.journalPath, "journal", "", "write the journal to exactly this `FILE`")
	o.sf.register(fs, true)
	cmd.ValidArgsFunction = onlyFirst(completeRunbooks)
	return complete(cmd, map[string]completion{"role": completeRoles, "set": completeParams})
}

func cmdRun(ctx context.Context, e *env, fs *pflag.FlagSet, o *runOptions, pos []string) error {
	rf, roles, params := &o.rf, o.roles, o.params
	e.openStream("run", rf)
	var err error
	if err := rf.check(); err != nil {
		return err
	}
	setOnly := maps.Clone(params)
	if err := o.files.read(params); err != nil {
		return err
	}
	if len(pos) > 1 {
		return bad("give one runbook, not %d", len(pos))
	}
	in := steps.Inputs{Roles: map[string]string{}, Params: map[string]string{}, Preset: o.preset}
	answers := map[string]*steps.Answer{}
	var runbookID string
	if len(pos) == 1 {
		runbookID = pos[0]
	}
	var runf *steps.RunFile
	if o.from != "" {
		runf, err = steps.LoadRunFile(o.from)
		if err != nil {
			return badInput{err}
		}
		if runbookID != "" && runbookID != runf.Runbook {
			return bad("%s: the run file is for %s, not %s", runf.Pos("runbook"), runf.Runbook, runbookID)
		}
		if runf.Runbook == "" && runbookID == "" {
			return bad("%s: the run file names no runbook: add runbook: ID (cutover runbooks lists them)", runf.File)
		}
		runbookID = runf.Runbook
		in = runf.Inputs()
		if o.preset != "" {
			in.Preset = o.preset
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
	rb, err := e.runbook(runbookID)
	if err != nil {
		if runf != nil && len(pos) == 0 {
			return bad("%s: %v", runf.Pos("runbook"), err)
		}
		return badInput{err}
	}
	e.completeParams(rb, &in, params, setOnly)
	if err := mergeAnswers(answers, rf.answers, rb); err != nil {
		return err
	}
	if err := (&steps.RunFile{Answers: answers}).CheckAgainst(rb); err != nil {
		return badInput{err}
	}
	if err := o.sf.check(rb); err != nil {
		return err
	}
	inv, err := loadInventory(rf.inventory)
	if err != nil {
		return err
	}
	if runf != nil {
		// Say where in the run file a role, host or parameter is wrong, before anything
		// else looks at them.
		if err := runf.CheckInputs(rb, inv.Host, steps.Inputs{Roles: roles, Params: params, Preset: o.preset}); err != nil {
			return badInput{err}
		}
	}
	if !rf.headless {
		if err := headlessOnly(fs, "role", "set", "preset", "answers", "journal", "break-lock", "keepalive", "keepalive-timeout", "json", "verbose", "sign", "sign-key", "step", "start-at", "stop-after"); err != nil {
			return err
		}
		return wizard(ctx, e, wizardOptions{inv: inv, runbook: rb.ID, runFile: runf, journalDir: rf.journalDir})
	}
	e.signals()
	for k, v := range e.promptSecrets(rb, secretIDs(rb), func(id string) bool { _, ok := in.Params[id]; return ok }) {
		in.Params[k] = v
	}
	path := o.journalPath
	if path == "" {
		path = journal.NewPath(rf.journalDir, rb.ID, time.Now())
	}
	printer := e.printer(rf, path)
	cfg, release, err := rf.config(e, inv, printer)
	if err != nil {
		return err
	}
	cfg.JournalPath = path
	run, err := cfg.Start(ctx, rb, in, "")
	if err != nil {
		release()
		return explainStart(e, err)
	}
	defer closeRun(e, run, cfg, release)
	warnExposure(e, path)
	if err := o.sf.begin(ctx, e, run); err != nil {
		return err
	}
	return finish(e, o.sf.drive(ctx, e, run, &steps.Answerer{Answers: answers, Via: "runfile"}))
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
		return bad("%s: the answers are for %s, not %s", af.Pos("runbook"), af.Runbook, rb.ID)
	}
	for k, v := range af.Answers {
		answers[k] = v
	}
	return nil
}

// explainStart prints what kept a run from starting, host by host.
func explainStart(e *env, err error) error {
	if ue, ok := err.(*runner.UnreachableError); ok {
		var why []string
		for _, f := range ue.Facts {
			fmt.Fprintf(e.stderr, "cutover: %s: %s\n", hosttext.Line(f.Name), hosttext.Line(f.Error))
			why = append(why, f.Name+": "+f.Error)
		}
		e.reason = strings.Join(why, "; ")
		return quiet{headless.ExitUnreachable}
	}
	return err
}

func finish(e *env, res headless.Result) error {
	e.stopped = &res
	if res.Code == 0 {
		return nil
	}
	fmt.Fprintf(e.stderr, "cutover: %s\n", res.Message)
	return quiet{res.Code}
}

// resumeOptions are the flags of cutover resume.
type resumeOptions struct {
	rf              runFlags
	sf              stepFlags
	files           secretFlags
	decide, secrets pairs
	allowChanged    bool
	last            bool
}

func newResumeCmd(e *env) *cobra.Command {
	o := &resumeOptions{decide: pairs{}, secrets: pairs{}}
	cmd := &cobra.Command{
		Use:   "resume JOURNAL|--last [-i INVENTORY] [--decide STEP=accept|rerun|retry]... [--set-file SECRET=FILE]... [--headless]",
		Short: "continue an interrupted run from its journal",
		Example: `  cutover resume ~/.local/state/cutover/journals/maestro-move-hub-20260102-0304.jsonl
  cutover resume --last --headless
  cutover resume run.jsonl --headless --decide switch-dns=retry
  cutover resume run.jsonl --headless --set db_password=... --answers night.yaml`,
		Annotations: map[string]string{ownSignals: "yes", streams: "yes"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmdResume(cmd.Context(), e, cmd.Flags(), o, args)
		},
	}
	fs := cmd.Flags()
	o.rf.register(fs)
	fs.Var(o.decide, "decide", "answer what stopped a step: STEP=accept or STEP=rerun for an action of unknown outcome, STEP=retry to look again at a failed check (or run a failed action again) once you fixed its cause (repeatable)")
	fs.Var(o.secrets, "set", "give a secret parameter again: KEY=VALUE (secrets are never journaled); better with --set-file, "+paramEnvPrefix+"KEY or at the prompt")
	o.files.register(fs)
	fs.BoolVar(&o.allowChanged, "allow-changed", false, "go on even though the runbook changed since the run was recorded")
	o.sf.register(fs, false)
	fs.BoolVar(&o.last, "last", false, "resume the newest unfinished run in the journal folder (on the inventory of -i, when given)")
	cmd.ValidArgsFunction = onlyFirst(completeJournals)
	return complete(cmd, map[string]completion{"decide": completeDecide, "set": completeParams})
}

func cmdResume(ctx context.Context, e *env, fs *pflag.FlagSet, o *resumeOptions, args []string) error {
	rf := &o.rf
	e.openStream("resume", rf)
	if o.last {
		last, err := lastRun(args, journalDir(rf.journalDir), rf.inventory, journal.Unfinished)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "cutover: resuming %s\n", last)
		args = []string{last}
	}
	path, rec, err := parseRecorded(rf, args, "resume")
	if err != nil {
		return err
	}
	st, rb := rec.st, rec.rb
	if st.Ended {
		return bad("the run in %s has already ended (%s); export it with: cutover export %s", path, st.Outcome, path)
	}
	inv, err := rec.inventory(rf.inventory)
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
	for step, d := range o.decide {
		a := answers[step]
		if a == nil {
			a = &steps.Answer{}
			answers[step] = a
		}
		switch d {
		case "accept", "rerun":
			a.Unknown = d
		case "retry":
			a.Retry = true
		default:
			return bad("--decide %s=%s: use accept, rerun or retry", step, d)
		}
		a.Via = "flag"
	}
	if err := (&steps.RunFile{Answers: answers}).CheckAgainst(rb); err != nil {
		return badInput{err}
	}
	if err := o.sf.check(rb); err != nil {
		return err
	}
	if !rf.headless {
		if err := headlessOnly(fs, "answers", "decide", "set", "allow-changed", "break-lock", "keepalive", "keepalive-timeout", "json", "verbose", "sign", "sign-key", "step", "stop-after"); err != nil {
			return err
		}
		return wizard(ctx, e, wizardOptions{inv: inv, resume: path, journalDir: rf.journalDir})
	}
	e.signals()
	setOnly := pairs{}
	for k, v := range o.secrets {
		setOnly[k] = v
	}
	if err := o.files.read(o.secrets); err != nil {
		return err
	}
	e.recordedSecrets(rb, st.Session.Secret, o.secrets, setOnly, true)
	printer := e.printer(rf, path)
	cfg, release, err := rf.config(e, inv, printer)
	if err != nil {
		return err
	}
	run, err := cfg.Resume(ctx, path, rb, runner.ResumeOptions{Secrets: o.secrets, AllowChanged: o.allowChanged})
	if err != nil {
		release()
		return err
	}
	defer closeRun(e, run, cfg, release)
	return finish(e, o.sf.drive(ctx, e, run, &steps.Answerer{Answers: answers, Via: "runfile"}))
}

// passphrasePrompt asks for the passphrase of an encrypted identity file (askSecret).
// The passphrase goes to the key and nowhere else: not to the screen, the journal or
// any message.
func passphrasePrompt(e *env) func(keyFile string) ([]byte, error) {
	return func(keyFile string) ([]byte, error) {
		return askSecret(e, fmt.Sprintf("Enter passphrase for key %s: ", keyFile), true,
			"no terminal to ask for it on (add the key to ssh-agent, or set SSH_ASKPASS)")
	}
}
