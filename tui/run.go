package tui

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/progress"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/glamour/v2"
	"charm.land/lipgloss/v2"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/export"
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
// Its picture of the run is the fold of the journal's events (state), updated from the
// events the engine emits, never from the engine's memory.
type runPage struct {
	a   *app
	src runSource
	d   *driver

	plan  *steps.Plan
	state *steps.RunState
	// busy is set while an engine call is in flight.
	busy   bool
	prompt *steps.Prompt
	err    error
	opened bool

	// Live, unjournaled information about the current step.
	output  map[string][]string // step → output lines
	copyP   map[string]copyState
	waiting map[string]steps.Progress // "step/phase/index" → latest poll

	out  viewport.Model
	bar  progress.Model
	spin spinner.Model

	// input is the text field of the current question (phrase, reason, command).
	input    textinput.Model
	inputFor inputKind
	askAbort bool
	// stalled is set when an engine call failed without a question to answer.
	stalled bool
	// pendingRun holds a command answer while its step's phrase is typed.
	pendingRun *steps.AnswerRun
	notice     string
	exported   string
	md         mdCache
	outFollow  bool
}

type copyState struct {
	done, total int64
	start       time.Time
	at          time.Time
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
	ti := textinput.New()
	ti.CharLimit = 500
	return &runPage{a: a, src: src, output: map[string][]string{}, copyP: map[string]copyState{},
		waiting: map[string]steps.Progress{}, out: viewport.New(), outFollow: true,
		bar:  progress.New(progress.WithWidth(40), progress.WithoutPercentage()),
		spin: spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(a.st.Wait)), input: ti}
}

func (p *runPage) Init() tea.Cmd { return tea.Batch(p.spin.Tick, p.open()) }

func (p *runPage) Title() string {
	if p.plan == nil {
		return "starting the run"
	}
	return p.plan.Runbook.ID + ": " + p.plan.Runbook.Title
}

func (p *runPage) Capturing() bool { return p.inputFor != inputNone }

// open starts or resumes the run inside a command: probing, planning and opening the
// journal all do I/O.
func (p *runPage) open() tea.Cmd {
	a, src := p.a, p.src
	d := newDriver()
	return func() tea.Msg {
		cfg := &runner.Config{Inventory: a.inv, Dialer: a.cfg.Dialer, JournalDir: a.cfg.JournalDir,
			Observer: d, Hard: d.hard, Version: a.cfg.Version, Now: a.cfg.Now}
		var err error
		if src.resume != "" {
			var rb *steps.Runbook
			rb, err = a.runbookOfJournal(src.resume)
			if err == nil {
				d.run, err = cfg.Resume(d.soft, src.resume, rb, runner.ResumeOptions{})
			}
		} else {
			d.run, err = cfg.Start(d.soft, src.rb, src.in, "")
		}
		return runOpenedMsg{d: d, err: err}
	}
}

func (a *app) runbookOfJournal(path string) (*steps.Runbook, error) {
	j, err := journal.Read(path)
	if err != nil {
		return nil, err
	}
	st := steps.NewRunState(j.Events)
	if st.Session == nil {
		return nil, fmt.Errorf("%s is not a cutover journal", path)
	}
	if rb := a.runbook(st.Session.Runbook); rb != nil {
		return rb, nil
	}
	return nil, fmt.Errorf("runbook %s of %s is not known to this cutover", st.Session.Runbook, path)
}

