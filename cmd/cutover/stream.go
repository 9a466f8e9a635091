package main

import (
	"errors"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/headless"
	"github.com/cutover/cutover/steps/journal"
)

// streams marks (as a command annotation) a command whose --headless --json output is
// an event stream: a format record first, a terminal record last.
const streams = "cutover/streams"

// openStream starts the event stream of a headless command with --json: its first
// record goes out before anything is checked, so that even bad input ends a stream
// that began.
func (e *env) openStream(command string, rf *runFlags) {
	if rf.headless && rf.json && e.events == nil {
		e.events = &headless.Printer{W: e.stdout, JSON: true, Verbose: rf.verbose}
		e.events.Start(command, version())
	}
}

// printer is the observer of a headless run whose journal is path: the event stream's
// printer with --json, else a printer of text lines.
func (e *env) printer(rf *runFlags, path string) *headless.Printer {
	e.journal = path
	if e.events != nil {
		e.events.Journal = path
		return e.events
	}
	return &headless.Printer{W: e.stdout, JSON: rf.json, Verbose: rf.verbose, Journal: path}
}

// streamOnBadLine opens the stream of a command whose line could not be parsed, when
// the line asked for one (--headless and --json), so that it ends with its terminal
// record like any other.
func (e *env) streamOnBadLine(cmd *cobra.Command, args []string) {
	if cmd == nil || cmd.Annotations[streams] == "" {
		return
	}
	has := func(name string) bool {
		return slices.Contains(args, "--"+name) || slices.Contains(args, "-"+name) || slices.Contains(args, "--"+name+"=true")
	}
	if has("headless") && has("json") {
		e.openStream(cmd.Name(), &runFlags{headless: true, json: true})
	}
}

// closeStream writes the terminal record of the event stream, if one was opened: the
// outcome from the exit code, the reason, the step, and how to continue.
func (e *env) closeStream(code int, err error) {
	if e.events == nil {
		return
	}
	end := headless.StreamEnd{Outcome: headless.Outcome(code, nil), ExitCode: code, Journal: e.journal}
	if r := e.stopped; r != nil {
		end.Outcome, end.Reason = headless.Outcome(code, r.Prompt), r.Message
		if r.Prompt != nil {
			end.Step = r.Prompt.Step
		}
	}
	var q quiet
	switch {
	case end.Reason != "":
	case e.reason != "":
		end.Reason = e.reason
	case err != nil && !errors.As(err, &q):
		end.Reason = err.Error()
	case code == 0:
		end.Reason = "every step is done"
	}
	if e.journal != "" && (code == headless.ExitNeedsOp || code == headless.ExitInterrupted || code == headless.ExitUnreachable) {
		if j, err := journal.Read(e.journal); err == nil {
			if st := steps.NewRunState(j.Events); st.Session != nil && !st.Ended {
				end.Resume = "cutover resume " + shellQuote(e.journal) + " --headless"
			}
		}
	}
	if _, err := os.Stat(e.journal); err != nil {
		end.Journal = "" // the run never started: there is no journal
	}
	e.events.End(end)
}

// shellQuote quotes s for a POSIX shell when it holds anything but safe characters.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@%+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
