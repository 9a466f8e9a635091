package steps

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/local"
)

// dialTransport is a local transport whose TCP connections fail with err when dial
// returns one: a vantage host whose name lookup fails, whose sshd refuses to forward.
type dialTransport struct {
	probe.Transport
	dial func(ctx context.Context, addr string) (net.Conn, error)
}

func (d *dialTransport) DialTCP(ctx context.Context, addr string) (net.Conn, error) {
	if d.dial != nil {
		return d.dial(ctx, addr)
	}
	return d.Transport.DialTCP(ctx, addr)
}

// guardPool reaches h2 and h3 through local transports whose connections open with
// dial (nil: really), and h1 not at all (a primary switched off).
func guardPool(t *testing.T, dial func(ctx context.Context, addr string) (net.Conn, error)) *probe.Pool {
	pool := probe.NewPool(probe.DialerFunc(func(_ context.Context, h *probe.Host) (probe.Transport, error) {
		if h.Name == "h1" {
			return nil, &probe.UnreachableError{Host: h.Name, Addr: h.Name + ":22", Err: errors.New("connection timed out")}
		}
		return &dialTransport{Transport: &local.Transport{Dir: h.InstallDir}, dial: dial}, nil
	}))
	t.Cleanup(func() { pool.Close() })
	return pool
}

func failWith(err error) func(context.Context, string) (net.Conn, error) {
	return func(context.Context, string) (net.Conn, error) { return nil, err }
}

// closedURL is a URL on 127.0.0.1 whose port refuses connections.
// listener accepts connections on loopback until the test ends: closing each at once
// without a byte (drop), or keeping it open and silent.
func listener(t *testing.T, drop bool) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if drop {
				c.Close()
			} else {
				held = append(held, c)
			}
		}
	}()
	return ln
}

func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String() + "/lui/"
	ln.Close()
	return u
}

// TestGuardSilenceIsOnlyARefusalOrATimeout: with a primary that does not answer over
// SSH (stopped-if-silent), the guard counts a URL as silent only when its connection
// was refused or had not opened in time. A name that does not resolve, a forwarding
// the vantage host's sshd prohibits, a URL with no host, a connection accepted and then
// left without an answer: each is a refusal of the guard, never a pass.
func TestGuardSilenceIsOnlyARefusalOrATimeout(t *testing.T) {
	f := newFixture(t)
	rb := guardRunbook(t, `  - id: s
    title: guard
    gates:
      - proven_stopped: {role: a, service: svc, from: [b, c], urls: ["{{ params.url == 'none' ? '' : params.url }}"], timeout: 500ms, if_unreachable: stopped-if-silent}
`)
	closed := closedURL(t)
	// Accepts connections and never answers: an HTTP timeout after the TCP connection
	// opened.
	hang := listener(t, false)
	// Accepts and closes at once, without a byte.
	drop := listener(t, true)

	tests := []struct {
		name     string
		url      string
		dial     func(context.Context, string) (net.Conn, error)
		want     Status
		summary  string
		evidence string
	}{
		{"refused", closed, nil, Pass, "every connection refused or timed out", "no answer (REFUSED)"},
		{"connect timeout", "http://10.255.255.1/lui/", func(ctx context.Context, _ string) (net.Conn, error) {
			<-ctx.Done()
			return nil, fmt.Errorf("h2 (local): connecting from the host: %w", ctx.Err())
		}, Pass, "", "no answer (TIMEOUT)"},
		{"refused over SSH", "http://10.77.1.10/lui/", failWith(errors.New("h2 (127.0.0.1:2201): connecting to 10.77.1.10:80 from the host: ssh: rejected: connect failed (Connection refused)")),
			Pass, "", "no answer (REFUSED)"},
		{"name does not resolve", "http://primary.example.invalid/lui/", failWith(&net.OpError{Op: "dial", Net: "tcp",
			Err: &net.DNSError{Err: "no such host", Name: "primary.example.invalid", IsNotFound: true}}),
			Fail, "cannot tell whether", "CANNOT TELL (NO-SUCH-HOST)"},
		{"name lookup times out", "http://primary.example.org/lui/", failWith(&net.OpError{Op: "dial", Net: "tcp",
			Err: &net.DNSError{Err: "i/o timeout", Name: "primary.example.org", IsTimeout: true}}),
			Fail, "cannot tell whether", "CANNOT TELL"},
		{"name does not resolve over SSH", "http://primary.example.invalid/lui/", failWith(errors.New("h2 (127.0.0.1:2201): connecting to primary.example.invalid:80 from the host: ssh: rejected: connect failed (Name or service not known)")),
			Fail, "cannot tell whether", "CANNOT TELL (NO-SUCH-HOST)"},
		{"forwarding prohibited", "http://10.77.1.10/lui/", failWith(errors.New("h2 (127.0.0.1:2201): connecting to 10.77.1.10:80 from the host: ssh: rejected: administratively prohibited (open failed)")),
			Fail, "cannot tell whether", "CANNOT TELL (PROHIBITED)"},
		{"no route (a switched-off machine on the same network)", "http://10.77.1.10/lui/", failWith(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.EHOSTUNREACH)}),
			Pass, "", "no answer (NO ROUTE)"},
		{"empty host", "http://:80/lui/", nil, Fail, "cannot tell whether", "names no host"},
		{"no address known", "http://<primary.addresses>:80/lui/", nil, Fail, "cannot tell whether", "names no host that can be tried"},
		{"HTTP timeout after the connection opened", "http://" + hang.Addr().String() + "/lui/", nil, Fail, "gets an answer from", "ANSWERS: the connection opened"},
		{"accepted and closed at once", "http://" + drop.Addr().String() + "/lui/", nil, Fail, "gets an answer from", "ACCEPTS the connection"},
		{"one URL per address, one of them answers", closed + " http://" + hang.Addr().String() + "/trk/", nil, Fail, "gets an answer from", "no answer (REFUSED)"},
		{"no URL at all", "none", nil, Fail, "no URL to try", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Each case waits out its own timeout; they share only read-only state.
			t.Parallel()
			x := f.exec(rb, "s", nil, map[string]string{"url": tc.url})
			x.runEnv.pool = guardPool(t, tc.dial)
			r := evalGate(t, x, 0)
			wantStatus(t, r, tc.want, tc.summary)
			if tc.evidence != "" {
				evidenceHas(t, r, tc.evidence)
			}
			if tc.want == Fail {
				evidenceHas(t, r, "verdict: MAY BE RUNNING")
			}
		})
	}
}

