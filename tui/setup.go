package tui

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"charm.land/lipgloss/v2"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
	"github.com/cutover/cutover/tui/styles"
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
	// shown holds the defaults the form was opened with, by parameter.
	shown map[string]string

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

// fit judges host h for role with the other roles as bound now.
func (p *setup) fit(role string, h *probe.Host) steps.Fit {
	others := map[string]*probe.Host{}
	for k, v := range p.bound {
		if k != role {
			others[k] = v
		}
	}
	return p.rb.Fit(role, h, steps.Binding{Roles: others, Facts: p.a.facts})
}

// candidates lists hosts for a role: those that fit and answer first, then those that
// fit while down (a role that may be down), then the rest with reasons.
func (p *setup) candidates(role string) []candidate {
	var cs []candidate
	for _, h := range p.a.inv.Hosts {
		f := p.fit(role, h)
		cs = append(cs, candidate{h: h, fit: f, why: f.Why(role)})
	}
	rank := func(c candidate) int {
		switch {
		case c.fit.OK() && !c.fit.Down:
			return 0
		case c.fit.OK():
			return 1
		}
		return 2
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
			if !c.fit.OK() {
				p.notice = p.a.st.Warn.Render(sanitize(c.h.Name + " cannot be " + roles[p.roleCur].ID + ": " + c.why[0]))
				return nil
			}
			p.bound[roles[p.roleCur].ID] = c.h
			delete(p.auto, roles[p.roleCur].ID)
			p.choosing, p.notice, p.problems = false, "", nil
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

// openForm builds the parameter form: defaults from the runbook (computed from the
// bound hosts' facts), then the practice lab's values (its paths point into the
// simulated hosts), then the preset, then the values of the run file the wizard was
// given.
func (p *setup) openForm() tea.Cmd {
	p.stage = stageParams
	p.values, p.bools, p.shown = map[string]*string{}, map[string]*bool{}, map[string]string{}
	initial := map[string]string{}
	if lr := p.a.labRun(p.rb.ID); lr != nil {
		for k, v := range lr.Inputs().Params {
			initial[k] = v
		}
	}
	if pr := p.rb.Preset(p.preset); pr != nil {
		for k, v := range pr.Params {
			initial[k] = v
		}
	}
	if rf := p.a.cfg.RunFile; rf != nil && rf.Runbook == p.rb.ID {
		for k, v := range rf.Inputs().Params {
			initial[k] = v
		}
	}
	// The defaults of the rest, in the runbook's order: a default may read the
	// parameters given and those above it ("{{ params.share }}/Users").
	for _, prm := range p.rb.Params {
		if _, given := initial[prm.ID]; !given {
			initial[prm.ID] = p.rb.DefaultText(prm.ID, p.bound, p.a.facts, initial)
			p.shown[prm.ID] = initial[prm.ID]
		}
	}
	var fields []huh.Field
	for _, prm := range p.rb.Params {
		title := prm.Title
		if title == "" {
			title = prm.ID
		}
		if prm.Optional {
			title += " (optional)"
		}
		switch prm.Type {
		case steps.TypeBool:
			v, _ := strconv.ParseBool(initial[prm.ID])
			p.bools[prm.ID] = &v
			fields = append(fields, huh.NewConfirm().Key(prm.ID).Title(title).Description(prm.Help).
				Affirmative("Yes").Negative("No").Value(p.bools[prm.ID]))
		case steps.TypeChoice:
			v := initial[prm.ID]
			p.values[prm.ID] = &v
			fields = append(fields, huh.NewSelect[string]().Key(prm.ID).Title(title).Description(prm.Help).
				Options(huh.NewOptions(prm.Choices...)...).Value(p.values[prm.ID]))
		default:
			v := initial[prm.ID]
			p.values[prm.ID] = &v
			in := huh.NewInput().Key(prm.ID).Title(title).Description(prm.Help).Value(p.values[prm.ID]).Validate(validator(prm))
			if prm.Secret {
				in = in.EchoMode(huh.EchoModePassword)
			}
			fields = append(fields, in)
		}
	}
	if len(fields) == 0 {
		return p.finish()
	}
	p.form = huh.NewForm(huh.NewGroup(fields...)).WithShowHelp(false).WithShowErrors(true).
		WithTheme(huh.ThemeFunc(huh.ThemeBase16))
	p.form.SubmitCmd = func() tea.Msg { return formDoneMsg{} }
	p.form.CancelCmd = func() tea.Msg { return formCancelMsg{} }
	return p.form.Init()
}

// validator checks a field as the plan will; its message may quote the value (a
// default computed from a host's facts), so it is sanitised for the form.
func validator(prm *steps.Param) func(string) error {
	return func(s string) error {
		if _, err := prm.Parse(s); err != nil {
			return errors.New(sanitizeErr(err))
		}
		return nil
	}
}

// inputs collects the choices as plan inputs.
func (p *setup) inputs() steps.Inputs {
	in := steps.Inputs{Roles: map[string]string{}, Params: map[string]string{}, Preset: p.preset}
	for r, h := range p.bound {
		in.Roles[r] = h.Name
	}
	for k, v := range p.values {
		if d, ok := p.shown[k]; ok && *v == d {
			if prm := p.rb.Param(k); prm != nil && prm.DefaultReadsParams() {
				// Left as shown: the plan computes it from the parameters as they are now,
				// which the operator may have changed since.
				continue
			}
		}
		in.Params[k] = *v
	}
	for k, v := range p.bools {
		in.Params[k] = strconv.FormatBool(*v)
	}
	return in
}

// finish plans the run with the facts at hand and opens the plan review. Nothing runs
// yet: the review says so, and only its start key starts the run.
func (p *setup) finish() tea.Cmd {
	plan, err := steps.Prepare(p.rb, p.a.inv.Host, p.inputs(), p.a.facts)
	if err != nil {
		p.stage = stageRoles
		p.problems = problemLines(err)
		return nil
	}
	p.problems = nil
	return openPlan(p, p.a, plan, p.inputs(), maps.Clone(p.auto))
}

func problemLines(err error) []string {
	var ie *steps.InputError
	var re *steps.RequirementError
	switch {
	case errors.As(err, &ie):
		return sanitizeAll(ie.Problems)
	case errors.As(err, &re):
		return sanitizeAll(re.Problems)
	}
	return []string{sanitizeErr(err)}
}

func (p *setup) saveKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, p.a.keys.Cancel):
		p.saving = false
		p.savePath.Blur()
		return nil
	case key.Matches(msg, p.a.keys.Submit):
		path := strings.TrimSpace(p.savePath.Value())
		rf := steps.NewRunFile(p.rb, p.inputs(), p.a.inv.File)
		p.savePath.Blur()
		return func() tea.Msg { return savedMsg{path: path, err: rf.Save(path)} }
	}
	var cmd tea.Cmd
	p.savePath, cmd = p.savePath.Update(msg)
	return cmd
}

