package lab

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/yamlpos"
)

// A scenario written as data (a .lab.yaml file): the hosts and their files, the small
// scripts that stand in for vendor commands, faults as overlays of files and network
// changes, and run files with their answers. ParseScenario turns it into the same
// Scenario the Go-built ones are, so it is served exactly as they are.

type scenarioDoc struct {
	Name        string              `yaml:"name"`
	Title       string              `yaml:"title"`
	Description string              `yaml:"description"`
	Hosts       []*hostDoc          `yaml:"hosts"`
	DNS         map[string][]string `yaml:"dns"`
	Faults      []*faultDoc         `yaml:"faults"`
	Runs        []*runDoc           `yaml:"runs"`
}

type hostDoc struct {
	Name       string                `yaml:"name"`
	Hostname   string                `yaml:"hostname"`
	InstallDir string                `yaml:"install_dir"`
	IP         string                `yaml:"ip"`
	Groups     []string              `yaml:"groups"`
	Vars       map[string]string     `yaml:"vars"`
	Services   map[string]serviceDoc `yaml:"services"`
	Endpoints  []*endpointDoc        `yaml:"endpoints"`
	Files      []*fileDoc            `yaml:"files"`
	Sudo       *sudoDoc              `yaml:"sudo"`
}

type serviceDoc struct {
	Start  string `yaml:"start"`
	Stop   string `yaml:"stop"`
	Status string `yaml:"status"`
}

type sudoDoc struct {
	As       []string `yaml:"as"`
	Password string   `yaml:"password"`
}

type endpointDoc struct {
	Name string `yaml:"name"`
	Port int    `yaml:"port"`
	// ListeningIf is a file (relative to the host root): the endpoint refuses
	// connections while it does not exist, as a stopped server's port does.
	ListeningIf string `yaml:"listening_if"`
}

type fileDoc struct {
	// Host is used in a fault's files only: which host the file is written on.
	Host       string  `yaml:"host"`
	Path       string  `yaml:"path"`
	Content    *string `yaml:"content"`
	From       string  `yaml:"from"`
	Executable bool    `yaml:"executable"`
	Age        string  `yaml:"age"`
}

type faultDoc struct {
	Name        string              `yaml:"name"`
	Description string              `yaml:"description"`
	Files       []*fileDoc          `yaml:"files"`
	Remove      []*hostPathDoc      `yaml:"remove"`
	Edit        []*editDoc          `yaml:"edit"`
	Flags       []*flagDoc          `yaml:"flags"`
	Block       []*linkDoc          `yaml:"block"`
	Delay       []*linkDoc          `yaml:"delay"`
	Alias       *aliasDoc           `yaml:"alias"`
	DNS         map[string][]string `yaml:"dns"`
}

type hostPathDoc struct {
	Host string `yaml:"host"`
	Path string `yaml:"path"`
}

type editDoc struct {
	Host    string `yaml:"host"`
	Path    string `yaml:"path"`
	Replace string `yaml:"replace"`
	With    string `yaml:"with"`
}

type flagDoc struct {
	Host    string `yaml:"host"`
	Name    string `yaml:"name"`
	Content string `yaml:"content"`
}

type linkDoc struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
	By   string `yaml:"by"` // delay only: how long each way takes
	Both bool   `yaml:"both_ways"`
}

type aliasDoc struct {
	Host string `yaml:"host"`
	Of   string `yaml:"of"`
}

type runDoc struct {
	Runbook string  `yaml:"runbook"`
	Content *string `yaml:"content"`
	From    string  `yaml:"from"`
}

// ParseScenario reads a practice-lab scenario written as YAML. Files named with from:
// are read from files (the scenario file's folder), and may not leave it. now dates the
// scenario: file ages count back from it, and templates read it through now and
// ago "3h" (the time that long before now), in paths as in contents. Every problem is
// reported with file:line:col.
func ParseScenario(file string, data []byte, files fs.FS, now time.Time) (*Scenario, error) {
	var doc scenarioDoc
	if err := yamlpos.Decode(file, data, &doc); err != nil {
		return nil, err
	}
	p := &scenarioParser{files: files, now: now, loc: yamlpos.NewLocator(file, data)}
	sc := p.scenario(&doc)
	if err := p.errs.Err(); err != nil {
		return nil, yamlpos.SetFile(err, file)
	}
	if err := sc.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return sc, nil
}

