package tui

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/tui/styles"
)

// page is one screen of the wizard. The root model routes messages to the top page and
// draws the frame (title bar, help bar, modal questions) around its body.
type page interface {
	Init() tea.Cmd
	Update(msg tea.Msg) (page, tea.Cmd)
	// View renders the body into width x height cells.
	View(width, height int) string
	Title() string
	ShortHelp() []key.Binding
	FullHelp() [][]key.Binding
	// Capturing reports whether the page is taking text, so letters go to it and not to
	// the global keys (q, ?).
	Capturing() bool
}

// app is what the pages share: configuration, looks, keys and what is known of the
// hosts. Only the root model and pages change it, always from Update.
type app struct {
	cfg    Config
	keys   KeyMap
	st     styles.Styles
	inv    *inventory.Inventory
	lab    *lab.Lab
	facts  map[string]*probe.Facts
	probed time.Time
	// catalog is every runbook the wizard offers.
	catalog []*steps.Runbook
	// active is the run in progress, if any: quitting asks first while it is set and
	// the run has not ended.
	active   *driver
	runEnded bool
	now      func() time.Time
}

// root is the router: a stack of pages plus the frame.
type root struct {
	a        *app
	stack    []page
	w, h     int
	help     help.Model
	fullHelp bool
	// asking is set while the "quit during a run?" question is open.
	asking bool
	// stopping is set once quitting has begun; the run is being stopped safely.
	stopping string
}

func newRoot(a *app, first page) *root {
	h := help.New()
	h.Styles.ShortKey = a.st.Key
	h.Styles.ShortDesc = a.st.Help
	h.Styles.FullKey = a.st.Key
	h.Styles.FullDesc = a.st.Help
	h.Styles.ShortSeparator = a.st.Help
	h.Styles.FullSeparator = a.st.Help
	h.Styles.Ellipsis = a.st.Help
	return &root{a: a, stack: []page{first}, help: h, w: 80, h: 24}
}

func (r *root) top() page { return r.stack[len(r.stack)-1] }

func (r *root) Init() tea.Cmd { return r.top().Init() }

func (r *root) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		r.w, r.h = msg.Width, msg.Height
		r.help.SetWidth(msg.Width)
		return r, nil
	case pushMsg:
		r.stack = append(r.stack, msg.p)
		return r, msg.p.Init()
	case popMsg:
		if len(r.stack) > 1 {
			r.stack = r.stack[:len(r.stack)-1]
		}
		return r, nil
	case replaceMsg:
		r.stack[len(r.stack)-1] = msg.p
		return r, msg.p.Init()
	case signalMsg:
		// The console is gone or the system is stopping: no one can answer a question.
		return r, r.quit("received " + msg.name)
	case quitMsg:
		return r, tea.Quit
	case factsMsg:
		r.a.setFacts(msg.facts)
	case tea.KeyPressMsg:
		if r.asking {
			switch {
			case key.Matches(msg, r.a.keys.Yes):
				r.asking = false
				return r, r.quit("quitting")
			case key.Matches(msg, r.a.keys.No), key.Matches(msg, r.a.keys.ForceQuit):
				r.asking = false
			}
			return r, nil
		}
		if r.stopping != "" {
			if key.Matches(msg, r.a.keys.ForceQuit) && r.a.active != nil {
				r.a.active.kill()
				r.stopping = "stopping the action in flight"
			}
			return r, nil
		}
		capturing := r.top().Capturing()
		switch {
		case key.Matches(msg, r.a.keys.ForceQuit), !capturing && key.Matches(msg, r.a.keys.Quit):
			if !r.a.finished() {
				r.asking = true
				return r, nil
			}
			return r, r.quit("quitting")
		case !capturing && key.Matches(msg, r.a.keys.Help):
			r.fullHelp = !r.fullHelp
			return r, nil
		}
		p, cmd := r.top().Update(msg)
		r.stack[len(r.stack)-1] = p
		return r, cmd
	}
	// Everything that is not a key goes to every page: a probe result or an engine event
	// may concern a page below the top one.
	var cmds []tea.Cmd
	for i, p := range r.stack {
		np, c := p.Update(msg)
		r.stack[i] = np
		cmds = append(cmds, c)
	}
	return r, tea.Batch(cmds...)
}

// quit stops the active run at a safe point (recording the result of an action in
// flight), then ends the program.
func (r *root) quit(why string) tea.Cmd {
	d := r.a.active
	if d == nil {
		return tea.Quit
	}
	r.stopping = why + ": stopping the run at a safe point"
	return func() tea.Msg {
		d.stop()
		return quitMsg{}
	}
}

func (r *root) View() tea.View {
	v := tea.NewView(r.render())
	v.AltScreen = true
	v.WindowTitle = "cutover"
	return v
}

const minWidth, minHeight = 40, 10

func (r *root) render() string {
	st := r.a.st
	if r.w < minWidth || r.h < minHeight {
		return st.Fail.Render("The terminal is too small for cutover (needs 40x10).")
	}
	title := st.Bar.Render("cutover") + " " + st.Title.Render(truncate(r.top().Title(), r.w-12))
	if r.a.lab != nil {
		title += " " + st.Warn.Render("[practice lab]")
	}
	var footer string
	switch {
	case r.stopping != "":
		footer = st.Warn.Render(truncate(r.stopping+" (ctrl+c again stops the action in flight)", r.w))
	case r.fullHelp:
		footer = r.help.FullHelpView(append(r.top().FullHelp(), []key.Binding{r.a.keys.Help, r.quitKey()}))
	default:
		footer = r.help.ShortHelpView(append(r.top().ShortHelp(), r.a.keys.Help, r.quitKey()))
	}
	bodyH := r.h - 1 - lipgloss.Height(footer)
	body := r.top().View(r.w, bodyH)
	if r.asking {
		body = r.modal(bodyH)
	}
	body = fit(body, r.w, bodyH)
	return lipgloss.JoinVertical(lipgloss.Left, truncate(title, r.w), body, footer)
}

// quitKey is the quit key that works now: while a page takes text, q is a letter.
func (r *root) quitKey() key.Binding {
	if r.top().Capturing() {
		return r.a.keys.ForceQuit
	}
	return r.a.keys.Quit
}

func (r *root) modal(h int) string {
	st := r.a.st
	text := "Quit now?\n\nThe run stops at a safe point: an action in flight finishes and is recorded.\n" +
		"Continue later with:\n  cutover resume " + r.a.active.journalPath() + "\n\n" +
		st.Key.Render("y") + " quit   " + st.Key.Render("n") + " stay"
	box := st.Modal.Width(min(r.w-4, 72)).Render(text)
	return lipgloss.Place(r.w, h, lipgloss.Center, lipgloss.Center, box)
}

// fit pads or cuts a block of text to exactly w x h cells, so a page can never push the
// help bar off the screen.
func fit(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:max(h, 0)]
	}
	for i, l := range lines {
		if lipgloss.Width(l) > w {
			lines[i] = truncate(l, w)
		}
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

func (a *app) setFacts(fs []*probe.Facts) {
	if a.facts == nil {
		a.facts = map[string]*probe.Facts{}
	}
	for _, f := range fs {
		a.facts[f.Name] = f
	}
	a.probed = a.now()
}
