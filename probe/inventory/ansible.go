package inventory

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/yamlpos"
)

// Ansible inventories, INI and YAML, as inventory sources. Hosts get the settings
// Ansible's ssh connection would use, and cutover's own from cutover_* variables:
//
//	ansible_host (ansible_ssh_host)        address; default: the inventory name
//	ansible_port (ansible_ssh_port)        port; default 22
//	ansible_user (ansible_ssh_user)        user
//	ansible_ssh_private_key_file           identity file (ansible_private_key_file too)
//	ansible_ssh_common_args, _extra_args   -J/-o ProxyJump=, -o ProxyCommand="ssh -W %h:%p J",
//	                                       -o UserKnownHostsFile=, -i, -p, -l
//	ansible_connection                     ssh (default) or local; winrm and psrp are refused
//	ansible_shell_type                     powershell (or cmd) makes the host a PowerShell host
//	ansible_group_priority                 orders groups of the same depth, as in Ansible
//	cutover_install_dir                    install_dir
//	cutover_known_hosts                    known_hosts files (a list, or comma separated)
//	cutover_identity                       more identity files (a list, or comma separated)
//	cutover_jump                           jump hosts: inventory hosts, in order
//	cutover_shell                          sh or powershell
//	cutover_services                       {NAME: {start, stop, status}} (JSON in INI files)
//	cutover_service_NAME_start/_stop/_status  one command of service NAME
//	every other variable                   vars (not ansible_*; lists and mappings as JSON)
//
// Groups are the host's groups with their parents, without "all" and "ungrouped";
// variables merge as in Ansible: all, then groups by depth (then priority, then name),
// then the host's own. Whatever the variables leave open comes from ~/.ssh/config for
// the host's address, as Ansible's ssh would find it there. Jinja templates in the
// variables cutover uses are not evaluated and are refused.

// ansVar is one variable and where it was set.
type ansVar struct {
	val any // string, bool, int64, uint64, float64, []any, map[string]any or nil
	pos yamlpos.Pos
}

type ansGroup struct {
	name     string
	pos      yamlpos.Pos
	hosts    []string
	hostSet  map[string]bool // hosts, for adding many without a quadratic search
	children []string
	vars     map[string]ansVar
}

type ansHost struct {
	name string
	pos  yamlpos.Pos
	vars map[string]ansVar
}

type ansInv struct {
	file   string
	groups map[string]*ansGroup
	hosts  map[string]*ansHost
	order  []string // host names in order of first appearance
	names  int      // host names the patterns expanded to so far, duplicates included
	errs   yamlpos.List
}

// expand expands a host pattern within what is left of the inventory's maxHostNames.
func (a *ansInv) expand(pattern string) ([]string, error) {
	names, err := expandHostPattern(pattern, maxHostNames-a.names)
	a.names += len(names)
	return names, err
}

func newAnsInv(file string) *ansInv {
	a := &ansInv{file: file, groups: map[string]*ansGroup{}, hosts: map[string]*ansHost{}}
	a.group("all", yamlpos.Pos{File: file, Line: 1, Col: 1})
	a.group("ungrouped", yamlpos.Pos{File: file, Line: 1, Col: 1})
	return a
}

func (a *ansInv) group(name string, pos yamlpos.Pos) *ansGroup {
	g := a.groups[name]
	if g == nil {
		g = &ansGroup{name: name, pos: pos, vars: map[string]ansVar{}}
		a.groups[name] = g
	}
	return g
}

func (a *ansInv) addHost(group, name string, pos yamlpos.Pos) *ansHost {
	h := a.hosts[name]
	if h == nil {
		h = &ansHost{name: name, pos: pos, vars: map[string]ansVar{}}
		a.hosts[name] = h
		a.order = append(a.order, name)
	}
	g := a.groups[group]
	if !g.hostSet[name] {
		if g.hostSet == nil {
			g.hostSet = map[string]bool{}
		}
		g.hostSet[name] = true
		g.hosts = append(g.hosts, name)
	}
	return h
}

