package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cutover/cutover/probe"
)

// ProvenStoppedCheck is a split-brain guard: it passes only when a service is shown not
// to run on a host, by the host itself and by every vantage point. The host's status
// command (the inventory's) must say "stopped", and from each vantage host none of the
// service's URLs may get an answer: a TCP connection that opens is an answer (something
// listens there, an error page or a dropped request included). A URL counts as silent
// only when its connection was refused or had not opened when its time was up.
// Whatever cannot be told counts as running: a host that does not answer over SSH, a
// status command that says neither running nor stopped, a vantage point that cannot be
// asked, a URL whose name does not resolve or whose connection the vantage host's sshd
// will not forward. A failover that starts the standby beside a primary that still runs
// corrupts the data both write to, so "we could not tell" is a refusal, never a pass; an
// operator who knows better (the primary's power is cut) overrides with that reason,
// which every export shows.
type ProvenStoppedCheck struct {
	Role    Ref    `yaml:"role"`
	Service string `yaml:"service"`
	// From are the vantage points that try the URLs: the operator's machine, the
	// standby, a third host.
	From Refs `yaml:"from"`
	// URLs are the service's URLs on the host. One template may give several, separated
	// by spaces (one per address of the host): probe a failed primary by its addresses,
	// since its name may point elsewhere once traffic is redirected.
	URLs []*Template `yaml:"urls"`
	// Timeout bounds each request (default 5s).
	Timeout Duration `yaml:"timeout"`
	// IfUnreachable says what a host that cannot be reached over SSH counts as:
	// "running" (the default), or "stopped-if-silent" for a primary the operator has
	// confirmed is switched off: then it counts as stopped provided every vantage point
	// was asked and none got any answer from it.
	IfUnreachable string `yaml:"if_unreachable"`
}

func (k *ProvenStoppedCheck) compile(c *compiler, ch *Check) {
	c.role(k.Role, "role", ch.Pos)
	if k.Service == "" {
		c.errorf(ch.Pos, "service (as the inventory calls it) is required")
	}
	c.roles(k.From, "from", ch.Pos)
	if k.IfUnreachable != "" && k.IfUnreachable != "running" && k.IfUnreachable != "stopped-if-silent" {
		c.errorf(ch.Pos, "if_unreachable must be running or stopped-if-silent, not %q", k.IfUnreachable)
	}
	if len(k.URLs) == 0 {
		c.errorf(ch.Pos, "urls: list the service's URLs on the host, which the vantage points try")
	}
	for _, u := range k.URLs {
		c.tmpl(u, "urls", ch.Pos, true)
		if u != nil && !strings.Contains(u.Src, "{{") && !strings.HasPrefix(u.Src, "http://") && !strings.HasPrefix(u.Src, "https://") {
			c.errorf(checkPos(ch, u), "urls must start with http:// or https://")
		}
	}
}

func (k *ProvenStoppedCheck) describe(x *stepExec) string {
	var urls []string
	for _, u := range k.URLs {
		urls = append(urls, strings.Fields(x.mustRender(u))...)
	}
	if k.IfUnreachable == "stopped-if-silent" {
		return fmt.Sprintf("%s is proven stopped on %s: its status says stopped, or it does not answer over SSH and every connection from %s to %s is refused or times out (what cannot be told counts as running)",
			k.Service, x.host(k.Role.Name).Name, strings.Join(hostNames(x, k.From), ", "), strings.Join(urls, ", "))
	}
	return fmt.Sprintf("%s is proven stopped on %s: its status says stopped and none of %s gets an answer from %s (what cannot be told counts as running)",
		k.Service, x.host(k.Role.Name).Name, strings.Join(hostNames(x, k.From), ", "), strings.Join(urls, ", "))
}

// vantageView is what one vantage point saw.
type vantageView struct {
	host    string
	lines   []string
	answers []string // URLs that answered
	// cannotTell are URLs whose connection failed in a way that shows nothing of the
	// host (a name that does not resolve, forwarding refused): unknown, not silent.
	cannotTell []string
	unknown    string // why this vantage point could not be asked
}

