package tui

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/steps"
)

// planPage reviews the plan before anything runs: every step, skipped ones with the
// reason, and the hosts each step acts on. Only its start key starts the run.
type planPage struct {
	a    *app
	plan *steps.Plan
	in   steps.Inputs
	// auto names the roles cutover bound by itself, marked as such.
	auto map[string]bool
	sv   *scrollView
	w    int
	// pv is what the plan would change, read from the hosts when the page opens (nil
	// until the read ends).
	pv *steps.Preview
	// stepMode starts the run in step mode (t): it stops before each automatic action.
	stepMode bool
}

// previewMsg carries the plan's preview, read from the hosts in the background.
type previewMsg struct {
	page *planPage
	pv   *steps.Preview
}

func openPlan(from page, a *app, plan *steps.Plan, in steps.Inputs, auto map[string]bool) tea.Cmd {
	return push(from, &planPage{a: a, plan: plan, in: in, auto: auto, sv: newScrollView(false)})
}

// Init reads what the plan would change from the hosts (current INI values, copy sizes,
// service states, pre-checks), as cutover plan does: reads only, in the background.
func (p *planPage) Init() tea.Cmd {
	if p.a.cfg.Dialer == nil {
		return nil
	}
	plan, d := p.plan, p.a.cfg.Dialer
	return func() tea.Msg {
		pool := probe.NewPool(d)
		defer pool.Close()
		return previewMsg{page: p, pv: steps.PreviewPlan(bgContext(), plan, pool)}
	}
}

func (p *planPage) Title() string    { return "plan review: " + p.plan.Runbook.ID }
func (p *planPage) Capture() capture { return captureNone }

func (p *planPage) Help() []key.Binding {
	k := p.a.keys
	back := k.Back
	back.SetHelp("esc", "back to setup")
	return bindings(k.Start, k.Up, k.Down, k.PageUp, k.PageDown, back)
}

func (p *planPage) FullHelp() [][]key.Binding {
	t := p.a.keys.StepMode
	if p.stepMode {
		t.SetHelp("t", "step mode off (on now)")
	}
	return [][]key.Binding{p.Help(), {t}, p.a.keys.scrollKeys()}
}

func (p *planPage) Update(msg tea.Msg) (page, tea.Cmd) {
	if m, ok := msg.(previewMsg); ok && m.page == p && m.pv != nil {
		p.pv, p.w = m.pv, 0 // rebuilt with the values at the next view
		return p, nil
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return p, nil
	}
	switch {
	case key.Matches(km, p.a.keys.Start):
		return p, replace(p, newRunPage(p.a, runSource{rb: p.plan.Runbook, in: p.in, stepMode: p.stepMode}))
	case key.Matches(km, p.a.keys.StepMode):
		p.stepMode, p.w = !p.stepMode, 0 // the content says so at the next view
		return p, nil
	case key.Matches(km, p.a.keys.Back):
		return p, pop
	}
	p.sv.Key(p.a.keys, km)
	return p, nil
}

// content lists the steps at width w; it is rebuilt only when the width changes.
func (p *planPage) content(w int) []string {
	st := p.a.st
	var out []string
	add := func(s string) { out = append(out, strings.Split(s, "\n")...) }
	kept := 0
	for _, s := range p.plan.Steps {
		if !s.Skip {
			kept++
		}
	}
	add(wrap(fmt.Sprintf("%d steps: %d to do, %d skipped for this setup. Nothing has run; nothing runs until you press s.",
		len(p.plan.Steps), kept, len(p.plan.Steps)-kept), w))
	if p.stepMode {
		add(st.Wait.Render(wrap("Step mode on: the run will stop before each automatic action until you press y (t turns it off).", w)))
	}
	out = append(out, "")
	switch {
	case p.a.cfg.Dialer == nil:
	case p.pv == nil:
		add(st.Subtle.Render(wrap("Reading the current values from the hosts (INI keys, copies, services, pre-checks)…", w)))
		out = append(out, "")
	case !p.pv.CanStart():
		add(st.Fail.Render(wrap("Read from the hosts now, this already fails: "+sanitize(strings.Join(p.pv.Blockers, "; ")), w)))
		out = append(out, "")
	default:
		add(st.Subtle.Render(wrap("Values read from the hosts now: every change below shows what it replaces.", w)))
		out = append(out, "")
	}
	add(st.Subtle.Render(wrap("Every role and its host; check them before you start:", w)))
	out = append(out, p.roleLines(w)...)
	out = append(out, "")
	// Each step: its number and title, then indented what it does and where.
	const indent = "      "
	for i, s := range p.plan.Steps {
		head := fmt.Sprintf("%2d. ", i+1)
		if s.Skip {
			add(st.Faint.Render(hang(head+sanitize(s.Title), w, indent)))
			add(st.Faint.Render(hang(indent+"skipped: "+sanitize(s.Reason), w, indent)))
			continue
		}
		add(hang(head+sanitize(s.Title), w, indent))
		if len(s.Hosts) > 0 {
			out = append(out, st.Subtle.Render(truncate(indent+"on "+sanitize(strings.Join(s.Hosts, ", ")), w)))
		}
		d, err := p.plan.Describe(s.ID)
		if err != nil {
			continue
		}
		if rbs := p.plan.Runbook.Step(s.ID); rbs != nil && rbs.Manual {
			what := "you do it by hand; cutover checks it"
			if d.Phrase != "" {
				what += "; cannot be undone: asks for a typed phrase"
			}
			add(st.Wait.Render(hang(indent+what, w, indent)))
		} else if d.Phrase != "" {
			add(st.Warn.Render(hang(indent+"cannot be undone: asks for a typed phrase", w, indent)))
		}
		if d.Action != nil {
			add(st.Subtle.Render(hang(indent+"does: "+sanitize(d.Action.Summary), w, indent)))
			if d.ActionError != "" {
				add(st.Fail.Render(hang(indent+"cannot: "+sanitize(d.ActionError), w, indent)))
			}
		}
		out = append(out, p.changeLines(s.ID, w, indent)...)
		if len(d.Pre) > 0 {
			add(st.Subtle.Render(hang(indent+"checks first: "+sanitize(strings.Join(d.Pre, "; ")), w, indent)))
		}
		if len(d.Gates) > 0 {
			add(st.Subtle.Render(hang(indent+"gated on: "+sanitize(strings.Join(d.Gates, "; ")), w, indent)))
		}
	}
	return out
}

