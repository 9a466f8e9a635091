package inventory

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	sshconfig "github.com/kevinburke/ssh_config"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/yamlpos"
)

// OpenSSH client configuration (ssh_config) as an inventory source: hosts named by
// their aliases get what `ssh ALIAS` would use. Read: HostName, Port, User,
// IdentityFile, UserKnownHostsFile, GlobalKnownHostsFile, ProxyJump, and a ProxyCommand
// of the form "ssh -W %h:%p [user@]jumphost". Include, Host patterns with * ? and !,
// and "Match host"/"Match all" behave as in OpenSSH (first value wins; IdentityFile
// accumulates). Other Match blocks are an error in the user's files and skipped in the
// system-wide ones. Ignored, because cutover's own policy applies: StrictHostKeyChecking
// (host keys are always verified), IdentitiesOnly (agent keys are offered first, then
// the files), ciphers, MACs and key exchange lists.

// SSHPrefix introduces ssh_config aliases in place of an inventory file:
// "ssh:hub1,hub2".
const SSHPrefix = "ssh:"

// sshConfig is the configuration files ssh reads, in the order it reads them.
type sshConfig struct {
	files []*sshConfigFile
}

type sshConfigFile struct {
	path      string
	data      []byte // as read, for the inventory's digest
	cfg       *sshconfig.Config
	includes  map[*sshconfig.KV][]*sshConfigFile
	subs      []*sshConfigFile // every included file, in the order they are read
	hostLines []int            // the line of each Host or Match line: cfg.Hosts[1:]
}

// setting is one value from a config file and where it was written.
type setting struct {
	key string // the keyword as looked up
	val string
	pos yamlpos.Pos
}

// UserSSHConfig is ~/.ssh/config.
func UserSSHConfig() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".ssh", "config")
}

// SystemSSHConfig is the system-wide client configuration: ssh_config in
// /etc/ssh, or in %ProgramData%\ssh where Windows' OpenSSH keeps it.
func SystemSSHConfig() string { return filepath.Join(systemSSHDir(), "ssh_config") }

// systemSSHConfig is SystemSSHConfig(); tests point it at a file of their own.
var systemSSHConfig = SystemSSHConfig()

// includeKey replaces the Include keyword before the ssh_config parser sees a file: the
// parser would otherwise read the included files itself, with its own notion of where
// relative paths lead and failing on what parseSSHConfigFile tolerates in system files.
// The Include lines then arrive as settings of this name, in place.
const includeKey = "CutoverInclude"

// readSSHConfig parses config files; those that do not exist are skipped unless
// required. A file that does not parse is an error naming file:line.
func readSSHConfig(required string, optional ...string) (*sshConfig, error) {
	c := &sshConfig{}
	paths := optional
	if required != "" {
		paths = append([]string{required}, optional...)
	}
	for i, p := range paths {
		if p == "" {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && (required == "" || i > 0) {
				continue
			}
			return nil, fmt.Errorf("inventory: %w", err)
		}
		f, err := parseSSHConfigFile(p, data, p == systemSSHConfig, 0)
		if err != nil {
			return nil, err
		}
		c.files = append(c.files, f)
	}
	return c, nil
}

// digest writes the content of every file parsed, included ones too, to w: a change in
// any of them changes what the hosts resolve to.
func (c *sshConfig) digest(w io.Writer) {
	var walk func(f *sshConfigFile)
	walk = func(f *sshConfigFile) {
		_, _ = w.Write(f.data)
		for _, sub := range f.subs {
			walk(sub)
		}
	}
	for _, f := range c.files {
		walk(f)
	}
}

