package lab_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe/lab"
)

// TestEndpointsKnowTheirHostAndNamesRouteByDNS: a handler learns which host it serves
// (and can forward through the simulated network as that host); a connection to a name
// goes where the simulated DNS points the name, as the connecting host sees it.
func TestEndpointsKnowTheirHostAndNamesRouteByDNS(t *testing.T) {
	// Every web endpoint says which host it runs on; /fwd/NAME on "front" forwards to
	// http://NAME/ as the front host would connect.
	web := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := lab.ServingOf(r)
		if s == nil {
			http.Error(w, "not served by the lab", 500)
			return
		}
		if target, ok := strings.CutPrefix(r.URL.Path, "/fwd/"); ok {
			c := &http.Client{Transport: &http.Transport{DialContext: s.Dial}}
			resp, err := c.Get("http://" + target + "/")
			if err != nil {
				http.Error(w, "forward: "+err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			fmt.Fprintf(w, "%s via %s", b, s.Host.Name)
			return
		}
		_, err := os.Stat(filepath.Join(s.Host.Root, "up"))
		fmt.Fprintf(w, "%s (%s, port %d, up %v)", s.Host.Name, s.Name, s.Port, err == nil)
	})
	host := func(name string) lab.HostSpec {
		return lab.HostSpec{Name: name, Hostname: name + ".dns.lab", Files: []lab.File{{Path: "up"}},
			Endpoints: []lab.Endpoint{{Name: "web", Port: 80, Handler: web}}}
	}
	sc := &lab.Scenario{Name: "dnsroute", Hosts: []lab.HostSpec{host("front"), host("blue"), host("green"), {Name: "client"}},
		DNS: map[string][]string{"www.example.org": {"10.77.0.11"}, "away.example.org": {"192.0.2.7"}}}
	l := serveScenario(t, t.TempDir(), sc, lab.Options{})
	c := dialHost(t, l, "client")
	get := func(url string) string {
		t.Helper()
		body, err := httpVia(c, url)
		if err != nil {
			return "error: " + err.Error()
		}
		return body
	}

	if got := get("http://green.dns.lab/"); got != "green (web, port 80, up true)" {
		t.Errorf("green: %q", got)
	}
	// www.example.org is blue's address in the zone.
	if got := get("http://www.example.org/"); got != "blue (web, port 80, up true)" {
		t.Errorf("www before the change: %q", got)
	}
	// Re-pointing the name (as a DNS administrator would) re-routes the traffic.
	if out, code := run(t, c, "lab-dns set www.example.org 10.77.0.12"); code != 0 {
		t.Fatalf("lab-dns: %d %s", code, out)
	}
	if got := get("http://www.example.org/"); got != "green (web, port 80, up true)" {
		t.Errorf("www after the change: %q", got)
	}
	// A host with a view of its own (a stale resolver) still goes to the old address.
	if err := os.WriteFile(filepath.Join(l.HostRoot("client"), "var", "dns.zone"), []byte("www.example.org 10.77.0.11\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := get("http://www.example.org/"); got != "blue (web, port 80, up true)" {
		t.Errorf("www through the stale view: %q", got)
	}
	os.Remove(filepath.Join(l.HostRoot("client"), "var", "dns.zone"))
	// A name that points outside the simulated network is refused, never dialled.
	if got := get("http://away.example.org/"); !strings.Contains(got, "outside the simulated network") {
		t.Errorf("away: %q", got)
	}
	// A handler forwards as its host: the partition front -> green applies to it.
	if got := get("http://front.dns.lab/fwd/green.dns.lab"); got != "green (web, port 80, up true) via front" {
		t.Errorf("forward: %q", got)
	}
	l.Block("front", "green")
	if got := get("http://front.dns.lab/fwd/green.dns.lab"); !strings.Contains(got, "refused") {
		t.Errorf("forward across a cut link: %q", got)
	}
	// The real loopback address of an endpoint works too, and the handler still knows its host.
	if body, err := httpVia(c, "http://"+l.Endpoint("blue", "web")+"/"); err != nil || !strings.HasPrefix(body, "blue ") {
		t.Errorf("blue by its real address: %q %v", body, err)
	}
	if _, err := net.Dial("tcp", l.Endpoint("front", "web")); err != nil {
		t.Errorf("the endpoint does not listen: %v", err)
	}
}

// TestStoppedEndpointRefuses: while an endpoint's Listening says no (its simulated
// service is stopped), connections to it through the simulated network are refused, by
// name and by its real address, as a stopped server's port refuses them.
func TestStoppedEndpointRefuses(t *testing.T) {
	web := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "up") })
	listening := func(h lab.HostData) bool {
		_, err := os.Stat(filepath.Join(h.Root, "running"))
		return err == nil
	}
	sc := &lab.Scenario{Name: "stopped", Hosts: []lab.HostSpec{
		{Name: "srv", Hostname: "srv.lab", Endpoints: []lab.Endpoint{{Name: "web", Port: 80, Handler: web, Listening: listening}}},
		{Name: "client"},
	}}
	l := serveScenario(t, t.TempDir(), sc, lab.Options{})
	c := dialHost(t, l, "client")
	for _, url := range []string{"http://srv.lab/", "http://" + l.Endpoint("srv", "web") + "/"} {
		if body, err := httpVia(c, url); err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "stopped") {
			t.Errorf("%s while stopped: %q, %v; want a refusal", url, body, err)
		}
	}
	if err := os.WriteFile(filepath.Join(l.HostRoot("srv"), "running"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if body, err := httpVia(c, "http://srv.lab/"); err != nil || body != "up" {
		t.Errorf("while running: %q, %v", body, err)
	}
}
