package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/hosttext"
	"github.com/cutover/cutover/runbooks"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/headless"
	"github.com/cutover/cutover/steps/journal"
	"github.com/cutover/cutover/steps/runner"
)

// newCleanupCmd removes what a finished run kept aside, once the operator confirms the
// move.
func newCleanupCmd(e *env) *cobra.Command {
	var rf runFlags
	var journalPath string
	var yes bool
	cmd := &cobra.Command{
		Use:   "cleanup JOURNAL [--yes] [-i INVENTORY] [--journal FILE]",
		Short: "remove what a finished run's copies kept aside, once the move is confirmed (rollback can then no longer put it back)",
		Long: `A copy that replaces a file or folder keeps the old one aside, beside it, under a name
of its own (PATH.cutover-RUN-replaced), so that cutover rollback can put it back. Once
the move is confirmed, cleanup removes exactly those names: it lists them with their
host and size, asks for a typed yes (--yes without a terminal), and removes each as a
gated step of a run of its own, with its own journal. It never removes through a
symbolic link, nor a name that is not the one the run recorded, nor anything outside
the folder it was kept in. A run that has not finished, did not end done, or was
rolled back is refused. After cleanup, rolling those copies back is no longer possible.`,
		Example: `  cutover cleanup ~/.local/state/cutover/journals/maestro-move-hub-20261206T210237Z.jsonl
  cutover cleanup night.jsonl --yes --journal night-cleanup.jsonl`,
		RunE: func(cmd *cobra.Command, args []string) error {
			path, rec, err := parseRecorded(&rf, args, "clean up after")
			if err != nil {
				return err
			}
			return runCleanup(cmd.Context(), e, &rf, path, rec, journalPath, yes)
		},
	}
	fs := cmd.Flags()
	rf.register(fs)
	fs.StringVar(&journalPath, "journal", "", "write the cleanup run's journal to exactly this `FILE`")
	fs.BoolVarP(&yes, "yes", "y", false, "remove without asking (for scripts; without a terminal cleanup asks for this)")
	cmd.ValidArgsFunction = onlyFirst(completeJournals)
	return cmd
}

// runCleanup checks that the run may be cleaned up, lists what it kept aside, asks, and
// runs the generated cleanup runbook headless. Exit codes are those of a run.
func runCleanup(ctx context.Context, e *env, rf *runFlags, path string, rec *recorded, out string, yes bool) error {
	if rec.j.Broken != nil {
		return bad("%s:%v: refusing to clean up after a journal that fails its integrity check (cutover verify %s)", path, rec.j.Broken, path)
	}
	st, rb := rec.st, rec.rb
	runID := st.Session.RunID
	others := generatedRuns(rf, path, out)
	if err := cleanable(st, path, others); err != nil {
		return err
	}
	w := e.stdout
	if rf.json {
		w = e.stderr // stdout carries the run's events
	}
	if prev := openGenerated(others, runID, steps.CleanupOf); prev != nil {
		// A cleanup the operator confirmed was cut short: it goes on, without asking again.
		return resumeGenerated(ctx, e, w, rf, prev, "cleanup")
	}
	items := steps.KeptAside(st)
	if len(items) == 0 {
		fmt.Fprintf(w, "run %s of %s kept nothing aside: nothing to clean up\n", runID, rb.ID)
		return nil
	}
	inv, err := rec.inventory(rf.inventory)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "run %s of %s kept aside, until the move is confirmed:\n", runID, rb.ID)
	sizes := keptSizes(ctx, headlessDialer(e, rf), inv.Host, items)
	for i, it := range items {
		fmt.Fprintln(w, hosttext.Line(fmt.Sprintf("  %s: %s (%s; step %s replaced %s)", it.Undo.Host, it.Undo.Kept, sizes[i], it.Step, it.Undo.Path)))
	}
	if !yes {
		if err := confirmCleanup(e, w, len(items)); err != nil {
			return err
		}
	}
	if out == "" {
		out = rf.generatedJournal(rb.ID + "-cleanup")
	}
	data, err := steps.CleanupRunbook(st, rb, path, items)
	if err != nil {
		return badInput{err}
	}
	e.signals()
	cfg, release, err := rf.config(e, inv, &headless.Printer{W: e.stdout, JSON: rf.json, Verbose: rf.verbose, Journal: out})
	if err != nil {
		return err
	}
	defer release()
	if err := runGenerated(ctx, e, w, cfg, st, out, "cleanup", "cleaning up", data); err != nil {
		return err
	}
	fmt.Fprintf(w, "cleanup: %s removed; rolling back the copies that kept them aside is no longer possible (journal %s)\n",
		steps.Plural(len(items), "kept-aside item", "kept-aside items"), out)
	return nil
}