// prepareSSHConfig rewrites data, line for line, into what the ssh_config parser reads:
// Include becomes includeKey, and in system-wide files a Match block the parser does not
// support (anything but "Match all" and "Match host PATTERNS") is blanked up to the next
// Host or Match line. Fedora and RHEL ship "Match final all" in
// /etc/ssh/ssh_config.d/50-redhat.conf, a file the user does not control, and it sets
// nothing cutover reads; in the user's own files such a block stays an error. It also
// returns the line numbers of the Host and Match lines that remain.
func prepareSSHConfig(data []byte, system bool) ([]byte, []int) {
	lines := bytes.Split(data, []byte("\n"))
	var hostLines []int
	skipping := false
	for i, line := range lines {
		trimmed := bytes.TrimLeft(line, " \t")
		end := bytes.IndexAny(trimmed, " \t=")
		if end < 0 {
			end = len(trimmed)
		}
		kw := string(trimmed[:end])
		switch {
		case strings.EqualFold(kw, "host"):
			skipping = false
		case strings.EqualFold(kw, "match"):
			skipping = false
			args := strings.Fields(strings.TrimLeft(string(trimmed[end:]), " \t="))
			if i := slices.IndexFunc(args, func(a string) bool { return strings.HasPrefix(a, "#") }); i >= 0 {
				args = args[:i]
			}
			supported := (len(args) == 1 && strings.EqualFold(args[0], "all")) ||
				(len(args) == 2 && strings.EqualFold(args[0], "host"))
			skipping = system && !supported
		case strings.EqualFold(kw, "include") && !skipping:
			lines[i] = slices.Concat(line[:len(line)-len(trimmed)], []byte(includeKey), trimmed[end:])
		}
		if skipping {
			lines[i] = nil
			continue
		}
		if strings.EqualFold(kw, "host") || strings.EqualFold(kw, "match") {
			hostLines = append(hostLines, i+1)
		}
	}
	return bytes.Join(lines, []byte("\n")), hostLines
}

// parseSSHConfigData parses one file; ssh_config's parser panics with "(line, col):
// message", which becomes a positioned error.
func parseSSHConfigData(path string, data []byte, system bool) (f *sshConfigFile, err error) {
	prepared, hostLines := prepareSSHConfig(data, system)
	cfg, err := sshconfig.DecodeBytes(prepared)
	if err != nil {
		msg := err.Error()
		pos := yamlpos.Pos{File: path, Line: 1, Col: 1}
		var line, col int
		if n, _ := fmt.Sscanf(msg, "(%d, %d):", &line, &col); n == 2 {
			pos.Line, pos.Col = line, col
			if i := strings.Index(msg, "):"); i >= 0 {
				msg = strings.TrimSpace(msg[i+2:])
			}
		}
		msg = strings.TrimPrefix(msg, "ssh_config: ")
		return nil, yamlpos.Errorf(pos, "ssh_config: %s", msg)
	}
	if len(hostLines) != len(cfg.Hosts)-1 {
		hostLines = nil // not expected; aliases() then falls back to the settings' lines
	}
	return &sshConfigFile{path: path, data: data, cfg: cfg, hostLines: hostLines}, nil
}

// parseSSHConfigFile parses a file and the files its Include lines name, which are
// resolved here (relative to ~/.ssh, or /etc/ssh for the system file) so that settings
// read from them keep their own file and line.
func parseSSHConfigFile(path string, data []byte, system bool, depth int) (*sshConfigFile, error) {
	f, err := parseSSHConfigData(path, data, system)
	if err != nil {
		return nil, err
	}
	for _, h := range f.cfg.Hosts {
		for _, n := range h.Nodes {
			inc, ok := n.(*sshconfig.KV)
			if !ok || !strings.EqualFold(inc.Key, includeKey) {
				continue
			}
			if depth >= 16 {
				return nil, yamlpos.Errorf(sshPos(path, inc.Pos()), "Include nests deeper than 16 files")
			}
			if f.includes == nil {
				f.includes = map[*sshconfig.KV][]*sshConfigFile{}
			}
			for _, pattern := range strings.Fields(inc.Value) {
				switch {
				case filepath.IsAbs(pattern):
				case strings.HasPrefix(pattern, "~/"):
					home, _ := os.UserHomeDir()
					pattern = filepath.Join(home, pattern[2:])
				case system:
					pattern = filepath.Join(systemSSHDir(), pattern)
				default:
					home, _ := os.UserHomeDir()
					pattern = filepath.Join(home, ".ssh", pattern)
				}
				matches, _ := filepath.Glob(pattern)
				for _, m := range matches {
					data, err := os.ReadFile(m)
					if err != nil {
						return nil, yamlpos.Errorf(sshPos(path, inc.Pos()), "Include %s: %v", m, err)
					}
					sub, err := parseSSHConfigFile(m, data, system, depth+1)
					if err != nil {
						return nil, err
					}
					f.includes[inc] = append(f.includes[inc], sub)
					f.subs = append(f.subs, sub)
				}
			}
		}
	}
	return f, nil
}

