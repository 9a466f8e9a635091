package inventory_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/yamlpos"
)

const validInventory = `# the lab
defaults:
  user: maestro
  port: 2222
  known_hosts: [keys/known_hosts]
  identity: ~/.ssh/id_ed25519
  install_dir: /opt/maestro
  services:
    maestro: {start: "systemctl start maestro", stop: "systemctl stop maestro", status: "systemctl is-active maestro"}
  vars: {site: east, tier: prod}
hosts:
  bastion:
    address: bastion.example.com
    port: 22
  hub1:
    address: 10.0.0.12
    user: admin
    jump: bastion
    identity: [id_hub, /etc/keys/hub]
    known_hosts: ../shared/known_hosts
    install_dir: /srv/maestro
    vars: {tier: test}
    services:
      web: {start: "web start", stop: "web stop", status: "web status"}
    groups: [maestro, hub]
  win:
    address: "2001:db8::1"
    shell: PowerShell
    jump: [bastion, hub1]
  me:
    local: true
`

func TestParseValidInventory(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	dir := filepath.Join(t.TempDir(), "site")
	file := filepath.Join(dir, "inventory.yaml")

	inv, err := inventory.Parse(file, []byte(validInventory))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got, want := inv.Names(), []string{"bastion", "hub1", "win", "me"}; !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v (file order)", got, want)
	}
	sum := sha256.Sum256([]byte(validInventory))
	if inv.Digest != hex.EncodeToString(sum[:]) {
		t.Errorf("Digest = %s, want the SHA-256 of the content", inv.Digest)
	}
	if inv.File != file {
		t.Errorf("File = %q, want %q", inv.File, file)
	}
	if inv.Host("nope") != nil {
		t.Error("Host of an unknown name must be nil")
	}
	bastion, hub, win, me := inv.Host("bastion"), inv.Host("hub1"), inv.Host("win"), inv.Host("me")

	t.Run("defaults apply to hosts that say nothing else", func(t *testing.T) {
		if win.User != "maestro" || win.Port != 2222 || win.InstallDir != "/opt/maestro" {
			t.Errorf("win = user %q port %d install %q, want the defaults", win.User, win.Port, win.InstallDir)
		}
		if got := win.Services["maestro"].Status; got != "systemctl is-active maestro" {
			t.Errorf("win's maestro status command = %q", got)
		}
		if win.Vars["site"] != "east" || win.Vars["tier"] != "prod" {
			t.Errorf("win vars = %v, want the defaults", win.Vars)
		}
		if want := []string{filepath.Join(dir, "keys", "known_hosts")}; !slices.Equal(win.KnownHosts, want) {
			t.Errorf("win known_hosts = %v, want %v (relative to the inventory's folder)", win.KnownHosts, want)
		}
		if want := []string{filepath.Join(home, ".ssh", "id_ed25519")}; !slices.Equal(win.IdentityFiles, want) {
			t.Errorf("win identity = %v, want %v (~ is the home folder)", win.IdentityFiles, want)
		}
	})
	t.Run("a host's own settings override the defaults", func(t *testing.T) {
		if bastion.Port != 22 {
			t.Errorf("bastion port = %d, want its own 22", bastion.Port)
		}
		if hub.User != "admin" || hub.InstallDir != "/srv/maestro" || hub.Port != 2222 {
			t.Errorf("hub1 = user %q install %q port %d", hub.User, hub.InstallDir, hub.Port)
		}
		if hub.Vars["tier"] != "test" || hub.Vars["site"] != "east" {
			t.Errorf("hub1 vars = %v, want its own tier over the default site", hub.Vars)
		}
		if _, ok := hub.Services["maestro"]; !ok {
			t.Error("hub1 lost the default maestro service")
		}
		if hub.Services["web"].Start != "web start" {
			t.Errorf("hub1 web service = %+v", hub.Services["web"])
		}
		if !slices.Equal(hub.Groups, []string{"maestro", "hub"}) {
			t.Errorf("hub1 groups = %v", hub.Groups)
		}
	})
	t.Run("relative key and known_hosts files resolve against the inventory's folder", func(t *testing.T) {
		wantID := []string{filepath.Join(dir, "id_hub"), "/etc/keys/hub"}
		if !slices.Equal(hub.IdentityFiles, wantID) {
			t.Errorf("hub1 identity = %v, want %v", hub.IdentityFiles, wantID)
		}
		wantKH := []string{filepath.Join(filepath.Dir(dir), "shared", "known_hosts")}
		if !slices.Equal(hub.KnownHosts, wantKH) {
			t.Errorf("hub1 known_hosts = %v, want %v", hub.KnownHosts, wantKH)
		}
	})
	t.Run("jump hosts are linked in order", func(t *testing.T) {
		if len(hub.Jump) != 1 || hub.Jump[0] != bastion {
			t.Errorf("hub1 jumps through %v, want bastion", hostNames(hub.Jump))
		}
		if len(win.Jump) != 2 || win.Jump[0] != bastion || win.Jump[1] != hub {
			t.Errorf("win jumps through %v, want bastion, hub1", hostNames(win.Jump))
		}
		if len(bastion.Jump) != 0 {
			t.Errorf("bastion jumps through %v, want none", hostNames(bastion.Jump))
		}
	})
	t.Run("the shell is read without regard to case", func(t *testing.T) {
		if win.Shell != "powershell" || !win.PowerShell() {
			t.Errorf("win shell = %q", win.Shell)
		}
		if hub.Shell != "sh" {
			t.Errorf("hub1 shell = %q, want the default sh", hub.Shell)
		}
	})
	t.Run("a local host needs no address", func(t *testing.T) {
		if !me.Local || me.Address != "" {
			t.Errorf("me = %+v", me)
		}
	})
}

