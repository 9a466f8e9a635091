package steps

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/probe"
)

// ProvenStoppedCheck is a split-brain guard: it passes only when a service is shown not
// to run on a host, by the host itself and by every vantage point. The host's status
// command (the inventory's) must say "stopped", and from each vantage host none of the
// service's URLs may get an HTTP answer (any answer at all, an error page included,
// means something serves there). Whatever cannot be told counts as running: a host that
// does not answer over SSH, a status command that says neither running nor stopped, a
// vantage point that cannot be asked. A failover that starts the standby beside a
// primary that still runs corrupts the data both write to, so "we could not tell" is a
// refusal, never a pass; an operator who knows better (the primary's power is cut)
// overrides with that reason, which every export shows.
type ProvenStoppedCheck struct {
	Role    Ref    `yaml:"role"`
	Service string `yaml:"service"`
	// From are the vantage points that try the URLs: the operator's machine, the
	// standby, a third host.
	From Refs        `yaml:"from"`
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
	urls := make([]string, len(k.URLs))
	for i, u := range k.URLs {
		urls[i] = x.mustRender(u)
	}
	return fmt.Sprintf("%s is proven stopped on %s: its status says stopped and none of %s gets an answer from %s (what cannot be told counts as running)",
		k.Service, x.host(k.Role.Name).Name, strings.Join(hostNames(x, k.From), ", "), strings.Join(urls, ", "))
}

// vantageView is what one vantage point saw.
type vantageView struct {
	host    string
	lines   []string
	answers []string // URLs that answered
	unknown string   // why this vantage point could not be asked
}

func (k *ProvenStoppedCheck) eval(ctx context.Context, x *stepExec) CheckResult {
	h := x.host(k.Role.Name)
	urls := make([]string, len(k.URLs))
	for i, u := range k.URLs {
		s, err := x.render(u)
		if err != nil {
			return errResult(err, h.Name)
		}
		urls[i] = s
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
	r.Summary = fmt.Sprintf("%s is proven stopped on %s: its status says stopped and none of %s gets an answer", k.Service, h.Name, strings.Join(quiet, ", "))
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
		status, _, took, err := httpGet(ctx, t, u, timeout)
		switch {
		case probe.IsConnectionError(err):
			v.unknown = err.Error()
			v.lines = append(v.lines, fmt.Sprintf("%s -> %s: could not be asked: %v", v.host, u, err))
			return v
		case err != nil:
			why := shortNetErr(err)
			if why == "FAILED" {
				why = err.Error()
			}
			v.lines = append(v.lines, fmt.Sprintf("%s -> %s: no answer (%s)", v.host, u, why))
		default:
			v.answers = append(v.answers, u)
			v.lines = append(v.lines, fmt.Sprintf("%s -> %s: ANSWERS %d %s in %s", v.host, u, status, http.StatusText(status), took))
		}
	}
	return v
}

// silentEverywhere reports whether every vantage point was asked and none got an answer.
func silentEverywhere(views []vantageView) bool {
	for _, v := range views {
		if v.unknown != "" || len(v.answers) > 0 {
			return false
		}
	}
	return len(views) > 0
}
