package tui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/progress"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/glamour/v2"
	"charm.land/lipgloss/v2"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
	"github.com/cutover/cutover/steps/runner"
)

// runSource says which run the page shows: a new one (runbook and inputs) or a resumed
// one (a journal).
type runSource struct {
	rb     *steps.Runbook
	in     steps.Inputs
	resume string
}

// runPage is the step screen: the current step's text, its action with live output and
// progress, each check with its state and evidence, and the question the engine asks.
// Its picture of the run is the fold of the journal's events (state): read from the
// journal file when the run opens, then updated from the events the engine records,
// never from the engine's memory. Output lines, copy progress and countdowns are live
// only, as the engine sends them.
type runPage struct {
	a   *app
	src runSource
	d   *driver

	plan  *steps.Plan
	state *steps.RunState
	// busy is set while an engine call is in flight; prompt is the open question.
	busy   bool
	prompt *steps.Prompt
	// pending is an engine call's outcome that arrived before the events it follows;
	// it is acted on once the state has caught up with it.
	pending *engineResult
	err     error
	notice  string
	// stalled is set when an engine call failed without a question to answer (a host
	// did not answer at a step's start): r tries again.
	stalled bool

	// Live, unjournaled information, by step id.
	output  map[string]*scrollView
	copyP   map[string]copyState
	waiting map[string]waitState // "step/phase/index" → latest poll

	bar   progress.Model
	input textinput.Model
	// inputFor says what the text field is for; askAbort is the abort question.
	inputFor inputKind
	askAbort bool
	// pendingRun holds a command answer while its step's phrase is typed.
	pendingRun *steps.AnswerRun

	md   mdCache
	desc map[string]*steps.Description
}

type copyState struct {
	done, total int64
	start, at   time.Time
}

type waitState struct {
	p  steps.Progress
	at time.Time
}

type inputKind int

const (
	inputNone inputKind = iota
	inputPhrase
	inputOverride
	inputSkip
	inputCommand
)

func newRunPage(a *app, src runSource) *runPage {
	return &runPage{a: a, src: src, output: map[string]*scrollView{}, copyP: map[string]copyState{},
		waiting: map[string]waitState{}, desc: map[string]*steps.Description{},
		bar:   progress.New(progress.WithWidth(40), progress.WithoutPercentage()),
		input: newTextInput("")}
}

func (p *runPage) Init() tea.Cmd { return p.open() }

func (p *runPage) Title() string {
	if p.plan == nil {
		return "starting the run"
	}
	return p.plan.Runbook.ID + ": " + p.plan.Runbook.Title
}

func (p *runPage) Capture() capture {
	if p.inputFor != inputNone {
		return captureText
	}
	return captureNone
}

// runOpenedMsg carries a started or resumed run, its plan and its state as the
// journal has them, or why it could not start.
type runOpenedMsg struct {
	d     *driver
	plan  *steps.Plan
	state *steps.RunState
	err   error
}

// open starts or resumes the run inside a command: probing, planning, opening the
// journal and reading it back all do I/O.
//
// The driver is the app's active run from this moment: quitting while the run opens
// asks first, and stops it the same way (the open holds the driver's lock, so the stop
// waits for it and then closes whatever it opened).
func (p *runPage) open() tea.Cmd {
	a, src := p.a, p.src
	d := newDriver()
	a.active = d
	cfg := &runner.Config{Inventory: a.inv, Dialer: a.cfg.Dialer, JournalDir: a.cfg.JournalDir,
		Version: a.cfg.Version, Now: a.cfg.Now, Observer: d, Hard: d.hard}
	lookup := a.inv.Host
	catalog := a.catalog
	return func() tea.Msg {
		d.mu.Lock()
		defer d.mu.Unlock()
		if err := d.soft.Err(); err != nil {
			return runOpenedMsg{d: d, err: err}
		}
		var err error
		if src.resume != "" {
			var rb *steps.Runbook
			rb, err = runbookOfJournal(catalog, src.resume)
			if err == nil {
				d.run, err = cfg.Resume(d.soft, src.resume, rb, runner.ResumeOptions{})
			}
		} else {
			d.run, err = cfg.Start(d.soft, src.rb, src.in, "")
		}
		if err != nil {
			return runOpenedMsg{d: d, err: err}
		}
		// The page's picture of the run is the journal's, read back from the file.
		plan, st, err := restore(d.journalPath(), d.run.Engine.Plan().Runbook, lookup, secretsOf(src))
		if err != nil {
			return runOpenedMsg{d: d, err: err}
		}
		return runOpenedMsg{d: d, plan: plan, state: st}
	}
}

