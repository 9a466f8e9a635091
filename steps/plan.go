package steps

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cutover/cutover/probe"
)

// Inputs are what the operator chose: which host plays each role, parameter values as
// text, and optionally a preset whose values apply first.
type Inputs struct {
	Roles  map[string]string
	Params map[string]string
	Preset string
}

// Plan is a runbook bound to hosts and parameters, with every step kept or skipped and
// the reason. It is computed at the start of a run and recorded in the journal: a
// resumed run follows the recorded plan even though the facts have since changed (the
// Hub is now on the new server, which is the point). The one exception is a host that
// was down at the start and answers during the run: the steps not started yet that its
// absence skipped are planned again (Engine.replan).
type Plan struct {
	Runbook *Runbook
	// Roles maps each role to its host.
	Roles map[string]*probe.Host
	// Params holds typed values, defaults applied.
	Params map[string]any
	// Facts are the probe's findings per host name (nil entries when not probed).
	Facts map[string]*probe.Facts
	Steps []PlannedStep
}

// PlannedStep is one step's fate in a plan.
type PlannedStep struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Skip  bool   `json:"skip,omitempty"`
	// Reason says why a step is skipped, or why its fate depends on facts not known yet.
	Reason string `json:"reason,omitempty"`
	// Undecided marks a step whose condition needs probe facts the plan does not have
	// (an export without an inventory).
	Undecided bool `json:"undecided,omitempty"`
	// Hosts are the hosts the step acts on or checks.
	Hosts []string `json:"hosts,omitempty"`
}

// InputError is bad input from the operator: an unknown role or host, a missing or
// invalid parameter. The command line exits 2 for it.
type InputError struct{ Problems []string }

// Error is every problem, one per line.
func (e *InputError) Error() string { return strings.Join(e.Problems, "\n") }

// RequirementError lists role requirements the bound hosts do not meet. It is evidence
// from the hosts, like a failed gate, so the command line exits 1 for it.
type RequirementError struct{ Problems []string }

// Error lists each unmet requirement, one per line.
func (e *RequirementError) Error() string {
	return "the hosts do not meet the runbook's requirements:\n  " + strings.Join(e.Problems, "\n  ")
}

// HostLookup finds an inventory host by name.
type HostLookup func(name string) *probe.Host

// Prepare binds a runbook to hosts and parameters and plans it. facts may be nil (an
// export without probing): then conditions on facts are left undecided and role
// requirements are not checked. It runs in passes, each of which reports every problem
// it finds before the next starts: bind the roles and gather the given values, resolve
// the parameters (defaults, types), check the role requirements, decide the steps.
func Prepare(rb *Runbook, lookup HostLookup, in Inputs, facts map[string]*probe.Facts) (*Plan, error) {
	p := &Plan{Runbook: rb, Roles: map[string]*probe.Host{}, Params: map[string]any{}, Facts: map[string]*probe.Facts{}}
	bad := p.bindRoles(lookup, in.Roles, facts)
	raw, badValues := givenValues(rb, in)
	if bad = append(bad, badValues...); len(bad) > 0 {
		return nil, &InputError{Problems: bad}
	}
	if bad := p.resolveParams(raw, facts == nil); len(bad) > 0 {
		return nil, &InputError{Problems: bad}
	}
	if facts != nil {
		if unmet := p.unmet(); len(unmet) > 0 {
			return nil, &RequirementError{Problems: unmet}
		}
	}
	if err := p.decideSteps(facts == nil); err != nil {
		return nil, err
	}
	return p, nil
}

// bindRoles binds each role to its inventory host (and that host's facts), listing
// unknown roles, unbound ones and hosts the inventory lacks.
func (p *Plan) bindRoles(lookup HostLookup, roles map[string]string, facts map[string]*probe.Facts) []string {
	rb := p.Runbook
	var bad []string
	for _, r := range slices.Sorted(maps.Keys(roles)) {
		if rb.Role(r) == nil {
			bad = append(bad, fmt.Sprintf("unknown role %q (%s has: %s)", r, rb.ID, listOr(rb.RoleIDs())))
		}
	}
	for _, r := range rb.Roles {
		name, ok := roles[r.ID]
		if !ok || name == "" {
			bad = append(bad, fmt.Sprintf("role %s (%s) is not bound to a host: use --role %s=HOST", r.ID, r.Title, r.ID))
			continue
		}
		h := lookup(name)
		if h == nil {
			bad = append(bad, fmt.Sprintf("role %s: host %q is not in the inventory", r.ID, name))
			continue
		}
		p.Roles[r.ID] = h
		if facts != nil {
			p.Facts[h.Name] = facts[h.Name]
		}
	}
	return bad
}

