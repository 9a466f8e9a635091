package tui

import (
	"context"
	"path/filepath"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/steps"
)

func bgContext() context.Context { return context.Background() }

// setup binds roles to hosts, picks a preset and fills in the parameters. Hosts that
// meet a role's requirements are offered; the others are shown greyed, with the reason.
type setup struct {
	a  *app
	rb *steps.Runbook

	stage   setupStage
	roleCur int
	// choosing is set while the host list of one role is open; cands is that list,
	// computed when it opens and when new facts arrive, not on every frame.
	choosing bool
	hostCur  int
	cands    []candidate
	bound    map[string]*probe.Host
	// auto names the roles cutover bound by itself (AutoBind: only where it cannot be
	// wrong); the operator's choice clears the mark.
	auto map[string]bool

	presetCur int // 0 = no preset
	preset    string
	form      *huh.Form
	values    map[string]*string
	bools     map[string]*bool
	// shown holds the defaults the form was opened with, by parameter; opened every
	// value it was opened with; typed what the operator changed in it, kept for the
	// next time it opens.
	shown, opened, typed map[string]string

	// waitFacts is set when the operator went on while the hosts were still being
	// probed: the form opens when the facts are in (its defaults come from them).
	waitFacts bool

	problems []string
	saving   bool
	savePath textinput.Model
	notice   string
}

// candidate is a host offered for a role, with the verdict and the reasons it cannot
// play it (none: it fits).
type candidate struct {
	h   *probe.Host
	fit steps.Fit
	why []string
}

type setupStage int

const (
	stageRoles setupStage = iota
	stagePreset
	stageParams
)

type (
	formDoneMsg   struct{}
	formCancelMsg struct{}
)

func newSetupPage(a *app, rb *steps.Runbook) *setup {
	p := &setup{a: a, rb: rb, bound: map[string]*probe.Host{}, auto: map[string]bool{}}
	if rf := a.cfg.RunFile; rf != nil && rf.Runbook == rb.ID {
		for role, host := range rf.Roles {
			if h := a.inv.Host(host); h != nil {
				p.bound[role] = h
			}
		}
		p.preset = rf.Preset
	} else if lr := a.labRun(rb.ID); lr != nil {
		p.preset = lr.Preset
	}
	for i, pr := range rb.Presets {
		if pr.ID == p.preset {
			p.presetCur = i + 1
		}
	}
	p.savePath = newTextInput("save run file to: ")
	p.savePath.SetValue(filepath.Join(a.cfg.RunsDir, probe.Slug(rb.ID)+".yaml"))
	p.autoBind()
	p.firstUnbound()
	return p
}

// firstUnbound puts the cursor on the first role without a host.
func (p *setup) firstUnbound() {
	for i, r := range p.rb.Roles {
		if p.bound[r.ID] == nil {
			p.roleCur = i
			return
		}
	}
}

// newTextInput is a text field of the wizard: a steady cursor (no blinking, which
// redraws the screen twice a second for nothing) and a generous limit.
func newTextInput(prompt string) textinput.Model {
	ti := textinput.New()
	ti.Prompt = prompt
	ti.CharLimit = 500
	s := ti.Styles()
	s.Cursor.Blink = false
	ti.SetStyles(s)
	return ti
}

// Init probes the hosts when nothing is known of them yet (the wizard opened on this
// runbook directly): roles can only be bound to hosts whose facts are known.
func (p *setup) Init() tea.Cmd {
	if len(p.a.facts) == 0 {
		return p.a.probeHosts()
	}
	return nil
}
func (p *setup) Title() string { return "setup: " + p.rb.ID }

func (p *setup) Capture() capture {
	if p.saving || p.stage == stageParams {
		return captureText
	}
	return captureNone
}

