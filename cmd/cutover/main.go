// Command cutover walks an operator through moving a live mail or list server component
// to another host, gating every step on evidence from the hosts. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/hosttext"
	"github.com/cutover/cutover/probe/yamlpos"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/headless"
	"github.com/cutover/cutover/steps/runner"
)

// commands lists the subcommands in the order help shows them. Adding a command is a
// file with its constructor (cmd_NAME.go) and one line here.
var commands = []func(*env) *cobra.Command{
	newWizardCmd,
	newLabCmd,
	newProbeCmd,
	newRunbooksCmd,
	newLintCmd,
	newRunCmd,
	newResumeCmd,
	newPlanCmd,
	newRollbackCmd,
	newCleanupCmd,
	newReplayCmd,
	newExportCmd,
	newVerifyCmd,
	newRunsCmd,
	newNewCmd,
	newVersionCmd,
	newCompletionCmd,
	newEnvironmentTopic,
}

// env is what commands share: the standard streams and the two interrupt levels.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	// hard is cancelled by a second interrupt: actions in flight are stopped too.
	hard context.Context
	// signals starts the command line's signal handling; the wizard does not call it.
	signals func()
	// becomePassword is CUTOVER_BECOME_PASSWORD, taken out of the environment at start.
	becomePassword []byte
	// paramEnv are the CUTOVER_PARAM_* variables, taken out of the environment at start
	// (secrets.go).
	paramEnv map[string]string
	// site is --runbooks and --allow-shadow, and the catalogue they give (site.go).
	site siteOptions
	// started is set once the command line parsed and a command's own code runs: an
	// error before that is the command line's (exit 2).
	started bool

	// The event stream of a headless run, resume or replay with --json (stream.go):
	// realMain ends it with its terminal record whatever the command returned. journal
	// is the run's journal once known, stopped how the run stopped, reason what kept it
	// from starting.
	events  *headless.Printer
	journal string
	stopped *headless.Result
	reason  string
}

// ownSignals marks (as a command annotation) a command that may open the wizard, which
// handles signals itself: it calls e.signals() only when it runs headless.
const ownSignals = "cutover/own-signals"

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func realMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// Whatever a command prints (a host's output, a lock's fields, an error quoting a
	// file name) reaches the terminal without a raw escape sequence. The fields are made
	// safe where they are formatted; this is the last line of defence. The wizard draws
	// on the terminal itself and does not write here.
	out, errs := hosttext.NewWriter(stdout), hosttext.NewWriter(stderr)
	defer out.Flush()
	defer errs.Flush()
	e := &env{stdout: out, stderr: errs, stdin: stdin, becomePassword: takeBecomePassword(), paramEnv: takeParamEnv()}
	root := newRoot(e)
	root.SetArgs(longFlagsWithOneDash(root, args))
	ctx, stop := e.interruptible()
	defer stop()
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		e.closeStream(0, nil)
		return 0
	}
	if !e.started {
		// The command line itself is wrong: an unknown command or flag, a bad value.
		label := "cutover"
		if cmd != nil {
			label = cmd.CommandPath()
		}
		// cobra ends its suggestions of a command with a newline; the flags' do not.
		fmt.Fprintf(errs, "%s: %s\n", label, strings.TrimRight(err.Error(), "\n"))
		fmt.Fprintf(errs, "Run '%s --help' for usage.\n", label)
		e.streamOnBadLine(cmd, args)
		e.closeStream(headless.ExitBadInput, err)
		return headless.ExitBadInput
	}
	var q quiet
	if !errors.As(err, &q) {
		fmt.Fprintf(errs, "%s: %v\n", cmd.CommandPath(), err)
	}
	code := exitCode(err)
	e.closeStream(code, err)
	return code
}