func (a *ansInv) addChild(parent, child string, pos yamlpos.Pos) {
	p := a.group(parent, pos)
	a.group(child, pos)
	if !slices.Contains(p.children, child) {
		p.children = append(p.children, child)
	}
}

// ParseAnsibleINI reads an Ansible inventory in INI form.
func ParseAnsibleINI(file string, data []byte) (*Inventory, error) {
	a := newAnsInv(file)
	section, kind := "ungrouped", "hosts"
	for n, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimRight(raw, "\r")
		trimmed := strings.TrimSpace(line)
		pos := yamlpos.Pos{File: file, Line: n + 1, Col: len(line) - len(strings.TrimLeft(line, " \t")) + 1}
		if trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';' {
			continue
		}
		if trimmed[0] == '[' {
			end := strings.IndexByte(trimmed, ']')
			if end < 0 || strings.TrimSpace(stripComment(trimmed[end+1:])) != "" {
				a.errs.Add(pos, "section header %q: expected [group], [group:vars] or [group:children]", trimmed)
				section, kind = "", ""
				continue
			}
			name, suffix, _ := strings.Cut(trimmed[1:end], ":")
			name = strings.TrimSpace(name)
			switch suffix {
			case "", "vars", "children":
			default:
				a.errs.Add(pos, "section [%s]: %q is not a section kind (expected :vars or :children)", trimmed[1:end], suffix)
				section, kind = "", ""
				continue
			}
			if err := ValidName(name); err != nil {
				a.errs.Add(pos, "group name %q: %v", name, err)
				section, kind = "", ""
				continue
			}
			section, kind = name, cmpOr(suffix, "hosts")
			a.group(section, pos)
			continue
		}
		if section == "" {
			continue // under a broken header, already reported
		}
		switch kind {
		case "hosts":
			a.iniHostLine(section, line, pos)
		case "children":
			child := strings.TrimSpace(stripComment(trimmed))
			if err := ValidName(child); err != nil {
				a.errs.Add(pos, "child group %q of %s: %v", child, section, err)
				continue
			}
			a.addChild(section, child, pos)
		case "vars":
			k, v, ok := strings.Cut(trimmed, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" || strings.ContainsAny(k, " \t") {
				a.errs.Add(pos, "in [%s:vars]: expected key=value, found %q", section, trimmed)
				continue
			}
			a.groups[section].vars[k] = ansVar{val: unquote(strings.TrimSpace(stripComment(v))), pos: pos}
		}
	}
	// Every group hangs below "all"; hosts in no group but all are "ungrouped".
	a.finishINI()
	return a.build(data)
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// iniHostLine reads "pattern [key=value ...]" in a hosts section.
func (a *ansInv) iniHostLine(group, line string, pos yamlpos.Pos) {
	toks, err := splitShell(line)
	if err != nil {
		a.errs.Add(pos, "%v", err)
		return
	}
	if len(toks) == 0 {
		return
	}
	pattern := toks[0].s
	vars := map[string]ansVar{}
	if hp, port, ok := hostPort(pattern); ok {
		pattern = hp
		vars["ansible_port"] = ansVar{val: port, pos: pos}
	}
	for _, t := range toks[1:] {
		k, v, ok := strings.Cut(t.s, "=")
		tp := yamlpos.Pos{File: pos.File, Line: pos.Line, Col: t.col}
		if !ok || k == "" {
			a.errs.Add(tp, "host %s: expected key=value, found %q", pattern, t.s)
			continue
		}
		vars[k] = ansVar{val: v, pos: tp}
	}
	names, err := a.expand(pattern)
	if err != nil {
		a.errs.Add(pos, "host %q: %v", pattern, err)
		return
	}
	for _, name := range names {
		h := a.addHost(group, name, pos)
		maps.Copy(h.vars, vars)
	}
}

