package tui

// The setup's parameter form, the plan it leads to, and the run file the setup can be
// saved as.

import (
	"errors"
	"maps"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"

	"github.com/cutover/cutover/steps"
)

// openForm builds the parameter form: defaults from the runbook (computed from the
// bound hosts' facts), then the practice lab's values (its paths point into the
// simulated hosts), then the preset, then the values of the run file the wizard was
// given, then what the operator typed the times the form was open before.
func (p *setup) openForm() tea.Cmd {
	p.stage = stageParams
	p.keepEdits()
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
	// What the operator typed the last time the form was open wins: leaving it for the
	// roles (or being sent back to them by the plan) must not cost the answers.
	maps.Copy(initial, p.typed)
	// The defaults of the rest, in the runbook's order: a default may read the
	// parameters given and those above it ("{{ params.share }}/Users").
	for _, prm := range p.rb.Params {
		if _, given := initial[prm.ID]; !given {
			initial[prm.ID] = p.rb.DefaultText(prm.ID, p.bound, p.a.facts, initial)
			p.shown[prm.ID] = initial[prm.ID]
		}
	}
	p.opened = maps.Clone(initial)
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

// keepEdits adds to typed what the operator changed in the form the last time it was
// open: every field whose value is not the one it was opened with.
func (p *setup) keepEdits() {
	if p.typed == nil {
		p.typed = map[string]string{}
	}
	for k, v := range p.values {
		if *v != p.opened[k] {
			p.typed[k] = *v
		}
	}
	for k, v := range p.bools {
		if was, _ := strconv.ParseBool(p.opened[k]); *v != was {
			p.typed[k] = strconv.FormatBool(*v)
		}
	}
}

// formParams are the parameters as the form holds them, typed, once it has been opened;
// nil before, since the roles are chosen first (a requirement that reads a parameter is
// then pending on it). A value that does not parse is left out: the form says why.
func (p *setup) formParams() map[string]any {
	if p.values == nil {
		return nil
	}
	out := map[string]any{}
	for k, v := range p.inputs().Params {
		if prm := p.rb.Param(k); prm != nil {
			if x, err := prm.Parse(v); err == nil {
				out[k] = x
			}
		}
	}
	return out
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
	in := p.inputs()
	plan, err := steps.Prepare(p.rb, p.a.inv.Host, in, p.a.facts)
	if err != nil {
		p.stage = stageRoles
		p.problems = problemLines(err)
		return nil
	}
	p.problems = nil
	review := openPlan(p, p.a, plan, in, maps.Clone(p.auto))
	if len(p.rb.Params) == 0 {
		p.stage = stageRoles // back from the review (esc), the roles: there is no form
		return review
	}
	// Back from the review (esc), the form is there again with the values as given: the
	// submitted one draws nothing.
	return tea.Batch(review, p.openForm())
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