type scenarioParser struct {
	files fs.FS
	now   time.Time
	loc   *yamlpos.Locator
	errs  yamlpos.List
	hosts map[string]bool
}

// at is the position of the node at a YAML path such as $.hosts[0].files[2].
func (p *scenarioParser) at(format string, args ...any) yamlpos.Pos {
	return p.loc.At(format, args...)
}

func (p *scenarioParser) scenario(d *scenarioDoc) *Scenario {
	sc := &Scenario{Name: d.Name, Title: d.Title, Description: d.Description, DNS: d.DNS, Now: p.now}
	if d.Name == "" {
		p.errs.Add(yamlpos.Pos{Line: 1, Col: 1}, "name: give the scenario a name (cutover lab --scenario NAME)")
	}
	if len(d.Hosts) == 0 {
		p.errs.Add(yamlpos.Pos{Line: 1, Col: 1}, "hosts: a scenario needs at least one host")
	}
	p.hosts = map[string]bool{}
	for _, h := range d.Hosts {
		p.hosts[h.Name] = true
	}
	for i, h := range d.Hosts {
		sc.Hosts = append(sc.Hosts, p.host(fmt.Sprintf("$.hosts[%d]", i), h))
	}
	for i, f := range d.Faults {
		sc.Faults = append(sc.Faults, p.fault(fmt.Sprintf("$.faults[%d]", i), f))
	}
	for i, r := range d.Runs {
		content := p.text(p.at("$.runs[%d]", i), "run file for "+r.Runbook, r.Content, r.From)
		sc.Runs = append(sc.Runs, RunFile{Runbook: r.Runbook, Content: content})
	}
	return sc
}

func (p *scenarioParser) host(at string, d *hostDoc) HostSpec {
	h := HostSpec{Name: d.Name, Hostname: d.Hostname, InstallDir: d.InstallDir, IP: d.IP, Groups: d.Groups, Vars: d.Vars}
	if d.Name == "" {
		p.errs.Add(p.at("%s", at), "host: give it a name (its name in the inventory)")
	}
	if len(d.Services) > 0 {
		h.Services = map[string]probe.Service{}
		for name, s := range d.Services {
			h.Services[name] = probe.Service{Start: s.Start, Stop: s.Stop, Status: s.Status}
		}
	}
	for i, e := range d.Endpoints {
		ep := Endpoint{Name: e.Name, Port: e.Port}
		if e.ListeningIf != "" {
			rel := e.ListeningIf
			if !filepath.IsLocal(filepath.FromSlash(rel)) {
				p.errs.Add(p.at("%s.endpoints[%d]", at, i), "endpoint %s: listening_if %q must be a path relative to the host root, inside it", e.Name, rel)
			}
			ep.Listening = func(hd HostData) bool {
				_, err := os.Stat(filepath.Join(hd.Root, filepath.FromSlash(rel)))
				return err == nil
			}
		}
		h.Endpoints = append(h.Endpoints, ep)
	}
	for i, f := range d.Files {
		pos := p.at("%s.files[%d]", at, i)
		if f.Host != "" {
			p.errs.Add(pos, "host: a host's own files need no host (it belongs in a fault's files)")
		}
		h.Files = append(h.Files, p.file1(pos, f))
	}
	if d.Sudo != nil {
		h.Sudo = &Sudo{As: d.Sudo.As, Password: d.Sudo.Password}
	}
	return h
}

// file1 turns a file entry into a File: its path dated, its content read.
func (p *scenarioParser) file1(pos yamlpos.Pos, d *fileDoc) File {
	f := File{Path: p.datePath(pos, d.Path)}
	if f.Path == "" || !filepath.IsLocal(filepath.FromSlash(f.Path)) {
		p.errs.Add(pos, "path %q must be relative to the host root and stay inside it", d.Path)
	}
	f.Content = p.text(pos, "file "+d.Path, d.Content, d.From)
	if d.Executable {
		f.Mode = 0o755
	}
	if d.Age != "" {
		age, err := time.ParseDuration(d.Age)
		if err != nil || age < 0 {
			p.errs.Add(pos, "age %q: write a duration such as 3h or 30m", d.Age)
		}
		f.Age = age
	}
	return f
}

