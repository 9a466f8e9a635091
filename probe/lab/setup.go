package lab

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
)

// Names of what Setup creates in the lab folder.
const (
	stateFile      = "lab.json"
	inventoryFile  = "inventory.yaml"
	knownHostsFile = "known_hosts"
	clientKeyFile  = "id_ed25519"
	auditFile      = "audit.jsonl"
	hostsDir       = "hosts"
	hostKeysDir    = "hostkeys"
	runsDir        = "runs"
)

// labEntries is everything Setup creates in the lab folder: all that a reset may delete.
// The state file comes last so an interrupted reset still looks like a lab.
func labEntries() []string {
	return []string{hostsDir, hostKeysDir, runsDir, clientKeyFile, clientKeyFile + ".pub",
		knownHostsFile, inventoryFile, auditFile, canaryFile, canaryDir, stateFile, zoneFile, rulesFile}
}

// state is lab.json: what a later Setup needs to resume the lab.
type state struct {
	Scenario string `json:"scenario"`
	// Ready is set once Setup finished; a lab without it is discarded, not resumed.
	Ready  bool                 `json:"ready"`
	Faults []string             `json:"faults,omitempty"`
	Hosts  map[string]hostState `json:"hosts,omitempty"`
}

type hostState struct {
	Port      int            `json:"port"`
	Endpoints map[string]int `json:"endpoints,omitempty"`
}

// Setup lays out scenario sc in dir and binds its ports; call Serve to answer
// connections. An earlier lab of the same scenario in dir is resumed (host files, keys
// and, where free, ports are kept) unless opts.Reset is set; a folder that holds
// anything but a lab is refused.
func Setup(dir string, sc *Scenario, opts Options) (*Lab, error) {
	if sc == nil {
		return nil, errors.New("lab: no scenario")
	}
	if err := sc.validate(); err != nil {
		return nil, err
	}
	var named []string
	var disrupts []*Disruption
	for _, f := range opts.Faults {
		if !IsDisruption(f) {
			named = append(named, f)
			continue
		}
		d, err := ParseDisruption(f)
		if err != nil {
			return nil, err
		}
		disrupts = append(disrupts, d)
	}
	faults, err := sc.pickFaults(named)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("lab: folder %s: %w", dir, err)
	}
	lock, err := lockDir(abs)
	if err != nil {
		return nil, err
	}
	l := newLab(abs, sc, opts.Log)
	l.lock = lock
	ok := false
	defer func() {
		if !ok {
			_ = l.Close()
		}
	}()
	prev, err := prepareDir(abs, sc.Name, opts.Reset)
	if err != nil {
		return nil, err
	}
	if prev == nil {
		// Mark the folder as a lab before filling it, so an interrupted Setup can be reset.
		if err := writeJSON(filepath.Join(abs, stateFile), state{Scenario: sc.Name}); err != nil {
			return nil, err
		}
	}
	keysCreated, err := l.loadKeys()
	if err != nil {
		return nil, err
	}
	portsMoved, err := l.bind(prev)
	if err != nil {
		return nil, err
	}
	data := l.templateData()
	for _, h := range l.hosts {
		if err := l.createRoot(h, data); err != nil {
			return nil, err
		}
		if err := l.writeIdentity(h); err != nil {
			return nil, err
		}
	}
	if err := l.writeZone(); err != nil {
		return nil, err
	}
	if err := l.writeCanary(); err != nil {
		return nil, fmt.Errorf("lab: canary: %w", err)
	}
	// Derived files follow the ports and keys; an operator's edits survive otherwise.
	rewrite := prev == nil || keysCreated || portsMoved
	if err := l.writeDerived(data, rewrite); err != nil {
		return nil, err
	}
	if l.audit, err = openAudit(filepath.Join(abs, auditFile)); err != nil {
		return nil, err
	}
	for _, f := range faults {
		if err := f.Apply(l); err != nil {
			return nil, fmt.Errorf("lab: fault %s: %w", f.Name, err)
		}
	}
	for _, d := range disrupts {
		if err := l.Disrupt(d); err != nil {
			return nil, err
		}
	}
	if err := writeJSON(filepath.Join(abs, stateFile), l.state(opts.Faults)); err != nil {
		return nil, err
	}
	ok = true
	return l, nil
}

