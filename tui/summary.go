package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/export"
	"github.com/cutover/cutover/steps/journal"
)

// summary is shown when a run has ended: the outcome, every step's end, the journal's
// path, and the export of the filled checklist next to it.
type summary struct {
	a     *app
	d     *driver
	plan  *steps.Plan
	state *steps.RunState
	sv    *scrollView
	w     int
	// exported is where the checklist was written; notice reports a failed export.
	exported  string
	exporting bool
	notice    string
}

func newSummary(a *app, d *driver, plan *steps.Plan, state *steps.RunState) *summary {
	return &summary{a: a, d: d, plan: plan, state: state, sv: newScrollView(false)}
}

// Init closes the run's journal and connections: nothing more will be recorded.
func (p *summary) Init() tea.Cmd {
	d := p.d
	return func() tea.Msg {
		d.stop()
		return nil
	}
}

func (p *summary) Title() string    { return "summary: " + p.plan.Runbook.ID }
func (p *summary) Capture() capture { return captureNone }

func (p *summary) Help() []key.Binding {
	k := p.a.keys
	return bindings(k.Export, k.Up, k.Down, k.PageUp, k.PageDown, k.Home)
}

func (p *summary) FullHelp() [][]key.Binding {
	k := p.a.keys
	return [][]key.Binding{{k.Export, k.Home}, k.scrollKeys()}
}

func (p *summary) Update(msg tea.Msg) (page, tea.Cmd) {
	switch msg := msg.(type) {
	case exportedMsg:
		p.exporting = false
		if msg.err != nil {
			p.notice = p.a.st.Fail.Render("export failed: " + sanitizeErr(msg.err))
		} else {
			p.exported, p.notice = msg.path, ""
		}
		p.w = 0 // redraw
	case tea.KeyPressMsg:
		k := p.a.keys
		switch {
		case key.Matches(msg, k.Export):
			if !p.exporting {
				p.exporting = true
				return p, exportJournal(p.d.journalPath(), p.plan, p.state)
			}
		case key.Matches(msg, k.Home):
			p.a.active = nil
			return p, goHome
		default:
			p.sv.Key(k, msg)
		}
	}
	return p, nil
}

// exportJournal writes the filled checklist next to the journal: JOURNAL.md.
func exportJournal(jpath string, plan *steps.Plan, st *steps.RunState) tea.Cmd {
	path := strings.TrimSuffix(jpath, filepath.Ext(jpath)) + ".md"
	return func() tea.Msg {
		j, err := journal.Read(jpath)
		if err != nil {
			return exportedMsg{err: err}
		}
		var b strings.Builder
		if err := export.Journal(&b, j, plan, st); err != nil {
			return exportedMsg{err: err}
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
			return exportedMsg{err: err}
		}
		if err := os.Rename(tmp, path); err != nil {
			return exportedMsg{err: err}
		}
		return exportedMsg{path: path}
	}
}

func (p *summary) lines(w int) []string {
	st := p.a.st
	var out []string
	add := func(s string) { out = append(out, strings.Split(s, "\n")...) }
	switch p.state.Outcome {
	case steps.RunDone:
		add(st.Pass.Render("✓ The run is done."))
	default:
		add(st.Fail.Render("✗ The run ended: " + sanitize(string(p.state.Outcome))))
		if p.state.Message != "" {
			add(wrap(sanitize(p.state.Message), w))
		}
		add(wrap(hostsLeft(p.state, nil, false), w))
	}
	var done, skipped, overridden int
	for _, s := range p.state.Steps {
		switch s.Status {
		case steps.StepDone:
			done++
		case steps.StepSkipped:
			skipped++
		case steps.StepOverridden:
			overridden++
		}
	}
	line := fmt.Sprintf("%d steps done, %d skipped, %d overridden.", done, skipped, overridden)
	if !p.state.Started.IsZero() && !p.state.EndedAt.IsZero() {
		line += fmt.Sprintf(" It took %s.", p.state.EndedAt.Sub(p.state.Started).Round(time.Second))
	}
	add(wrap(line, w))
	if overridden > 0 {
		add(st.Override.Render(wrap("Overridden steps are marked OVERRIDDEN, with their reasons, in every export.", w)))
	}
	out = append(out, "")
	add(wrap("Journal: "+sanitize(p.d.journalPath()), w))
	switch {
	case p.exported != "":
		add(st.Pass.Render(wrap("Checklist written to "+sanitize(p.exported), w)))
	case p.exporting:
		add(st.Wait.Render("writing the checklist…"))
	default:
		add(st.Subtle.Render(wrap("x writes the filled checklist (Markdown) next to the journal.", w)))
	}
	if p.notice != "" {
		add(wrap(p.notice, w))
	}
	if kept := steps.KeptAside(p.state); len(kept) > 0 {
		// The back-out of the copies: kept until the operator is sure of the move.
		out = append(out, "")
		add(wrap(fmt.Sprintf("The copies kept aside what they replaced (%s), so the run can be rolled back:", steps.Plural(len(kept), "item", "items")), w))
		for _, it := range kept {
			host := "  " + sanitize(it.Undo.Host) + ": "
			add(st.Subtle.Render(host + keepTail(sanitize(p.inInstall(it.Undo.Host, it.Undo.Kept)), w-ansi.StringWidth(host))))
		}
		if p.state.Outcome == steps.RunDone {
			add(wrap("Once the move is confirmed, remove them with: "+sanitize(steps.CleanupCommand(p.d.journalPath())), w))
		}
	}
	out = append(out, "")
	for i, s := range p.state.Steps {
		line := fmt.Sprintf("%s %2d. %s", stepMark(st, s), i+1, sanitize(s.Planned.Title))
		if s.Status == steps.StepOverridden || s.Status == steps.StepAborted {
			line += ": " + string(s.Status)
		}
		out = append(out, truncate(line, w))
		if s.Reason != "" && s.Status != steps.StepSkipped {
			out = append(out, st.Subtle.Render(truncate("       "+sanitize(s.Reason), w)))
		}
	}
	return out
}

func (p *summary) View(w, h int) string {
	if p.w != w {
		p.w = w
		p.sv.SetLines(p.lines(w))
	}
	return p.sv.View(w, h)
}

// keepTail cuts text to w cells from the left, so a long path keeps its file name.
func keepTail(s string, w int) string {
	if n := ansi.StringWidth(s); n > w && w > 1 {
		return ansi.TruncateLeft(s, n-w+1, "…")
	}
	return s
}

// inInstall shows a path on a host of the run relative to its install folder, as the
// rest of the wizard does; other paths stay whole.
func (p *summary) inInstall(host, at string) string {
	for _, h := range p.plan.Roles {
		if h.Name == host && h.InstallDir != "" {
			if rel, ok := strings.CutPrefix(at, strings.TrimSuffix(h.InstallDir, "/")+"/"); ok {
				return rel
			}
		}
	}
	return at
}
