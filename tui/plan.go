package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/cutover/cutover/steps"
)

// planPage reviews the plan before anything runs: every step, skipped ones with the
// reason, and the hosts each step acts on.
type planPage struct {
	a    *app
	plan *steps.Plan
	in   steps.Inputs
	vp   viewport.Model
	w    int
}

func openPlan(a *app, plan *steps.Plan, in steps.Inputs) tea.Cmd {
	return push(&planPage{a: a, plan: plan, in: in, vp: viewport.New()})
}

func (p *planPage) Init() tea.Cmd   { return nil }
func (p *planPage) Title() string   { return "plan review: " + p.plan.Runbook.ID }
func (p *planPage) Capturing() bool { return false }

func (p *planPage) ShortHelp() []key.Binding {
	k := p.a.keys
	return bindings(k.Start, k.Up, k.Down, k.PageDown, k.Back)
}

func (p *planPage) FullHelp() [][]key.Binding { return [][]key.Binding{p.ShortHelp()} }

func (p *planPage) Update(msg tea.Msg) (page, tea.Cmd) {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return p, nil
	}
	switch {
	case key.Matches(km, p.a.keys.Start):
		return p, replace(newRunPage(p.a, runSource{rb: p.plan.Runbook, in: p.in}))
	case key.Matches(km, p.a.keys.Back):
		return p, pop
	}
	var cmd tea.Cmd
	p.vp, cmd = p.vp.Update(msg)
	return p, cmd
}

// content lists the steps; it is rebuilt only when the width changes.
func (p *planPage) content(w int) string {
	st := p.a.st
	var b strings.Builder
	rb := p.plan.Runbook
	kept := 0
	for _, s := range p.plan.Steps {
		if !s.Skip {
			kept++
		}
	}
	b.WriteString(wrap(fmt.Sprintf("%d steps, %d of them skipped for this setup. Nothing runs until you press s.",
		len(p.plan.Steps), len(p.plan.Steps)-kept), w) + "\n\n")
	for _, r := range rb.Roles {
		b.WriteString(st.Subtle.Render(fmt.Sprintf("  %-6s = %s", r.ID, p.plan.Roles[r.ID].Name)) + "\n")
	}
	b.WriteString("\n")
	for i, s := range p.plan.Steps {
		if s.Skip {
			b.WriteString(st.Faint.Render(wrap(fmt.Sprintf("- %2d. %s (skipped: %s)", i+1, s.Title, s.Reason), w)) + "\n")
			continue
		}
		hosts := ""
		if len(s.Hosts) > 0 {
			hosts = st.Subtle.Render(" [" + strings.Join(s.Hosts, ", ") + "]")
		}
		b.WriteString(fmt.Sprintf("✓ %2d. %s%s\n", i+1, s.Title, hosts))
		d, err := p.plan.Describe(s.ID)
		if err != nil {
			continue
		}
		if d.Action != nil {
			b.WriteString(st.Subtle.Render(truncate("       does: "+d.Action.Summary, w)) + "\n")
			if d.ActionError != "" {
				b.WriteString(st.Fail.Render(truncate("       cannot: "+d.ActionError, w)) + "\n")
			}
		}
		if rbs := rb.Step(s.ID); rbs != nil && rbs.Manual {
			b.WriteString(st.Wait.Render("       you do it; cutover checks it") + "\n")
		}
		if n := len(d.Pre) + len(d.Gates); n > 0 {
			b.WriteString(st.Subtle.Render(fmt.Sprintf("       gated on %d check(s)", n)) + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func (p *planPage) View(w, h int) string {
	if p.w != w {
		p.w = w
		p.vp.SetContent(p.content(w))
	}
	p.vp.SetWidth(w)
	p.vp.SetHeight(h)
	return p.vp.View()
}

// wrap folds text to width w at word boundaries.
func wrap(s string, w int) string { return ansi.Wordwrap(s, max(w, 10), "") }

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

func (p *resumeOffer) Init() tea.Cmd   { return nil }
func (p *resumeOffer) Title() string   { return "unfinished run of " + p.rb.ID }
func (p *resumeOffer) Capturing() bool { return false }

var (
	keyResume = key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "resume it"))
	keyNewRun = key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "start a new run"))
)

func (p *resumeOffer) ShortHelp() []key.Binding {
	return bindings(keyResume, keyNewRun, p.a.keys.Back)
}

func (p *resumeOffer) FullHelp() [][]key.Binding { return [][]key.Binding{p.ShortHelp()} }

func (p *resumeOffer) Update(msg tea.Msg) (page, tea.Cmd) {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return p, nil
	}
	switch {
	case key.Matches(km, keyResume):
		return p, replace(newRunPage(p.a, runSource{resume: p.path}))
	case key.Matches(km, keyNewRun):
		return p, replace(newSetupPage(p.a, p.rb))
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
	b.WriteString(fmt.Sprintf("Started %s by %s.\n", stamp(p.st.Started), s.Operator))
	if cur := p.st.Current(); cur != nil {
		b.WriteString(fmt.Sprintf("It stopped at: %s (%s).\n", cur.Planned.Title, cur.Status))
		if cur.ActionPending {
			b.WriteString(st.Warn.Render(wrap("Its action started and no result was recorded: the outcome is unknown. "+
				"Resuming checks its gates first, and asks you before anything runs again.", w)) + "\n")
		}
	}
	b.WriteString(st.Subtle.Render("Journal: "+p.path) + "\n\n")
	b.WriteString(wrap("Resume it to continue where it stopped; completed steps are not run again. "+
		"A new run starts from the first step with a journal of its own.", w))
	return b.String()
}