func newLab(dir string, sc *Scenario, log io.Writer) *Lab {
	l := &Lab{
		dir:     dir,
		sc:      sc,
		log:     log,
		byName:  map[string]*host{},
		alias:   map[string]*host{},
		blocked: map[[2]string]bool{},
		holds:   map[net.Conn]struct{}{},
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	for i := range sc.Hosts {
		spec := &sc.Hosts[i]
		root := filepath.Join(dir, hostsDir, spec.Name)
		h := &host{
			spec:       spec,
			name:       spec.Name,
			hostname:   cmp.Or(spec.Hostname, spec.Name),
			root:       root,
			installDir: filepath.Join(root, filepath.FromSlash(spec.InstallDir)),
			conns:      map[*gatedConn]struct{}{},
			gate:       openGate(),
		}
		for _, e := range spec.Endpoints {
			h.endpoints = append(h.endpoints, &endpoint{spec: e})
		}
		l.hosts = append(l.hosts, h)
		l.byName[h.name] = h
		l.alias[strings.ToLower(h.name)] = h
		l.alias[strings.ToLower(h.hostname)] = h
	}
	l.rules = &netRules{path: filepath.Join(dir, rulesFile)}
	for _, h := range l.hosts {
		l.alias[l.ip(h)] = h
	}
	return l
}

// validate catches scenario mistakes before anything is written.
func (sc *Scenario) validate() error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("lab: scenario %q: %s", sc.Name, fmt.Sprintf(format, args...))
	}
	if err := inventory.ValidName(sc.Name); err != nil {
		return fail("name: %v", err)
	}
	if len(sc.Hosts) == 0 {
		return fail("no hosts")
	}
	hostNames := map[string]bool{}
	names := map[string]string{} // lower-case name or hostname -> host that uses it
	for _, h := range sc.Hosts {
		if err := inventory.ValidName(h.Name); err != nil {
			return fail("host name %q: %v", h.Name, err)
		}
		if err := inventory.ValidName(cmp.Or(h.Hostname, h.Name)); err != nil {
			return fail("host %s: hostname %q: %v", h.Name, h.Hostname, err)
		}
		if _, dup := hostNames[h.Name]; dup {
			return fail("two hosts are named %s", h.Name)
		}
		hostNames[h.Name] = true
		// Names and hostnames share one namespace: the simulated network resolves both.
		for _, n := range []string{h.Name, cmp.Or(h.Hostname, h.Name)} {
			if other, dup := names[strings.ToLower(n)]; dup && other != h.Name {
				return fail("hosts %s and %s are both called %s", other, h.Name, n)
			}
			names[strings.ToLower(n)] = h.Name
		}
		if h.InstallDir != "" && !filepath.IsLocal(filepath.FromSlash(h.InstallDir)) {
			return fail("host %s: install dir %q must be relative to the host root and stay inside it", h.Name, h.InstallDir)
		}
		for _, f := range h.Files {
			if !filepath.IsLocal(filepath.FromSlash(f.Path)) {
				return fail("host %s: file %q must be relative to the host root and stay inside it", h.Name, f.Path)
			}
		}
		ports, epNames := map[int]bool{}, map[string]bool{}
		for _, e := range h.Endpoints {
			switch {
			case e.Name == "" || epNames[e.Name]:
				return fail("host %s: endpoint names must be unique and not empty (%q)", h.Name, e.Name)
			case e.Port < 1 || e.Port > 65535:
				return fail("host %s: endpoint %s: port %d is outside 1-65535", h.Name, e.Name, e.Port)
			case ports[e.Port]:
				return fail("host %s: two endpoints listen on port %d", h.Name, e.Port)
			}
			ports[e.Port], epNames[e.Name] = true, true
		}
	}
	faults := map[string]bool{}
	for _, f := range sc.Faults {
		if f.Name == "" || faults[f.Name] || f.Apply == nil {
			return fail("fault %q: faults need a unique name and an Apply function", f.Name)
		}
		faults[f.Name] = true
	}
	runs := map[string]bool{}
	for _, r := range sc.Runs {
		name := runFileName(r.Runbook)
		if r.Runbook == "" || !filepath.IsLocal(name) || runs[name] {
			return fail("run file for runbook %q: runbook ids must be unique, like \"maestro/move-hub\"", r.Runbook)
		}
		runs[name] = true
	}
	return nil
}

// runFileName is the file name under DIR/runs for a runbook id.
func runFileName(runbook string) string {
	return probe.Slug(runbook) + ".yaml"
}

// pickFaults finds the named faults, or says which exist.
func (sc *Scenario) pickFaults(names []string) ([]Fault, error) {
	var out []Fault
	for _, n := range names {
		i := slices.IndexFunc(sc.Faults, func(f Fault) bool { return f.Name == n })
		if i < 0 {
			known := make([]string, len(sc.Faults))
			for j, f := range sc.Faults {
				known[j] = f.Name
			}
			list := strings.Join(known, ", ")
			if list == "" {
				list = "none"
			}
			return nil, fmt.Errorf("lab: scenario %s has no fault %q (known faults: %s)", sc.Name, n, list)
		}
		out = append(out, sc.Faults[i])
	}
	return out, nil
}

// prepareDir makes dir (which exists) ready for scenario: it returns the earlier lab's
// state to resume, or nil when the lab starts fresh (the folder then has no lab files).
func prepareDir(dir, scenario string, reset bool) (*state, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("lab: %w", err)
		}
		if len(entries) > 0 {
			return nil, fmt.Errorf("lab: %s is not empty and holds no practice lab (no %s); "+
				"choose a new or empty folder: the lab does not delete files it did not create", dir, stateFile)
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil && !reset {
		return nil, fmt.Errorf("lab: %s: %v; set up the lab again with reset", filepath.Join(dir, stateFile), err)
	}
	if st.Scenario == scenario && st.Ready && !reset {
		return &st, nil
	}
	for _, name := range labEntries() {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return nil, fmt.Errorf("lab: resetting %s: %w", dir, err)
		}
	}
	return nil, nil
}

