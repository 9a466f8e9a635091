package tui

import (
	"errors"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// firstContact is shown when there is no inventory: it says so and offers the practice
// lab, started in-process.
type firstContact struct {
	a        *app
	starting bool
	err      error
	scenario string // the lab scenario's title
}

func newFirstContact(a *app) *firstContact {
	return &firstContact{a: a, scenario: a.cfg.LabOffer}
}

func (p *firstContact) Init() tea.Cmd    { return nil }
func (p *firstContact) Title() string    { return "no inventory" }
func (p *firstContact) Capture() capture { return captureNone }

func (p *firstContact) Help() []key.Binding {
	if p.starting {
		return nil
	}
	yes, no := p.a.keys.Yes, p.a.keys.No
	yes.SetHelp("y", "start the practice lab")
	no.SetHelp("n/esc", "no, quit")
	return bindings(yes, no)
}

func (p *firstContact) FullHelp() [][]key.Binding { return [][]key.Binding{p.Help()} }

func (p *firstContact) Update(msg tea.Msg) (page, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if p.starting {
			return p, nil
		}
		switch {
		case key.Matches(msg, p.a.keys.Yes):
			p.starting, p.err = true, nil
			return p, startLab(p.a)
		case key.Matches(msg, p.a.keys.No):
			return p, tea.Quit
		}
	case labStartedMsg:
		p.a.lab, p.a.inv = msg.lab, msg.lab.Inventory
		return p, goHome
	case labFailedMsg:
		p.starting, p.err = false, msg.err
	}
	return p, nil
}

func (p *firstContact) View(w, h int) string {
	st := p.a.st
	var b strings.Builder
	b.WriteString(st.Title.Render("No inventory found.") + "\n\n")
	looked := "./cutover.yaml"
	if len(p.a.cfg.InventorySearched) > 0 {
		looked = sanitize(strings.Join(p.a.cfg.InventorySearched, ", "))
	}
	b.WriteString(wrap("cutover works on the hosts an inventory lists, and found none (it looked for "+
		looked+"). Give one with -i FILE.", w) + "\n\n")
	b.WriteString(wrap("To practise first, cutover can start a practice lab right here: simulated hosts "+
		"served over real SSH on 127.0.0.1, where only the vendors' software is simulated, by small shell scripts.", w) + "\n")
	if p.scenario != "" {
		b.WriteString(st.Subtle.Render(wrap("Scenario: "+sanitize(p.scenario), w)) + "\n")
	}
	b.WriteString("\n")
	b.WriteString(st.Subtle.Render(wrap("Lab folder: "+sanitize(p.a.cfg.LabDir), w)) + "\n\n")
	switch {
	case p.starting:
		b.WriteString(st.Wait.Render(p.a.spin.View()) + " starting the practice lab…")
	default:
		if p.err != nil {
			b.WriteString(st.Fail.Render(wrap("The lab did not start: "+sanitizeErr(p.err), w)) + "\n\n")
		}
		b.WriteString("Start the practice lab? " + st.Key.Render("y") + " yes   " + st.Key.Render("n") + " no, quit")
	}
	return b.String()
}

// startLab starts the practice lab through the command line's StartLab, in a command:
// setting up and serving the lab is I/O.
func startLab(a *app) tea.Cmd {
	start := a.cfg.StartLab
	return func() tea.Msg {
		if start == nil {
			return labFailedMsg{errors.New("this build has no practice lab")}
		}
		l, err := start()
		if err != nil {
			return labFailedMsg{err}
		}
		return labStartedMsg{lab: l}
	}
}