// cleanable refuses a run whose kept-aside copies must stay: one that has not
// finished (it may still need them, or a rollback), did not end done, or was rolled
// back. others are the generated runs (rollbacks, cleanups) found beside it.
func cleanable(st *steps.RunState, path string, others []*journal.Run) error {
	runID := st.Session.RunID
	for _, r := range others {
		if steps.RollbackOf(r.Session) == runID {
			return fmt.Errorf("refusing to clean up: run %s was rolled back (journal %s): what it kept aside was put back, or belongs to the rollback now; nothing was removed", runID, r.Path())
		}
	}
	if !st.Ended {
		at := ""
		if cur := st.Current(); cur != nil {
			at = " (it stopped at step " + cur.ID() + ")"
		}
		return fmt.Errorf("refusing to clean up: run %s has not finished%s, and what it kept aside is how it is rolled back; finish it (cutover resume %s) or roll it back (cutover rollback %s); nothing was removed", runID, at, path, path)
	}
	if st.Outcome != steps.RunDone {
		return fmt.Errorf("refusing to clean up: run %s ended %s (%s), not done: the move was not completed, and what it kept aside is how it is rolled back; nothing was removed", runID, st.Outcome, st.Message)
	}
	return nil
}

// generatedRuns reads the journals of the folders a rollback or cleanup of the run at
// path may have written: the run's own folder, the journal folder, and out's.
func generatedRuns(rf *runFlags, path, out string) []*journal.Run {
	dirs := []string{filepath.Dir(path), journalDir(rf.journalDir)}
	if out != "" {
		dirs = append(dirs, filepath.Dir(out))
	}
	seen := map[string]bool{}
	var runs []*journal.Run
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil || seen[abs] {
			continue
		}
		seen[abs] = true
		list, _ := journal.List(abs)
		runs = append(runs, list...)
	}
	return runs
}

// openGenerated is the newest unfinished run among runs that of says belongs to runID
// (a rollback of it cut short), or nil.
func openGenerated(runs []*journal.Run, runID string, of func(*steps.Session) string) *journal.Run {
	for _, r := range runs {
		if of(r.Session) == runID && !r.State.Ended {
			return r
		}
	}
	return nil
}

// keptSizes says, for each item, how much it holds on its host (or why that is not
// known), reading over SFTP without following links.
func keptSizes(ctx context.Context, d probe.Dialer, host func(string) *probe.Host, items []steps.KeptItem) []string {
	pool := probe.NewPool(d)
	defer pool.Close()
	out := make([]string, len(items))
	for i, it := range items {
		h := host(it.Undo.Host)
		if h == nil {
			out[i] = "size not known: the inventory has no host " + it.Undo.Host
			continue
		}
		tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		t, err := pool.Get(tctx, h)
		if err != nil {
			out[i] = "size not known: " + err.Error()
		} else {
			out[i] = steps.KeptSize(tctx, t, it.Undo.Kept)
		}
		cancel()
	}
	return out
}

// confirmCleanup asks for a typed yes on the terminal; without one it refuses, since
// nothing would be there to answer.
func confirmCleanup(e *env, w io.Writer, n int) error {
	f, ok := e.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return bad("cleanup removes for good and asks first, and there is no terminal to ask on: give --yes to remove them without asking")
	}
	fmt.Fprintf(w, "Removing them cannot be undone, and rollback can then no longer put them back. Type yes to remove %s: ", steps.Plural(n, "item", "items"))
	line, _ := bufio.NewReader(f).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		return fmt.Errorf("not confirmed (%q is not yes): nothing was removed", strings.TrimSpace(line))
	}
	return nil
}

// writeGenerated writes a generated runbook beside the journal out (its name with
// suffix for .jsonl), refusing to overwrite one unless no journal was made with it (a
// run that died before its journal began).
func writeGenerated(out, suffix string, data []byte) (string, error) {
	file := strings.TrimSuffix(out, ".jsonl") + suffix
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return "", err
	}
	if _, err := os.Stat(out); os.IsNotExist(err) {
		if fi, err := os.Lstat(file); err == nil && fi.Mode().IsRegular() {
			_ = os.Remove(file)
		}
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", bad("writing the generated runbook: %v", err)
	}
	_, werr := f.Write(data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	return file, werr
}

