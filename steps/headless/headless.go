// Package headless drives the engine without a terminal: decisions come from a run
// file's answers, and every event becomes one line of text (or one JSON object) on an
// io.Writer. It is what `cutover run --headless`, `resume` and `replay` use, and what
// CI and the tests use.
package headless

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/hosttext"
	"github.com/cutover/cutover/steps"
)

// Exit codes, shared by every cutover command.
const (
	ExitDone        = 0 // every step done
	ExitNeedsOp     = 1 // a gate failed, or a step needs an operator
	ExitBadInput    = 2 // inventory, runbook, run file or flags
	ExitInterrupted = 3 // stopped by a signal; resumable
	ExitUnreachable = 4 // a host could not be reached or its key was refused
)

// Printer writes one line per event, and optionally command output, to W. It
// implements steps.Observer.
type Printer struct {
	W io.Writer
	// JSON writes each event as a JSON object instead of a line of text.
	JSON bool
	// Verbose adds command output and waiting notices.
	Verbose bool
	// Journal is named on the session line, so a log shows where the run is kept.
	Journal string
	// Every is how long a copy or a wait goes without a progress line (ProgressEvery
	// when zero).
	Every time.Duration

	mu       sync.Mutex
	progress map[string]*progressState
	now      func() time.Time // the clock of progress lines; tests set it
	// What the terminal record (End) needs: the step last started and not ended, whether
	// the run ended, whether the record was written.
	lastStep        string
	runEnded, ended bool
}

// Event prints one event. Text from the hosts in it is made safe for a terminal
// (hosttext): in the text form each field stays on its line; in the JSON form the
// characters JSON leaves raw (C1 controls, bidirectional overrides) are written as
// JSON escapes, so the bytes are safe and the data is the same.
func (p *Printer) Event(ev *steps.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.note(ev)
	if p.JSON {
		b, err := json.Marshal(ev)
		if err == nil {
			fmt.Fprintf(p.W, "%s\n", hosttext.Text(string(b)))
		}
		return
	}
	for _, l := range FormatEvent(ev) {
		fmt.Fprintln(p.W, l)
	}
	if (ev.Type == steps.EvSession || ev.Type == steps.EvResume) && p.Journal != "" {
		fmt.Fprintf(p.W, "%s  %-9s %-20s %s\n", clock(ev.Time), "journal", "", hosttext.Line(p.Journal))
	}
}

// Progress prints live output in verbose mode, and the progress of long copies and
// waits (progress.go): as lines of text, or progress records with JSON.
func (p *Printer) Progress(pr steps.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case pr.Line != "" && p.Verbose && !p.JSON:
		fmt.Fprintf(p.W, "%s  %-9s %-20s | %s: %s\n", clock(time.Now()), "output", pr.Step, hosttext.Line(pr.Host), hosttext.Line(pr.Line))
	case pr.Last != nil:
		p.waitProgress(pr)
	case pr.Total > 0:
		p.copyProgress(pr)
	}
}

func clock(t time.Time) string { return t.UTC().Format("15:04:05") }

// FormatEvent renders an event as readable lines: the first says what happened; a
// failed check, or one that warns, adds its evidence, indented. Every line is safe for a terminal: a field
// that holds a newline, a carriage return or an escape sequence (a host's file name, a
// line of its output) shows it as a visible escape and cannot start a line of its own.
func FormatEvent(ev *steps.Event) []string {
	return hosttext.Lines(formatEvent(ev))
}

