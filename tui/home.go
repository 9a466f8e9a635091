package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/sahilm/fuzzy"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/steps"
)

// The runbook list takes letters for its filter, so only the arrows move in it.
var (
	arrowUp   = key.NewBinding(key.WithKeys("up"), key.WithHelp("↑", "up"))
	arrowDown = key.NewBinding(key.WithKeys("down"), key.WithHelp("↓", "down"))
)

// home lists the hosts, with their probe state refreshed in the background, and the
// runbooks, filtered as the operator types.
type home struct {
	a *app
	// focusHosts moves the cursor keys to the host list; otherwise they move in the
	// runbook list and typing filters it.
	focusHosts bool
	filter     string
	matches    []fuzzy.Match // runbooks matching the filter, best first
	cursor     int           // in matches
	hostTop    int           // first host row shown
	hostCur    int
	probing    bool
	gen        int
	spin       spinner.Model
	targets    []string // what the filter matches against, one per runbook
}

func newHome(a *app) *home {
	h := &home{a: a, spin: spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(a.st.Wait))}
	for _, rb := range a.catalog {
		h.targets = append(h.targets, runbookLine(rb))
	}
	h.refilter()
	return h
}

// runbookLine is the text a runbook is shown and matched as.
func runbookLine(rb *steps.Runbook) string {
	return rb.ID + "  " + rb.Title + "  (" + rb.System + ")"
}

func (h *home) Init() tea.Cmd { return h.probe() }

func (h *home) Title() string { return "home: hosts and runbooks" }

// Capturing: with the runbook list focused, letters filter it.
func (h *home) Capturing() bool { return !h.focusHosts }

func (h *home) ShortHelp() []key.Binding {
	k := h.a.keys
	if h.focusHosts {
		return bindings(k.Up, k.Down, k.Tab, k.Refresh)
	}
	return bindings(k.Filter, arrowUp, arrowDown, k.Open, k.Tab)
}

func (h *home) FullHelp() [][]key.Binding {
	k := h.a.keys
	return [][]key.Binding{{k.Filter, k.ClearFilter, arrowUp, arrowDown, k.Open}, {k.Tab, k.PageUp, k.PageDown, k.Refresh}}
}

// probe starts a background probe of every host, unless one is running.
func (h *home) probe() tea.Cmd {
	if h.probing || h.a.inv == nil {
		return nil
	}
	h.probing = true
	h.gen++
	gen, hosts, d := h.gen, h.a.inv.Hosts, h.a.cfg.Dialer
	return tea.Batch(h.spin.Tick, func() tea.Msg {
		pool := probe.NewPool(d)
		defer pool.Close()
		pr := &probe.Prober{Pool: pool, Timeout: 15 * time.Second, Parallel: 64}
		return factsMsg{facts: pr.ProbeAll(bgContext(), hosts), gen: gen}
	})
}

func (h *home) Update(msg tea.Msg) (page, tea.Cmd) {
	switch msg := msg.(type) {
	case factsMsg:
		if msg.gen == h.gen {
			h.probing = false
			gen := h.gen
			return h, tea.Tick(h.a.cfg.ProbeEvery, func(time.Time) tea.Msg { return probeTickMsg{gen: gen} })
		}
	case probeTickMsg:
		if msg.gen == h.gen {
			return h, h.probe()
		}
	case spinner.TickMsg:
		if h.probing {
			var cmd tea.Cmd
			h.spin, cmd = h.spin.Update(msg)
			return h, cmd
		}
	case tea.KeyPressMsg:
		return h, h.key(msg)
	}
	return h, nil
}

func (h *home) key(msg tea.KeyPressMsg) tea.Cmd {
	k := h.a.keys
	switch {
	case key.Matches(msg, k.Tab):
		h.focusHosts = !h.focusHosts
		return nil
	case key.Matches(msg, k.Refresh):
		return h.probe()
	}
	if h.focusHosts {
		n := len(h.a.inv.Hosts)
		switch {
		case key.Matches(msg, k.Up):
			h.hostCur = max(h.hostCur-1, 0)
		case key.Matches(msg, k.Down):
			h.hostCur = min(h.hostCur+1, n-1)
		case key.Matches(msg, k.PageUp):
			h.hostCur = max(h.hostCur-10, 0)
		case key.Matches(msg, k.PageDown):
			h.hostCur = min(h.hostCur+10, n-1)
		case key.Matches(msg, k.Back):
			h.focusHosts = false
		}
		return nil
	}
	switch msg.String() {
	case "up", "ctrl+p":
		h.cursor = max(h.cursor-1, 0)
	case "down", "ctrl+n":
		h.cursor = min(h.cursor+1, len(h.matches)-1)
	case "enter":
		if h.cursor < len(h.matches) {
			return openRunbook(h.a, h.a.catalog[h.matches[h.cursor].Index])
		}
	case "esc":
		h.filter = ""
		h.refilter()
	case "backspace":
		if h.filter != "" {
			_, size := lastRune(h.filter)
			h.filter = h.filter[:len(h.filter)-size]
			h.refilter()
		}
	default:
		if t := msg.Text; t != "" && msg.Mod == 0 || msg.Mod == tea.ModShift && t != "" {
			h.filter += t
			h.refilter()
		}
	}
	return nil
}

