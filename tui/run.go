package tui

import (
	"errors"
	"fmt"
	"time"

	"charm.land/bubbles/v2/progress"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

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
	// stepMode starts the run in step mode (turned on at plan review).
	stepMode bool
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
	waiting map[string]waitState // steps.WaitKey → latest poll

	bar   progress.Model
	input textinput.Model
	// inputFor says what the text field is for. confirm is set once the reason for an
	// override or an abort is typed: only y then records it (any other key does not),
	// so stray typing can never become one; reason is what was typed.
	inputFor inputKind
	confirm  inputKind
	reason   string
	// pendingRun holds a command answer while its step's phrase is typed.
	pendingRun *steps.AnswerRun

	md   mdCache
	desc map[string]*steps.Description

	// listFocus moves the keys to the step list (tab), whose cursor is listCur: any
	// step can be opened there with its evidence, the finished ones included.
	listFocus bool
	listCur   int

	// stepMode stops the run before each automatic action; ahead is the action waiting
	// for the operator's y (Engine.ActionNext), nil when none waits.
	stepMode bool
	ahead    *steps.Prompt
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
	inputAbort
)

func newRunPage(a *app, src runSource) *runPage {
	return &runPage{a: a, src: src, output: map[string]*scrollView{}, copyP: map[string]copyState{},
		waiting: map[string]waitState{}, desc: map[string]*steps.Description{}, stepMode: src.stepMode,
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
	if p.inputFor != inputNone || p.confirm != inputNone {
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

// runbookOfJournal finds, in the catalogue, the runbook of the run in journal path.
func runbookOfJournal(catalog []*steps.Runbook, path string) (*steps.Runbook, error) {
	r, err := journal.Load(path, func(s *steps.Session) (*steps.Runbook, error) {
		for _, rb := range catalog {
			if rb.ID == s.Runbook {
				return rb, nil
			}
		}
		return nil, fmt.Errorf("runbook %s of %s is not known to this cutover", s.Runbook, path)
	})
	if err != nil {
		return nil, err
	}
	return r.Runbook, nil
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
	case aheadMsg:
		if msg.d != p.d {
			return p, nil
		}
		if msg.p == nil || !p.stepMode {
			return p, p.d.advance() // nothing to ask about: still busy, go on
		}
		p.busy, p.ahead = false, msg.p
		return p, nil
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
		p.notice = p.a.st.Fail.Render(sanitizeErr(r.err))
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
	return p.goOn()
}

// goOn performs the next transition; in step mode it first looks whether that runs an
// automatic action, which then waits for the operator's y.
func (p *runPage) goOn() tea.Cmd {
	p.busy = true
	if p.stepMode {
		return p.d.ahead()
	}
	return p.d.advance()
}

// runAhead runs the action step mode held (y), or, with step mode turned off, goes on.
func (p *runPage) runAhead() tea.Cmd {
	p.ahead, p.busy, p.notice = nil, true, ""
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
			delete(p.waiting, steps.WaitKey(ev.Step, ev.Check.Phase, ev.Check.Index))
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
		p.waiting[steps.WaitKey(pr.Step, pr.Phase, pr.Gate)] = waitState{p: pr, at: p.a.now()}
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
		d = &steps.Description{Text: sanitizeErr(err)}
	}
	p.desc[id] = d
	return d
}
