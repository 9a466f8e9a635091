package inventory

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

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
	vars     map[string]ansVar // set in the inventory
	fileVars map[string]ansVar // set in group_vars/NAME
}

type ansHost struct {
	name     string
	pos      yamlpos.Pos
	vars     map[string]ansVar // set in the inventory
	fileVars map[string]ansVar // set in host_vars/NAME
}

type ansInv struct {
	file   string // the inventory: a file, a folder, or what ansible-inventory read
	cur    string // the file being read
	base   string // relative paths in variables are relative to this folder
	sum    hash.Hash
	check  func(path string) error // vets files before they are read; nil: none
	groups map[string]*ansGroup
	hosts  map[string]*ansHost
	order  []string // host names in order of first appearance
	errs   yamlpos.List

	// Host patterns are counted as they are read and expanded only once the whole
	// inventory is read and within maxHostNames, so a file that asks for too many names
	// is refused without making any.
	pending []hostEntry
	names   int  // host names the patterns stand for so far, duplicates included
	capped  bool // a pattern went over maxHostNames
}

// hostEntry is a host pattern of a group, with the variables given on its line.
type hostEntry struct {
	group   string
	pattern hostPattern
	vars    map[string]ansVar
	pos     yamlpos.Pos
}

// hostLine counts a host pattern of group against what is left of maxHostNames and
// keeps it for expandHosts.
func (a *ansInv) hostLine(group, pattern string, vars map[string]ansVar, pos yamlpos.Pos) {
	hp, err := parseHostPattern(pattern, maxHostNames-a.names)
	if err != nil {
		a.errs.Add(pos, "host %q: %v", pattern, err)
		a.capped = a.capped || errors.Is(err, errTooManyNames)
		return
	}
	a.names += hp.count
	a.pending = append(a.pending, hostEntry{group: group, pattern: hp, vars: vars, pos: pos})
}

// namedHost is hostLine for a name that is not a pattern (JSON inventories list
// names as they are).
func (a *ansInv) namedHost(group, name string, vars map[string]ansVar, pos yamlpos.Pos) {
	if a.names >= maxHostNames {
		if !a.capped {
			a.errs.Add(pos, "host %q: %v", name, errTooManyNames)
		}
		a.capped = true
		return
	}
	a.names++
	a.pending = append(a.pending, hostEntry{group: group, pattern: hostPattern{segs: []patternSegment{{text: name}}, count: 1}, vars: vars, pos: pos})
}

// expandHosts makes the hosts of every pattern read, in file order; nothing when the
// patterns stand for more names than an inventory may have.
func (a *ansInv) expandHosts() {
	if !a.capped {
		for _, e := range a.pending {
			for _, name := range e.pattern.names() {
				maps.Copy(a.addHost(e.group, name, e.pos).vars, e.vars)
			}
		}
	}
	a.pending = nil
}

func newAnsInv(file, base string) *ansInv {
	a := &ansInv{file: file, cur: file, base: base, sum: sha256.New(), groups: map[string]*ansGroup{}, hosts: map[string]*ansHost{}}
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

// placeGroups finishes the group tree as Ansible does once every source is read: a
// group that is no other group's child hangs below all, and a host in no group but all
// is in ungrouped.
func (a *ansInv) placeGroups() {
	all := a.groups["all"]
	for _, name := range slices.Sorted(maps.Keys(a.groups)) {
		if name != "all" && !a.isChild(name) && !slices.Contains(all.children, name) {
			all.children = append(all.children, name)
		}
	}
	for _, h := range a.order {
		if !a.inChildGroup(h) {
			a.addHost("ungrouped", h, a.hosts[h].pos)
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

func (a *ansInv) inChildGroup(host string) bool {
	for _, g := range a.groups {
		if g.name != "all" && g.name != "ungrouped" && g.hostSet[host] {
			return true
		}
	}
	return false
}

// record adds a file read to the inventory's digest: a single file's content alone, as
// for every form; the files of a folder and of group_vars and host_vars with their
// names, relative to the inventory, so the digest still follows a folder that moves.
func (a *ansInv) record(file string, data []byte) {
	if file != a.file {
		rel, err := filepath.Rel(a.base, file)
		if err != nil {
			rel = file
		}
		fmt.Fprintf(a.sum, "\x00%d:%s\x00%d:", len(rel), filepath.ToSlash(rel), len(data))
	}
	a.sum.Write(data)
}

// build resolves groups and variables into hosts.
func (a *ansInv) build() (*Inventory, error) {
	ssh, err := readSSHConfig("", UserSSHConfig(), systemSSHConfig)
	if err != nil {
		return nil, err
	}
	// The hosts are resolved through the ssh configuration too, so its files are part of
	// what a resume compares.
	ssh.digest(a.sum)
	inv := &Inventory{File: a.file, Digest: hex.EncodeToString(a.sum.Sum(nil))}
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
		// Lowest first: the inventory's group variables (all is the first group), then
		// group_vars files in the same order, then the host's own, then host_vars.
		vars := map[string]ansVar{}
		for _, g := range groups {
			maps.Copy(vars, a.groups[g].vars)
		}
		for _, g := range groups {
			maps.Copy(vars, a.groups[g].fileVars)
		}
		maps.Copy(vars, ah.vars)
		maps.Copy(vars, ah.fileVars)
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
