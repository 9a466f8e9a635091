package tui

// The step screen's keys: the answers to the engine's prompts, the text fields they
// open, and the help bar that lists them.

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cutover/cutover/steps"
)

// ask opens the text field for k, with prompt and a value to start from.
func (p *runPage) ask(k inputKind, prompt, value string) tea.Cmd {
	p.inputFor = k
	p.input.Prompt = prompt
	p.input.SetValue(value)
	p.input.CursorEnd()
	return p.input.Focus()
}

// key answers a key on the step screen.
func (p *runPage) key(msg tea.KeyPressMsg) tea.Cmd {
	k := p.a.keys
	if p.d == nil {
		if p.err != nil && key.Matches(msg, k.Back) {
			return pop
		}
		return nil
	}
	if p.inputFor != inputNone {
		return p.inputKey(msg)
	}
	if p.confirm != inputNone {
		return p.confirmKey(msg)
	}
	if p.listFocus {
		return p.listKey(msg)
	}
	switch {
	case key.Matches(msg, k.Evidence):
		return push(p, newDetailPage(p, p.currentID()))
	case key.Matches(msg, k.Steps):
		p.listFocus, p.listCur = true, p.stepIndex(p.currentID())
		return nil
	case key.Matches(msg, k.StepMode):
		p.stepMode = !p.stepMode
		if p.ahead != nil {
			return p.runAhead() // turned off while an action waited: it runs now
		}
		if p.stepMode {
			p.notice = p.a.st.Wait.Render("Step mode on: the run stops before each automatic action until you press y.")
		} else {
			p.notice = p.a.st.Subtle.Render("Step mode off: automatic actions run without asking.")
		}
		return nil
	}
	if p.ahead != nil {
		if key.Matches(msg, k.Yes) {
			return p.runAhead()
		}
		p.scroll(msg)
		return nil
	}
	if p.stalled && !p.busy && key.Matches(msg, k.Retry) {
		p.stalled, p.busy, p.notice = false, true, ""
		return p.d.advance()
	}
	pr := p.prompt
	if pr == nil || p.busy {
		p.scroll(msg)
		return nil
	}
	switch {
	case pr.Allows(steps.Abort) && key.Matches(msg, k.Abort):
		p.notice = ""
		return p.ask(inputAbort, "reason for aborting › ", "")
	case pr.Allows(steps.Override) && key.Matches(msg, k.Override):
		p.notice = ""
		return p.ask(inputOverride, "reason for overriding › ", "")
	case pr.Allows(steps.Skip) && key.Matches(msg, k.Skip):
		return p.ask(inputSkip, "reason for skipping (recorded): ", "")
	case pr.Allows(steps.Retry) && key.Matches(msg, k.Retry):
		return p.decide(steps.Decision{Kind: steps.Retry})
	case pr.Allows(steps.Accept) && key.Matches(msg, k.Accept):
		return p.decide(steps.Decision{Kind: steps.Accept})
	case pr.Allows(steps.Rerun) && key.Matches(msg, k.Rerun):
		return p.decide(steps.Decision{Kind: steps.Rerun})
	case pr.Manual && pr.Allows(steps.Confirm) && key.Matches(msg, k.Command):
		return p.ask(inputCommand, "ROLE: COMMAND › ", p.suggestion())
	case pr.Allows(steps.Confirm) && key.Matches(msg, k.Confirm):
		if pr.Phrase != "" {
			return p.ask(inputPhrase, "type the phrase › ", "")
		}
		return p.decide(steps.Decision{Kind: steps.Confirm})
	}
	p.scroll(msg)
	return nil
}

// listKey moves the step list's cursor, opens the evidence of the step under it, or
// gives the keys back to the step.
func (p *runPage) listKey(msg tea.KeyPressMsg) tea.Cmd {
	k := p.a.keys
	last := len(p.state.Steps) - 1
	switch {
	case key.Matches(msg, k.Up):
		p.listCur--
	case key.Matches(msg, k.Down):
		p.listCur++
	case key.Matches(msg, k.PageUp):
		p.listCur -= 5
	case key.Matches(msg, k.PageDown):
		p.listCur += 5
	case key.Matches(msg, k.Top):
		p.listCur = 0
	case key.Matches(msg, k.Bottom):
		p.listCur = last
	case key.Matches(msg, k.Open, k.Evidence):
		return push(p, newDetailPage(p, p.state.Steps[p.listCur].ID()))
	case key.Matches(msg, k.Back, k.Steps):
		p.listFocus = false
	}
	p.listCur = min(max(p.listCur, 0), last)
	return nil
}

