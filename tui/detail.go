package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/cutover/cutover/steps"
)

// detailPage shows everything about one step in full: its text, the action's exact
// commands and outcome, every check result with all of its evidence, and the output.
type detailPage struct {
	a    *app
	body string
	id   string
	vp   viewport.Model
	w    int
}

func newDetailPage(a *app, plan *steps.Plan, rs *steps.RunState, st *steps.StepState, output []string) *detailPage {
	return &detailPage{a: a, id: st.ID(), body: detailText(plan, st, output), vp: viewport.New()}
}

func detailText(plan *steps.Plan, st *steps.StepState, output []string) string {
	var b strings.Builder
	d, _ := plan.Describe(st.ID())
	fmt.Fprintf(&b, "%s (%s), status %s\n\n", st.Planned.Title, st.ID(), st.Status)
	if d != nil && d.Text != "" {
		b.WriteString(d.Text + "\n\n")
	}
	if rec := st.Action; rec != nil {
		fmt.Fprintf(&b, "Action: %s\n", rec.Summary)
		for _, c := range rec.Commands {
			b.WriteString("  $ " + c + "\n")
		}
		for _, c := range rec.Changes {
			b.WriteString("  " + c + "\n")
		}
		switch {
		case st.ActionPending:
			b.WriteString("  outcome unknown: started, no result recorded\n")
		case rec.OK:
			fmt.Fprintf(&b, "  done in %s\n", time.Duration(rec.Elapsed).Round(time.Millisecond))
		case st.ActionDone:
			b.WriteString("  FAILED: " + rec.Error + "\n")
		}
		b.WriteString("\n")
	}
	for _, r := range st.History {
		fmt.Fprintf(&b, "%s %s %d: %s\n  %s at %s: %s\n", strings.ToUpper(string(r.Status)), r.Phase, r.Index+1, r.Name,
			r.Status, stamp(r.At), r.Summary)
		for _, e := range r.Evidence {
			b.WriteString("  | " + e + "\n")
		}
		b.WriteString("\n")
	}
	for _, dec := range st.Decisions {
		fmt.Fprintf(&b, "Decision: %s on %s by %s (%s) %s\n", dec.Kind, dec.On, dec.By, dec.Via, dec.Reason)
	}
	if len(output) > 0 {
		b.WriteString("\nOutput:\n")
		for _, l := range output {
			b.WriteString("  " + l + "\n")
		}
	}
	return b.String()
}

func (p *detailPage) Init() tea.Cmd   { return nil }
func (p *detailPage) Title() string   { return "details: " + p.id }
func (p *detailPage) Capturing() bool { return false }

func (p *detailPage) ShortHelp() []key.Binding {
	k := p.a.keys
	return bindings(k.Up, k.Down, k.PageUp, k.PageDown, k.Back)
}

func (p *detailPage) FullHelp() [][]key.Binding {
	k := p.a.keys
	return [][]key.Binding{p.ShortHelp(), {k.Top, k.Bottom}}
}

func (p *detailPage) Update(msg tea.Msg) (page, tea.Cmd) {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return p, nil
	}
	switch {
	case key.Matches(km, p.a.keys.Back), key.Matches(km, p.a.keys.Evidence):
		return p, pop
	case key.Matches(km, p.a.keys.Top):
		p.vp.GotoTop()
		return p, nil
	case key.Matches(km, p.a.keys.Bottom):
		p.vp.GotoBottom()
		return p, nil
	}
	var cmd tea.Cmd
	p.vp, cmd = p.vp.Update(msg)
	return p, cmd
}

func (p *detailPage) View(w, h int) string {
	if p.w != w {
		p.w = w
		p.vp.SetContent(wrap(p.body, w))
	}
	p.vp.SetWidth(w)
	p.vp.SetHeight(h)
	return p.vp.View()
}

// stamp formats a time for the screen.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}
