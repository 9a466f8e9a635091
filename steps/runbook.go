// Package steps is cutover's engine: the runbook model and its loader, the plan, the
// checks and actions, and the state machine that runs a plan one transition at a time.
// The TUI, the headless runner and the tests all drive the same Engine; none of them
// keeps state the journal does not have.
package steps

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"

	yast "github.com/goccy/go-yaml/ast"

	"github.com/cutover/cutover/probe/yamlpos"
)

// Runbook is one procedure, loaded from YAML.
type Runbook struct {
	ID      string    `yaml:"id"`
	Title   string    `yaml:"title"`
	System  string    `yaml:"system"`
	Source  string    `yaml:"source"`
	Summary *Template `yaml:"summary"`
	Roles   []*Role   `yaml:"roles"`
	Params  []*Param  `yaml:"params"`
	Presets []*Preset `yaml:"presets"`
	Steps   []*Step   `yaml:"steps"`

	// File is where the runbook was loaded from; Hash is the SHA-256 of its content, so a
	// replay can tell the procedure changed since the recording.
	File string `yaml:"-"`
	Hash string `yaml:"-"`
	// Origin is the site folder the runbook was found in on the search path; empty for
	// a shipped runbook or one named by its file.
	Origin string `yaml:"-"`
	// Warnings are what lint reports without refusing the runbook: every place a command
	// inserts a value unquoted, as code.
	Warnings []Warning `yaml:"-"`

	schema *schema
}

// Role is a part a host plays in a runbook ("the server the Hub moves to").
type Role struct {
	ID       string     `yaml:"id"`
	Title    string     `yaml:"title"`
	Requires []*Require `yaml:"requires"`
	// MayBeDown lets a run start while the role's host cannot be reached (the failed
	// primary of a failover): it is not probed into the plan's requirements, not locked,
	// and every check that needs it reports it unreachable.
	MayBeDown bool        `yaml:"may_be_down"`
	Pos       yamlpos.Pos `yaml:"-"`
}

// UnmarshalYAML records the role's position.
func (r *Role) UnmarshalYAML(n yast.Node) error {
	type plain Role
	r.Pos = yamlpos.PosOf(n)
	return yamlpos.DecodeNode(n, (*plain)(r))
}

// Require is a condition on the bound host's facts that must hold before anything runs.
type Require struct {
	That    *Expr  `yaml:"that"`
	Because string `yaml:"because"`
}

// ParamType is the type of a parameter's value.
type ParamType string

// Parameter types.
const (
	TypeString ParamType = "string"
	TypeBool   ParamType = "bool"
	TypeInt    ParamType = "int"
	TypeChoice ParamType = "choice"
	TypeHost   ParamType = "host"
	TypePort   ParamType = "port"
	TypePath   ParamType = "path"
	// TypeRegex is a regular expression (RE2): the wording a gate looks for in a log,
	// stated as a parameter so that a site whose software words it otherwise can say so.
	TypeRegex ParamType = "regex"
	// TypeCommand is a command line the operator gives (a site's sync job): named alone
	// in a {{ }} of command text it is inserted as code, unquoted, and lint lists it.
	TypeCommand ParamType = "command"
)

var paramTypes = []ParamType{TypeString, TypeBool, TypeInt, TypeChoice, TypeHost, TypePort, TypePath, TypeRegex, TypeCommand}

func (t ParamType) goType() reflect.Type {
	switch t {
	case TypeBool:
		return reflect.TypeOf(false)
	case TypeInt, TypePort:
		return reflect.TypeOf(0)
	}
	return reflect.TypeOf("")
}

// Param is an input of a runbook.
type Param struct {
	ID       string    `yaml:"id"`
	Title    string    `yaml:"title"`
	Help     string    `yaml:"help"`
	Type     ParamType `yaml:"type"`
	Choices  []string  `yaml:"choices"`
	Default  *Template `yaml:"default"`
	Optional bool      `yaml:"optional"`
	// Secret values never reach the journal, an export, a log or the screen after entry.
	Secret bool `yaml:"secret"`
	// Pattern, when set, is a regular expression the whole value must match.
	Pattern *Pattern `yaml:"pattern"`
	// Reject lists regular expressions the value must not match, each with the reason.
	Reject []*Rejection `yaml:"reject"`
	Pos    yamlpos.Pos  `yaml:"-"`
}

// Rejection is a value pattern a parameter refuses, and why.
type Rejection struct {
	Match   *Pattern `yaml:"match"`
	Because string   `yaml:"because"`
}

// UnmarshalYAML records the parameter's position.
func (p *Param) UnmarshalYAML(n yast.Node) error {
	type plain Param
	p.Pos = yamlpos.PosOf(n)
	return yamlpos.DecodeNode(n, (*plain)(p))
}