// get returns the first value of key for alias, as ssh does.
func (c *sshConfig) get(alias, key string) (setting, bool) {
	return c.first(alias, key)
}

// first returns the first value of any of keys for alias, in the order ssh reads them:
// ProxyJump and ProxyCommand exclude each other, and whichever comes first applies.
func (c *sshConfig) first(alias string, keys ...string) (setting, bool) {
	all := c.collect(alias, keys, true)
	if len(all) == 0 {
		return setting{}, false
	}
	return all[0], true
}

// getAll returns every value of key for alias, in the order ssh reads them.
func (c *sshConfig) getAll(alias, key string) []setting {
	return c.collect(alias, []string{key}, false)
}

func (c *sshConfig) collect(alias string, keys []string, first bool) []setting {
	var out []setting
	for _, f := range c.files {
		if f.collect(alias, keys, first, &out) {
			return out
		}
	}
	return out
}

// collect appends the values of keys for alias in f (and the files it includes); it
// reports whether first is set and a value was found.
func (f *sshConfigFile) collect(alias string, keys []string, first bool, out *[]setting) bool {
	for _, h := range f.cfg.Hosts {
		if !h.Matches(alias) {
			continue
		}
		for _, n := range h.Nodes {
			kv, ok := n.(*sshconfig.KV)
			if !ok {
				continue
			}
			if strings.EqualFold(kv.Key, includeKey) {
				for _, sub := range f.includes[kv] {
					if sub.collect(alias, keys, first, out) {
						return true
					}
				}
				continue
			}
			for _, k := range keys {
				if strings.EqualFold(kv.Key, k) {
					*out = append(*out, setting{key: k, val: kv.Value, pos: sshPos(f.path, kv.Pos())})
				}
			}
			if first && len(*out) > 0 {
				return true
			}
		}
	}
	return false
}

func sshPos(file string, p sshconfig.Position) yamlpos.Pos {
	return yamlpos.Pos{File: file, Line: p.Line, Col: max(p.Col, 1)}
}

// aliases lists the Host patterns of the first file that name one host (no * ? or !),
// in file order: the hosts an ssh_config file given as an inventory stands for.
func (c *sshConfig) aliases() []setting {
	var out []setting
	seen := map[string]bool{}
	if len(c.files) == 0 {
		return nil
	}
	f := c.files[0]
	for _, h := range f.cfg.Hosts {
		for _, p := range h.Patterns {
			s := p.String()
			if strings.ContainsAny(s, "*?!") || seen[s] {
				continue
			}
			seen[s] = true
			pos := yamlpos.Pos{File: f.path}
			if k := slices.Index(f.cfg.Hosts, h); k > 0 && k <= len(f.hostLines) {
				pos.Line, pos.Col = f.hostLines[k-1], 1
			} else if len(h.Nodes) > 0 {
				// The Host line itself has no position; its first setting is below it.
				if np := h.Nodes[0].Pos(); np.Line > 1 {
					pos.Line, pos.Col = np.Line-1, 1
				}
			}
			out = append(out, setting{val: s, pos: pos})
		}
	}
	return out
}

// sshResolver turns aliases into hosts, following ProxyJump chains.
type sshResolver struct {
	cfg  *sshConfig
	errs *yamlpos.List
}

