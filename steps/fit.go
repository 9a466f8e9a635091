package steps

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/cutover/cutover/probe"
)

// Binding is what a role fit is judged against: the hosts bound to roles so far, the
// facts known of hosts, and the parameters when they are known (nil while roles are
// being chosen, before the parameters).
type Binding struct {
	Roles  map[string]*probe.Host
	Facts  map[string]*probe.Facts
	Params map[string]any
}

// Fit is the verdict on one host for one role. The wizard (offering and greying hosts,
// binding by itself), the plan (the requirements of a run), the runner (which hosts
// must answer, which to lock) and replay all take it from Runbook.Fit, so none of them
// can judge a host differently from the others.
type Fit struct {
	// Unmet lists why the host cannot play the role; empty when it can.
	Unmet []Unmet
	// Unprobed means nothing is known of the host yet: it cannot be judged.
	Unprobed bool
	// Down means the host does not answer and the role may be down (the failed primary
	// of a failover): it fits, and its requirements wait until it answers.
	Down bool
	// Error is why the host did not answer, when it did not.
	Error string
}

// Unmet is one requirement a binding breaks: a requirement of the role itself, of
// another bound role (a standby that must be another host than the primary), or the
// host not answering for a role that needs it to.
type Unmet struct {
	// Role is the role whose requirement fails, Host the host bound to it.
	Role, Host string
	// Because is the runbook's reason; Src the requirement's expression ("" when the
	// host did not answer).
	Because, Src string
	// Index is the requirement's place in its role (-1 when the host did not answer),
	// so that one requirement judged for two roles is reported once.
	Index int
	// Params are the parameters the requirement reads, listed while the parameters are
	// not known yet (Binding.Params nil: roles are chosen before them), since giving
	// one of them may meet it ("hub_dir" for a Hub kept in the site's own folder).
	Params []string
}

// OK reports whether the host may be bound: it fits, or it is down and the role may
// be down.
func (f Fit) OK() bool { return len(f.Unmet) == 0 && !f.Unprobed }

