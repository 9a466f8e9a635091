// Package export turns a plan into an empty Markdown checklist for the change ticket,
// and a journal into the filled one: what was done, when, on which evidence, and every
// override with its reason. The output is GitHub-flavoured Markdown (task lists).
package export

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cutover/cutover/probe/hosttext"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
)

// maxEvidence caps the evidence lines quoted per check; the journal keeps them all.
const maxEvidence = 12

// Plan writes the plan as an empty checklist.
func Plan(w io.Writer, p *steps.Plan) error {
	b := &builder{}
	rb := p.Runbook
	b.header(rb, p)
	b.line("## Checklist")
	b.line("")
	for i, ps := range p.Steps {
		b.step(p, i+1, ps, nil)
	}
	b.backOut(steps.PlanBackOut(p), "cutover rollback JOURNAL")
	_, err := io.WriteString(w, redactSecrets(b.String(), p))
	return err
}

// Journal writes a recorded run as a filled checklist. plan and state come from
// steps.Restore on the journal's events.
func Journal(w io.Writer, j *journal.Journal, p *steps.Plan, st *steps.RunState) error {
	b := &builder{}
	rb := p.Runbook
	if j.Broken != nil {
		b.line("> **WARNING: this journal fails its integrity check** (%s). It was changed after it was written; do not rely on it.", text(j.Broken.Error()))
		b.line("")
	}
	if j.SignatureErr != nil {
		b.line("> **WARNING: this journal does not match its signature** (%s). It was changed after it was signed; do not rely on it.", text(j.SignatureErr.Error()))
		b.line("")
	}
	b.header(rb, p)
	s := st.Session
	b.line("Run %s by %s, started %s.", code(s.RunID), text(orUnknown(s.Operator)), steps.Stamp(st.Started))
	switch {
	case st.Ended && st.Outcome == steps.RunDone:
		b.line("Outcome: **done** at %s.", steps.Stamp(st.EndedAt))
	case st.Ended:
		b.line("Outcome: **%s** at %s: %s.", text(string(st.Outcome)), steps.Stamp(st.EndedAt), text(st.Message))
	default:
		b.line("Outcome: **not finished** (resume with %s).", code("cutover resume "+j.Path))
	}
	if n := countOverrides(st); n > 0 {
		b.line("")
		b.line("**%s overridden by the operator** (marked OVERRIDDEN below).", steps.Plural(n, "check or action was", "checks or actions were"))
	}
	if s.Replay != "" {
		b.line("This run replays %s.", code(s.Replay))
	}
	b.line("Journal: %s.", code(j.Path))
	b.line("")
	if len(st.Notes) > 0 {
		b.line("Notes:")
		b.line("")
		for _, n := range st.Notes {
			b.line("- %s: %s", steps.Stamp(n.Time), text(n.Message))
		}
		b.line("")
	}
	if st.Preflight != nil {
		b.preflight(st)
	}
	b.line("## Checklist")
	b.line("")
	for i, ss := range st.Steps {
		b.step(p, i+1, ss.Planned, ss)
	}
	b.backOut(steps.BackOut(st, rb), "cutover rollback "+j.Path)
	b.keptAside(steps.KeptAside(st), steps.CleanupCommand(j.Path))
	_, err := io.WriteString(w, redactSecrets(b.String(), p))
	return err
}

type builder struct{ strings.Builder }

func (b *builder) line(format string, args ...any) {
	if len(args) == 0 {
		b.WriteString(format)
	} else {
		fmt.Fprintf(b, format, args...)
	}
	b.WriteByte('\n')
}

func (b *builder) header(rb *steps.Runbook, p *steps.Plan) {
	b.line("# %s", text(rb.Title))
	b.line("")
	b.line("Runbook %s (%s). Follows: %s.", code(rb.ID), text(rb.System), text(rb.Source))
	b.line("")
	if len(rb.Roles) > 0 {
		b.line("| Role | Host | What it is |")
		b.line("| --- | --- | --- |")
		for _, r := range rb.Roles {
			host := "(unbound)"
			if h := p.Roles[r.ID]; h != nil {
				host = h.Name
				if f := p.Facts[h.Name]; f != nil && f.Hostname != "" {
					host += " (" + f.Hostname + ")"
				}
			}
			b.line("| %s | %s | %s |", cell(r.ID), cell(host), cell(r.Title))
		}
		b.line("")
	}
	if len(rb.Params) > 0 {
		b.line("| Parameter | Value |")
		b.line("| --- | --- |")
		for _, prm := range rb.Params {
			v := prm.Display(p.Params[prm.ID])
			if v == "" || (prm.Optional && prm.Type == steps.TypePort && v == "0") {
				// An optional port left empty holds 0, which is no port.
				v = "(empty)"
			}
			b.line("| %s | %s |", cell(prm.ID), cell(v))
		}
		b.line("")
	}
}

