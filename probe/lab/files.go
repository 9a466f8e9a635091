package lab

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	yaml "github.com/goccy/go-yaml"
	"golang.org/x/crypto/ssh/knownhosts"
)

// render executes a scenario template; name says where it comes from in errors.
func render(name, text string, data TemplateData) (string, error) {
	now := data.Now
	if now.IsZero() {
		now = time.Now()
	}
	t, err := template.New(name).Funcs(timeFuncs(now)).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", fmt.Errorf("lab: %s: %w", name, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("lab: %s: %w", name, err)
	}
	return b.String(), nil
}

// writeDerived writes the files made from ports and keys: known_hosts, inventory.yaml
// and the run files. Unless rewrite is set, only missing ones are written.
func (l *Lab) writeDerived(data TemplateData, rewrite bool) error {
	files := map[string][]byte{
		knownHostsFile: l.knownHostsContent(),
	}
	inv, err := l.inventoryContent()
	if err != nil {
		return err
	}
	files[inventoryFile] = inv
	for _, r := range l.sc.Runs {
		s, err := render("run file for "+r.Runbook, r.Content, data)
		if err != nil {
			return err
		}
		files[filepath.Join(runsDir, runFileName(r.Runbook))] = []byte(s)
	}
	if err := os.MkdirAll(filepath.Join(l.dir, runsDir), 0o755); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		p := filepath.Join(l.dir, name)
		if !rewrite {
			if _, err := os.Stat(p); err == nil {
				continue
			} else if !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("lab: %w", err)
			}
		}
		if err := writeFileAtomic(p, files[name], 0o644); err != nil {
			return fmt.Errorf("lab: %w", err)
		}
	}
	return nil
}

// knownHostsContent lists only the ed25519 key of each host, so clients have to pick
// their host key algorithm from known_hosts rather than take the server's first offer.
func (l *Lab) knownHostsContent() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# cutover practice lab, scenario %s: ed25519 host keys of the simulated hosts\n", l.sc.Name)
	for _, h := range l.hosts {
		ed, _ := h.hostKeys()
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(h.port))
		fmt.Fprintf(&b, "%s %s\n", knownhosts.Line([]string{addr}, ed.PublicKey()), h.name)
	}
	return []byte(b.String())
}

// inventoryContent is inventory.yaml in the form inventory.Load reads. The key files are
// named relative to it; install folders are absolute, as the hosts see them.
func (l *Lab) inventoryContent() ([]byte, error) {
	var hosts yaml.MapSlice
	for _, h := range l.hosts {
		hosts = append(hosts, yaml.MapItem{Key: h.name, Value: l.inventoryEntry(h, h.port, true)})
	}
	body, err := yaml.Marshal(yaml.MapSlice{
		{Key: "known_hosts", Value: knownHostsFile},
		{Key: "identity", Value: clientKeyFile},
		{Key: "user", Value: "lab"},
		{Key: "hosts", Value: hosts},
	})
	if err != nil {
		return nil, fmt.Errorf("lab: inventory: %w", err)
	}
	header := fmt.Sprintf("# cutover practice lab, scenario %s", l.sc.Name)
	if l.sc.Title != "" {
		header += ": " + l.sc.Title
	}
	header += "\n# The hosts are simulated by `cutover lab` on 127.0.0.1; each one's files are in\n" +
		"# hosts/<name>/ next to this file. The lab rewrites this file when its ports change.\n"
	return append([]byte(header), body...), nil
}

// hostVars are a host's inventory vars: the scenario's, plus the name and address the
// host has in the simulated network, which stand in for its facts when it may be down
// and so cannot tell them itself.
func (l *Lab) hostVars(h *host) yaml.MapSlice {
	vars := yaml.MapSlice{}
	for _, k := range slices.Sorted(maps.Keys(h.spec.Vars)) {
		if k != "hostname" && k != "addresses" {
			vars = append(vars, yaml.MapItem{Key: k, Value: h.spec.Vars[k]})
		}
	}
	return append(vars, yaml.MapItem{Key: "addresses", Value: l.ip(h)}, yaml.MapItem{Key: "hostname", Value: h.hostname})
}

// inventoryEntry is a host's inventory entry with the given SSH port: the lab's own
// server (ownServer), or the sshd that serves the host in ServeOpenSSH.
func (l *Lab) inventoryEntry(h *host, port int, ownServer bool) yaml.MapSlice {
	entry := yaml.MapSlice{
		{Key: "address", Value: "127.0.0.1"},
		{Key: "port", Value: port},
		{Key: "install_dir", Value: h.installDir},
	}
	if len(h.spec.Services) > 0 {
		var svcs yaml.MapSlice
		for _, name := range slices.Sorted(maps.Keys(h.spec.Services)) {
			s := h.spec.Services[name]
			svcs = append(svcs, yaml.MapItem{Key: name, Value: yaml.MapSlice{
				{Key: "start", Value: s.Start}, {Key: "stop", Value: s.Stop}, {Key: "status", Value: s.Status},
			}})
		}
		entry = append(entry, yaml.MapItem{Key: "services", Value: svcs})
	}
	if sd := h.spec.Sudo; sd != nil && len(sd.As) > 0 {
		entry = append(entry, yaml.MapItem{Key: "become", Value: true}, yaml.MapItem{Key: "become_user", Value: sd.As[0]})
		if ownServer {
			// The lab's own server: its simulated sudo serves SFTP where sftp-server would run.
			entry = append(entry, yaml.MapItem{Key: "sftp_server", Value: SFTPServer})
		}
	}
	entry = append(entry, yaml.MapItem{Key: "vars", Value: l.hostVars(h)})
	if len(h.spec.Groups) > 0 {
		entry = append(entry, yaml.MapItem{Key: "groups", Value: h.spec.Groups})
	}
	return entry
}
