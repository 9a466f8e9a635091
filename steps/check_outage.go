package steps

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

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
