package tui

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/tui/styles"
)

// capture says how much of the keyboard a page takes for text.
type capture int

const (
	// captureNone: q quits and ? shows every key.
	captureNone capture = iota
	// captureLetters: letters go to the page (a type-ahead filter), so q is a letter;
	// ? still shows every key.
	captureLetters
	// captureText: a text field has focus and takes every printable key.
	captureText
)

// page is one screen of the wizard. The root model routes messages to the pages and
// draws the frame (title bar, help bar, the quit question) around the top page's body.
type page interface {
	Init() tea.Cmd
	Update(msg tea.Msg) (page, tea.Cmd)
	// View renders the body into exactly width x height cells (the root cuts or pads
	// whatever it returns, so a page can never push the help bar off the screen).
	View(width, height int) string
	Title() string
	// Help lists the keys that work now; FullHelp groups every key of the page.
	Help() []key.Binding
	FullHelp() [][]key.Binding
	Capture() capture
}

// app is what the pages share: configuration, looks, keys and what is known of the
// hosts. Only the root model and the pages change it, always from Update.
type app struct {
	cfg  Config
	keys KeyMap
	st   styles.Styles
	inv  *inventory.Inventory
	// lab is the practice lab the wizard works in (started from the offer, or the
	// inventory's), nil outside one.
	lab    *Lab
	facts  map[string]*probe.Facts
	probed time.Time
	// warnings are the probe's warnings, "host: text", gathered once per probe so the
	// home screen does not walk every host on every frame.
	warnings []string
	// catalog is every runbook the wizard offers.
	catalog []*steps.Runbook
	// probing is set while a background probe runs; probeGen numbers the probes, so a
	// late tick of an old round cannot start a second one.
	probing  bool
	probeGen int
	// spin is the one spinner: every page that waits shows its frame.
	spin spinner.Model
	// active is the run being shown, if any: quitting asks first while it has not ended.
	active *driver
	now    func() time.Time
}

// root is the router: a stack of pages plus the frame.
type root struct {
	a        *app
	stack    []page
	w, h     int
	fullHelp bool
	// asking is set while the "quit during a run?" question is open.
	asking bool
	// stopping is set once quitting has begun: the run is being stopped safely.
	stopping string
}

func newRoot(a *app, first page) *root {
	return &root{a: a, stack: []page{first}, w: 80, h: 24}
}

func (r *root) top() page { return r.stack[len(r.stack)-1] }

func (r *root) Init() tea.Cmd {
	return tea.Batch(tea.RequestBackgroundColor, r.a.spin.Tick, r.top().Init())
}

func (r *root) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		r.w, r.h = msg.Width, msg.Height
		return r, nil
	case tea.BackgroundColorMsg:
		r.a.setDark(msg.IsDark()) // and on to the pages: a huh form follows it too
	case spinner.TickMsg:
		var cmd tea.Cmd
		r.a.spin, cmd = r.a.spin.Update(msg)
		return r, cmd
	case probeTickMsg:
		if msg.gen == r.a.probeGen {
			return r, r.a.probeHosts()
		}
		return r, nil
	case pushMsg:
		if msg.from != r.top() {
			return r, nil
		}
		r.stack = append(r.stack, msg.p)
		return r, msg.p.Init()
	case popMsg:
		if len(r.stack) > 1 {
			r.stack = r.stack[:len(r.stack)-1]
		}
		return r, nil
	case replaceMsg:
		if msg.from != r.top() {
			return r, nil
		}
		r.stack[len(r.stack)-1] = msg.p
		return r, msg.p.Init()
	case swapMsg:
		for i, p := range r.stack {
			if p == msg.old {
				r.stack = append(r.stack[:i], msg.new)
				return r, msg.new.Init()
			}
		}
		return r, nil
	case homeMsg:
		h := newHome(r.a)
		r.stack = []page{h}
		return r, h.Init()
	case signalMsg:
		// The console is gone or the system is stopping: no one can answer a question.
		r.asking = false
		return r, r.quit("received " + msg.name)
	case quitMsg:
		return r, tea.Quit
	case factsMsg:
		if msg.gen != r.a.probeGen {
			return r, nil // an old round, overtaken by a newer one
		}
		r.a.probing = false
		r.a.setFacts(msg.facts)
		gen := r.a.probeGen
		next := tea.Tick(r.a.cfg.ProbeEvery, func(time.Time) tea.Msg { return probeTickMsg{gen: gen} })
		return r, tea.Batch(next, r.broadcast(msg))
	case tea.KeyPressMsg:
		return r, r.key(msg)
	}
	return r, r.broadcast(msg)
}

