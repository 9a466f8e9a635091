package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cutover/cutover/probe"
)

// Network checks look at the network from a host, not from the operator's machine: a
// TCP connection, an HTTP request or a name lookup made over the host's SSH connection
// shows what that host sees, which is what "the standby reaches the database" and "the
// name now resolves to the new server" mean.

// HTTPCheck passes when an HTTP(S) request made from a role's host gets an expected
// answer. Redirects are not followed: a 302 to the login page is an answer.
type HTTPCheck struct {
	From Ref       `yaml:"from"`
	URL  *Template `yaml:"url"`
	// Status lists acceptable status codes; empty accepts 200-399.
	Status   []int    `yaml:"status"`
	Contains Patterns `yaml:"contains"`
	Timeout  Duration `yaml:"timeout"`
}

func (k *HTTPCheck) compile(c *compiler, ch *Check) {
	c.role(k.From, "from", ch.Pos)
	c.tmpl(k.URL, "url", ch.Pos, true)
	if k.URL != nil && !strings.Contains(k.URL.Src, "{{") && !strings.HasPrefix(k.URL.Src, "http://") && !strings.HasPrefix(k.URL.Src, "https://") {
		c.errorf(checkPos(ch, k.URL), "url must start with http:// or https://")
	}
	for _, s := range k.Status {
		if s < 100 || s > 599 {
			c.errorf(ch.Pos, "status %d is not an HTTP status code", s)
		}
	}
}

func (k *HTTPCheck) describe(x *stepExec) string {
	want := "answers 200-399"
	if len(k.Status) > 0 {
		want = "answers " + joinInts(k.Status)
	}
	s := fmt.Sprintf("from %s, %s %s", x.host(k.From.Name).Name, x.mustRender(k.URL), want)
	for _, p := range k.Contains {
		s += fmt.Sprintf(" with /%s/", p.text(x))
	}
	return s
}

func (k *HTTPCheck) eval(ctx context.Context, x *stepExec) CheckResult {
	t, h, err := x.conn(ctx, k.From.Name)
	if err != nil {
		return errResult(err, x.host(k.From.Name).Name)
	}
	url, err := x.render(k.URL)
	if err != nil {
		return errResult(err, h.Name)
	}
	timeout := k.Timeout.D
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	status, body, took, err := httpGet(ctx, t, url, timeout)
	r := CheckResult{Hosts: []string{h.Name}}
	if probe.IsConnectionError(err) {
		return errResult(err, h.Name)
	}
	if err != nil {
		r.Status, r.Summary = Fail, fmt.Sprintf("from %s, %s did not answer: %v", h.Name, url, err)
		r.Evidence = []string{fmt.Sprintf("%s: GET %s: %v (after %s)", h.Name, url, err, took)}
		return r
	}
	r.Evidence = []string{fmt.Sprintf("%s: GET %s: %d %s in %s", h.Name, url, status, http.StatusText(status), took)}
	if first := firstLine(body); first != "" {
		r.Evidence = append(r.Evidence, "body: "+x.redact(first))
	}
	ok := status >= 200 && status < 400
	if len(k.Status) > 0 {
		ok = slices.Contains(k.Status, status)
	}
	var problems []string
	if !ok {
		problems = append(problems, fmt.Sprintf("status %d", status))
	}
	want, err := k.Contains.regexps(x)
	if err != nil {
		return errResult(err, h.Name)
	}
	for i, re := range want {
		if !re.MatchString(body) {
			problems = append(problems, fmt.Sprintf("the answer lacks /%s/", k.Contains[i].text(x)))
		}
	}
	if len(problems) > 0 {
		r.Status, r.Summary = Fail, fmt.Sprintf("from %s, %s: %s", h.Name, url, strings.Join(problems, "; "))
	} else {
		r.Status, r.Summary = Pass, fmt.Sprintf("from %s, %s answers %d", h.Name, url, status)
	}
	return r
}