// restore rebuilds the plan and state from the journal file, which is the truth the
// page shows from then on (events that follow are folded in as they come).
func (p *runPage) restore() error {
	j, err := journal.Read(p.d.journalPath())
	if err != nil {
		return err
	}
	lookup := func(name string) *probe.Host {
		if h := p.a.inv.Host(name); h != nil {
			return h
		}
		return &probe.Host{Name: name}
	}
	rb, err := p.a.runbookOfJournal(p.d.journalPath())
	if err != nil {
		return err
	}
	plan, st, err := steps.Restore(j.Events, rb, lookup, steps.Options{AllowChanged: true, Secrets: secretsOf(p.src)})
	if err != nil {
		return err
	}
	p.plan, p.state = plan, st
	return nil
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
		if msg.err != nil {
			p.err = msg.err
			return p, nil
		}
		p.d = msg.d
		p.a.active, p.a.runEnded = p.d, false
		if err := p.restore(); err != nil {
			p.err = err
			return p, nil
		}
		p.opened, p.busy = true, true
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
		return p, p.d.listen()
	case advancedMsg:
		return p, p.after(engineResult(msg))
	case decidedMsg:
		return p, p.after(engineResult(msg))
	case exportedMsg:
		if msg.err != nil {
			p.notice = p.a.st.Fail.Render("export failed: " + msg.err.Error())
		} else {
			p.exported = msg.path
		}
		return p, nil
	case spinner.TickMsg:
		var cmd tea.Cmd
		p.spin, cmd = p.spin.Update(msg)
		return p, cmd
	case tea.KeyPressMsg:
		return p, p.key(msg)
	}
	return p, nil
}

