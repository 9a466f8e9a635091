package inventory_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe/inventory"
)

// TestInventoryValuesHaveTheirShape: values that reach commands and paths on hosts
// (address, install_dir, user, the vars that stand in for a host's name and
// addresses) are refused when they load, in every form of inventory, each error at
// its file:line:col with the field it is in and the value escaped.
func TestInventoryValuesHaveTheirShape(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	yml := write("cutover.yaml", `hosts:
  hub1:
    address: "-oProxyCommand=touch CANARY"
    install_dir: "/opt/maestro\ntouch CANARY"
  hub2:
    address: hub2.example
    install_dir: opt/maestro
    vars: {hostname: "hub2;touch CANARY", addresses: "10.0.0.2, $(touch CANARY)"}
  win:
    address: win.example
    shell: powershell
    install_dir: 'C:\MDaemon"; touch CANARY'
  lead:
    address: lead.example
    user: "-lroot"
    install_dir: "-rf"
`)
	wantErrors(t, yml, []string{
		yml + `:3:14: address of hub1: "-oProxyCommand=touch CANARY" starts with '-'`,
		yml + `:4:18: install_dir of hub1: "/opt/maestro\ntouch CANARY" contains a control character (U+000A)`,
		yml + `:7:18: install_dir of hub2: "opt/maestro" is not an absolute path`,
		yml + `:8:11: vars.hostname of hub2: "hub2;touch CANARY" contains a space`,
		yml + `:8:11: vars.addresses of hub2: "$(touch" is not a host name or an IP address`,
		yml + `:12:18: install_dir of win: "C:\\MDaemon\"; touch CANARY" contains '"', which Windows file names cannot hold`,
		yml + `:15:11: user of lead: "-lroot" starts with '-'`,
		yml + `:16:18: install_dir of lead: "-rf" starts with '-'`,
	})

	ini := write("hosts.ini", `[maestro]
hub1 ansible_host=-oProxyCommand=x cutover_install_dir=/opt/maestro
hub2 ansible_host=10.0.0.2 cutover_install_dir=relative/dir
[maestro:vars]
hostname="bad name"
`)
	wantErrors(t, ini, []string{
		ini + `:2:6: address of hub1: "-oProxyCommand=x" starts with '-'`,
		ini + `:3:28: install_dir of hub2: "relative/dir" is not an absolute path`,
		ini + `:5:1: vars.hostname of hub1: "bad name" contains a space`,
	})

	ay := write("inventory.yml", `all:
  hosts:
    hub1:
      ansible_host: hub1.example
      cutover_install_dir: "/opt/maestro\u0000"
`)
	wantErrors(t, ay, []string{ay + `:5:28: install_dir of hub1: "/opt/maestro\x00" contains a control character (U+0000)`})

	cfg := write("ssh_config", "Host evil\n  HostName -oProxyCommand=touch\n")
	wantErrors(t, cfg, []string{cfg + `:1:1: address of evil: "-oProxyCommand=touch" starts with '-'`})
}

// wantErrors loads file and wants each of want (a prefix of an error line) among its
// errors.
func wantErrors(t *testing.T, file string, want []string) {
	t.Helper()
	_, err := inventory.Load(file)
	if err == nil {
		t.Fatalf("%s loads", file)
	}
	lines := strings.Split(err.Error(), "\n")
	for _, w := range want {
		found := false
		for _, l := range lines {
			found = found || strings.HasPrefix(l, w)
		}
		if !found {
			t.Errorf("no error %s\ngot:\n%s", w, err)
		}
	}
}