// generatedJournal is a new journal for a run cutover generates (name: the runbook id
// with -rollback or -cleanup), in the journal folder of --journal-dir or the default.
func (rf *runFlags) generatedJournal(name string) string {
	dir := rf.journalDir
	if dir == "" {
		dir = journal.DefaultDir()
	}
	return journal.NewPath(dir, name, time.Now())
}

// runGenerated writes a generated runbook (kind rollback or cleanup) beside its journal
// out, binds its roles to the hosts of the run st it follows, and runs it headless to
// its end, saying on w which file it runs ("rolling back with FILE").
func runGenerated(ctx context.Context, e *env, w io.Writer, cfg *runner.Config, st *steps.RunState, out, kind, doing string, data []byte) error {
	file, err := writeGenerated(out, "."+kind+".yaml", data)
	if err != nil {
		return err
	}
	grb, err := runbooks.LoadFile(file)
	if err != nil {
		return fmt.Errorf("the generated %s runbook %s: %w", kind, file, err)
	}
	in := steps.Inputs{Roles: map[string]string{}, Params: map[string]string{}}
	for _, r := range grb.Roles {
		in.Roles[r.ID] = st.Session.Roles[r.ID]
	}
	fmt.Fprintf(w, "%s with %s\n", doing, file)
	cfg.JournalPath = out
	run, err := cfg.Start(ctx, grb, in, "")
	if err != nil {
		return explainStart(e, err)
	}
	res := headless.Drive(ctx, run.Engine, nil, run.Journal.Path())
	closeRun(e, run, cfg, func() {})
	return finish(e, res)
}

// resumeGenerated continues a rollback or cleanup run that was cut short (killed,
// interrupted, a host lost) from its journal. Its actions (restore, discard, service)
// are written to be run again safely, so an action of unknown outcome runs again.
func resumeGenerated(ctx context.Context, e *env, w io.Writer, rf *runFlags, r *journal.Run, via string) error {
	grb, err := sessionRunbook(r.Session)
	if err != nil {
		return bad("the runbook of the unfinished %s: %v", r.Path(), err)
	}
	inv, err := (&recorded{st: r.State}).inventory(rf.inventory)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "continuing the run cut short: %s\n", r.Path())
	e.signals()
	cfg, release, err := rf.config(e, inv, &headless.Printer{W: e.stdout, JSON: rf.json, Verbose: rf.verbose, Journal: r.Path()})
	if err != nil {
		return err
	}
	defer release()
	run, err := cfg.Resume(ctx, r.Path(), grb, runner.ResumeOptions{})
	if err != nil {
		return err
	}
	answers := map[string]*steps.Answer{}
	for _, s := range grb.Steps {
		answers[s.ID] = &steps.Answer{Unknown: "rerun"}
	}
	res := headless.Drive(ctx, run.Engine, &steps.Answerer{Answers: answers, Via: via}, run.Journal.Path())
	closeRun(e, run, cfg, func() {})
	return finish(e, res)
}

// withoutCleaned takes out of the back-out plan of run runID what a cleanup of it
// removed (found among the generated runs beside it).
func withoutCleaned(items []steps.BackOutItem, runID string, others []*journal.Run) []steps.BackOutItem {
	removed := map[string]string{}
	for _, r := range others {
		if steps.CleanupOf(r.Session) != runID {
			continue
		}
		crb, err := sessionRunbook(r.Session)
		if err != nil {
			continue
		}
		for _, kept := range steps.Discarded(r.State, crb) {
			removed[kept] = r.Path()
		}
	}
	return steps.WithoutDiscarded(items, removed)
}

// sayKeptAside ends the text of a run that finished done with what its copies kept
// aside and the command that removes them once the move is confirmed (on stderr when
// stdout is the JSON event stream).
func sayKeptAside(e *env, run *runner.Run, cfg *runner.Config) {
	if run.Engine == nil || !run.Engine.Finished() || run.Engine.State().Outcome != steps.RunDone {
		return
	}
	items := steps.KeptAside(run.Engine.State())
	if len(items) == 0 {
		return
	}
	w := e.stdout
	if p, ok := cfg.Observer.(*headless.Printer); ok && p.JSON {
		w = e.stderr
	}
	fmt.Fprintln(w, "kept aside until you confirm the move (cutover rollback puts them back):")
	for _, it := range items {
		fmt.Fprintln(w, hosttext.Line(fmt.Sprintf("  %s: %s (step %s replaced %s)", it.Undo.Host, it.Undo.Kept, it.Step, it.Undo.Path)))
	}
	fmt.Fprintln(w, hosttext.Line("once the move is confirmed, remove them with: "+steps.CleanupCommand(shellQuote(run.Journal.Path()))))
}