// text is content given inline or read from a file beside the scenario: exactly one.
func (p *scenarioParser) text(pos yamlpos.Pos, what string, content *string, from string) string {
	switch {
	case content != nil && from != "":
		p.errs.Add(pos, "%s: give content or from, not both", what)
	case content != nil:
		return *content
	case from == "":
		p.errs.Add(pos, "%s: give its content, or from: a file beside the scenario", what)
	case p.files == nil || !fs.ValidPath(from):
		p.errs.Add(pos, "%s: from %q must name a file in the scenario's folder (a relative path without ..)", what, from)
	default:
		b, err := fs.ReadFile(p.files, from)
		if err != nil {
			p.errs.Add(pos, "%s: from %q: %v", what, from, err)
			return ""
		}
		return string(b)
	}
	return ""
}

// datePath expands now and ago in a file's path, such as a log named by its day.
func (p *scenarioParser) datePath(pos yamlpos.Pos, s string) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	t, err := template.New("path").Funcs(timeFuncs(p.now)).Option("missingkey=error").Parse(s)
	if err != nil {
		p.errs.Add(pos, "path %q: %v", s, err)
		return s
	}
	var b strings.Builder
	if err := t.Execute(&b, nil); err != nil {
		p.errs.Add(pos, "path %q: %v", s, err)
		return s
	}
	return b.String()
}

func (p *scenarioParser) knownHost(pos yamlpos.Pos, what, name string) {
	if !p.hosts[name] {
		p.errs.Add(pos, "%s: no host %q in this scenario", what, name)
	}
}

// hostPathOK reports a path of a fault's change that would leave the host root.
func (p *scenarioParser) hostPathOK(pos yamlpos.Pos, what, rel string) {
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		p.errs.Add(pos, "%s: path %q must be relative to the host root and stay inside it", what, rel)
	}
}

// fault turns a fault entry into a Fault whose Apply makes each change in turn: flags,
// files written over the hosts' own, files removed, text replaced, links blocked or
// slowed, an inventory alias, DNS records re-pointed.
func (p *scenarioParser) fault(at string, d *faultDoc) Fault {
	if d.Name == "" {
		p.errs.Add(p.at("%s", at), "fault: give it a name (cutover lab --fault NAME)")
	}
	var do []func(*Lab) error
	for i, f := range d.Flags {
		p.knownHost(p.at("%s.flags[%d]", at, i), "flag", f.Host)
		do = append(do, func(l *Lab) error { return l.SetFlag(f.Host, f.Name, f.Content) })
	}
	for i, f := range d.Files {
		pos := p.at("%s.files[%d]", at, i)
		p.knownHost(pos, "file", f.Host)
		file := p.file1(pos, f)
		do = append(do, func(l *Lab) error { return l.WriteHostFile(f.Host, file) })
	}
	for i, r := range d.Remove {
		pos := p.at("%s.remove[%d]", at, i)
		p.knownHost(pos, "remove", r.Host)
		p.hostPathOK(pos, "remove", r.Path)
		do = append(do, func(l *Lab) error { return l.RemoveHostFile(r.Host, r.Path) })
	}
	for i, e := range d.Edit {
		pos := p.at("%s.edit[%d]", at, i)
		p.knownHost(pos, "edit", e.Host)
		if e.Replace == "" {
			p.errs.Add(pos, "edit: replace: give the text to replace")
		}
		p.hostPathOK(pos, "edit", e.Path)
		do = append(do, func(l *Lab) error { return l.EditHostFile(e.Host, e.Path, e.Replace, e.With) })
	}
	for i, b := range d.Block {
		pos := p.at("%s.block[%d]", at, i)
		p.knownHost(pos, "block: from", b.From)
		p.knownHost(pos, "block: to", b.To)
		do = append(do, func(l *Lab) error {
			l.Block(b.From, b.To)
			if b.Both {
				l.Block(b.To, b.From)
			}
			return nil
		})
	}
	for i, b := range d.Delay {
		pos := p.at("%s.delay[%d]", at, i)
		p.knownHost(pos, "delay: from", b.From)
		p.knownHost(pos, "delay: to", b.To)
		by, err := time.ParseDuration(b.By)
		if err != nil || by <= 0 {
			p.errs.Add(pos, "delay: by %q: write how long each way takes, such as 40ms", b.By)
		}
		do = append(do, func(l *Lab) error {
			l.Delay(b.From, b.To, by)
			if b.Both {
				l.Delay(b.To, b.From, by)
			}
			return nil
		})
	}
	if a := d.Alias; a != nil {
		p.knownHost(p.at("%s.alias", at), "alias: of", a.Of)
		do = append(do, func(l *Lab) error { return l.AliasMachine(a.Host, a.Of) })
	}
	for _, name := range slices.Sorted(maps.Keys(d.DNS)) {
		addrs := d.DNS[name]
		do = append(do, func(l *Lab) error { return l.SetDNS(name, addrs...) })
	}
	if len(do) == 0 && d.Name != "" {
		p.errs.Add(p.at("%s", at), "fault %s changes nothing: give it files, remove, edit, flags, block, delay, alias or dns", d.Name)
	}
	return Fault{Name: d.Name, Description: d.Description, Apply: func(l *Lab) error {
		for _, f := range do {
			if err := f(l); err != nil {
				return err
			}
		}
		return nil
	}}
}