// after reacts to the outcome of an engine call: show the question, end, or go on.
func (p *runPage) after(r engineResult) tea.Cmd {
	p.busy = false
	p.prompt = r.prompt
	switch {
	case r.err != nil && errors.Is(r.err, steps.ErrNeedDecision), r.err != nil && errors.Is(r.err, steps.ErrFinished):
	case r.err != nil && p.d.soft.Err() != nil:
		return nil // stopping: the root quits once the driver has stopped
	case r.err != nil:
		p.notice = p.a.st.Fail.Render(r.err.Error())
		if p.prompt == nil && !r.finished {
			// Nothing was recorded (a host did not answer at a step's start, say): the
			// operator retries when ready.
			p.stalled = true
			return nil
		}
	}
	if r.finished {
		p.a.runEnded = true
		return nil
	}
	if p.prompt != nil {
		return nil
	}
	p.busy = true
	return p.d.advance()
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
	if p.err != nil && p.d == nil {
		if key.Matches(msg, k.Back) {
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
	if p.a.runEnded {
		switch {
		case key.Matches(msg, k.Export):
			return p.export()
		case key.Matches(msg, k.Back):
			p.a.active = nil
			return func() tea.Msg { return replaceMsg{newHome(p.a)} }
		}
		return p.scrollKey(msg)
	}
	if key.Matches(msg, k.Evidence) && p.state != nil {
		return push(newDetailPage(p.a, p.plan, p.state, p.current(), p.output[p.currentID()]))
	}
	if p.stalled && key.Matches(msg, k.Retry) && !p.busy {
		p.stalled, p.busy, p.notice = false, true, ""
		return p.d.advance()
	}
	pr := p.prompt
	if pr == nil || p.busy {
		return p.scrollKey(msg)
	}
	switch {
	case key.Matches(msg, k.Abort):
		p.askAbort = true
		return nil
	case pr.Allows(steps.Override) && key.Matches(msg, k.Override):
		return p.ask(inputOverride, "reason for overriding (recorded and shown in every export): ", "")
	case pr.Allows(steps.Skip) && key.Matches(msg, k.Skip) && pr.Kind != steps.AskCheckFailed:
		return p.ask(inputSkip, "reason for skipping: ", "")
	case pr.Allows(steps.Retry) && key.Matches(msg, k.Retry):
		return p.decide(steps.Decision{Kind: steps.Retry})
	case pr.Allows(steps.Accept) && key.Matches(msg, k.Accept):
		return p.decide(steps.Decision{Kind: steps.Accept})
	case pr.Allows(steps.Rerun) && key.Matches(msg, k.Rerun):
		return p.decide(steps.Decision{Kind: steps.Rerun})
	case pr.Kind == steps.AskConfirm && pr.Manual && msg.String() == "c":
		return p.ask(inputCommand, "run on ROLE: COMMAND  ", p.suggestion())
	case pr.Kind == steps.AskConfirm && key.Matches(msg, k.Confirm):
		if pr.Phrase != "" {
			return p.ask(inputPhrase, "type «"+pr.Phrase+"» to confirm: ", "")
		}
		return p.decide(steps.Decision{Kind: steps.Confirm})
	}
	return p.scrollKey(msg)
}

func (p *runPage) scrollKey(msg tea.KeyPressMsg) tea.Cmd {
	k := p.a.keys
	switch {
	case key.Matches(msg, k.Up):
		p.out.ScrollUp(1)
	case key.Matches(msg, k.Down):
		p.out.ScrollDown(1)
	case key.Matches(msg, k.PageUp):
		p.out.PageUp()
	case key.Matches(msg, k.PageDown):
		p.out.PageDown()
	case key.Matches(msg, k.Top):
		p.out.GotoTop()
	case key.Matches(msg, k.Bottom):
		p.out.GotoBottom()
	default:
		return nil
	}
	p.outFollow = p.out.AtBottom()
	return nil
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
	switch msg.String() {
	case "esc":
		p.inputFor, p.pendingRun = inputNone, nil
		p.input.Blur()
		return nil
	case "enter":
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
				return nil
			}
			dec := steps.Decision{Kind: steps.Confirm, Run: &steps.AnswerRun{Role: strings.TrimSpace(role), Command: strings.TrimSpace(cmd)}}
			if p.prompt != nil && p.prompt.Phrase != "" {
				// A step that cannot be undone still needs its phrase.
				p.pendingRun = dec.Run
				return p.ask(inputPhrase, "type «"+p.prompt.Phrase+"» to confirm: ", "")
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
// when the page read it (the session and plan of a new run) are skipped by sequence.
func (p *runPage) event(ev *steps.Event) {
	if p.state == nil || ev.Seq <= p.state.LastSeq {
		return
	}
	p.state.Apply(ev)
	switch ev.Type {
	case steps.EvRunEnd:
		p.a.runEnded = true
	case steps.EvStepStart:
		p.out.SetContentLines(nil)
		p.outFollow = true
	}
}

// progress records live, unjournaled information.
func (p *runPage) progress(pr steps.Progress) {
	switch {
	case pr.Line != "":
		line := pr.Line
		if pr.Host != "" {
			line = pr.Host + ": " + line
		}
		p.output[pr.Step] = append(p.output[pr.Step], line)
		if pr.Step == p.currentID() {
			p.out.SetContentLines(p.output[pr.Step])
			if p.outFollow {
				p.out.GotoBottom()
			}
		}
	case pr.Total > 0:
		cs := p.copyP[pr.Step]
		if cs.start.IsZero() {
			cs.start = p.a.now()
		}
		cs.done, cs.total, cs.at = pr.Done, pr.Total, p.a.now()
		p.copyP[pr.Step] = cs
	case pr.Last != nil:
		p.waiting[fmt.Sprintf("%s/%s/%d", pr.Step, pr.Phase, pr.Gate)] = pr
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

func (p *runPage) export() tea.Cmd {
	path := strings.TrimSuffix(p.d.journalPath(), ".jsonl") + ".md"
	jpath := p.d.journalPath()
	plan, st := p.plan, p.state
	return func() tea.Msg {
		j, err := journal.Read(jpath)
		if err != nil {
			return exportedMsg{err: err}
		}
		var b strings.Builder
		if err := export.Journal(&b, j, plan, st); err != nil {
			return exportedMsg{err: err}
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
			return exportedMsg{err: err}
		}
		return exportedMsg{path: path, err: os.Rename(tmp, path)}
	}
}

func (p *runPage) ShortHelp() []key.Binding {
	k := p.a.keys
	switch {
	case p.inputFor != inputNone:
		return bindings(key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "submit")), key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")))
	case p.askAbort:
		return bindings(k.Yes, k.No)
	case p.a.runEnded:
		return bindings(k.Export, k.Up, k.Down, key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "home")))
	case p.stalled:
		return bindings(k.Retry, k.Evidence, k.Up, k.Down)
	case p.prompt == nil || p.busy:
		return bindings(k.Evidence, k.Up, k.Down)
	}
	var out []key.Binding
	pr := p.prompt
	if pr.Kind == steps.AskConfirm {
		out = append(out, k.Confirm)
		if pr.Manual {
			out = append(out, key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "do it with a command")))
		}
	}
	for _, c := range pr.Choices {
		switch c {
		case steps.Retry:
			out = append(out, k.Retry)
		case steps.Override:
			out = append(out, k.Override)
		case steps.Skip:
			out = append(out, k.Skip)
		case steps.Accept:
			out = append(out, k.Accept)
		case steps.Rerun:
			out = append(out, k.Rerun)
		}
	}
	return append(out, k.Evidence, k.Abort)
}

func (p *runPage) FullHelp() [][]key.Binding {
	k := p.a.keys
	return [][]key.Binding{p.ShortHelp(), {k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}}
}

// mdCache keeps the rendered text of a step: Markdown rendering is far too slow to
// repeat on every frame.
type mdCache struct {
	key, out string
}

func (c *mdCache) render(id, text string, w int, dark bool) string {
	k := fmt.Sprintf("%s/%d/%t", id, w, dark)
	if c.key == k {
		return c.out
	}
	style := "light"
	if dark {
		style = "dark"
	}
	if os.Getenv("NO_COLOR") != "" {
		style = "notty"
	}
	out := text
	text = joinSoftBreaks(text)
	if r, err := glamour.NewTermRenderer(glamour.WithStandardStyle(style), glamour.WithWordWrap(max(w-2, 20))); err == nil {
		if s, err := r.Render(text); err == nil {
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
		return st.Fail.Render("The run did not start:") + "\n\n" + wrap(p.err.Error(), w) + "\n\n" + st.Subtle.Render("esc goes back")
	case !p.opened:
		return p.spin.View() + " probing the hosts, planning and opening the journal…"
	case p.a.runEnded:
		return p.viewSummary(w, h)
	}
	cur := p.current()
	s := p.plan.Runbook.Step(cur.ID())
	desc, _ := p.plan.Describe(cur.ID())
	var top strings.Builder
	idx := p.stepIndex(cur.ID())
	status := p.stepStatus(cur)
	top.WriteString(st.Title.Render(truncate(fmt.Sprintf("Step %d of %d · %s", idx+1, len(p.state.Steps), s.Title), w-lipgloss.Width(status)-2)) + "  " + status + "\n")

	// Checks, action and prompt are the evidence; they get their lines first, and the text
	// and the output share what is left.
	var lower strings.Builder
	p.viewAction(&lower, cur, desc, w)
	p.viewChecks(&lower, cur, desc, w)
	lower.WriteString(p.viewPrompt(w))
	lowerH := lipgloss.Height(lower.String())
	rest := h - 1 - lowerH
	text := ""
	if desc.Text != "" {
		text = p.md.render(cur.ID(), desc.Text, w, st.Dark)
	}
	outLines := p.output[cur.ID()]
	textH := lipgloss.Height(text)
	if text == "" {
		textH = 0
	}
	outH := 0
	if len(outLines) > 0 {
		outH = min(len(outLines), max(rest/2, 3))
	}
	if textH > rest-outH {
		textH = max(rest-outH, 0)
		text = clip(text, textH, st.Subtle.Render("  … e shows the whole text"))
	}
	if textH > 0 {
		top.WriteString(text + "\n")
	}
	if outH > 0 && rest-textH > 1 {
		p.out.SetWidth(w)
		p.out.SetHeight(min(outH, rest-textH-1))
		top.WriteString(st.Subtle.Render(strings.Repeat("─", min(w, 20))+" output") + "\n" + p.out.View() + "\n")
	}
	return fit(strings.TrimRight(top.String(), "\n"), w, h-lowerH) + "\n" + strings.TrimRight(lower.String(), "\n")
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
		if !starts && len(out) > 0 && strings.TrimSpace(out[len(out)-1]) != "" && !fence {
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

func clip(s string, h int, more string) string {
	lines := strings.Split(s, "\n")
	if len(lines) <= h || h <= 0 {
		if h <= 0 {
			return ""
		}
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
		return p.spin.View() + " working"
	case p.prompt != nil && p.prompt.Kind == steps.AskConfirm:
		return st.Wait.Render("waiting for you")
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
		state = p.spin.View()
	case cur.ActionPending:
		state = st.Warn.Render("?")
	case cur.ActionDone && rec.OK:
		state = st.Pass.Render("✓")
	case cur.ActionDone:
		state = st.Fail.Render("✗")
	default:
		state = st.Faint.Render("·")
	}
	label := "Action"
	if rec.Answer {
		label = "Command"
	}
	b.WriteString(truncate(fmt.Sprintf("%s %s: %s", state, label, rec.Summary), w) + "\n")
	if cs, ok := p.copyP[cur.ID()]; ok && cs.total > 0 && !cur.ActionDone {
		p.bar.SetWidth(max(w-34, 10))
		pct := float64(cs.done) / float64(cs.total)
		rate := 0.0
		if el := cs.at.Sub(cs.start).Seconds(); el > 0 {
			rate = float64(cs.done) / el
		}
		eta := "?"
		if rate > 0 {
			eta = time.Duration(float64(cs.total-cs.done) / rate * float64(time.Second)).Round(time.Second).String()
		}
		b.WriteString("  " + p.bar.ViewAs(pct) + fmt.Sprintf(" %3.0f%% %s/s ETA %s", pct*100, humanBytes(rate), eta) + "\n")
	}
	if cur.ActionDone && !rec.OK && rec.Error != "" {
		b.WriteString(st.Fail.Render(truncate("  "+rec.Error, w)) + "\n")
	}
	if cur.ActionPending && !p.busy {
		b.WriteString(st.Warn.Render(truncate("  started and no result was recorded: the outcome is unknown; its gates are checked first", w)) + "\n")
	}
}

func humanBytes(v float64) string {
	units := []string{"B", "KB", "MB", "GB"}
	i := 0
	for v >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

func (p *runPage) viewChecks(b *strings.Builder, cur *steps.StepState, desc *steps.Description, w int) {
	for i, label := range desc.Pre {
		b.WriteString(p.checkLine("pre", i, label, cur.Pre[i], cur, w) + "\n")
	}
	for i, label := range desc.Gates {
		b.WriteString(p.checkLine("gate", i, label, cur.Gates[i], cur, w) + "\n")
	}
}

func (p *runPage) checkLine(phase string, i int, label string, r *steps.CheckResult, cur *steps.StepState, w int) string {
	st := p.a.st
	kind := "gate"
	if phase == "pre" {
		kind = "pre "
	}
	if r == nil {
		if wp, ok := p.waiting[fmt.Sprintf("%s/%s/%d", cur.ID(), phase, i)]; ok && p.busy {
			left := wp.Remaining.Round(time.Second)
			return truncate(fmt.Sprintf("%s %s %s %s", p.spin.View(), kind, label,
				st.Wait.Render(fmt.Sprintf("(waiting, %s left, attempt %d: %s)", left, wp.Attempt, wp.Last.Summary))), w)
		}
		return st.Faint.Render(truncate("· "+kind+" "+label, w))
	}
	if _, over := cur.Overrides[fmt.Sprintf("%s/%d", phase, i)]; over {
		return st.Override.Render(truncate("! "+kind+" "+label+": OVERRIDDEN", w))
	}
	switch r.Status {
	case steps.Pass:
		return truncate(st.Pass.Render("✓")+" "+kind+" "+label, w)
	case steps.Skipped:
		return st.Faint.Render(truncate("- "+kind+" "+label+" (not needed)", w))
	}
	line := st.Fail.Render("✗") + " " + kind + " " + label + "\n" + st.Fail.Render(truncate("    "+r.Summary, w))
	for _, ev := range firstN(r.Evidence, 3) {
		line += "\n" + st.Subtle.Render(truncate("    | "+ev, w))
	}
	return line
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (p *runPage) viewPrompt(w int) string {
	st := p.a.st
	var b strings.Builder
	if p.notice != "" {
		b.WriteString(truncate(p.notice, w) + "\n")
	}
	if p.inputFor != inputNone {
		b.WriteString(p.input.View() + "\n")
		return b.String()
	}
	if p.askAbort {
		b.WriteString(st.Warn.Render("Abort the run here? It ends as aborted and cannot be resumed. y/n") + "\n")
		return b.String()
	}
	pr := p.prompt
	if pr == nil || p.busy {
		return b.String()
	}
	switch pr.Kind {
	case steps.AskConfirm:
		switch {
		case pr.Manual && pr.Phrase != "":
			b.WriteString(st.Warn.Render(wrap("Manual step that cannot be undone: do it, then press enter and type the phrase; or c to do it with a command on a host (the phrase is asked too).", w)))
		case pr.Manual:
			b.WriteString(st.Wait.Render(wrap("Manual step: do it as described, then press enter to confirm, or c to do it with a command on a host.", w)))
		case pr.Phrase != "":
			b.WriteString(st.Warn.Render(truncate("This step cannot be undone. Press enter and type the phrase to go ahead.", w)))
		default:
			b.WriteString(st.Wait.Render(truncate("Press enter to run the action.", w)))
		}
	case steps.AskCheckFailed:
		b.WriteString(st.Fail.Render(truncate(fmt.Sprintf("%d check(s) failed: retry when fixed, see the evidence, override with a reason, or abort.", len(pr.Failed)), w)))
	case steps.AskActionFailed:
		b.WriteString(st.Fail.Render(truncate("The action failed: run it again, override with a reason, or abort.", w)))
	case steps.AskUnknown:
		if pr.Allows(steps.Accept) {
			b.WriteString(st.Warn.Render(truncate("Outcome unknown, but every gate passes: accept it as done, or run it again.", w)))
		} else {
			b.WriteString(st.Warn.Render(truncate("Outcome unknown and some gates fail: run it again, or override with a reason.", w)))
		}
	}
	return b.String() + "\n"
}

func (p *runPage) viewSummary(w, h int) string {
	st := p.a.st
	var b strings.Builder
	outcome := p.state.Outcome
	switch outcome {
	case steps.RunDone:
		b.WriteString(st.Pass.Render("✓ The run is done.") + "\n\n")
	default:
		b.WriteString(st.Fail.Render("The run ended: "+outcome) + "\n" + wrap(p.state.Message, w) + "\n\n")
	}
	var done, skipped, overridden int
	for _, s := range p.state.Steps {
		switch s.Status {
		case steps.StepDone:
			done++
		case steps.StepSkipped:
			skipped++
		case steps.StepOverridden:
			overridden++
		}
	}
	fmt.Fprintf(&b, "%d steps done, %d skipped, %d overridden.\n", done, skipped, overridden)
	if overridden > 0 {
		b.WriteString(st.Override.Render("Overridden steps are marked OVERRIDDEN, with their reasons, in every export.") + "\n")
	}
	b.WriteString("\nJournal: " + p.d.journalPath() + "\n")
	switch {
	case p.exported != "":
		b.WriteString(st.Pass.Render("Checklist written to "+p.exported) + "\n")
	default:
		b.WriteString(st.Subtle.Render("x writes the filled checklist (Markdown) next to the journal.") + "\n")
	}
	if p.notice != "" {
		b.WriteString(p.notice + "\n")
	}
	b.WriteString("\n")
	for i, s := range p.state.Steps {
		mark := map[string]string{steps.StepDone: st.Pass.Render("✓"), steps.StepSkipped: st.Faint.Render("-"),
			steps.StepOverridden: st.Override.Render("!"), steps.StepAborted: st.Fail.Render("✗")}[s.Status]
		if mark == "" {
			mark = st.Faint.Render("·")
		}
		b.WriteString(truncate(fmt.Sprintf("%s %2d. %s", mark, i+1, s.Planned.Title), w) + "\n")
	}
	return fit(b.String(), w, h)
}
