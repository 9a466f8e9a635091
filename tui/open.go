package tui

// Opening a runbook from home: an unfinished run of it on this inventory is offered for
// resuming; otherwise its setup opens.

import (
	tea "charm.land/bubbletea/v2"

	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
)

// openRunbook looks for an unfinished run of a runbook on this inventory in the
// journal folder (I/O, so in a command); the page that receives runbookOpenedMsg opens
// the resume offer or the setup.
func openRunbook(a *app, rb *steps.Runbook) tea.Cmd {
	dir := a.cfg.JournalDir
	inv := ""
	if a.inv != nil {
		inv = a.inv.File
	}
	return func() tea.Msg {
		path, st := unfinishedRun(dir, rb.ID, inv)
		return runbookOpenedMsg{rb: rb, unfinished: path, state: st}
	}
}

// runbookOpenedMsg says a runbook was chosen, and names its unfinished run, if any.
type runbookOpenedMsg struct {
	rb         *steps.Runbook
	unfinished string
	state      *steps.RunState
}

// open builds the page for a chosen runbook (in Update: pages read the shared facts),
// to go on top of page from.
func (m runbookOpenedMsg) open(from page, a *app) tea.Cmd {
	if m.unfinished != "" {
		return push(from, newResumeOffer(a, m.rb, m.unfinished, m.state))
	}
	return push(from, newSetupPage(a, m.rb))
}

// unfinishedRun finds the newest journal in dir of a run of id on inventory inv that
// has not ended. A run on another inventory (another site, another practice lab) is not
// this one to resume, however alike its runbook; without an inventory there is none.
func unfinishedRun(dir, id, inv string) (string, *steps.RunState) {
	if inv == "" {
		return "", nil
	}
	r, err := journal.Latest(dir, id, inv, journal.Unfinished)
	if err != nil {
		return "", nil
	}
	return r.Path(), r.State
}