// scroll moves the current step's output.
func (p *runPage) scroll(msg tea.KeyPressMsg) {
	if sv := p.output[p.currentID()]; sv != nil {
		sv.Key(p.a.keys, msg)
	}
}

// confirmKey takes the key after the reason for an override or an abort: y records
// the decision; any other key does not, and says so.
func (p *runPage) confirmKey(msg tea.KeyPressMsg) tea.Cmd {
	kind, reason := p.confirm, p.reason
	p.confirm, p.reason = inputNone, ""
	if !key.Matches(msg, p.a.keys.Yes) {
		what := "override"
		if kind == inputAbort {
			what = "abort"
		}
		p.notice = p.a.st.Warn.Render("The " + what + " was not recorded: only y after the reason records it.")
		return nil
	}
	if kind == inputAbort {
		return p.decide(steps.Decision{Kind: steps.Abort, Reason: reason})
	}
	return p.decide(steps.Decision{Kind: steps.Override, Reason: reason})
}

// deliberate reports whether a reason reads as one: a few words, not a stray letter.
func deliberate(reason string) bool {
	return len(strings.Fields(reason)) >= 2 && len(reason) >= 8
}

// suggestion prefills the command field: after a failed command, that command to edit;
// else the run file's answer for this step, or the practice lab's.
func (p *runPage) suggestion() string {
	if p.prompt == nil {
		return ""
	}
	if cur := p.current(); p.prompt.Kind == steps.AskActionFailed && cur != nil && cur.Answer != nil {
		return cur.Answer.Role + ": " + cur.Answer.Command
	}
	if run := p.answerRun(); run != nil {
		return run.Role + ": " + run.Command
	}
	return ""
}

// answerRun is the command that performs the current step in the run file the wizard
// was given, else in the practice lab's run file; nil when there is none.
func (p *runPage) answerRun() *steps.AnswerRun {
	if p.prompt == nil || p.plan == nil {
		return nil
	}
	for _, rf := range []*steps.RunFile{p.a.cfg.RunFile, p.a.labRun(p.plan.Runbook.ID)} {
		if rf == nil || rf.Runbook != p.plan.Runbook.ID {
			continue
		}
		if ans := rf.Answers[p.prompt.Step]; ans != nil && ans.Run != nil {
			return ans.Run
		}
	}
	return nil
}

