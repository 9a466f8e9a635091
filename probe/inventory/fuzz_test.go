package inventory_test

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/yamlpos"
)

// FuzzParseInventory: any input either loads into hosts that are safe to connect to, or fails
// with errors that carry the file name and a position; it never panics.
func FuzzParseInventory(f *testing.F) {
	f.Add(validInventory)
	f.Add("hosts:\n  a: {address: a.example, jump: b}\n  b: {address: b.example, jump: a}\n")
	f.Add("hosts:\n  hub1:\n    address: 10.0.0.1:2222\n    port: 70000\n    shell: bash\n")
	f.Add("defaults:\n  services:\n    m: {start: a}\nhosts:\n  x: {local: true}\n")
	f.Add("hosts:\n  a:\n")
	f.Add("hosts: [a]\n")
	f.Add("identity: [a, b]\nknown_hosts: k\nuser: u\nhosts:\n  a: {address: '[::1]', port: 22}\n")
	f.Fuzz(func(t *testing.T, src string) {
		inv, err := inventory.Parse("/inv/hosts.yaml", []byte(src))
		if err != nil {
			if len(yamlpos.Errors(err)) == 0 {
				// Errors below the YAML layer (none known) at least name the file.
				if !strings.Contains(err.Error(), "hosts.yaml") {
					t.Fatalf("error without file or position: %T %v", err, err)
				}
			}
			if _, again := inventory.Parse("/inv/hosts.yaml", []byte(src)); again == nil || again.Error() != err.Error() {
				t.Fatalf("the same input gave another result:\n%v\n---\n%v", err, again)
			}
			return
		}
		if len(inv.Hosts) == 0 {
			t.Fatal("an inventory without hosts was accepted")
		}
		seen := map[string]bool{}
		for _, h := range inv.Hosts {
			if inventory.ValidName(h.Name) != nil {
				t.Errorf("invalid host name %q accepted", h.Name)
			}
			seen[h.Name] = true
			if h.Address == "" && !h.Local {
				t.Errorf("host %s has no address", h.Name)
			}
			if h.Port < 1 || h.Port > 65535 {
				t.Errorf("host %s has port %d", h.Name, h.Port)
			}
			if h.Shell != "sh" && h.Shell != "powershell" {
				t.Errorf("host %s has shell %q", h.Name, h.Shell)
			}
			for name, s := range h.Services {
				if s.Start == "" || s.Stop == "" || s.Status == "" {
					t.Errorf("host %s: service %s lacks a command", h.Name, name)
				}
			}
			for _, p := range append(append([]string{}, h.KnownHosts...), h.IdentityFiles...) {
				if !strings.HasPrefix(p, "/") {
					t.Errorf("host %s: key file %q is not absolute", h.Name, p)
				}
			}
		}
		for _, h := range inv.Hosts {
			// Following jumps must end: no loops.
			depth := 0
			var walk func(name string, path []string)
			walk = func(name string, path []string) {
				depth++
				if depth > 10000 {
					t.Fatalf("jump hosts of %s do not end", h.Name)
				}
				for _, p := range path {
					if p == name {
						t.Fatalf("jump loop accepted: %v -> %s", path, name)
					}
				}
				j := inv.Host(name)
				if j == nil {
					t.Fatalf("jump host %s is not in the inventory", name)
				}
				for _, next := range j.Jump {
					walk(next.Name, append(path, name))
				}
			}
			walk(h.Name, nil)
		}
	})
}