// changeLines are the step's changes and failing pre-checks as read from the hosts now.
func (p *planPage) changeLines(id string, w int, indent string) []string {
	if p.pv == nil {
		return nil
	}
	st := p.a.st
	var out []string
	for _, sp := range p.pv.Steps {
		if sp.ID != id {
			continue
		}
		for _, c := range sp.Changes {
			out = append(out, strings.Split(hang(indent+"  "+sanitize(c.Text), w, indent+"    "), "\n")...)
		}
		if sp.ActionError != "" && len(sp.Changes) == 0 {
			out = append(out, strings.Split(st.Warn.Render(hang(indent+"  could not read: "+sanitize(sp.ActionError), w, indent+"    ")), "\n")...)
		}
		for _, r := range sp.Pre {
			if r.OK() && r.Status != steps.Warn {
				continue
			}
			note := "fails now: "
			switch {
			case r.Status == steps.Warn:
				note = "warns now (advice; it does not stop the run): "
			case sp.Later:
				note = "fails now (an earlier step is meant to change this): "
			}
			out = append(out, strings.Split(st.Warn.Render(hang(indent+note+sanitize(r.Name+": "+r.Summary), w, indent)), "\n")...)
		}
	}
	return out
}

// roleLines lists each role with its host, in columns as wide as the screen allows:
// the hosts cutover bound by itself and the hosts that are down say so.
func (p *planPage) roleLines(w int) []string {
	st := p.a.st
	roles := p.plan.Runbook.Roles
	idW, nameW := 4, 4
	for _, r := range roles {
		idW = max(idW, len(r.ID))
		if h := p.plan.Roles[r.ID]; h != nil {
			nameW = max(nameW, len(sanitize(h.Name)))
		}
	}
	idW, nameW = min(idW, w/4), min(nameW, w/4)
	var out []string
	for _, r := range roles {
		name, note := "?", ""
		if h := p.plan.Roles[r.ID]; h != nil {
			name = sanitize(h.Name)
			switch f := p.plan.Facts[h.Name]; {
			case f != nil && !f.Reachable:
				note = st.Warn.Render(truncate("    ↳ "+name+" does not answer: the run goes on without it", w))
			case p.auto[r.ID]:
				note = st.Subtle.Render(truncate("    ↳ bound by cutover: the only host that fits, and no other role could want it", w))
			}
		}
		line := fmt.Sprintf("  %-*s = %-*s ", idW, truncate(r.ID, idW), nameW, truncate(name, nameW))
		out = append(out, truncate(line+st.Subtle.Render(sanitize(r.Title)), w))
		if note != "" {
			out = append(out, note)
		}
	}
	return out
}

// hang wraps s to width w, indenting the continuation lines.
func hang(s string, w int, indent string) string {
	lines := strings.Split(wrap(s, w), "\n")
	if len(lines) == 1 {
		return s
	}
	var rest []string
	for _, l := range lines[1:] {
		rest = append(rest, strings.TrimSpace(l))
	}
	out := strings.Split(wrap(strings.Join(rest, " "), w-len(indent)), "\n")
	for i, l := range out {
		out[i] = indent + strings.TrimRight(l, " ")
	}
	return strings.TrimRight(lines[0], " ") + "\n" + strings.Join(out, "\n")
}

