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
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/hosttext"
	"github.com/cutover/cutover/probe/yamlpos"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/headless"
	"github.com/cutover/cutover/steps/runner"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
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
}

func commands() []command {
	return []command{
		{"wizard", "the full-screen wizard (the default when no command is given)", cmdWizard},
		{"lab", "serve a practice lab of simulated hosts over SSH and write its inventory", cmdLab},
		{"probe", "probe the inventory's hosts: reachability, OS, clock, components", cmdProbe},
		{"runbooks", "list the runbooks", cmdRunbooks},
		{"lint", "check the runbooks (and any runbook files given)", cmdLint},
		{"run", "run a runbook (--headless without a terminal)", cmdRun},
		{"resume", "continue an interrupted run from its journal", cmdResume},
		{"plan", "what a run would change, with values read from the hosts now; changes nothing", cmdPlan},
		{"replay", "run a recorded run again, headless (or --verify-only: check its gates)", cmdReplay},
		{"export", "print a runbook's plan or a journal as a Markdown checklist", cmdExport},
		{"verify", "check a journal's integrity (hash chain) and its signature (--signers)", cmdVerify},
		{"version", "print the version", cmdVersion},
	}
}

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
	e := &env{stdout: out, stderr: errs, stdin: stdin, becomePassword: takeBecomePassword()}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		usage(stdout)
		return 0
	}
	name, rest := "", args
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, rest = args[0], args[1:]
	}
	run := cmdWizard
	if name != "" {
		run = nil
		for _, c := range commands() {
			if c.name == name {
				run = c.run
			}
		}
		if run == nil {
			fmt.Fprintf(stderr, "cutover: unknown command %q\n\n", name)
			usage(stderr)
			return headless.ExitBadInput
		}
	}
	ctx, stop := e.interruptible(name)
	defer stop()
	err := run(ctx, e, rest)
	if err == nil {
		return 0
	}
	var q quiet
	if !errors.As(err, &q) {
		label := "cutover"
		if name != "" {
			label += " " + name
		}
		fmt.Fprintf(stderr, "%s: %v\n", label, err)
	}
	return exitCode(err)
}

// interruptible installs the signal handling of the command line: the first SIGINT,
// SIGTERM or SIGHUP stops at the next safe point (the journal stays consistent and the
// run resumes); a second one also stops an action in flight. The wizard (no command
// name, or a run in a terminal) handles signals itself and gets none of this.
func (e *env) interruptible(name string) (context.Context, func()) {
	soft, stopSoft := context.WithCancel(context.Background())
	hard, stopHard := context.WithCancel(context.Background())
	e.hard = hard
	sigs := make(chan os.Signal, 2)
	e.signals = func() {
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
	switch name {
	case "", "wizard", "run", "resume":
		// These may open the wizard; they call e.signals() when they run headless.
	default:
		e.signals()
	}
	return soft, func() {
		signal.Stop(sigs)
		close(sigs) // ends the handler goroutine, if one was started
		stopSoft()
		stopHard()
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "cutover: move mail and list server components between hosts, one evidenced step at a time.")
	fmt.Fprintln(w, "\nUsage: cutover COMMAND [flags]   (cutover COMMAND -h for a command's flags)")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nExit codes: 0 done; 1 a gate failed or a step needs an operator; 2 bad input;")
	fmt.Fprintln(w, "3 interrupted (resumable); 4 a host could not be reached or its host key was refused.")
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

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func cmdVersion(_ context.Context, e *env, _ []string) error {
	fmt.Fprintln(e.stdout, "cutover", version())
	return nil
}