// httpGet makes one GET through connections opened from the host.
func httpGet(ctx context.Context, t probe.Transport, url string, timeout time.Duration) (int, string, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{
		Transport: &http.Transport{
			DialContext:       func(ctx context.Context, _, addr string) (net.Conn, error) { return t.DialTCP(ctx, addr) },
			DisableKeepAlives: true,
			Proxy:             nil,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", 0, err
	}
	req.Header.Set("User-Agent", "cutover")
	t0 := time.Now()
	resp, err := client.Do(req)
	took := time.Since(t0).Round(time.Millisecond)
	if err != nil {
		return 0, "", took, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, string(body), took, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}

// DNSCheck resolves a name on a role's host, with the host's own resolver, and checks
// the addresses it gets: that one of them is expected, that none is unwanted, or how
// many there are (one A record per frontend for DNS round-robin).
type DNSCheck struct {
	From Ref       `yaml:"from"`
	Name *Template `yaml:"name"`
	// ResolvesTo passes when any address of the answer is in this list (space or comma
	// separated after expansion; a role's addresses expand to a list).
	ResolvesTo *Template `yaml:"resolves_to"`
	// NotResolvesTo fails when any address of the answer is in this list.
	NotResolvesTo *Template `yaml:"not_resolves_to"`
	// Count, when set, is the exact number of distinct addresses wanted.
	Count int `yaml:"count"`
}

func (k *DNSCheck) compile(c *compiler, ch *Check) {
	c.role(k.From, "from", ch.Pos)
	c.tmpl(k.Name, "name", ch.Pos, true)
	c.tmpl(k.ResolvesTo, "resolves_to", ch.Pos, false)
	c.tmpl(k.NotResolvesTo, "not_resolves_to", ch.Pos, false)
	if k.ResolvesTo.IsZero() && k.NotResolvesTo.IsZero() && k.Count == 0 {
		c.errorf(ch.Pos, "give resolves_to, not_resolves_to or count")
	}
	if k.Count < 0 {
		c.errorf(ch.Pos, "count cannot be negative")
	}
}

func (k *DNSCheck) describe(x *stepExec) string {
	s := fmt.Sprintf("on %s, %s resolves", x.host(k.From.Name).Name, x.mustRender(k.Name))
	var parts []string
	if !k.ResolvesTo.IsZero() {
		parts = append(parts, "to one of "+x.mustRender(k.ResolvesTo))
	}
	if !k.NotResolvesTo.IsZero() {
		parts = append(parts, "not to "+x.mustRender(k.NotResolvesTo))
	}
	if k.Count > 0 {
		parts = append(parts, fmt.Sprintf("to %d addresses", k.Count))
	}
	return s + " " + strings.Join(parts, ", ")
}

// lookupCommand resolves name on a host: getent (glibc) or nslookup on POSIX hosts,
// Resolve-DnsName on Windows. The output is one address per line.
func lookupCommand(h *probe.Host, name string) string {
	if h.PowerShell() {
		return fmt.Sprintf("try { Resolve-DnsName -Name %s -Type A -ErrorAction Stop | Where-Object { $_.Type -eq 'A' } | ForEach-Object { $_.IPAddress } } "+
			"catch { [System.Net.Dns]::GetHostAddresses(%s) | Where-Object { $_.AddressFamily -eq 'InterNetwork' } | ForEach-Object { $_.IPAddressToString } }",
			probe.PSQuote(name), probe.PSQuote(name))
	}
	q := probe.ShellQuote(name)
	return fmt.Sprintf("if command -v getent >/dev/null 2>&1; then getent ahostsv4 %s | awk '{print $1}'; "+
		"else nslookup %s 2>/dev/null | awk '/^Name:/ {n=1} n && /^Address/ {print $NF}'; fi", q, q)
}

func (k *DNSCheck) eval(ctx context.Context, x *stepExec) CheckResult {
	t, h, err := x.conn(ctx, k.From.Name)
	if err != nil {
		return errResult(err, x.host(k.From.Name).Name)
	}
	name, err := x.render(k.Name)
	if err != nil {
		return errResult(err, h.Name)
	}
	if err := ValidHostName(name); err != nil {
		return errResult(fmt.Errorf("name to resolve: %w", err), h.Name)
	}
	_, out, err := capture(ctx, t, lookupCommand(h, name))
	if err != nil {
		return errResult(fmt.Errorf("%s: %w", h.Name, err), h.Name)
	}
	got := uniqueSorted(strings.Fields(out))
	r := CheckResult{Hosts: []string{h.Name}}
	if len(got) == 0 {
		r.Evidence = []string{fmt.Sprintf("%s: %s does not resolve", h.Name, name)}
	} else {
		r.Evidence = []string{fmt.Sprintf("%s: %s resolves to %s", h.Name, name, strings.Join(got, ", "))}
	}
	var problems []string
	if !k.ResolvesTo.IsZero() {
		want, err := x.render(k.ResolvesTo)
		if err != nil {
			return errResult(err, h.Name)
		}
		wl := splitList(want)
		if !overlaps(got, wl) {
			problems = append(problems, fmt.Sprintf("not to any of %s", strings.Join(wl, ", ")))
		}
	}
	if !k.NotResolvesTo.IsZero() {
		bad, err := x.render(k.NotResolvesTo)
		if err != nil {
			return errResult(err, h.Name)
		}
		if bl := splitList(bad); overlaps(got, bl) {
			problems = append(problems, fmt.Sprintf("still to %s", strings.Join(intersect(got, bl), ", ")))
		}
	}
	if k.Count > 0 && len(got) != k.Count {
		problems = append(problems, fmt.Sprintf("%d addresses, want %d", len(got), k.Count))
	}
	if len(problems) > 0 {
		r.Status = Fail
		r.Summary = fmt.Sprintf("on %s, %s resolves %s", h.Name, name, strings.Join(problems, "; "))
		if len(got) == 0 {
			r.Summary = fmt.Sprintf("on %s, %s does not resolve", h.Name, name)
		}
	} else {
		r.Status, r.Summary = Pass, fmt.Sprintf("on %s, %s resolves to %s", h.Name, name, strings.Join(got, ", "))
	}
	return r
}

func splitList(s string) []string {
	return uniqueSorted(strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }))
}