func (p *planPage) View(w, h int) string {
	if p.w != w {
		p.w = w
		p.sv.SetLines(p.content(w))
	}
	return p.sv.View(w, h)
}

// resumeOffer is shown when a runbook has an unfinished run in the journal folder.
type resumeOffer struct {
	a    *app
	rb   *steps.Runbook
	path string
	st   *steps.RunState
}

func newResumeOffer(a *app, rb *steps.Runbook, path string, st *steps.RunState) *resumeOffer {
	return &resumeOffer{a: a, rb: rb, path: path, st: st}
}

func (p *resumeOffer) Init() tea.Cmd    { return nil }
func (p *resumeOffer) Title() string    { return "unfinished run of " + p.rb.ID }
func (p *resumeOffer) Capture() capture { return captureNone }

func (p *resumeOffer) Help() []key.Binding {
	return bindings(p.a.keys.Resume, p.a.keys.NewRun, p.a.keys.Back)
}

func (p *resumeOffer) FullHelp() [][]key.Binding { return [][]key.Binding{p.Help()} }

func (p *resumeOffer) Update(msg tea.Msg) (page, tea.Cmd) {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return p, nil
	}
	switch {
	case key.Matches(km, p.a.keys.Resume):
		return p, replace(p, newRunPage(p.a, runSource{resume: p.path}))
	case key.Matches(km, p.a.keys.NewRun):
		return p, replace(p, newSetupPage(p.a, p.rb))
	case key.Matches(km, p.a.keys.Back):
		return p, pop
	}
	return p, nil
}

func (p *resumeOffer) View(w, h int) string {
	st := p.a.st
	var b strings.Builder
	b.WriteString(st.Title.Render("An unfinished run of this runbook exists.") + "\n\n")
	s := p.st.Session
	b.WriteString(wrap(fmt.Sprintf("Started %s by %s; roles %s.", stamp(p.st.Started), sanitize(s.Operator), rolesLine(p.rb, s.Roles)), w) + "\n")
	var done int
	for _, ss := range p.st.Steps {
		if ss.Finished() {
			done++
		}
	}
	b.WriteString(fmt.Sprintf("%d of %d steps finished.\n", done, len(p.st.Steps)))
	if hosts, nums := touched(p.st); len(hosts) > 0 {
		b.WriteString(wrap(fmt.Sprintf("It has worked on %s (steps %s).",
			sanitize(strings.Join(hosts, ", ")), strings.Join(nums, ", ")), w) + "\n")
	} else {
		b.WriteString(wrap("It has not changed anything on any host yet.", w) + "\n")
	}
	if d := p.a.inv; d != nil && s.InventoryDigest != "" && d.Digest != "" && d.Digest != s.InventoryDigest {
		b.WriteString(st.Warn.Render(wrap("The inventory changed since the run started (a host's address, port or "+
			"settings): the run goes on with the hosts as the inventory names them now.", w)) + "\n")
	}
	if cur := p.st.Current(); cur != nil {
		b.WriteString(wrap(fmt.Sprintf("It stopped at step %d: %s (%s).", stepNumber(p.st, cur.ID()), sanitize(cur.Planned.Title), sanitize(string(cur.Status))), w) + "\n")
		if cur.ActionPending {
			b.WriteString("\n" + st.Warn.Render(wrap("? Its action started and no result was recorded: the outcome is unknown. "+
				"Resuming checks its gates first and then asks you; nothing is run again unless you say so.", w)) + "\n")
		}
	}
	b.WriteString("\n" + st.Subtle.Render(wrap("Journal: "+sanitize(p.path), w)) + "\n\n")
	b.WriteString(wrap("r resumes it where it stopped: finished steps are not run again. "+
		"n starts a new run from the first step, with a journal of its own.", w))
	return b.String()
}

// touched lists the hosts a run has worked on (an action ran there, or a manual step
// on them was confirmed), sorted, and the numbers of those steps.
func touched(st *steps.RunState) (hosts, nums []string) {
	seen := map[string]bool{}
	for i, ss := range st.Steps {
		if ss.ActionRuns == 0 && !ss.Confirmed {
			continue
		}
		nums = append(nums, strconv.Itoa(i+1))
		for _, h := range ss.Planned.Hosts {
			if !seen[h] {
				seen[h] = true
				hosts = append(hosts, h)
			}
		}
	}
	sort.Strings(hosts)
	return hosts, nums
}

// rolesLine lists role bindings in the runbook's order: "old=hub new=spare", the host
// names sanitised (they come from a journal or a run file).
func rolesLine(rb *steps.Runbook, roles map[string]string) string {
	var parts []string
	for _, r := range rb.Roles {
		if h, ok := roles[r.ID]; ok {
			parts = append(parts, r.ID+"="+sanitize(h))
		}
	}
	return strings.Join(parts, " ")
}