func runbookOfJournal(catalog []*steps.Runbook, path string) (*steps.Runbook, error) {
	j, err := journal.Read(path)
	if err != nil {
		return nil, err
	}
	st := steps.NewRunState(j.Events)
	if st.Session == nil {
		return nil, fmt.Errorf("%s is not a cutover journal", path)
	}
	for _, rb := range catalog {
		if rb.ID == st.Session.Runbook {
			return rb, nil
		}
	}
	return nil, fmt.Errorf("runbook %s of %s is not known to this cutover", st.Session.Runbook, path)
}

// restore rebuilds the plan and state a journal file describes.
func restore(path string, rb *steps.Runbook, lookup func(string) *probe.Host, secrets map[string]string) (*steps.Plan, *steps.RunState, error) {
	j, err := journal.Read(path)
	if err != nil {
		return nil, nil, err
	}
	hosts := func(name string) *probe.Host {
		if h := lookup(name); h != nil {
			return h
		}
		return &probe.Host{Name: name}
	}
	return steps.Restore(j.Events, rb, hosts, steps.Options{AllowChanged: true, Secrets: secrets})
}

func secretsOf(src runSource) map[string]string {
	if src.rb == nil {
		return nil
	}
	out := map[string]string{}
	for _, prm := range src.rb.Params {
		if v, ok := src.in.Params[prm.ID]; ok && prm.Secret {
			out[prm.ID] = v
		}
	}
	return out
}

func (p *runPage) Update(msg tea.Msg) (page, tea.Cmd) {
	switch msg := msg.(type) {
	case runOpenedMsg:
		if p.a.active != msg.d {
			return p, nil // not this page's run
		}
		if msg.err != nil {
			// Nothing runs; a journal the open had begun stays, closed, for resume.
			p.err = msg.err
			p.a.active = nil
			d := msg.d
			return p, func() tea.Msg { d.stop(); return nil }
		}
		p.d, p.plan, p.state = msg.d, msg.plan, msg.state
		p.d.opened, p.busy = true, true
		return p, tea.Batch(p.d.listen(), p.d.state())
	case engineBatchMsg:
		if p.d == nil || msg.d != p.d {
			return p, nil
		}
		for _, m := range msg.msgs {
			switch m := m.(type) {
			case eventMsg:
				p.event(m.ev)
			case progressMsg:
				p.progress(m.p)
			}
		}
		cmds := []tea.Cmd{p.d.listen()}
		if r := p.pending; r != nil && p.state.LastSeq >= r.seq {
			p.pending = nil
			cmds = append(cmds, p.after(*r))
		}
		return p, tea.Batch(cmds...)
	case advancedMsg:
		return p, p.result(engineResult(msg))
	case decidedMsg:
		return p, p.result(engineResult(msg))
	case tea.KeyPressMsg:
		return p, p.key(msg)
	}
	return p, nil
}

// result takes the outcome of an engine call, once the events it follows are folded in
// (they travel separately, and the screen must never show a question about a state it
// has not seen).
func (p *runPage) result(r engineResult) tea.Cmd {
	if r.d != p.d {
		return nil
	}
	if p.state.LastSeq < r.seq {
		p.pending = &r
		return nil
	}
	return p.after(r)
}

// after reacts to the outcome of an engine call: show the question, end, or go on.
func (p *runPage) after(r engineResult) tea.Cmd {
	p.busy = false
	p.prompt = r.prompt
	switch {
	case r.err == nil, errors.Is(r.err, steps.ErrNeedDecision), errors.Is(r.err, steps.ErrFinished):
	case p.d.soft.Err() != nil:
		return nil // stopping: the root quits once the driver has stopped
	default:
		p.notice = p.a.st.Fail.Render(r.err.Error())
		if p.prompt == nil && !r.finished {
			// Nothing was recorded (a host did not answer at a step's start, say): the
			// operator retries when ready.
			p.stalled = true
			return nil
		}
	}
	if r.finished || p.state.Ended {
		return p.end()
	}
	if p.prompt != nil {
		return nil
	}
	p.busy = true
	return p.d.advance()
}

// end hands over to the summary once the run has ended.
func (p *runPage) end() tea.Cmd {
	if p.d.done {
		return nil
	}
	p.d.done = true
	sum := newSummary(p.a, p.d, p.plan, p.state)
	return func() tea.Msg { return swapMsg{old: p, new: sum} }
}