// TestGuardPassSaysWhatWasSeen: a pass on a primary whose status could not be read does
// not claim that its status says stopped; a pass on a readable status does.
func TestGuardPassSaysWhatWasSeen(t *testing.T) {
	f := newFixture(t)
	rb := guardRunbook(t, `  - id: s
    title: guard
    gates:
      - proven_stopped: {role: a, service: svc, from: [b, c], urls: ["{{ params.url }}"], timeout: 2s, if_unreachable: stopped-if-silent}
`)
	x := f.exec(rb, "s", nil, map[string]string{"url": closedURL(t)})
	f.setRunning("h1", false)
	r := evalGate(t, x, 0)
	wantStatus(t, r, Pass, "its status says stopped")
	evidenceHas(t, r, "(exit 3: stopped)")

	x.runEnv.pool = guardPool(t, nil)
	r = evalGate(t, x, 0)
	wantStatus(t, r, Pass, "it does not answer over SSH (its status could not be read)", "every connection refused or timed out")
	if strings.Contains(r.Summary, "status says stopped") {
		t.Errorf("the summary claims a status it never read: %s", r.Summary)
	}
	if d := rb.Step("s").Gates[0].Spec.describe(x); !strings.Contains(d, "does not answer over SSH and every connection") {
		t.Errorf("describe of the silent variant: %s", d)
	}
}

// TestGuardStrictCountsAnyListenerAsAnswer: even where the host's own status says
// stopped, a port that accepts a connection (and closes it at once, without a byte) is
// an answer: a stopped server's port refuses, so something still listens there.
func TestGuardStrictCountsAnyListenerAsAnswer(t *testing.T) {
	f := newFixture(t)
	drop := listener(t, true)
	closed := closedURL(t)
	rb := guardRunbook(t, `  - id: s
    title: guard
    gates:
      - proven_stopped: {role: a, service: svc, from: [b, c], urls: ["{{ params.url }}"], timeout: 2s}
`)
	f.setRunning("h1", false)
	x := f.exec(rb, "s", nil, map[string]string{"url": "http://" + drop.Addr().String() + "/lui/"})
	r := evalGate(t, x, 0)
	wantStatus(t, r, Fail, "gets an answer from")
	evidenceHas(t, r, "ACCEPTS the connection, then closes it at once")
	x = f.exec(rb, "s", nil, map[string]string{"url": closed})
	wantStatus(t, evalGate(t, x, 0), Pass, "its status says stopped")
}

