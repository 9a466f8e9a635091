package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	yaml "github.com/goccy/go-yaml"

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
	// choosing is set while the host list of one role is open.
	choosing bool
	hostCur  int
	bound    map[string]*probe.Host

	presetCur int // 0 = no preset
	preset    string
	form      *huh.Form
	values    map[string]*string
	bools     map[string]*bool

	problems []string
	saving   bool
	savePath textinput.Model
	notice   string
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
	p := &setup{a: a, rb: rb, bound: map[string]*probe.Host{}}
	if rf := a.cfg.RunFile; rf != nil && rf.Runbook == rb.ID {
		for role, host := range rf.Roles {
			if h := a.inv.Host(host); h != nil {
				p.bound[role] = h
			}
		}
		if rf.Preset != "" {
			p.preset = rf.Preset
		}
	}
	ti := textinput.New()
	ti.Prompt = "save run file to: "
	ti.SetValue(filepath.Join("runs", strings.ReplaceAll(rb.ID, "/", "-")+".yaml"))
	p.savePath = ti
	p.autoBind()
	return p
}

func (p *setup) Init() tea.Cmd   { return nil }
func (p *setup) Title() string   { return "setup: " + p.rb.ID }
func (p *setup) Capturing() bool { return p.saving || p.stage == stageParams }

func (p *setup) ShortHelp() []key.Binding {
	k := p.a.keys
	switch {
	case p.saving:
		return bindings(k.Confirm, k.Back)
	case p.stage == stageParams:
		return bindings(key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab/enter", "next field")), k.Back, k.Save)
	case p.choosing:
		return bindings(k.Up, k.Down, k.Confirm, k.Back)
	}
	return bindings(k.Up, k.Down, key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "choose host")),
		key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "next")), k.Back, k.Save)
}

func (p *setup) FullHelp() [][]key.Binding { return [][]key.Binding{p.ShortHelp()} }

// autoBind gives a role the only host that fits it, when exactly one does.
func (p *setup) autoBind() {
	for _, r := range p.rb.Roles {
		if p.bound[r.ID] != nil {
			continue
		}
		var fit []*probe.Host
		for _, h := range p.a.inv.Hosts {
			if len(p.rb.RoleFit(r.ID, h, p.a.facts, p.bound)) == 0 {
				fit = append(fit, h)
			}
		}
		if len(fit) == 1 {
			p.bound[r.ID] = fit[0]
		}
	}
}

// candidates lists hosts for a role: those that fit first, then the rest with reasons.
func (p *setup) candidates(role string) (hosts []*probe.Host, why [][]string) {
	type c struct {
		h   *probe.Host
		why []string
	}
	var cs []c
	others := map[string]*probe.Host{}
	for k, v := range p.bound {
		if k != role {
			others[k] = v
		}
	}
	for _, h := range p.a.inv.Hosts {
		cs = append(cs, c{h, p.rb.RoleFit(role, h, p.a.facts, others)})
	}
	sort.SliceStable(cs, func(i, j int) bool { return len(cs[i].why) == 0 && len(cs[j].why) > 0 })
	for _, x := range cs {
		hosts, why = append(hosts, x.h), append(why, x.why)
	}
	return hosts, why
}

func (p *setup) Update(msg tea.Msg) (page, tea.Cmd) {
	switch msg := msg.(type) {
	case factsMsg:
		p.autoBind()
		return p, nil
	case savedMsg:
		p.saving = false
		if msg.err != nil {
			p.notice = p.a.st.Fail.Render("not saved: " + msg.err.Error())
		} else {
			p.notice = p.a.st.Pass.Render("saved " + msg.path)
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
			p.saving = true
			return p, p.savePath.Focus()
		}
		switch p.stage {
		case stageRoles:
			return p, p.rolesKey(msg)
		case stagePreset:
			return p, p.presetKey(msg)
		}
	}
	if p.stage == stageParams && p.form != nil {
		if km, ok := msg.(tea.KeyPressMsg); ok && key.Matches(km, p.a.keys.Back) {
			p.stage = stageRoles
			return p, nil
		}
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
		hosts, why := p.candidates(roles[p.roleCur].ID)
		switch {
		case key.Matches(msg, k.Up):
			p.hostCur = max(p.hostCur-1, 0)
		case key.Matches(msg, k.Down):
			p.hostCur = min(p.hostCur+1, len(hosts)-1)
		case key.Matches(msg, k.Back):
			p.choosing = false
		case key.Matches(msg, k.Confirm):
			if len(why[p.hostCur]) > 0 {
				p.notice = p.a.st.Warn.Render(hosts[p.hostCur].Name + " cannot play this role: " + why[p.hostCur][0])
				return nil
			}
			p.bound[roles[p.roleCur].ID] = hosts[p.hostCur]
			p.choosing, p.notice = false, ""
			p.roleCur = min(p.roleCur+1, len(roles)-1)
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
	case key.Matches(msg, k.Confirm):
		p.choosing, p.hostCur = true, 0
	case msg.String() == "n":
		for _, r := range roles {
			if p.bound[r.ID] == nil {
				p.notice = p.a.st.Warn.Render("bind every role first: " + r.ID + " has no host")
				return nil
			}
		}
		p.notice = ""
		if len(p.rb.Presets) > 0 {
			p.stage = stagePreset
			return nil
		}
		return p.openForm()
	}
	return nil
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
	case key.Matches(msg, k.Confirm):
		p.preset = ""
		if p.presetCur > 0 {
			p.preset = p.rb.Presets[p.presetCur-1].ID
		}
		return p.openForm()
	}
	return nil
}

