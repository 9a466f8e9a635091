package steps

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/local"
)

// guardRunbook has a primary (a), a standby (b) and a third host (c), and parameters a
// site sets: how old a copy may be, and a path that must stay out of b's install folder.
func guardRunbook(t *testing.T, stepsYAML string) *Runbook {
	t.Helper()
	src := `id: test/guard
title: Guard test runbook
system: Test
source: the tests
roles:
  - {id: a, title: primary}
  - {id: b, title: standby}
  - {id: c, title: third host}
params:
  - {id: max_age, title: Oldest copy allowed, type: string, default: 10m}
  - {id: restore_dir, title: Restore folder, type: path, default: /var/tmp/restore}
  - {id: url, title: Service URL, type: string, default: "http://127.0.0.1:1/"}
steps:
` + stepsYAML
	rb, err := Parse("guard.yaml", []byte(src))
	if err != nil {
		t.Fatalf("runbook does not load: %v\n%s", err, src)
	}
	return rb
}

func TestAssertCheck(t *testing.T) {
	f := newFixture(t)
	rb := guardRunbook(t, `  - id: s
    title: assert
    gates:
      - assert:
          that: '!(params.restore_dir + "/" startsWith roles.b.install_dir + "/")'
          pass: the restore folder is outside the install folder
          fail: the restore folder is inside the install folder on the standby
`)
	x := f.exec(rb, "s", nil, nil)
	r := evalGate(t, x, 0)
	wantStatus(t, r, Pass, "outside the install folder")
	inside := f.hosts["h2"].InstallDir + "/tmp/restore"
	x = f.exec(rb, "s", nil, map[string]string{"restore_dir": inside})
	r = evalGate(t, x, 0)
	wantStatus(t, r, Fail, "inside the install folder on the standby")
	if !r.Final {
		t.Error("a false assertion cannot turn true by waiting, yet it is not final")
	}
	evidenceHas(t, r, ": false")

	for _, bad := range []string{
		"      - assert: {that: 'params.nothing', fail: x}\n",
		"      - assert: {that: 'true'}\n",
		"      - assert: {fail: x}\n",
	} {
		if _, err := Parse("bad.yaml", []byte(strings.Replace(`id: test/bad
title: Bad
system: Test
source: the tests
steps:
  - id: s
    title: S
    gates:
GATE`, "GATE", bad, 1))); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestFileAgeCheck(t *testing.T) {
	f := newFixture(t)
	rb := guardRunbook(t, `  - id: s
    title: age
    gates:
      - file_age: {role: b, path: sync/last-sync, max_age: "{{ params.max_age }}", contains: ['(?i)completed']}
      - file_age: {role: b, path: sync/none, max_age: 1h}
      - file_age: {role: b, path: sync, max_age: 1h}
`)
	f.write("h2", "sync/last-sync", "2026-01-01 10:00:00 sync started\n2026-01-01 10:00:09 sync completed: a -> b, 42 files\n")
	x := f.exec(rb, "s", nil, nil)
	r := evalGate(t, x, 0)
	wantStatus(t, r, Pass, "at most 10m0s")
	evidenceHas(t, r, "line 2: 2026-01-01 10:00:09 sync completed")

	f.chtime("h2", "sync/last-sync", time.Now().Add(-3*time.Hour))
	r = evalGate(t, x, 0)
	wantStatus(t, r, Fail, "last modified 3h0m0s ago, more than 10m0s")
	// The limit is the site's: a larger one passes.
	x = f.exec(rb, "s", nil, map[string]string{"max_age": "4h"})
	wantStatus(t, evalGate(t, x, 0), Pass)
	f.write("h2", "sync/last-sync", "sync FAILED: connection refused\n")
	wantStatus(t, evalGate(t, x, 0), Fail, "no line matches /(?i)completed/")

	wantStatus(t, evalGate(t, x, 1), Fail, "does not exist")
	wantStatus(t, evalGate(t, x, 2), Fail, "is a folder")

	// A template that does not render to a duration is an error of the run, not a pass.
	x = f.exec(rb, "s", nil, map[string]string{"max_age": "soon"})
	wantStatus(t, evalGate(t, x, 0), Error, "invalid duration")
	// A literal one is refused when the runbook loads.
	if _, err := Parse("bad.yaml", []byte(`id: test/bad
title: Bad
system: Test
source: the tests
roles: [{id: a, title: A}]
steps:
  - id: s
    title: S
    gates:
      - file_age: {role: a, path: x, max_age: soon}
`)); err == nil || !strings.Contains(err.Error(), "bad.yaml:10:") || !strings.Contains(err.Error(), "invalid duration") {
		t.Errorf("a bad literal max_age: %v", err)
	}
}

// TestProvenStopped: the split-brain guard passes only when the host says stopped and
// no vantage point gets an answer; anything it cannot tell counts as running.
func TestProvenStopped(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.NotFound(w, r) // an error page is an answer: something serves there
	}))
	defer srv.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL + "/lui/"
	closed.Close()
	rb := guardRunbook(t, `  - id: s
    title: guard
    gates:
      - proven_stopped: {role: a, service: svc, from: [a, b, c], urls: ["{{ params.url }}"], timeout: 2s}
`)
	x := f.exec(rb, "s", nil, map[string]string{"url": closedURL})
	f.setRunning("h1", false)
	r := evalGate(t, x, 0)
	wantStatus(t, r, Pass, "svc is proven stopped on h1")
	evidenceHas(t, r, "(exit 3: stopped)")
	evidenceHas(t, r, "h3 -> "+closedURL+": no answer")
	evidenceHas(t, r, "verdict: proven stopped")

	// The status command says it runs.
	f.setRunning("h1", true)
	r = evalGate(t, x, 0)
	wantStatus(t, r, Fail, "svc may still run on h1: its status command says svc runs")
	evidenceHas(t, r, "verdict: MAY BE RUNNING")
	f.setRunning("h1", false)

	// Stopped by its own account, yet something answers on its URL.
	x = f.exec(rb, "s", nil, map[string]string{"url": srv.URL + "/lui/"})
	r = evalGate(t, x, 0)
	wantStatus(t, r, Fail, "h2 gets an answer from "+srv.URL+"/lui/")
	evidenceHas(t, r, "ANSWERS 404 Not Found")

	// Unknowns count as running: a status command that exits 1, a host that does not
	// answer over SSH, a vantage point that cannot be asked.
	x = f.exec(rb, "s", nil, map[string]string{"url": closedURL})
	f.hosts["h1"].Services["svc"] = probe.Service{Status: "exit 1"}
	wantStatus(t, evalGate(t, x, 0), Fail, "its status cannot be read (unknown counts as running)")
	f.hosts["h1"].Services["svc"] = probe.Service{Status: "exit 3"}
	wantStatus(t, evalGate(t, x, 0), Pass)

	withDown := func(down string) {
		pool := probe.NewPool(probe.DialerFunc(func(_ context.Context, h *probe.Host) (probe.Transport, error) {
			if h.Name == down {
				return nil, &probe.UnreachableError{Host: h.Name, Addr: h.Name + ":22", Err: errors.New("connection timed out")}
			}
			return &local.Transport{Dir: h.InstallDir}, nil
		}))
		t.Cleanup(func() { pool.Close() })
		x.runEnv.pool = pool
	}
	withDown("h1")
	r = evalGate(t, x, 0)
	wantStatus(t, r, Fail, "its status cannot be read (unknown counts as running)", "h1 could not be asked")
	evidenceHas(t, r, "h1: not reachable over SSH, status unknown")
	if r.Unreachable {
		t.Error("the guard reports an unreachable primary as a refusal, not as a host it could not reach")
	}
	withDown("h3")
	wantStatus(t, evalGate(t, x, 0), Fail, "h3 could not be asked (unknown counts as running)")

	// A primary confirmed switched off: unreachable over SSH counts as stopped, but only
	// while every vantage point is asked and none gets an answer.
	off := guardRunbook(t, `  - id: s
    title: guard
    gates:
      - proven_stopped: {role: a, service: svc, from: [b, c], urls: ["{{ params.url }}"], timeout: 2s, if_unreachable: stopped-if-silent}
`)
	x = f.exec(off, "s", nil, map[string]string{"url": closedURL})
	withDown("h1")
	r = evalGate(t, x, 0)
	wantStatus(t, r, Pass, "proven stopped")
	evidenceHas(t, r, "h1: not reachable over SSH")
	x = f.exec(off, "s", nil, map[string]string{"url": srv.URL + "/lui/"})
	withDown("h1")
	wantStatus(t, evalGate(t, x, 0), Fail, "it does not answer over SSH, and it is not silent to every vantage point")
}

