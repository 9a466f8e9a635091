package steps

import (
	"context"
	"fmt"
	"maps"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/probe"
)

// Checks that compare hosts with each other: clocks, round trips, machine identity,
// and any condition on freshly probed facts.

// ClockCheck measures the clocks of the roles' hosts now and passes when they are
// within MaxSkew of each other (and, if asked, in the same time zone).
type ClockCheck struct {
	Roles        Refs     `yaml:"roles"`
	MaxSkew      Duration `yaml:"max_skew"`
	SameTimezone bool     `yaml:"same_timezone"`
}

func (k *ClockCheck) compile(c *compiler, ch *Check) {
	c.roles(k.Roles, "roles", ch.Pos)
	if k.MaxSkew.D <= 0 && !k.SameTimezone {
		c.errorf(ch.Pos, "give max_skew (such as 1s), same_timezone: true, or both")
	}
}

func (k *ClockCheck) describe(x *stepExec) string {
	var parts []string
	if k.MaxSkew.D > 0 {
		parts = append(parts, fmt.Sprintf("clocks within %s of each other", k.MaxSkew.D))
	}
	if k.SameTimezone {
		parts = append(parts, "the same time zone")
	}
	return fmt.Sprintf("%s: %s", strings.Join(hostNames(x, k.Roles), ", "), strings.Join(parts, " and "))
}

// clockCommand prints the host's time as Unix seconds and its zone, on two lines.
func clockCommand(h *probe.Host) string {
	if h.PowerShell() {
		return `$t=[DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds()/1000.0; $t.ToString([Globalization.CultureInfo]::InvariantCulture); ` +
			`$o=[TimeZoneInfo]::Local.GetUtcOffset([DateTime]::Now); [TimeZoneInfo]::Local.Id + $(if($o -lt 0){'-'}else{'+'}) + $o.ToString('hhmm')`
	}
	return `date +%s.%N 2>/dev/null || date +%s; date +%Z%z`
}

// hostClock is one host's clock reading.
type hostClock struct {
	host        string
	offset, unc time.Duration
	zone        string
	err         error
}

// readClock measures a host's clock against the operator's: the reading is placed at
// the middle of the command's round trip, which bounds the error by half of it.
func readClock(ctx context.Context, x *stepExec, role string) hostClock {
	h := x.host(role)
	c := hostClock{host: h.Name}
	t, _, err := x.conn(ctx, role)
	if err != nil {
		c.err = err
		return c
	}
	t0 := time.Now()
	code, out, err := capture(ctx, t, clockCommand(h))
	t1 := time.Now()
	if err == nil && code != 0 {
		err = fmt.Errorf("the clock command exited %d", code)
	}
	if err != nil {
		c.err = err
		return c
	}
	lines := strings.Fields(strings.TrimSpace(out))
	if len(lines) < 2 {
		c.err = fmt.Errorf("unexpected clock output %q", out)
		return c
	}
	secs, err := strconv.ParseFloat(lines[0], 64)
	if err != nil {
		c.err = fmt.Errorf("unexpected clock output %q", out)
		return c
	}
	remote := time.Unix(0, int64(secs*1e9))
	mid := t0.Add(t1.Sub(t0) / 2)
	c.offset, c.unc, c.zone = remote.Sub(mid), t1.Sub(t0)/2, lines[len(lines)-1]
	return c
}

