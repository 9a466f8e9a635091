package tui

// The step screen's drawing: heading, text, output, action, checks and the question.

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/tui/styles"
)

// View draws the step screen: the heading, the step's text and output above, and the
// action, the checks and the question below, which get their rows first.
func (p *runPage) View(w, h int) string {
	st := p.a.st
	switch {
	case p.err != nil:
		return st.Fail.Render("The run did not start.") + "\n\n" + wrap(sanitizeErr(p.err), w) + "\n\n" +
			st.Subtle.Render("Nothing was done on any host. esc goes back.")
	case p.d == nil:
		return st.Wait.Render(p.a.spin.View()) + " probing the role hosts, planning and opening the journal…"
	}
	cur := p.current()
	listH, most := p.listRows(h, cur)
	body, slack := p.viewBody(cur, w, h-listH)
	if slack > 0 && listH < most {
		// Rows the step does not need go to the list: more of the steps that ran.
		listH = min(listH+slack, most)
		body, _ = p.viewBody(cur, w, h-listH)
	}
	return p.viewSteps(cur, w, listH) + "\n" + body
}

// viewBody draws the current step in h rows: its text and output above, and the
// action, the checks and the question below, which get their rows first. slack is
// how many rows it leaves empty.
func (p *runPage) viewBody(cur *steps.StepState, w, h int) (body string, slack int) {
	st := p.a.st
	desc := p.describe(cur.ID())

	// The action, the checks and the question are what the operator acts on: they get
	// their rows first (up to all but two), and the text and the output share the rest.
	// Failed checks show as many evidence lines as the screen allows (up to 8 each),
	// ahead of the text and the output: when a check fails, its evidence matters most.
	// The question and the action always show; the checks take what is left of the
	// lower rows, and when they are more than fit, the ones that matter least (passed,
	// not checked yet) are counted on one line instead.
	var action strings.Builder
	p.viewAction(&action, cur, desc, w)
	prompt := p.viewPrompt(cur, w)
	budget := max(h-1-2-lipgloss.Height(action.String())-lipgloss.Height(prompt)+1, 1)
	lowerFor := func(evidence int) string {
		var lower strings.Builder
		lower.WriteString(action.String())
		p.viewChecks(&lower, cur, desc, w, evidence, budget)
		lower.WriteString(prompt)
		return strings.TrimRight(lower.String(), "\n")
	}
	lowerText := lowerFor(0)
	if failed := p.failedShown(cur); failed > 0 {
		room := h - lipgloss.Height(lowerText) - 1
		lowerText = lowerFor(min(max(room/failed, 1), 8))
	}
	lowerH := lipgloss.Height(lowerText)
	if lowerText == "" {
		lowerH = 0
	}
	if lowerH > h-1 {
		lowerText = fit(lowerText, w, h-1)
		lowerH = h - 1
	}
	rest := h - lowerH - 1 // a blank line above the lower part

	var text string
	textH := 0
	if desc.Text != "" {
		text = p.md.render(cur.ID(), desc.Text, w, st.Dark)
		textH = lipgloss.Height(text)
	}
	sv := p.output[cur.ID()]
	var recorded []string
	if (sv == nil || sv.Len() == 0) && cur.Action != nil && len(cur.Action.Output) > 0 {
		// No live output (the run was resumed): show what the journal kept.
		sv = newScrollView(true)
		sv.AppendOutput(cur.Action.Output...)
		recorded = cur.Action.Output
	}
	outH := 0
	if sv != nil && sv.Len() > 0 && rest >= 4 {
		want := sv.Len() + 1
		outH = min(want, max(rest-textH, rest/2, 4))
	}
	if textH > rest-outH {
		textH = max(rest-outH, 0)
		text = clip(text, textH, st.Subtle.Render("  … e shows the whole text"))
	}
	var top strings.Builder
	if textH > 0 {
		top.WriteString(text + "\n")
	}
	if outH > 0 {
		out := sv.View(w, outH-1) // first: the position below is of this window
		label := "output · " + sv.Position()
		if recorded != nil {
			label = "output (last lines, as recorded)"
		}
		if !sv.AtBottom() || sv.Len() > outH-1 {
			label += " · pgup/pgdn"
		}
		top.WriteString(st.Subtle.Render(truncate("── "+label+" ", w)) + "\n" + out + "\n")
	}
	topText := strings.TrimRight(top.String(), "\n")
	slack = rest
	if topText != "" {
		slack -= lipgloss.Height(topText)
	}
	slack = max(slack, 0)
	body = fit(topText, w, h-lowerH)
	if lowerH > 0 {
		body += "\n" + lowerText
	}
	return body, slack
}