// Preset is a named set of parameter values, such as a worked example of the manual.
type Preset struct {
	ID     string            `yaml:"id"`
	Title  string            `yaml:"title"`
	Params map[string]string `yaml:"params"`
	Pos    yamlpos.Pos       `yaml:"-"`

	// keyPos and valuePos are where each parameter is named and given its value.
	keyPos, valuePos map[string]yamlpos.Pos
}

// UnmarshalYAML records the preset's position and those of its parameters.
func (p *Preset) UnmarshalYAML(n yast.Node) error {
	type plain Preset
	p.Pos = yamlpos.PosOf(n)
	p.keyPos, p.valuePos = map[string]yamlpos.Pos{}, map[string]yamlpos.Pos{}
	if m, ok := n.(*yast.MappingNode); ok {
		for _, kv := range m.Values {
			if pm, ok := kv.Value.(*yast.MappingNode); ok && kv.Key.GetToken().Value == "params" {
				for _, pv := range pm.Values {
					k := pv.Key.GetToken().Value
					p.keyPos[k], p.valuePos[k] = yamlpos.PosOf(pv.Key), yamlpos.PosOf(pv.Value)
				}
			}
		}
	}
	return yamlpos.DecodeNode(n, (*plain)(p))
}

// paramPos is where the preset names parameter k (value: where it gives its value).
func (p *Preset) paramPos(k string, value bool) yamlpos.Pos {
	m := p.keyPos
	if value {
		m = p.valuePos
	}
	if pos, ok := m[k]; ok {
		return pos
	}
	return p.Pos
}

// Step is one thing to do and the evidence that it was done.
type Step struct {
	ID    string    `yaml:"id"`
	Title string    `yaml:"title"`
	Text  *Template `yaml:"text"`
	// When is a condition on parameters and facts; a false condition skips the step, and
	// SkipReason (or the condition itself) says why.
	When       *Expr  `yaml:"when"`
	SkipReason string `yaml:"skip_reason"`
	// Manual steps are done by the operator, who confirms them (or a run file answer does).
	Manual bool `yaml:"manual"`
	// Optional steps may be skipped by the operator, with a reason.
	Optional bool `yaml:"optional"`
	// Confirm asks the operator before the action runs.
	Confirm bool `yaml:"confirm"`
	// Phrase must be typed to confirm a step that cannot be undone.
	Phrase *Template `yaml:"phrase"`
	// BackOut is how the operator undoes the step by hand (a manual step, or what an
	// action does that cutover cannot undo), for the back-out plan and rollback.
	BackOut string      `yaml:"back_out"`
	Pre     []*Check    `yaml:"pre"`
	Action  *Action     `yaml:"action"`
	Gates   []*Check    `yaml:"gates"`
	Pos     yamlpos.Pos `yaml:"-"`

	// keys records where each key of the step is written, for errors about one of them.
	keys map[string]yamlpos.Pos
}

// UnmarshalYAML records the step's position and those of its keys.
func (s *Step) UnmarshalYAML(n yast.Node) error {
	type plain Step
	s.Pos = yamlpos.PosOf(n)
	s.keys = map[string]yamlpos.Pos{}
	if m, ok := n.(*yast.MappingNode); ok {
		for _, kv := range m.Values {
			s.keys[kv.Key.GetToken().Value] = yamlpos.PosOf(kv.Key)
		}
	}
	return yamlpos.DecodeNode(n, (*plain)(s))
}

// keyPos is where key is written in the step, or the step's position.
func (s *Step) keyPos(key string) yamlpos.Pos {
	if p, ok := s.keys[key]; ok {
		return p
	}
	return s.Pos
}

// Wait makes a check poll until it passes or Timeout ends.
type Wait struct {
	Timeout Duration `yaml:"timeout"`
	Every   Duration `yaml:"every"`
}

// Duration is a time span written as "30s", "10m" or "24h".
type Duration struct {
	D   time.Duration
	Pos yamlpos.Pos
}

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n yast.Node) error {
	d.Pos = yamlpos.PosOf(n)
	var s string
	if err := yamlpos.DecodeNode(n, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return yamlpos.Errorf(d.Pos, "invalid duration %q: use a number and a unit such as 30s, 10m, 24h", s)
	}
	d.D = v
	return nil
}

// Pattern is a regular expression (RE2 syntax), compiled when the runbook loads. In a
// check, a pattern may be a template ("{{ params.backup_ok }}"): a site's own wording
// given as a parameter, compiled when the check runs.
type Pattern struct {
	Src string
	Re  *regexp.Regexp
	Pos yamlpos.Pos

	whole *regexp.Regexp // Src anchored at both ends, for MatchWhole
	tmpl  *Template      // set when Src holds {{ }}: Re is nil until rendered
}

