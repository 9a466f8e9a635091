package steps

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"

	yaml "github.com/goccy/go-yaml"
	yast "github.com/goccy/go-yaml/ast"

	"github.com/cutover/cutover/probe/yamlpos"
)

// RunFile is a run written down: which runbook, which hosts play which roles, the
// parameters, and answers for the steps an operator would otherwise be asked about.
//
//	runbook: maestro/move-hub
//	inventory: ../inventory.yaml
//	roles: {old: hub, new: spare, lui: lui, trk: trk}
//	params: {database: internal}
//	answers:
//	  install-fresh:
//	    run: {role: new, command: "maestro-setup install --components hub"}
//	  uninstall-old:
//	    phrase: UNINSTALL HUB
//	    run: {role: old, command: "maestro-setup remove hub"}
type RunFile struct {
	Runbook   string             `yaml:"runbook"`
	Inventory string             `yaml:"inventory,omitempty"`
	Preset    string             `yaml:"preset,omitempty"`
	Roles     map[string]string  `yaml:"roles"`
	Params    map[string]any     `yaml:"params"`
	Answers   map[string]*Answer `yaml:"answers,omitempty"`

	// File is where it was read from.
	File string `yaml:"-"`
	// keys are where the top-level keys and the entries of roles, params and answers are
	// written ("runbook", "roles.old", "params.database"), for errors about them.
	keys map[string]yamlpos.Pos
}

// Pos is where key is written in the run file: a top-level key ("runbook", "preset"),
// or an entry of roles, params or answers ("roles.old"); the file alone when unknown.
func (rf *RunFile) Pos(key string) yamlpos.Pos {
	if p, ok := rf.keys[key]; ok {
		return p
	}
	return yamlpos.Pos{File: rf.File}
}

// keyPositions notes where the run file's keys are written.
func keyPositions(file string, data []byte) map[string]yamlpos.Pos {
	out := map[string]yamlpos.Pos{}
	f, err := yamlpos.Parse(file, data)
	if err != nil || len(f.Docs) != 1 {
		return out
	}
	top, ok := f.Docs[0].Body.(*yast.MappingNode)
	if !ok {
		return out
	}
	at := func(n yast.Node) yamlpos.Pos {
		p := yamlpos.PosOf(n)
		p.File = file
		return p
	}
	for _, kv := range top.Values {
		key := kv.Key.GetToken().Value
		out[key] = at(kv.Key)
		if m, ok := kv.Value.(*yast.MappingNode); ok && (key == "roles" || key == "params" || key == "answers") {
			for _, e := range m.Values {
				out[key+"."+e.Key.GetToken().Value] = at(e.Key)
			}
		}
	}
	return out
}

// Answer decides for an operator at one step.
type Answer struct {
	// Confirm says a manual step was done (or an action may go ahead).
	Confirm bool `yaml:"confirm"`
	// Phrase is the text a step that cannot be undone asks to be typed.
	Phrase string `yaml:"phrase"`
	// Run performs a manual step with a command on a role's host; it implies Confirm.
	Run *AnswerRun `yaml:"run"`
	// Skip skips an optional step, with this reason.
	Skip string `yaml:"skip"`
	// Override accepts a failed check or action, with this reason. Use with care: it is
	// recorded and shown in every export.
	Override string `yaml:"override"`
	// Unknown settles an action whose outcome is unknown after a resume: accept (it
	// happened; its gates must pass) or rerun.
	Unknown string `yaml:"unknown"`

	Pos yamlpos.Pos `yaml:"-"`
	// Retry looks again at a failed check (or runs a failed action again), once: the
	// operator fixed the cause (--decide STEP=retry).
	Retry bool `yaml:"-"`
	// Via overrides the Answerer's source label for this answer ("flag" for --decide).
	Via string `yaml:"-"`
	// OverrideOn limits Override to the failures it answered in a recording (OnPre,
	// OnAction, OnGates, OnUnknown): a replay must not let an override of a pre-check
	// pass a gate of the same step. Empty means any failure of the step (run files).
	OverrideOn []DecisionOn `yaml:"-"`
	// NeedsCheck answers a manual step only when one of its gates applies: a replayed
	// confirmation of work done by hand must be checked against the hosts, never taken
	// on the recording's word.
	NeedsCheck bool `yaml:"-"`
}

// overrides says whether the answer overrides a failure of the kind on.
func (a *Answer) overrides(on DecisionOn) bool {
	return a.Override != "" && (len(a.OverrideOn) == 0 || slices.Contains(a.OverrideOn, on))
}