// bind listens on a port for every host and endpoint, reusing the earlier lab's ports
// when they are free. It reports whether any port differs from before.
func (l *Lab) bind(prev *state) (moved bool, err error) {
	note := func(what string, old, now int) {
		if old != now {
			moved = true
			if old != 0 {
				// Host files are kept on a resume, so any that name the old port are stale.
				l.logf("%s: port %d is taken, moved to %d; host files naming the old port keep it", what, old, now)
			}
		}
	}
	for _, h := range l.hosts {
		var hs hostState
		if prev != nil {
			hs = prev.Hosts[h.name]
		}
		if h.ln, err = listenLoopback(hs.Port); err != nil {
			return false, fmt.Errorf("lab: host %s: %w", h.name, err)
		}
		h.port = h.ln.Addr().(*net.TCPAddr).Port
		note(h.name+": ssh", hs.Port, h.port)
		for _, e := range h.endpoints {
			if e.ln, err = listenLoopback(hs.Endpoints[e.spec.Name]); err != nil {
				return false, fmt.Errorf("lab: host %s, endpoint %s: %w", h.name, e.spec.Name, err)
			}
			e.addr = e.ln.Addr().String()
			note(h.name+": endpoint "+e.spec.Name, hs.Endpoints[e.spec.Name], e.ln.Addr().(*net.TCPAddr).Port)
		}
	}
	return moved, nil
}

// listenLoopback listens on 127.0.0.1:port, or on a free port if port is 0 or taken.
func listenLoopback(port int) (net.Listener, error) {
	if port > 0 {
		if ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			return ln, nil
		}
	}
	return net.Listen("tcp", "127.0.0.1:0")
}

func (l *Lab) templateData() TemplateData {
	d := TemplateData{Dir: l.dir, Scenario: l.sc.Name, Hosts: map[string]HostData{}, Now: l.sc.Now}
	for _, h := range l.hosts {
		hd := HostData{Name: h.name, Hostname: h.hostname, Root: h.root, InstallDir: h.installDir,
			Port: h.port, Endpoints: map[string]string{}}
		for _, e := range h.endpoints {
			hd.Endpoints[e.spec.Name] = e.addr
		}
		d.Hosts[h.name] = hd
	}
	return d
}

// createRoot writes a host's files when its root does not exist yet. An existing root
// is the host's state from an earlier run and is left alone, so a run can be resumed.
// Templates are rendered either way, so a broken scenario fails on every Setup.
func (l *Lab) createRoot(h *host, data TemplateData) error {
	contents := make([]string, len(h.spec.Files))
	for i, f := range h.spec.Files {
		s, err := render(fmt.Sprintf("host %s, file %s", h.name, f.Path), f.Content, data)
		if err != nil {
			return err
		}
		contents[i] = s
	}
	if _, err := os.Stat(h.root); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("lab: host %s: %w", h.name, err)
	}
	for _, d := range []string{filepath.Join(h.root, "bin"), filepath.Join(h.root, "var", "faults"), h.installDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("lab: host %s: %w", h.name, err)
		}
	}
	now := time.Now()
	for i, f := range h.spec.Files {
		p := filepath.Join(h.root, filepath.FromSlash(f.Path))
		mode := f.Mode.Perm()
		if mode == 0 {
			mode = 0o644
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("lab: host %s: %w", h.name, err)
		}
		if err := writeFileAtomic(p, []byte(contents[i]), mode); err != nil {
			return fmt.Errorf("lab: host %s: %w", h.name, err)
		}
		if f.Age != 0 {
			t := now.Add(-f.Age)
			if err := os.Chtimes(p, t, t); err != nil {
				return fmt.Errorf("lab: host %s: %w", h.name, err)
			}
		}
	}
	return nil
}

// state is what lab.json records for the next Setup.
func (l *Lab) state(faults []string) state {
	st := state{Scenario: l.sc.Name, Ready: true, Faults: faults, Hosts: map[string]hostState{}}
	for _, h := range l.hosts {
		hs := hostState{Port: h.port, Endpoints: map[string]int{}}
		for _, e := range h.endpoints {
			hs.Endpoints[e.spec.Name] = e.ln.Addr().(*net.TCPAddr).Port
		}
		st.Hosts[h.name] = hs
	}
	return st
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("lab: %s: %w", path, err)
	}
	return writeFileAtomic(path, append(data, '\n'), 0o644)
}

// writeFileAtomic replaces path with data in one rename, so a reader (or a crash) never
// sees half a file.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err == nil {
		err = f.Chmod(perm)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