func (k *ProvenStoppedCheck) eval(ctx context.Context, x *stepExec) CheckResult {
	h := x.host(k.Role.Name)
	var urls []string
	for _, u := range k.URLs {
		s, err := x.render(u)
		if err != nil {
			return errResult(err, h.Name)
		}
		urls = append(urls, strings.Fields(s)...)
	}
	if len(urls) == 0 {
		return CheckResult{Status: Fail, Hosts: []string{h.Name}, Final: true,
			Summary:  fmt.Sprintf("%s may still run on %s: there is no URL to try it at (unknown counts as running)", k.Service, h.Name),
			Evidence: []string{"the urls render to nothing", "verdict: MAY BE RUNNING: the standby must not start"}}
	}
	timeout := cmpDur(k.Timeout.D, 5*time.Second)
	roles := distinctRoles(x, k.From)
	views := make([]vantageView, len(roles))
	var wg sync.WaitGroup
	var state, statusLine string
	wg.Go(func() { state, statusLine = k.status(ctx, x) })
	for i, role := range roles {
		wg.Go(func() { views[i] = k.look(ctx, x, role, urls, timeout) })
	}
	wg.Wait()
	if ctx.Err() != nil {
		return errResult(ctx.Err())
	}

	r := CheckResult{Hosts: append([]string{h.Name}, hostNames(x, k.From)...), Evidence: []string{statusLine}}
	var reasons []string
	switch state {
	case "running":
		reasons = append(reasons, fmt.Sprintf("its status command says %s runs", k.Service))
	case "stopped":
	case "unreachable":
		if k.IfUnreachable != "stopped-if-silent" {
			reasons = append(reasons, "it does not answer over SSH, so its status cannot be read (unknown counts as running)")
		} else if !silentEverywhere(views) {
			reasons = append(reasons, "it does not answer over SSH, and it is not silent to every vantage point")
		}
	default:
		reasons = append(reasons, "its status cannot be read (unknown counts as running)")
	}
	var quiet []string
	for _, v := range views {
		r.Evidence = append(r.Evidence, v.lines...)
		switch {
		case v.unknown != "":
			reasons = append(reasons, fmt.Sprintf("%s could not be asked (unknown counts as running)", v.host))
		case len(v.answers) > 0:
			reasons = append(reasons, fmt.Sprintf("%s gets an answer from %s", v.host, strings.Join(v.answers, ", ")))
		case len(v.cannotTell) > 0:
			reasons = append(reasons, fmt.Sprintf("%s cannot tell whether %s answers (unknown counts as running)", v.host, strings.Join(v.cannotTell, ", ")))
		default:
			quiet = append(quiet, v.host)
		}
	}
	if len(reasons) > 0 {
		r.Status = Fail
		r.Summary = fmt.Sprintf("%s may still run on %s: %s", k.Service, h.Name, strings.Join(reasons, "; "))
		r.Evidence = append(r.Evidence, "verdict: MAY BE RUNNING: the standby must not start")
		return r
	}
	r.Status = Pass
	if state == "stopped" {
		r.Summary = fmt.Sprintf("%s is proven stopped on %s: its status says stopped and none of %s gets an answer",
			k.Service, h.Name, strings.Join(quiet, ", "))
	} else {
		// stopped-if-silent: the status could not be read, so the pass rests on silence.
		r.Summary = fmt.Sprintf("%s is proven stopped on %s: it does not answer over SSH (its status could not be read), "+
			"and none of %s gets an answer from it (every connection refused or timed out)",
			k.Service, h.Name, strings.Join(quiet, ", "))
	}
	r.Evidence = append(r.Evidence, "verdict: proven stopped")
	return r
}

// status asks the host's status command: "running", "stopped" or "unknown", and the
// evidence line.
func (k *ProvenStoppedCheck) status(ctx context.Context, x *stepExec) (string, string) {
	h := x.host(k.Role.Name)
	svc, ok := h.Services[k.Service]
	if !ok || strings.TrimSpace(svc.Status) == "" {
		return "unknown", fmt.Sprintf("%s: the inventory gives no status command for %s: unknown", h.Name, k.Service)
	}
	t, _, err := x.conn(ctx, k.Role.Name)
	if err != nil {
		state := "unknown"
		if probe.IsConnectionError(err) {
			state = "unreachable"
		}
		return state, fmt.Sprintf("%s: not reachable over SSH, status unknown: %v", h.Name, err)
	}
	code, out, err := capture(ctx, t, svc.Status)
	if err != nil {
		return "unknown", fmt.Sprintf("%s$ %s: %v (status unknown)", h.Name, svc.Status, err)
	}
	state := probe.ServiceState(strconv.Itoa(code))
	line := fmt.Sprintf("%s$ %s  (exit %d: %s)", h.Name, svc.Status, code, state)
	if o := strings.TrimSpace(out); o != "" {
		line += " " + lastLine(x.redact(o))
	}
	return state, line
}