func (k *ClockCheck) eval(ctx context.Context, x *stepExec) CheckResult {
	roles := distinctRoles(x, k.Roles)
	clocks := make([]hostClock, len(roles))
	var wg sync.WaitGroup
	for i, role := range roles {
		wg.Go(func() { clocks[i] = readClock(ctx, x, role) })
	}
	wg.Wait()
	r := CheckResult{Hosts: hostNames(x, k.Roles)}
	var lo, hi *hostClock
	zones := map[string][]string{}
	for i := range clocks {
		c := &clocks[i]
		if c.err != nil {
			res := errResult(fmt.Errorf("%s: %w", c.host, c.err), r.Hosts...)
			res.Evidence = r.Evidence
			return res
		}
		r.Evidence = append(r.Evidence, fmt.Sprintf("%s: clock %+.1fms (±%.1fms) against the operator's, zone %s",
			c.host, ms(c.offset), ms(c.unc), c.zone))
		if lo == nil || c.offset < lo.offset {
			lo = c
		}
		if hi == nil || c.offset > hi.offset {
			hi = c
		}
		zones[zoneOffset(c.zone)] = append(zones[zoneOffset(c.zone)], c.host)
	}
	skew := hi.offset - lo.offset
	r.Evidence = append(r.Evidence, fmt.Sprintf("largest difference: %.1fms (%s ahead of %s)", ms(skew), hi.host, lo.host))
	var problems []string
	if k.MaxSkew.D > 0 && skew > k.MaxSkew.D {
		problems = append(problems, fmt.Sprintf("%s is %.0fms ahead of %s (at most %s allowed)", hi.host, ms(skew), lo.host, k.MaxSkew.D))
	}
	if k.SameTimezone && len(zones) > 1 {
		var parts []string
		for z, hs := range zones {
			parts = append(parts, z+": "+strings.Join(hs, ","))
		}
		problems = append(problems, "time zones differ ("+strings.Join(sortedCopy(parts), "; ")+")")
	}
	if len(problems) > 0 {
		r.Status, r.Summary = Fail, strings.Join(problems, "; ")
	} else {
		r.Status, r.Summary = Pass, fmt.Sprintf("clocks agree within %.1fms", ms(skew))
	}
	return r
}