func (p *setup) Help() []key.Binding {
	k := p.a.keys
	back := k.Back
	switch {
	case p.saving:
		return bindings(k.Submit, k.Cancel)
	case p.stage == stageParams:
		back.SetHelp("esc", "back to roles")
		var out []key.Binding
		if p.form != nil {
			out = p.form.KeyBinds()
		}
		return append(out, back, k.Save)
	case p.stage == stagePreset:
		choose := k.Open
		choose.SetHelp("enter", "use it")
		return bindings(k.Up, k.Down, choose, back)
	case p.choosing:
		choose := k.Choose
		choose.SetHelp("enter", "bind this host")
		return bindings(k.Up, k.Down, choose, back)
	}
	back.SetHelp("esc", "home")
	return bindings(k.Up, k.Down, k.Choose, k.Continue, back, k.Save)
}

func (p *setup) FullHelp() [][]key.Binding {
	if p.choosing && !p.saving {
		return [][]key.Binding{p.Help(), {p.a.keys.PageUp, p.a.keys.PageDown}}
	}
	return [][]key.Binding{p.Help()}
}

// autoBind binds the roles that cannot be bound wrongly (steps.Runbook.AutoBind):
// never a role that may be down, and only a host that alone fits and that no other
// role could want. The plan review shows every binding before anything runs.
func (p *setup) autoBind() {
	for _, r := range p.rb.AutoBind(p.a.inv.Hosts, p.a.facts, p.bound) {
		p.auto[r] = true
	}
}

// fit judges host h for role with the other roles as bound now, and the parameters as
// the form holds them once it has been opened.
func (p *setup) fit(role string, h *probe.Host) steps.Fit {
	return p.rb.Fit(role, h, p.binding(role))
}

// binding is what a host for role is judged against: the other roles as bound now, the
// facts, and the form's parameters once it has been opened. The host list computes it
// once for all its hosts.
func (p *setup) binding(role string) steps.Binding {
	others := map[string]*probe.Host{}
	for k, v := range p.bound {
		if k != role {
			others[k] = v
		}
	}
	return steps.Binding{Roles: others, Facts: p.a.facts, Params: p.formParams()}
}

// candidates lists hosts for a role: those that fit and answer first, then those that
// fit while down (a role that may be down), then those that may fit once a parameter
// is given, then the rest with reasons.
func (p *setup) candidates(role string) []candidate {
	var cs []candidate
	b := p.binding(role)
	for _, h := range p.a.inv.Hosts {
		f := p.rb.Fit(role, h, b)
		cs = append(cs, candidate{h: h, fit: f, why: f.Why(role)})
	}
	rank := func(c candidate) int {
		switch {
		case c.fit.OK() && !c.fit.Down:
			return 0
		case c.fit.OK():
			return 1
		case c.fit.Pending() != nil:
			return 2
		}
		return 3
	}
	sort.SliceStable(cs, func(i, j int) bool { return rank(cs[i]) < rank(cs[j]) })
	return cs
}

func (p *setup) Update(msg tea.Msg) (page, tea.Cmd) {
	switch msg := msg.(type) {
	case factsMsg:
		p.autoBind()
		if p.choosing {
			p.cands = p.candidates(p.rb.Roles[p.roleCur].ID)
		}
		if p.waitFacts && p.stage == stageRoles {
			p.waitFacts = false
			return p, p.next()
		}
		return p, nil
	case savedMsg:
		p.saving = false
		if msg.err != nil {
			p.notice = p.a.st.Fail.Render("not saved: " + sanitizeErr(msg.err))
		} else {
			p.notice = p.a.st.Pass.Render("saved " + sanitize(msg.path))
		}
		return p, nil
	case formDoneMsg:
		return p, p.finish()
	case formCancelMsg:
		p.stage = stageRoles
		return p, nil
	case tea.KeyPressMsg:
		if p.saving {
			return p, p.saveKey(msg)
		}
		if key.Matches(msg, p.a.keys.Save) {
			p.saving, p.notice = true, ""
			return p, p.savePath.Focus()
		}
		switch p.stage {
		case stageRoles:
			return p, p.rolesKey(msg)
		case stagePreset:
			return p, p.presetKey(msg)
		}
		if key.Matches(msg, p.a.keys.Back) {
			p.stage = stageRoles
			return p, nil
		}
	}
	if p.stage == stageParams && p.form != nil {
		m, cmd := p.form.Update(msg)
		p.form = m.(*huh.Form)
		return p, cmd
	}
	return p, nil
}