// openForm builds the parameter form: defaults from the runbook (computed from the
// bound hosts' facts), then the preset, then a run file's values.
func (p *setup) openForm() tea.Cmd {
	p.stage = stageParams
	p.values, p.bools = map[string]*string{}, map[string]*bool{}
	initial := map[string]string{}
	for _, prm := range p.rb.Params {
		initial[prm.ID] = p.rb.DefaultText(prm.ID, p.bound, p.a.facts)
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
	var fields []huh.Field
	for _, prm := range p.rb.Params {
		title := prm.Title
		if title == "" {
			title = prm.ID
		}
		switch prm.Type {
		case steps.TypeBool:
			v, _ := strconv.ParseBool(initial[prm.ID])
			p.bools[prm.ID] = &v
			fields = append(fields, huh.NewConfirm().Title(title).Description(prm.Help).Affirmative("Yes").Negative("No").Value(p.bools[prm.ID]))
		case steps.TypeChoice:
			v := initial[prm.ID]
			p.values[prm.ID] = &v
			fields = append(fields, huh.NewSelect[string]().Title(title).Description(prm.Help).Options(huh.NewOptions(prm.Choices...)...).Value(p.values[prm.ID]))
		default:
			v := initial[prm.ID]
			p.values[prm.ID] = &v
			in := huh.NewInput().Title(title).Description(prm.Help).Value(p.values[prm.ID]).Validate(validator(prm))
			if prm.Secret {
				in = in.EchoMode(huh.EchoModePassword)
			}
			fields = append(fields, in)
		}
	}
	if len(fields) == 0 {
		return p.finish()
	}
	p.form = huh.NewForm(huh.NewGroup(fields...)).WithShowHelp(false).WithTheme(huh.ThemeFunc(huh.ThemeBase16))
	p.form.SubmitCmd = func() tea.Msg { return formDoneMsg{} }
	p.form.CancelCmd = func() tea.Msg { return formCancelMsg{} }
	return p.form.Init()
}

func validator(prm *steps.Param) func(string) error {
	return func(s string) error {
		_, err := prm.Parse(s)
		return err
	}
}

// inputs collects the choices as plan inputs.
func (p *setup) inputs() steps.Inputs {
	in := steps.Inputs{Roles: map[string]string{}, Params: map[string]string{}, Preset: p.preset}
	for r, h := range p.bound {
		in.Roles[r] = h.Name
	}
	for k, v := range p.values {
		in.Params[k] = *v
	}
	for k, v := range p.bools {
		in.Params[k] = strconv.FormatBool(*v)
	}
	return in
}

// finish plans the run with the facts at hand and opens the plan review.
func (p *setup) finish() tea.Cmd {
	plan, err := steps.Prepare(p.rb, p.a.inv.Host, p.inputs(), p.a.facts)
	if err != nil {
		p.stage = stageRoles
		p.problems = problemLines(err)
		return nil
	}
	p.problems = nil
	return openPlan(p.a, plan, p.inputs())
}

func problemLines(err error) []string {
	var ie *steps.InputError
	var re *steps.RequirementError
	switch {
	case errors.As(err, &ie):
		return ie.Problems
	case errors.As(err, &re):
		return re.Problems
	}
	return []string{err.Error()}
}

func (p *setup) saveKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		p.saving = false
		return nil
	case "enter":
		path := strings.TrimSpace(p.savePath.Value())
		rf := runFileFor(p.rb, p.inputs(), p.a.inv.File)
		return func() tea.Msg { return savedMsg{path: path, err: writeRunFile(path, rf)} }
	}
	var cmd tea.Cmd
	p.savePath, cmd = p.savePath.Update(msg)
	return cmd
}