func formatEvent(ev *steps.Event) []string {
	head := func(kind, text string) string {
		return fmt.Sprintf("%s  %-9s %-20s %s", clock(ev.Time), kind, ev.Step, text)
	}
	switch ev.Type {
	case steps.EvSession:
		s := ev.Session
		return []string{head("session", fmt.Sprintf("%s: %s (run %s, operator %s)", s.Runbook, s.Title, s.RunID, s.Operator))}
	case steps.EvPlan:
		if ev.Message != "" {
			// Planned again mid-run (a host that was down answers): say what changed, not
			// the whole plan once more.
			return []string{head("plan", ev.Message)}
		}
		var out []string
		for _, p := range ev.Plan {
			e := *ev
			e.Step = p.ID
			h := func(kind, text string) string {
				return fmt.Sprintf("%s  %-9s %-20s %s", clock(e.Time), kind, e.Step, text)
			}
			switch {
			case p.Skip:
				out = append(out, h("plan", "skip: "+p.Reason))
			default:
				hosts := ""
				if len(p.Hosts) > 0 {
					hosts = " [" + strings.Join(p.Hosts, ", ") + "]"
				}
				out = append(out, h("plan", p.Title+hosts))
			}
		}
		return out
	case steps.EvResume:
		return []string{head("resume", ev.Message)}
	case steps.EvStepStart:
		return []string{head("step", "started")}
	case steps.EvCheck:
		r := ev.Check
		text := r.Summary
		if r.Name != "" && r.Name != r.Summary {
			text = r.Name + ": " + r.Summary
		}
		out := []string{head(r.Phase.Label(), fmt.Sprintf("%s  %s", strings.ToUpper(string(r.Status)), text))}
		if !r.OK() || r.Status == steps.Warn { // a warning's evidence is what to compare
			for _, l := range r.Evidence {
				out = append(out, "          | "+l)
			}
		}
		return out
	case steps.EvActionStart:
		a := ev.Action
		out := []string{head("action", a.Summary)}
		for _, c := range a.Commands {
			// A command of several lines (a script) is shown as written, each line indented.
			for i, part := range strings.Split(strings.TrimRight(c, "\n"), "\n") {
				prefix := "          $ "
				if i > 0 {
					prefix = "            "
				}
				out = append(out, prefix+part)
			}
		}
		return out
	case steps.EvActionResult:
		a := ev.Action
		if a.OK {
			text := fmt.Sprintf("ok in %s", time.Duration(a.Elapsed).Round(time.Millisecond))
			if a.Files > 0 {
				text += fmt.Sprintf(" (%d files, %s, verified)", a.Files, humanize.IBytes(uint64(a.Bytes)))
			}
			out := []string{head("result", text)}
			for _, c := range a.Changes {
				out = append(out, "          | "+c)
			}
			return out
		}
		out := []string{head("result", "FAILED: "+a.Error)}
		for _, l := range a.Output {
			out = append(out, "          | "+l)
		}
		return out
	case steps.EvDecision:
		d := ev.Decision
		text := string(d.Kind)
		if d.Reason != "" {
			text += ": " + d.Reason
		}
		if d.Run != nil {
			text += fmt.Sprintf(" (performed by `%s` on %s)", d.Run.Command, d.Run.Role)
		}
		if d.Via != "" {
			text += " [" + d.Via + "]"
		}
		return []string{head("decision", text)}
	case steps.EvStepEnd:
		text := ev.Status
		if ev.Message != "" {
			text += ": " + ev.Message
		}
		return []string{head("end", text)}
	case steps.EvRunEnd:
		return []string{head("run", ev.Status+": "+ev.Message)}
	case steps.EvNote:
		return []string{head("note", ev.Message)}
	case steps.EvPreflight:
		out := []string{head("preflight", ev.Message)}
		if ev.Preflight != nil {
			for _, it := range ev.Preflight.Items {
				r := it.Result
				out = append(out, fmt.Sprintf("          %s  %s, gate %d: %s", strings.ToUpper(string(r.Status)), it.Step, it.Gate+1, r.Summary))
				if !r.OK() {
					for _, l := range r.Evidence {
						out = append(out, "          | "+l)
					}
				}
			}
		}
		return out
	}
	return []string{head(string(ev.Type), ev.Message)}
}

// Decider answers prompts; false means no answer is known.
type Decider interface {
	Decide(p *steps.Prompt) (steps.Decision, bool)
}

// Result is how a headless run ended.
type Result struct {
	Code int
	// Message explains a non-zero code in one paragraph, safe to print: what it quotes
	// from the hosts cannot act on a terminal or start a line (hosttext.Line).
	Message string
	// Prompt is the question left unanswered, if that is why the run stopped.
	Prompt *steps.Prompt
}

// Drive runs the engine until it ends, a prompt has no answer, or ctx is cancelled.
// journalPath is quoted in messages so the operator knows what to resume.
func Drive(ctx context.Context, e *steps.Engine, d Decider, journalPath string) Result {
	res := drive(ctx, e, d, journalPath, nil)
	res.Message = hosttext.Line(res.Message)
	return res
}

func drive(ctx context.Context, e *steps.Engine, d Decider, journalPath string, ctl *Control) Result {
	for {
		if e.Finished() {
			st := e.State()
			if st.Outcome == steps.RunDone {
				return Result{Code: ExitDone}
			}
			return Result{Code: ExitNeedsOp, Message: st.Message}
		}
		if p := e.Prompt(); p != nil {
			if ctx.Err() != nil {
				// Interrupted: stop at this safe point instead of answering from a run file.
				return Result{Code: ExitInterrupted, Prompt: p, Message: fmt.Sprintf("interrupted at step %s; nothing is lost. Continue with: cutover resume %s", p.Step, journalPath)}
			}
			dec, ok := steps.Decision{}, false
			if d != nil {
				dec, ok = d.Decide(p)
			}
			if !ok {
				return needsOperator(p, journalPath)
			}
			if err := e.Decide(dec); err != nil {
				return Result{Code: ExitNeedsOp, Prompt: p, Message: fmt.Sprintf("step %s: the recorded answer does not fit: %v", p.Step, err)}
			}
			continue
		}
		if r := ctl.before(e, journalPath); r != nil {
			return *r
		}
		if err := e.Advance(ctx); err != nil {
			switch {
			case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
				return Result{Code: ExitInterrupted, Message: fmt.Sprintf("interrupted; nothing is lost. Continue with: cutover resume %s", journalPath)}
			case errors.Is(err, steps.ErrNeedDecision), errors.Is(err, steps.ErrFinished):
				continue
			case probe.IsConnectionError(err):
				return Result{Code: ExitUnreachable, Message: fmt.Sprintf("%v. Continue with: cutover resume %s", err, journalPath)}
			default:
				return Result{Code: ExitNeedsOp, Message: err.Error()}
			}
		}
	}
}