func (p *setup) View(w, h int) string {
	st := p.a.st
	var head strings.Builder
	head.WriteString(st.Title.Render(truncate(sanitize(p.rb.Title), w)) + "\n")
	head.WriteString(st.Subtle.Render(truncate("follows "+sanitize(p.rb.Source), w)) + "\n")
	var tail strings.Builder
	if p.waitFacts {
		tail.WriteString("\n" + st.Wait.Render(p.a.spin.View()+" waiting for the probe of the hosts: the parameters' defaults come from their facts"))
	}
	for _, pr := range p.problems {
		tail.WriteString("\n" + st.Fail.Render(truncate("✗ "+pr, w)))
	}
	if p.notice != "" {
		tail.WriteString("\n" + wrap(p.notice, w))
	}
	if p.saving {
		tail.WriteString("\n" + truncate(p.savePath.View(), w))
	}
	headH, tailH := 2, strings.Count(tail.String(), "\n")
	room := max(h-headH-tailH-1, 3)
	var body string
	switch p.stage {
	case stageRoles:
		body = p.viewRoles(w, room)
	case stagePreset:
		var b strings.Builder
		b.WriteString("Start from a preset? The values can be changed in the next screen.\n")
		names := []string{"no preset: the runbook's defaults"}
		for _, pr := range p.rb.Presets {
			names = append(names, sanitize(pr.ID+": "+pr.Title))
		}
		for i, n := range names {
			b.WriteString(cursorLine(st, i == p.presetCur, truncate(n, w-2)) + "\n")
		}
		body = b.String()
	case stageParams:
		label := "Parameters"
		if p.preset != "" {
			label += " (preset " + sanitize(p.preset) + ")"
		}
		if p.a.labRun(p.rb.ID) != nil {
			label += ", the practice lab's values filled in"
		}
		body = st.Subtle.Render(truncate(label+": tab/enter next field, shift+tab back; enter on the last reviews the plan", w)) + "\n"
		if p.form != nil {
			// The form scrolls within the rows the screen leaves it (huh adds a line
			// above its error footer, hence the one row less).
			p.form.WithWidth(w).WithHeight(max(room-2, 4))
			body += p.form.View()
		}
	}
	return head.String() + "\n" + fit(strings.TrimRight(body, "\n"), w, room) + tail.String()
}

