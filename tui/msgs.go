package tui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/steps"
)

// Messages. Engine messages carry the step id in their event or progress, so a page
// shows them against the right step.
type (
	// eventMsg is one recorded engine event.
	eventMsg struct{ ev *steps.Event }
	// progressMsg is live output, copy progress or a gate's countdown.
	progressMsg struct{ p steps.Progress }
	// engineBatchMsg delivers a driver's queued engine messages in order.
	engineBatchMsg struct {
		d    *driver
		msgs []tea.Msg
	}
	// advancedMsg and decidedMsg report the outcome of an engine call.
	advancedMsg engineResult
	decidedMsg  engineResult
	// aheadMsg says which automatic action the next transition runs (nil: none), for
	// step mode.
	aheadMsg struct {
		d *driver
		p *steps.Prompt
	}

	// factsMsg carries a probe of the inventory.
	factsMsg struct {
		facts []*probe.Facts
		gen   int // which probe round, so a slow old probe cannot overwrite a newer one
	}
	// probeTickMsg asks for the next background probe.
	probeTickMsg struct{ gen int }

	// labStartedMsg says the in-process practice lab is serving.
	labStartedMsg struct{ lab *Lab }
	// exportedMsg says where a checklist was written.
	exportedMsg struct {
		path string
		err  error
	}
	// savedMsg says where a run file was written.
	savedMsg struct {
		path string
		err  error
	}
	// labFailedMsg says why the practice lab did not start.
	labFailedMsg struct{ err error }

	// pushMsg opens page p on top of page from; replaceMsg puts p in from's place. Both
	// are dropped when from is no longer the top page: a key pressed twice before the
	// first press took effect (s on the plan review) must not open two pages (start two
	// runs). popMsg closes the top page; homeMsg starts over at a fresh home page.
	pushMsg    struct{ from, p page }
	popMsg     struct{}
	replaceMsg struct{ from, p page }
	homeMsg    struct{}
	// swapMsg puts new in the place of old, closing the pages above old (the step
	// screen becomes the summary even while its evidence page is open).
	swapMsg struct{ old, new page }
	// quitMsg ends the program after any run has stopped safely.
	quitMsg struct{}
	// signalMsg reports SIGHUP or SIGTERM: the console is gone or the system is going
	// down, so the run stops at a safe point without asking.
	signalMsg struct{ name string }
)

func push(from, p page) tea.Cmd    { return func() tea.Msg { return pushMsg{from, p} } }
func replace(from, p page) tea.Cmd { return func() tea.Msg { return replaceMsg{from, p} } }
func pop() tea.Msg                 { return popMsg{} }
func goHome() tea.Msg              { return homeMsg{} }
