package steps

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/ini"
)

// A preview answers a change board's first question before the window: what exactly
// will change. It is a plan with the values read from the hosts now: each INI key's
// current value beside the one it gets, each copy's files and bytes and what they
// replace, each service's current state, the pre-checks evaluated once, and the
// preflight. It only reads: no action runs, nothing is written, no lock is taken and
// nothing is journaled.

// Preview is what a run with these inputs would do, read from the hosts now.
type Preview struct {
	Runbook string            `json:"runbook"`
	Title   string            `json:"title"`
	Roles   map[string]string `json:"roles"`
	// Params are the parameters as the run would see them; a secret shows as "(secret)".
	Params map[string]string `json:"params"`
	// Unmet lists the role requirements the hosts break now: then no step is planned.
	Unmet     []string         `json:"unmet,omitempty"`
	Preflight *PreflightReport `json:"preflight,omitempty"`
	Steps     []StepPreview    `json:"steps"`
	// Blockers say what already fails and would stop a run before its first change:
	// an unmet requirement, a preflight gate, a pre-check no earlier step can change.
	Blockers []string `json:"blockers,omitempty"`
}

// CanStart reports whether a run with these inputs could start now.
func (p *Preview) CanStart() bool { return len(p.Blockers) == 0 }

// StepPreview is one step of a preview.
type StepPreview struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Skip   bool   `json:"skip,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Manual steps are the operator's; Irreversible ones ask for a typed phrase.
	Manual       bool     `json:"manual,omitempty"`
	Irreversible bool     `json:"irreversible,omitempty"`
	Hosts        []string `json:"hosts,omitempty"`
	// Action is what the step does by itself, in one line; ActionError why it could not
	// be planned.
	Action      string   `json:"action,omitempty"`
	ActionError string   `json:"action_error,omitempty"`
	Changes     []Change `json:"changes,omitempty"`
	// Pre are the pre-checks evaluated once now. A failing one that an earlier step is
	// meant to change (Later) does not block the start.
	Pre   []*CheckResult `json:"pre,omitempty"`
	Later bool           `json:"pre_later,omitempty"`
	// Gates are what will be checked after the step, each in one line.
	Gates []string `json:"gates,omitempty"`
}

// Change is one thing an action will change, with its value now.
type Change struct {
	// Kind is ini, copy, service, run or write.
	Kind string `json:"kind"`
	Host string `json:"host"`
	// Target is the file, path or service changed.
	Target string `json:"target"`
	// Op: for ini set, add, remove or unchanged; for copy replace, create or into; for
	// service start or stop; for write create or replace; for run run.
	Op string `json:"op"`
	// Key, Old and New are an INI key and its values now and after ("" when absent).
	Key string `json:"key,omitempty"`
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
	// From is a copy's source (host:path); Files and Bytes what it holds now.
	From  string `json:"from,omitempty"`
	Files int    `json:"files,omitempty"`
	Bytes int64  `json:"bytes,omitempty"`
	// Replaces says what is at a copy's or write's target now.
	Replaces string `json:"replaces,omitempty"`
	// Now is a service's state now (running, stopped, unknown).
	Now string `json:"now,omitempty"`
	// Text is the change in one line, for a terminal or a ticket.
	Text string `json:"text"`
}

// previewer is implemented by actions that can say what they would change, with the
// values read from the hosts now; it only reads.
type previewer interface {
	preview(ctx context.Context, x *stepExec) ([]Change, error)
}

// PreviewPlan reads, for every step plan keeps, what it would change on the hosts now,
// evaluates its pre-checks once without waiting, and runs the preflight. It changes
// nothing. It returns nil when ctx ends first.
func PreviewPlan(ctx context.Context, plan *Plan, pool *probe.Pool) *Preview {
	rb := plan.Runbook
	pv := &Preview{Runbook: rb.ID, Title: rb.Title, Roles: map[string]string{}, Params: map[string]string{}}
	for r, h := range plan.Roles {
		pv.Roles[r] = h.Name
	}
	for k, v := range plan.Params {
		if p := rb.Param(k); p != nil && p.Secret {
			pv.Params[k] = "(secret)"
			continue
		}
		pv.Params[k] = format(v)
	}
	env := plan.env(pool, time.Now)
	pv.Preflight = preflight(ctx, env, plan.Steps)
	if ctx.Err() != nil {
		return nil
	}
	for _, r := range pv.Preflight.Failed() {
		pv.Blockers = append(pv.Blockers, fmt.Sprintf("preflight: %s: %s", r.Name, r.Summary))
	}
	changed := "" // the first kept step before this one that changes something
	for _, ps := range plan.Steps {
		s := rb.Step(ps.ID)
		sp := StepPreview{ID: ps.ID, Title: ps.Title, Skip: ps.Skip, Reason: ps.Reason, Hosts: ps.Hosts}
		if s == nil {
			continue
		}
		sp.Manual, sp.Irreversible = s.Manual, s.Phrase != nil && !s.Phrase.IsZero()
		x := &stepExec{runEnv: env, step: s, start: env.now()}
		for _, ch := range s.Gates {
			label := checkLabel(x, ch)
			if ch.DuringRun {
				label += " (holds only during the run)"
			}
			sp.Gates = append(sp.Gates, label)
		}
		if ps.Skip {
			pv.Steps = append(pv.Steps, sp)
			continue
		}
		if s.Action != nil {
			rec, err := s.Action.Spec.plan(x)
			sp.Action = x.redact(rec.Summary)
			if err != nil {
				sp.ActionError = x.redact(err.Error())
			} else if p, ok := s.Action.Spec.(previewer); ok {
				ch, err := p.preview(ctx, x)
				if err != nil {
					sp.ActionError = x.redact(err.Error())
				}
				sp.Changes = ch
			}
			if ctx.Err() != nil {
				return nil
			}
		}
		for i, ch := range s.Pre {
			r := x.evaluate(ctx, evaluation{check: ch, phase: PhasePre, index: i})
			if r == nil {
				return nil
			}
			sp.Pre = append(sp.Pre, r)
			if r.OK() {
				continue
			}
			if changed != "" {
				sp.Later = true
				continue
			}
			pv.Blockers = append(pv.Blockers, fmt.Sprintf("step %s, pre-check: %s: %s", s.ID, r.Name, r.Summary))
		}
		if sp.ActionError != "" && changed == "" {
			pv.Blockers = append(pv.Blockers, fmt.Sprintf("step %s, action: %s", s.ID, sp.ActionError))
		}
		if s.Manual || s.Action != nil {
			changed = s.ID
		}
		pv.Steps = append(pv.Steps, sp)
	}
	return pv
}

// UnmetPreview makes the preview of inputs whose hosts break the runbook's requirements: no
// step is planned, and each requirement blocks the start.
func UnmetPreview(rb *Runbook, roles map[string]string, unmet []string) *Preview {
	pv := &Preview{Runbook: rb.ID, Title: rb.Title, Roles: roles, Params: map[string]string{}, Unmet: unmet, Steps: []StepPreview{}}
	for _, u := range unmet {
		pv.Blockers = append(pv.Blockers, "requirement: "+u)
	}
	return pv
}

// connPath connects to role's host and resolves file there, for reading.
func (x *stepExec) connPath(ctx context.Context, role string, file *Template) (probe.Transport, *probe.Host, string, error) {
	t, h, err := x.conn(ctx, role)
	if err != nil {
		return nil, nil, "", err
	}
	p, err := x.path(file, role)
	return t, h, p, err
}

func (a *INIAction) preview(ctx context.Context, x *stepExec) ([]Change, error) {
	t, h, p, err := x.connPath(ctx, a.Role.Name, a.File)
	if err != nil {
		return nil, err
	}
	old, err := readSmallFile(ctx, t, p)
	if err != nil {
		return nil, fmt.Errorf("%s:%s: %w", h.Name, p, err)
	}
	f := ini.ParseAs(old, a.Format.of(p))
	var out []Change
	where := p
	if a.Section != "" {
		where += " [" + a.Section + "]"
	}
	for _, s := range a.Set {
		v, err := x.render(s.Value)
		if err != nil {
			return out, err
		}
		c := Change{Kind: "ini", Host: h.Name, Target: where, Key: s.Key, New: x.redact(v)}
		cur, ok := f.Get(a.Section, s.Key)
		c.Old = x.redact(cur)
		switch {
		case !ok:
			c.Op, c.Text = "add", fmt.Sprintf("%s:%s: %s added = %s", h.Name, where, s.Key, c.New)
		case cur == v:
			c.Op, c.Text = "unchanged", fmt.Sprintf("%s:%s: %s already %s (nothing to write)", h.Name, where, s.Key, c.New)
		default:
			c.Op, c.Text = "set", fmt.Sprintf("%s:%s: %s %s -> %s", h.Name, where, s.Key, c.Old, c.New)
		}
		out = append(out, c)
	}
	for _, k := range a.Unset {
		c := Change{Kind: "ini", Host: h.Name, Target: where, Key: k, Op: "remove"}
		if cur, ok := f.Get(a.Section, k); ok {
			c.Old = x.redact(cur)
			c.Text = fmt.Sprintf("%s:%s: %s removed (now %s)", h.Name, where, k, c.Old)
		} else {
			c.Op, c.Text = "unchanged", fmt.Sprintf("%s:%s: %s already absent (nothing to remove)", h.Name, where, k)
		}
		out = append(out, c)
	}
	return out, nil
}

func (a *CopyAction) preview(ctx context.Context, x *stepExec) ([]Change, error) {
	st, from, err := x.conn(ctx, a.From.Name)
	if err != nil {
		return nil, err
	}
	dt, to, err := x.conn(ctx, a.To.Name)
	if err != nil {
		return nil, err
	}
	var out []Change
	for _, p := range a.Paths {
		src, dst, err := a.pair(x, p)
		if err != nil {
			return out, err
		}
		c := Change{Kind: "copy", Host: to.Name, Target: dst, Op: a.Mode, From: from.Name + ":" + src}
		_, files, size, err := treeSize(ctx, st, src)
		if err != nil {
			return out, fmt.Errorf("source %s:%s: %w", from.Name, src, err)
		}
		c.Files, c.Bytes = files, size
		isDir, tfiles, tsize, err := treeSize(ctx, dt, dst)
		switch {
		case err != nil && isNotExist(err):
			c.Replaces = "nothing (absent)"
			if a.Mode == "replace" {
				c.Op = "create"
			}
		case err != nil:
			return out, fmt.Errorf("target %s:%s: %w", to.Name, dst, err)
		case isDir:
			c.Replaces = fmt.Sprintf("a folder of %s, %d bytes", Plural(tfiles, "file", "files"), tsize)
		default:
			c.Replaces = fmt.Sprintf("a file of %d bytes", tsize)
		}
		verb := "replaces"
		if a.Mode == "into" {
			verb = "copied into, beside"
		}
		c.Text = fmt.Sprintf("%s -> %s:%s: %s, %d bytes; %s %s", c.From, to.Name, dst, Plural(files, "file", "files"), size, verb, c.Replaces)
		out = append(out, c)
	}
	return out, nil
}

// treeSize counts the files below root (root itself when it is a file) and their bytes.
func treeSize(ctx context.Context, t probe.Transport, root string) (isDir bool, files int, size int64, err error) {
	fi, err := t.Stat(ctx, root)
	if err != nil {
		return false, 0, 0, err
	}
	if !fi.IsDir() {
		return false, 1, fi.Size(), nil
	}
	var walk func(d string) error
	walk = func(d string) error {
		entries, err := t.ReadDir(ctx, d)
		if err != nil {
			return err
		}
		for _, e := range entries {
			switch {
			case e.IsDir() && e.Mode()&fs.ModeSymlink == 0:
				if err := walk(d + "/" + e.Name()); err != nil {
					return err
				}
			case e.Mode().IsRegular():
				files++
				size += e.Size()
			}
		}
		return nil
	}
	return true, files, size, walk(root)
}

func (a *ServiceAction) preview(ctx context.Context, x *stepExec) ([]Change, error) {
	var out []Change
	for _, role := range distinctRoles(x, a.Roles) {
		h := x.host(role)
		now := "unknown"
		if f := x.facts[h.Name]; f != nil {
			if s, ok := f.Services[a.Name]; ok && s != "" {
				now = s
			} else if !f.Reachable {
				now = "unknown (the host does not answer)"
			}
		}
		c := Change{Kind: "service", Host: h.Name, Target: a.Name, Op: a.Do, Now: now}
		switch want := map[string]string{"start": "running", "stop": "stopped"}[a.Do]; {
		case now == want:
			c.Text = fmt.Sprintf("%s: %s is %s already (%s does nothing)", h.Name, a.Name, now, a.Do)
		default:
			c.Text = fmt.Sprintf("%s: %s %s -> %s", h.Name, a.Name, now, want)
		}
		out = append(out, c)
	}
	return out, nil
}

func (a *RunAction) preview(_ context.Context, x *stepExec) ([]Change, error) {
	rec, err := a.plan(x)
	if err != nil {
		return nil, err
	}
	h := x.host(a.Role.Name)
	return []Change{{Kind: "run", Host: h.Name, Target: strings.Join(rec.Commands, "; "), Op: "run",
		Text: fmt.Sprintf("%s: runs %s", h.Name, strings.Join(rec.Commands, "; "))}}, nil
}

func (a *WriteAction) preview(ctx context.Context, x *stepExec) ([]Change, error) {
	t, h, p, err := x.connPath(ctx, a.Role.Name, a.File)
	if err != nil {
		return nil, err
	}
	content, err := x.render(a.Content)
	if err != nil {
		return nil, err
	}
	c := Change{Kind: "write", Host: h.Name, Target: p, Op: "replace", Bytes: int64(len(content))}
	fi, err := t.Stat(ctx, p)
	switch {
	case err != nil && isNotExist(err):
		c.Op, c.Replaces = "create", "nothing (absent)"
	case err != nil:
		return nil, fmt.Errorf("%s:%s: %w", h.Name, p, err)
	default:
		c.Replaces = fmt.Sprintf("a file of %d bytes", fi.Size())
	}
	c.Text = fmt.Sprintf("%s:%s: written, %d bytes; %s %s", h.Name, p, len(content), map[string]string{"create": "creates, replacing", "replace": "replaces"}[c.Op], c.Replaces)
	return []Change{c}, nil
}