// TestOutageHoldFromAParameter: the outage threshold is the site's, given as a parameter.
func TestOutageHoldFromAParameter(t *testing.T) {
	n := startNetLab(t)
	src := `id: test/hold
title: Hold
system: Test
source: the tests
roles: [{id: a, title: A}, {id: b, title: B}, {id: c, title: C}]
params:
  - {id: threshold, title: Outage threshold, type: string, default: 1s}
steps:
  - id: s
    title: outage
    gates:
      - outage: {target: b, from: [a, c], ports: [80], hold: "{{ params.threshold }}", every: 200ms}
`
	rb, err := Parse("hold.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	n.l.Block("a", "b")
	n.l.Block("c", "b")
	x := n.exec(t, rb, "s")
	if d := rb.Step("s").Gates[0].Spec.describe(x); !strings.Contains(d, "for 1s") {
		t.Errorf("describe: %s", d)
	}
	t0 := time.Now()
	r := evalGate(t, x, 0)
	wantStatus(t, r, Pass, "held for")
	if el := time.Since(t0); el < time.Second {
		t.Errorf("verdict after %s, before the 1s threshold", el)
	}
	plan, err := Prepare(rb, n.inv.Host, Inputs{Roles: defaultRolesNet, Params: map[string]string{"threshold": "a while"}}, n.facts)
	if err != nil {
		t.Fatal(err)
	}
	x = plan.exec(rb.Step("s"))
	x.runEnv.pool, x.runEnv.now = n.pool, time.Now
	wantStatus(t, evalGate(t, x, 0), Error, "hold: invalid duration")
	_, err = Parse("hold.yaml", []byte(strings.Replace(src, `"{{ params.threshold }}"`, "forever", 1)))
	if err == nil || !strings.Contains(err.Error(), "hold: invalid duration") {
		t.Errorf("a bad literal hold: %v", err)
	}
}