// look tries every URL from one vantage point.
func (k *ProvenStoppedCheck) look(ctx context.Context, x *stepExec, role string, urls []string, timeout time.Duration) vantageView {
	v := vantageView{host: x.host(role).Name}
	t, _, err := x.conn(ctx, role)
	if err != nil {
		v.unknown = err.Error()
		v.lines = []string{fmt.Sprintf("%s: could not be asked: %v", v.host, err)}
		return v
	}
	for _, u := range urls {
		a := tryURL(ctx, t, u, timeout)
		switch {
		case probe.IsConnectionError(a.err):
			v.unknown = a.err.Error()
			v.lines = append(v.lines, fmt.Sprintf("%s -> %s: could not be asked: %v", v.host, u, a.err))
			return v
		case a.status > 0:
			v.answers = append(v.answers, u)
			v.lines = append(v.lines, fmt.Sprintf("%s -> %s: ANSWERS %d %s in %s", v.host, u, a.status, http.StatusText(a.status), a.took))
		case a.opened && a.dropped:
			// Accepted and closed at once, without a byte: something listens there (a
			// stopped server's port refuses), so it counts as an answer.
			v.answers = append(v.answers, u)
			v.lines = append(v.lines, fmt.Sprintf("%s -> %s: ACCEPTS the connection, then closes it at once without an answer (%v)", v.host, u, a.err))
		case a.opened:
			// Something accepted the connection and kept it (an HTTP timeout, a TLS
			// failure): that is an answer, whatever came after.
			v.answers = append(v.answers, u)
			v.lines = append(v.lines, fmt.Sprintf("%s -> %s: ANSWERS: the connection opened, then %v (after %s)", v.host, u, a.err, a.took))
		case a.silent != "":
			v.lines = append(v.lines, fmt.Sprintf("%s -> %s: no answer (%s)", v.host, u, strings.ToUpper(a.silent)))
		default:
			v.cannotTell = append(v.cannotTell, u)
			v.lines = append(v.lines, fmt.Sprintf("%s -> %s: CANNOT TELL (%s): %v", v.host, u, shortNetErr(a.err), a.err))
		}
	}
	return v
}

// urlAttempt is what one request to a URL from a host showed.
type urlAttempt struct {
	opened  bool          // a TCP connection to the URL's host and port opened
	dropped bool          // it opened and the other end closed it before sending a byte
	status  int           // the HTTP status of an answer, 0 without one
	silent  string        // "refused" or "timeout" when the connection did not open for that reason
	took    time.Duration // until the answer or the failure
	err     error
}

// tryURL opens the TCP connection to a URL's host from t itself, then makes the request
// over it: what it returns tells a connection that opened (something listens) from one
// refused or timed out (silent) and from a failure that shows nothing of the target.
func tryURL(ctx context.Context, t probe.Transport, raw string, timeout time.Duration) urlAttempt {
	u, err := url.Parse(raw)
	if err != nil {
		return urlAttempt{err: err}
	}
	port := u.Port()
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return urlAttempt{err: fmt.Errorf("%q is not an http or https URL", raw)}
	case u.Hostname() == "":
		return urlAttempt{err: fmt.Errorf("%q names no host", raw)}
	case ValidHostName(u.Hostname()) != nil:
		// A placeholder ("<primary.addresses>": no address known) or a typo.
		return urlAttempt{err: fmt.Errorf("%q names no host that can be tried: %w", raw, ValidHostName(u.Hostname()))}
	case port == "" && u.Scheme == "https":
		port = "443"
	case port == "":
		port = "80"
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t0 := time.Now()
	conn, err := t.DialTCP(ctx, net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return urlAttempt{silent: notReached(err), took: time.Since(t0).Round(time.Millisecond), err: err}
	}
	// Counting what the other end sends tells a connection closed without a byte
	// (whatever error the HTTP client makes of it) from one that answered.
	rc := &readCounter{Conn: conn}
	conn = rc
	var once sync.Once
	client := &http.Client{
		Transport: &http.Transport{
			DialContext: func(context.Context, string, string) (net.Conn, error) {
				c := net.Conn(nil)
				once.Do(func() { c = conn })
				if c == nil {
					return nil, errors.New("the request wanted a second connection")
				}
				return c, nil
			},
			DisableKeepAlives: true,
			Proxy:             nil,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		conn.Close()
		return urlAttempt{opened: true, err: err}
	}
	req.Header.Set("User-Agent", "cutover")
	resp, err := client.Do(req)
	a := urlAttempt{opened: true, took: time.Since(t0).Round(time.Millisecond), err: err}
	once.Do(func() { conn.Close() }) // the request never used it
	if err != nil {
		a.dropped = ctx.Err() == nil && rc.n.Load() == 0
		return a
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	a.status = resp.StatusCode
	return a
}

// silentEverywhere reports whether every vantage point was asked and none got an answer.
func silentEverywhere(views []vantageView) bool {
	for _, v := range views {
		if v.unknown != "" || len(v.answers) > 0 || len(v.cannotTell) > 0 {
			return false
		}
	}
	return len(views) > 0
}

// readCounter counts the bytes read from a connection.
type readCounter struct {
	net.Conn
	n atomic.Int64
}

func (c *readCounter) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.n.Add(int64(n))
	return n, err
}
