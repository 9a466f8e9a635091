package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/sahilm/fuzzy"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/steps"
)

// home lists the hosts, with their probe state refreshed in the background, and the
// runbooks, filtered as the operator types. Its frame costs the same for 5 hosts or
// 5,000: only the visible rows are drawn, and the warnings are gathered once per probe.
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
	hostRows   int      // host rows shown in the last frame, for paging
	targets    []string // what the filter matches against, one per runbook
}

func newHome(a *app) *home {
	h := &home{a: a}
	for _, rb := range a.catalog {
		h.targets = append(h.targets, runbookLine(rb))
	}
	h.refilter()
	return h
}

// runbookLine is the text a runbook is shown and matched as: id, title and system, and
// for a site's runbook the folder it was found in.
func runbookLine(rb *steps.Runbook) string {
	line := rb.ID + "  " + rb.Title + "  (" + rb.System + ")"
	if rb.Origin != "" {
		line += "  [site: " + rb.Origin + "]"
	}
	return sanitize(line)
}

func (h *home) Init() tea.Cmd { return h.a.probeHosts() }

func (h *home) Title() string { return "hosts and runbooks" }

// Capture: with the runbook list focused, letters filter it.
func (h *home) Capture() capture {
	if h.focusHosts {
		return captureNone
	}
	return captureLetters
}

func (h *home) Help() []key.Binding {
	k := h.a.keys
	if h.focusHosts {
		tab := k.Tab
		tab.SetHelp("tab", "to runbooks")
		return bindings(k.Up, k.Down, tab, k.Refresh)
	}
	tab := k.Tab
	tab.SetHelp("tab", "to hosts")
	open := k.Open
	open.SetHelp("enter", "open runbook")
	return bindings(k.Filter, k.ListUp, k.ListDown, open, k.ClearFilter, tab)
}

func (h *home) FullHelp() [][]key.Binding {
	k := h.a.keys
	open := k.Open
	open.SetHelp("enter", "open runbook")
	back := k.Back
	back.SetHelp("esc", "back to runbooks")
	return [][]key.Binding{
		{k.Filter, k.ListUp, k.ListDown, open, k.ClearFilter, k.Refresh},
		{k.Tab, k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, back},
	}
}