// runFileFor writes down the setup; secret parameters are left out on purpose.
func runFileFor(rb *steps.Runbook, in steps.Inputs, inv string) map[string]any {
	params := map[string]any{}
	for k, v := range in.Params {
		if prm := rb.Param(k); prm != nil && !prm.Secret {
			params[k] = v
		}
	}
	out := map[string]any{"runbook": rb.ID, "roles": in.Roles, "params": params}
	if abs, err := filepath.Abs(inv); err == nil && inv != "" {
		out["inventory"] = abs
	}
	if in.Preset != "" {
		out["preset"] = in.Preset
	}
	return out
}

func writeRunFile(path string, rf map[string]any) error {
	data, err := yaml.Marshal(rf)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	header := "# Run file written by the cutover wizard. Secret parameters are not stored.\n"
	if err := os.WriteFile(tmp, append([]byte(header), data...), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (p *setup) View(w, h int) string {
	st := p.a.st
	var b strings.Builder
	b.WriteString(st.Title.Render(p.rb.Title) + "\n")
	b.WriteString(st.Subtle.Render(truncate("follows "+p.rb.Source, w)) + "\n\n")
	switch p.stage {
	case stageRoles:
		p.viewRoles(&b, w)
	case stagePreset:
		b.WriteString("Start from a preset?\n")
		names := []string{"no preset: defaults only"}
		for _, pr := range p.rb.Presets {
			names = append(names, pr.ID+": "+pr.Title)
		}
		for i, n := range names {
			b.WriteString(cursorLine(st, i == p.presetCur, truncate(n, w-2)) + "\n")
		}
	case stageParams:
		b.WriteString("Parameters (tab or enter: next field; the last enter reviews the plan)\n\n")
		if p.form != nil {
			// The form scrolls within what the screen leaves it.
			p.form.WithWidth(w).WithHeight(max(h-6, 4))
			b.WriteString(p.form.View())
		}
	}
	for _, pr := range p.problems {
		b.WriteString("\n" + st.Fail.Render(truncate("✗ "+pr, w)))
	}
	if p.notice != "" {
		b.WriteString("\n" + truncate(p.notice, w))
	}
	if p.saving {
		b.WriteString("\n\n" + p.savePath.View())
	}
	return b.String()
}

func (p *setup) viewRoles(b *strings.Builder, w int) {
	st := p.a.st
	b.WriteString("Bind each role to a host:\n")
	for i, r := range p.rb.Roles {
		host := st.Warn.Render("(choose)")
		if h := p.bound[r.ID]; h != nil {
			host = st.Pass.Render(h.Name + " ✓")
		}
		line := fmt.Sprintf("%-6s %-46s %s", r.ID, truncate(r.Title, 46), host)
		b.WriteString(cursorLine(st, i == p.roleCur && !p.choosing, line) + "\n")
		if p.choosing && i == p.roleCur {
			hosts, why := p.candidates(r.ID)
			for j, h := range hosts {
				name := fmt.Sprintf("%-10s", h.Name)
				if f := p.a.facts[h.Name]; f != nil && f.Hostname != "" {
					name += " " + f.Hostname
				}
				var line string
				if len(why[j]) == 0 {
					line = "  " + name
				} else {
					line = st.Faint.Render(truncate("  "+name+"  — "+why[j][0], w-4))
				}
				b.WriteString("    " + cursorLine(st, j == p.hostCur, line) + "\n")
			}
		}
	}
}

// cursorLine marks the row under the cursor with ">" (and reverse video), so the cursor
// is visible without colour.
func cursorLine(st styles.Styles, on bool, s string) string {
	if on {
		return st.Selected.Render(">") + " " + s
	}
	return "  " + s
}

// openRunbook opens a runbook: if an unfinished run of it is in the journal folder, the
// operator is offered to resume it first.
func openRunbook(a *app, rb *steps.Runbook) tea.Cmd {
	dir := a.cfg.JournalDir
	return func() tea.Msg {
		if path, st := unfinishedRun(dir, rb.ID); path != "" {
			return pushMsg{newResumeOffer(a, rb, path, st)}
		}
		return pushMsg{newSetupPage(a, rb)}
	}
}

// unfinishedRun finds the newest journal in dir of a run of id that has not ended.
func unfinishedRun(dir, id string) (string, *steps.RunState) {
	names, _ := filepath.Glob(filepath.Join(dir, strings.ReplaceAll(id, "/", "-")+"-*.jsonl"))
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	for _, n := range names {
		j, err := journal.Read(n)
		if err != nil {
			continue
		}
		st := steps.NewRunState(j.Events)
		if st.Session != nil && st.Session.Runbook == id && !st.Ended {
			return n, st
		}
	}
	return "", nil
}
