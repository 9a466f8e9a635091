package inventory_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe/inventory"
)

// TestGroupAndHostVars: group_vars/ and host_vars/ beside an inventory add variables
// with Ansible's precedence (inventory groups, then group_vars/all, then group_vars of
// the groups by depth, then the host's inventory variables, then host_vars), from
// files and from folders of files; connection settings may live there only.
func TestGroupAndHostVars(t *testing.T) {
	home := isolate(t)
	inventory.SetSystemSSHConfig(t, filepath.Join(t.TempDir(), "none"))
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "hosts.ini"), `[maestro]
hub level=host-inventory
spare

[maestro:children]
east

[east]
spare

[all:vars]
level=all-inventory
from_inventory=all

[maestro:vars]
level=maestro-inventory
`)
	writeFile(t, filepath.Join(dir, "group_vars", "all.yml"), `---
level: all-file
ansible_user: deploy
ansible_port: 2222
ansible_ssh_private_key_file: ~/.ssh/site_key
ansible_ssh_common_args: -o UserKnownHostsFile=keys/known_hosts
from_all_file: true
`)
	writeFile(t, filepath.Join(dir, "group_vars", "maestro", "10-main.yml"), "level: maestro-file\n")
	writeFile(t, filepath.Join(dir, "group_vars", "maestro", "20-more.yaml"), "more: from maestro folder\n")
	writeFile(t, filepath.Join(dir, "group_vars", "maestro", ".hidden.yml"), "level: hidden\n")
	writeFile(t, filepath.Join(dir, "group_vars", "maestro", "notes.txt"), "level: text\n")
	writeFile(t, filepath.Join(dir, "group_vars", "east"), "level: east-file\n")
	writeFile(t, filepath.Join(dir, "group_vars", "nosuchgroup.yml"), "level: never\n")
	writeFile(t, filepath.Join(dir, "host_vars", "spare.yml"), "ansible_host: 10.0.0.9\nansible_port: 2200\n")
	writeFile(t, filepath.Join(dir, "host_vars", "hub.json"), `{"cutover_install_dir": "/opt/maestro"}`)
	writeFile(t, filepath.Join(dir, "host_vars", "empty.yml"), "# nothing\n")

	inv := load(t, filepath.Join(dir, "hosts.ini"))
	hub, spare := inv.Host("hub"), inv.Host("spare")
	for _, c := range []struct{ host, key, want string }{
		{"hub", "level", "host-inventory"},     // the host's own beats every group file
		{"spare", "level", "east-file"},        // group_vars of the deeper group win
		{"hub", "from_inventory", "all"},       // inventory group vars still apply
		{"hub", "from_all_file", "true"},       // group_vars/all
		{"hub", "more", "from maestro folder"}, // a folder of files
	} {
		if got := inv.Host(c.host).Vars[c.key]; got != c.want {
			t.Errorf("%s: %s = %q, want %q", c.host, c.key, got, c.want)
		}
	}
	if hub.User != "deploy" || hub.Port != 2222 || hub.InstallDir != "/opt/maestro" || hub.Address != "hub" {
		t.Errorf("hub = %s@%s:%d in %s", hub.User, hub.Address, hub.Port, hub.InstallDir)
	}
	if spare.Address != "10.0.0.9" || spare.Port != 2200 {
		t.Errorf("spare = %s:%d, want host_vars' 10.0.0.9:2200", spare.Address, spare.Port)
	}
	if want := []string{filepath.Join(home, ".ssh", "site_key")}; !slices.Equal(hub.IdentityFiles, want) {
		t.Errorf("identity = %v, want %v", hub.IdentityFiles, want)
	}
	if want := []string{filepath.Join(dir, "keys", "known_hosts")}; !slices.Equal(hub.KnownHosts, want) {
		t.Errorf("known_hosts = %v, want %v", hub.KnownHosts, want)
	}

	// The files are part of the digest: a change to one is a changed inventory.
	before := inv.Digest
	writeFile(t, filepath.Join(dir, "group_vars", "east"), "level: east-changed\n")
	if load(t, filepath.Join(dir, "hosts.ini")).Digest == before {
		t.Error("the digest did not change with group_vars/east")
	}
}

