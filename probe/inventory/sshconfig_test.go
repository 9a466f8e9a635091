package inventory_test

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/yamlpos"
)

// TestSSHConfigAgrees: an ssh_config file given as the inventory yields the connection
// settings of the same hosts in cutover's YAML.
func TestSSHConfigAgrees(t *testing.T) {
	isolate(t)
	want := load(t, "testdata/site.yaml")
	got := load(t, "testdata/site.ssh_config")
	if !slices.Equal(got.Names(), want.Names()) {
		t.Fatalf("hosts %v, want %v", got.Names(), want.Names())
	}
	for _, wh := range want.Hosts {
		gv, wv := view(got.Host(wh.Name)), view(wh)
		// ssh_config has no install folders, services, variables or groups.
		wv.InstallDir, wv.Services, wv.Vars, wv.Groups = "", gv.Services, gv.Vars, nil
		gv.Groups = nil
		if !reflectEqual(gv, wv) {
			t.Errorf("host %s:\n got  %+v\n want %+v", wh.Name, gv, wv)
		}
	}
}

func reflectEqual(a, b hostView) bool {
	return a.Name == b.Name && a.Address == b.Address && a.User == b.User && a.Port == b.Port && a.Shell == b.Shell &&
		slices.Equal(a.IdentityFiles, b.IdentityFiles) && slices.Equal(a.KnownHosts, b.KnownHosts) && slices.Equal(a.Jump, b.Jump)
}

// TestSSHAliases: "ssh:a,b" resolves aliases through ~/.ssh/config, including Include,
// patterns, ProxyJump chains (a jump host's own jump first) and ProxyCommand ssh -W.
func TestSSHAliases(t *testing.T) {
	home := isolate(t)
	writeFile(t, filepath.Join(home, ".ssh", "config"), `Include conf.d/*.conf
Host inner
  HostName 10.1.0.5
  ProxyJump outer
Host outer
  HostName outer.example.com
  User jumper
  ProxyCommand ssh -q -W %h:%p -p 2022 edge.example.com
Host app
  HostName %h.internal
  ProxyJump admin@inner:2201
  IdentityFile %d/.ssh/id_%n
Host *.internal !nope.internal
  Port 2299
`)
	writeFile(t, filepath.Join(home, ".ssh", "conf.d", "x.conf"), "Host web\n  HostName 10.2.0.1\n  User www\n")
	inv, err := inventory.Load("ssh:app,web")
	if err != nil {
		t.Fatal(err)
	}
	if got := inv.Names(); !slices.Equal(got, []string{"app", "web"}) {
		t.Fatalf("hosts %v", got)
	}
	app := inv.Host("app")
	if app.Address != "app.internal" || app.Port != 22 {
		// "Host *.internal" matches the alias, not the HostName: app is not *.internal.
		t.Errorf("app = %s, want app.internal:22", app.Addr())
	}
	if !slices.Equal(app.IdentityFiles, []string{filepath.Join(home, ".ssh", "id_app")}) {
		t.Errorf("identity = %v", app.IdentityFiles)
	}
	var chain []string
	for _, j := range app.Jump {
		chain = append(chain, j.User+"@"+j.Addr())
	}
	if want := []string{"@edge.example.com:2022", "jumper@outer.example.com:22", "admin@10.1.0.5:2201"}; !slices.Equal(chain, want) {
		t.Errorf("jump chain = %v, want %v", chain, want)
	}
	if w := inv.Host("web"); w.Address != "10.2.0.1" || w.User != "www" {
		t.Errorf("web (from an Include) = %s@%s", w.User, w.Addr())
	}
	if inv.File != "ssh:app,web" || inv.Digest == "" {
		t.Errorf("File %q Digest %q", inv.File, inv.Digest)
	}
}

func TestSSHConfigErrors(t *testing.T) {
	home := isolate(t)
	for _, c := range []struct {
		name, text string
		want       []string
	}{
		{"values", `Host a
  Port 99999
Host b
  ProxyCommand nc %h %p
Host c
  ProxyJump x@:22
Host d
  HostName d
  ProxyJump d
`, []string{"config:2:", `Port "99999" for a`, "config:4:", "ProxyCommand for b", "config:6:", "ProxyJump for c", "host d jumps through itself"}},
		{"syntax", "Host a\n  Match exec true\n", []string{"config:2:", "Match Exec is not supported"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(home, ".ssh", "config")
			writeFile(t, file, c.text)
			_, err := inventory.Load(file)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			var ye *yamlpos.Error
			if !errors.As(err, &ye) {
				t.Errorf("error %T carries no position", err)
			}
			msg := strings.ReplaceAll(err.Error(), filepath.Join(home, ".ssh")+"/", "")
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
		})
	}
	if _, err := inventory.Load("ssh:"); err == nil || !strings.Contains(err.Error(), "ssh:ALIAS") {
		t.Errorf("empty alias list: %v", err)
	}
}