func (p *runPage) inputKey(msg tea.KeyPressMsg) tea.Cmd {
	k := p.a.keys
	switch {
	case key.Matches(msg, k.Cancel):
		p.inputFor, p.pendingRun = inputNone, nil
		p.input.Blur()
		return nil
	case key.Matches(msg, k.Submit):
		v := strings.TrimSpace(p.input.Value())
		kind := p.inputFor
		p.inputFor = inputNone
		p.input.Blur()
		switch kind {
		case inputPhrase:
			run := p.pendingRun
			p.pendingRun = nil
			return p.decide(steps.Decision{Kind: steps.Confirm, Phrase: v, Run: run})
		case inputOverride, inputAbort:
			if !deliberate(v) {
				p.notice = p.a.st.Warn.Render("Say why in a few words: the reason is recorded with your name and shown in every export.")
				return p.ask(kind, p.input.Prompt, v)
			}
			p.confirm, p.reason, p.notice = kind, v, ""
			return nil
		case inputSkip:
			return p.decide(steps.Decision{Kind: steps.Skip, Reason: v})
		case inputCommand:
			role, cmd, ok := strings.Cut(v, ":")
			if !ok || strings.TrimSpace(cmd) == "" {
				p.notice = p.a.st.Warn.Render("write it as ROLE: COMMAND, e.g. new: maestro-setup install --components hub")
				return p.ask(inputCommand, "ROLE: COMMAND › ", v)
			}
			dec := steps.Decision{Kind: steps.Confirm, Run: &steps.AnswerRun{Role: strings.TrimSpace(role), Command: strings.TrimSpace(cmd)}}
			if p.prompt != nil && p.prompt.Phrase != "" {
				// A step that cannot be undone still needs its phrase.
				p.pendingRun = dec.Run
				return p.ask(inputPhrase, "type the phrase › ", "")
			}
			return p.decide(dec)
		}
		return nil
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	return cmd
}

func (p *runPage) Help() []key.Binding {
	k := p.a.keys
	switch {
	case p.d == nil && p.err != nil:
		return bindings(k.Back)
	case p.d == nil:
		return nil
	case p.inputFor != inputNone:
		return bindings(k.Submit, k.Cancel)
	case p.listFocus:
		open, back := k.Open, k.Back
		open.SetHelp("enter/e", "the step's evidence")
		back.SetHelp("esc/tab", "back to the step")
		return bindings(k.Up, k.Down, open, back)
	case p.confirm == inputAbort:
		yes := k.Yes
		yes.SetHelp("y", "abort the run")
		return bindings(yes)
	case p.confirm == inputOverride:
		yes := k.Yes
		yes.SetHelp("y", "record the override")
		return bindings(yes)
	case p.stalled:
		retry := k.Retry
		retry.SetHelp("r", "try again")
		return bindings(retry, k.Evidence, k.Steps)
	case p.ahead != nil && !p.busy:
		yes, off := k.Yes, k.StepMode
		yes.SetHelp("y", "run the action")
		off.SetHelp("t", "step mode off: run it")
		return bindings(yes, off, k.Evidence, k.Steps)
	case p.prompt == nil || p.busy:
		return append(bindings(k.Evidence, k.Steps), p.scrollHelp()...)
	}
	var out []key.Binding
	pr := p.prompt
	if pr.Allows(steps.Confirm) {
		confirm, command := k.Confirm, k.Command
		switch {
		case pr.Kind != steps.AskConfirm && pr.Manual:
			// After its command failed: done by hand now, or another command.
			confirm.SetHelp("enter", "done by hand: check it")
			command.SetHelp("c", "another command")
		case pr.Manual && pr.Phrase != "":
			confirm.SetHelp("enter", "done: type the phrase")
		case pr.Manual:
			confirm.SetHelp("enter", "done: check it")
		case pr.Phrase != "":
			confirm.SetHelp("enter", "go ahead: type the phrase")
		default:
			confirm.SetHelp("enter", "go ahead")
		}
		out = append(out, confirm)
		if pr.Manual {
			out = append(out, command)
		}
	}
	for _, c := range pr.Choices {
		switch c {
		case steps.Retry:
			retry := k.Retry
			if pr.Kind == steps.AskActionFailed {
				retry.SetHelp("r", "run it again")
			}
			out = append(out, retry)
		case steps.Accept:
			out = append(out, k.Accept)
		case steps.Rerun:
			out = append(out, k.Rerun)
		case steps.Override:
			out = append(out, k.Override)
		case steps.Skip:
			out = append(out, k.Skip)
		}
	}
	out = append(out, k.Evidence, k.Steps)
	if pr.Allows(steps.Abort) {
		out = append(out, k.Abort)
	}
	return append(out, p.scrollHelp()...)
}

// scrollHelp offers the output's scroll keys when there is output to scroll.
func (p *runPage) scrollHelp() []key.Binding {
	if sv := p.output[p.currentID()]; sv != nil && sv.Len() > 0 {
		k := p.a.keys
		return bindings(k.PageUp, k.PageDown)
	}
	return nil
}

func (p *runPage) FullHelp() [][]key.Binding {
	groups := [][]key.Binding{p.Help(), {p.stepModeKey()}}
	if sv := p.output[p.currentID()]; sv != nil && sv.Len() > 0 {
		groups = append(groups, p.a.keys.scrollKeys())
	}
	return groups
}

// stepModeKey is the step mode toggle, its help saying what pressing it does now.
func (p *runPage) stepModeKey() key.Binding {
	t := p.a.keys.StepMode
	if p.stepMode {
		t.SetHelp("t", "step mode off (on now)")
	}
	return t
}
