package inventory_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/yamlpos"
)

// isolate points HOME at an empty folder, so no ~/.ssh/config of the machine's user
// adds to what an Ansible inventory says.
func isolate(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	return home
}

// hostView is what must agree between inventory forms: every field of probe.Host, with
// jump hosts by name and address.
type hostView struct {
	Name, Address, User, InstallDir, Shell string
	Port                                   int
	IdentityFiles, KnownHosts, Groups      []string
	Jump                                   []string
	Local                                  bool
	Services                               map[string]probe.Service
	Vars                                   map[string]string
}

func view(h *probe.Host) hostView {
	v := hostView{Name: h.Name, Address: h.Address, User: h.User, InstallDir: h.InstallDir, Shell: h.Shell, Port: h.Port,
		IdentityFiles: h.IdentityFiles, KnownHosts: h.KnownHosts, Groups: h.Groups, Local: h.Local,
		Services: h.Services, Vars: h.Vars}
	for _, j := range h.Jump {
		v.Jump = append(v.Jump, j.Name+"="+j.Addr())
	}
	return v
}

func load(t *testing.T, path string) *inventory.Inventory {
	t.Helper()
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	return inv
}

func TestDetect(t *testing.T) {
	for _, c := range []struct {
		file string
		want inventory.Format
	}{
		{"testdata/site.yaml", inventory.FormatCutover},
		{"testdata/site.ini", inventory.FormatAnsibleINI},
		{"testdata/site-ansible.yaml", inventory.FormatAnsibleYAML},
		{"testdata/site.ssh_config", inventory.FormatSSHConfig},
	} {
		data, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		if got := inventory.Detect(data); got != c.want {
			t.Errorf("Detect(%s) = %s, want %s", c.file, got, c.want)
		}
	}
	for text, want := range map[string]inventory.Format{
		"web1\nweb2 ansible_port=2222\n":                inventory.FormatAnsibleINI,
		"web1 ansible_host=10.0.0.1\n":                  inventory.FormatAnsibleINI,
		"hosts:\n  a: {address: x}\n":                   inventory.FormatCutover,
		"hostz:\n  a: {address: x}\n":                   inventory.FormatCutover, // a typo: Parse explains
		"all:\n  hosts:\n    a:\n":                      inventory.FormatAnsibleYAML,
		"Host a\n  HostName x\n":                        inventory.FormatSSHConfig,
		"# c\nhost=a\n":                                 inventory.FormatSSHConfig,
		"---\nweb:\n  hosts: {a: {ansible_port: 22}}\n": inventory.FormatAnsibleYAML,
	} {
		if got := inventory.Detect([]byte(text)); got != want {
			t.Errorf("Detect(%q) = %s, want %s", text, got, want)
		}
	}
}

// TestFormatsAgree: the same site written as cutover YAML, Ansible INI and Ansible YAML
// gives the same hosts, field for field.
func TestFormatsAgree(t *testing.T) {
	isolate(t)
	want := load(t, "testdata/site.yaml")
	for _, file := range []string{"testdata/site.ini", "testdata/site-ansible.yaml"} {
		t.Run(filepath.Base(file), func(t *testing.T) {
			got := load(t, file)
			if !slices.Equal(got.Names(), want.Names()) {
				t.Fatalf("hosts %v, want %v", got.Names(), want.Names())
			}
			for _, wh := range want.Hosts {
				gv, wv := view(got.Host(wh.Name)), view(wh)
				if !reflect.DeepEqual(gv, wv) {
					t.Errorf("host %s:\n got  %+v\n want %+v", wh.Name, gv, wv)
				}
			}
			if filepath.Base(got.File) != filepath.Base(file) || got.Digest == "" || got.Digest == want.Digest {
				t.Errorf("File %q Digest %q: want the file's own name and digest", got.File, got.Digest)
			}
		})
	}
}