// newRoot builds the command tree afresh, so that each call of realMain (tests call it
// in process) starts from default flag values.
func newRoot(e *env) *cobra.Command {
	root := newWizardCmd(e)
	root.Use = "cutover"
	root.Short = "move mail and list server components between hosts, one evidenced step at a time"
	root.Long = `cutover walks an operator through moving a live mail or list server component to another
host: it probes the hosts over SSH, does what it can itself, gates every step on evidence
from the hosts and journals every event (resume, headless replay, Markdown export).

Without a command it opens the full-screen wizard.`
	root.Example = `  cutover                                   # the wizard, on ./cutover.yaml
  cutover lab --dir /tmp/lab                # a practice lab of simulated hosts
  cutover run --from /tmp/lab/runs/maestro-move-hub.yaml --headless
  cutover runbooks`
	root.Version = version()
	root.Annotations = map[string]string{ownSignals: "yes"}
	root.SetVersionTemplate("{{.Name}} " + versionLine() + "\n")
	root.Flags().Bool("version", false, "print the version, commit, build date and Go version")
	root.SilenceErrors = true
	root.SilenceUsage = true
	root.SuggestionsMinimumDistance = 2
	root.CompletionOptions.DisableDefaultCmd = true // newCompletionCmd instead
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetIn(e.stdin)
	root.SetFlagErrorFunc(flagError)
	root.SetUsageTemplate(root.UsageTemplate() + exitCodesHelp)
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		e.started = true
		if cmd.Annotations[ownSignals] == "" {
			e.signals()
		}
		// The site's component declarations reach every probe of the command (a
		// resume's, the wizard's); a broken site folder is reported by the commands
		// that read runbooks.
		_, _ = e.catalog()
		return nil
	}
	addSiteFlags(root, e)
	for _, c := range commands {
		root.AddCommand(c(e))
	}
	return root
}

// exitCodesHelp closes the usage of every command: scripts branch on these.
const exitCodesHelp = `
Exit codes: 0 done; 1 a gate failed or a step needs an operator; 2 bad input;
3 interrupted (resumable); 4 a host could not be reached or its host key was refused.
`

// interruptible installs the signal handling of the command line: the first SIGINT,
// SIGTERM or SIGHUP stops at the next safe point (the journal stays consistent and the
// run resumes); a second one also stops an action in flight. The wizard (no command
// name, or a run in a terminal) handles signals itself and gets none of this: commands
// start it through e.signals (the root's PersistentPreRunE, or a headless run).
func (e *env) interruptible() (context.Context, func()) {
	soft, stopSoft := context.WithCancel(context.Background())
	hard, stopHard := context.WithCancel(context.Background())
	e.hard = hard
	sigs := make(chan os.Signal, 2)
	started := false
	e.signals = func() {
		if started {
			return
		}
		started = true
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
		go func() {
			n := 0
			for range sigs {
				n++
				if n == 1 {
					// Stop first, then say so: once the message is out, nothing new starts.
					stopSoft()
					fmt.Fprintln(e.stderr, "cutover: interrupted; stopping at the next safe point (again to stop an action in flight)")
				} else {
					stopHard()
				}
			}
		}()
	}
	return soft, func() {
		signal.Stop(sigs)
		close(sigs) // ends the handler goroutine, if one was started
		stopSoft()
		stopHard()
	}
}

// quiet wraps an error that has already been reported, carrying only its exit code.
type quiet struct{ code int }

func (q quiet) Error() string { return fmt.Sprintf("exit %d", q.code) }

// badInput marks an error as the operator's input being wrong (exit 2).
type badInput struct{ err error }

func (b badInput) Error() string { return b.err.Error() }
func (b badInput) Unwrap() error { return b.err }

func bad(format string, args ...any) error { return badInput{fmt.Errorf(format, args...)} }

// exitCode maps an error to the documented exit codes.
func exitCode(err error) int {
	var q quiet
	var bi badInput
	var ie *steps.InputError
	var re *steps.RequirementError
	var ue *runner.UnreachableError
	switch {
	case errors.As(err, &q):
		return q.code
	case errors.Is(err, context.Canceled):
		return headless.ExitInterrupted
	case errors.As(err, &ue), probe.IsConnectionError(err):
		return headless.ExitUnreachable
	case errors.As(err, &bi), errors.As(err, &ie), len(yamlpos.Errors(err)) > 0:
		return headless.ExitBadInput
	case errors.As(err, &re):
		return headless.ExitNeedsOp
	}
	return headless.ExitNeedsOp
}