func TestTopLevelShorthands(t *testing.T) {
	src := "user: ops\nknown_hosts: kh\nidentity: [k1]\nhosts:\n  a: {address: a.example}\n"
	inv, err := inventory.Parse("/inv/hosts.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	a := inv.Host("a")
	if a.User != "ops" || !slices.Equal(a.KnownHosts, []string{"/inv/kh"}) || !slices.Equal(a.IdentityFiles, []string{"/inv/k1"}) {
		t.Errorf("a = user %q known_hosts %v identity %v", a.User, a.KnownHosts, a.IdentityFiles)
	}
	if a.Port != 22 {
		t.Errorf("port = %d, want 22 when nobody gives one", a.Port)
	}
}

func TestParseErrorsNameTheirPlace(t *testing.T) {
	tests := []struct {
		name string
		src  string
		// at is the text at the reported position: the error must point at the line that
		// holds it, at its column.
		at      string
		wantMsg string
	}{
		{
			name:    "a host without an address",
			src:     "hosts:\n  hub1:\n    port: 22\n",
			at:      "port: 22",
			wantMsg: "host hub1 has no address",
		},
		{
			name:    "a host with nothing after its name",
			src:     "hosts:\n  hub1:\n  hub2: {address: hub2.example}\n",
			at:      "hub1",
			wantMsg: "host hub1 has no address",
		},
		{
			name:    "a host that is not a mapping",
			src:     "hosts:\n  hub1: hub1.example\n",
			at:      "hub1.example",
			wantMsg: "expected a mapping, found text",
		},
		{
			name:    "hosts given as a list",
			src:     "hosts: [hub1]\n",
			at:      "[hub1]",
			wantMsg: "hosts must be a mapping",
		},
		{
			name:    "an address with a port",
			src:     "hosts:\n  hub1:\n    address: 10.0.0.1:2222\n",
			at:      "10.0.0.1:2222",
			wantMsg: "includes a port",
		},
		{
			name:    "a bracketed IPv6 address with a port",
			src:     "hosts:\n  hub1:\n    address: \"[2001:db8::1]:22\"\n",
			at:      `"[2001:db8::1]:22"`,
			wantMsg: "includes a port",
		},
		{
			name:    "an address with a space",
			src:     "hosts:\n  hub1:\n    address: hub one\n",
			at:      "hub one",
			wantMsg: "contains a space",
		},
		{
			name:    "a port above 65535",
			src:     "hosts:\n  hub1:\n    address: hub1.example\n    port: 70000\n",
			at:      "70000",
			wantMsg: "port 70000 is outside 1-65535",
		},
		{
			name:    "a negative port",
			src:     "hosts:\n  hub1:\n    address: hub1.example\n    port: -1\n",
			at:      "-1",
			wantMsg: "port -1 is outside 1-65535",
		},
		{
			name:    "a port in the defaults out of range",
			src:     "defaults:\n  port: 99999\nhosts:\n  hub1:\n    address: hub1.example\n",
			at:      "99999",
			wantMsg: "port 99999 is outside 1-65535",
		},
		{
			name:    "an unknown shell",
			src:     "hosts:\n  hub1:\n    address: hub1.example\n    shell: bash\n",
			at:      "bash",
			wantMsg: `shell "bash": expected sh or powershell`,
		},
		{
			name:    "an unknown shell in the defaults",
			src:     "defaults:\n  shell: cmd\nhosts:\n  hub1:\n    address: hub1.example\n",
			at:      "cmd",
			wantMsg: `shell "cmd": expected sh or powershell`,
		},
		{
			name:    "an unknown key in a host",
			src:     "hosts:\n  hub1:\n    address: hub1.example\n    adress: typo\n",
			at:      "adress",
			wantMsg: `unknown key "adress"`,
		},
		{
			name:    "an unknown key at the top level",
			src:     "hosts:\n  hub1:\n    address: hub1.example\nhostz: {}\n",
			at:      "hostz",
			wantMsg: `unknown key "hostz"`,
		},
		{
			name:    "a port that is not a number",
			src:     "hosts:\n  hub1:\n    address: hub1.example\n    port: ssh\n",
			at:      "ssh",
			wantMsg: "expected a whole number, found text",
		},
		{
			name:    "a jump to a host not in the inventory",
			src:     "hosts:\n  hub1:\n    address: hub1.example\n    jump: bastoin\n",
			at:      "bastoin",
			wantMsg: `jump host "bastoin" is not in the inventory`,
		},
		{
			name:    "a host that jumps through itself",
			src:     "hosts:\n  hub1:\n    address: hub1.example\n    jump: [hub1]\n",
			at:      "[hub1]",
			wantMsg: "cannot jump through itself",
		},
		{
			name:    "a service without a status command",
			src:     "hosts:\n  hub1:\n    address: hub1.example\n    services:\n      maestro: {start: a, stop: b}\n",
			at:      "maestro: {",
			wantMsg: "service maestro of host hub1 needs start, stop and status commands",
		},
		{
			name:    "a service in the defaults without a status command",
			src:     "defaults:\n  services:\n    maestro: {start: a, stop: b}\nhosts:\n  hub1:\n    address: hub1.example\n",
			at:      "maestro: {",
			wantMsg: "service maestro of host hub1 needs start, stop and status commands",
		},
		{
			name:    "a host name with a space",
			src:     "hosts:\n  hub one:\n    address: hub1.example\n",
			at:      "hub one",
			wantMsg: `host name "hub one"`,
		},
		{
			name:    "no hosts at all",
			src:     "defaults:\n  user: x\n",
			at:      "defaults",
			wantMsg: "no hosts",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := inventory.Parse("inv.yaml", []byte(tt.src))
			wantPos := posOf(t, "inv.yaml", tt.src, tt.at)
			requireError(t, err, wantPos, tt.wantMsg)
		})
	}
}

