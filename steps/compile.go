package steps

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/cutover/cutover/probe/yamlpos"
)

// compiler checks a parsed runbook and compiles its expressions, collecting every error.
type compiler struct {
	rb   *Runbook
	s    *schema
	errs yamlpos.List
	// where names where the current item sits, for messages ("step stop-all, gate 2").
	where string
}

func (c *compiler) errorf(pos yamlpos.Pos, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if c.where != "" {
		msg = c.where + ": " + msg
	}
	c.errs.Add(pos, "%s", msg)
}

// role checks that a role reference names a declared role.
func (c *compiler) role(r Ref, field string, at yamlpos.Pos) {
	if r.Name == "" {
		c.errorf(at, "%s: missing role", field)
		return
	}
	if _, ok := c.s.roleIndex[r.Name]; !ok {
		c.errorf(r.Pos, "undefined role %q (declared: %s)", r.Name, listOr(c.s.roles))
	}
}

func (c *compiler) roles(rs Refs, field string, at yamlpos.Pos) {
	if len(rs) == 0 {
		c.errorf(at, "%s: at least one role is needed", field)
	}
	for _, r := range rs {
		c.role(r, field, at)
	}
}

// tmpl compiles a template; required means it must be present and non-empty.
func (c *compiler) tmpl(t *Template, field string, at yamlpos.Pos, required bool) {
	c.template(t, field, at, required, false)
}

// template compiles t; withRole puts role, the host it is rendered for, in scope.
func (c *compiler) template(t *Template, field string, at yamlpos.Pos, required, withRole bool) {
	if t.IsZero() {
		if required {
			c.errorf(at, "%s is required", field)
		}
		return
	}
	if t.Pos.IsZero() {
		t.Pos = at
	}
	if err := c.s.compileTemplate(t, withRole); err != nil {
		c.errorf(err.Pos, "%s", err.Msg)
	}
}

// commands compiles the two forms of a command: sh for POSIX shells and ps for
// PowerShell, each quoting its values for its shell. One of them is required; withRole
// puts role, the host the command runs on, in scope.
func (c *compiler) commands(sh, ps *Template, shField, psField string, at yamlpos.Pos, withRole bool) {
	for _, f := range []struct {
		t     *Template
		field string
		q     quoting
	}{{sh, shField, forSh}, {ps, psField, forPS}} {
		if f.t != nil {
			f.t.quote = f.q
		}
		c.template(f.t, f.field, at, f.q == forSh && ps.IsZero(), withRole)
		if f.t == nil {
			continue
		}
		for _, p := range f.t.parts {
			if p.raw {
				c.warnf(p.pos, "%s: {{ %s }}: %s", f.field, p.src, p.why)
			}
		}
	}
}

// warnf records a finding that does not stop the runbook from loading.
func (c *compiler) warnf(pos yamlpos.Pos, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if c.where != "" {
		msg = c.where + ": " + msg
	}
	c.rb.Warnings = append(c.rb.Warnings, Warning{Pos: pos, Msg: msg})
}

// Warning is a finding of the loader that does not stop a runbook from loading, such as
// a value a command inserts unquoted, as code.
type Warning struct {
	Pos yamlpos.Pos
	Msg string
}

// String is the warning as lint prints it: file:line:col: warning: what.
func (w Warning) String() string { return w.Pos.String() + ": warning: " + w.Msg }

func (c *compiler) cond(e *Expr, withRole bool) {
	if e == nil {
		return
	}
	prog, err := c.s.compile(e.Src, textPos{start: e.Pos, indent: e.indent}, withRole, true)
	if err != nil {
		c.errorf(err.Pos, "%s", err.Msg)
		return
	}
	e.prog, e.role = prog, withRole
}

