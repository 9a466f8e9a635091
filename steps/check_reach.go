package steps

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cutover/cutover/probe"
)

// ReachCheck tries every port of every target from every host of the From roles, and
// shows the result as a matrix: the view a cluster's frontends have of its backends.
type ReachCheck struct {
	From Refs `yaml:"from"`
	// To names target roles, reached by their host names.
	To Refs `yaml:"to"`
	// Targets adds targets written as host names or templates.
	Targets []*Template `yaml:"targets"`
	// Ports are numbers or templates ("{{ params.imap_port }}"): a site whose servers
	// listen elsewhere than the vendor's defaults gives its ports as parameters.
	Ports []*Template `yaml:"ports"`
	// Expect is open (default) or closed.
	Expect  string   `yaml:"expect"`
	Timeout Duration `yaml:"timeout"`
}

func (k *ReachCheck) compile(c *compiler, ch *Check) {
	c.roles(k.From, "from", ch.Pos)
	for _, r := range k.To {
		c.role(r, "to", ch.Pos)
	}
	for _, t := range k.Targets {
		c.tmpl(t, "targets", ch.Pos, true)
	}
	if len(k.To) == 0 && len(k.Targets) == 0 {
		c.errorf(ch.Pos, "give to: (roles) or targets: (host names)")
	}
	if len(k.Ports) == 0 {
		c.errorf(ch.Pos, "ports: list at least one port")
	}
	for _, p := range k.Ports {
		if p.IsZero() {
			c.errorf(ch.Pos, "ports: an empty port")
			continue
		}
		c.tmpl(p, "ports", ch.Pos, true)
		if !strings.Contains(p.Src, "{{") {
			if _, err := portNumber(p.Src); err != nil {
				c.errorf(p.Pos, "ports: %v", err)
			}
		}
	}
	if k.Expect != "" && k.Expect != "open" && k.Expect != "closed" {
		c.errorf(ch.Pos, "expect must be open or closed, not %q", k.Expect)
	}
}