// TestVarsFileErrors: a vault-encrypted file, a !vault value and a file that is not a
// mapping are refused, each naming its file (and line).
func TestVarsFileErrors(t *testing.T) {
	isolate(t)
	inventory.SetSystemSSHConfig(t, filepath.Join(t.TempDir(), "none"))
	for _, c := range []struct{ file, content, pos, msg string }{
		{"group_vars/all.yml", "$ANSIBLE_VAULT;1.1;AES256\n6231\n", "group_vars/all.yml:1:1", "encrypted with Ansible Vault"},
		{"host_vars/h/secrets.yml", "ansible_become_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  3363\n", "host_vars/h/secrets.yml:1:26", "encrypted with Ansible Vault (!vault)"},
		{"group_vars/g.yaml", "- a\n- b\n", "group_vars/g.yaml:1:1", "expected a mapping of variable names"},
	} {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "hosts.ini"), "[g]\nh\n")
		writeFile(t, filepath.Join(dir, c.file), c.content)
		_, err := inventory.Load(filepath.Join(dir, "hosts.ini"))
		requireError(t, err, filepath.Join(dir, c.pos), c.msg)
	}
	// The inventory itself, vault-encrypted.
	file := filepath.Join(t.TempDir(), "hosts.yml")
	writeFile(t, file, "$ANSIBLE_VAULT;1.1;AES256\n3131\n")
	_, err := inventory.Load(file)
	requireError(t, err, file+":1:1", "encrypted with Ansible Vault")
}

// TestInventoryFolder: a folder given to -i is read as one inventory, its files in name
// order, skipping what Ansible skips; scripts and other forms are refused.
func TestInventoryFolder(t *testing.T) {
	isolate(t)
	inventory.SetSystemSSHConfig(t, filepath.Join(t.TempDir(), "none"))
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "01-hosts.ini"), "[web]\nweb1\nweb2\n")
	writeFile(t, filepath.Join(dir, "02-more.yml"), "all:\n  children:\n    db:\n      hosts:\n        db1: {ansible_host: 10.0.0.5}\n    web:\n      vars: {tier: front}\n")
	writeFile(t, filepath.Join(dir, "03-cloud.json"), `{"_meta": {"hostvars": {"cache1": {"ansible_port": 2201}}}, "cache": {"hosts": ["cache1"]}}`)
	writeFile(t, filepath.Join(dir, "README.md"), "not an inventory\n")
	writeFile(t, filepath.Join(dir, "old.ini.bak"), "[x]\nold\n")
	writeFile(t, filepath.Join(dir, "group_vars", "web.yml"), "ansible_user: www\n")
	inv := load(t, dir)
	if got, want := inv.Names(), []string{"web1", "web2", "db1", "cache1"}; !slices.Equal(got, want) {
		t.Errorf("hosts = %v, want %v", got, want)
	}
	if h := inv.Host("web2"); h.User != "www" || h.Vars["tier"] != "front" || !slices.Equal(h.Groups, []string{"web"}) {
		t.Errorf("web2 = user %q vars %v groups %v", h.User, h.Vars, h.Groups)
	}
	if h := inv.Host("db1"); h.Address != "10.0.0.5" {
		t.Errorf("db1 address %q", h.Address)
	}
	if h := inv.Host("cache1"); h.Port != 2201 || !slices.Equal(h.Groups, []string{"cache"}) {
		t.Errorf("cache1 = port %d groups %v", h.Port, h.Groups)
	}

	// A dynamic inventory script is not run; a cutover inventory does not mix in.
	script := filepath.Join(dir, "ec2.py")
	writeFile(t, script, "#!/usr/bin/env python3\n")
	if err := os.Chmod(script, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "cutover.yaml"), "hosts:\n  x: {address: a}\n")
	_, err := inventory.Load(dir)
	requireError(t, err, script, "cutover does not run inventory scripts by itself")
	requireError(t, err, filepath.Join(dir, "cutover.yaml")+":1:1", "a cutover file in an Ansible inventory folder")
}