// redactSecrets replaces the values of secret parameters wherever a description of a
// check or an action rendered them (an INI value to expect, a command line): the
// journal never holds them, and neither may the checklist made from a plan that does.
func redactSecrets(s string, p *steps.Plan) string {
	for _, prm := range p.Runbook.Params {
		v, ok := p.Params[prm.ID]
		if !prm.Secret || !ok {
			continue
		}
		if v := fmt.Sprint(v); v != "" && v != secretPlaceholder {
			// As written, and as the checklist escapes it (a secret with a * in it is
			// written \* outside code).
			for _, form := range []string{v, text(v), hosttext.Line(v)} {
				s = strings.ReplaceAll(s, form, "[secret]")
			}
		}
	}
	return s
}

// step writes one checklist item; ss is nil for an empty (plan) checklist.
func (b *builder) step(p *steps.Plan, n int, ps steps.PlannedStep, ss *steps.StepState) {
	if ps.Skip || (ss != nil && ss.Status == steps.StepSkipped) {
		reason := ps.Reason
		if ss != nil && ss.Reason != "" {
			reason = ss.Reason
		}
		box := " "
		if ss != nil && ss.Status == steps.StepSkipped {
			box = "x"
		}
		b.line("- [%s] ~~%d. %s~~ (%s) skipped: %s", box, n, text(ps.Title), code(ps.ID), text(reason))
		if ss != nil {
			// An operator's skip: who decided it, and how.
			for _, dec := range ss.Decisions {
				b.decision(dec)
			}
		}
		return
	}
	d, err := p.Describe(ps.ID)
	if err != nil {
		b.line("- [ ] %d. %s (%s): %s", n, text(ps.Title), code(ps.ID), text(err.Error()))
		return
	}
	box, status := " ", ""
	if ss != nil {
		switch ss.Status {
		case steps.StepDone:
			box, status = "x", fmt.Sprintf(" done %s", span(ss.Start, ss.End))
			if ss.Adopted() {
				status = fmt.Sprintf(" **adopted** %s", steps.Stamp(ss.End))
			}
		case steps.StepOverridden:
			box, status = "x", fmt.Sprintf(" **OVERRIDDEN** %s", span(ss.Start, ss.End))
		case steps.StepAborted:
			status = " **ABORTED** " + steps.Stamp(ss.End)
		case steps.StepRunning:
			status = fmt.Sprintf(" **in progress** since %s", steps.Stamp(ss.Start))
		}
	}
	hosts := ""
	if len(ps.Hosts) > 0 {
		hosts = "; hosts: " + text(strings.Join(ps.Hosts, ", "))
	}
	b.line("- [%s] **%d. %s** (%s%s)%s", box, n, text(ps.Title), code(ps.ID), hosts, status)
	if ps.Undecided {
		b.line("  - Note: %s", text(ps.Reason))
	}
	if ss != nil && ss.Adopted() {
		b.line("  - Note: %s; cutover did not perform it, its action was not run.", text(ss.Reason))
	}
	// The operator text is the runbook's own Markdown: it stays Markdown, without
	// control characters.
	if t := strings.TrimSpace(hosttext.Text(d.Text)); t != "" {
		b.line("")
		for _, l := range strings.Split(t, "\n") {
			b.indent(l)
		}
		b.line("")
	}
	if d.Phrase != "" {
		b.line("  Cannot be undone: confirm by typing %s.", code(d.Phrase))
		b.line("")
	}
	// The order a step happens in: pre-checks, the action, the gates; then what the
	// operator decided along the way.
	for i, desc := range d.Pre {
		b.check(desc, ss, steps.PhasePre, i)
	}
	b.action(d, ss)
	for i, desc := range d.Gates {
		b.check(desc, ss, steps.PhaseGate, i)
	}
	if ss != nil {
		for _, dec := range ss.Decisions {
			b.decision(dec)
		}
	}
}