// targets lists the target names: roles by their host name (or address when the probe
// learned no name), then the written ones.
func (k *ReachCheck) targets(x *stepExec) ([]string, error) {
	var out []string
	for _, r := range k.To {
		out = append(out, targetName(x, r.Name))
	}
	for _, t := range k.Targets {
		s, err := x.render(t)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return uniqueKeepOrder(out), nil
}

// targetName is the name other hosts reach a role's host by: its own host name, or
// for a host that did not answer the probe, the inventory's vars.hostname or address.
func targetName(x *stepExec, role string) string {
	h := x.host(role)
	if f := x.facts[h.Name]; f != nil && f.Hostname != "" {
		return f.Hostname
	}
	if n := h.Vars["hostname"]; n != "" {
		return n
	}
	return h.Address
}

func uniqueKeepOrder(l []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range l {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// portNumber reads a port as written or rendered.
func portNumber(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %q is not a number from 1 to 65535", s)
	}
	return n, nil
}

// ports renders the ports, each once, in the order written.
func (k *ReachCheck) ports(x *stepExec) ([]int, error) {
	var out []int
	for _, t := range k.Ports {
		s, err := x.render(t)
		if err != nil {
			return nil, err
		}
		n, err := portNumber(s)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

func (k *ReachCheck) describe(x *stepExec) string {
	to, _ := k.targets(x)
	state := "reaches"
	if k.Expect == "closed" {
		state = "cannot reach"
	}
	ports := make([]string, len(k.Ports))
	for i, p := range k.Ports {
		ports[i] = x.mustRender(p)
	}
	ports = uniqueKeepOrder(ports)
	return fmt.Sprintf("each of %s %s %s on ports %s", strings.Join(hostNames(x, k.From), ", "), state, strings.Join(to, ", "), strings.Join(ports, ", "))
}

// probeResult is one connection attempt of a matrix.
type probeResult struct {
	from, to string
	port     int
	open     bool
	err      error // the attempt's error: refused or timed out, so the target was not reached
	unknown  error // an error that tells nothing about the target (the name did not resolve, forwarding refused)
	hostErr  error // the vantage host itself could not be reached
	took     time.Duration
}

// notReached says what a failed attempt to open a TCP connection shows of its target:
// "refused" (the address answered that nothing listens), "timeout" (the connection had
// not opened when the time was up), "no route" (no host answers at that address: how a
// switched-off machine on the same network looks), or "" when the attempt shows nothing
// of the target: the name did not resolve, the vantage host's sshd would not forward the
// connection ("administratively prohibited"), the request was malformed. Only the first
// three are evidence that a host is silent; the others are "cannot tell".
func notReached(err error) string {
	if err == nil {
		return ""
	}
	if _, ok := errors.AsType[*net.DNSError](err); ok {
		return ""
	}
	// A connection opened over SSH ("direct-tcpip") fails with the server's reason and
	// message: x/crypto/ssh writes "ssh: rejected: REASON (MESSAGE)". Only "connect
	// failed" is about the target; its message is the server's own connect error.
	const rejected = "ssh: rejected: "
	if msg := err.Error(); strings.Contains(msg, rejected) {
		rest := msg[strings.LastIndex(msg, rejected)+len(rejected):]
		if !strings.HasPrefix(rest, "connect failed (") {
			return ""
		}
		detail := strings.ToLower(rest)
		switch {
		case strings.Contains(detail, "no such host") || strings.Contains(detail, "unknown host") ||
			strings.Contains(detail, "name or service") || strings.Contains(detail, "name resolution"):
			return ""
		case strings.Contains(detail, "connection refused"):
			return "refused"
		case strings.Contains(detail, "timed out") || strings.Contains(detail, "timeout"):
			return "timeout"
		case strings.Contains(detail, "no route to host") || strings.Contains(detail, "host is down"):
			return "no route"
		}
		return ""
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ETIMEDOUT):
		return "timeout"
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.EHOSTDOWN):
		// A switched-off machine on the vantage host's own network: nobody answers the
		// ARP request, which is what a timeout says further away.
		return "no route"
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return "timeout"
	}
	return ""
}

// tryMatrix opens every connection concurrently (a few at a time per vantage host).
func tryMatrix(ctx context.Context, x *stepExec, from []string, to []string, ports []int, timeout time.Duration) []probeResult {
	var out []probeResult
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, role := range from {
		h := x.host(role)
		t, _, err := x.conn(ctx, role)
		for _, target := range to {
			for _, port := range ports {
				if err != nil {
					mu.Lock()
					out = append(out, probeResult{from: h.Name, to: target, port: port, hostErr: err})
					mu.Unlock()
					continue
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					dctx, cancel := context.WithTimeout(ctx, timeout)
					defer cancel()
					t0 := time.Now()
					conn, derr := t.DialTCP(dctx, net.JoinHostPort(target, strconv.Itoa(port)))
					pr := probeResult{from: h.Name, to: target, port: port, took: time.Since(t0)}
					switch {
					case derr == nil:
						pr.open = true
						conn.Close()
					case probe.IsConnectionError(derr):
						pr.hostErr = derr
					case notReached(derr) != "":
						pr.err = derr
					default:
						pr.unknown = derr
					}
					mu.Lock()
					out = append(out, pr)
					mu.Unlock()
				}()
			}
		}
	}
	wg.Wait()
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].from != out[j].from {
			return indexOf(from, out[i].from, x) < indexOf(from, out[j].from, x)
		}
		if out[i].to != out[j].to {
			return slices.Index(to, out[i].to) < slices.Index(to, out[j].to)
		}
		return out[i].port < out[j].port
	})
	return out
}

func indexOf(roles []string, host string, x *stepExec) int {
	for i, r := range roles {
		if x.host(r).Name == host {
			return i
		}
	}
	return len(roles)
}