// TestAnsibleInventoryJSON: the JSON ansible-inventory --list prints is read with its
// groups, children, group vars and merged hostvars, mistakes at line and column.
func TestAnsibleInventoryJSON(t *testing.T) {
	isolate(t)
	inventory.SetSystemSSHConfig(t, filepath.Join(t.TempDir(), "none"))
	file := filepath.Join(t.TempDir(), "inventory.json")
	writeFile(t, file, `{
  "_meta": {
    "hostvars": {
      "hub": {"ansible_host": "10.0.0.12", "ansible_user": "ops", "ansible_become": true, "ansible_become_user": "maestro", "site": "east"},
      "lui": {"ansible_host": "10.0.0.10"}
    }
  },
  "all": {"children": ["ungrouped", "maestro"]},
  "maestro": {"children": ["hubs"], "hosts": ["lui"], "vars": {"cutover_install_dir": "/opt/maestro"}},
  "hubs": {"hosts": ["hub"]},
  "ungrouped": {}
}
`)
	inv := load(t, file)
	if got, want := inv.Names(), []string{"lui", "hub"}; !slices.Equal(got, want) {
		t.Fatalf("hosts = %v, want %v", got, want)
	}
	hub := inv.Host("hub")
	if hub.Address != "10.0.0.12" || hub.User != "ops" || hub.InstallDir != "/opt/maestro" || hub.Vars["site"] != "east" ||
		hub.Become == nil || hub.Become.User != "maestro" || !slices.Equal(hub.Groups, []string{"hubs", "maestro"}) {
		t.Errorf("hub = %+v, become %v", view(hub), hub.Become)
	}

	bad := `{
  "all": {"children": ["web"]},
  "web": {"hosts": "web1"}
}
`
	writeFile(t, file, bad)
	_, err := inventory.Load(file)
	requireError(t, err, posOf(t, file, bad, `"web1"`), "hosts of web: expected a list of names")
}

// TestAnsibleInventoryCommand: ansible-inventory:SOURCE runs ansible-inventory (here a
// stand-in on PATH) and reads what it prints; its failure is reported with its words.
func TestAnsibleInventoryCommand(t *testing.T) {
	isolate(t)
	inventory.SetSystemSSHConfig(t, filepath.Join(t.TempDir(), "none"))
	bin := t.TempDir()
	writeFile(t, filepath.Join(bin, "ansible-inventory"), `#!/bin/sh
[ "$1" = -i ] && [ "$3" = --list ] || { echo "unexpected arguments: $*" >&2; exit 2; }
case "$2" in
*broken*) echo "ERROR! could not parse $2" >&2; exit 1 ;;
esac
echo '{"_meta": {"hostvars": {"web1": {"ansible_host": "10.1.1.1"}}}, "web": {"hosts": ["web1"]}}'
`)
	if err := os.Chmod(filepath.Join(bin, "ansible-inventory"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	inv, err := inventory.Load(inventory.AnsibleInventoryPrefix + "aws_ec2.yml")
	if err != nil {
		t.Fatal(err)
	}
	if h := inv.Host("web1"); h == nil || h.Address != "10.1.1.1" {
		t.Errorf("hosts %v", inv.Names())
	}
	_, err = inventory.Load(inventory.AnsibleInventoryPrefix + "broken.yml")
	if err == nil || !strings.Contains(err.Error(), "ERROR! could not parse broken.yml") {
		t.Errorf("failing ansible-inventory: %v", err)
	}
}

// TestAnsibleYAMLAliasBomb: aliases that multiply (a billion values from a few lines)
// and nesting past the cap are refused with the place, before anything is decoded.
func TestAnsibleYAMLAliasBomb(t *testing.T) {
	isolate(t)
	inventory.SetSystemSSHConfig(t, filepath.Join(t.TempDir(), "none"))
	var b strings.Builder
	b.WriteString("all:\n  vars:\n    a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 9; i++ {
		prev := "*a" + string(rune('0'+i-1))
		b.WriteString("    a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [" + strings.Repeat(prev+", ", 9) + prev + "]\n")
	}
	b.WriteString("  hosts:\n    h1:\n")
	for _, name := range []string{"hosts.yml", "group_vars/all.yml"} {
		dir := t.TempDir()
		src := b.String()
		if name != "hosts.yml" {
			writeFile(t, filepath.Join(dir, "hosts.yml"), "all:\n  hosts:\n    h1:\n")
			src = strings.Replace(strings.Replace(src, "all:\n  vars:\n", "", 1), "    ", "", -1)
			src = strings.Replace(src, "  hosts:\nh1:\n", "", 1)
		}
		file := filepath.Join(dir, name)
		writeFile(t, file, src)
		_, err := inventory.Load(filepath.Join(dir, "hosts.yml"))
		if err == nil || !strings.Contains(err.Error(), "stand for more than 1000000 values") || !strings.Contains(err.Error(), file+":") {
			t.Errorf("%s: %v", name, err)
		}
	}

	deep := "all:\n  vars:\n    v: " + strings.Repeat("[", 150) + strings.Repeat("]", 150) + "\n  hosts:\n    h1:\n"
	file := filepath.Join(t.TempDir(), "hosts.yml")
	writeFile(t, file, deep)
	if _, err := inventory.Load(file); err == nil || !strings.Contains(err.Error(), "nest more than 64 deep") {
		t.Errorf("deep nesting: %v", err)
	}
}
