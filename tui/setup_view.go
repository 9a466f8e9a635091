package tui

// The setup's drawing: the roles with their hosts, a role's candidate hosts, and the
// account of what a binding means.

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/tui/styles"
)

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
// auto" (bound by cutover), "primary ↓ down", "hub ? needs hub_dir" (fits once a
// parameter is given), or "hub ✗" (no longer fits).
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
	case fit.Pending() != nil:
		return st.Warn.Render(name + " ? needs " + sanitize(strings.Join(fit.Pending(), ", ")))
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
// (↓), fits once a parameter is given (?), or not (✗, greyed, with the first reason).
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
	case c.fit.Pending() != nil:
		return truncate(st.Warn.Render("? ")+name+" "+st.Warn.Render("once "+sanitize(strings.Join(c.fit.Pending(), ", "))+" is given"), w)
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
	case fit.Pending() != nil:
		add(st.Warn, name+" is "+r.ID+" only once "+sanitize(strings.Join(fit.Pending(), " and "))+" is given in the parameters (after the roles; the plan checks it again): "+
			sanitize(strings.Join(fit.Why(r.ID), "; ")))
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