// broadcast hands a message that is not a key to every page: a probe result or an
// engine event may concern a page below the top one (the step screen under its
// evidence page).
func (r *root) broadcast(msg tea.Msg) tea.Cmd {
	var cmds []tea.Cmd
	for i, p := range r.stack {
		np, c := p.Update(msg)
		r.stack[i] = np
		cmds = append(cmds, c)
	}
	return tea.Batch(cmds...)
}

func (r *root) key(msg tea.KeyPressMsg) tea.Cmd {
	k := r.a.keys
	if r.asking {
		switch {
		case key.Matches(msg, k.Yes), key.Matches(msg, k.ForceQuit):
			r.asking = false
			return r.quit("quitting")
		case key.Matches(msg, k.No):
			r.asking = false
		}
		return nil
	}
	if r.stopping != "" {
		if key.Matches(msg, k.ForceQuit) && r.a.active != nil {
			r.a.active.kill()
			r.stopping = "stopping the action in flight, then quitting"
		}
		return nil
	}
	c := r.top().Capture()
	switch {
	case key.Matches(msg, k.ForceQuit), c == captureNone && key.Matches(msg, k.Quit):
		if r.a.running() {
			r.asking = true
			return nil
		}
		return r.quit("quitting")
	case c != captureText && key.Matches(msg, k.Help):
		r.fullHelp = !r.fullHelp
		return nil
	}
	p, cmd := r.top().Update(msg)
	r.stack[len(r.stack)-1] = p
	return cmd
}

// quit stops the active run at a safe point (an action in flight finishes and its
// result is recorded), then ends the program.
func (r *root) quit(why string) tea.Cmd {
	d := r.a.active
	if d == nil {
		return tea.Quit
	}
	r.stopping = why + ": stopping the run at a safe point…"
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
		return st.Fail.Render(wrap("cutover needs a terminal of at least 40x10.", r.w))
	}
	top := r.top()
	title := st.Bar.Render("cutover") + " "
	if r.a.lab != nil {
		title += st.Warn.Render("[practice lab]") + " "
	}
	title += st.Title.Render(sanitize(top.Title()))
	var footer []string
	switch {
	case r.stopping != "":
		footer = []string{st.Warn.Render(truncate(r.stopping+" (ctrl+c again stops the action in flight)", r.w))}
	case r.asking:
		yes, no, again := r.a.keys.Yes, r.a.keys.No, r.a.keys.ForceQuit
		yes.SetHelp("y", "quit: stop the run safely")
		no.SetHelp("n/esc", "stay")
		again.SetHelp("ctrl+c", "quit")
		footer = helpBar(st, r.w, []key.Binding{yes, again, no})
	case r.fullHelp:
		footer = fullHelp(st, r.w, append(top.FullHelp(), r.globalKeys(top)))
	default:
		footer = helpBar(st, r.w, append(top.Help(), r.globalKeys(top)...))
	}
	// The help bar may take at most half the screen; the body gets the rest.
	if most := r.h / 2; len(footer) > most {
		footer = footer[:most]
	}
	bodyH := r.h - 1 - len(footer)
	var body string
	if r.asking {
		body = r.modal(bodyH)
	} else {
		body = top.View(r.w, bodyH)
	}
	return screenSafe(truncate(title, r.w) + "\n" + fit(body, r.w, bodyH) + "\n" + strings.Join(footer, "\n"))
}

// globalKeys are the root's keys that work on top of page p: help (unless a text
// field takes "?") and quit (ctrl+c while the page takes letters).
func (r *root) globalKeys(p page) []key.Binding {
	k := r.a.keys
	quit := k.Quit
	if p.Capture() != captureNone {
		quit = k.ForceQuit
	}
	if r.a.running() {
		quit.SetHelp(quit.Help().Key, "quit (asks)")
	}
	if p.Capture() == captureText {
		return []key.Binding{quit}
	}
	help := k.Help
	if r.fullHelp {
		help.SetHelp("?", "fewer keys")
	}
	return []key.Binding{help, quit}
}