func (h *home) Update(msg tea.Msg) (page, tea.Cmd) {
	switch msg := msg.(type) {
	case runbookOpenedMsg:
		return h, msg.open(h, h.a)
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
		return h.a.probeHosts()
	}
	if h.focusHosts {
		n := len(h.a.inv.Hosts)
		page := max(h.hostRows-1, 1)
		switch {
		case key.Matches(msg, k.Up):
			h.hostCur--
		case key.Matches(msg, k.Down):
			h.hostCur++
		case key.Matches(msg, k.PageUp):
			h.hostCur -= page
		case key.Matches(msg, k.PageDown):
			h.hostCur += page
		case key.Matches(msg, k.Top):
			h.hostCur = 0
		case key.Matches(msg, k.Bottom):
			h.hostCur = n - 1
		case key.Matches(msg, k.Back):
			h.focusHosts = false
		}
		h.hostCur = min(max(h.hostCur, 0), max(n-1, 0))
		return nil
	}
	switch {
	case key.Matches(msg, k.ListUp):
		h.cursor = max(h.cursor-1, 0)
	case key.Matches(msg, k.ListDown):
		h.cursor = min(h.cursor+1, max(len(h.matches)-1, 0))
	case key.Matches(msg, k.Open):
		if h.cursor < len(h.matches) {
			return openRunbook(h.a, h.a.catalog[h.matches[h.cursor].Index])
		}
	case key.Matches(msg, k.ClearFilter):
		h.filter = ""
		h.refilter()
	case msg.Code == tea.KeyBackspace:
		if h.filter != "" {
			r := []rune(h.filter)
			h.filter = string(r[:len(r)-1])
			h.refilter()
		}
	case msg.Text != "" && msg.Mod&^tea.ModShift == 0:
		h.filter += msg.Text
		h.refilter()
	}
	return nil
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
	var hosts []*probe.Host
	if h.a.inv != nil {
		hosts = h.a.inv.Hosts
	}
	var b strings.Builder
	status := fmt.Sprintf("Hosts (%d)", len(hosts))
	switch {
	case h.a.probing:
		status += "  " + st.Wait.Render(h.a.spin.View()+" probing")
	case !h.a.probed.IsZero():
		status += st.Subtle.Render("  probed at " + h.a.probed.Format("15:04:05") + ", again every " + shortDuration(h.a.cfg.ProbeEvery))
	}
	b.WriteString(h.heading(status, h.focusHosts) + "\n")

	// The warnings: the selected host's while the host list has focus, else the first
	// of all and how many more. At most three lines.
	var warn []string
	if h.focusHosts && h.hostCur < len(hosts) {
		if f := h.a.facts[hosts[h.hostCur].Name]; f != nil {
			for _, w := range f.Warnings {
				warn = append(warn, sanitize(hosts[h.hostCur].Name+": "+w))
			}
		}
	} else {
		warn = h.a.warnings
	}
	var warnLines []string
	if len(warn) > 0 {
		warnLines = strings.Split(wrap("⚠ "+warn[0], w), "\n")
		if len(warnLines) > 2 {
			warnLines = append(warnLines[:1], truncate(strings.Join(warnLines[1:], " "), w))
		}
		if len(warn) > 1 {
			more := fmt.Sprintf("  and %d more warnings", len(warn)-1)
			if !h.focusHosts {
				more += ": tab, then the hosts marked ⚠ show theirs"
			}
			warnLines = append(warnLines, truncate(more, w))
		}
	}

	// Both lists in full when they fit; else the hosts get what the runbooks leave, but
	// never less than two fifths of the rows (one of them then says where the window is).
	total := ht - 3 - len(warnLines) // the two headings and the blank line between
	rows := len(hosts)
	if len(hosts)+max(len(h.matches), 1) > total {
		rows = min(len(hosts), max(total-max(len(h.matches), 1), total*2/5))
		if rows < len(hosts) {
			rows = max(rows-1, 1)
		}
	}
	h.hostRows = rows
	if h.hostCur < h.hostTop {
		h.hostTop = h.hostCur
	}
	if h.hostCur >= h.hostTop+rows {
		h.hostTop = h.hostCur - rows + 1
	}
	h.hostTop = min(h.hostTop, max(len(hosts)-rows, 0))
	for i := h.hostTop; i < min(h.hostTop+rows, len(hosts)); i++ {
		row := h.hostRow(hosts[i], w-2)
		if h.focusHosts && i == h.hostCur {
			b.WriteString(cursorLine(st, true, st.Selected.Render(ansi.Strip(row))) + "\n")
		} else {
			b.WriteString("  " + row + "\n")
		}
	}
	if rows < len(hosts) {
		b.WriteString(st.Subtle.Render(fmt.Sprintf("  %d-%d of %d hosts (tab, then ↑/↓ pgup/pgdn)",
			h.hostTop+1, h.hostTop+rows, len(hosts))) + "\n")
	}
	for _, l := range warnLines {
		b.WriteString(st.Warn.Render(l) + "\n")
	}
	b.WriteString("\n")
	filter := sanitize(h.filter)
	if !h.focusHosts {
		filter += "▏"
	}
	b.WriteString(h.heading(fmt.Sprintf("Runbooks (%d of %d)", len(h.matches), len(h.targets)), !h.focusHosts) +
		"  " + st.Subtle.Render("filter: ") + filter + "\n")
	used := strings.Count(b.String(), "\n")
	rbRows := max(ht-used, 1)
	top := max(h.cursor-rbRows+1, 0)
	if len(h.matches) == 0 {
		b.WriteString(st.Subtle.Render("  no runbook matches \"" + sanitize(h.filter) + "\" (esc clears the filter)"))
	}
	for i := top; i < min(top+rbRows, len(h.matches)); i++ {
		m := h.matches[i]
		line := truncate(highlight(m.Str, m.MatchedIndexes, st.Match), w-2)
		b.WriteString(cursorLine(st, i == h.cursor && !h.focusHosts, line) + "\n")
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
	name := fmt.Sprintf("%-10s", truncate(sanitize(hh.Name), 10))
	switch {
	case f == nil:
		return st.Faint.Render("○ " + name + " not probed yet")
	case !f.Reachable:
		return st.Fail.Render("✗ "+name) + " " + st.Fail.Render(truncate("unreachable: "+sanitize(f.Error), w-13))
	}
	comps := sanitize(strings.Join(f.Components, ","))
	if comps == "" {
		comps = "-"
	}
	clock := fmt.Sprintf("clock %+dms", f.ClockOffset.Milliseconds())
	if d := f.ClockOffset; d > time.Second || d < -time.Second {
		clock = st.Warn.Render(clock + " ⚠")
	}
	mark := st.Pass.Render("●")
	if len(f.Warnings) > 0 {
		mark = st.Warn.Render("⚠")
	}
	return truncate(fmt.Sprintf("%s %s %-22s %-12s %s", mark, name, truncate(sanitize(f.Hostname), 22), truncate(comps, 12), clock), w)
}

// highlight styles the characters of s at the given byte offsets (as fuzzy reports them).
func highlight(s string, idx []int, style lipgloss.Style) string {
	if len(idx) == 0 {
		return s
	}
	set := make(map[int]bool, len(idx))
	for _, i := range idx {
		set[i] = true
	}
	var b strings.Builder
	for i, r := range s {
		if set[i] {
			b.WriteString(style.Render(string(r)))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// shortDuration writes 30s, 5m or 1h rather than 1h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