// hostPort splits "host:port" (not an IPv6 address, not a range such as web[01:09]).
func hostPort(s string) (string, string, bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 || strings.ContainsAny(s[i:], "[]") || strings.Count(s[:i], "[") != strings.Count(s[:i], "]") {
		return s, "", false
	}
	// More colons outside ranges make an IPv6 address, which has no port suffix here.
	depth := 0
	for _, c := range s[:i] {
		switch {
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == ':' && depth == 0:
			return s, "", false
		}
	}
	if _, err := strconv.Atoi(s[i+1:]); err != nil {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

func (a *ansInv) finishINI() {
	all := a.groups["all"]
	for _, name := range slices.Sorted(maps.Keys(a.groups)) {
		if name != "all" && !a.isChild(name) && !slices.Contains(all.children, name) {
			all.children = append(all.children, name)
		}
	}
}

func (a *ansInv) isChild(name string) bool {
	for _, g := range a.groups {
		if g.name != "all" && slices.Contains(g.children, name) {
			return true
		}
	}
	return false
}

// ParseAnsibleYAML reads an Ansible inventory in YAML form: groups at the top level
// (usually just all:), each with hosts:, children: and vars:.
func ParseAnsibleYAML(file string, data []byte) (*Inventory, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		var dummy struct{}
		return nil, yamlpos.Decode(file, data, &dummy) // reports the syntax error with its position
	}
	if len(f.Docs) != 1 || f.Docs[0].Body == nil {
		return nil, yamlpos.Errorf(yamlpos.Pos{File: file, Line: 1, Col: 1}, "expected one YAML document with groups at the top level")
	}
	a := newAnsInv(file)
	m, ok := f.Docs[0].Body.(*ast.MappingNode)
	if !ok {
		return nil, yamlpos.Errorf(a.at(f.Docs[0].Body), "expected groups (all:, ...) at the top level")
	}
	all := a.groups["all"]
	for _, kv := range m.Values {
		name := kv.Key.GetToken().Value
		if name != "all" && !slices.Contains(all.children, name) {
			all.children = append(all.children, name)
		}
		a.yamlGroup(name, kv.Key, kv.Value, 0)
	}
	// Hosts listed in no group below all are ungrouped, as in Ansible.
	for _, h := range all.hosts {
		if !a.inChildGroup(h) {
			a.addHost("ungrouped", h, a.hosts[h].pos)
		}
	}
	if !slices.Contains(all.children, "ungrouped") {
		all.children = append(all.children, "ungrouped")
	}
	return a.build(data)
}

func (a *ansInv) inChildGroup(host string) bool {
	for _, g := range a.groups {
		if g.name != "all" && g.name != "ungrouped" && g.hostSet[host] {
			return true
		}
	}
	return false
}

func (a *ansInv) at(n ast.Node) yamlpos.Pos {
	p := yamlpos.PosOf(n)
	p.File = a.file
	return p
}

func (a *ansInv) yamlGroup(name string, key, n ast.Node, depth int) {
	if err := ValidName(name); err != nil {
		a.errs.Add(a.at(key), "group name %q: %v", name, err)
		return
	}
	if depth > 32 {
		a.errs.Add(a.at(key), "groups nest deeper than 32 levels")
		return
	}
	g := a.group(name, a.at(key))
	if n == nil || n.Type() == ast.NullType {
		return
	}
	m, ok := n.(*ast.MappingNode)
	if !ok {
		a.errs.Add(a.at(n), "group %s: expected a mapping with hosts:, children: or vars:", name)
		return
	}
	for _, kv := range m.Values {
		k := kv.Key.GetToken().Value
		switch k {
		case "hosts":
			a.yamlMapping(kv.Value, "hosts of "+name, func(hk, hv ast.Node) {
				pattern := hk.GetToken().Value
				names, err := a.expand(pattern)
				if err != nil {
					a.errs.Add(a.at(hk), "host %q: %v", pattern, err)
					return
				}
				vars := a.yamlVars(hv, "host "+pattern)
				for _, hn := range names {
					h := a.addHost(name, hn, a.at(hk))
					maps.Copy(h.vars, vars)
				}
			})
		case "children":
			a.yamlMapping(kv.Value, "children of "+name, func(ck, cv ast.Node) {
				child := ck.GetToken().Value
				a.addChild(name, child, a.at(ck))
				a.yamlGroup(child, ck, cv, depth+1)
			})
		case "vars":
			maps.Copy(g.vars, a.yamlVars(kv.Value, "vars of "+name))
		default:
			a.errs.Add(a.at(kv.Key), "group %s: unknown key %q (expected hosts, children or vars)", name, k)
		}
	}
}

// yamlMapping calls each for every key of a mapping; null is an empty mapping.
func (a *ansInv) yamlMapping(n ast.Node, what string, each func(k, v ast.Node)) {
	if n == nil || n.Type() == ast.NullType {
		return
	}
	m, ok := n.(*ast.MappingNode)
	if !ok {
		a.errs.Add(a.at(n), "%s: expected a mapping", what)
		return
	}
	for _, kv := range m.Values {
		each(kv.Key, kv.Value)
	}
}

func (a *ansInv) yamlVars(n ast.Node, what string) map[string]ansVar {
	out := map[string]ansVar{}
	a.yamlMapping(n, what, func(k, v ast.Node) {
		var val any
		if v != nil && v.Type() != ast.NullType {
			if err := yamlpos.DecodeNode(v, &val); err != nil {
				a.errs.Add(a.at(v), "%s: %s: %v", what, k.GetToken().Value, err)
				return
			}
		}
		out[k.GetToken().Value] = ansVar{val: val, pos: a.at(v)}
	})
	return out
}

// build resolves groups and variables into hosts.
func (a *ansInv) build(data []byte) (*Inventory, error) {
	ssh, err := readSSHConfig("", UserSSHConfig(), systemSSHConfig)
	if err != nil {
		return nil, err
	}
	// The hosts are resolved through the ssh configuration too, so its files are part of
	// what a resume compares.
	sum := sha256.New()
	sum.Write(data)
	ssh.digest(sum)
	inv := &Inventory{File: a.file, Digest: hex.EncodeToString(sum.Sum(nil))}
	depth, parents := a.depths()
	if len(a.order) == 0 && len(a.errs) == 0 {
		a.errs.Add(yamlpos.Pos{File: a.file, Line: 1, Col: 1}, "no hosts in this Ansible inventory")
	}
	type pending struct {
		h     *probe.Host
		jumps []ansVar // cutover_jump entries, resolved once all hosts exist
		specs []jumpSpec
	}
	var all []pending
	byName := map[string]*probe.Host{}
	for _, name := range a.order {
		ah := a.hosts[name]
		if err := ValidName(name); err != nil {
			a.errs.Add(ah.pos, "host name %q: %v", name, err)
			continue
		}
		groups := a.groupsOf(name, parents)
		sort.SliceStable(groups, func(i, j int) bool {
			gi, gj := groups[i], groups[j]
			if depth[gi] != depth[gj] {
				return depth[gi] < depth[gj]
			}
			pi, pj := a.priority(gi), a.priority(gj)
			if pi != pj {
				return pi < pj
			}
			return gi < gj
		})
		vars := map[string]ansVar{}
		maps.Copy(vars, a.groups["all"].vars)
		for _, g := range groups {
			maps.Copy(vars, a.groups[g].vars)
		}
		maps.Copy(vars, ah.vars)
		var names []string
		for _, g := range groups {
			if g != "all" && g != "ungrouped" {
				names = append(names, g)
			}
		}
		sort.Strings(names)
		h, jumps, specs := a.host(name, ah.pos, vars, names, ssh)
		byName[name] = h
		all = append(all, pending{h, jumps, specs})
		inv.Hosts = append(inv.Hosts, h)
	}
	for _, p := range all {
		for _, j := range p.jumps {
			for _, jn := range listValue(j.val) {
				jh, ok := byName[jn]
				switch {
				case !ok:
					a.errs.Add(j.pos, "cutover_jump of %s: %q is not a host of the inventory", p.h.Name, jn)
				case jh == p.h:
					a.errs.Add(j.pos, "host %s cannot jump through itself", p.h.Name)
				default:
					p.h.Jump = append(p.h.Jump, jh)
				}
			}
		}
		for _, s := range p.specs {
			// A jump host named like an inventory host is that host, with its settings.
			if jh, ok := byName[s.host]; ok && s.user == "" && s.port == 0 {
				if jh == p.h {
					a.errs.Add(s.pos, "host %s cannot jump through itself", p.h.Name)
					continue
				}
				p.h.Jump = append(p.h.Jump, jh)
				continue
			}
			r := &sshResolver{cfg: ssh, errs: &a.errs}
			j := r.host(s.host, s.host, s.user, s.port, s.pos, 1)
			if j.User == "" {
				j.User = p.h.User
			}
			if len(j.IdentityFiles) == 0 {
				j.IdentityFiles = p.h.IdentityFiles
			}
			if len(j.KnownHosts) == 0 {
				j.KnownHosts = p.h.KnownHosts
			}
			p.h.Jump = append(p.h.Jump, j.Jump...)
			j.Jump = nil
			p.h.Jump = append(p.h.Jump, j)
		}
	}
	for _, p := range all {
		if cycle := jumpCycle(p.h, nil); cycle != "" {
			a.errs.Add(a.hosts[p.h.Name].pos, "jump hosts form a loop: %s", cycle)
		}
	}
	if err := a.errs.Err(); err != nil {
		return nil, err
	}
	return inv, nil
}

type jumpSpec struct {
	user, host string
	port       int
	pos        yamlpos.Pos
}

// depths gives each group's depth below all (the longest path, as Ansible computes it)
// and each group's parents; a group that contains itself is an error.
func (a *ansInv) depths() (map[string]int, map[string][]string) {
	depth := map[string]int{}
	parents := map[string][]string{}
	for _, name := range slices.Sorted(maps.Keys(a.groups)) {
		for _, c := range a.groups[name].children {
			parents[c] = append(parents[c], name)
		}
	}
	var visit func(g string, d int, path []string)
	visit = func(g string, d int, path []string) {
		if slices.Contains(path, g) {
			a.errs.Add(a.groups[g].pos, "group %s contains itself: %s", g, strings.Join(append(path, g), " -> "))
			return
		}
		if cur, ok := depth[g]; ok && cur >= d {
			return
		}
		depth[g] = d
		for _, c := range a.groups[g].children {
			visit(c, d+1, append(path, g))
		}
	}
	visit("all", 0, nil)
	return depth, parents
}

// groupsOf is every group host is in, directly or through children, with all.
func (a *ansInv) groupsOf(host string, parents map[string][]string) []string {
	seen := map[string]bool{"all": true}
	var add func(g string)
	add = func(g string) {
		if seen[g] {
			return
		}
		seen[g] = true
		for _, p := range parents[g] {
			add(p)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(a.groups)) {
		if a.groups[name].hostSet[host] {
			add(name)
		}
	}
	return slices.Collect(maps.Keys(seen))
}

func (a *ansInv) priority(group string) int {
	v, ok := a.groups[group].vars["ansible_group_priority"]
	if !ok {
		return 1
	}
	n, _ := strconv.Atoi(scalar(v.val))
	return n
}

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
	base := filepath.Dir(a.file)
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
	for k, v := range vars {
		if strings.HasPrefix(k, "ansible_") || strings.HasPrefix(k, "cutover_") {
			continue
		}
		h.Vars[k] = scalar(v.val)
	}
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

// sshArgs is what cutover reads from ansible_ssh_common_args and _extra_args.
type sshArgs struct {
	jump       string
	knownHosts []string
	identities []string
	port       int
	user       string
}

// parseSSHArgs reads the ssh command line options that change where and how cutover
// connects; options that only tune ssh (ControlMaster, Compression, ...) are ignored.
func parseSSHArgs(s string) (sshArgs, error) {
	var o sshArgs
	toks, err := splitShell(s)
	if err != nil {
		return o, err
	}
	option := func(kv string) error {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			k, v, ok = strings.Cut(kv, " ")
		}
		if !ok {
			return fmt.Errorf("-o %q: expected -o Key=Value", kv)
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "proxyjump":
			o.jump = v
		case "proxycommand":
			if strings.EqualFold(v, "none") {
				return nil
			}
			j, err := proxyCommandJump(v)
			if err != nil {
				return err
			}
			o.jump = j
		case "userknownhostsfile":
			// As in ssh_config, "none" and /dev/null name no file rather than an empty
			// one: the other known_hosts files (by default ~/.ssh/known_hosts) apply,
			// and host keys are still checked.
			for _, f := range strings.Fields(v) {
				if !strings.EqualFold(f, "none") && f != os.DevNull {
					o.knownHosts = append(o.knownHosts, f)
				}
			}
		case "identityfile":
			o.identities = append(o.identities, v)
		case "port":
			n, err := sshPort(v)
			if err != nil {
				return fmt.Errorf("-o Port=%s: %v", v, err)
			}
			o.port = n
		case "user":
			o.user = v
		}
		return nil
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i].s
		next := func() (string, error) {
			if i+1 >= len(toks) {
				return "", fmt.Errorf("%s needs a value", t)
			}
			i++
			return toks[i].s, nil
		}
		var err error
		var v string
		switch {
		case t == "-o" || t == "-J" || t == "-i" || t == "-p" || t == "-l":
			if v, err = next(); err == nil {
				err = sshFlag(&o, t, v, option)
			}
		case len(t) > 2 && strings.HasPrefix(t, "-") && strings.ContainsRune("oJipl", rune(t[1])):
			err = sshFlag(&o, t[:2], t[2:], option)
		}
		if err != nil {
			return o, err
		}
	}
	return o, nil
}