func lastRune(s string) (rune, int) {
	r := []rune(s)
	last := r[len(r)-1]
	return last, len(string(last))
}

// refilter matches the runbooks against the filter with fuzzy matching on id, title
// and system; an empty filter lists them all in catalogue order.
func (h *home) refilter() {
	if strings.TrimSpace(h.filter) == "" {
		h.matches = h.matches[:0]
		for i, t := range h.targets {
			h.matches = append(h.matches, fuzzy.Match{Str: t, Index: i})
		}
	} else {
		h.matches = fuzzy.Find(h.filter, h.targets)
	}
	h.cursor = min(h.cursor, max(len(h.matches)-1, 0))
}

func (h *home) View(w, ht int) string {
	st := h.a.st
	hosts := h.a.inv.Hosts
	// The host list gets at most half the screen; the runbooks the rest.
	hostRows := min(len(hosts), max(ht/2-2, 3))
	var b strings.Builder
	status := fmt.Sprintf("Hosts (%d)", len(hosts))
	switch {
	case h.probing:
		status += "  " + h.spin.View() + " probing"
	case !h.a.probed.IsZero():
		status += st.Subtle.Render(fmt.Sprintf("  probed %s ago", h.a.now().Sub(h.a.probed).Round(time.Second)))
	}
	b.WriteString(h.heading(status, h.focusHosts) + "\n")
	if h.hostCur < h.hostTop {
		h.hostTop = h.hostCur
	}
	if h.hostCur >= h.hostTop+hostRows {
		h.hostTop = h.hostCur - hostRows + 1
	}
	var warnings []string
	for i := h.hostTop; i < min(h.hostTop+hostRows, len(hosts)); i++ {
		row := h.hostRow(hosts[i], w-2)
		if h.focusHosts && i == h.hostCur {
			row = st.Selected.Render(ansi.Strip(row))
		}
		b.WriteString("  " + row + "\n")
	}
	for _, hh := range hosts {
		if f := h.a.facts[hh.Name]; f != nil {
			for _, warn := range f.Warnings {
				warnings = append(warnings, hh.Name+": "+warn)
			}
		}
	}
	if len(warnings) > 0 {
		b.WriteString(st.Warn.Render(truncate("⚠ "+warnings[0], w)) + "\n")
		if len(warnings) > 1 {
			b.WriteString(st.Warn.Render(fmt.Sprintf("  and %d more warnings", len(warnings)-1)) + "\n")
		}
	}
	b.WriteString("\n")
	filter := h.filter
	if !h.focusHosts {
		filter += "▏"
	}
	b.WriteString(h.heading(fmt.Sprintf("Runbooks (%d)", len(h.matches)), !h.focusHosts) + "  " + st.Subtle.Render("filter: ") + filter + "\n")
	used := lipgloss.Height(b.String())
	rows := max(ht-used, 1)
	top := max(h.cursor-rows+1, 0)
	if len(h.matches) == 0 {
		b.WriteString(st.Subtle.Render("  no runbook matches \"" + h.filter + "\""))
	}
	for i := top; i < min(top+rows, len(h.matches)); i++ {
		m := h.matches[i]
		line := highlight(m.Str, m.MatchedIndexes, st.Match)
		line = truncate(line, w-2)
		if i == h.cursor && !h.focusHosts {
			b.WriteString(st.Selected.Render(">") + " " + line + "\n")
		} else {
			b.WriteString("  " + line + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func (h *home) heading(s string, focused bool) string {
	if focused {
		return h.a.st.Title.Render(s)
	}
	return h.a.st.Subtle.Render(s)
}

// hostRow renders one host: state, name, host name, components and clock offset.
func (h *home) hostRow(hh *probe.Host, w int) string {
	st := h.a.st
	f := h.a.facts[hh.Name]
	name := fmt.Sprintf("%-10s", hh.Name)
	switch {
	case f == nil:
		return st.Faint.Render("○ " + name + " not probed yet")
	case !f.Reachable:
		return st.Fail.Render("✗ "+name) + " " + st.Fail.Render(truncate("unreachable: "+f.Error, w-14))
	}
	comps := strings.Join(f.Components, ",")
	if comps == "" {
		comps = "-"
	}
	clock := fmt.Sprintf("%+dms", f.ClockOffset.Milliseconds())
	if d := f.ClockOffset; d > time.Second || d < -time.Second {
		clock = st.Warn.Render(clock)
	}
	mark := st.Pass.Render("●")
	if len(f.Warnings) > 0 {
		mark = st.Warn.Render("⚠")
	}
	return truncate(fmt.Sprintf("%s %s %-24s %-12s %s", mark, name, truncate(f.Hostname, 24), comps, clock), w)
}

// highlight styles the characters of s at the given rune indexes.
func highlight(s string, idx []int, style lipgloss.Style) string {
	if len(idx) == 0 {
		return s
	}
	set := make(map[int]bool, len(idx))
	for _, i := range idx {
		set[i] = true
	}
	var b strings.Builder
	for i, r := range []rune(s) {
		if set[i] {
			b.WriteString(style.Render(string(r)))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