func needsOperator(p *steps.Prompt, journalPath string) Result {
	code := ExitNeedsOp
	if p.Unreachable {
		code = ExitUnreachable
	}
	var why string
	switch p.Kind {
	case steps.AskConfirm:
		why = "needs an operator: it is a manual step and nothing answers it"
		if p.Phrase != "" {
			why += fmt.Sprintf(" (it asks for the phrase %q)", p.Phrase)
		}
	case steps.AskCheckFailed:
		names := make([]string, len(p.Failed))
		for i, f := range p.Failed {
			names[i] = f.Summary
		}
		why = "a check failed: " + strings.Join(names, "; ")
		switch p.On {
		case steps.OnPreflight:
			return preflightStop(p, journalPath)
		case steps.OnPre:
			why += " (a resume checks the pre-checks again)"
		default:
			why += fmt.Sprintf(" (to check again once fixed: resume with --decide %s=retry)", p.Step)
		}
	case steps.AskActionFailed:
		why = "the action failed"
		if p.Action != nil {
			why += ": " + p.Action.Error
		}
		why += fmt.Sprintf(" (to run it again once fixed: resume with --decide %s=retry)", p.Step)
	case steps.AskUnknown:
		cause := "it started and no result was recorded"
		if p.Action != nil && p.Action.Unknown {
			cause = "the connection was lost while it ran: " + p.Action.Error
		}
		why = fmt.Sprintf("the action's outcome is unknown (%s); nothing was run again. Its gates were checked (%s): "+
			"decide accept or rerun: accept if it happened, rerun if it did not (--decide %s=accept|rerun, or answers: unknown: accept|rerun)",
			cause, gateSummary(p), p.Step)
	}
	return Result{Code: code, Prompt: p, Message: fmt.Sprintf("stopped at step %s (%s): %s. Fix it and continue with: cutover resume %s", p.Step, p.Title, why, journalPath)}
}

// preflightStop explains a run stopped by its preflight: nothing has changed, what the
// hosts' logs say instead, and the two ways on.
func preflightStop(p *steps.Prompt, journalPath string) Result {
	var b strings.Builder
	fmt.Fprintf(&b, "stopped before step %s (%s), the first that changes anything: the preflight did not find a gate's wording in the hosts' history, so nothing was changed.", p.Step, p.Title)
	for _, f := range p.Failed {
		fmt.Fprintf(&b, "\n  %s", f.Summary)
		for _, l := range head(f.Evidence, 8) {
			fmt.Fprintf(&b, "\n    | %s", l)
		}
	}
	fmt.Fprintf(&b, "\nGive the site's wording in the runbook's parameters (--set) and start a new run, or, if the gate is right after all, override with a reason (answers: %s: {override: REASON}) and continue with: cutover resume %s", p.Step, journalPath)
	code := ExitNeedsOp
	if p.Unreachable {
		code = ExitUnreachable
	}
	return Result{Code: code, Prompt: p, Message: b.String()}
}

func head(l []string, n int) []string {
	if len(l) <= n {
		return l
	}
	return append(append([]string{}, l[:n]...), fmt.Sprintf("... %d more lines in the journal", len(l)-n))
}

// gateSummary says how the gates of a step of unknown outcome came out.
func gateSummary(p *steps.Prompt) string {
	if len(p.Gates) == 0 {
		return "the step has none"
	}
	pass := 0
	for _, g := range p.Gates {
		if g.OK() {
			pass++
		}
	}
	if len(p.Failed) == 0 && pass == len(p.Gates) {
		return fmt.Sprintf("all %d pass", len(p.Gates))
	}
	names := make([]string, len(p.Failed))
	for i, f := range p.Failed {
		names[i] = f.Summary
	}
	return fmt.Sprintf("%d of %d pass; failing: %s", pass, len(p.Gates), strings.Join(names, "; "))
}
