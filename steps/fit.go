package steps

import (
	"fmt"

	"github.com/cutover/cutover/probe"
)

// RoleFit says why host h cannot play role, given the facts known so far and the hosts
// already bound to other roles (requirements may compare roles: "another host than
// the old one"). An empty result means it fits. Without facts for h nothing can be
// said, and the host is reported as not probed yet.
func (rb *Runbook) RoleFit(role string, h *probe.Host, facts map[string]*probe.Facts, bound map[string]*probe.Host) []string {
	r := rb.Role(role)
	if r == nil {
		return []string{fmt.Sprintf("no role %q", role)}
	}
	f := facts[h.Name]
	switch {
	case f == nil:
		return []string{"not probed yet"}
	case !f.Reachable:
		return []string{"unreachable: " + f.Error}
	}
	vals := &Values{Params: map[string]any{}, Roles: map[string]RoleEnv{}}
	for _, other := range rb.Roles {
		bh := bound[other.ID]
		if other.ID == role {
			bh = h
		}
		switch {
		case bh == nil:
			vals.Roles[other.ID] = placeholderRole(other.ID, &probe.Host{Name: "<" + other.ID + ">"})
		case facts[bh.Name] == nil:
			vals.Roles[other.ID] = placeholderRole(other.ID, bh)
		default:
			vals.Roles[other.ID] = NewRoleEnv(bh, facts[bh.Name])
		}
	}
	var out []string
	for _, req := range r.Requires {
		ok, err := req.That.eval(rb.schema, vals, role)
		switch {
		case err != nil:
			out = append(out, err.Error())
		case !ok:
			out = append(out, req.Because)
		}
	}
	return out
}

// DefaultText renders a parameter's default for a form, given the hosts bound so far.
// It returns "" when the parameter has no default or the default cannot be computed
// yet (a role it reads is not bound).
func (rb *Runbook) DefaultText(param string, bound map[string]*probe.Host, facts map[string]*probe.Facts) string {
	p := rb.Param(param)
	if p == nil || p.Default.IsZero() {
		return ""
	}
	plan := &Plan{Runbook: rb, Roles: bound, Params: map[string]any{}, Facts: facts}
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
