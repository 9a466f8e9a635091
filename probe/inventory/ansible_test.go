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
