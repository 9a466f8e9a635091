package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cutover/cutover/steps"
)

// detailPage shows everything about the current step in full: its text, the action's
// exact commands and outcome, every check result with all of its evidence, the
// decisions, and the output. It follows the run: new events redraw it, keeping the
// scroll position.
type detailPage struct {
	a     *app
	run   *runPage
	id    string
	sv    *scrollView
	w     int
	dirty bool
}

// newDetailPage shows step id of the run in full.
func newDetailPage(run *runPage, id string) *detailPage {
	return &detailPage{a: run.a, run: run, id: id, sv: newScrollView(false), dirty: true}
}

func (p *detailPage) Init() tea.Cmd    { return nil }
func (p *detailPage) Title() string    { return "evidence: step " + p.id }
func (p *detailPage) Capture() capture { return captureNone }

func (p *detailPage) Help() []key.Binding {
	k := p.a.keys
	back := k.Back
	back.SetHelp("esc/e", "back to the step")
	return bindings(k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, back)
}

func (p *detailPage) FullHelp() [][]key.Binding { return [][]key.Binding{p.Help()} }

func (p *detailPage) Update(msg tea.Msg) (page, tea.Cmd) {
	switch msg := msg.(type) {
	case engineBatchMsg:
		p.dirty = true
	case tea.KeyPressMsg:
		if key.Matches(msg, p.a.keys.Back, p.a.keys.Evidence) {
			return p, pop
		}
		p.sv.Key(p.a.keys, msg)
	}
	return p, nil
}

func (p *detailPage) View(w, h int) string {
	if p.dirty || p.w != w {
		p.dirty, p.w = false, w
		p.sv.SetLines(p.lines(w))
	}
	return p.sv.View(w, h)
}

// lines is the full account of the step at width w.
func (p *detailPage) lines(w int) []string {
	r := p.run
	ss := r.state.Step(p.id)
	if ss == nil {
		return []string{"no step " + sanitize(p.id)}
	}
	st := p.a.st
	var out []string
	add := func(s string) { out = append(out, strings.Split(s, "\n")...) }
	d := r.describe(p.id)
	add(st.Title.Render(wrap(sanitize(fmt.Sprintf("%s (%s): %s", ss.Planned.Title, p.id, ss.Status)), w)))
	if ss.Reason != "" {
		add(wrap("reason: "+sanitize(ss.Reason), w))
	}
	if d.Text != "" {
		out = append(out, "")
		add(r.md.render(p.id, d.Text, w, st.Dark))
	}
	if rec := ss.Action; rec != nil || d.Action != nil {
		if rec == nil {
			rec = d.Action
		}
		out = append(out, "", st.Title.Render("Action"))
		add(wrap(sanitize(rec.Summary), w))
		for _, c := range rec.Commands {
			add(hang("  $ "+sanitize(c), w, "    "))
		}
		for _, c := range rec.Changes {
			add(hang("  "+sanitize(c), w, "    "))
		}
		switch {
		case ss.ActionPending:
			add(st.Warn.Render("  outcome unknown: it started and no result was recorded"))
		case ss.ActionDone && rec.OK:
			add(st.Pass.Render(fmt.Sprintf("  done in %s", time.Duration(rec.Elapsed).Round(time.Millisecond))))
		case ss.ActionDone:
			add(st.Fail.Render(hang("  FAILED: "+sanitize(rec.Error), w, "    ")))
		}
		if rec.ExitCode != nil {
			add(fmt.Sprintf("  exit code %d", *rec.ExitCode))
		}
	}
	if len(ss.History) > 0 {
		out = append(out, "", st.Title.Render("Checks, oldest first"))
	}
	for _, c := range ss.History {
		mark := map[steps.Status]string{steps.Pass: st.Pass.Render("✓"), steps.Skipped: st.Faint.Render("-"), steps.Warn: st.Warn.Render("!")}[c.Status]
		if mark == "" {
			mark = st.Fail.Render("✗")
		}
		add(hang(mark+" "+sanitize(fmt.Sprintf("%s %d: %s", c.Phase.Label(), c.Index+1, c.Name)), w, "    "))
		add(hang("    "+sanitize(fmt.Sprintf("%s at %s after %d attempt(s): %s", c.Status, stamp(c.At), c.Attempts, c.Summary)), w, "      "))
		for _, e := range c.Evidence {
			add(hang("    │ "+sanitize(e), w, "    │   "))
		}
	}
	if len(ss.Decisions) > 0 {
		out = append(out, "", st.Title.Render("Decisions"))
	}
	for _, dec := range ss.Decisions {
		line := fmt.Sprintf("%s (on %s) by %s via %s", dec.Kind, dec.On, dec.By, dec.Via)
		if dec.Reason != "" {
			line += ": " + dec.Reason
		}
		if dec.Run != nil {
			line += fmt.Sprintf(" [%s: %s]", dec.Run.Role, dec.Run.Command)
		}
		line = "  " + sanitize(line) // the journal's words: it may come from another machine
		if dec.Kind == steps.Override {
			line = st.Override.Render(line)
		}
		add(hang(line, w, "    "))
	}
	if sv := r.output[p.id]; sv != nil && sv.Len() > 0 {
		out = append(out, "", st.Title.Render(fmt.Sprintf("Output (%d lines)", sv.Len())))
		out = append(out, sv.Lines()...)
	} else if ss.Action != nil && len(ss.Action.Output) > 0 {
		out = append(out, "", st.Title.Render("Output (last lines, as recorded)"))
		for _, l := range ss.Action.Output {
			out = append(out, sanitize(l))
		}
	}
	return out
}

// stamp formats a time for the screen.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}