func TestAnsibleINIFeatures(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "hosts")
	writeFile(t, file, `# ranges, ports, groups of groups, priorities, local and PowerShell hosts
web[01:03].example.com:2200
db-[a:b] ansible_connection=local

[win]
w1 ansible_host=10.9.0.1 ansible_shell_type=powershell ansible_ssh_common_args='-J admin@jump.example.com:2022 -o UserKnownHostsFile=/etc/kh'

[east]
web01.example.com

[east:vars]
tier=a
ansible_group_priority=10

[west]
web01.example.com

[west:vars]
tier=b

[dc:children]
east
west

[dc:vars]
tier=base
list_var=[1, 2]
`)
	inv := load(t, file)
	if got, want := inv.Names(), []string{"web01.example.com", "web02.example.com", "web03.example.com", "db-a", "db-b", "w1"}; !slices.Equal(got, want) {
		t.Fatalf("hosts = %v, want %v", got, want)
	}
	w := inv.Host("web01.example.com")
	if w.Port != 2200 || w.Address != "web01.example.com" {
		t.Errorf("web01 = %s, want web01.example.com:2200", w.Addr())
	}
	// east has priority 10 > west's default 1, so east's tier wins over west's; both are
	// deeper than dc, whose tier loses.
	if w.Vars["tier"] != "a" {
		t.Errorf("tier = %q, want a (east outranks west by ansible_group_priority)", w.Vars["tier"])
	}
	if w.Vars["list_var"] != "[1, 2]" {
		t.Errorf("list_var = %q", w.Vars["list_var"])
	}
	if got, want := w.Groups, []string{"dc", "east", "west"}; !slices.Equal(got, want) {
		t.Errorf("groups = %v, want %v", got, want)
	}
	if g := inv.Host("web02.example.com").Groups; len(g) != 0 {
		t.Errorf("ungrouped host has groups %v", g)
	}
	if !inv.Host("db-b").Local {
		t.Error("ansible_connection=local must make a local host")
	}
	w1 := inv.Host("w1")
	if !w1.PowerShell() {
		t.Error("ansible_shell_type=powershell must make a PowerShell host")
	}
	if len(w1.Jump) != 1 || w1.Jump[0].Addr() != "jump.example.com:2022" || w1.Jump[0].User != "admin" {
		t.Fatalf("w1 jump = %+v, want admin@jump.example.com:2022", w1.Jump)
	}
	if !slices.Equal(w1.KnownHosts, []string{"/etc/kh"}) || !slices.Equal(w1.Jump[0].KnownHosts, []string{"/etc/kh"}) {
		t.Errorf("known_hosts = %v / jump %v, want /etc/kh for both", w1.KnownHosts, w1.Jump[0].KnownHosts)
	}
}

// TestAnsibleUsesSSHConfig: what the Ansible inventory leaves open comes from
// ~/.ssh/config, as Ansible's ssh would take it.
func TestAnsibleUsesSSHConfig(t *testing.T) {
	home := isolate(t)
	writeFile(t, filepath.Join(home, ".ssh", "config"), `Host hub1
  HostName 10.0.0.12
  User fromconfig
  ProxyJump bastion
  IdentityFile ~/.ssh/hub_key
Host bastion
  HostName 192.0.2.1
  Port 2200
`)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "inv.ini"), "hub1 ansible_user=deploy\nhub2 ansible_host=hub1 ansible_port=2222\n")
	inv := load(t, filepath.Join(dir, "inv.ini"))
	h1, h2 := inv.Host("hub1"), inv.Host("hub2")
	if h1.Address != "10.0.0.12" || h1.User != "deploy" || h1.Port != 22 {
		t.Errorf("hub1 = %s@%s, want deploy@10.0.0.12:22", h1.User, h1.Addr())
	}
	if !slices.Equal(h1.IdentityFiles, []string{filepath.Join(home, ".ssh", "hub_key")}) {
		t.Errorf("hub1 identity = %v", h1.IdentityFiles)
	}
	if len(h1.Jump) != 1 || h1.Jump[0].Addr() != "192.0.2.1:2200" {
		t.Errorf("hub1 jump = %+v, want bastion at 192.0.2.1:2200", h1.Jump)
	}
	if h2.Address != "10.0.0.12" || h2.Port != 2222 || h2.User != "fromconfig" {
		t.Errorf("hub2 = %s@%s, want fromconfig@10.0.0.12:2222 (ansible_host hub1 looked up in ssh_config)", h2.User, h2.Addr())
	}
}

