// Package inventory loads the list of hosts cutover works on. The native form is YAML:
//
//	defaults:            # optional; applies to every host that does not say otherwise
//	  user: maestro
//	  known_hosts: [~/.ssh/known_hosts]
//	  identity: [~/.ssh/id_ed25519]
//	  install_dir: /opt/maestro
//	  services:
//	    maestro: {start: "systemctl start maestro", stop: "...", status: "..."}
//	hosts:
//	  hub1:
//	    address: 10.0.0.12
//	    port: 22
//	    jump: bastion      # another inventory host, or a list of them
//	    shell: sh          # or powershell
//	    vars: {site: east}
//
// Relative file names are relative to the inventory file; "~/" is the user's home.
//
// Load also reads the inventories operators already have, recognised by their content
// (Detect): Ansible inventories in INI and YAML form (ansible.go) and OpenSSH client
// configuration files (sshconfig.go), and takes "ssh:ALIAS,..." for hosts named by
// ~/.ssh/config aliases. All of them give the same probe.Host values the YAML form
// would, and report mistakes as file:line with what is wrong.
package inventory

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/yamlpos"
)

// Inventory is a loaded set of hosts.
type Inventory struct {
	// File is the path it was read from.
	File string
	// Hosts in the order the file lists them.
	Hosts []*probe.Host
	// Digest is the SHA-256 of the file's content, recorded in journals so a resume can
	// tell the inventory changed.
	Digest string
	// Implicit marks an inventory cutover found by itself (LoadImplicit), not one the
	// operator named: background probes run no service command on its local hosts.
	Implicit bool
}