// listRows is how many rows the step list takes of a body h rows high: a fifth of them,
// at least four (two steps before, the current one, the rule), and at most the most it
// may take when the step leaves rows empty: ten, or the steps and the rule; when checks
// failed, one row less: their evidence matters more.
func (p *runPage) listRows(h int, cur *steps.StepState) (n, most int) {
	most = min(10, len(p.state.Steps)+1)
	n = min(max(h/5, 4), most)
	if p.failedShown(cur) > 0 {
		n = max(n-1, 2)
	}
	return n, most
}

// viewSteps is the step list above the current step: a window of rows steps (one row
// is the rule under it) around the current one, or around the list's cursor while it
// has focus, each with its state, so that steps that run by themselves in a row are
// seen going by.
func (p *runPage) viewSteps(cur *steps.StepState, w, rows int) string {
	st := p.a.st
	n := rows - 1
	at := p.stepIndex(cur.ID())
	if p.listFocus {
		at = p.listCur
	}
	// The steps before the current one first (what ran), then one after it where there
	// is room for four or more.
	before := n - 1
	if n >= 4 {
		before = n - 2
	}
	top := min(max(at-before, 0), max(len(p.state.Steps)-n, 0))
	var b strings.Builder
	for i := top; i < min(top+n, len(p.state.Steps)); i++ {
		ss := p.state.Steps[i]
		mark, status := stepMark(st, ss), ""
		if ss == cur && !ss.Finished() {
			mark, status = p.curMark(), p.stepStatus(cur)
		} else if ss.Finished() {
			status = st.Faint.Render(sanitize(string(ss.Status)))
		}
		num := fmt.Sprintf("%2d ", i+1)
		titleW := max(w-2-lipgloss.Width(num)-lipgloss.Width(status)-2, 1)
		title := truncate(sanitize(ss.Planned.Title), titleW)
		switch {
		case ss == cur:
			title = st.Title.Render(title)
		case !ss.Finished():
			title = st.Faint.Render(title)
		}
		line := mark + " " + num + title
		line += strings.Repeat(" ", max(w-lipgloss.Width(line)-lipgloss.Width(status), 1)) + status
		if p.listFocus && i == p.listCur {
			line = st.Selected.Render(ansi.Strip(line))
		}
		b.WriteString(line + "\n")
	}
	rule := fmt.Sprintf("── Step %d of %d ", p.stepIndex(cur.ID())+1, len(p.state.Steps))
	if p.listFocus {
		rule += "· enter or e shows the step's evidence, esc goes back "
	}
	rule += strings.Repeat("─", max(w-lipgloss.Width(rule), 0))
	b.WriteString(st.Subtle.Render(truncate(rule, w)))
	return b.String()
}

// curMark is the current step's mark in the step list: working, waiting for the
// operator, blocked, outcome unknown.
func (p *runPage) curMark() string {
	st := p.a.st
	switch {
	case p.busy:
		return st.Wait.Render(p.a.spin.View())
	case p.ahead != nil:
		return st.Wait.Render("●")
	case p.stalled:
		return st.Fail.Render("✗")
	case p.prompt != nil && p.prompt.Kind == steps.AskConfirm:
		return st.Wait.Render("●")
	case p.prompt != nil && (p.prompt.Kind == steps.AskCheckFailed || p.prompt.Kind == steps.AskActionFailed):
		return st.Fail.Render("✗")
	case p.prompt != nil:
		return st.Warn.Render("?")
	}
	return st.Wait.Render("▸")
}