// viewRoles lists the roles: id, host and title, in columns as wide as the screen
// allows; under the one being bound, its candidate hosts, scrolled to keep the cursor in
// view. Below, in full: the title of the role under the cursor and what its binding
// means (why a host cannot be chosen, that a host is down and what the run does
// without it, that cutover bound it).
func (p *setup) viewRoles(w, h int) string {
	st := p.a.st
	var b strings.Builder
	probe := st.Subtle.Render("hosts probed at " + p.a.probed.Format("15:04:05"))
	switch {
	case p.a.probing:
		probe = st.Wait.Render(p.a.spin.View() + " probing the hosts")
	case p.a.probed.IsZero():
		probe = st.Warn.Render("hosts not probed")
	}
	b.WriteString(truncate("Bind each role to a host (enter chooses; n goes on)  "+probe, w) + "\n")
	roles := p.rb.Roles
	idW, hostW := 4, 8
	hosts := make([]string, len(roles))
	for i, r := range roles {
		idW = max(idW, len(r.ID))
		hosts[i] = p.boundText(r.ID)
		hostW = max(hostW, lipgloss.Width(hosts[i]))
	}
	idW, hostW = min(idW, w/4), min(hostW, w/3)
	titleW := max(w-2-idW-1-hostW-2, 0)
	cur := roles[p.roleCur]
	detail := p.roleDetail(cur, w)
	for i, r := range roles {
		host := truncate(hosts[i], hostW)
		host += strings.Repeat(" ", max(hostW-lipgloss.Width(host), 0))
		line := fmt.Sprintf("%-*s %s  %s", idW, truncate(r.ID, idW), host, st.Subtle.Render(truncate(sanitize(r.Title), titleW)))
		b.WriteString(cursorLine(st, i == p.roleCur && !p.choosing, line) + "\n")
		if !p.choosing || i != p.roleCur {
			continue
		}
		// Rows for the list: what is left once every role line, the heading and the
		// account of the host under the cursor are drawn; that account gives way (cut,
		// with an ellipsis) so that at least five hosts show.
		avail := h - len(roles) - 1
		if most := max(avail-min(len(p.cands)+1, 6), 2); len(detail) > most {
			detail = append(detail[:most-1:most-1], truncate(detail[most-1], w-1)+"…")
		}
		rows := max(avail-len(detail), 3)
		if rows < len(p.cands) {
			rows = max(rows-2, 3) // the "more" lines above and below
		}
		top := max(min(p.hostCur-rows/2, len(p.cands)-rows), 0)
		if top > 0 {
			b.WriteString(st.Subtle.Render(fmt.Sprintf("      ↑ %d more", top)) + "\n")
		}
		nameW, hnW := 4, 0
		for _, c := range p.cands {
			nameW = max(nameW, len(sanitize(c.h.Name)))
			hnW = max(hnW, len(p.hostname(c.h)))
		}
		nameW, hnW = min(nameW, 16), min(hnW, 24)
		for j := top; j < min(top+rows, len(p.cands)); j++ {
			b.WriteString("    " + cursorLine(st, j == p.hostCur, p.candidateRow(p.cands[j], nameW, hnW, w-6)) + "\n")
		}
		if rest := len(p.cands) - top - rows; rest > 0 {
			b.WriteString(st.Subtle.Render(fmt.Sprintf("      ↓ %d more", rest)) + "\n")
		}
	}
	for _, l := range detail {
		b.WriteString(l + "\n")
	}
	if lr := p.a.labRun(p.rb.ID); lr != nil && !p.choosing {
		for _, l := range strings.Split(hang("practice lab: its run binds "+rolesLine(p.rb, lr.Roles), w, "    "), "\n") {
			b.WriteString(st.Lab.Render(l) + "\n")
		}
	}
	return b.String()
}

// boundText is a role's host as the role list shows it: "(choose)", "hub ✓", "hub ✓
// auto" (bound by cutover), "primary ↓ down", or "hub ✗" (no longer fits).
func (p *setup) boundText(role string) string {
	st := p.a.st
	h := p.bound[role]
	if h == nil {
		return st.Warn.Render("(choose)")
	}
	fit, name := p.fit(role, h), sanitize(h.Name)
	switch {
	case fit.Unprobed:
		return name + " " + st.Faint.Render("(not probed)")
	case !fit.OK():
		return st.Fail.Render(name + " ✗")
	case fit.Down:
		return st.Warn.Render(name + " ↓ down")
	case p.auto[role]:
		return st.Pass.Render(name+" ✓") + " " + st.Subtle.Render("auto")
	}
	return st.Pass.Render(name + " ✓")
}

// hostname is what a host calls itself, or for one that did not answer, what the
// inventory says it is called, sanitised for the screen.
func (p *setup) hostname(h *probe.Host) string {
	if f := p.a.facts[h.Name]; f != nil && f.Hostname != "" {
		return sanitize(f.Hostname)
	}
	return sanitize(h.Vars["hostname"])
}

