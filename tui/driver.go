package tui

import (
	"context"
	"sync"

	tea "charm.land/bubbletea/v2"

	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/runner"
)

// driver owns a run's engine for the TUI. The engine is not safe for concurrent use,
// so every call to it happens inside a tea.Cmd that holds the driver's lock; the model
// never touches the engine, and learns what happened from messages: the events the
// engine recorded (folded into the page's own RunState, as the journal would be) and
// the outcome of each call (the open prompt, or the end of the run).
type driver struct {
	mu  sync.Mutex // held for every engine call
	run *runner.Run

	// soft stops waiting gates at once and the run at the next safe point; hard also
	// stops an action in flight.
	soft, hard             context.Context
	cancelSoft, cancelHard context.CancelFunc

	// The observer queues events here; listen hands them to the model in batches, so the
	// engine never blocks on a slow screen and nothing is dropped.
	qmu     sync.Mutex
	queue   []tea.Msg
	notify  chan struct{}
	stopped chan struct{}

	// opened and done are set by the model (never by a command) once it has the opened
	// run, and once it has seen the run end.
	opened, done bool
}

// ended reports whether the model has seen the run end.
func (d *driver) ended() bool { return d.done }

func newDriver() *driver {
	d := &driver{notify: make(chan struct{}, 1), stopped: make(chan struct{})}
	d.soft, d.cancelSoft = context.WithCancel(context.Background())
	d.hard, d.cancelHard = context.WithCancel(context.Background())
	return d
}

// Event queues an engine event (steps.Observer).
func (d *driver) Event(ev *steps.Event) { d.push(eventMsg{ev: ev}) }

// Progress queues live progress (steps.Observer). Output lines and countdowns are only
// for the screen, so a full queue may coalesce them; it never blocks the engine.
func (d *driver) Progress(p steps.Progress) { d.push(progressMsg{p: p}) }

func (d *driver) push(m tea.Msg) {
	d.qmu.Lock()
	d.queue = append(d.queue, m)
	d.qmu.Unlock()
	select {
	case d.notify <- struct{}{}:
	default:
	}
}

// listen waits for queued messages and delivers them as one batch; the page re-arms it
// after each batch, so exactly one listener runs at a time.
func (d *driver) listen() tea.Cmd {
	return func() tea.Msg {
		select {
		case <-d.notify:
		case <-d.stopped:
			return nil
		}
		d.qmu.Lock()
		batch := d.queue
		d.queue = nil
		d.qmu.Unlock()
		return engineBatchMsg{d: d, msgs: batch}
	}
}

// engineResult is the outcome of one engine call: the error, the question now open,
// whether the run has ended, and the sequence number of the last event recorded by
// then, so the page can wait for that event before it shows the question.
type engineResult struct {
	d        *driver
	err      error
	prompt   *steps.Prompt
	finished bool
	seq      int
}

// advance performs one transition.
func (d *driver) advance() tea.Cmd {
	return func() tea.Msg {
		d.mu.Lock()
		defer d.mu.Unlock()
		err := d.run.Engine.Advance(d.soft)
		return advancedMsg(d.result(err))
	}
}

// ahead looks, without changing anything, at whether the next transition runs an
// automatic action (step mode asks first).
func (d *driver) ahead() tea.Cmd {
	return func() tea.Msg {
		d.mu.Lock()
		defer d.mu.Unlock()
		return aheadMsg{d: d, p: d.run.Engine.ActionNext()}
	}
}

// decide records a decision.
func (d *driver) decide(dec steps.Decision) tea.Cmd {
	return func() tea.Msg {
		d.mu.Lock()
		defer d.mu.Unlock()
		err := d.run.Engine.Decide(dec)
		return decidedMsg(d.result(err))
	}
}

// state asks where the run stands without changing anything (used right after a run
// is opened, and after a resume).
func (d *driver) state() tea.Cmd {
	return func() tea.Msg {
		d.mu.Lock()
		defer d.mu.Unlock()
		return advancedMsg(d.result(nil))
	}
}

func (d *driver) result(err error) engineResult {
	e := d.run.Engine
	return engineResult{d: d, err: err, prompt: e.Prompt(), finished: e.Finished(), seq: e.State().LastSeq}
}

// stop asks the run to stop at the next safe point and waits until no engine call is
// in flight, then closes the journal and connections. An action in flight finishes and
// its result is recorded first, so the journal is consistent and the run resumes.
func (d *driver) stop() {
	d.cancelSoft()
	d.mu.Lock()
	defer d.mu.Unlock()
	select {
	case <-d.stopped:
	default:
		close(d.stopped)
		if d.run != nil {
			_ = d.run.Close()
		}
	}
}

// kill also interrupts an action in flight (a second request to quit).
func (d *driver) kill() { d.cancelHard() }

// journalPath names the run's journal, for messages ("" while the run is opening).
// Read it only from the model, once the run has opened, or after stop.
func (d *driver) journalPath() string {
	if d.run == nil || d.run.Journal == nil {
		return ""
	}
	return d.run.Journal.Path()
}
