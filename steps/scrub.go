package steps

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"time"
)

// structural are the string fields that give an event its meaning to the fold, resume
// and replay: kinds, statuses, ids, the session's inputs (which hold no secret values:
// secret parameters are never recorded) and an answer command's role and text (written
// by the operator in a run file, never rendered with parameters). Secrets are removed
// from every other string an event carries (command output, evidence, summaries,
// errors, reasons, INI diffs, paths, probe facts), but never from these: a short secret
// ("t", "on") must not turn "step_start" or "pass" into something the journal reader no
// longer understands, nor a recorded path into one resume cannot open. Times and
// numbers are not text and are left alone too.
var structural = map[string]bool{
	"Event.Type": true, "Event.Step": true, "Event.Status": true, "Event.Prev": true,
	"Session.RunID": true, "Session.Runbook": true, "Session.Hash": true, "Session.File": true,
	"Session.Roles": true, "Session.Params": true, "Session.Secret": true, "Session.Inventory": true,
	"Session.InventoryDigest": true, "Session.Version": true, "Session.Replay": true,
	"PlannedStep.ID":    true,
	"CheckResult.Phase": true, "CheckResult.Kind": true, "CheckResult.Status": true,
	"ActionRecord.Kind": true,
	"Decision.Kind":     true, "Decision.On": true, "Decision.Via": true,
	"AnswerRun.Role": true, "AnswerRun.Command": true,
	"PreflightItem.Step": true,
}

var timeType = reflect.TypeFor[time.Time]()

// redactEvent returns a copy of ev with every secret replaced by [secret] in its free
// text; ev itself is not changed.
func redactEvent(ev *Event, secrets []string) *Event {
	var live []string
	for _, s := range secrets {
		if s != "" {
			live = append(live, s)
		}
	}
	if len(live) == 0 {
		return ev
	}
	b, err := json.Marshal(ev)
	cp := &Event{}
	if err != nil || json.Unmarshal(b, cp) != nil {
		// Cannot happen for an Event; if it did, record what is certainly safe.
		return &Event{Seq: ev.Seq, Time: ev.Time, Type: EvNote, Message: "an event could not be recorded without its secrets"}
	}
	redactValue(reflect.ValueOf(cp).Elem(), false, live)
	return cp
}

// redactValue rewrites the strings reachable from v in place (v comes from a fresh
// copy, so maps and slices are not shared with anything else).
func redactValue(v reflect.Value, keep bool, secrets []string) {
	switch v.Kind() {
	case reflect.String:
		if keep || !v.CanSet() {
			return
		}
		v.SetString(redactText(v.String(), secrets))
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			redactValue(v.Elem(), keep, secrets)
		}
	case reflect.Struct:
		if v.Type() == timeType {
			return
		}
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			redactValue(v.Field(i), keep || structural[t.Name()+"."+f.Name], secrets)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			redactValue(v.Index(i), keep, secrets)
		}
	case reflect.Map:
		// Map values are not addressable: each is copied, redacted and put back. Keys
		// (parameter ids, INI keys, paths of log marks) are names, not values.
		iter := v.MapRange()
		type kv struct{ k, v reflect.Value }
		var entries []kv
		for iter.Next() {
			entries = append(entries, kv{iter.Key(), iter.Value()})
		}
		for _, e := range entries {
			nv := reflect.New(e.v.Type()).Elem()
			nv.Set(e.v)
			redactValue(nv, keep, secrets)
			v.SetMapIndex(e.k, nv)
		}
	}
}

// placeholder stands for a secret in everything cutover shows or records.
const placeholder = "[secret]"

// redactText replaces every secret in s by the placeholder, leaving placeholders that
// are there already alone (a secret such as "e" would otherwise be found again inside
// them).
func redactText(s string, secrets []string) string {
	if !slices.IsSortedFunc(secrets, longestFirst) {
		// A secret that is a prefix of another ("Winter", "Winter2024!") must not be
		// replaced first, or the rest of the longer one would be left in clear.
		secrets = slices.SortedFunc(slices.Values(secrets), longestFirst)
	}
	parts := strings.Split(s, placeholder)
	for i, p := range parts {
		for _, sec := range secrets {
			if sec != "" {
				p = strings.ReplaceAll(p, sec, placeholder)
			}
		}
		parts[i] = p
	}
	return strings.Join(parts, placeholder)
}

func longestFirst(a, b string) int { return len(b) - len(a) }