// backOut writes the back-out section: how to undo the steps, newest first, the
// automatic undos (which rollback performs) and those only the operator can do.
func (b *builder) backOut(items []steps.BackOutItem, rollback string) {
	if len(items) == 0 {
		return
	}
	b.line("")
	b.line("## Back-out")
	b.line("")
	b.line("To undo the change, in this order (newest step first). %s performs the automatic undos as a gated run; the rest is for the operator.", code(rollback))
	b.line("")
	for i, it := range items {
		b.line("%d. **%s** (%s)", i+1, text(it.Title), code(it.Step))
		for _, a := range it.Auto {
			b.line("   - automatic: %s", text(a))
		}
		if it.Manual != "" {
			b.line("   - by hand: %s", text(it.Manual))
		}
		if it.Irreversible {
			b.line("   - Rollback stops here: the steps before this one are not undone.")
		}
	}
}

// keptAside ends the back-out section with what the run's copies kept aside (what the
// rollback puts back) and the command that removes them once the move is confirmed.
func (b *builder) keptAside(items []steps.KeptItem, cleanup string) {
	if len(items) == 0 {
		return
	}
	if !strings.Contains(b.String(), "\n## Back-out\n") {
		b.line("")
		b.line("## Back-out")
	}
	b.line("")
	b.line("Kept aside by the copies until the move is confirmed (a rollback that reaches their steps puts them back):")
	b.line("")
	for _, it := range items {
		b.line("- %s: %s (step %s replaced %s)", text(it.Undo.Host), code(it.Undo.Kept), code(it.Step), code(it.Undo.Path))
	}
	b.line("")
	b.line("Once the run has finished and the move is confirmed, %s removes them; after that, those copies can no longer be rolled back.", code(cleanup))
}

func (b *builder) indent(l string) {
	if l == "" {
		b.line("")
		return
	}
	b.line("  %s", l)
}

func (b *builder) action(d *steps.Description, ss *steps.StepState) {
	rec := d.Action
	if ss != nil && ss.Action != nil {
		rec = ss.Action
	}
	if rec == nil {
		return
	}
	box := " "
	if ss != nil && ss.ActionDone && rec.OK {
		box = "x"
	}
	prefix := "Action"
	if rec.Answer {
		prefix = "Performed by command"
	}
	b.line("  - [%s] %s: %s", box, prefix, label(rec.Summary))
	if d.ActionError != "" && (ss == nil || ss.Action == nil) {
		b.line("    - Cannot be done as planned: %s", text(d.ActionError))
	}
	if len(rec.Commands) > 0 {
		b.fence("sh", rec.Commands, true)
	}
	if rec.Kind == "ini" || rec.Kind == "copy" || rec.Kind == "write" {
		lang := "text"
		if rec.Kind == "ini" && (ss == nil || !ss.ActionDone) {
			lang = "ini"
		}
		b.fence(lang, rec.Changes, false)
	}
	if ss == nil || !ss.ActionDone {
		if ss != nil && ss.ActionPending {
			if a := ss.Action; a != nil && a.Unknown {
				b.line("    - **Outcome unknown**: the connection was lost while the action ran: %s", text(a.Error))
			} else {
				b.line("    - **Outcome unknown**: the action started at %s and no result was recorded.", steps.Stamp(ss.Start))
			}
		}
		return
	}
	switch {
	case rec.OK:
		b.line("    - Done in %s%s.", time.Duration(rec.Elapsed).Round(time.Millisecond), exitText(rec))
	default:
		b.line("    - **Failed**%s: %s", exitText(rec), text(rec.Error))
	}
	if reason, ok := ss.ActionOverride(); ok {
		b.line("    - **OVERRIDDEN** by the operator. Reason: %s", text(reason))
	}
	if len(rec.Output) > 0 && (!rec.OK || len(rec.Output) <= maxEvidence) {
		b.fence("text", tail(rec.Output, maxEvidence), false)
	}
}

func exitText(rec *steps.ActionRecord) string {
	if rec.ExitCode == nil {
		return ""
	}
	return fmt.Sprintf(" (exit %d)", *rec.ExitCode)
}

func (b *builder) check(desc string, ss *steps.StepState, phase steps.Phase, i int) {
	// The phase's label, as a list item's first word: "Pre-check", "Gate".
	kind := phase.Label()
	kind = strings.ToUpper(kind[:1]) + kind[1:]
	var r *steps.CheckResult
	if ss != nil {
		if phase == steps.PhasePre {
			r = ss.Pre[i]
		} else {
			r = ss.Gates[i]
		}
	}
	if r == nil {
		b.line("  - [ ] %s: %s", kind, label(desc))
		return
	}
	reason, overridden := ss.CheckOverride(phase, i)
	box := " "
	if r.OK() || overridden {
		box = "x"
	}
	state := strings.ToUpper(string(r.Status))
	if overridden {
		state = "FAILED, OVERRIDDEN"
	}
	wait := ""
	if r.Attempts > 1 {
		wait = fmt.Sprintf(", after %s and %d attempts", time.Duration(r.Waited).Round(time.Second), r.Attempts)
	}
	b.line("  - [%s] %s: %s", box, kind, label(desc))
	b.line("    - **%s** at %s%s: %s", text(state), steps.Stamp(r.At), wait, label(r.Summary))
	if overridden {
		b.line("    - **OVERRIDDEN** by the operator. Reason: %s", text(reason))
	}
	if len(r.Evidence) > 0 {
		b.fence("text", head(r.Evidence, maxEvidence), false)
	}
}