// Pending lists the parameters that may still make the host fit, when every
// requirement it breaks reads a parameter not given yet; nil otherwise. The wizard binds
// such a host on that condition, and the plan judges it again once the parameters are
// given, before anything runs.
func (f Fit) Pending() []string {
	if f.Unprobed || len(f.Unmet) == 0 {
		return nil
	}
	var out []string
	for _, u := range f.Unmet {
		if len(u.Params) == 0 {
			return nil
		}
		for _, p := range u.Params {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Unreachable reports whether the host did not answer.
func (f Fit) Unreachable() bool { return f.Error != "" }

// Why says, from the point of view of the role being judged, why the host cannot play
// it: "not probed yet", "unreachable: ...", the role's own reasons, and "<role> on
// <host>: <reason>" for another role's requirement the binding would break.
func (f Fit) Why(role string) []string {
	if f.Unprobed {
		return []string{"not probed yet"}
	}
	var out []string
	for _, u := range f.Unmet {
		switch {
		case u.Index == -1:
			out = append(out, "unreachable: "+u.Because)
		case u.Role == role:
			out = append(out, u.Because)
		default:
			out = append(out, u.Role+" on "+u.Host+": "+u.Because)
		}
	}
	return out
}

// Fit says whether host h can play role given b: the role's requirements with h bound
// to it, and the requirements of the other roles bound to answering hosts, which the
// binding may break (distinct hosts are such requirements). A host that does not
// answer fits only a role that may be down, and then unchecked; one never probed
// cannot be judged.
func (rb *Runbook) Fit(role string, h *probe.Host, b Binding) Fit {
	r := rb.Role(role)
	if r == nil {
		return Fit{Unmet: []Unmet{{Role: role, Host: h.Name, Because: fmt.Sprintf("no role %q", role), Index: -2}}}
	}
	f := b.Facts[h.Name]
	switch {
	case f == nil:
		return Fit{Unprobed: true}
	case !f.Reachable:
		if r.MayBeDown {
			return Fit{Down: true, Error: f.Error}
		}
		return Fit{Error: f.Error, Unmet: []Unmet{{Role: role, Host: h.Name, Because: f.Error, Index: -1}}}
	}
	vals := &Values{Params: map[string]any{}, Roles: map[string]RoleEnv{}}
	for k, v := range b.Params {
		vals.Params[k] = v
	}
	bound := map[string]*probe.Host{}
	for _, other := range rb.Roles {
		bh := b.Roles[other.ID]
		if other.ID == role {
			bh = h
		}
		switch {
		case bh == nil:
			vals.Roles[other.ID] = placeholderRole(other.ID, &probe.Host{Name: "<" + other.ID + ">"})
		case b.Facts[bh.Name] == nil:
			vals.Roles[other.ID] = placeholderRole(other.ID, bh)
		default:
			vals.Roles[other.ID] = NewRoleEnv(bh, b.Facts[bh.Name])
			bound[other.ID] = bh
		}
	}
	var out Fit
	for _, judged := range rb.Roles {
		jh := bound[judged.ID]
		if jh == nil || !b.Facts[jh.Name].Reachable {
			continue // unbound, unprobed or down: nothing to break
		}
		for i, req := range judged.Requires {
			if judged.ID != role && !mentionsRole(req.That.Src, role) {
				continue // another role's requirement that does not look at this one
			}
			ok, err := req.That.eval(rb.schema, vals, judged.ID)
			if err == nil && ok {
				continue
			}
			u := Unmet{Role: judged.ID, Host: jh.Name, Because: req.Because, Src: req.That.Src, Index: i}
			if err != nil {
				u.Because = err.Error()
			}
			if b.Params == nil {
				u.Params = paramsRead(req.That.Src)
			}
			out.Unmet = append(out.Unmet, u)
		}
	}
	return out
}

// mentionsRole reports whether an expression reads role's binding (roles.ROLE).
func mentionsRole(src, role string) bool {
	return slices.Contains(namesAfter(src, "roles."), role)
}

// paramsRead lists the parameters an expression reads (params.ID), in order, once each.
func paramsRead(src string) []string { return namesAfter(src, "params.") }

// namesAfter lists the names an expression reads under prefix ("roles.", "params."),
// in order, once each: prefix must start a name of its own (not end "myparams." or
// follow a dot), and the name is the identifier after it.
func namesAfter(src, prefix string) []string {
	var out []string
	for rest := src; ; {
		i := strings.Index(rest, prefix)
		if i < 0 {
			return out
		}
		own := i == 0 || !isIdentChar(rest[i-1]) && rest[i-1] != '.'
		rest = rest[i+len(prefix):]
		end := 0
		for end < len(rest) && isIdentChar(rest[end]) {
			end++
		}
		if id := rest[:end]; own && id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
		rest = rest[end:]
	}
}

func isIdentChar(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// AutoBind binds the roles that cannot be bound wrongly, and returns them: a role not
// bound yet that may not be down, exactly one of hosts fits it, and that host is bound
// to no other role and fits no other role still unbound (which could want it: a
// healthy standby fits a failed primary's requirements too). Everything else is the
// operator's choice. bound is changed in place.
func (rb *Runbook) AutoBind(hosts []*probe.Host, facts map[string]*probe.Facts, bound map[string]*probe.Host) []string {
	var out []string
	for changed := true; changed; {
		changed = false
		for _, r := range rb.Roles {
			if bound[r.ID] != nil || r.MayBeDown {
				continue
			}
			h := rb.onlyFit(r.ID, hosts, facts, bound)
			if h == nil || rb.wanted(h, r.ID, facts, bound) {
				continue
			}
			bound[r.ID] = h
			out = append(out, r.ID)
			changed = true
		}
	}
	sort.Strings(out)
	return out
}

// onlyFit is the one host that fits role and answers, or nil when none or several do.
func (rb *Runbook) onlyFit(role string, hosts []*probe.Host, facts map[string]*probe.Facts, bound map[string]*probe.Host) *probe.Host {
	var only *probe.Host
	for _, h := range hosts {
		if fit := rb.Fit(role, h, Binding{Roles: bound, Facts: facts}); fit.OK() && !fit.Down {
			if only != nil {
				return nil
			}
			only = h
		}
	}
	return only
}

// wanted reports whether h is bound to a role other than role, or fits another role
// that is still unbound.
func (rb *Runbook) wanted(h *probe.Host, role string, facts map[string]*probe.Facts, bound map[string]*probe.Host) bool {
	for _, other := range rb.Roles {
		if other.ID == role {
			continue
		}
		if bh := bound[other.ID]; bh != nil {
			if bh.Name == h.Name {
				return true
			}
			continue
		}
		if rb.Fit(other.ID, h, Binding{Roles: bound, Facts: facts}).OK() {
			return true
		}
	}
	return false
}

// WithoutRole says what the runbook does differently while the host of role (one that
// may be down) does not answer: the steps its absence skips and the steps that run
// only then, by title. Conditions are judged with the parameters' plain defaults;
// a condition that cannot be judged that way is left out.
func (rb *Runbook) WithoutRole(role string) (skips, runs []string) {
	vals := func(up bool) *Values {
		v := &Values{Params: map[string]any{}, Roles: map[string]RoleEnv{}}
		for _, p := range rb.Params {
			if p.Default.IsZero() || strings.Contains(p.Default.Src, "{{") {
				continue
			}
			if x, err := p.Parse(p.Default.Src); err == nil {
				v.Params[p.ID] = x
			}
		}
		for _, r := range rb.Roles {
			env := placeholderRole(r.ID, &probe.Host{Name: "<" + r.ID + ">"})
			env.Reachable = r.ID != role || up
			v.Roles[r.ID] = env
		}
		return v
	}
	up, down := vals(true), vals(false)
	for _, s := range rb.Steps {
		if s.When == nil || !mentionsRole(s.When.Src, role) {
			continue
		}
		withHost, err1 := s.When.eval(rb.schema, up, "")
		without, err2 := s.When.eval(rb.schema, down, "")
		switch {
		case err1 != nil || err2 != nil:
		case withHost && !without:
			skips = append(skips, s.Title)
		case !withHost && without:
			runs = append(runs, s.Title)
		}
	}
	return skips, runs
}

// DefaultText renders a parameter's default for a form, given the hosts bound so far
// and the parameters known so far, as text (a default may read either). It returns ""
// when the parameter has no default or the default cannot be computed yet (a role it
// reads is not bound or not probed).
func (rb *Runbook) DefaultText(param string, bound map[string]*probe.Host, facts map[string]*probe.Facts, params map[string]string) string {
	p := rb.Param(param)
	if p == nil || p.Default.IsZero() {
		return ""
	}
	plan := &Plan{Runbook: rb, Roles: bound, Params: map[string]any{}, Facts: facts}
	for k, v := range params {
		if prm := rb.Param(k); prm != nil && k != param {
			if x, err := prm.Parse(v); err == nil {
				plan.Params[k] = x
			}
		}
	}
	s, err := plan.exec(nil).render(p.Default)
	if err != nil {
		return ""
	}
	if usesFacts(p.Default.Src) {
		for _, h := range bound {
			if facts[h.Name] == nil {
				return ""
			}
		}
	}
	return s
}

// DefaultReadsParams reports whether the parameter's default is computed from other
// parameters ("{{ params.share }}/Users"), so that a form showing it must compute it
// again when those change.
func (p *Param) DefaultReadsParams() bool {
	return !p.Default.IsZero() && strings.Contains(p.Default.Src, "params.")
}
