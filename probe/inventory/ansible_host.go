package inventory

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/yamlpos"
)

// host maps merged variables to a probe.Host.
func (a *ansInv) host(name string, at yamlpos.Pos, vars map[string]ansVar, groups []string, ssh *sshConfig) (*probe.Host, []ansVar, []jumpSpec) {
	get := func(keys ...string) (ansVar, bool) {
		for _, k := range keys {
			if v, ok := vars[k]; ok {
				return v, true
			}
		}
		return ansVar{}, false
	}
	noJinja := func(key string, v ansVar) {
		// A list's JSON holds its items' text, so one check covers every item.
		if s := scalar(v.val); strings.Contains(s, "{{") {
			a.errs.Add(v.pos, "%s of %s is a Jinja template (%q): cutover does not evaluate templates; give the value itself", key, name, s)
		}
	}
	str := func(keys ...string) (string, yamlpos.Pos, bool) {
		v, ok := get(keys...)
		if !ok {
			return "", yamlpos.Pos{}, false
		}
		noJinja(keys[0], v)
		return scalar(v.val), v.pos, true
	}
	list := func(key string) (ansVar, bool) {
		v, ok := get(key)
		if ok {
			noJinja(key, v)
		}
		return v, ok
	}
	dest := name
	if s, _, ok := str("ansible_host", "ansible_ssh_host"); ok && s != "" {
		dest = s
	}
	// What Ansible leaves open, its ssh finds in ~/.ssh/config for the destination.
	r := &sshResolver{cfg: ssh, errs: &a.errs}
	h := r.host(name, dest, "", 0, at, 1)
	h.Groups = groups
	var specs []jumpSpec
	cfgJump := h.Jump
	h.Jump = nil
	if s, pos, ok := str("ansible_port", "ansible_ssh_port"); ok {
		p, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || p < 1 || p > 65535 {
			a.errs.Add(pos, "ansible_port %q of %s: expected a number from 1 to 65535", s, name)
		} else {
			h.Port = p
		}
	}
	if s, _, ok := str("ansible_user", "ansible_ssh_user", "ansible_remote_user"); ok && s != "" {
		h.User = s
	}
	var ids []string
	base := a.base
	if s, _, ok := str("ansible_ssh_private_key_file", "ansible_private_key_file"); ok && s != "" {
		ids = append(ids, ExpandPath(base, s))
	}
	sawJump := false
	for _, k := range []string{"ansible_ssh_common_args", "ansible_ssh_extra_args"} {
		s, pos, ok := str(k)
		if !ok || s == "" {
			continue
		}
		o, err := parseSSHArgs(s)
		if err != nil {
			a.errs.Add(pos, "%s of %s: %v", k, name, err)
			continue
		}
		if o.port != 0 {
			h.Port = o.port
		}
		if o.user != "" {
			h.User = o.user
		}
		for _, id := range o.identities {
			ids = append(ids, ExpandPath(base, id))
		}
		if len(o.knownHosts) > 0 {
			h.KnownHosts = nil
			for _, f := range o.knownHosts {
				h.KnownHosts = appendNew(h.KnownHosts, ExpandPath(base, f))
			}
		}
		if o.jump != "" {
			sawJump = true
			if !strings.EqualFold(o.jump, "none") {
				for _, spec := range strings.Split(o.jump, ",") {
					u, jh, jp, err := parseJumpSpec(strings.TrimSpace(spec))
					if err != nil {
						a.errs.Add(pos, "%s of %s: %v", k, name, err)
						continue
					}
					specs = append(specs, jumpSpec{user: u, host: jh, port: jp, pos: pos})
				}
			}
		}
	}
	if v, ok := list("cutover_identity"); ok {
		for _, f := range listValue(v.val) {
			ids = append(ids, ExpandPath(base, f))
		}
	}
	if len(ids) > 0 {
		// ssh -i comes before the configuration's IdentityFile lines.
		h.IdentityFiles = append(ids, h.IdentityFiles...)
		h.IdentityFiles = slices.Compact(h.IdentityFiles)
	}
	if v, ok := list("cutover_known_hosts"); ok {
		h.KnownHosts = nil
		for _, f := range listValue(v.val) {
			h.KnownHosts = appendNew(h.KnownHosts, ExpandPath(base, f))
		}
	}
	if s, pos, ok := str("ansible_connection"); ok {
		switch strings.ToLower(s) {
		case "", "ssh", "smart", "paramiko", "paramiko_ssh":
		case "local":
			h.Local = true
		default:
			a.errs.Add(pos, "ansible_connection %q of %s: cutover reaches hosts over SSH (or local)", s, name)
		}
	}
	if s, _, ok := str("ansible_shell_type"); ok && (strings.EqualFold(s, "powershell") || strings.EqualFold(s, "cmd")) {
		h.Shell = "powershell"
	}
	if s, pos, ok := str("cutover_shell"); ok {
		h.Shell = strings.ToLower(s)
		if h.Shell != "sh" && h.Shell != "powershell" {
			a.errs.Add(pos, "cutover_shell %q of %s: expected sh or powershell", s, name)
		}
	}
	if s, _, ok := str("cutover_install_dir"); ok {
		h.InstallDir = s
	}
	a.services(h, vars)
	a.ansibleBecome(name, vars).apply(h, &a.errs)
	for k, v := range vars {
		if strings.HasPrefix(k, "ansible_") || strings.HasPrefix(k, "cutover_") {
			continue
		}
		h.Vars[k] = scalar(v.val)
	}
	validateHost(h, func(f, msg string) { a.errs.Add(ansiblePos(vars, at, f), "%s", msg) })
	var jumps []ansVar
	if v, ok := list("cutover_jump"); ok {
		jumps = append(jumps, v)
		sawJump = true
	}
	if !sawJump {
		h.Jump = cfgJump
	}
	return h, jumps, specs
}