func (p *runPage) decide(dec steps.Decision) tea.Cmd {
	if p.busy || p.d == nil {
		return nil
	}
	op, _ := runner.Operator()
	dec.By, dec.Via = op, "tty"
	p.busy, p.notice = true, ""
	return p.d.decide(dec)
}

func (p *runPage) ask(k inputKind, prompt, value string) tea.Cmd {
	p.inputFor = k
	p.input.Prompt = prompt
	p.input.SetValue(value)
	p.input.CursorEnd()
	return p.input.Focus()
}

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
	if p.askAbort {
		switch {
		case key.Matches(msg, k.Yes):
			p.askAbort = false
			return p.decide(steps.Decision{Kind: steps.Abort, Reason: "aborted by the operator"})
		case key.Matches(msg, k.No):
			p.askAbort = false
		}
		return nil
	}
	if key.Matches(msg, k.Evidence) {
		return push(p, newDetailPage(p))
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
		p.askAbort = true
		return nil
	case pr.Allows(steps.Override) && key.Matches(msg, k.Override):
		return p.ask(inputOverride, "reason for overriding (recorded, marked in every export): ", "")
	case pr.Allows(steps.Skip) && key.Matches(msg, k.Skip):
		return p.ask(inputSkip, "reason for skipping (recorded): ", "")
	case pr.Allows(steps.Retry) && key.Matches(msg, k.Retry):
		return p.decide(steps.Decision{Kind: steps.Retry})
	case pr.Allows(steps.Accept) && key.Matches(msg, k.Accept):
		return p.decide(steps.Decision{Kind: steps.Accept})
	case pr.Allows(steps.Rerun) && key.Matches(msg, k.Rerun):
		return p.decide(steps.Decision{Kind: steps.Rerun})
	case pr.Kind == steps.AskConfirm && pr.Manual && key.Matches(msg, k.Command):
		return p.ask(inputCommand, "ROLE: COMMAND › ", p.suggestion())
	case pr.Kind == steps.AskConfirm && key.Matches(msg, k.Confirm):
		if pr.Phrase != "" {
			return p.ask(inputPhrase, "type the phrase › ", "")
		}
		return p.decide(steps.Decision{Kind: steps.Confirm})
	}
	p.scroll(msg)
	return nil
}

// scroll moves the current step's output.
func (p *runPage) scroll(msg tea.KeyPressMsg) {
	if sv := p.output[p.currentID()]; sv != nil {
		sv.Key(p.a.keys, msg)
	}
}