// matrix renders results as rows "from -> to: port state, ...".
func matrix(results []probeResult) []string {
	var lines []string
	var cur string
	var cells []string
	flush := func() {
		if cur != "" {
			lines = append(lines, cur+": "+strings.Join(cells, ", "))
		}
	}
	for _, r := range results {
		row := fmt.Sprintf("%s -> %s", r.from, r.to)
		if row != cur {
			flush()
			cur, cells = row, nil
		}
		switch {
		case r.hostErr != nil:
			cells = append(cells, fmt.Sprintf("%d ? (%s unreachable)", r.port, r.from))
		case r.unknown != nil:
			cells = append(cells, fmt.Sprintf("%d ? (%s: cannot tell)", r.port, shortNetErr(r.unknown)))
		case r.open:
			cells = append(cells, fmt.Sprintf("%d open", r.port))
		default:
			cells = append(cells, fmt.Sprintf("%d %s", r.port, shortNetErr(r.err)))
		}
	}
	flush()
	// What the cells marked "cannot tell" failed with, in full.
	for _, r := range results {
		if r.hostErr == nil && r.unknown != nil {
			lines = append(lines, fmt.Sprintf("%s -> %s:%d: cannot tell: %v", r.from, r.to, r.port, r.unknown))
		}
	}
	return lines
}

// shortNetErr names a failed connection in a word: refused, timeout, unreachable.
func shortNetErr(err error) string {
	if err == nil {
		return "closed"
	}
	s := strings.ToLower(err.Error())
	switch {
	case strings.Contains(s, "prohibited"):
		return "PROHIBITED"
	case strings.Contains(s, "unknown host") || strings.Contains(s, "no such host") || strings.Contains(s, "not a host") ||
		strings.Contains(s, "name or service") || strings.Contains(s, "name resolution"):
		return "NO-SUCH-HOST"
	case strings.Contains(s, "refused"):
		return "REFUSED"
	case strings.Contains(s, "timeout") || strings.Contains(s, "timed out") || strings.Contains(s, "deadline"):
		return "TIMEOUT"
	}
	return "FAILED"
}

func (k *ReachCheck) eval(ctx context.Context, x *stepExec) CheckResult {
	to, err := k.targets(x)
	if err != nil {
		return errResult(err)
	}
	timeout := k.Timeout.D
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	ports, err := k.ports(x)
	if err != nil {
		return errResult(err)
	}
	roles := distinctRoles(x, k.From)
	results := tryMatrix(ctx, x, roles, to, ports, timeout)
	r := CheckResult{Hosts: hostNames(x, k.From), Evidence: matrix(results)}
	wantOpen := k.Expect != "closed"
	var bad, unknown []string
	for _, pr := range results {
		if pr.hostErr != nil {
			r.Status, r.Unreachable = Error, true
			r.Summary = fmt.Sprintf("%s could not be reached to test from it: %v", pr.from, pr.hostErr)
			return r
		}
		if pr.open != wantOpen {
			bad = append(bad, fmt.Sprintf("%s->%s:%d", pr.from, pr.to, pr.port))
		}
		if pr.unknown != nil {
			unknown = append(unknown, fmt.Sprintf("%s->%s:%d", pr.from, pr.to, pr.port))
		}
	}
	total := len(results)
	switch {
	case len(unknown) > 0 && !wantOpen:
		// "Closed" must be shown by a refusal or a timeout: a name that does not
		// resolve or a forwarding the vantage host refuses says nothing about the target.
		r.Status = Fail
		r.Summary = fmt.Sprintf("%d of %d cannot tell whether the connection opens (%s), so they do not count as closed",
			len(unknown), total, strings.Join(firstN(unknown, 6), ", "))
	case len(bad) == 0 && wantOpen:
		r.Status, r.Summary = Pass, fmt.Sprintf("all %d connections open", total)
	case len(bad) == 0:
		r.Status, r.Summary = Pass, fmt.Sprintf("all %d connections refused, as wanted", total)
	default:
		r.Status = Fail
		what := "cannot connect"
		if !wantOpen {
			what = "can still connect"
		}
		r.Summary = fmt.Sprintf("%d of %d %s: %s", len(bad), total, what, strings.Join(firstN(bad, 6), ", "))
	}
	return r
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(append([]string{}, s[:n]...), fmt.Sprintf("and %d more", len(s)-n))
	}
	return s
}