// host resolves alias into a host called name (the alias, unless the caller names it
// otherwise); user and port, when set, override the configuration (from a ProxyJump
// spec such as admin@bastion:2222). depth guards against ProxyJump loops.
func (r *sshResolver) host(name, alias, user string, port int, at yamlpos.Pos, depth int) *probe.Host {
	h := &probe.Host{Name: name, Shell: "sh", Services: map[string]probe.Service{}, Vars: map[string]string{}}
	if depth > 8 {
		r.errs.Add(at, "ProxyJump chain for %s is longer than 8 hosts (a loop?)", alias)
		return h
	}
	h.Address = alias
	if s, ok := r.cfg.get(alias, "HostName"); ok {
		h.Address = expandTokens(s.val, map[byte]string{'h': alias, 'n': alias})
	}
	h.Port = 22
	if s, ok := r.cfg.get(alias, "Port"); ok {
		p, err := strconv.Atoi(s.val)
		if err != nil || p < 1 || p > 65535 {
			r.errs.Add(s.pos, "Port %q for %s: expected a number from 1 to 65535", s.val, alias)
		} else {
			h.Port = p
		}
	}
	if port != 0 {
		h.Port = port
	}
	h.User = user
	if h.User == "" {
		if s, ok := r.cfg.get(alias, "User"); ok {
			h.User = s.val
		}
	}
	tokens := r.tokens(alias, h)
	for _, s := range r.cfg.getAll(alias, "IdentityFile") {
		if strings.EqualFold(s.val, "none") {
			continue
		}
		h.IdentityFiles = appendNew(h.IdentityFiles, sshPath(s.val, tokens))
	}
	h.KnownHosts = r.knownHosts(alias, tokens)

	// As in OpenSSH, the first of ProxyJump and ProxyCommand applies and the other is
	// ignored, "none" included.
	jump, jumpAt, ok := "", yamlpos.Pos{}, false
	if s, found := r.cfg.first(alias, "ProxyJump", "ProxyCommand"); found {
		switch {
		case s.key == "ProxyJump":
			jump, jumpAt, ok = s.val, s.pos, true
		case strings.EqualFold(s.val, "none"):
		default:
			j, err := proxyCommandJump(s.val)
			if err != nil {
				r.errs.Add(s.pos, "ProxyCommand for %s: %v", alias, err)
			} else {
				jump, jumpAt, ok = j, s.pos, true
			}
		}
	}
	if ok && !strings.EqualFold(jump, "none") {
		for _, spec := range strings.Split(jump, ",") {
			ju, jh, jp, err := parseJumpSpec(strings.TrimSpace(spec))
			if err != nil {
				r.errs.Add(jumpAt, "ProxyJump for %s: %v", alias, err)
				continue
			}
			j := r.host(jh, jh, ju, jp, jumpAt, depth+1)
			// OpenSSH connects to a jump host through its own ProxyJump first.
			h.Jump = append(h.Jump, j.Jump...)
			j.Jump = nil
			h.Jump = append(h.Jump, j)
		}
	}
	return h
}

// tokens are the % expansions ssh applies to IdentityFile and known_hosts paths.
func (r *sshResolver) tokens(alias string, h *probe.Host) map[byte]string {
	local := ""
	if u, err := user.Current(); err == nil {
		local = u.Username
	}
	home, _ := os.UserHomeDir()
	remote := h.User
	if remote == "" {
		remote = local
	}
	lh, _ := os.Hostname()
	return map[byte]string{'h': h.Address, 'n': alias, 'p': strconv.Itoa(h.Port), 'r': remote, 'u': local, 'd': home,
		'l': lh, 'L': strings.SplitN(lh, ".", 2)[0]}
}

// knownHosts are the files ssh would check for alias when the configuration names any:
// UserKnownHostsFile (default ~/.ssh/known_hosts and known_hosts2) and
// GlobalKnownHostsFile (default ssh_known_hosts and ssh_known_hosts2 in /etc/ssh); "none"
// and /dev/null are left out. With neither set it returns nil: cutover's default.
func (r *sshResolver) knownHosts(alias string, tokens map[byte]string) []string {
	var out []string
	set := false
	add := func(key string, defaults ...string) {
		vals := defaults
		if s, ok := r.cfg.get(alias, key); ok {
			vals, set = strings.Fields(s.val), true
		}
		for _, v := range vals {
			if strings.EqualFold(v, "none") || v == os.DevNull {
				continue
			}
			out = appendNew(out, sshPath(v, tokens))
		}
	}
	add("UserKnownHostsFile", "~/.ssh/known_hosts", "~/.ssh/known_hosts2")
	add("GlobalKnownHostsFile", filepath.Join(systemSSHDir(), "ssh_known_hosts"), filepath.Join(systemSSHDir(), "ssh_known_hosts2"))
	if !set {
		return nil // cutover's default, ~/.ssh/known_hosts, as for every inventory
	}
	return out
}