// zoneOffset reduces "CET+0100" to "+0100": hosts agree on the time zone when their
// offsets from UTC do, whatever each calls its zone.
func zoneOffset(z string) string {
	if i := strings.LastIndexAny(z, "+-"); i >= 0 {
		return z[i:]
	}
	return z
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func sortedCopy(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
}

// RTTCheck measures the round trip between two hosts from the first one: it times TCP
// connections from the host to the other host's port, minus the time the same kind of
// connection to the host's own loopback takes (the SSH channel's own round trip), and
// takes the fastest of several samples. A LAN answers in well under a millisecond; a
// WAN in tens.
type RTTCheck struct {
	From Ref `yaml:"from"`
	To   Ref `yaml:"to"`
	Port int `yaml:"port"`
	// Max is the longest round trip allowed: "5ms", or a parameter when the limit is
	// the site's to set (a guide that advises against a WAN without forbidding it).
	Max     DurationTmpl `yaml:"max"`
	Samples int          `yaml:"samples"`
}

func (k *RTTCheck) compile(c *compiler, ch *Check) {
	c.role(k.From, "from", ch.Pos)
	c.role(k.To, "to", ch.Pos)
	if k.Port < 1 || k.Port > 65535 {
		c.errorf(ch.Pos, "port: a port the target answers on (1-65535)")
	}
	c.compileDuration(&k.Max, "max", ch, true)
	if k.Samples < 0 || k.Samples > 50 {
		c.errorf(ch.Pos, "samples must be between 1 and 50")
	}
}

func (k *RTTCheck) describe(x *stepExec) string {
	return fmt.Sprintf("round trip from %s to %s under %s", x.host(k.From.Name).Name, x.host(k.To.Name).Name, x.mustRender(k.Max.T))
}

// fastestDial is the shortest of n connection times to addr from the host; a refused
// connection counts, since it too has made the round trip.
func fastestDial(ctx context.Context, t probe.Transport, addr string, n int) (time.Duration, bool, error) {
	best := time.Duration(-1)
	opened := false
	for range n {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		t0 := time.Now()
		c, err := t.DialTCP(dctx, addr)
		took := time.Since(t0)
		cancel()
		if probe.IsConnectionError(err) || ctx.Err() != nil {
			return 0, false, cmpErr(err, ctx.Err())
		}
		if err == nil {
			opened = true
			c.Close()
		} else if !strings.Contains(strings.ToLower(err.Error()), "refused") {
			return 0, false, err
		}
		if best < 0 || took < best {
			best = took
		}
	}
	return best, opened, nil
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func (k *RTTCheck) eval(ctx context.Context, x *stepExec) CheckResult {
	limit, err := x.duration(&k.Max)
	if err != nil {
		return errResult(fmt.Errorf("max: %w", err), x.host(k.From.Name).Name)
	}
	if limit <= 0 {
		return errResult(fmt.Errorf("max: the longest round trip allowed must be more than 0, such as 5ms"), x.host(k.From.Name).Name)
	}
	t, h, err := x.conn(ctx, k.From.Name)
	if err != nil {
		return errResult(err, x.host(k.From.Name).Name)
	}
	n := k.Samples
	if n == 0 {
		n = 5
	}
	target := targetName(x, k.To.Name)
	// Port 1 of the host's own loopback is closed almost everywhere; connecting to it
	// costs the channel's round trip and nothing more.
	base, _, err := fastestDial(ctx, t, "127.0.0.1:1", n)
	if err != nil {
		return errResult(fmt.Errorf("%s: measuring the channel's own round trip: %w", h.Name, err), h.Name)
	}
	addr := net.JoinHostPort(target, strconv.Itoa(k.Port))
	full, opened, err := fastestDial(ctx, t, addr, n)
	r := CheckResult{Hosts: []string{h.Name, x.host(k.To.Name).Name}}
	if err != nil {
		if probe.IsConnectionError(err) {
			return errResult(err, r.Hosts...)
		}
		r.Status, r.Summary = Fail, fmt.Sprintf("%s cannot connect to %s: %v", h.Name, addr, err)
		r.Evidence = []string{r.Summary}
		return r
	}
	rtt := max(full-base, 0)
	r.Evidence = []string{
		fmt.Sprintf("%s -> %s: fastest of %d connections %.2fms; the SSH channel's own round trip %.2fms; round trip ≈ %.2fms", h.Name, addr, n, ms(full), ms(base), ms(rtt)),
	}
	if !opened {
		r.Evidence = append(r.Evidence, "(the port refused: the round trip was measured on the refusal)")
	}
	if rtt > limit {
		r.Status, r.Summary = Fail, fmt.Sprintf("round trip %s -> %s is %.1fms, more than %s: not a LAN", h.Name, x.host(k.To.Name).Name, ms(rtt), limit)
	} else {
		r.Status, r.Summary = Pass, fmt.Sprintf("round trip %s -> %s is %.2fms", h.Name, x.host(k.To.Name).Name, ms(rtt))
	}
	return r
}

// DistinctMachinesCheck passes when no two of the roles' hosts are the same machine:
// the same host key, or the same machine identity, under two inventory names.
type DistinctMachinesCheck struct {
	Roles Refs `yaml:"roles"`
}

func (k *DistinctMachinesCheck) compile(c *compiler, ch *Check) {
	c.roles(k.Roles, "roles", ch.Pos)
	if len(k.Roles) < 2 {
		c.errorf(ch.Pos, "roles: name at least two roles to compare")
	}
}

func (k *DistinctMachinesCheck) describe(x *stepExec) string {
	return fmt.Sprintf("%s are different machines", strings.Join(hostNames(x, k.Roles), ", "))
}

func (k *DistinctMachinesCheck) eval(ctx context.Context, x *stepExec) CheckResult {
	r := CheckResult{Status: Pass}
	type ident struct{ host, key, id string }
	var ids []ident
	for _, ref := range k.Roles {
		h := x.host(ref.Name)
		f := x.facts[h.Name]
		if f == nil || !f.Reachable {
			return errResult(fmt.Errorf("no probe facts for %s", h.Name), h.Name)
		}
		ids = append(ids, ident{h.Name, f.HostKey, f.MachineID})
		r.Hosts = append(r.Hosts, h.Name)
		r.Evidence = append(r.Evidence, fmt.Sprintf("%s: host key %s, machine id %s", h.Name, orDash(f.HostKey), orDash(f.MachineID)))
	}
	var same []string
	for i := range ids {
		for j := i + 1; j < len(ids); j++ {
			a, b := ids[i], ids[j]
			switch {
			case a.host == b.host:
				same = append(same, fmt.Sprintf("%s is bound to two roles", a.host))
			case a.key != "" && a.key == b.key:
				same = append(same, fmt.Sprintf("%s and %s are the same machine (same host key)", a.host, b.host))
			case a.id != "" && a.id == b.id:
				same = append(same, fmt.Sprintf("%s and %s are the same machine (same machine id)", a.host, b.host))
			}
		}
	}
	if len(same) > 0 {
		r.Status, r.Summary = Fail, strings.Join(same, "; ")
	} else {
		r.Summary = fmt.Sprintf("%d different machines", len(ids))
	}
	return r
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// FactsCheck probes the roles' hosts again and evaluates a condition on the fresh facts,
// for what only a comparison of facts can tell (versions, settings, names).
type FactsCheck struct {
	Roles   Refs   `yaml:"roles"`
	That    *Expr  `yaml:"that"`
	Because string `yaml:"because"`
}

func (k *FactsCheck) compile(c *compiler, ch *Check) {
	c.roles(k.Roles, "roles", ch.Pos)
	if k.That == nil {
		c.errorf(ch.Pos, "that: an expression over roles.NAME facts")
		return
	}
	if k.Because == "" {
		c.errorf(ch.Pos, "because: what the condition means, for the operator")
	}
	c.cond(k.That, false)
}

func (k *FactsCheck) describe(x *stepExec) string {
	return fmt.Sprintf("%s (%s)", k.Because, k.That.Src)
}

func (k *FactsCheck) eval(ctx context.Context, x *stepExec) CheckResult {
	vals := x.vals()
	roles := map[string]RoleEnv{}
	for r, re := range vals.Roles {
		roles[r] = re
	}
	r := CheckResult{}
	pr := &probe.Prober{Pool: x.pool}
	for _, role := range distinctRoles(x, k.Roles) {
		h := x.host(role)
		f := pr.Probe(ctx, h)
		if !f.Reachable {
			return errResult(&probe.UnreachableError{Host: h.Name, Addr: h.Addr(), Err: fmt.Errorf("%s", f.Error)}, h.Name)
		}
		r.Hosts = append(r.Hosts, h.Name)
		for _, ref := range k.Roles {
			if x.host(ref.Name).Name == h.Name {
				roles[ref.Name] = NewRoleEnv(h, f)
			}
		}
		r.Evidence = append(r.Evidence, factsLine(h.Name, f))
	}
	vals.Roles = roles
	ok, err := k.That.eval(x.rb.schema, vals, "")
	if err != nil {
		return errResult(err, r.Hosts...)
	}
	if ok {
		r.Status, r.Summary = Pass, k.Because
	} else {
		r.Status, r.Summary = Fail, "not so: "+k.Because+" ("+k.That.Src+" is false)"
	}
	return r
}

func factsLine(host string, f *probe.Facts) string {
	var settings []string
	for _, c := range slices.Sorted(maps.Keys(f.Settings)) {
		for _, key := range slices.Sorted(maps.Keys(f.Settings[c])) {
			settings = append(settings, c+"."+key+"="+f.Settings[c][key])
		}
	}
	s := fmt.Sprintf("%s: %s, components %s", host, orDash(f.Hostname), orDash(strings.Join(f.Components, ",")))
	if len(settings) > 0 {
		s += "; " + strings.Join(firstN(settings, 8), " ")
	}
	return s
}