// TestAnsibleErrors: every mistake is reported with file:line and what is wrong.
func TestAnsibleErrors(t *testing.T) {
	isolate(t)
	for _, c := range []struct {
		name, file, text string
		want             []string
	}{
		{"ini", "bad.ini", `[web]
w1 ansible_port=http
w2 novalue
[web:oops]
[web:vars]
just a line
[db]
d1 cutover_jump=nowhere
d2 ansible_connection=winrm
d3 ansible_host="{{ inventory_hostname }}.x"
d4 cutover_service_x_start=a
"unclosed
`, []string{
			"bad.ini:2:", `ansible_port "http" of w1`,
			"bad.ini:3:4:", `host w2: expected key=value, found "novalue"`,
			"bad.ini:4:", `"oops" is not a section kind`,
			"bad.ini:6:", `expected key=value, found "just a line"`,
			"bad.ini:8:", `cutover_jump of d1: "nowhere" is not a host of the inventory`,
			"bad.ini:9:", `ansible_connection "winrm"`,
			"bad.ini:10:", "Jinja template",
			"bad.ini:11:", "service x of host d4 needs start, stop and status",
			"bad.ini:12:", "unclosed",
		}},
		{"yaml", "bad.yaml", `all:
  children:
    web:
      hosts:
        w1:
          ansible_port: 0
      varz: {}
    db:
      hosts:
        "d[1:": {}
`, []string{
			"bad.yaml:6:", "ansible_port \"0\" of w1",
			"bad.yaml:7:", `group web: unknown key "varz"`,
			"bad.yaml:10:", `host "d[1:": unmatched [`,
		}},
		{"loop", "loop.yaml", `all:
  hosts:
    a: {cutover_jump: b}
    b: {cutover_jump: a}
`, []string{"jump hosts form a loop"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), c.file)
			writeFile(t, file, c.text)
			_, err := inventory.Load(file)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			var list yamlpos.List
			if !errors.As(err, &list) {
				t.Errorf("error %T is not a yamlpos.List", err)
			}
			msg := strings.ReplaceAll(err.Error(), filepath.Dir(file)+"/", "")
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
		})
	}
}

