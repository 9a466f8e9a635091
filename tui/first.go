package tui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/lab"
)

// firstContact is shown when there is no inventory: it says so and offers the practice
// lab, started in-process.
type firstContact struct {
	a        *app
	starting bool
	err      error
	spin     spinner.Model
}

func newFirstContact(a *app) *firstContact {
	return &firstContact{a: a, spin: spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(a.st.Wait))}
}

func (p *firstContact) Init() tea.Cmd   { return nil }
func (p *firstContact) Title() string   { return "no inventory" }
func (p *firstContact) Capturing() bool { return false }

func (p *firstContact) ShortHelp() []key.Binding {
	if p.starting {
		return nil
	}
	return bindings(p.a.keys.Yes, p.a.keys.No)
}

func (p *firstContact) FullHelp() [][]key.Binding { return [][]key.Binding{p.ShortHelp()} }

func (p *firstContact) Update(msg tea.Msg) (page, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if p.starting {
			return p, nil
		}
		switch {
		case key.Matches(msg, p.a.keys.Yes):
			p.starting, p.err = true, nil
			return p, tea.Batch(p.spin.Tick, startLab(p.a))
		case key.Matches(msg, p.a.keys.No):
			return p, tea.Quit
		}
	case spinner.TickMsg:
		var cmd tea.Cmd
		p.spin, cmd = p.spin.Update(msg)
		return p, cmd
	case labStartedMsg:
		p.a.lab, p.a.inv = msg.lab, msg.inv
		return p, replace(newHome(p.a))
	case errMsg:
		p.starting, p.err = false, msg.err
	}
	return p, nil
}

func (p *firstContact) View(w, h int) string {
	st := p.a.st
	var b strings.Builder
	b.WriteString(st.Title.Render("No inventory found.") + "\n\n")
	b.WriteString(wrap("cutover works on the hosts an inventory lists. Give one with -i FILE, "+
		"or put it in ./cutover.yaml.", w) + "\n\n")
	b.WriteString(wrap("To practise first, cutover can start a practice lab right here: four simulated "+
		"LISTSERV Maestro servers (User Interface, Hub, Tracker and a spare), served over real SSH on "+
		"127.0.0.1. Only the Maestro software is simulated, by small shell scripts.", w) + "\n\n")
	b.WriteString(st.Subtle.Render("Lab folder: "+p.a.labDir()) + "\n\n")
	switch {
	case p.starting:
		b.WriteString(p.spin.View() + " starting the practice lab…")
	default:
		if p.err != nil {
			b.WriteString(st.Fail.Render("The lab did not start: "+p.err.Error()) + "\n\n")
		}
		b.WriteString("Start the practice lab? " + st.Key.Render("y") + " yes   " + st.Key.Render("n") + " no, quit")
	}
	return b.String()
}

// startLab sets up and serves the practice lab in this process, then loads its inventory.
func startLab(a *app) tea.Cmd {
	dir, mk := a.labDir(), a.cfg.LabScenario
	now := a.now()
	return func() tea.Msg {
		if mk == nil {
			return errMsg{fmt.Errorf("this build has no lab scenarios")}
		}
		sc, err := mk(now)
		if err != nil {
			return errMsg{err}
		}
		l, err := lab.Setup(dir, sc, lab.Options{})
		if err != nil {
			return errMsg{err}
		}
		go func() { _ = l.Serve(context.Background()) }() // ends when the app closes the lab
		inv, err := inventory.Load(l.Inventory())
		if err != nil {
			_ = l.Close()
			return errMsg{err}
		}
		return labStartedMsg{lab: l, inv: inv}
	}
}
