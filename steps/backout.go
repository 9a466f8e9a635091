package steps

import (
	"fmt"
	"strings"

	"github.com/goccy/go-yaml"
)

// BackOutItem is one completed step of a run and how it is undone: the automatic undos
// its action recorded (in the order to perform them), and what remains for the
// operator.
type BackOutItem struct {
	Step  string `json:"step"`
	Title string `json:"title"`
	Undos []Undo `json:"undos,omitempty"`
	// Auto says in words what is undone automatically: each undo, or for a plan what
	// the action will record.
	Auto []string `json:"auto,omitempty"`
	// Manual is what the operator undoes by hand ("" when nothing).
	Manual string `json:"manual,omitempty"`
	// Irreversible marks a step that cannot be undone (it asked for a typed phrase):
	// nothing before it is undone automatically.
	Irreversible bool `json:"irreversible,omitempty"`
}

// BackOut lists how to undo the completed steps of a run, newest first. It stops at
// the first step that cannot be undone (returned as the last item, Irreversible): the
// steps before it stay as they are. Steps that were skipped, or adopted by a run that
// started later (cutover did not do them), are not listed.
func BackOut(st *RunState, rb *Runbook) []BackOutItem {
	var out []BackOutItem
	for i := len(st.Steps) - 1; i >= 0; i-- {
		ss := st.Steps[i]
		if ss.Status == StepPending || ss.Status == StepSkipped || ss.Adopted() {
			continue
		}
		s := rb.Step(ss.ID())
		if s == nil {
			continue
		}
		it := BackOutItem{Step: s.ID, Title: s.Title}
		if s.Phrase != nil && !s.Phrase.IsZero() {
			it.Irreversible = true
			it.Manual = "cannot be undone (it asked for a typed phrase)"
			if s.BackOut != "" {
				it.Manual += "; " + s.BackOut
			}
			out = append(out, it)
			break
		}
		var manual []string
		if a := ss.Action; a != nil && (ss.ActionDone || ss.ActionPending) {
			for j := len(a.Undo) - 1; j >= 0; j-- {
				u := a.Undo[j]
				if u.Kind == UndoService && u.State != "running" && u.State != "stopped" {
					manual = append(manual, u.String())
					continue
				}
				it.Undos = append(it.Undos, u)
				it.Auto = append(it.Auto, u.String())
			}
			switch {
			case ss.ActionPending:
				manual = append(manual, "its action's outcome is unknown: look at what it did ("+a.Summary+") and undo that by hand")
			case len(a.Undo) == 0 && a.OK && !a.Answer && a.Kind != "service" && a.Kind != "restore" && a.Kind != "discard":
				manual = append(manual, "undo by hand what it did: "+a.Summary)
			}
		}
		if m := manualBackOut(s); m != "" {
			manual = append(manual, m)
		}
		it.Manual = strings.Join(manual, "; ")
		if len(it.Undos) > 0 || it.Manual != "" {
			out = append(out, it)
		}
	}
	return out
}

// PlanBackOut is the back-out plan of a plan not run yet, newest step first: what each
// kept step's action will record to undo (in words), and what the runbook says to undo
// by hand; it stops at the first step that cannot be undone, as BackOut does.
func PlanBackOut(p *Plan) []BackOutItem {
	var out []BackOutItem
	for i := len(p.Steps) - 1; i >= 0; i-- {
		ps := p.Steps[i]
		s := p.Runbook.Step(ps.ID)
		if s == nil || ps.Skip {
			continue
		}
		it := BackOutItem{Step: s.ID, Title: s.Title}
		if s.Phrase != nil && !s.Phrase.IsZero() {
			it.Irreversible = true
			it.Manual = "cannot be undone (it asks for a typed phrase)"
			if s.BackOut != "" {
				it.Manual += "; " + s.BackOut
			}
			out = append(out, it)
			break
		}
		var manual []string
		if s.Action != nil {
			x := p.exec(s)
			rec, _ := s.Action.Spec.plan(x)
			hosts := strings.Join(rec.Hosts, ", ")
			switch a := s.Action.Spec.(type) {
			case *INIAction:
				it.Auto = append(it.Auto, fmt.Sprintf("%s: put back the original of %s, kept beside it", hosts, x.mustRender(a.File)))
			case *CopyAction:
				if a.Mode == "replace" {
					it.Auto = append(it.Auto, fmt.Sprintf("%s: put back what the copy replaced (kept aside beside each path), the copy kept aside in turn", x.host(a.To.Name).Name))
				} else {
					manual = append(manual, "remove by hand what was copied: "+rec.Summary)
				}
			case *ServiceAction:
				it.Auto = append(it.Auto, fmt.Sprintf("%s: bring %s back to the state it was in before", hosts, a.Name))
			case *WriteAction:
				it.Auto = append(it.Auto, fmt.Sprintf("%s: put back the original of %s, kept beside it (a file it creates is kept aside)", hosts, x.mustRender(a.File)))
			default:
				manual = append(manual, "undo by hand what it does: "+x.redact(rec.Summary))
			}
		}
		if m := manualBackOut(s); m != "" {
			manual = append(manual, m)
		}
		it.Manual = strings.Join(manual, "; ")
		if len(it.Auto) > 0 || it.Manual != "" {
			out = append(out, it)
		}
	}
	return out
}