func (r *root) modal(h int) string {
	st := r.a.st
	w := min(r.w-4, 72)
	box := func(text string) string { return st.Modal.Width(w).Render(wrap(text, w-4)) }
	keys := "\n\n" + st.Key.Render("y") + " quit   " + st.Key.Render("n") + " stay"
	var out string
	if r.a.opening() {
		out = box(st.Title.Render("Quit now?") + "\n\n" +
			"The run is being opened: nothing has run on any host yet. Quitting stops the opening." + keys)
	} else {
		head := st.Title.Render("Quit now?") + "\n\n" +
			"The run stops at a safe point: an action in flight finishes and its result is recorded.\n\n"
		tail := "Continue it later with:\n\n  cutover resume " + sanitize(r.a.active.journalPath()) + keys
		out = box(head + tail)
		if rp := r.activePage(); rp != nil && rp.state != nil {
			// The account of what the run did can be long (a pre-seeded copy says how its
			// data travels): it gets the rows the box leaves free on the screen, naming
			// fewer of the things done until it fits, so the box stays whole and the way
			// to continue and the keys always show.
			var lines []string
			for n := 3; n >= 0; n-- {
				lines = strings.Split(wrap(hostsLeftNaming(rp.state, rp.current(), rp.busy, n), w-4), "\n")
				if lipgloss.Height(out)+2+len(lines) <= h {
					break
				}
			}
			if room := h - lipgloss.Height(out) - 2; room > 0 {
				if len(lines) > room {
					lines = append(lines[:room-1], "…")
				}
				out = box(head + strings.Join(lines, "\n") + "\n\n" + tail)
			}
		}
	}
	return lipgloss.Place(r.w, h, lipgloss.Center, lipgloss.Center, out)
}

// activePage is the step screen of the active run, if it is open.
func (r *root) activePage() *runPage {
	for _, p := range r.stack {
		if rp, ok := p.(*runPage); ok && rp.d != nil && rp.d == r.a.active {
			return rp
		}
	}
	return nil
}

// fit pads or cuts a block of text to exactly w x h cells.
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

// running reports whether a run is open (or opening) and has not ended: quitting asks
// first.
func (a *app) running() bool {
	return a.active != nil && !a.active.ended()
}

// opening reports whether the active run is still being opened (the model has not had
// its runOpenedMsg yet).
func (a *app) opening() bool {
	return a.active != nil && !a.active.opened
}

func (a *app) setFacts(fs []*probe.Facts) {
	if a.facts == nil {
		a.facts = map[string]*probe.Facts{}
	}
	for _, f := range fs {
		a.facts[f.Name] = f
	}
	a.warnings = a.warnings[:0]
	if a.inv != nil {
		for _, h := range a.inv.Hosts {
			if f := a.facts[h.Name]; f != nil {
				for _, w := range f.Warnings {
					a.warnings = append(a.warnings, sanitize(h.Name+": "+w))
				}
			}
		}
	}
	a.probed = a.now()
}

// probeHosts starts a background probe of every host, unless one is running, there is
// no inventory, or a run is open (its hosts are busy, and the run has its own facts).
func (a *app) probeHosts() tea.Cmd {
	if a.probing || a.inv == nil || a.running() {
		return nil
	}
	a.probing = true
	a.probeGen++
	gen, hosts, d, implicit := a.probeGen, a.inv.Hosts, a.cfg.Dialer, a.inv.Implicit
	return func() tea.Msg {
		pool := probe.NewPool(d)
		defer pool.Close()
		pr := &probe.Prober{Pool: pool, Timeout: 15 * time.Second, Parallel: 64, NoLocalServices: implicit}
		return factsMsg{facts: pr.ProbeAll(bgContext(), hosts), gen: gen}
	}
}

func (a *app) setDark(dark bool) {
	if dark != a.st.Dark {
		a.st = styles.New(dark)
	}
}