// stepMark is a step's mark wherever steps are listed (the step list, the summary):
// done, skipped, overridden, aborted, not finished.
func stepMark(st styles.Styles, s *steps.StepState) string {
	switch s.Status {
	case steps.StepDone:
		return st.Pass.Render("✓")
	case steps.StepSkipped:
		return st.Faint.Render("-")
	case steps.StepOverridden:
		return st.Override.Render("!")
	case steps.StepAborted:
		return st.Fail.Render("✗")
	}
	return st.Faint.Render("·")
}

// clip keeps the first h lines of s, the last of them replaced by more when cut.
func clip(s string, h int, more string) string {
	if h <= 0 {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) <= h {
		return s
	}
	return strings.Join(append(lines[:h-1], more), "\n")
}

// stepIndex is step id's place in the run, from 0.
func (p *runPage) stepIndex(id string) int { return max(stepNumber(p.state, id)-1, 0) }

func (p *runPage) stepStatus(cur *steps.StepState) string {
	st := p.a.st
	switch {
	case p.busy:
		return st.Wait.Render(p.a.spin.View() + " working")
	case p.ahead != nil:
		return st.Wait.Render("● step mode: y runs the action")
	case p.stalled:
		return st.Fail.Render("✗ stalled")
	case p.prompt != nil && p.prompt.Kind == steps.AskConfirm:
		return st.Wait.Render("● waiting for you")
	case p.prompt != nil && p.prompt.Kind == steps.AskUnknown:
		return st.Warn.Render("? outcome unknown")
	case p.prompt != nil && (p.prompt.Kind == steps.AskCheckFailed || p.prompt.Kind == steps.AskActionFailed):
		return st.Fail.Render("✗ blocked")
	case p.prompt != nil:
		return st.Warn.Render("? decide")
	}
	return st.Subtle.Render(sanitize(string(cur.Status)))
}

func (p *runPage) viewAction(b *strings.Builder, cur *steps.StepState, desc *steps.Description, w int) {
	st := p.a.st
	rec := desc.Action
	if cur.Action != nil {
		rec = cur.Action
	}
	if rec == nil {
		return
	}
	var state string
	overridden, _ := cur.ActionOverride()
	switch {
	case cur.ActionPending && p.busy:
		state = st.Wait.Render(p.a.spin.View())
	case cur.ActionPending:
		state = st.Warn.Render("?")
	case cur.ActionDone && rec.OK:
		state = st.Pass.Render("✓")
	case cur.ActionDone && overridden != "":
		state = st.Override.Render("!")
	case cur.ActionDone:
		state = st.Fail.Render("✗")
	default:
		state = st.Faint.Render("·")
	}
	label := "action"
	if rec.Answer {
		label = "command"
	}
	b.WriteString(truncate(fmt.Sprintf("%s %s: %s", state, label, sanitize(rec.Summary)), w) + "\n")
	if rec.Answer {
		for _, c := range rec.Commands {
			b.WriteString(st.Subtle.Render(truncate("    $ "+sanitize(c), w)) + "\n")
		}
	}
	if cs, ok := p.copyP[cur.ID()]; ok && cs.total > 0 && !cur.ActionDone {
		b.WriteString(p.copyBar(cs, w) + "\n")
	}
	switch {
	case cur.ActionDone && !rec.OK && rec.Error != "":
		b.WriteString(st.Fail.Render(truncate("    "+sanitize(rec.Error), w)) + "\n")
	case cur.ActionPending && !p.busy:
		b.WriteString(st.Warn.Render(truncate("    started, and no result was recorded: the outcome is unknown", w)) + "\n")
	}
}

