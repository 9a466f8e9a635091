package lab_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/probe/sshx"
)

// TestAliasHost: an inventory entry re-pointed at another host, and a new name added
// for it, both reach that host's machine: its name, host key and machine identity.
func TestAliasHost(t *testing.T) {
	l := serve(t, t.TempDir(), lab.Options{})
	if err := l.AliasHost("b", "a", map[string]string{"site": "west", "lock": "b.lock"}); err != nil {
		t.Fatal(err)
	}
	if err := l.AliasHost("a-again", "a", nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, of string }{{"a", "a"}, {"x", "nosuch"}, {"bad name!", "a"}} {
		if err := l.AliasHost(tc.name, tc.of, nil); err == nil {
			t.Errorf("AliasHost(%q, %q) succeeded", tc.name, tc.of)
		}
	}
	inv, err := inventory.Load(l.Inventory())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(inv.Names(), ","); got != "a,b,a-again" {
		t.Errorf("inventory hosts %s, want a,b,a-again", got)
	}
	a, b := inv.Host("a"), inv.Host("b")
	if b.Port != a.Port || b.InstallDir != a.InstallDir || b.Port != l.Port("a") {
		t.Errorf("b is %s:%d %s, want a's %s:%d %s", b.Address, b.Port, b.InstallDir, a.Address, a.Port, a.InstallDir)
	}
	if b.Vars["site"] != "west" || b.Vars["lock"] != "b.lock" || b.Vars["role"] != "hub: primary" || a.Vars["site"] != "east" {
		t.Errorf("vars: a %v, b %v", a.Vars, b.Vars)
	}
	if _, ok := b.Services["app"]; !ok {
		t.Errorf("the alias lost a's services: %v", b.Services)
	}

	for _, h := range inv.Hosts {
		h.Services = nil // the test scenario's status command is not what this test is about
	}
	pool := probe.NewPool(&sshx.Dialer{NoAgent: true})
	defer pool.Close()
	facts := (&probe.Prober{Pool: pool}).ProbeAll(context.Background(), inv.Hosts)
	for _, f := range facts {
		if !f.Reachable {
			t.Fatalf("%s: %s", f.Name, f.Error)
		}
		if f.Hostname != "alpha.example" || f.HostKey != facts[0].HostKey || f.MachineID != facts[0].MachineID {
			t.Errorf("%s: hostname %s, key %s, machine %s; want a's %s, %s, %s", f.Name, f.Hostname, f.HostKey, f.MachineID,
				facts[0].Hostname, facts[0].HostKey, facts[0].MachineID)
		}
	}
}