// givenValues gathers the parameter texts the operator gave: the preset's first, then
// each --set over it, refusing unknown presets and parameters.
func givenValues(rb *Runbook, in Inputs) (map[string]string, []string) {
	raw := map[string]string{}
	var bad []string
	if in.Preset != "" {
		pr := rb.Preset(in.Preset)
		if pr == nil {
			bad = append(bad, fmt.Sprintf("unknown preset %q (%s has: %s)", in.Preset, rb.ID, listOr(presetIDs(rb))))
		} else {
			maps.Copy(raw, pr.Params)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(in.Params)) {
		if rb.Param(k) == nil {
			bad = append(bad, fmt.Sprintf("unknown parameter %q (%s has: %s)", k, rb.ID, listOr(paramIDs(rb.Params))))
			continue
		}
		raw[k] = in.Params[k]
	}
	return raw, bad
}

// resolveParams gives every parameter its value: the given text or the rendered
// default, parsed by its type. Without facts (unprobed) a default drawn from facts stays
// a placeholder such as "<new.hostname>". Each parameter sees the ones before it.
func (p *Plan) resolveParams(raw map[string]string, unprobed bool) []string {
	var bad []string
	x := p.exec(nil)
	set := func(id string, v any) {
		p.Params[id] = v
		x.values.Params[id] = v
	}
	for _, prm := range p.Runbook.Params {
		text, given := raw[prm.ID]
		if !given && !prm.Default.IsZero() {
			s, err := x.render(prm.Default)
			if err != nil {
				bad = append(bad, fmt.Sprintf("parameter %s: default: %v", prm.ID, err))
				continue
			}
			if unprobed && usesFacts(prm.Default.Src) {
				// The default comes from facts not gathered yet: show where it will come
				// from ("<new.hostname>") instead of judging a placeholder. A default that
				// renders a valid value anyway (a fallback port) keeps its type, so
				// templates show it rather than a zero.
				if v, err := prm.Parse(s); err == nil && !strings.Contains(s, "<") {
					set(prm.ID, v)
				} else {
					set(prm.ID, s)
				}
				continue
			}
			text, given = s, true
		}
		if !given && !prm.Optional && prm.Type != TypeBool {
			if prm.Secret {
				// Not --set: the command line is visible to other users of the machine.
				bad = append(bad, fmt.Sprintf("parameter %s (%s) is a required secret: give it with --set-file %s=FILE or %s, or at the prompt on a terminal",
					prm.ID, prm.Title, prm.ID, ParamEnvName(prm.ID)))
			} else {
				bad = append(bad, fmt.Sprintf("parameter %s (%s) is required: use --set %s=VALUE", prm.ID, prm.Title, prm.ID))
			}
			continue
		}
		v, err := prm.Parse(text)
		if err != nil {
			bad = append(bad, fmt.Sprintf("parameter %s: %v", prm.ID, err))
			continue
		}
		set(prm.ID, v)
	}
	return bad
}

// decideSteps plans each step: run, skipped by its condition (with the reason), or,
// unprobed, undecided when its condition reads facts.
func (p *Plan) decideSteps(unprobed bool) error {
	vals := p.values()
	for _, s := range p.Runbook.Steps {
		ps := PlannedStep{ID: s.ID, Title: s.Title, Hosts: p.stepHosts(s)}
		if s.When != nil {
			switch {
			case unprobed && usesFacts(s.When.Src):
				ps.Undecided = true
				ps.Reason = "decided when run, from the hosts' facts; skipped if " + skipText(s)
			default:
				ok, err := s.When.eval(p.Runbook.schema, vals, "")
				if err != nil {
					return err
				}
				if !ok {
					ps.Skip, ps.Reason = true, skipText(s)
				}
			}
		}
		p.Steps = append(p.Steps, ps)
	}
	return nil
}

// unmet lists the role requirements the bound hosts break, each once, judged by
// Runbook.Fit. Hosts that did not answer are left to the caller, which reports them
// (exit 4) unless their roles may be down.
func (p *Plan) unmet() []string {
	b := Binding{Roles: p.Roles, Facts: p.Facts, Params: p.Params}
	order := map[string]int{}
	for i, r := range p.Runbook.Roles {
		order[r.ID] = i
	}
	seen := map[string]bool{}
	var all []Unmet
	for _, r := range p.Runbook.Roles {
		for _, u := range p.Runbook.Fit(r.ID, p.Roles[r.ID], b).Unmet {
			key := fmt.Sprintf("%s/%d", u.Role, u.Index)
			if u.Index == -1 || seen[key] {
				continue
			}
			seen[key] = true
			all = append(all, u)
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		if order[all[i].Role] != order[all[j].Role] {
			return order[all[i].Role] < order[all[j].Role]
		}
		return all[i].Index < all[j].Index
	})
	out := make([]string, len(all))
	for i, u := range all {
		out[i] = fmt.Sprintf("role %s on %s: %s (%s)", u.Role, u.Host, u.Because, u.Src)
	}
	return out
}

// replanned decides again, with the plan's current facts, the steps of st that have not
// started and were skipped by their condition; it returns the new plan and the steps
// that now run. A condition that cannot be evaluated leaves its step as planned.
func (p *Plan) replanned(st *RunState) ([]PlannedStep, []string) {
	vals := p.values()
	var next []PlannedStep
	var added []string
	for _, ss := range st.Steps {
		ps := ss.Planned
		if s := p.Runbook.Step(ps.ID); s != nil && s.When != nil && ss.Status == StepPending && ps.Skip {
			if ok, err := s.When.eval(p.Runbook.schema, vals, ""); err == nil && ok {
				ps.Skip, ps.Reason, ps.Undecided = false, "", false
				added = append(added, ps.ID)
			}
		}
		next = append(next, ps)
	}
	return next, added
}

func presetIDs(rb *Runbook) []string {
	out := make([]string, len(rb.Presets))
	for i, p := range rb.Presets {
		out[i] = p.ID
	}
	return out
}

// skipText says why a step is skipped: the runbook's words, or the condition itself.
func skipText(s *Step) string {
	if s.SkipReason != "" {
		return s.SkipReason
	}
	return "its condition is false: " + s.When.Src
}

// usesFacts reports whether a condition reads roles (probe facts), not only parameters.
func usesFacts(src string) bool { return strings.Contains(src, "roles.") }

// values are what expressions see for this plan.
func (p *Plan) values() *Values {
	v := &Values{Params: map[string]any{}, Roles: map[string]RoleEnv{}}
	for k, x := range p.Params {
		v.Params[k] = x
	}
	for r, h := range p.Roles {
		f := p.Facts[h.Name]
		if f == nil {
			v.Roles[r] = placeholderRole(r, h)
		} else {
			v.Roles[r] = NewRoleEnv(h, f)
		}
	}
	return v
}

// placeholderRole stands in for facts not gathered (an export without probing): text
// fields read "<role.field>" so the checklist shows what will be filled in.
func placeholderRole(role string, h *probe.Host) RoleEnv {
	r := NewRoleEnv(h, nil)
	ph := func(f string) string { return "<" + role + "." + f + ">" }
	r.Hostname, r.OS, r.OSName = ph("hostname"), ph("os"), ph("os_name")
	r.Components = []string{ph("components")}
	r.MachineID, r.TimeZone = ph("machine_id"), ph("timezone")
	if r.Address == "" {
		r.Address = ph("address")
	}
	if r.InstallDir == "" {
		r.InstallDir = ph("install_dir")
	}
	return r
}

// exec returns a step context for describing and evaluating without a run.
func (p *Plan) exec(s *Step) *stepExec {
	env := p.env(nil, time.Now)
	if s == nil {
		s = &Step{}
	}
	return &stepExec{runEnv: env, step: s}
}

// env is what the steps of a run of this plan work with: the values expressions see, the
// hosts, their facts and the secrets to keep out of everything shown. The engine, the
// verify-only replay, the preflight and plan descriptions all start from it.
func (p *Plan) env(pool *probe.Pool, now func() time.Time) *runEnv {
	return &runEnv{rb: p.Runbook, values: *p.values(), bindings: p.Roles, facts: p.Facts, pool: pool,
		now: now, secrets: secretValues(p.Runbook, p.Params)}
}

// stepHosts lists the hosts a step touches, for plan review.
func (p *Plan) stepHosts(s *Step) []string {
	seen := map[string]bool{}
	add := func(role string) {
		if h := p.Roles[role]; h != nil {
			seen[h.Name] = true
		}
	}
	for _, ch := range append(append([]*Check{}, s.Pre...), s.Gates...) {
		for _, r := range specRoles(ch.Spec) {
			add(r)
		}
	}
	if s.Action != nil {
		for _, r := range specRoles(s.Action.Spec) {
			add(r)
		}
	}
	out := make([]string, 0, len(seen))
	for h := range seen {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// specRoles finds every role a check or action refers to, by looking at its Ref fields.
func specRoles(spec any) []string {
	var out []string
	walkRefs(spec, func(r Ref) { out = append(out, r.Name) })
	return out
}

// Description lists, for plan review and exports, what a step does: the action (and its
// exact commands or changes) and each check.
type Description struct {
	Text   string
	Phrase string
	Action *ActionRecord
	// ActionError is set when the action could not be planned (a missing service
	// command in the inventory, say).
	ActionError string
	Pre         []string
	Gates       []string
}

// Describe renders what step id will do under this plan.
func (p *Plan) Describe(id string) (*Description, error) {
	s := p.Runbook.Step(id)
	if s == nil {
		return nil, errors.New("no step " + id)
	}
	x := p.exec(s)
	// Descriptions reach screens and exports: secrets are removed from everything.
	d := &Description{Text: x.redact(x.renderText(s.Text)), Phrase: x.redact(x.mustRender(s.Phrase))}
	if s.Action != nil {
		rec, err := s.Action.Spec.plan(x)
		d.Action = &rec
		if err != nil {
			d.ActionError = err.Error()
		}
	}
	for _, ch := range s.Pre {
		d.Pre = append(d.Pre, checkLabel(x, ch))
	}
	for _, ch := range s.Gates {
		d.Gates = append(d.Gates, checkLabel(x, ch))
	}
	return d, nil
}

func checkLabel(x *stepExec, ch *Check) string {
	s := x.redact(ch.Spec.describe(x))
	if ch.Name != "" {
		s = ch.Name + ": " + s
	}
	if ch.Wait != nil {
		s += fmt.Sprintf(" (waits up to %s)", ch.Wait.Timeout.D)
	}
	if ch.When != nil {
		s += " (only when " + ch.When.Src + ")"
	}
	return s
}

// walkRefs calls f for every role reference in a check or action spec. Reflection keeps
// this correct for every kind without each one listing its role fields again.
func walkRefs(spec any, f func(Ref)) {
	walkFields(spec, func(v reflect.Value) {
		switch x := v.Interface().(type) {
		case Ref:
			if x.Name != "" {
				f(x)
			}
		case Refs:
			for _, r := range x {
				f(r)
			}
		}
	})
}

// walkFields calls f with every exported field of a check's or action's spec.
func walkFields(spec any, f func(reflect.Value)) {
	rv := reflect.ValueOf(spec)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return
	}
	for i := range rv.NumField() {
		if rv.Type().Field(i).IsExported() {
			f(rv.Field(i))
		}
	}
}

// secretValues lists the values of a plan's secret parameters, for redaction.
func secretValues(rb *Runbook, params map[string]any) []string {
	var out []string
	for _, p := range rb.Params {
		if v, ok := params[p.ID]; ok && p.Secret {
			if s := format(v); s != "" {
				// Commands carry the value quoted for their shell: those forms are the
				// secret too ('it'\''s' holds no "it's").
				out = append(out, s)
				for _, q := range []string{probe.ShellQuote(s), probe.PSQuote(s)} {
					if q != s && !slices.Contains(out, q) {
						out = append(out, q)
					}
				}
			}
		}
	}
	return out
}