var (
	idRe        = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	runbookIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*$`)
)

// compile checks a parsed runbook and compiles its expressions and templates against
// its typed environment, in passes: the runbook's own fields, its roles and parameters
// (which make the schema), the roles' requirements, the parameters' defaults and
// patterns, the presets, and the steps. Every problem is collected, each where it is
// written.
func (rb *Runbook) compile() error {
	c := &compiler{rb: rb}
	top := yamlpos.Pos{Line: 1, Col: 1}
	c.header(top)
	roleIDs, params := c.declarations()
	c.s = newSchema(params, roleIDs)
	rb.schema = c.s
	c.requirements()
	c.paramValues(params)
	c.presets(params)
	c.steps()
	c.where = ""
	if rb.Summary != nil {
		c.tmpl(rb.Summary, "summary", top, false)
	}
	return c.errs.Err()
}

// header checks the runbook's own fields.
func (c *compiler) header(top yamlpos.Pos) {
	rb := c.rb
	if !runbookIDRe.MatchString(rb.ID) {
		c.errorf(top, "id %q must look like system/name in lower case (maestro/move-hub)", rb.ID)
	}
	if rb.Title == "" {
		c.errorf(top, "title is required")
	}
	if rb.System == "" {
		c.errorf(top, "system is required")
	}
	if rb.Source == "" {
		c.errorf(top, "source is required: name the document and section the runbook follows")
	}
	if len(rb.Steps) == 0 {
		c.errorf(top, "a runbook needs at least one step")
	}
}

// declarations checks the roles' and parameters' ids and kinds and returns the valid
// ones, which make the runbook's schema.
func (c *compiler) declarations() (roleIDs []string, params []*Param) {
	rb := c.rb
	seenRole := map[string]yamlpos.Pos{}
	for _, r := range rb.Roles {
		if !idRe.MatchString(r.ID) {
			c.errorf(r.Pos, "role id %q: use lower-case letters, digits, '-' and '_'", r.ID)
		}
		if p, dup := seenRole[r.ID]; dup {
			c.errorf(r.Pos, "duplicate role %q (first at line %d)", r.ID, p.Line)
			continue
		}
		seenRole[r.ID] = r.Pos
		roleIDs = append(roleIDs, r.ID)
	}
	seenParam := map[string]yamlpos.Pos{}
	for _, p := range rb.Params {
		if !idRe.MatchString(p.ID) {
			c.errorf(p.Pos, "parameter id %q: use lower-case letters, digits, '-' and '_'", p.ID)
		}
		if q, dup := seenParam[p.ID]; dup {
			c.errorf(p.Pos, "duplicate parameter %q (first at line %d)", p.ID, q.Line)
			continue
		}
		seenParam[p.ID] = p.Pos
		if p.Type == "" {
			p.Type = TypeString
		}
		if !slices.Contains(paramTypes, p.Type) {
			c.errorf(p.Pos, "parameter %s: unknown type %q (known: %s)", p.ID, p.Type, joinTypes())
		}
		if p.Type == TypeChoice && len(p.Choices) < 2 {
			c.errorf(p.Pos, "parameter %s: a choice needs at least two choices", p.ID)
		}
		if p.Type != TypeChoice && len(p.Choices) > 0 {
			c.errorf(p.Pos, "parameter %s: choices are only for type choice", p.ID)
		}
		if p.Secret && p.Default != nil && !p.Default.IsZero() {
			c.errorf(p.Pos, "parameter %s: a secret cannot have a default (it would be in the runbook)", p.ID)
		}
		params = append(params, p)
	}
	return roleIDs, params
}

// requirements compiles the roles' requirements.
func (c *compiler) requirements() {
	for _, r := range c.rb.Roles {
		for _, req := range r.Requires {
			c.where = "role " + r.ID
			if req.That == nil {
				c.errorf(r.Pos, "a requirement needs that: (an expression)")
				continue
			}
			if req.Because == "" {
				c.errorf(req.That.Pos, "a requirement needs because: (what to tell the operator when it fails)")
			}
			c.cond(req.That, true)
		}
	}
}

// paramValues checks the parameters' defaults, reject entries and patterns.
func (c *compiler) paramValues(params []*Param) {
	for _, p := range params {
		c.where = "parameter " + p.ID
		c.tmpl(p.Default, "default", p.Pos, false)
		if p.Default != nil && !p.Default.IsZero() && len(p.Default.parts) == 1 && p.Default.parts[0].prog == nil {
			// A literal default must itself be a valid value.
			if _, err := p.Parse(p.Default.Src); err != nil {
				c.errorf(p.Default.Pos, "default %q: %v", p.Default.Src, err)
			}
		}
		for _, rj := range p.Reject {
			if rj.Match == nil || rj.Because == "" {
				c.errorf(p.Pos, "each reject entry needs match: and because:")
			}
			if rj.Match != nil && rj.Match.tmpl != nil {
				c.errorf(rj.Match.Pos, "a parameter's reject pattern cannot hold {{ }}: it is checked before any value is known")
			}
		}
		if p.Pattern != nil && p.Pattern.tmpl != nil {
			c.errorf(p.Pattern.Pos, "a parameter's pattern cannot hold {{ }}: it is checked before any value is known")
		}
	}
}

// presets checks that every preset sets declared parameters to valid values.
func (c *compiler) presets(params []*Param) {
	rb := c.rb
	c.where = ""
	seenPreset := map[string]bool{}
	for _, pr := range rb.Presets {
		if seenPreset[pr.ID] {
			c.errorf(pr.Pos, "duplicate preset %q", pr.ID)
		}
		seenPreset[pr.ID] = true
		for _, k := range slices.Sorted(maps.Keys(pr.Params)) {
			p := rb.Param(k)
			if p == nil {
				c.errorf(pr.paramPos(k, false), "preset %s sets undefined parameter %q (declared: %s)", pr.ID, k, listOr(paramIDs(params)))
				continue
			}
			if _, err := p.Parse(pr.Params[k]); err != nil {
				c.errorf(pr.paramPos(k, true), "preset %s: %s=%q: %v", pr.ID, k, pr.Params[k], err)
			}
		}
	}
}

// steps checks each step: its id, its kind (manual, action, checks only), its text and
// condition, its checks and its action.
func (c *compiler) steps() {
	seenStep := map[string]yamlpos.Pos{}
	for _, s := range c.rb.Steps {
		c.where = "step " + s.ID
		if !idRe.MatchString(s.ID) {
			c.errorf(s.Pos, "step id %q: use lower-case letters, digits, '-' and '_'", s.ID)
		}
		if p, dup := seenStep[s.ID]; dup {
			c.errorf(s.keyPos("id"), "duplicate step id %q (first at line %d)", s.ID, p.Line)
		} else {
			seenStep[s.ID] = s.keyPos("id")
		}
		if s.Title == "" {
			c.errorf(s.Pos, "title is required")
		}
		c.tmpl(s.Text, "text", s.Pos, false)
		c.tmpl(s.Phrase, "phrase", s.Pos, false)
		c.cond(s.When, false)
		if s.Manual && s.Action != nil {
			c.errorf(s.keyPos("action"), "a manual step has no action: the operator does it (use confirm: true to ask before an action)")
		}
		if !s.Manual && s.Action == nil && len(s.Gates) == 0 && len(s.Pre) == 0 {
			c.errorf(s.Pos, "the step does nothing: give it an action, gates, or manual: true")
		}
		if s.Optional && !s.Manual {
			c.errorf(s.keyPos("optional"), "only manual steps can be optional (an action step is skipped by its when: condition)")
		}
		if s.Confirm && s.Action == nil {
			c.errorf(s.keyPos("confirm"), "confirm: true asks before an action, and this step has none (manual steps are always confirmed)")
		}
		for i, ch := range s.Pre {
			c.check(ch, fmt.Sprintf("step %s, pre-check %d", s.ID, i+1))
			if ch.DuringRun {
				c.errorf(ch.Pos, "during_run marks a gate that holds only while the run is under way; a pre-check is never checked after the run")
			}
		}
		for i, ch := range s.Gates {
			c.check(ch, fmt.Sprintf("step %s, gate %d", s.ID, i+1))
		}
		if s.Action != nil {
			c.where = "step " + s.ID + ", action " + s.Action.Kind
			s.Action.Spec.compile(c, s.Action)
		}
	}
}

func (c *compiler) check(ch *Check, where string) {
	c.where = where + " (" + ch.Kind + ")"
	c.cond(ch.When, false)
	if ch.Wait != nil {
		if ch.Wait.Timeout.D <= 0 {
			c.errorf(ch.Pos, "wait needs a timeout greater than zero")
		}
		if ch.Wait.Every.D < 0 || (ch.Wait.Every.D > 0 && ch.Wait.Every.D > ch.Wait.Timeout.D) {
			c.errorf(ch.Pos, "wait.every must be between 0 and the timeout")
		}
		if ch.Advice {
			c.errorf(ch.Pos, "an advice check is looked at once and only warns: drop wait, or drop advice to make the step wait for it")
		}
	}
	ch.Spec.compile(c, ch)
	c.patterns(ch.Spec, ch)
}

func joinTypes() string {
	s := make([]string, len(paramTypes))
	for i, t := range paramTypes {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}