// sshPath expands ~ and % tokens in a path the way ssh does; relative paths stay
// relative to the current folder, as ssh leaves them.
func sshPath(p string, tokens map[byte]string) string {
	p = expandTokens(p, tokens)
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, strings.TrimPrefix(p, "~"))
		}
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return p
}

// expandTokens replaces %x tokens; unknown ones stay as they are.
func expandTokens(s string, tokens map[byte]string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		if s[i] == '%' {
			b.WriteByte('%')
		} else if v, ok := tokens[s[i]]; ok {
			b.WriteString(v)
		} else {
			b.WriteByte('%')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// parseJumpSpec reads one ProxyJump entry: [user@]host[:port] or ssh://[user@]host[:port].
func parseJumpSpec(spec string) (user, host string, port int, err error) {
	s := strings.TrimPrefix(spec, "ssh://")
	if s == "" {
		return "", "", 0, errors.New("empty jump host")
	}
	if i := strings.LastIndex(s, "@"); i >= 0 {
		user, s = s[:i], s[i+1:]
	}
	host = s
	if h, p, e := net.SplitHostPort(s); e == nil {
		n, perr := strconv.Atoi(p)
		if perr != nil || n < 1 || n > 65535 {
			return "", "", 0, fmt.Errorf("jump host %q: port %q is not a number from 1 to 65535", spec, p)
		}
		host, port = h, n
	}
	host = strings.Trim(host, "[]")
	if host == "" || strings.ContainsAny(host, " /") {
		return "", "", 0, fmt.Errorf("jump host %q: expected [user@]host[:port]", spec)
	}
	return user, host, port, nil
}

// proxyCommandJump recognises "ssh [-q] -W %h:%p [options] [user@]host" and returns the
// jump host as a ProxyJump entry; other commands are not supported.
func proxyCommandJump(cmd string) (string, error) {
	f := strings.Fields(cmd)
	if len(f) == 0 || filepath.Base(f[0]) != "ssh" {
		return "", fmt.Errorf("only \"ssh -W %%h:%%p JUMPHOST\" is supported (cutover connects through jump hosts itself): use ProxyJump instead of %q", cmd)
	}
	hasW, user, port, dest := false, "", 0, ""
	for i := 1; i < len(f); i++ {
		switch a := f[i]; {
		case a == "-W":
			i++
			hasW = i < len(f) && f[i] == "%h:%p"
		case a == "-l" && i+1 < len(f):
			i++
			user = f[i]
		case a == "-p" && i+1 < len(f):
			i++
			n, err := strconv.Atoi(f[i])
			if err != nil {
				return "", fmt.Errorf("port %q is not a number", f[i])
			}
			port = n
		case a == "-q" || a == "-4" || a == "-6" || a == "-C" || a == "-T" || a == "-A" || a == "-x":
		case strings.HasPrefix(a, "-"):
			return "", fmt.Errorf("option %s of %q is not supported: use ProxyJump", a, cmd)
		default:
			if dest != "" {
				return "", fmt.Errorf("%q runs a command on the jump host: use ProxyJump", cmd)
			}
			dest = a
		}
	}
	if !hasW || dest == "" {
		return "", fmt.Errorf("%q is not \"ssh -W %%h:%%p JUMPHOST\": use ProxyJump", cmd)
	}
	spec := dest
	if user != "" && !strings.Contains(dest, "@") {
		spec = user + "@" + dest
	}
	if port != 0 {
		spec = net.JoinHostPort(spec, strconv.Itoa(port))
	}
	return spec, nil
}

func appendNew(l []string, s string) []string {
	for _, x := range l {
		if x == s {
			return l
		}
	}
	return append(l, s)
}

// LoadSSHAliases resolves "hub1,hub2" (what follows "ssh:" in -i) through ~/.ssh/config
// and the system configuration, as `ssh hub1` would.
func LoadSSHAliases(list string) (*Inventory, error) {
	arg := yamlpos.Pos{File: SSHPrefix + list}
	var aliases []setting
	for _, a := range strings.Split(list, ",") {
		if a = strings.TrimSpace(a); a != "" {
			aliases = append(aliases, setting{val: a, pos: arg})
		}
	}
	if len(aliases) == 0 {
		return nil, yamlpos.Errorf(arg, "no host aliases after %q: write ssh:ALIAS[,ALIAS...]", SSHPrefix)
	}
	cfg, err := readSSHConfig("", UserSSHConfig(), systemSSHConfig)
	if err != nil {
		return nil, err
	}
	return sshInventory(SSHPrefix+list, cfg, aliases, []byte(SSHPrefix+list))
}

// ParseSSHConfig reads an ssh_config file given as an inventory: every Host alias that
// names one host becomes an inventory host, resolved with that file alone (as ssh -F
// FILE would, which ignores the system configuration).
func ParseSSHConfig(file string, data []byte) (*Inventory, error) {
	f, err := parseSSHConfigFile(file, data, false, 0)
	if err != nil {
		return nil, err
	}
	cfg := &sshConfig{files: []*sshConfigFile{f}}
	aliases := cfg.aliases()
	if len(aliases) == 0 {
		return nil, yamlpos.Errorf(yamlpos.Pos{File: file, Line: 1, Col: 1}, "no Host entry names a single host (patterns with * ? or ! are not hosts)")
	}
	return sshInventory(file, cfg, aliases, data)
}

func sshInventory(file string, cfg *sshConfig, aliases []setting, content []byte) (*Inventory, error) {
	var errs yamlpos.List
	r := &sshResolver{cfg: cfg, errs: &errs}
	// The digest covers every file read, so a resume notices a change in any of them.
	sum := sha256.New()
	sum.Write(content)
	cfg.digest(sum)
	inv := &Inventory{File: file, Digest: hex.EncodeToString(sum.Sum(nil))}
	seen := map[string]bool{}
	for _, a := range aliases {
		if err := ValidName(a.val); err != nil {
			errs.Add(a.pos, "host alias %q: %v", a.val, err)
			continue
		}
		if seen[a.val] {
			continue
		}
		seen[a.val] = true
		h := r.host(a.val, a.val, "", 0, a.pos, 0)
		validateHost(h, func(_, msg string) { errs.Add(a.pos, "%s", msg) })
		for _, j := range h.Jump {
			if j.Address == h.Address && j.Port == h.Port {
				errs.Add(a.pos, "host %s jumps through itself", h.Name)
			}
		}
		inv.Hosts = append(inv.Hosts, h)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return inv, nil
}

// looksLikeSSHConfig reports whether data reads as ssh_config: its first setting is an
// ssh_config keyword followed by a space or "=", not a YAML key.
func looksLikeSSHConfig(data []byte) bool {
	for _, line := range bytes.Split(data, []byte("\n")) {
		s := strings.TrimSpace(string(line))
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		kw := s
		if i := strings.IndexAny(s, " \t="); i >= 0 {
			kw = s[:i]
		} else {
			return false
		}
		return sshKeywords[strings.ToLower(kw)]
	}
	return false
}

var sshKeywords = map[string]bool{
	"host": true, "match": true, "include": true, "hostname": true, "user": true, "port": true,
	"identityfile": true, "proxyjump": true, "proxycommand": true, "userknownhostsfile": true,
	"stricthostkeychecking": true, "identitiesonly": true, "forwardagent": true, "serveraliveinterval": true,
	"controlmaster": true, "controlpath": true, "controlpersist": true, "addkeystoagent": true,
	"globalknownhostsfile": true, "loglevel": true, "compression": true, "sendenv": true, "setenv": true,
}