// TestNotReached: which failed connections show a silent target.
func TestNotReached(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{os.NewSyscallError("connect", syscall.ECONNREFUSED), "refused"},
		{fmt.Errorf("dial: %w", context.DeadlineExceeded), "timeout"},
		{errors.New("x: ssh: rejected: connect failed (connect to primary.ha.lab:80: connection refused (lab: primary is blocked from ops))"), "refused"},
		{errors.New("x: ssh: rejected: connect failed (Connection timed out)"), "timeout"},
		{errors.New("x: ssh: rejected: connect failed (lab: unknown host nosuch: not a host of the simulated network)"), ""},
		{errors.New("x: ssh: rejected: connect failed (Temporary failure in name resolution)"), ""},
		{errors.New("x: ssh: rejected: connect failed (No route to host)"), "no route"},
		{os.NewSyscallError("connect", syscall.EHOSTUNREACH), "no route"},
		{errors.New("x: ssh: rejected: administratively prohibited (connection refused by policy)"), ""},
		{&net.DNSError{Err: "i/o timeout", Name: "a", IsTimeout: true}, ""},
		{errors.New("http: no Host in request URL"), ""},
		{nil, ""},
	} {
		if got := notReached(tc.err); got != tc.want {
			t.Errorf("notReached(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// TestOutageVerdictNeedsEveryVantagePoint: "down" is given only when every vantage point
// was asked and each had every attempt refused or timed out.
func TestOutageVerdictNeedsEveryVantagePoint(t *testing.T) {
	refused := errors.New("connect failed (connection refused)")
	asked := []probeResult{{from: "ops", to: "p", port: 80, err: refused}}
	if v, _ := verdict(asked, "p"); v != "down" {
		t.Fatalf("one vantage point, refused: %s", v)
	}
	for name, extra := range map[string]probeResult{
		"could not be asked": {from: "witness", to: "p", port: 80, hostErr: &probe.UnreachableError{Host: "witness", Err: errors.New("timeout")}},
		"name lookup failed": {from: "witness", to: "p", port: 80, unknown: &net.DNSError{Err: "no such host", Name: "p", IsNotFound: true}},
		"forwarding refused": {from: "witness", to: "p", port: 80, unknown: errors.New("ssh: rejected: administratively prohibited (open failed)")},
	} {
		v, text := verdict(append(append([]probeResult{}, asked...), extra), "p")
		if v != "unknown" || !strings.Contains(text, "witness") || !strings.Contains(text, "cannot tell whether p is down") {
			t.Errorf("%s: verdict %s (%s), want unknown naming witness", name, v, text)
		}
	}
	// A vantage point that reaches the target on one port reaches it, whatever else.
	v, _ := verdict([]probeResult{{from: "ops", to: "p", port: 80, open: true}, {from: "ops", to: "p", port: 443, unknown: errors.New("x")}}, "p")
	if v != "up" {
		t.Errorf("an open port with an unknown one: %s, want up", v)
	}
}

// TestOutageAndReachOverSSHCannotPassOnMissingEvidence: in the lab, over real SSH, c's
// own DNS sends b's name outside the simulated network, so its sshd prohibits the
// forwarding: c cannot tell. The outage verdict is then unknown, not down, and "c cannot
// reach b" is not shown.
func TestOutageAndReachOverSSHCannotPassOnMissingEvidence(t *testing.T) {
	n := startNetLab(t)
	rb := testRunbook(t, `  - id: s
    title: outage
    gates:
      - outage: {target: b, from: [a, c], ports: [80]}
      - reach: {from: [c], to: [b], ports: [80], expect: closed}
      - reach: {from: [a], to: [b], ports: [80], expect: closed}
`)
	x := n.exec(t, rb, "s")
	n.l.Block("a", "b")
	if err := os.WriteFile(filepath.Join(n.l.HostRoot("c"), "var", "dns.zone"), []byte("b.net.lab 192.0.2.7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := evalGate(t, x, 0)
	wantStatus(t, r, Fail, "verdict unknown, not down", "c cannot tell")
	evidenceHas(t, r, "c -> b.net.lab: 80 ? (PROHIBITED: cannot tell)")
	evidenceHas(t, r, "a -> b.net.lab: 80 REFUSED")
	evidenceHas(t, r, "verdict: unknown")

	r = evalGate(t, x, 1)
	wantStatus(t, r, Fail, "cannot tell whether the connection opens")
	evidenceHas(t, r, "administratively prohibited")
	wantStatus(t, evalGate(t, x, 2), Pass, "refused, as wanted")

	// Once c is asked and refused too, the verdict is down.
	n.l.Block("c", "b")
	if err := os.Remove(filepath.Join(n.l.HostRoot("c"), "var", "dns.zone")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	wantStatus(t, evalGate(t, x, 0), Pass, "b is down: none of a, c reaches it")
	if time.Since(start) > 10*time.Second {
		t.Error("the verdict took too long")
	}
}