// TestSystemMatchBlocksAreSkipped: Fedora and RHEL ship "Match final all" in
// /etc/ssh/ssh_config.d/50-redhat.conf. In the system-wide files a Match block cutover
// cannot evaluate is skipped; in the user's own files it stays a file:line error.
func TestSystemMatchBlocksAreSkipped(t *testing.T) {
	home := isolate(t)
	etc := t.TempDir()
	sys := filepath.Join(etc, "ssh_config")
	inventory.SetSystemSSHConfig(t, sys)
	writeFile(t, sys, "Include "+filepath.Join(etc, "ssh_config.d", "*.conf")+"\nHost *\n  SendEnv LANG\n")
	writeFile(t, filepath.Join(etc, "ssh_config.d", "50-redhat.conf"), `# as shipped by Fedora
Match final all
	Include /etc/crypto-policies/back-ends/openssh.config
	GSSAPIAuthentication yes
	User wrong
Match canonical host *
	Port 1
Host *
	User sysuser
`)
	inv, err := inventory.Load("ssh:hub1")
	if err != nil {
		t.Fatal(err)
	}
	if h := inv.Host("hub1"); h.User != "sysuser" || h.Port != 22 {
		t.Errorf("hub1 = %s@%s, want sysuser@hub1:22 (the Match blocks skipped, the Host * after them read)", h.User, h.Addr())
	}
	file := filepath.Join(t.TempDir(), "inv.ini")
	writeFile(t, file, "hub1\n")
	if inv := load(t, file); inv.Host("hub1").User != "sysuser" {
		t.Errorf("Ansible host hub1 user = %q, want sysuser", inv.Host("hub1").User)
	}

	writeFile(t, filepath.Join(home, ".ssh", "config"), "Host hub1\n  HostName 10.0.0.1\nMatch final all\n  User me\n")
	for _, src := range []string{"ssh:hub1", filepath.Join(home, ".ssh", "config")} {
		_, err := inventory.Load(src)
		if err == nil || !strings.Contains(err.Error(), filepath.Join(home, ".ssh", "config")+":3:") ||
			!strings.Contains(err.Error(), `unsupported Match criterion "final"`) {
			t.Errorf("Load(%s) = %v, want config:3: unsupported Match criterion", src, err)
		}
	}
}

// TestSSHDigestCoversIncludes: the digest of ssh:ALIAS changes with an included file.
func TestSSHDigestCoversIncludes(t *testing.T) {
	home := isolate(t)
	inventory.SetSystemSSHConfig(t, filepath.Join(t.TempDir(), "none"))
	writeFile(t, filepath.Join(home, ".ssh", "config"), "Include conf.d/*.conf\n")
	inc := filepath.Join(home, ".ssh", "conf.d", "web.conf")
	writeFile(t, inc, "Host web\n  HostName 10.2.0.1\n")
	digest := func() string {
		inv, err := inventory.Load("ssh:web")
		if err != nil {
			t.Fatal(err)
		}
		return inv.Digest
	}
	before := digest()
	writeFile(t, inc, "Host web\n  HostName 10.2.0.2\n")
	if digest() == before {
		t.Error("changing an included file left the digest as it was")
	}
}

// TestProxyJumpOrProxyCommandFirstWins: OpenSSH takes whichever of ProxyJump and
// ProxyCommand it reads first and ignores the other, "none" included.
func TestProxyJumpOrProxyCommandFirstWins(t *testing.T) {
	home := isolate(t)
	inventory.SetSystemSSHConfig(t, filepath.Join(t.TempDir(), "none"))
	writeFile(t, filepath.Join(home, ".ssh", "config"), `Host viacmd
  ProxyCommand ssh -W %h:%p cmdjump
Host direct
  ProxyCommand none
Host viajump
  ProxyJump jumpjump
Host via* direct
  ProxyJump starjump
  ProxyCommand ssh -W %h:%p starcmd
`)
	inv, err := inventory.Load("ssh:viacmd,direct,viajump")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"viacmd": "cmdjump", "direct": "", "viajump": "jumpjump"} {
		var got []string
		for _, j := range inv.Host(name).Jump {
			got = append(got, j.Address)
		}
		if strings.Join(got, ",") != want {
			t.Errorf("%s jumps through %v, want %q", name, got, want)
		}
	}
}

// TestLastHostLineHasItsLine: a Host line with nothing under it, at the end of the file,
// is still reported at its own line.
func TestLastHostLineHasItsLine(t *testing.T) {
	home := isolate(t)
	file := filepath.Join(home, "hosts.conf")
	writeFile(t, file, "Host good\n  HostName 10.0.0.1\n\n# a comment\nHost bad,name\n")
	_, err := inventory.Load(file)
	if err == nil || !strings.Contains(err.Error(), file+":5:") {
		t.Errorf("err = %v, want it at %s:5", err, file)
	}
}