// suggestion prefills the command field from the run file's answer for this step.
func (p *runPage) suggestion() string {
	if rf := p.a.cfg.RunFile; rf != nil && p.prompt != nil {
		if ans := rf.Answers[p.prompt.Step]; ans != nil && ans.Run != nil {
			return ans.Run.Role + ": " + ans.Run.Command
		}
	}
	return ""
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
		case inputOverride:
			return p.decide(steps.Decision{Kind: steps.Override, Reason: v})
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

// event folds one recorded event into the page's state. Events already in the journal
// when the page read it are skipped by sequence number.
func (p *runPage) event(ev *steps.Event) {
	if p.state == nil || ev.Seq <= p.state.LastSeq {
		return
	}
	p.state.Apply(ev)
	switch ev.Type {
	case steps.EvStepStart:
		delete(p.copyP, ev.Step)
	case steps.EvActionStart:
		// A rerun starts its output afresh.
		if sv := p.output[ev.Step]; sv != nil {
			sv.SetLines(nil)
			sv.GotoBottom()
		}
		delete(p.copyP, ev.Step)
	case steps.EvCheck:
		if ev.Check != nil {
			delete(p.waiting, fmt.Sprintf("%s/%s/%d", ev.Step, ev.Check.Phase, ev.Check.Index))
		}
	}
}

// progress records live, unjournaled information.
func (p *runPage) progress(pr steps.Progress) {
	switch {
	case pr.Line != "":
		sv := p.output[pr.Step]
		if sv == nil {
			sv = newScrollView(true)
			p.output[pr.Step] = sv
		}
		line := pr.Line
		if pr.Host != "" {
			line = pr.Host + ": " + line
		}
		sv.AppendOutput(line)
	case pr.Total > 0:
		cs := p.copyP[pr.Step]
		if cs.start.IsZero() {
			cs.start = p.a.now()
		}
		cs.done, cs.total, cs.at = pr.Done, pr.Total, p.a.now()
		p.copyP[pr.Step] = cs
	case pr.Last != nil:
		p.waiting[fmt.Sprintf("%s/%s/%d", pr.Step, pr.Phase, pr.Gate)] = waitState{p: pr, at: p.a.now()}
	}
}

// current is the step being worked on: the first unfinished one, else the last.
func (p *runPage) current() *steps.StepState {
	if p.state == nil || len(p.state.Steps) == 0 {
		return nil
	}
	if s := p.state.Current(); s != nil {
		return s
	}
	return p.state.Steps[len(p.state.Steps)-1]
}

func (p *runPage) currentID() string {
	if s := p.current(); s != nil {
		return s.ID()
	}
	return ""
}

// describe is the plan's description of a step, rendered once.
func (p *runPage) describe(id string) *steps.Description {
	if d, ok := p.desc[id]; ok {
		return d
	}
	d, err := p.plan.Describe(id)
	if err != nil {
		d = &steps.Description{Text: err.Error()}
	}
	p.desc[id] = d
	return d
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
	case p.askAbort:
		yes := k.Yes
		yes.SetHelp("y", "yes, abort the run")
		return bindings(yes, k.No)
	case p.stalled:
		retry := k.Retry
		retry.SetHelp("r", "try again")
		return bindings(retry, k.Evidence)
	case p.prompt == nil || p.busy:
		return append(bindings(k.Evidence), p.scrollHelp()...)
	}
	var out []key.Binding
	pr := p.prompt
	if pr.Kind == steps.AskConfirm {
		confirm := k.Confirm
		switch {
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
			out = append(out, k.Command)
		}
	}
	for _, c := range pr.Choices {
		switch c {
		case steps.Retry:
			out = append(out, k.Retry)
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
	out = append(out, k.Evidence)
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
	groups := [][]key.Binding{p.Help()}
	if sv := p.output[p.currentID()]; sv != nil && sv.Len() > 0 {
		groups = append(groups, p.a.keys.scrollKeys())
	}
	return groups
}

// mdCache keeps the rendered text of one step: Markdown rendering is far too slow to
// repeat on every frame.
type mdCache struct {
	key, out string
}

// Under NO_COLOR the same style is used: the terminal renderer drops its colours and
// keeps bold and italics, which read better than the plain style's literal asterisks.
func (c *mdCache) render(id, text string, w int, dark bool) string {
	k := fmt.Sprintf("%s/%d/%t", id, w, dark)
	if c.key == k {
		return c.out
	}
	style := "light"
	if dark {
		style = "dark"
	}
	out := text
	if r, err := glamour.NewTermRenderer(glamour.WithStandardStyle(style), glamour.WithWordWrap(max(w-4, 20))); err == nil {
		if s, err := r.Render(joinSoftBreaks(text)); err == nil {
			out = strings.Trim(s, "\n")
		}
	}
	c.key, c.out = k, out
	return out
}

func (p *runPage) View(w, h int) string {
	st := p.a.st
	switch {
	case p.err != nil:
		return st.Fail.Render("The run did not start.") + "\n\n" + wrap(p.err.Error(), w) + "\n\n" +
			st.Subtle.Render("Nothing was done on any host. esc goes back.")
	case p.d == nil:
		return st.Wait.Render(p.a.spin.View()) + " probing the role hosts, planning and opening the journal…"
	}
	cur := p.current()
	s := p.plan.Runbook.Step(cur.ID())
	desc := p.describe(cur.ID())
	status := p.stepStatus(cur)
	head := st.Title.Render(truncate(fmt.Sprintf("Step %d of %d · %s", p.stepIndex(cur.ID())+1, len(p.state.Steps), s.Title),
		w-lipgloss.Width(status)-2))
	head += strings.Repeat(" ", max(w-lipgloss.Width(head)-lipgloss.Width(status), 1)) + status

	// The action, the checks and the question are what the operator acts on: they get
	// their rows first (up to all but two), and the text and the output share the rest.
	// Failed checks show as many evidence lines as the screen allows (up to 8 each),
	// ahead of the text and the output: when a check fails, its evidence matters most.
	lowerFor := func(evidence int) string {
		var lower strings.Builder
		p.viewAction(&lower, cur, desc, w)
		p.viewChecks(&lower, cur, desc, w, evidence)
		lower.WriteString(p.viewPrompt(cur, w))
		return strings.TrimRight(lower.String(), "\n")
	}
	lowerText := lowerFor(0)
	if failed := p.failedShown(cur); failed > 0 {
		room := h - 1 - lipgloss.Height(lowerText) - 1
		lowerText = lowerFor(min(max(room/failed, 1), 8))
	}
	lowerH := lipgloss.Height(lowerText)
	if lowerText == "" {
		lowerH = 0
	}
	if lowerH > h-2 {
		lowerText = fit(lowerText, w, h-2)
		lowerH = h - 2
	}
	rest := h - 1 - lowerH - 1 // the heading, and a blank line above the lower part

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
		sv.SetLines(cur.Action.Output)
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
	top.WriteString(head + "\n")
	if textH > 0 {
		top.WriteString(text + "\n")
	}
	if outH > 0 {
		label := "output · " + sv.Position()
		if recorded != nil {
			label = "output (last lines, as recorded)"
		}
		if !sv.AtBottom() || sv.Len() > outH-1 {
			label += " · pgup/pgdn"
		}
		top.WriteString(st.Subtle.Render(truncate("── "+label+" ", w)) + "\n" + sv.View(w, outH-1) + "\n")
	}
	body := fit(strings.TrimRight(top.String(), "\n"), w, h-lowerH)
	if lowerH == 0 {
		return body
	}
	return body + "\n" + lowerText
}

// joinSoftBreaks joins the lines of a paragraph or list item that were wrapped in the
// runbook's source, so the renderer wraps them to the terminal's width instead of
// keeping the source's breaks.
func joinSoftBreaks(md string) string {
	lines := strings.Split(md, "\n")
	var out []string
	fence := false
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "```") {
			fence = !fence
			out = append(out, l)
			continue
		}
		starts := t == "" || fence || strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* ") ||
			strings.HasPrefix(t, "#") || strings.HasPrefix(t, ">") || strings.HasPrefix(t, "|") || isNumbered(t)
		if !starts && len(out) > 0 && strings.TrimSpace(out[len(out)-1]) != "" {
			out[len(out)-1] += " " + t
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func isNumbered(t string) bool {
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	return i > 0 && i < len(t) && (t[i] == '.' || t[i] == ')')
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

func (p *runPage) stepIndex(id string) int {
	for i, s := range p.state.Steps {
		if s.ID() == id {
			return i
		}
	}
	return 0
}

func (p *runPage) stepStatus(cur *steps.StepState) string {
	st := p.a.st
	switch {
	case p.busy:
		return st.Wait.Render(p.a.spin.View() + " working")
	case p.stalled:
		return st.Fail.Render("✗ stalled")
	case p.prompt != nil && p.prompt.Kind == steps.AskConfirm:
		return st.Wait.Render("● waiting for you")
	case p.prompt != nil && p.prompt.Kind == steps.AskUnknown:
		return st.Warn.Render("? outcome unknown")
	case p.prompt != nil:
		return st.Fail.Render("✗ blocked")
	}
	return st.Subtle.Render(cur.Status)
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
	switch {
	case cur.ActionPending && p.busy:
		state = st.Wait.Render(p.a.spin.View())
	case cur.ActionPending:
		state = st.Warn.Render("?")
	case cur.ActionDone && rec.OK:
		state = st.Pass.Render("✓")
	case cur.ActionDone && cur.Overrides["action"] != "":
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
	b.WriteString(truncate(fmt.Sprintf("%s %s: %s", state, label, rec.Summary), w) + "\n")
	if rec.Answer {
		for _, c := range rec.Commands {
			b.WriteString(st.Subtle.Render(truncate("    $ "+c, w)) + "\n")
		}
	}
	if cs, ok := p.copyP[cur.ID()]; ok && cs.total > 0 && !cur.ActionDone {
		b.WriteString(p.copyBar(cs, w) + "\n")
	}
	switch {
	case cur.ActionDone && !rec.OK && rec.Error != "":
		b.WriteString(st.Fail.Render(truncate("    "+rec.Error, w)) + "\n")
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

// viewChecks draws each check of the step with its state; a failed one shows up to
// evidence lines of its evidence.
func (p *runPage) viewChecks(b *strings.Builder, cur *steps.StepState, desc *steps.Description, w, evidence int) {
	for i, label := range desc.Pre {
		b.WriteString(p.checkLine("pre", i, label, cur.Pre[i], cur, w, evidence) + "\n")
	}
	for i, label := range desc.Gates {
		b.WriteString(p.checkLine("gate", i, label, cur.Gates[i], cur, w, evidence) + "\n")
	}
}

// failedShown counts the step's checks shown as failed (not overridden).
func (p *runPage) failedShown(cur *steps.StepState) int {
	n := 0
	for phase, rs := range map[string]map[int]*steps.CheckResult{"pre": cur.Pre, "gate": cur.Gates} {
		for i, r := range rs {
			if _, over := cur.Overrides[fmt.Sprintf("%s/%d", phase, i)]; r != nil && !r.OK() && !over && len(r.Evidence) > 0 {
				n++
			}
		}
	}
	return n
}

func (p *runPage) checkLine(phase string, i int, label string, r *steps.CheckResult, cur *steps.StepState, w, evidence int) string {
	st := p.a.st
	kind := "gate "
	if phase == "pre" {
		kind = "check"
	}
	if r == nil {
		if ws, ok := p.waiting[fmt.Sprintf("%s/%s/%d", cur.ID(), phase, i)]; ok && p.busy {
			left := max(ws.p.Remaining-p.a.now().Sub(ws.at), 0).Round(time.Second)
			line := fmt.Sprintf("%s %s %s", st.Wait.Render(p.a.spin.View()), kind, label)
			wait := st.Wait.Render(truncate(fmt.Sprintf("    waiting: %s left, attempt %d: %s", left, ws.p.Attempt, ws.p.Last.Summary), w))
			return truncate(line, w) + "\n" + wait
		}
		return st.Faint.Render(truncate("· "+kind+" "+label, w))
	}
	if _, over := cur.Overrides[fmt.Sprintf("%s/%d", phase, i)]; over {
		return st.Override.Render(truncate("! "+kind+" "+label+" · OVERRIDDEN", w))
	}
	switch r.Status {
	case steps.Pass:
		return truncate(st.Pass.Render("✓")+" "+kind+" "+label, w)
	case steps.Skipped:
		return st.Faint.Render(truncate("- "+kind+" "+label+" (not needed)", w))
	}
	line := truncate(st.Fail.Render("✗")+" "+kind+" "+label, w) + "\n" + st.Fail.Render(truncate("    "+string(r.Status)+": "+r.Summary, w))
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
		b.WriteString(wrap(p.notice, w) + "\n")
	}
	switch p.inputFor {
	case inputCommand:
		b.WriteString(st.Subtle.Render(wrap("Perform the step with a command on a role's host, as ROLE: COMMAND. Roles: "+
			rolesLine(p.plan.Runbook, p.state.Session.Roles), w)) + "\n")
	case inputPhrase:
		b.WriteString(st.Warn.Render(wrap("This cannot be undone. To go ahead, type exactly: "+p.prompt.Phrase, w)) + "\n")
	case inputOverride:
		b.WriteString(st.Override.Render(wrap("An override accepts what failed. Your reason is recorded and the step is marked OVERRIDDEN in every export.", w)) + "\n")
	}
	if p.inputFor != inputNone {
		b.WriteString(truncate(p.input.View(), w) + "\n")
		return b.String()
	}
	if p.askAbort {
		b.WriteString(st.Warn.Render(wrap("Abort the run at this step? It ends as aborted and cannot be resumed. y aborts, n goes back.", w)) + "\n")
		return b.String()
	}
	if p.stalled {
		b.WriteString(st.Fail.Render(wrap("Nothing was done. Press r to try again once the host answers.", w)) + "\n")
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
			text, style = "Manual step that cannot be undone. Do it as described, then press enter and type «"+pr.Phrase+
				"»; or press c to do it with a command on a host.", st.Warn
		case pr.Manual:
			text = "Manual step: do it as described, then press enter and cutover checks it; or press c to do it with a command on a host."
		case pr.Phrase != "":
			text, style = "This step cannot be undone. Press enter and type «"+pr.Phrase+"» to go ahead.", st.Warn
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
	case steps.AskUnknown:
		style = st.Warn
		if pr.Allows(steps.Accept) {
			text = "The action started and no result was recorded. Every gate passes now: y accepts it as done, R runs it again."
		} else {
			text = "The action started and no result was recorded, and some gates fail: R runs it again, o overrides with a reason."
		}
	}
	if pr.Optional {
		text += " This step is optional: s skips it, with a reason."
	}
	b.WriteString(style.Render(wrap(text, w)))
	return b.String()
}