// preflight lists what the run's preflight found of each calibrated gate's wording in
// the hosts' history, before anything changed.
func (b *builder) preflight(st *steps.RunState) {
	rep := st.Preflight
	b.line("## Preflight")
	b.line("")
	b.line("%s.", text(rep.Headline()))
	b.line("")
	for _, it := range rep.Items {
		r := it.Result
		box := " "
		if r.OK() || st.PreflightOverride != "" {
			box = "x"
		}
		b.line("- [%s] **%s** at %s: step %s, gate %d (%s): %s", box, text(strings.ToUpper(string(r.Status))), steps.Stamp(r.At),
			text(it.Step), it.Gate+1, label(r.Name), label(r.Summary))
		if !r.OK() {
			if it.Because != "" {
				b.line("  - Assumes: %s", text(it.Because))
			}
			b.fence("text", head(r.Evidence, maxEvidence), false)
		}
	}
	if st.PreflightOverride != "" {
		b.line("")
		b.line("**OVERRIDDEN** by the operator. Reason: %s", text(st.PreflightOverride))
	}
	b.line("")
}

func (b *builder) decision(d steps.Decision) {
	var what string
	switch d.Kind {
	case steps.Confirm:
		what = "confirmed"
		if d.Run != nil {
			what += fmt.Sprintf(", performed with %s on role %s", code(d.Run.Command), text(d.Run.Role))
		}
	case steps.Override:
		what = "**OVERRIDE**: " + text(d.Reason)
	case steps.Skip:
		what = "skipped: " + text(d.Reason)
	default:
		what = text(string(d.Kind))
		if d.Reason != "" {
			what += ": " + text(d.Reason)
		}
	}
	via := ""
	if d.Via != "" {
		via = " via " + text(d.Via)
	}
	b.line("  - Decision (%s, %s%s): %s", text(string(d.On)), text(orUnknown(d.By)), via, what)
}

// fence writes lines as a code block. Commands are text cutover wrote and may hold
// several lines (a script, a here-document): each stays inside the list item, indented.
// Anything else (output, evidence, changes) is one line per element, whatever it holds:
// a file name with a newline cannot add a line. No line can close the block early
// (fenceFor), and none carries a control character.
func (b *builder) fence(lang string, lines []string, multiline bool) {
	if len(lines) == 0 {
		return
	}
	var body []string
	for _, l := range lines {
		if !multiline {
			body = append(body, hosttext.Line(l))
			continue
		}
		for _, part := range strings.Split(strings.TrimRight(l, "\n"), "\n") {
			body = append(body, hosttext.Line(part))
		}
	}
	fence := fenceFor(body)
	b.line("    %s%s", fence, lang)
	for _, l := range body {
		b.line("    %s", l)
	}
	b.line("    %s", fence)
}

func head(l []string, n int) []string {
	if len(l) <= n {
		return l
	}
	return append(append([]string{}, l[:n]...), fmt.Sprintf("... %d more lines in the journal", len(l)-n))
}

func tail(l []string, n int) []string {
	if len(l) <= n {
		return l
	}
	return append([]string{fmt.Sprintf("... %d earlier lines in the journal", len(l)-n)}, l[len(l)-n:]...)
}

func countOverrides(st *steps.RunState) int {
	n := 0
	if st.PreflightOverride != "" {
		n += len(st.Preflight.Failed())
	}
	for _, s := range st.Steps {
		n += len(s.Overrides)
	}
	return n
}

func span(a, b time.Time) string {
	if a.IsZero() {
		return steps.Stamp(b)
	}
	if a.UTC().Format("20060102") == b.UTC().Format("20060102") {
		return steps.Stamp(a) + " to " + b.UTC().Format("15:04:05Z")
	}
	return steps.Stamp(a) + " to " + steps.Stamp(b)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown operator"
	}
	return s
}