func sshFlag(o *sshArgs, flag, v string, option func(string) error) error {
	switch flag {
	case "-o":
		return option(v)
	case "-J":
		o.jump = v
	case "-i":
		o.identities = append(o.identities, v)
	case "-p":
		n, err := sshPort(v)
		if err != nil {
			return fmt.Errorf("-p %s: %v", v, err)
		}
		o.port = n
	case "-l":
		o.user = v
	}
	return nil
}

// sshPort reads a port given to ssh.
func sshPort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, errors.New("expected a port number from 1 to 65535")
	}
	return n, nil
}

// token is a word of a line and the column it starts at.
type token struct {
	s   string
	col int
}

// splitShell splits a line into words the way Ansible's shlex does: quotes group, a
// backslash escapes, and a # at the start of a word starts a comment.
func splitShell(line string) ([]token, error) {
	var out []token
	var cur strings.Builder
	in, quote, start := false, byte(0), 0
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' && i+1 < len(line) {
				i++
				cur.WriteByte(line[i])
			} else {
				cur.WriteByte(c)
			}
		case c == ' ' || c == '\t':
			if in {
				out = append(out, token{cur.String(), start + 1})
				cur.Reset()
				in = false
			}
		case c == '#' && !in:
			return out, nil
		default:
			if !in {
				in, start = true, i
			}
			switch c {
			case '\'', '"':
				quote = c
			case '\\':
				if i+1 < len(line) {
					i++
					cur.WriteByte(line[i])
				}
			default:
				cur.WriteByte(c)
			}
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unclosed %c quote", quote)
	}
	if in {
		out = append(out, token{cur.String(), start + 1})
	}
	return out, nil
}