// services reads cutover_services and cutover_service_NAME_{start,stop,status}.
func (a *ansInv) services(h *probe.Host, vars map[string]ansVar) {
	if v, ok := vars["cutover_services"]; ok {
		m, ok := v.val.(map[string]any)
		if s, isStr := v.val.(string); isStr {
			ok = json.Unmarshal([]byte(s), &m) == nil
		}
		if !ok {
			a.errs.Add(v.pos, "cutover_services of %s: expected {NAME: {start: ..., stop: ..., status: ...}} (JSON in an INI file)", h.Name)
		}
		for name, def := range m {
			d, _ := def.(map[string]any)
			h.Services[name] = probe.Service{Start: scalar(d["start"]), Stop: scalar(d["stop"]), Status: scalar(d["status"])}
		}
	}
	where := map[string]yamlpos.Pos{}
	for k, v := range vars {
		rest, ok := strings.CutPrefix(k, "cutover_service_")
		if !ok {
			continue
		}
		i := strings.LastIndexByte(rest, '_')
		if i <= 0 {
			a.errs.Add(v.pos, "%s: expected cutover_service_NAME_start, _stop or _status", k)
			continue
		}
		name, op := rest[:i], rest[i+1:]
		s := h.Services[name]
		switch op {
		case "start":
			s.Start = scalar(v.val)
		case "stop":
			s.Stop = scalar(v.val)
		case "status":
			s.Status = scalar(v.val)
		default:
			a.errs.Add(v.pos, "%s: expected cutover_service_NAME_start, _stop or _status", k)
			continue
		}
		h.Services[name] = s
		where[name] = v.pos
	}
	if v, ok := vars["cutover_services"]; ok {
		for name := range h.Services {
			if _, ok := where[name]; !ok {
				where[name] = v.pos
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(h.Services)) {
		if s := h.Services[name]; s.Start == "" || s.Stop == "" || s.Status == "" {
			a.errs.Add(where[name], "service %s of host %s needs start, stop and status commands", name, h.Name)
		}
	}
}

// scalar is a variable's value as text; lists and mappings become JSON.
func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "true"
		}
		return "false"
	case []any, map[string]any:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}

// listValue reads a list variable: a YAML list, or text separated by commas.
func listValue(v any) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if s := strings.TrimSpace(scalar(e)); s != "" {
				out = append(out, s)
			}
		}
	default:
		s := scalar(v)
		if strings.HasPrefix(strings.TrimSpace(s), "[") {
			var l []string
			if json.Unmarshal([]byte(s), &l) == nil {
				return l
			}
		}
		for _, e := range strings.Split(s, ",") {
			if e = strings.TrimSpace(e); e != "" {
				out = append(out, e)
			}
		}
	}
	return out
}
