package inventory_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
)

// TestBecomeInCutoverYAML: become settings in the defaults apply to every host, a
// host's own override them (become: false included), and the password stays out of
// everything but Become.Password.
func TestBecomeInCutoverYAML(t *testing.T) {
	src := `defaults:
  user: alice
  become: true
  become_user: maestro
hosts:
  hub: {address: 10.0.0.1}
  spare: {address: 10.0.0.2, become_user: svc, sftp_server: /usr/libexec/openssh/sftp-server}
  db: {address: 10.0.0.3, become: false}
`
	inv, err := inventory.Parse("inv.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*probe.Become{
		"hub":   {User: "maestro"},
		"spare": {User: "svc", SFTPServer: "/usr/libexec/openssh/sftp-server"},
	}
	for _, h := range inv.Hosts {
		w := want[h.Name]
		switch {
		case w == nil && h.Become != nil:
			t.Errorf("%s becomes %v, want no become", h.Name, *h.Become)
		case w != nil && (h.Become == nil || *h.Become != *w):
			t.Errorf("%s: Become = %v, want %+v", h.Name, h.Become, *w)
		}
	}
}

// TestBecomeRefusals: an unsupported method, become on a local or PowerShell host, a
// become user without become, a bad account name and a password in a file others can
// read are each refused where they are written.
func TestBecomeRefusals(t *testing.T) {
	for _, c := range []struct{ name, src, needle, msg string }{
		{"method su", "hosts:\n  h: {address: a, become: true, become_method: su}\n", "su}", `become method "su" of h: cutover becomes another account with sudo only`},
		{"method doas in defaults", "defaults:\n  become_method: doas\nhosts:\n  h: {address: a}\n", "doas", `become method "doas"`},
		{"local", "hosts:\n  h: {local: true, become: true}\n", "true}", "is local and becomes another account"},
		{"powershell", "hosts:\n  h: {address: a, shell: powershell, become: true}\n", "true}", "Administrators group"},
		{"user without become", "hosts:\n  h: {address: a, become_user: svc}\n", "svc", "does not become it: add become: true"},
		{"account name", "hosts:\n  h: {address: a, become: true, become_user: \"-x\"}\n", `"-x"`, `become user "-x" of h: starts with '-'`},
		{"sftp server", "hosts:\n  h: {address: a, become: true, sftp_server: sftp-server}\n", "sftp-server}", "expected an absolute path"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := inventory.Parse("inv.yaml", []byte(c.src))
			requireError(t, err, posOf(t, "inv.yaml", c.src, c.needle), c.msg)
		})
	}

	// A password is accepted only from a file that only its owner can read.
	dir := t.TempDir()
	file := filepath.Join(dir, "inv.yaml")
	src := "hosts:\n  h: {address: a, become: true, become_password: hunter2}\n"
	writeFile(t, file, src)
	_, err := inventory.Load(file)
	requireError(t, err, posOf(t, file, src, "hunter2"), "holds a password and others can read it (mode 0644)")
	if err != nil && strings.Contains(err.Error(), "hunter2") {
		t.Errorf("the error shows the password: %v", err)
	}
	if err := os.Chmod(file, 0o600); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if b := inv.Host("h").Become; b == nil || b.Password != "hunter2" || b.Account() != "root" {
		t.Errorf("Become = %v", b)
	}
}

// TestAnsibleBecome: Ansible's become variables (and the older sudo ones) map to
// Become; su and other methods are refused at their line.
func TestAnsibleBecome(t *testing.T) {
	isolate(t)
	inventory.SetSystemSSHConfig(t, filepath.Join(t.TempDir(), "none"))
	dir := t.TempDir()
	ini := filepath.Join(dir, "hosts.ini")
	writeFile(t, ini, `[maestro]
hub ansible_become=yes ansible_become_user=maestro
spare ansible_sudo=true ansible_sudo_user=svc cutover_sftp_server=/usr/lib/ssh/sftp-server
lui

[maestro:vars]
ansible_become_method=sudo
ansible_become_flags='-H -S -n'
`)
	inv := load(t, ini)
	if b := inv.Host("hub").Become; b == nil || b.User != "maestro" {
		t.Errorf("hub: %v", b)
	}
	if b := inv.Host("spare").Become; b == nil || b.User != "svc" || b.SFTPServer != "/usr/lib/ssh/sftp-server" {
		t.Errorf("spare: %v", b)
	}
	if b := inv.Host("lui").Become; b != nil {
		t.Errorf("lui becomes %v without ansible_become", *b)
	}
	for _, v := range inv.Host("hub").Vars {
		if strings.Contains(v, "sudo") {
			t.Errorf("become settings leaked into vars: %v", inv.Host("hub").Vars)
		}
	}

	for _, c := range []struct{ src, needle, msg string }{
		{"h ansible_become=true ansible_become_method=su\n", "ansible_become_method", `become method "su"`},
		{"h ansible_become=true ansible_become_method=pbrun\n", "ansible_become_method", `become method "pbrun"`},
		{"h ansible_su=yes\n", "ansible_su", `become method "su"`},
		{"h ansible_become=maybe\n", "ansible_become", `ansible_become of h is "maybe": expected true or false`},
		{"h ansible_become=true ansible_become_flags=-i\n", "ansible_become_flags", "accepts only -H, -S and -n"},
		{"h ansible_become=true ansible_become_exe=doas\n", "ansible_become_exe", `become program "doas"`},
	} {
		file := filepath.Join(t.TempDir(), "hosts.ini")
		writeFile(t, file, c.src)
		_, err := inventory.Load(file)
		requireError(t, err, posOf(t, file, c.src, c.needle), c.msg)
	}
}