// stripComment removes a " #..." or " ;..." comment outside quotes.
func stripComment(s string) string {
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case (c == '#' || c == ';') && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return s[:i]
		}
	}
	return s
}

// unquote removes one pair of matching quotes.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// maxHostNames caps the host names the ranges of one inventory expand to, counted
// before duplicates are merged. Ranges multiply (a[0:99999][0:99999] is 10^10 names), so
// capping each range alone does not bound the work.
const maxHostNames = 100000

// expandHostPattern expands Ansible's ranges: web[01:03] is web01, web02, web03;
// db-[a:c] is db-a, db-b, db-c; [1:10:2] steps by 2. It refuses to make more than limit
// names, counting before it makes any.
func expandHostPattern(p string, limit int) ([]string, error) {
	type segment struct {
		text  string             // literal text before the range
		count int                // how many items the range has; 0 after the last range
		item  func(k int) string // the range's k-th item
	}
	var segs []segment
	total := 1
	for rest := p; ; {
		i := strings.IndexByte(rest, '[')
		if i < 0 {
			if strings.IndexByte(rest, ']') >= 0 {
				return nil, fmt.Errorf("unmatched ]")
			}
			segs = append(segs, segment{text: rest})
			break
		}
		if strings.IndexByte(rest[:i], ']') >= 0 {
			return nil, fmt.Errorf("unmatched ]")
		}
		j := strings.IndexByte(rest[i:], ']')
		if j < 0 {
			return nil, fmt.Errorf("unmatched [")
		}
		j += i
		count, item, err := hostRange(rest[i+1 : j])
		if err != nil {
			return nil, err
		}
		if count > limit/total {
			return nil, fmt.Errorf("expands to more host names than the %d an inventory may have", maxHostNames)
		}
		total *= count
		segs = append(segs, segment{text: rest[:i], count: count, item: item})
		rest = rest[j+1:]
	}
	out := make([]string, 0, total)
	var build func(k int, prefix string)
	build = func(k int, prefix string) {
		s := segs[k]
		if s.item == nil {
			out = append(out, prefix+s.text)
			return
		}
		for n := 0; n < s.count; n++ {
			build(k+1, prefix+s.text+s.item(n))
		}
	}
	build(0, "")
	return out, nil
}