// MatchWhole reports whether the pattern matches all of s, not only a part of it.
func (p *Pattern) MatchWhole(s string) bool {
	re := p.whole
	if re == nil {
		var err error
		if re, err = regexp.Compile(`^(?:` + p.Src + `)$`); err != nil {
			return false
		}
	}
	return re.MatchString(s)
}

// UnmarshalYAML compiles the expression, reporting syntax errors at their place; a
// template is compiled with the runbook (compiler.patterns).
func (p *Pattern) UnmarshalYAML(n yast.Node) error {
	p.Pos = yamlpos.PosOf(n)
	if err := yamlpos.DecodeNode(n, &p.Src); err != nil {
		return err
	}
	if strings.Contains(p.Src, "{{") {
		p.tmpl = &Template{}
		return p.tmpl.UnmarshalYAML(n)
	}
	re, err := regexp.Compile(p.Src)
	if err != nil {
		return yamlpos.Errorf(p.Pos, "invalid regular expression %q: %v", p.Src, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	p.Re = re
	p.whole, _ = regexp.Compile(`^(?:` + p.Src + `)$`)
	return nil
}

// Ref names a role, with the position it was named at.
type Ref struct {
	Name string
	Pos  yamlpos.Pos
}

// UnmarshalYAML records the name and its position.
func (r *Ref) UnmarshalYAML(n yast.Node) error {
	r.Pos = yamlpos.PosOf(n)
	return yamlpos.DecodeNode(n, &r.Name)
}

// Refs is one role or a list of roles.
type Refs []Ref

// UnmarshalYAML accepts "old" or [old, new].
func (r *Refs) UnmarshalYAML(n yast.Node) error {
	if n.Type() == yast.SequenceType {
		var l []Ref
		if err := yamlpos.DecodeNode(n, &l); err != nil {
			return err
		}
		*r = l
		return nil
	}
	var one Ref
	if err := one.UnmarshalYAML(n); err != nil {
		return err
	}
	*r = Refs{one}
	return nil
}

// Names lists the role names.
func (r Refs) Names() []string {
	out := make([]string, len(r))
	for i, x := range r {
		out[i] = x.Name
	}
	return out
}

// Patterns is one regular expression or a list of them.
type Patterns []*Pattern

// UnmarshalYAML accepts one pattern or a list.
func (p *Patterns) UnmarshalYAML(n yast.Node) error {
	if n.Type() == yast.SequenceType {
		var l []*Pattern
		if err := yamlpos.DecodeNode(n, &l); err != nil {
			return err
		}
		*p = l
		return nil
	}
	one := &Pattern{}
	if err := one.UnmarshalYAML(n); err != nil {
		return err
	}
	*p = Patterns{one}
	return nil
}

// Check is one piece of evidence a step needs: exactly one kind (file_exists,
// newest_file, ...) plus optional name, condition and wait.
type Check struct {
	Name string
	Kind string
	Spec CheckSpec
	When *Expr
	Wait *Wait
	// DuringRun marks a gate that holds only while the run is under way ("Maestro is
	// stopped everywhere"): a later step undoes it on purpose, so a check of the end
	// state (replay --verify-only) leaves it out.
	DuringRun bool
	// Advice marks a check whose failure warns and never blocks: what a vendor advises
	// without requiring it. It is looked at once, not waited for.
	Advice bool
	Pos    yamlpos.Pos
}

// UnmarshalYAML reads a mapping with one kind key, e.g.
//
//   - name: the Hub is gone from the old server
//     file_absent: {role: old, path: hub}
func (c *Check) UnmarshalYAML(n yast.Node) error {
	c.Pos = yamlpos.PosOf(n)
	m, ok := n.(*yast.MappingNode)
	if !ok {
		return yamlpos.Errorf(c.Pos, "a check is a mapping with one kind of check (%s)", strings.Join(checkKinds(), ", "))
	}
	for _, kv := range m.Values {
		key := kv.Key.GetToken().Value
		kpos := yamlpos.PosOf(kv.Key)
		var err error
		switch key {
		case "name":
			err = yamlpos.DecodeNode(kv.Value, &c.Name)
		case "when":
			c.When = &Expr{}
			err = c.When.UnmarshalYAML(kv.Value)
		case "wait":
			c.Wait = &Wait{}
			if e := yamlpos.CheckShape("wait", kv.Value, reflect.TypeOf(c.Wait)); e != nil {
				return e
			}
			err = yamlpos.DecodeNode(kv.Value, c.Wait)
		case "during_run":
			err = yamlpos.DecodeNode(kv.Value, &c.DuringRun)
		case "advice":
			err = yamlpos.DecodeNode(kv.Value, &c.Advice)
		default:
			mk, known := checkRegistry[key]
			if !known {
				return yamlpos.Errorf(kpos, "unknown check %q%s (known: %s)", key,
					yamlpos.DidYouMean(key, append(checkKinds(), "name", "when", "wait", "during_run", "advice")), strings.Join(checkKinds(), ", "))
			}
			if c.Kind != "" {
				return yamlpos.Errorf(kpos, "one check per list item: %s and %s are both here", c.Kind, key)
			}
			c.Kind, c.Spec = key, mk()
			err = yamlpos.DecodeNode(kv.Value, c.Spec)
		}
		if err != nil {
			return err
		}
	}
	if c.Kind == "" {
		return yamlpos.Errorf(c.Pos, "check has no kind: add one of %s", strings.Join(checkKinds(), ", "))
	}
	return nil
}

// Action is what a step does by itself: exactly one of run, copy, ini, service.
type Action struct {
	Kind string
	Spec ActionSpec
	Pos  yamlpos.Pos
}

// UnmarshalYAML reads a mapping with exactly one kind key.
func (a *Action) UnmarshalYAML(n yast.Node) error {
	a.Pos = yamlpos.PosOf(n)
	m, ok := n.(*yast.MappingNode)
	if ok && len(m.Values) > 1 {
		return yamlpos.Errorf(yamlpos.PosOf(m.Values[1].Key), "action: one kind per step, and %s and %s are both here: a step does one thing, so split it into two steps",
			m.Values[0].Key.GetToken().Value, m.Values[1].Key.GetToken().Value)
	}
	if !ok || len(m.Values) != 1 {
		return yamlpos.Errorf(a.Pos, "an action is a mapping with exactly one of %s", strings.Join(actionKinds(), ", "))
	}
	kv := m.Values[0]
	key := kv.Key.GetToken().Value
	mk, known := actionRegistry[key]
	if !known {
		return yamlpos.Errorf(yamlpos.PosOf(kv.Key), "unknown action %q%s (known: %s)", key, yamlpos.DidYouMean(key, actionKinds()), strings.Join(actionKinds(), ", "))
	}
	a.Kind, a.Spec = key, mk()
	return yamlpos.DecodeNode(kv.Value, a.Spec)
}

// Assignments are INI keys and their values, in the order written.
type Assignments []Assignment

// Assignment sets one key.
type Assignment struct {
	Key   string
	Value *Template
	Pos   yamlpos.Pos
}

// UnmarshalYAML reads a mapping, keeping its order.
func (a *Assignments) UnmarshalYAML(n yast.Node) error {
	m, ok := n.(*yast.MappingNode)
	if !ok {
		return yamlpos.Errorf(yamlpos.PosOf(n), "expected a mapping of key: value")
	}
	for _, kv := range m.Values {
		t := &Template{}
		if err := t.UnmarshalYAML(kv.Value); err != nil {
			return err
		}
		*a = append(*a, Assignment{Key: kv.Key.GetToken().Value, Value: t, Pos: yamlpos.PosOf(kv.Key)})
	}
	return nil
}

// Parse loads a runbook from YAML and checks it completely: structure, references,
// expressions and templates. Every problem is reported with file:line:col.
func Parse(file string, data []byte) (*Runbook, error) {
	rb := &Runbook{}
	if err := yamlpos.Decode(file, data, rb); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	rb.File, rb.Hash = file, hex.EncodeToString(sum[:])
	if err := rb.compile(); err != nil {
		return nil, yamlpos.SetFile(err, file)
	}
	for i := range rb.Warnings {
		rb.Warnings[i].Pos.File = file
	}
	return rb, nil
}

// Step returns the step with id, or nil.
func (rb *Runbook) Step(id string) *Step {
	for _, s := range rb.Steps {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// Param returns the parameter with id, or nil.
func (rb *Runbook) Param(id string) *Param {
	for _, p := range rb.Params {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// Role returns the role with id, or nil.
func (rb *Runbook) Role(id string) *Role {
	for _, r := range rb.Roles {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// Preset returns the preset with id, or nil.
func (rb *Runbook) Preset(id string) *Preset {
	for _, p := range rb.Presets {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// RoleIDs lists the role names in order.
func (rb *Runbook) RoleIDs() []string {
	out := make([]string, len(rb.Roles))
	for i, r := range rb.Roles {
		out[i] = r.ID
	}
	return out
}

// String names the runbook for messages.
func (rb *Runbook) String() string { return fmt.Sprintf("%s (%s)", rb.ID, rb.Title) }
