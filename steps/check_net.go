package steps

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
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