func TestJumpLoopIsReportedForEachHostInIt(t *testing.T) {
	src := strings.Join([]string{
		"hosts:",
		"  a:",
		"    address: a.example",
		"    jump: b",
		"  b:",
		"    address: b.example",
		"    jump: a",
		"",
	}, "\n")
	_, err := inventory.Parse("inv.yaml", []byte(src))
	requireError(t, err, "inv.yaml:4:11", "jump hosts form a loop: a -> b -> a")
	requireError(t, err, "inv.yaml:7:11", "jump hosts form a loop: b -> a -> b")
}

func TestErrorsAreAllReportedInFileOrder(t *testing.T) {
	src := strings.Join([]string{
		"hosts:",
		"  a:",
		"    address: a.example:22", // 3
		"  b:",
		"    address: b.example",
		"    port: 0x1ffff", // 6
		"    shell: zsh",    // 7
		"",
	}, "\n")
	_, err := inventory.Parse("inv.yaml", []byte(src))
	var l yamlpos.List
	if !errors.As(err, &l) {
		t.Fatalf("Parse = %T %v, want a yamlpos.List", err, err)
	}
	var got []string
	for _, e := range l {
		got = append(got, e.Pos.String())
	}
	want := []string{"inv.yaml:3:14", "inv.yaml:6:11", "inv.yaml:7:12"}
	if !slices.Equal(got, want) {
		t.Errorf("positions = %v, want %v\n%v", got, want, err)
	}
}