// manualBackOut is what the operator undoes of s by hand: the runbook's back_out text,
// or for a manual step without one, that the runbook gives none.
func manualBackOut(s *Step) string {
	switch {
	case s.BackOut != "":
		return s.BackOut
	case s.Manual:
		return "done by hand; the runbook gives no back-out for it (nothing, if it only checked or confirmed)"
	}
	return ""
}

// rollbackDoc is a generated rollback runbook, in the runbook format.
type rollbackDoc struct {
	ID     string         `yaml:"id"`
	Title  string         `yaml:"title"`
	System string         `yaml:"system"`
	Source string         `yaml:"source"`
	Roles  []rollbackRole `yaml:"roles"`
	Steps  []rollbackStep `yaml:"steps"`
}

type rollbackRole struct {
	ID    string `yaml:"id"`
	Title string `yaml:"title"`
}

type rollbackStep struct {
	ID     string           `yaml:"id"`
	Title  string           `yaml:"title"`
	Text   string           `yaml:"text"`
	Action map[string]any   `yaml:"action"`
	Gates  []map[string]any `yaml:"gates"`
}

// RollbackRunbook writes the runbook that performs items' automatic undos in order,
// each a step with its gate, for the run of st (of rb): cutover rollback runs it like
// any runbook, with a journal of its own. Values the run recorded become data of the
// runbook, never templates: a recorded path or name holding {{ or }} is refused.
func RollbackRunbook(st *RunState, rb *Runbook, journal string, items []BackOutItem) ([]byte, error) {
	doc := rollbackDoc{ID: rb.ID + "-rollback", Title: fmt.Sprintf(rollbackTitle, st.Session.RunID, rb.ID),
		System: rb.System, Source: "the journal " + journal}
	used := map[string]bool{}
	n := 0
	for _, it := range items {
		for _, u := range it.Undos {
			if err := noTemplate(it.Step, u.Role, u.Host, u.Path, u.Kept, u.Service, u.State, it.Title); err != nil {
				return nil, err
			}
			n++
			used[u.Role] = true
			rs := rollbackStep{ID: fmt.Sprintf("undo-%d-%s", n, it.Step), Title: "Undo: " + it.Title,
				Text: "Undoes what step `" + it.Step + "` did: " + u.String() + "."}
			switch u.Kind {
			case UndoService:
				do := "start"
				if u.State == "stopped" {
					do = "stop"
				}
				rs.Action = map[string]any{"service": map[string]any{"roles": []string{u.Role}, "name": u.Service, "do": do}}
				rs.Gates = []map[string]any{{"name": u.Service + " is " + u.State + " on " + u.Host,
					"service": map[string]any{"roles": u.Role, "name": u.Service, "state": u.State}, "wait": map[string]any{"timeout": "2m", "every": "3s"}}}
			default:
				rs.Action = map[string]any{"restore": map[string]any{"role": u.Role, "kind": u.Kind, "path": u.Path, "kept": u.Kept}}
				gate := map[string]any{"file_exists": map[string]any{"role": u.Role, "path": u.Path}}
				if u.Kind == UndoAbsent {
					gate = map[string]any{"file_absent": map[string]any{"role": u.Role, "path": u.Path}}
				}
				rs.Gates = []map[string]any{gate}
			}
			doc.Steps = append(doc.Steps, rs)
		}
	}
	if n == 0 {
		return nil, nil
	}
	for _, r := range rb.Roles {
		if used[r.ID] {
			doc.Roles = append(doc.Roles, rollbackRole{ID: r.ID, Title: r.Title})
		}
	}
	return yaml.Marshal(doc)
}