func uniqueSorted(l []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range l {
		if x != "" && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

func overlaps(a, b []string) bool { return len(intersect(a, b)) > 0 }

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// ReachCheck tries every port of every target from every host of the From roles, and
// shows the result as a matrix: the view a cluster's frontends have of its backends.
type ReachCheck struct {
	From Refs `yaml:"from"`
	// To names target roles, reached by their host names.
	To Refs `yaml:"to"`
	// Targets adds targets written as host names or templates.
	Targets []*Template `yaml:"targets"`
	Ports   []int       `yaml:"ports"`
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
		if p < 1 || p > 65535 {
			c.errorf(ch.Pos, "port %d is outside 1-65535", p)
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

func (k *ReachCheck) describe(x *stepExec) string {
	to, _ := k.targets(x)
	state := "reaches"
	if k.Expect == "closed" {
		state = "cannot reach"
	}
	ports := make([]string, len(k.Ports))
	for i, p := range k.Ports {
		ports[i] = strconv.Itoa(p)
	}
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
	roles := distinctRoles(x, k.From)
	results := tryMatrix(ctx, x, roles, to, k.Ports, timeout)
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

// OutageCheck asks several vantage points whether they reach a target, and gives a
// verdict that tells "the target is down" (nobody reaches it) from "a link is cut"
// (some do, some do not) and "up" (everybody does). Failing over on a cut link is how a
// standby ends up running beside a live primary, so a failover gates on "down".
type OutageCheck struct {
	Target Ref `yaml:"target"`
	// From are the vantage points: the operator's machine, the standby, a third host.
	From  Refs  `yaml:"from"`
	Ports []int `yaml:"ports"`
	// Expect is the verdict that passes: down (default), up or partition.
	Expect string `yaml:"expect"`
	// Hold requires the verdict to hold this long, re-asked every few seconds: the
	// site's outage threshold, literal ("5m") or a parameter ("{{ params.threshold }}").
	Hold    *DurationTmpl `yaml:"hold"`
	Every   Duration      `yaml:"every"`
	Timeout Duration      `yaml:"timeout"`
}

func (k *OutageCheck) compile(c *compiler, ch *Check) {
	c.role(k.Target, "target", ch.Pos)
	c.roles(k.From, "from", ch.Pos)
	if len(k.Ports) == 0 {
		c.errorf(ch.Pos, "ports: the ports the target serves on (its service, not only ping)")
	}
	c.compileDuration(k.Hold, "hold", ch, false)
	switch k.Expect {
	case "", "down", "up", "partition":
	default:
		c.errorf(ch.Pos, "expect must be down, up or partition, not %q", k.Expect)
	}
}

func (k *OutageCheck) want() string {
	if k.Expect == "" {
		return "down"
	}
	return k.Expect
}

func (k *OutageCheck) describe(x *stepExec) string {
	s := fmt.Sprintf("%s is %s as seen from %s", x.host(k.Target.Name).Name, k.want(), strings.Join(hostNames(x, k.From), ", "))
	if !k.Hold.IsZero() {
		s += fmt.Sprintf(", for %s", x.mustRender(k.Hold.T))
	}
	return s
}

// verdict reads a matrix: which vantage points reach the target on any port. A vantage
// point reaches it when one connection opened; it does not reach it only when every
// attempt was refused or timed out. A vantage point that could not be asked, or whose
// attempts failed in a way that says nothing of the target (a name that does not
// resolve, a forwarding its sshd refuses), makes the verdict "unknown": "down" is given
// only on the word of every vantage point.
func verdict(results []probeResult, target string) (string, string) {
	reach, tellsNothing := map[string]bool{}, map[string]bool{}
	var order, unknown []string
	why := map[string]string{}
	for _, r := range results {
		if _, seen := reach[r.from]; !seen {
			order = append(order, r.from)
			reach[r.from] = false
		}
		switch {
		case r.hostErr != nil:
			if !slices.Contains(unknown, r.from) {
				unknown = append(unknown, r.from)
				why[r.from] = "could not be asked"
			}
		case r.open:
			reach[r.from] = true
		case r.unknown != nil:
			tellsNothing[r.from] = true
		}
	}
	var yes, no []string
	for _, f := range order {
		switch {
		case slices.Contains(unknown, f):
		case reach[f]:
			yes = append(yes, f)
		case tellsNothing[f]:
			unknown = append(unknown, f)
			why[f] = "cannot tell (its attempts were neither refused nor timed out)"
		default:
			no = append(no, f)
		}
	}
	if len(unknown) > 0 {
		parts := make([]string, len(unknown))
		for i, f := range unknown {
			parts[i] = f + " " + why[f]
		}
		text := fmt.Sprintf("cannot tell whether %s is down: %s", target, strings.Join(parts, "; "))
		if len(yes) > 0 {
			text += fmt.Sprintf("; %s reach it", strings.Join(yes, ", "))
		}
		if len(no) > 0 {
			text += fmt.Sprintf("; %s do not", strings.Join(no, ", "))
		}
		return "unknown", text + " (every vantage point must be asked)"
	}
	switch {
	case len(yes) == 0 && len(no) == 0:
		return "unknown", "no vantage point could be asked"
	case len(yes) == 0:
		return "down", fmt.Sprintf("%s is down: none of %s reaches it", target, strings.Join(no, ", "))
	case len(no) == 0:
		return "up", fmt.Sprintf("%s is up: %s reach it", target, strings.Join(yes, ", "))
	}
	return "partition", fmt.Sprintf("the network is split, %s is not down: %s reach it, %s cannot (the link between them is cut)",
		target, strings.Join(yes, ", "), strings.Join(no, ", "))
}

func (k *OutageCheck) eval(ctx context.Context, x *stepExec) CheckResult {
	target := targetName(x, k.Target.Name)
	hold, err := x.duration(k.Hold)
	if err != nil {
		return errResult(fmt.Errorf("hold: %w", err))
	}
	timeout := cmpDur(k.Timeout.D, 3*time.Second)
	every := cmpDur(k.Every.D, 5*time.Second)
	roles := distinctRoles(x, k.From)
	start := x.now()
	var results []probeResult
	var v, text string
	for samples := 1; ; samples++ {
		results = tryMatrix(ctx, x, roles, []string{target}, k.Ports, timeout)
		v, text = verdict(results, x.host(k.Target.Name).Name)
		held := x.now().Sub(start)
		if v != k.want() || held >= hold {
			if hold > 0 && v == k.want() {
				text += fmt.Sprintf("; held for %s over %d samples", held.Round(time.Second), samples)
			}
			break
		}
		x.progress(Progress{Line: fmt.Sprintf("outage verdict %s for %s of %s", v, held.Round(time.Second), hold)})
		select {
		case <-ctx.Done():
			return errResult(ctx.Err())
		case <-time.After(min(every, hold-held)):
		}
	}
	r := CheckResult{Hosts: hostNames(x, k.From), Evidence: append(matrix(results), "verdict: "+v)}
	if v == k.want() {
		r.Status, r.Summary = Pass, text
	} else {
		r.Status, r.Summary = Fail, fmt.Sprintf("verdict %s, not %s: %s", v, k.want(), text)
	}
	return r
}

func cmpDur(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
