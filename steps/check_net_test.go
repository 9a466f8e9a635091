package steps

import (
	"context"
	"fmt"

	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/probe/lab/labtest"
	"github.com/cutover/cutover/probe/sshx"
)

// netLab is a practice lab of three hosts (a, b, c) for the network checks: b serves
// HTTP on its simulated port 80 and a plain TCP service on 5432; the simulated DNS has
// a shared name with two addresses.
type netLab struct {
	l     *lab.Lab
	inv   *inventory.Inventory
	pool  *probe.Pool
	facts map[string]*probe.Facts
}

func startNetLab(t *testing.T) *netLab {
	t.Helper()
	labtest.SkipShort(t)
	web := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "Maestro at %s\n", r.URL.Path)
	})
	host := func(name string, eps ...lab.Endpoint) lab.HostSpec {
		return lab.HostSpec{Name: name, Hostname: name + ".net.lab", InstallDir: "opt",
			Files: []lab.File{{Path: "opt/.keep"}}, Endpoints: eps}
	}
	sc := &lab.Scenario{Name: "nettest", Title: "network checks",
		Hosts: []lab.HostSpec{host("a"), host("b", lab.Endpoint{Name: "web", Port: 80, Handler: web}, lab.Endpoint{Name: "db", Port: 5432}), host("c")},
		DNS:   map[string][]string{"shared.net.lab": {"10.77.0.10", "10.77.0.12"}},
	}
	l, err := lab.Setup(t.TempDir(), sc, lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = l.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	inv, err := inventory.Load(l.Inventory())
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSH_AUTH_SOCK", "")
	pool := probe.NewPool(&sshx.Dialer{NoAgent: true})
	t.Cleanup(func() { pool.Close() })
	n := &netLab{l: l, inv: inv, pool: pool, facts: map[string]*probe.Facts{}}
	pr := &probe.Prober{Pool: pool}
	for _, f := range pr.ProbeAll(context.Background(), inv.Hosts) {
		if !f.Reachable {
			t.Fatalf("probe %s: %s", f.Name, f.Error)
		}
		n.facts[f.Name] = f
	}
	return n
}

// exec gives the view of step id with roles a, b, c bound to the lab's hosts.
func (n *netLab) exec(t *testing.T, rb *Runbook, id string) *stepExec {
	t.Helper()
	plan, err := Prepare(rb, n.inv.Host, Inputs{Roles: defaultRolesNet}, n.facts)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	x := plan.exec(rb.Step(id))
	x.runEnv.pool, x.runEnv.now, x.start = n.pool, time.Now, time.Now()
	return x
}

var defaultRolesNet = map[string]string{"a": "a", "b": "b", "c": "c"}

func TestProbeGivesEachLabHostItsOwnIdentity(t *testing.T) {
	n := startNetLab(t)
	a, b := n.facts["a"], n.facts["b"]
	if a.MachineID == "" || a.MachineID == b.MachineID {
		t.Errorf("machine ids %q and %q: each simulated host must have its own", a.MachineID, b.MachineID)
	}
	if a.HostKey == "" || a.HostKey == b.HostKey || !strings.HasPrefix(a.HostKey, "ssh-ed25519 SHA256:") {
		t.Errorf("host keys %q and %q", a.HostKey, b.HostKey)
	}
	if len(a.Addresses) != 1 || a.Addresses[0] != "10.77.0.10" || b.Addresses[0] != "10.77.0.11" {
		t.Errorf("addresses %v and %v, want 10.77.0.10 and 10.77.0.11", a.Addresses, b.Addresses)
	}
}

func TestHTTPCheckFromAHost(t *testing.T) {
	n := startNetLab(t)
	rb := testRunbook(t, `  - id: s
    title: web
    gates:
      - http: {from: a, url: "http://{{ roles.b.hostname }}/lui", contains: ["Maestro at /lui"]}
      - http: {from: a, url: "http://{{ roles.b.hostname }}/missing"}
      - http: {from: a, url: "http://{{ roles.b.hostname }}/missing", status: [404]}
      - http: {from: a, url: "http://10.77.0.11/hub"}
      - http: {from: a, url: "http://{{ roles.c.hostname }}/trk", timeout: 2s}
`)
	x := n.exec(t, rb, "s")
	r := evalGate(t, x, 0)
	wantStatus(t, r, Pass, "answers 200")
	evidenceHas(t, r, "a: GET http://b.net.lab/lui: 200 OK")
	wantStatus(t, evalGate(t, x, 1), Fail, "status 404")
	wantStatus(t, evalGate(t, x, 2), Pass)
	wantStatus(t, evalGate(t, x, 3), Pass)
	r = evalGate(t, x, 4)
	wantStatus(t, r, Fail, "did not answer")
	n.l.Block("a", "b")
	r = evalGate(t, x, 0)
	wantStatus(t, r, Fail, "did not answer")
	evidenceHas(t, r, "refused")
}