func TestAnInvalidDefaultIsReportedOnce(t *testing.T) {
	src := "defaults:\n  shell: cmd\nhosts:\n  a: {address: a.example}\n  b: {address: b.example}\n  c: {address: c.example}\n"
	_, err := inventory.Parse("inv.yaml", []byte(src))
	var l yamlpos.List
	if !errors.As(err, &l) {
		t.Fatalf("Parse = %T %v, want a yamlpos.List", err, err)
	}
	if len(l) != 1 || l[0].Error() != `inv.yaml:2:10: shell "cmd": expected sh or powershell` {
		t.Errorf("errors:\n%v\nwant one, at the default", err)
	}
}

func TestServiceErrorsAreInAStableOrder(t *testing.T) {
	src := "hosts:\n  a:\n    address: a.example\n    services:\n      zeta: {start: x}\n      alpha: {start: x}\n      mid: {start: x}\n"
	_, first := inventory.Parse("inv.yaml", []byte(src))
	if first == nil {
		t.Fatal("want errors for services without stop and status")
	}
	for range 20 {
		_, err := inventory.Parse("inv.yaml", []byte(src))
		if err.Error() != first.Error() {
			t.Fatalf("the same file gave errors in another order:\n%v\n---\n%v", first, err)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(file, []byte("hosts:\n  a:\n    address: a.example\n    identity: id\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(file)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := inv.Host("a").IdentityFiles; !slices.Equal(got, []string{filepath.Join(dir, "id")}) {
		t.Errorf("identity = %v", got)
	}
	if _, err := inventory.Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("Load of a missing file = %v, want an error naming it", err)
	}
}

func TestValidName(t *testing.T) {
	for _, ok := range []string{"hub1", "hub-1.example_2", "A"} {
		if err := inventory.ValidName(ok); err != nil {
			t.Errorf("ValidName(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "hub 1", "hub/1", "hub:1", "hüb"} {
		if err := inventory.ValidName(bad); err == nil {
			t.Errorf("ValidName(%q) = nil, want an error", bad)
		}
	}
}

func TestExpandPath(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	tests := []struct {
		name, in, want string
	}{
		{"a relative path joins the base", "keys/id", "/base/keys/id"},
		{"an absolute path stays", "/etc/id", "/etc/id"},
		{"~/ is the home folder", "~/.ssh/id", filepath.Join(home, ".ssh", "id")},
		{"~ alone is the home folder", "~", home},
		{"dot-dot climbs out of the base", "../id", "/id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := inventory.ExpandPath("/base", tt.in); got != tt.want {
				t.Errorf("ExpandPath(/base, %q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// posOf returns file:line:col of the first occurrence of needle in src, which must occur
// on exactly one line.
func posOf(t *testing.T, file, src, needle string) string {
	t.Helper()
	var found []string
	for i, l := range strings.Split(src, "\n") {
		if c := strings.Index(l, needle); c >= 0 {
			found = append(found, (yamlpos.Pos{File: file, Line: i + 1, Col: c + 1}).String())
		}
	}
	if len(found) != 1 {
		t.Fatalf("test bug: %q is on %d lines of the input", needle, len(found))
	}
	return found[0]
}

// requireError fails unless err holds a yamlpos error at pos whose message contains msg.
func requireError(t *testing.T, err error, pos, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s: ...%s...", pos, msg)
	}
	all := yamlpos.Errors(err)
	if len(all) == 0 {
		t.Fatalf("error %T %v has no position", err, err)
	}
	for _, e := range all {
		if e.Pos.String() == pos && strings.Contains(e.Msg, msg) {
			return
		}
	}
	t.Errorf("want an error at %s containing %q, got:\n%v", pos, msg, err)
}

func hostNames(hs []*probe.Host) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Name)
	}
	return out
}