// timeFuncs are the template functions that date a scenario: now, and ago DURATION.
func timeFuncs(now time.Time) template.FuncMap {
	return template.FuncMap{
		"now": func() time.Time { return now },
		"ago": func(d string) (time.Time, error) {
			v, err := time.ParseDuration(d)
			if err != nil {
				return time.Time{}, fmt.Errorf("ago %q: %v", d, err)
			}
			return now.Add(-v), nil
		},
	}
}

// hostPath is the absolute path of rel on host, which must stay inside the host root.
func (l *Lab) hostPath(host, rel string) (string, error) {
	h := l.byName[host]
	if h == nil {
		return "", fmt.Errorf("lab: scenario %s has no host %q", l.sc.Name, host)
	}
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		return "", fmt.Errorf("lab: host %s: path %q must stay inside the host root", host, rel)
	}
	return filepath.Join(h.root, filepath.FromSlash(rel)), nil
}

// WriteHostFile writes f on host over whatever is there (its content rendered as the
// scenario's files are), as a fault that overlays the host's files does.
func (l *Lab) WriteHostFile(host string, f File) error {
	p, err := l.hostPath(host, f.Path)
	if err != nil {
		return err
	}
	content, err := render(fmt.Sprintf("host %s, file %s", host, f.Path), f.Content, l.templateData())
	if err != nil {
		return err
	}
	mode := f.Mode.Perm()
	if mode == 0 {
		mode = 0o644
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("lab: host %s: %w", host, err)
	}
	if err := writeFileAtomic(p, []byte(content), mode); err != nil {
		return fmt.Errorf("lab: host %s: %w", host, err)
	}
	if f.Age != 0 {
		t := time.Now().Add(-f.Age)
		return os.Chtimes(p, t, t)
	}
	return nil
}

// RemoveHostFile deletes a file or folder of host, as someone who removed it would.
func (l *Lab) RemoveHostFile(host, rel string) error {
	p, err := l.hostPath(host, rel)
	if err != nil {
		return err
	}
	return os.RemoveAll(p)
}

// EditHostFile replaces old with new in a file of host, as an administrator's edit
// would. A file that has new already is left alone (the lab was resumed with the same
// fault); one with neither is an error, since the lab changed since it was set up.
func (l *Lab) EditHostFile(host, rel, old, new string) error {
	p, err := l.hostPath(host, rel)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if new != "" && strings.Contains(string(data), new) {
		return nil
	}
	if !strings.Contains(string(data), old) {
		return fmt.Errorf("%s:%s has no %q (the lab was changed since it was set up; reset it)", host, rel, old)
	}
	return os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644)
}

// AliasMachine makes the inventory entry name lead to the machine of host of (see
// AliasHost). The alias names a lock file of its own (cutover_lock): cutover's host lock
// sees one machine under both names and would refuse the run before any gate could show
// what is wrong, with a message about a lock rather than about two names for one machine.
func (l *Lab) AliasMachine(name, of string) error {
	return l.AliasHost(name, of, map[string]string{"cutover_lock": ".cutover.lock." + name})
}

// SetDNS points name at addrs in the lab's simulated DNS, with the lab's own tool, as a
// DNS administrator would.
func (l *Lab) SetDNS(name string, addrs ...string) error {
	if len(l.hosts) == 0 {
		return fmt.Errorf("lab: no hosts")
	}
	tool := filepath.Join(l.hosts[0].root, "bin", "lab-dns")
	cmd := exec.Command(tool, append([]string{"set", name}, addrs...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("lab-dns set %s %s: %v: %s", name, strings.Join(addrs, " "), err, out)
	}
	return nil
}

// ScenarioFiles is the folder of a scenario file, for the files its from: entries name.
func ScenarioFiles(file string) fs.FS { return os.DirFS(filepath.Dir(file)) }