// hostRange reads the inside of one range, start:end or start:end:step, numbers or
// single letters: how many items it has and the k-th one. Bounds are checked so that no
// arithmetic overflows.
func hostRange(spec string) (int, func(k int) string, error) {
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, nil, fmt.Errorf("range [%s]: expected [start:end] or [start:end:step]", spec)
	}
	step := 1
	if len(parts) == 3 {
		n, err := strconv.Atoi(parts[2])
		if err != nil || n < 1 {
			return 0, nil, fmt.Errorf("range [%s]: step must be a positive number", spec)
		}
		step = n
	}
	lo, hi := parts[0], parts[1]
	digits := func(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }
	switch {
	case digits(lo) && digits(hi):
		a, err1 := strconv.ParseInt(lo, 10, 64)
		b, err2 := strconv.ParseInt(hi, 10, 64)
		if err1 != nil || err2 != nil {
			return 0, nil, fmt.Errorf("range [%s] is too large", spec)
		}
		if b < a {
			return 0, nil, fmt.Errorf("range [%s]: expected start <= end", spec)
		}
		// Both are at least 0, so b-a cannot overflow, and a+k*step stays within b.
		count := (b-a)/int64(step) + 1
		if count > maxHostNames {
			return 0, nil, fmt.Errorf("range [%s] is too large", spec)
		}
		width := 0
		if len(lo) > 1 && lo[0] == '0' {
			width = len(lo)
		}
		return int(count), func(k int) string { return fmt.Sprintf("%0*d", width, a+int64(k)*int64(step)) }, nil
	case len(lo) == 1 && len(hi) == 1 && !digits(lo) && !digits(hi):
		if lo[0] > hi[0] {
			return 0, nil, fmt.Errorf("range [%s]: expected start <= end", spec)
		}
		count := (int(hi[0])-int(lo[0]))/step + 1
		return count, func(k int) string { return string(lo[0] + byte(k*step)) }, nil
	case (digits(lo) || len(lo) == 1) && (digits(hi) || len(hi) == 1):
		return 0, nil, fmt.Errorf("range [%s]: expected numbers or single letters, not both", spec)
	}
	return 0, nil, fmt.Errorf("range [%s]: expected numbers or single letters", spec)
}