// UnmarshalYAML records where the answer was written.
func (a *Answer) UnmarshalYAML(n yast.Node) error {
	type plain Answer
	a.Pos = yamlpos.PosOf(n)
	return yamlpos.DecodeNode(n, (*plain)(a))
}

// LoadRunFile reads a run file. The inventory path, if any, is made relative to the
// working folder.
func LoadRunFile(path string) (*RunFile, error) {
	data, err := yamlpos.ReadFile(path)
	if err != nil {
		if len(yamlpos.Errors(err)) > 0 {
			return nil, err
		}
		return nil, fmt.Errorf("run file: %w", err)
	}
	rf := &RunFile{}
	if err := yamlpos.Decode(path, data, rf); err != nil {
		return nil, err
	}
	rf.File = path
	rf.keys = keyPositions(path, data)
	if rf.Inventory != "" && !filepath.IsAbs(rf.Inventory) {
		rf.Inventory = filepath.Join(filepath.Dir(path), rf.Inventory)
	}
	var errs yamlpos.List
	for step, a := range rf.Answers {
		if a == nil {
			errs.Add(rf.Pos("answers."+step), "answer for %s is empty", step)
			continue
		}
		a.Pos.File = path
		if p, ok := rf.keys["answers."+step]; ok {
			a.Pos = p // errors about an answer point at its step's name
		}
		if a.Unknown != "" && a.Unknown != "accept" && a.Unknown != "rerun" {
			errs.Add(a.Pos, "answer for %s: unknown: must be accept or rerun, not %q", step, a.Unknown)
		}
		if a.Skip != "" && (a.Confirm || a.Run != nil) {
			errs.Add(a.Pos, "answer for %s: skip and confirm/run contradict each other", step)
		}
		if a.Run != nil && (a.Run.Role == "" || a.Run.Command == "") {
			errs.Add(a.Pos, "answer for %s: run needs role and command", step)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return rf, nil
}

// NewRunFile writes down a setup: the runbook, the inventory (as an absolute path, so
// the file works from any folder), the roles, the preset and the parameters. Secret
// parameters are left out on purpose: a run file is kept and shared, and the run asks
// for them again.
func NewRunFile(rb *Runbook, in Inputs, inv string) *RunFile {
	rf := &RunFile{Runbook: rb.ID, Preset: in.Preset, Roles: map[string]string{}, Params: map[string]any{}}
	for k, v := range in.Roles {
		rf.Roles[k] = v
	}
	for k, v := range in.Params {
		if p := rb.Param(k); p != nil && !p.Secret {
			rf.Params[k] = v
		}
	}
	if abs, err := filepath.Abs(inv); err == nil && inv != "" {
		rf.Inventory = abs
	}
	return rf
}

// runFileHeader opens every run file Save writes.
const runFileHeader = "# Run file written by cutover. Secret parameters are not stored.\n"

// Save writes the run file to path, creating its folder: to a temporary name first,
// renamed into place, so a crash never leaves half a file where a run file was.
func (rf *RunFile) Save(path string) error {
	if path == "" {
		return errors.New("run file: no file name given")
	}
	data, err := yaml.Marshal(rf)
	if err != nil {
		return fmt.Errorf("run file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("run file: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append([]byte(runFileHeader), data...), 0o600); err != nil {
		return fmt.Errorf("run file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("run file: %w", err)
	}
	return nil
}

// Inputs returns the roles, parameters and preset as plan inputs.
func (rf *RunFile) Inputs() Inputs {
	in := Inputs{Roles: map[string]string{}, Params: map[string]string{}, Preset: rf.Preset}
	for k, v := range rf.Roles {
		in.Roles[k] = v
	}
	for k, v := range rf.Params {
		in.Params[k] = format(v)
	}
	return in
}

// CheckInputs reports the roles, parameters and preset of the run file that do not fit
// the runbook or the inventory, each where it is written: an unknown role or parameter,
// a host the inventory lacks, a value of the wrong kind. Entries that flags replace
// (overridden) are not looked at.
func (rf *RunFile) CheckInputs(rb *Runbook, lookup HostLookup, overridden Inputs) error {
	var errs yamlpos.List
	for _, r := range slices.Sorted(maps.Keys(rf.Roles)) {
		if _, ok := overridden.Roles[r]; ok {
			continue
		}
		pos := rf.Pos("roles." + r)
		switch {
		case rb.Role(r) == nil:
			errs.Add(pos, "unknown role %q (%s has: %s)", r, rb.ID, listOr(rb.RoleIDs()))
		case lookup != nil && lookup(rf.Roles[r]) == nil:
			errs.Add(pos, "role %s: host %q is not in the inventory", r, rf.Roles[r])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(rf.Params)) {
		if _, ok := overridden.Params[k]; ok {
			continue
		}
		p := rb.Param(k)
		if p == nil {
			errs.Add(rf.Pos("params."+k), "unknown parameter %q (%s has: %s)", k, rb.ID, listOr(paramIDs(rb.Params)))
			continue
		}
		if _, err := p.Parse(format(rf.Params[k])); err != nil {
			errs.Add(rf.Pos("params."+k), "parameter %s: %v", k, err)
		}
	}
	if rf.Preset != "" && overridden.Preset == "" && rb.Preset(rf.Preset) == nil {
		errs.Add(rf.Pos("preset"), "unknown preset %q (%s has: %s)", rf.Preset, rb.ID, listOr(presetIDs(rb)))
	}
	return errs.Err()
}

// CheckAgainst reports answers that do not fit the runbook: unknown steps and roles,
// a command for a step that is not manual, a skip for a step that is not optional.
func (rf *RunFile) CheckAgainst(rb *Runbook) error {
	var errs yamlpos.List
	ids := make([]string, 0, len(rf.Answers))
	for id := range rf.Answers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		a := rf.Answers[id]
		s := rb.Step(id)
		if s == nil {
			errs.Add(a.Pos, "answer for unknown step %q (%s has no such step)", id, rb.ID)
			continue
		}
		if a.Run != nil {
			if !s.Manual {
				errs.Add(a.Pos, "answer for %s: run is only for manual steps", id)
			}
			if rb.Role(a.Run.Role) == nil {
				errs.Add(a.Pos, "answer for %s: undefined role %q", id, a.Run.Role)
			}
		}
		if a.Skip != "" && !s.Optional {
			errs.Add(a.Pos, "answer for %s: the step is not optional and cannot be skipped", id)
		}
	}
	return errs.Err()
}

// Answerer decides prompts from recorded answers; it never answers the same question
// twice, so a failing gate cannot be overridden in a loop.
type Answerer struct {
	Answers map[string]*Answer
	// Via is recorded with each decision ("runfile", "replay").
	Via  string
	used map[string]bool
}

// Decide returns the decision for p, or false when nobody wrote one down.
func (a *Answerer) Decide(p *Prompt) (Decision, bool) {
	ans := a.Answers[p.Step]
	if ans == nil {
		return Decision{}, false
	}
	if a.used == nil {
		a.used = map[string]bool{}
	}
	key := p.Step + "/" + string(p.On)
	if a.used[key] {
		return Decision{}, false
	}
	d := Decision{Via: a.Via}
	if ans.Via != "" {
		d.Via = ans.Via
	}
	if ans.Skip != "" && p.Allows(Skip) {
		// A skip answers whatever an optional step asks first: its confirmation, failed
		// pre-checks or a failed action. (A step that asks nothing runs.)
		d.Kind, d.Reason = Skip, ans.Skip
		a.used[key] = true
		return d, true
	}
	switch p.Kind {
	case AskConfirm:
		switch {
		case ans.NeedsCheck && p.Manual && ans.Run == nil && !p.Checked:
			return d, false
		case ans.Confirm || ans.Run != nil || ans.Phrase != "":
			d.Kind, d.Phrase, d.Run = Confirm, ans.Phrase, ans.Run
		default:
			return d, false
		}
	case AskCheckFailed, AskActionFailed:
		switch {
		case ans.Retry && p.Allows(Retry):
			d.Kind = Retry
		case ans.overrides(p.On):
			d.Kind, d.Reason = Override, ans.Override
		default:
			return d, false
		}
	case AskUnknown:
		switch {
		case ans.Unknown == "accept" && p.Allows(Accept):
			d.Kind = Accept
		case ans.Unknown == "rerun":
			d.Kind = Rerun
		case ans.Retry && p.Allows(Retry):
			d.Kind = Retry
		case ans.overrides(p.On) && p.Allows(Override):
			d.Kind, d.Reason = Override, ans.Override
		default:
			return d, false
		}
	default:
		return d, false
	}
	a.used[key] = true
	return d, true
}