// Host returns the host called name, or nil.
func (inv *Inventory) Host(name string) *probe.Host {
	for _, h := range inv.Hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// Names lists the host names in file order.
func (inv *Inventory) Names() []string {
	out := make([]string, len(inv.Hosts))
	for i, h := range inv.Hosts {
		out[i] = h.Name
	}
	return out
}

// Format is an inventory's form.
type Format string

// The forms Load reads.
const (
	FormatCutover     Format = "cutover"      // cutover's YAML (Parse)
	FormatAnsibleYAML Format = "ansible-yaml" // Ansible's YAML inventory
	FormatAnsibleINI  Format = "ansible-ini"  // Ansible's INI inventory
	FormatAnsibleJSON Format = "ansible-json" // ansible-inventory --list output
	FormatSSHConfig   Format = "ssh_config"   // an OpenSSH client configuration file
)

// Load reads an inventory. spec is a file in any form Detect recognises; a folder of
// Ansible inventory files, read as one; "ssh:ALIAS[,ALIAS...]" for hosts named by
// ~/.ssh/config aliases; or "ansible-inventory:SOURCE" for what ansible-inventory -i
// SOURCE --list prints. An Ansible inventory file or folder also gets the variables of
// the group_vars/ and host_vars/ beside it.
func Load(spec string) (*Inventory, error) { return load(spec, nil) }

// load is Load; check, when set, vets every file and folder read from disk first.
func load(spec string, check func(path string) error) (*Inventory, error) {
	if list, ok := strings.CutPrefix(spec, SSHPrefix); ok {
		return LoadSSHAliases(list)
	}
	if source, ok := strings.CutPrefix(spec, AnsibleInventoryPrefix); ok {
		return loadAnsibleInventory(source)
	}
	if fi, err := os.Stat(spec); err == nil && fi.IsDir() {
		return loadAnsibleDir(spec)
	}
	if check != nil {
		if err := check(spec); err != nil {
			return nil, err
		}
	}
	data, err := yamlpos.ReadFile(spec)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	if isVault(data) {
		return nil, yamlpos.Errorf(yamlpos.Pos{File: spec, Line: 1, Col: 1}, "%s", vaultMessage)
	}
	switch f := Detect(data); f {
	case FormatAnsibleYAML, FormatAnsibleINI, FormatAnsibleJSON:
		return loadAnsible(spec, filepath.Dir(spec), []ansibleSource{{file: spec, data: data, format: f}}, true, check)
	case FormatSSHConfig:
		return ParseSSHConfig(spec, data)
	}
	return Parse(spec, data)
}

// Detect tells an inventory's form from its content:
//   - ssh_config: the first setting is an ssh_config keyword (Host, Match, HostName...)
//     followed by a space or "=";
//   - Ansible INI: the first line is a [section] header, or the content is not a YAML
//     mapping (host lines such as "web1 ansible_host=10.0.0.1");
//   - Ansible JSON: a JSON object whose members are groups (objects with hosts,
//     children or vars lists and objects, or lists of hosts) or _meta, as
//     ansible-inventory --list prints;
//   - Ansible YAML: a mapping of groups, each a mapping of only hosts:, children: and
//     vars: (or empty), as in "all: {hosts: ..., children: ...}";
//   - cutover's YAML otherwise (its parser then reports any mistake with its position).
func Detect(data []byte) Format {
	if looksLikeSSHConfig(data) {
		return FormatSSHConfig
	}
	if looksLikeAnsibleJSON(data) {
		return FormatAnsibleJSON
	}
	for _, line := range strings.Split(string(data), "\n") {
		s := strings.TrimSpace(line)
		if s == "" || s[0] == '#' || s[0] == ';' || s == "---" {
			continue
		}
		if s[0] == '[' && strings.HasSuffix(strings.TrimSpace(stripComment(s)), "]") {
			return FormatAnsibleINI
		}
		break
	}
	// Within the bounds of yamlpos.Parse: the YAML parser's time grows with the square
	// of a mapping's keys, and a file it refuses is reported by the parser of its form.
	f, err := yamlpos.Parse("", data)
	if err != nil || len(f.Docs) == 0 || f.Docs[0].Body == nil {
		if err != nil && !looksLikeYAML(data) {
			return FormatAnsibleINI
		}
		return FormatCutover
	}
	m, ok := f.Docs[0].Body.(*ast.MappingNode)
	if !ok {
		if f.Docs[0].Body.Type() == ast.StringType {
			return FormatAnsibleINI // bare host names, one a line
		}
		return FormatCutover
	}
	groups := 0
	for _, kv := range m.Values {
		if kv.Value == nil || kv.Value.Type() == ast.NullType {
			continue
		}
		gm, ok := kv.Value.(*ast.MappingNode)
		if !ok {
			return FormatCutover
		}
		for _, gkv := range gm.Values {
			switch gkv.Key.GetToken().Value {
			case "hosts", "children", "vars":
			default:
				return FormatCutover
			}
		}
		groups++
	}
	if groups == 0 {
		return FormatCutover
	}
	return FormatAnsibleYAML
}

// looksLikeAnsibleJSON reports a JSON object of Ansible groups: _meta, or a member
// that is a list, or an object with a hosts or children list.
func looksLikeAnsibleJSON(data []byte) bool {
	t := bytes.TrimSpace(data)
	if len(t) == 0 || t[0] != '{' || !json.Valid(t) {
		return false
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(t, &top) != nil {
		return false
	}
	for k, v := range top {
		if k == "_meta" || bytes.HasPrefix(bytes.TrimSpace(v), []byte("[")) {
			return true
		}
		var g map[string]json.RawMessage
		if json.Unmarshal(v, &g) != nil {
			continue
		}
		for _, key := range []string{"hosts", "children"} {
			if l, ok := g[key]; ok && bytes.HasPrefix(bytes.TrimSpace(l), []byte("[")) {
				return true
			}
		}
	}
	return false
}

// looksLikeYAML reports whether some line is a "key:" line, which no INI inventory has.
func looksLikeYAML(data []byte) bool {
	for _, line := range strings.Split(string(data), "\n") {
		s := strings.TrimSpace(line)
		if s == "" || s[0] == '#' {
			continue
		}
		if k, _, ok := strings.Cut(s, ":"); ok && !strings.ContainsAny(k, " =[") {
			return true
		}
	}
	return false
}

type hostDoc struct {
	Address    string                   `yaml:"address"`
	Port       int                      `yaml:"port"`
	User       string                   `yaml:"user"`
	Identity   stringList               `yaml:"identity"`
	KnownHosts stringList               `yaml:"known_hosts"`
	Jump       stringList               `yaml:"jump"`
	InstallDir string                   `yaml:"install_dir"`
	Shell      string                   `yaml:"shell"`
	Local      bool                     `yaml:"local"`
	Services   map[string]probe.Service `yaml:"services"`
	Vars       map[string]string        `yaml:"vars"`
	Groups     []string                 `yaml:"groups"`
	Escalate   becomeDoc                `yaml:",inline"`
}

// becomeDoc is how a host (or the defaults) becomes another account with sudo.
type becomeDoc struct {
	Become         *bool  `yaml:"become"`
	BecomeUser     string `yaml:"become_user"`
	BecomeMethod   string `yaml:"become_method"`
	BecomePassword string `yaml:"become_password"`
	SFTPServer     string `yaml:"sftp_server"`
}

type namedHost struct {
	name    string
	namePos yamlpos.Pos
	pos     yamlpos.Pos
	doc     hostDoc
	fields  map[string]yamlpos.Pos // where each key of the host was written
}

type hostList []namedHost

// UnmarshalYAML keeps the hosts in file order, with positions for later errors.
func (l *hostList) UnmarshalYAML(n ast.Node) error {
	m, ok := n.(*ast.MappingNode)
	if !ok {
		if n.Type() == ast.NullType {
			return nil
		}
		return yamlpos.Errorf(yamlpos.PosOf(n), "hosts must be a mapping of host name to settings")
	}
	for _, kv := range m.Values {
		h := namedHost{name: kv.Key.GetToken().Value, namePos: yamlpos.PosOf(kv.Key), pos: yamlpos.PosOf(kv.Value), fields: fieldPositions(kv.Value)}
		if kv.Value.Type() == ast.NullType {
			h.pos = h.namePos // "hub1:" with nothing after it
		} else if err := yamlpos.DecodeNode(kv.Value, &h.doc); err != nil {
			return err
		}
		*l = append(*l, h)
	}
	return nil
}

// fieldPositions records where each key of a mapping has its value, and where each
// service of a services: mapping is named ("services.NAME"), for errors found after
// decoding.
func fieldPositions(n ast.Node) map[string]yamlpos.Pos {
	fields := map[string]yamlpos.Pos{}
	m, ok := n.(*ast.MappingNode)
	if !ok {
		return fields
	}
	for _, f := range m.Values {
		key := f.Key.GetToken().Value
		fields[key] = yamlpos.PosOf(f.Value)
		if sm, ok := f.Value.(*ast.MappingNode); ok && key == "services" {
			for _, svc := range sm.Values {
				fields["services."+svc.Key.GetToken().Value] = yamlpos.PosOf(svc.Key)
			}
		}
	}
	return fields
}

// defaultsDoc is the defaults: section, with the positions of its keys so that an
// invalid default is reported where it is written.
type defaultsDoc struct {
	Port       int                      `yaml:"port"`
	User       string                   `yaml:"user"`
	Identity   stringList               `yaml:"identity"`
	KnownHosts stringList               `yaml:"known_hosts"`
	InstallDir string                   `yaml:"install_dir"`
	Shell      string                   `yaml:"shell"`
	Services   map[string]probe.Service `yaml:"services"`
	Vars       map[string]string        `yaml:"vars"`
	Escalate   becomeDoc                `yaml:",inline"`

	fields map[string]yamlpos.Pos
}

// UnmarshalYAML decodes the defaults and records where each key was written.
func (d *defaultsDoc) UnmarshalYAML(n ast.Node) error {
	type plain defaultsDoc
	d.fields = fieldPositions(n)
	return yamlpos.DecodeNode(n, (*plain)(d))
}

// stringList accepts one string or a list of strings.
type stringList []string

// UnmarshalYAML accepts a scalar or a sequence.
func (s *stringList) UnmarshalYAML(n ast.Node) error {
	if n.Type() == ast.SequenceType {
		var l []string
		if err := yamlpos.DecodeNode(n, &l); err != nil {
			return err
		}
		*s = l
		return nil
	}
	var one string
	if err := yamlpos.DecodeNode(n, &one); err != nil {
		return err
	}
	*s = []string{one}
	return nil
}

type fileDoc struct {
	Defaults defaultsDoc `yaml:"defaults"`
	// KnownHosts and Identity at the top level are shorthands for defaults.
	KnownHosts stringList `yaml:"known_hosts"`
	Identity   stringList `yaml:"identity"`
	User       string     `yaml:"user"`
	Hosts      hostList   `yaml:"hosts"`
}

// Parse reads an inventory from data; file names the source in errors and anchors
// relative paths.
func Parse(file string, data []byte) (*Inventory, error) {
	var doc fileDoc
	if err := yamlpos.Decode(file, data, &doc); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	inv := &Inventory{File: file, Digest: hex.EncodeToString(sum[:])}
	base := filepath.Dir(file)
	var errs yamlpos.List
	at := func(p yamlpos.Pos) yamlpos.Pos { p.File = file; return p }
	// field is where a host's setting was written: in the host, or else in the defaults
	// it inherited the setting from.
	field := func(nh namedHost, key string) yamlpos.Pos {
		if p, ok := nh.fields[key]; ok {
			return at(p)
		}
		if p, ok := doc.Defaults.fields[key]; ok {
			return at(p)
		}
		return at(nh.pos)
	}
	// An invalid default would otherwise be reported once for every host.
	seen := map[string]bool{}
	add := func(p yamlpos.Pos, format string, args ...any) {
		e := yamlpos.Errorf(p, format, args...)
		if !seen[e.Error()] {
			seen[e.Error()] = true
			errs = append(errs, e)
		}
	}

	if len(doc.Hosts) == 0 {
		errs.Add(yamlpos.Pos{File: file, Line: 1, Col: 1}, "no hosts: the inventory needs a hosts: mapping with at least one host")
	}
	d := doc.Defaults
	defKnown := append(append(stringList{}, doc.KnownHosts...), d.KnownHosts...)
	defIdentity := append(append(stringList{}, doc.Identity...), d.Identity...)
	defUser := firstNonEmpty(d.User, doc.User)
	byName := map[string]*probe.Host{}
	for _, nh := range doc.Hosts {
		hd := nh.doc
		h := &probe.Host{
			Name:       nh.name,
			Address:    hd.Address,
			Port:       firstNonZero(hd.Port, d.Port, 22),
			User:       firstNonEmpty(hd.User, defUser),
			InstallDir: firstNonEmpty(hd.InstallDir, d.InstallDir),
			Shell:      strings.ToLower(firstNonEmpty(hd.Shell, d.Shell, "sh")),
			Local:      hd.Local,
			Services:   merge(d.Services, hd.Services),
			Vars:       merge(d.Vars, hd.Vars),
			Groups:     hd.Groups,
		}
		for _, f := range firstList(hd.KnownHosts, defKnown) {
			h.KnownHosts = append(h.KnownHosts, ExpandPath(base, f))
		}
		for _, f := range firstList(hd.Identity, defIdentity) {
			h.IdentityFiles = append(h.IdentityFiles, ExpandPath(base, f))
		}
		if err := ValidName(h.Name); err != nil {
			errs.Add(at(nh.namePos), "host name %q: %v", h.Name, err)
		}
		if h.Address == "" && !h.Local {
			errs.Add(at(nh.pos), "host %s has no address (or local: true)", h.Name)
		}
		if h.Port < 1 || h.Port > 65535 {
			add(field(nh, "port"), "port %d is outside 1-65535", h.Port)
		}
		if h.Shell != "sh" && h.Shell != "powershell" {
			add(field(nh, "shell"), "shell %q: expected sh or powershell", h.Shell)
		}
		for _, name := range slices.Sorted(maps.Keys(h.Services)) {
			if s := h.Services[name]; s.Start == "" || s.Stop == "" || s.Status == "" {
				add(field(nh, "services."+name), "service %s of host %s needs start, stop and status commands", name, h.Name)
			}
		}
		yamlBecome(hd.Escalate, d.Escalate, func(key string) yamlpos.Pos { return field(nh, key) }).apply(h, &errs)
		validateHost(h, func(f, msg string) { add(field(nh, yamlKey(f)), "%s", msg) })
		byName[h.Name] = h
		inv.Hosts = append(inv.Hosts, h)
	}
	// Jump hosts refer to other entries, so resolve them once all are known.
	for _, nh := range doc.Hosts {
		h := byName[nh.name]
		for _, j := range nh.doc.Jump {
			jh, ok := byName[j]
			switch {
			case !ok:
				errs.Add(at(nh.fields["jump"]), "jump host %q is not in the inventory", j)
			case jh == h:
				errs.Add(at(nh.fields["jump"]), "host %s cannot jump through itself", h.Name)
			default:
				h.Jump = append(h.Jump, jh)
			}
		}
	}
	for _, nh := range doc.Hosts {
		if cycle := jumpCycle(byName[nh.name], nil); cycle != "" {
			errs.Add(at(nh.fields["jump"]), "jump hosts form a loop: %s", cycle)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return inv, nil
}

// yamlBecome merges a host's become settings over the defaults'.
func yamlBecome(own, def becomeDoc, at func(key string) yamlpos.Pos) *becomeSpec {
	b := &becomeSpec{}
	if on := cmp.Or(own.Become, def.Become); on != nil {
		b.on, b.onPos, b.onSet = *on, at("become"), true
	}
	if s := cmp.Or(own.BecomeUser, def.BecomeUser); s != "" {
		b.userSet, b.user, b.userPos = true, s, at("become_user")
	}
	if s := cmp.Or(own.BecomeMethod, def.BecomeMethod); s != "" {
		b.methodSet, b.method, b.methodPos = true, s, at("become_method")
	}
	if s := cmp.Or(own.BecomePassword, def.BecomePassword); s != "" {
		b.passwordSet, b.password, b.passwordPos, b.passwordKey = true, s, at("become_password"), "become_password"
	}
	if s := cmp.Or(own.SFTPServer, def.SFTPServer); s != "" {
		b.sftpSet, b.sftpServer, b.sftpServerPos = true, s, at("sftp_server")
	}
	return b
}

func jumpCycle(h *probe.Host, seen []string) string {
	for _, s := range seen {
		if s == h.Name {
			return strings.Join(append(seen, h.Name), " -> ")
		}
	}
	for _, j := range h.Jump {
		if c := jumpCycle(j, append(seen, h.Name)); c != "" {
			return c
		}
	}
	return ""
}

// ValidName checks a host or role name: letters, digits, "-", "_" and ".".
func ValidName(s string) error {
	if s == "" {
		return fmt.Errorf("empty name")
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("only letters, digits, '-', '_' and '.' are allowed")
		}
	}
	return nil
}

// ExpandPath resolves "~/" against the home folder and relative paths against base.
func ExpandPath(base, p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, strings.TrimPrefix(p, "~"))
		}
	}
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func firstNonZero(n ...int) int {
	for _, x := range n {
		if x != 0 {
			return x
		}
	}
	return 0
}

func firstList(l ...stringList) []string {
	for _, x := range l {
		if len(x) > 0 {
			return x
		}
	}
	return nil
}

// merge returns the defaults overlaid with a host's own entries.
func merge[V any](defaults, own map[string]V) map[string]V {
	out := make(map[string]V, len(defaults)+len(own))
	maps.Copy(out, defaults)
	maps.Copy(out, own)
	return out
}