// copyBar is a copy's progress: bar, share, rate and time left.
func (p *runPage) copyBar(cs copyState, w int) string {
	pct := float64(cs.done) / float64(cs.total)
	rate := 0.0
	if el := cs.at.Sub(cs.start).Seconds(); el > 0 {
		rate = float64(cs.done) / el
	}
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(cs.total-cs.done)/rate) * time.Second).Round(time.Second).String()
	}
	info := fmt.Sprintf(" %3.0f%% %s of %s · %s/s · %s left", pct*100, humanBytes(float64(cs.done)), humanBytes(float64(cs.total)), humanBytes(rate), eta)
	p.bar.SetWidth(max(w-4-lipgloss.Width(info), 10))
	return truncate("    "+p.bar.ViewAs(pct)+info, w)
}

func humanBytes(v float64) string {
	units := []string{"B", "KB", "MB", "GB", "TB"}
	i := 0
	for v >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", v)
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// viewChecks draws each check of the step with its state, in at most rows lines; a
// failed one shows up to evidence lines of its evidence. When they do not all fit, the
// failed, waiting and overridden ones are drawn first and the others (passed, not
// checked yet) are counted on the last line, which says e shows them all.
func (p *runPage) viewChecks(b *strings.Builder, cur *steps.StepState, desc *steps.Description, w, evidence, rows int) {
	type shown struct {
		text string
		rank int // 0 failed or waiting, 1 overridden, 2 not checked, 3 passed
		word string
	}
	var all []shown
	add := func(phase steps.Phase, i int, label string, r *steps.CheckResult) {
		c := shown{text: p.checkLine(phase, i, label, r, cur, w, evidence)}
		_, over := cur.CheckOverride(phase, i)
		switch {
		case over:
			c.rank, c.word = 1, "overridden"
		case r == nil && p.busy && p.waiting[steps.WaitKey(cur.ID(), phase, i)].p.Last != nil:
			c.rank, c.word = 0, "waiting"
		case r == nil:
			c.rank, c.word = 2, "not checked yet"
		case r.OK():
			c.rank, c.word = 3, "passed"
		default:
			c.rank, c.word = 0, "failed"
		}
		all = append(all, c)
	}
	for i, label := range desc.Pre {
		add(steps.PhasePre, i, label, cur.Pre[i])
	}
	for i, label := range desc.Gates {
		add(steps.PhaseGate, i, label, cur.Gates[i])
	}
	lines := 0
	for _, c := range all {
		lines += lipgloss.Height(c.text)
	}
	keep := make([]bool, len(all))
	if lines <= rows {
		for i := range keep {
			keep[i] = true
		}
	} else {
		left := rows - 1 // the line that counts the rest
		for rank := 0; rank <= 3; rank++ {
			for i, c := range all {
				if h := lipgloss.Height(c.text); c.rank == rank && h <= left {
					keep[i], left = true, left-h
				}
			}
		}
	}
	hidden := map[string]int{}
	var words []string
	for i, c := range all {
		if keep[i] {
			b.WriteString(c.text + "\n")
			continue
		}
		if hidden[c.word] == 0 {
			words = append(words, c.word)
		}
		hidden[c.word]++
	}
	if len(words) > 0 {
		var parts []string
		n := 0
		for _, wd := range words {
			parts = append(parts, fmt.Sprintf("%d %s", hidden[wd], wd))
			n += hidden[wd]
		}
		b.WriteString(p.a.st.Subtle.Render(truncate(fmt.Sprintf("· %d more checks (%s): e shows them all", n, strings.Join(parts, ", ")), w)) + "\n")
	}
}

// failedShown counts the step's checks shown as failed (not overridden).
func (p *runPage) failedShown(cur *steps.StepState) int {
	n := 0
	for phase, rs := range map[steps.Phase]map[int]*steps.CheckResult{steps.PhasePre: cur.Pre, steps.PhaseGate: cur.Gates} {
		for i, r := range rs {
			if _, over := cur.CheckOverride(phase, i); r != nil && !r.OK() && !over && len(r.Evidence) > 0 {
				n++
			}
		}
	}
	return n
}

func (p *runPage) checkLine(phase steps.Phase, i int, label string, r *steps.CheckResult, cur *steps.StepState, w, evidence int) string {
	st := p.a.st
	kind, label := phase.Label(), sanitize(label)
	if r == nil {
		if ws, ok := p.waiting[steps.WaitKey(cur.ID(), phase, i)]; ok && p.busy {
			left := max(ws.p.Remaining-p.a.now().Sub(ws.at), 0).Round(time.Second)
			line := fmt.Sprintf("%s %s %s", st.Wait.Render(p.a.spin.View()), kind, label)
			wait := st.Wait.Render(truncate(fmt.Sprintf("    waiting: %s left, attempt %d: %s", left, ws.p.Attempt, sanitize(ws.p.Last.Summary)), w))
			return truncate(line, w) + "\n" + wait
		}
		return st.Faint.Render(truncate("· "+kind+" "+label, w))
	}
	if _, over := cur.CheckOverride(phase, i); over {
		return st.Override.Render(truncate("! "+kind+" "+label+" · OVERRIDDEN", w))
	}
	switch r.Status {
	case steps.Pass:
		return truncate(st.Pass.Render("✓")+" "+kind+" "+label, w)
	case steps.Skipped:
		return st.Faint.Render(truncate("- "+kind+" "+label+" (not needed)", w))
	}
	// A failure in red; an advice check's warning in amber: it does not block the step.
	mark, style := "✗", st.Fail
	if r.Status == steps.Warn {
		mark, style = "!", st.Warn
	}
	line := truncate(style.Render(mark)+" "+kind+" "+label, w) + "\n" + style.Render(truncate("    "+sanitize(string(r.Status)+": "+r.Summary), w))
	ev := r.Evidence
	if len(ev) > evidence {
		ev = append(ev[:max(evidence-1, 0):max(evidence-1, 0)], fmt.Sprintf("… %d more lines: e shows the evidence in full", len(r.Evidence)-max(evidence-1, 0)))
	}
	for _, e := range ev {
		line += "\n" + st.Subtle.Render(truncate("    │ "+sanitize(e), w))
	}
	return line
}

func (p *runPage) viewPrompt(cur *steps.StepState, w int) string {
	st := p.a.st
	var b strings.Builder
	b.WriteString("\n")
	if p.notice != "" {
		b.WriteString(wrap(p.notice, w) + "\n") // sanitised where it is set
	}
	switch p.inputFor {
	case inputCommand:
		b.WriteString(st.Subtle.Render(wrap("Perform the step with a command on a role's host, as ROLE: COMMAND. Roles: "+
			rolesLine(p.plan.Runbook, p.state.Session.Roles), w)) + "\n")
	case inputPhrase:
		b.WriteString(st.Warn.Render(wrap("This cannot be undone. To go ahead, type exactly: "+sanitize(p.prompt.Phrase), w)) + "\n")
	case inputOverride:
		b.WriteString(st.Override.Render(wrap(p.overrideWhat(cur)+" Say why in a few words: the reason is recorded "+
			"with your name, and the step is marked OVERRIDDEN in every export. enter, then y records it; esc does not.", w)) + "\n")
	case inputAbort:
		b.WriteString(st.Warn.Render(wrap(fmt.Sprintf("Abort the run at step %d? It ends as aborted and cannot be resumed. ",
			p.stepIndex(cur.ID())+1)+hostsLeft(p.state, cur, p.busy)+" Say why; enter, then y aborts; esc does not.", w)) + "\n")
	}
	if p.inputFor != inputNone {
		b.WriteString(truncate(p.input.View(), w) + "\n")
		return b.String()
	}
	switch p.confirm {
	case inputOverride:
		b.WriteString(st.Override.Render(wrap(p.overrideWhat(cur)+" Reason: «"+sanitize(p.reason)+"». y records the override; any other key does not.", w)) + "\n")
		return b.String()
	case inputAbort:
		b.WriteString(st.Warn.Render(wrap(fmt.Sprintf("Abort the run at step %d, for «%s»? ", p.stepIndex(cur.ID())+1, sanitize(p.reason))+
			hostsLeft(p.state, cur, p.busy)+" y aborts the run; any other key does not.", w)) + "\n")
		return b.String()
	}
	if p.stalled {
		b.WriteString(st.Fail.Render(wrap("Nothing was done. Press r to try again once the host answers.", w)) + "\n")
		return b.String()
	}
	if a := p.ahead; a != nil && !p.busy {
		b.WriteString(p.viewAhead(a, w))
		return b.String()
	}
	pr := p.prompt
	if pr == nil || p.busy {
		return strings.TrimSuffix(b.String(), "\n")
	}
	var text string
	style := st.Wait
	switch pr.Kind {
	case steps.AskConfirm:
		switch {
		case pr.Manual && pr.Phrase != "":
			text, style = "Manual step that cannot be undone. Do it as described, then press enter and type «"+sanitize(pr.Phrase)+
				"»; or press c to do it with a command on a host.", st.Warn
		case pr.Manual:
			text = "Manual step: do it as described, then press enter and cutover checks it; or press c to do it with a command on a host."
		case pr.Phrase != "":
			text, style = "This step cannot be undone. Press enter and type «"+sanitize(pr.Phrase)+"» to go ahead.", st.Warn
		default:
			text = "Press enter to go ahead."
		}
	case steps.AskCheckFailed:
		style = st.Fail
		text = fmt.Sprintf("%d check(s) failed. Fix the cause and press r to check again; e shows the evidence in full; "+
			"o overrides with a reason; a aborts.", len(pr.Failed))
		if pr.Unreachable {
			text = "A host could not be reached: " + text
		}
	case steps.AskActionFailed:
		style = st.Fail
		text = "The action failed. r runs it again; e shows the evidence; o overrides with a reason; a aborts."
		if pr.Manual && pr.Allows(steps.Confirm) {
			text = "The command failed. r runs it again; c gives another command; or do the step by hand and press enter, " +
				"and cutover checks it; o overrides with a reason; a aborts."
		}
	case steps.AskUnknown:
		style = st.Warn
		if pr.Allows(steps.Accept) {
			text = "The action started and no result was recorded. Every gate passes now: y accepts it as done, R runs it again."
		} else {
			text = "The action started and no result was recorded, and some gates fail: R runs it again, o overrides with a reason."
		}
	default:
		// A question this wizard has no words of its own for: say what the engine asks
		// and which answers it takes; the keys of those answers work as anywhere.
		style = st.Warn
		text = fmt.Sprintf("cutover needs a decision on this step (%s).", sanitize(string(pr.Kind)))
		for _, f := range pr.Failed {
			text += " " + sanitize(f.Name) + ": " + sanitize(f.Summary) + "."
		}
		text += " Answers: " + p.choiceWords(pr) + "."
	}
	if pr.Optional {
		text += " This step is optional: s skips it, with a reason."
	}
	b.WriteString(style.Render(wrap(text, w)))
	if hint := p.labHint(pr); hint != "" {
		b.WriteString("\n" + st.Lab.Render(wrap(hint, w)))
	}
	return b.String()
}

// labHint is what the practice lab's run file does at this question: the command that
// performs a manual step with the lab's simulated tools (the lab's stand-in for the
// real vendor action), a confirmation with nothing to do, or a skip. Outside the lab,
// and where its run file says nothing, it is "".
func (p *runPage) labHint(pr *steps.Prompt) string {
	lr := p.a.labRun(p.plan.Runbook.ID)
	if lr == nil || !pr.Allows(steps.Confirm) && !pr.Allows(steps.Skip) {
		return ""
	}
	ans := lr.Answers[pr.Step]
	switch {
	case ans == nil:
		return ""
	case ans.Run != nil && pr.Manual && pr.Allows(steps.Confirm):
		return "practice lab: " + sanitize(ans.Run.Role+": "+ans.Run.Command) + " performs this step here, with the lab's " +
			"simulated tools standing in for the real vendor action. c puts it in the command field."
	case ans.Skip != "" && pr.Allows(steps.Skip):
		return "practice lab: the lab's run skips this step (" + sanitize(ans.Skip) + ")."
	case ans.Confirm && pr.Kind == steps.AskConfirm && pr.Manual:
		return "practice lab: nothing stands in for this step in the lab; its run confirms it as it is."
	}
	return ""
}

// overrideWhat says what an override would accept: the failed checks, the failed
// action, or an action of unknown outcome.
func (p *runPage) overrideWhat(cur *steps.StepState) string {
	pr := p.prompt
	what := fmt.Sprintf("Override step %d, «%s»: it counts as done although", p.stepIndex(cur.ID())+1, sanitize(cur.Planned.Title))
	var parts []string
	if pr != nil && (pr.Kind == steps.AskActionFailed || pr.Kind == steps.AskUnknown) {
		switch {
		case pr.Kind == steps.AskUnknown:
			parts = append(parts, "its action's outcome is unknown")
		case cur.Action != nil && cur.Action.Error != "":
			parts = append(parts, "its action failed ("+sanitize(cur.Action.Error)+")")
		default:
			parts = append(parts, "its action failed")
		}
	}
	if pr != nil {
		for _, f := range pr.Failed {
			parts = append(parts, fmt.Sprintf("the %s «%s» failed (%s)", f.Phase.Label(), sanitize(f.Name), sanitize(f.Summary)))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "it did not pass")
	}
	return what + " " + strings.Join(parts, "; ") + "."
}

// choiceWords lists a prompt's answers with their keys, for a question the wizard has
// no words of its own for.
func (p *runPage) choiceWords(pr *steps.Prompt) string {
	k := p.a.keys
	keys := map[steps.DecisionKind]key.Binding{steps.Confirm: k.Confirm, steps.Retry: k.Retry, steps.Override: k.Override,
		steps.Skip: k.Skip, steps.Accept: k.Accept, steps.Rerun: k.Rerun, steps.Abort: k.Abort}
	var out []string
	for _, c := range pr.Choices {
		if b, ok := keys[c]; ok {
			out = append(out, b.Help().Key+" "+string(c))
		} else {
			out = append(out, string(c))
		}
	}
	return strings.Join(out, ", ")
}

// viewAhead is step mode's question before an automatic action: what it is about to do,
// on which hosts and with which commands, and the keys that answer.
func (p *runPage) viewAhead(a *steps.Prompt, w int) string {
	st := p.a.st
	var b strings.Builder
	what := "run its action"
	if a.Action != nil {
		what = a.Action.Summary
	}
	b.WriteString(st.Wait.Render(wrap(fmt.Sprintf("Step mode: step %d (%s) is about to %s.", stepNumber(p.state, a.Step), sanitize(a.Title), sanitize(what)), w)) + "\n")
	if a.Action != nil {
		for _, c := range a.Action.Commands {
			b.WriteString(st.Subtle.Render(truncate("    $ "+sanitize(c), w)) + "\n")
		}
		for _, c := range a.Action.Changes {
			b.WriteString(st.Subtle.Render(truncate("    "+sanitize(c), w)) + "\n")
		}
		if a.Action.Error != "" {
			b.WriteString(st.Fail.Render(wrap("It cannot run as planned: "+sanitize(a.Action.Error), w)) + "\n")
		}
	}
	b.WriteString(wrap("y runs it; t turns step mode off and runs it; q stops the run here, resumable, with nothing of the action done.", w) + "\n")
	return b.String()
}