// candidateRow is one host offered for a role, w cells wide: fits (✓), down but allowed
// (↓), or not (✗, greyed, with the first reason).
func (p *setup) candidateRow(c candidate, nameW, hnW, w int) string {
	st := p.a.st
	name := fmt.Sprintf("%-*s", nameW, truncate(sanitize(c.h.Name), nameW))
	if hnW > 0 {
		name += " " + fmt.Sprintf("%-*s", hnW, truncate(p.hostname(c.h), hnW))
	}
	switch {
	case c.fit.OK() && c.fit.Down:
		return truncate(st.Warn.Render("↓ ")+name+" "+st.Warn.Render("down: "+sanitize(c.fit.Error)), w)
	case c.fit.OK():
		return st.Pass.Render("✓ ") + name
	}
	return st.Faint.Render(truncate("✗ "+name+" "+sanitize(c.why[0]), w))
}

// roleDetail is the account below the role list: the role under the cursor in full,
// and what its binding (or the host under the cursor, while choosing) means.
func (p *setup) roleDetail(r *steps.Role, w int) []string {
	st := p.a.st
	const indent = "    "
	var out []string
	add := func(style lipgloss.Style, s string) {
		for _, l := range strings.Split(hang(s, w, indent), "\n") {
			out = append(out, style.Render(l))
		}
	}
	if !p.choosing {
		// While choosing, the account of the host under the cursor comes first.
		add(st.Subtle, sanitize(r.ID+": "+r.Title))
	}
	h := p.bound[r.ID]
	if p.choosing && p.hostCur < len(p.cands) {
		h = p.cands[p.hostCur].h
	}
	if h == nil {
		return out
	}
	fit, name := p.fit(r.ID, h), sanitize(h.Name)
	switch {
	case fit.Unprobed:
	case !fit.OK():
		add(st.Warn, name+" cannot be "+r.ID+": "+sanitize(strings.Join(fit.Why(r.ID), "; ")))
	case fit.Down:
		text := name + " does not answer (" + sanitize(fit.Error) + "). The " + r.ID + " role may be down: the run goes on without it"
		skips, runs := p.rb.WithoutRole(r.ID)
		if len(skips) > 0 {
			text += ", skipping " + quoteList(skips)
		}
		if len(runs) > 0 {
			text += ", and does " + quoteList(runs) + " instead"
		}
		add(st.Warn, text+"; its requirements are checked when it answers.")
	case p.auto[r.ID] && !p.choosing:
		add(st.Subtle, "bound by cutover: "+name+" is the only host that fits, and no other role could want it")
	}
	return out
}

// quoteList writes titles as «a», «b» and «c».
func quoteList(titles []string) string {
	q := make([]string, len(titles))
	for i, t := range titles {
		q[i] = "«" + sanitize(t) + "»"
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}

// cursorLine marks the row under the cursor with ">" (and reverse video), so the cursor
// is visible without colour.
func cursorLine(st styles.Styles, on bool, s string) string {
	if on {
		return st.Selected.Render(">") + " " + s
	}
	return "  " + s
}

// openRunbook looks for an unfinished run of a runbook on this inventory in the
// journal folder (I/O, so in a command); the page that receives runbookOpenedMsg opens
// the resume offer or the setup.
func openRunbook(a *app, rb *steps.Runbook) tea.Cmd {
	dir := a.cfg.JournalDir
	inv := ""
	if a.inv != nil {
		inv = a.inv.File
	}
	return func() tea.Msg {
		path, st := unfinishedRun(dir, rb.ID, inv)
		return runbookOpenedMsg{rb: rb, unfinished: path, state: st}
	}
}

// runbookOpenedMsg says a runbook was chosen, and names its unfinished run, if any.
type runbookOpenedMsg struct {
	rb         *steps.Runbook
	unfinished string
	state      *steps.RunState
}

// open builds the page for a chosen runbook (in Update: pages read the shared facts),
// to go on top of page from.
func (m runbookOpenedMsg) open(from page, a *app) tea.Cmd {
	if m.unfinished != "" {
		return push(from, newResumeOffer(a, m.rb, m.unfinished, m.state))
	}
	return push(from, newSetupPage(a, m.rb))
}

// unfinishedRun finds the newest journal in dir of a run of id on inventory inv that
// has not ended. A run on another inventory (another site, another practice lab) is not
// this one to resume, however alike its runbook; without an inventory there is none.
func unfinishedRun(dir, id, inv string) (string, *steps.RunState) {
	if inv == "" {
		return "", nil
	}
	r, err := journal.Latest(dir, id, inv, journal.Unfinished)
	if err != nil {
		return "", nil
	}
	return r.Path(), r.State
}