func (p *setup) rolesKey(msg tea.KeyPressMsg) tea.Cmd {
	k := p.a.keys
	roles := p.rb.Roles
	if p.choosing {
		switch {
		case key.Matches(msg, k.Up):
			p.hostCur = max(p.hostCur-1, 0)
		case key.Matches(msg, k.Down):
			p.hostCur = min(p.hostCur+1, len(p.cands)-1)
		case key.Matches(msg, k.PageUp):
			p.hostCur = max(p.hostCur-10, 0)
		case key.Matches(msg, k.PageDown):
			p.hostCur = min(p.hostCur+10, len(p.cands)-1)
		case key.Matches(msg, k.Back):
			p.choosing, p.notice = false, ""
		case key.Matches(msg, k.Choose) && p.hostCur < len(p.cands):
			c := p.cands[p.hostCur]
			pending := c.fit.Pending()
			if !c.fit.OK() && pending == nil {
				p.notice = p.a.st.Warn.Render(sanitize(c.h.Name + " cannot be " + roles[p.roleCur].ID + ": " + c.why[0]))
				return nil
			}
			p.bound[roles[p.roleCur].ID] = c.h
			delete(p.auto, roles[p.roleCur].ID)
			p.choosing, p.notice, p.problems = false, "", nil
			if pending != nil {
				// Bound on condition: the form asks for the parameter after the roles, and
				// the plan judges the host again with it before anything runs.
				p.notice = p.a.st.Warn.Render(sanitize(c.h.Name + " is " + roles[p.roleCur].ID + " once you give " +
					strings.Join(pending, " and ") + " in the parameters: " + c.why[0]))
			}
			// On to the next role that has no host yet.
			for i := range roles {
				if j := (p.roleCur + 1 + i) % len(roles); p.bound[roles[j].ID] == nil {
					p.roleCur = j
					break
				}
			}
		}
		return nil
	}
	switch {
	case key.Matches(msg, k.Up):
		p.roleCur = max(p.roleCur-1, 0)
	case key.Matches(msg, k.Down):
		p.roleCur = min(p.roleCur+1, len(roles)-1)
	case key.Matches(msg, k.Back):
		return pop
	case key.Matches(msg, k.Choose):
		p.choosing, p.hostCur, p.notice = true, 0, ""
		p.cands = p.candidates(roles[p.roleCur].ID)
		// Start on the host bound now, if any.
		for i, c := range p.cands {
			if c.h == p.bound[roles[p.roleCur].ID] {
				p.hostCur = i
			}
		}
	case key.Matches(msg, k.Continue):
		for _, r := range roles {
			if p.bound[r.ID] == nil {
				p.notice = p.a.st.Warn.Render("bind every role first: " + r.ID + " has no host")
				return nil
			}
		}
		if p.a.probing && p.missingFacts() {
			// Defaults such as the new host's name come from the facts: wait for them.
			p.waitFacts, p.notice = true, ""
			return nil
		}
		return p.next()
	}
	return nil
}

// missingFacts reports whether a bound host has not been probed yet.
func (p *setup) missingFacts() bool {
	for _, h := range p.bound {
		if p.a.facts[h.Name] == nil {
			return true
		}
	}
	return false
}

// next leaves the roles for the presets, or the form.
func (p *setup) next() tea.Cmd {
	p.notice = ""
	if len(p.rb.Presets) > 0 {
		p.stage = stagePreset
		return nil
	}
	return p.openForm()
}

func (p *setup) presetKey(msg tea.KeyPressMsg) tea.Cmd {
	k := p.a.keys
	switch {
	case key.Matches(msg, k.Up):
		p.presetCur = max(p.presetCur-1, 0)
	case key.Matches(msg, k.Down):
		p.presetCur = min(p.presetCur+1, len(p.rb.Presets))
	case key.Matches(msg, k.Back):
		p.stage = stageRoles
	case key.Matches(msg, k.Open):
		p.preset = ""
		if p.presetCur > 0 {
			p.preset = p.rb.Presets[p.presetCur-1].ID
		}
		return p.openForm()
	}
	return nil
}