func TestDNSCheckResolvesOnTheHost(t *testing.T) {
	n := startNetLab(t)
	rb := testRunbook(t, `  - id: s
    title: dns
    gates:
      - dns: {from: a, name: "{{ roles.b.hostname }}", resolves_to: "{{ roles.b.addresses }}"}
      - dns: {from: a, name: shared.net.lab, count: 2}
      - dns: {from: a, name: shared.net.lab, count: 3}
      - dns: {from: a, name: nosuch.net.lab, resolves_to: 10.77.0.11}
      - dns: {from: c, name: "{{ roles.b.hostname }}", not_resolves_to: "{{ roles.b.addresses }}"}
`)
	x := n.exec(t, rb, "s")
	r := evalGate(t, x, 0)
	wantStatus(t, r, Pass, "b.net.lab resolves to 10.77.0.11")
	wantStatus(t, evalGate(t, x, 1), Pass)
	wantStatus(t, evalGate(t, x, 2), Fail, "2 addresses, want 3")
	wantStatus(t, evalGate(t, x, 3), Fail, "does not resolve")
	wantStatus(t, evalGate(t, x, 4), Fail, "still to 10.77.0.11")

	// A DNS change made on a host (lab-dns, as an administrator would) is what every
	// host sees next; a host with its own view (var/dns.zone) keeps it.
	if code, out, err := capture(context.Background(), mustConn(t, x, "a"), "lab-dns set b.net.lab 10.77.0.12"); err != nil || code != 0 {
		t.Fatalf("lab-dns: %d %s %v", code, out, err)
	}
	wantStatus(t, evalGate(t, x, 0), Fail, "not to any of 10.77.0.11")
	if err := os.WriteFile(filepath.Join(n.l.HostRoot("c"), "var", "dns.zone"), []byte("b.net.lab 10.77.0.11\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, evalGate(t, x, 4), Fail, "still to 10.77.0.11")
}

func mustConn(t *testing.T, x *stepExec, role string) probe.Transport {
	t.Helper()
	tr, _, err := x.conn(context.Background(), role)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestReachMatrixAndOutageVerdict(t *testing.T) {
	n := startNetLab(t)
	rb := testRunbook(t, `  - id: s
    title: reach
    gates:
      - reach: {from: [a, c], to: [b], ports: [80, 5432]}
      - reach: {from: [a], to: [b], ports: [25]}
      - outage: {target: b, from: [a, c], ports: [80]}
      - outage: {target: b, from: [a, c], ports: [80], expect: up}
`)
	x := n.exec(t, rb, "s")
	r := evalGate(t, x, 0)
	wantStatus(t, r, Pass, "all 4 connections open")
	evidenceHas(t, r, "a -> b.net.lab: 80 open, 5432 open")
	evidenceHas(t, r, "c -> b.net.lab: 80 open, 5432 open")
	r = evalGate(t, x, 1)
	wantStatus(t, r, Fail, "1 of 1 cannot connect: a->b.net.lab:25")
	evidenceHas(t, r, "25 REFUSED")

	wantStatus(t, evalGate(t, x, 2), Fail, "verdict up, not down")
	wantStatus(t, evalGate(t, x, 3), Pass)

	// The link between a and b is cut, c still reaches b: a partition, not an outage.
	n.l.Block("a", "b")
	r = evalGate(t, x, 2)
	wantStatus(t, r, Fail, "verdict partition", "c reach it, a cannot")
	r = evalGate(t, x, 0)
	wantStatus(t, r, Fail, "a->b.net.lab:80")
	// Nobody reaches b: down.
	n.l.Block("c", "b")
	r = evalGate(t, x, 2)
	wantStatus(t, r, Pass, "b is down: none of a, c reaches it")
	evidenceHas(t, r, "verdict: down")
}

func TestOutageHoldsForItsThreshold(t *testing.T) {
	n := startNetLab(t)
	rb := testRunbook(t, `  - id: s
    title: outage
    gates:
      - outage: {target: b, from: [a], ports: [80], hold: 1500ms, every: 300ms, timeout: 1s}
`)
	x := n.exec(t, rb, "s")
	n.l.Block("a", "b")
	t0 := time.Now()
	r := evalGate(t, x, 0)
	wantStatus(t, r, Pass, "held for")
	if el := time.Since(t0); el < 1500*time.Millisecond {
		t.Errorf("verdict given after %s, before the 1.5s threshold", el)
	}
	// The target comes back during the hold: the verdict is no longer "down".
	go func() { time.Sleep(400 * time.Millisecond); n.l.Unblock("a", "b") }()
	wantStatus(t, evalGate(t, x, 0), Fail, "verdict up")
}

func TestClockCheck(t *testing.T) {
	n := startNetLab(t)
	rb := testRunbook(t, `  - id: s
    title: clocks
    gates:
      - clock: {roles: [a, b, c], max_skew: 1s, same_timezone: true}
      - clock: {roles: [a, b], max_skew: 1ns}
`)
	x := n.exec(t, rb, "s")
	r := evalGate(t, x, 0)
	wantStatus(t, r, Pass, "clocks agree within")
	evidenceHas(t, r, "a: clock")
	evidenceHas(t, r, "largest difference")
	// The hosts share one real clock; a nanosecond bound fails on measurement noise,
	// which shows the bound is applied.
	wantStatus(t, evalGate(t, x, 1), Fail, "ahead of")
}

func TestClockCommandForPowerShell(t *testing.T) {
	got := clockCommand(&probe.Host{Shell: "powershell"})
	for _, want := range []string{"[DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds()", "InvariantCulture", "GetUtcOffset"} {
		if !strings.Contains(got, want) {
			t.Errorf("PowerShell clock command lacks %q: %s", want, got)
		}
	}
	if !strings.Contains(lookupCommand(&probe.Host{Shell: "powershell"}, "mx.example.com"), "Resolve-DnsName -Name 'mx.example.com' -Type A") {
		t.Errorf("PowerShell lookup command: %s", lookupCommand(&probe.Host{Shell: "powershell"}, "mx.example.com"))
	}
	if !strings.Contains(lookupCommand(&probe.Host{}, "mx.example.com"), "getent ahostsv4 mx.example.com") {
		t.Errorf("POSIX lookup command: %s", lookupCommand(&probe.Host{}, "mx.example.com"))
	}
}

func TestRTTTellsLANFromWAN(t *testing.T) {
	n := startNetLab(t)
	rb := testRunbook(t, `  - id: s
    title: rtt
    gates:
      - rtt: {from: a, to: b, port: 5432, max: 15ms}
`)
	x := n.exec(t, rb, "s")
	r := evalGate(t, x, 0)
	wantStatus(t, r, Pass, "round trip a -> b is")
	evidenceHas(t, r, "the SSH channel's own round trip")
	n.l.Delay("a", "b", 40*time.Millisecond)
	r = evalGate(t, x, 0)
	wantStatus(t, r, Fail, "not a LAN")
}

func TestDistinctMachines(t *testing.T) {
	n := startNetLab(t)
	rb := testRunbook(t, `  - id: s
    title: machines
    gates:
      - distinct_machines: {roles: [a, b, c]}
`)
	x := n.exec(t, rb, "s")
	wantStatus(t, evalGate(t, x, 0), Pass, "3 different machines")
	// Two inventory names for one machine: c is given a's identity.
	n.facts["c"].HostKey = n.facts["a"].HostKey
	x = n.exec(t, rb, "s")
	wantStatus(t, evalGate(t, x, 0), Fail, "a and c are the same machine (same host key)")
}

func TestFactsCheckReprobes(t *testing.T) {
	n := startNetLab(t)
	rb := testRunbook(t, `  - id: s
    title: facts
    gates:
      - facts: {roles: [a, b], that: 'roles.a.hostname != roles.b.hostname && roles.a.hostname endsWith ".net.lab"', because: the hosts have their own names}
      - facts: {roles: [a], that: '"ready" in roles.a.components', because: the component is installed}
`)
	x := n.exec(t, rb, "s")
	wantStatus(t, evalGate(t, x, 0), Pass, "the hosts have their own names")
	r := evalGate(t, x, 1)
	wantStatus(t, r, Fail, "not so: the component is installed")
	evidenceHas(t, r, "a: a.net.lab")
}