func TestExpandHostPattern(t *testing.T) {
	isolate(t)
	file := filepath.Join(t.TempDir(), "r.ini")
	writeFile(t, file, "n[1:10:4]-[x:y]\n")
	if got, want := load(t, file).Names(), []string{"n1-x", "n1-y", "n5-x", "n5-y", "n9-x", "n9-y"}; !slices.Equal(got, want) {
		t.Errorf("hosts = %v, want %v", got, want)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHostRangesAreBounded: ranges multiply, so the names a whole inventory expands to
// are capped, not only each range's; and bounds near the largest integer neither
// overflow nor loop for ever. The names are counted before any is made
// (TestHostPatternsCountedBeforeExpanding), so a refused inventory costs no time.
func TestHostRangesAreBounded(t *testing.T) {
	isolate(t)
	inventory.SetSystemSSHConfig(t, filepath.Join(t.TempDir(), "none"))
	for _, c := range []struct {
		name, text string
		want       []string // empty: loads
	}{
		{"product", "[g]\na[0:99999][0:99999]\n", []string{"r.ini:2:", "more host names than the 100000"}},
		{"total", "[g]\nx[0:49999]\ny[0:49999]\nz[0:9]\n", []string{"r.ini:4:", "more host names than the 100000"}},
		{"yaml", "all:\n  hosts:\n    \"a[0:999][0:999]\": {}\n", []string{"r.ini:3:", "more host names"}},
		{"overflow", "h[9223372036854775806:9223372036854775807]\n", nil},
		{"too large for int64", "h[0:99999999999999999999]\n", []string{"r.ini:1:", "too large"}},
		{"sign", "h[-1:2]\n", []string{"r.ini:1:", "expected numbers or single letters"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "r.ini")
			writeFile(t, file, c.text)
			inv, err := inventory.Load(file)
			if len(c.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if got, want := inv.Names(), []string{"h9223372036854775806", "h9223372036854775807"}; !slices.Equal(got, want) {
					t.Errorf("hosts = %v, want %v", got, want)
				}
				return
			}
			if err == nil {
				t.Fatal("Load succeeded")
			}
			msg := strings.ReplaceAll(err.Error(), filepath.Dir(file)+"/", "")
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
		})
	}
}

// TestAnsibleSSHArgChecks: -o UserKnownHostsFile=/dev/null leaves the default
// known_hosts in force (host keys are still checked), ports are checked, and the
// cutover_* list variables refuse Jinja templates like the others.
func TestAnsibleSSHArgChecks(t *testing.T) {
	isolate(t)
	inventory.SetSystemSSHConfig(t, filepath.Join(t.TempDir(), "none"))
	dir := t.TempDir()
	file := filepath.Join(dir, "ok.ini")
	writeFile(t, file, `a ansible_ssh_common_args="-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no"
b ansible_ssh_extra_args="-o UserKnownHostsFile='/dev/null kh'"
`)
	inv := load(t, file)
	if kh := inv.Host("a").KnownHosts; kh != nil {
		t.Errorf("a: known_hosts = %v, want the default (nil)", kh)
	}
	if kh, want := inv.Host("b").KnownHosts, []string{filepath.Join(dir, "kh")}; !slices.Equal(kh, want) {
		t.Errorf("b: known_hosts = %v, want %v", kh, want)
	}

	file = filepath.Join(dir, "bad.ini")
	writeFile(t, file, `a1 ansible_ssh_common_args="-p 70000"
a2 ansible_ssh_extra_args="-o Port=0"
a3 ansible_ssh_common_args="-p0"
a4 cutover_known_hosts="{{ kh }}"
a5 cutover_identity="~/.ssh/a,{{ key }}"
a6 cutover_jump="{{ bastion }}"
`)
	_, err := inventory.Load(file)
	if err == nil {
		t.Fatal("Load succeeded")
	}
	msg := strings.ReplaceAll(err.Error(), dir+"/", "")
	for _, w := range []string{
		"bad.ini:1:", "-p 70000: expected a port number from 1 to 65535",
		"bad.ini:2:", "-o Port=0: expected a port number",
		"bad.ini:3:", "-p 0: expected a port number",
		"bad.ini:4:", "cutover_known_hosts of a4 is a Jinja template",
		"bad.ini:5:", "cutover_identity of a5 is a Jinja template",
		"bad.ini:6:", "cutover_jump of a6 is a Jinja template",
	} {
		if !strings.Contains(msg, w) {
			t.Errorf("error lacks %q:\n%s", w, msg)
		}
	}
}

// TestAnsibleDigestCoversSSHConfig: an Ansible inventory's hosts are resolved through
// ~/.ssh/config, the system configuration and the files they include, so a change in
// any of them changes the digest a resume compares.
func TestAnsibleDigestCoversSSHConfig(t *testing.T) {
	home := isolate(t)
	sys := filepath.Join(t.TempDir(), "ssh_config")
	inventory.SetSystemSSHConfig(t, sys)
	writeFile(t, sys, "Host *\n  Port 22\n")
	writeFile(t, filepath.Join(home, ".ssh", "config"), "Include conf.d/*\n")
	writeFile(t, filepath.Join(home, ".ssh", "conf.d", "hub"), "Host hub1\n  User one\n")
	file := filepath.Join(t.TempDir(), "inv.ini")
	writeFile(t, file, "hub1\n")
	before := load(t, file).Digest
	for _, f := range []struct{ path, text string }{
		{filepath.Join(home, ".ssh", "conf.d", "hub"), "Host hub1\n  User two\n"},
		{filepath.Join(home, ".ssh", "config"), "Include conf.d/*\nHost x\n"},
		{sys, "Host *\n  Port 2222\n"},
	} {
		writeFile(t, f.path, f.text)
		after := load(t, file).Digest
		if after == before {
			t.Errorf("changing %s left the digest as it was", f.path)
		}
		before = after
	}
}
