package steps

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe"
)

const fitRunbook = `id: test/fit
title: Fail over
system: Test
source: a test
roles:
  - id: primary
    title: Primary that failed
    may_be_down: true
    requires:
      - that: '"app" in role.components'
        because: the application must be installed on the primary
  - id: standby
    title: Standby
    requires:
      - that: '"app" in role.components'
        because: the application must be installed on the standby
      - that: role.host != roles.primary.host
        because: the standby must be another host than the primary
  - id: watcher
    title: A third host
steps:
  - id: fence
    title: Fence the primary through its services
    when: roles.primary.reachable
    manual: true
    text: x
  - id: fence-by-hand
    title: Fence the primary by hand
    when: '!roles.primary.reachable'
    manual: true
    text: x
  - id: look
    title: Look
    manual: true
    text: x
`

func fitHosts() (map[string]*probe.Host, map[string]*probe.Facts) {
	hosts := map[string]*probe.Host{}
	facts := map[string]*probe.Facts{}
	for name, comps := range map[string][]string{"a": {"app"}, "b": {"app"}, "c": nil, "down": nil} {
		hosts[name] = &probe.Host{Name: name}
		facts[name] = &probe.Facts{Name: name, Reachable: name != "down", Components: comps}
		if name == "down" {
			facts[name].Error = "connection refused"
		}
	}
	return hosts, facts
}

// TestFitJudgesEachWay: a host is judged by the role's own requirements and by those
// of the roles already bound that look at it (the standby's "another host than the
// primary" stops the primary from taking the standby's host), and a host that does not
// answer fits only a role that may be down.
func TestFitJudgesEachWay(t *testing.T) {
	rb, err := Parse("fit.yaml", []byte(fitRunbook))
	if err != nil {
		t.Fatal(err)
	}
	hosts, facts := fitHosts()
	for _, c := range []struct {
		name, role, host string
		bound            map[string]string
		ok, down         bool
		why              []string
	}{
		{"fits", "standby", "a", nil, true, false, nil},
		{"own requirement", "standby", "c", nil, false, false, []string{"the application must be installed on the standby"}},
		{"another role's requirement", "primary", "a", map[string]string{"standby": "a"}, false, false,
			[]string{"standby on a: the standby must be another host than the primary"}},
		{"down, may be down", "primary", "down", nil, true, true, nil},
		{"down, must answer", "standby", "down", nil, false, false, []string{"unreachable: connection refused"}},
		{"unprobed", "watcher", "x", nil, false, false, []string{"not probed yet"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := Binding{Roles: map[string]*probe.Host{}, Facts: facts}
			for r, h := range c.bound {
				b.Roles[r] = hosts[h]
			}
			h := hosts[c.host]
			if h == nil {
				h = &probe.Host{Name: c.host}
			}
			f := rb.Fit(c.role, h, b)
			if f.OK() != c.ok || f.Down != c.down || !reflect.DeepEqual(f.Why(c.role), c.why) {
				t.Errorf("Fit(%s, %s) = ok %v down %v why %q; want ok %v down %v why %q", c.role, c.host,
					f.OK(), f.Down, f.Why(c.role), c.ok, c.down, c.why)
			}
		})
	}
}

// TestPrepareReportsEachUnmetRequirementOnce: the plan takes its requirements from Fit,
// and a requirement that two roles' verdicts share is reported once, in role order.
func TestPrepareReportsEachUnmetRequirementOnce(t *testing.T) {
	rb, err := Parse("fit.yaml", []byte(fitRunbook))
	if err != nil {
		t.Fatal(err)
	}
	hosts, facts := fitHosts()
	_, err = Prepare(rb, func(n string) *probe.Host { return hosts[n] },
		Inputs{Roles: map[string]string{"primary": "a", "standby": "a", "watcher": "c"}}, facts)
	re, ok := err.(*RequirementError)
	if !ok {
		t.Fatalf("Prepare: %v, want a RequirementError", err)
	}
	want := []string{`role standby on a: the standby must be another host than the primary (role.host != roles.primary.host)`}
	if !reflect.DeepEqual(re.Problems, want) {
		t.Errorf("problems %q, want %q", re.Problems, want)
	}
	// A primary that does not answer is left to the caller; the plan goes on.
	if _, err := Prepare(rb, func(n string) *probe.Host { return hosts[n] },
		Inputs{Roles: map[string]string{"primary": "down", "standby": "a", "watcher": "c"}}, facts); err != nil {
		t.Errorf("a down primary: %v", err)
	}
}

// TestAutoBindOnlyWhenItCannotBeWrong: a role is bound by itself when exactly one
// answering host fits it and no unbound role could want that host; never a role that
// may be down.
func TestAutoBindOnlyWhenItCannotBeWrong(t *testing.T) {
	rb, err := Parse("fit.yaml", []byte(fitRunbook))
	if err != nil {
		t.Fatal(err)
	}
	hosts, facts := fitHosts()
	list := func(names ...string) []*probe.Host {
		var out []*probe.Host
		for _, n := range names {
			out = append(out, hosts[n])
		}
		return out
	}
	names := func(b map[string]*probe.Host) map[string]string {
		out := map[string]string{}
		for r, h := range b {
			out[r] = h.Name
		}
		return out
	}
	// a and b both fit the standby: nothing is bound (the watcher fits every host).
	bound := map[string]*probe.Host{}
	if got := rb.AutoBind(list("a", "b", "c", "down"), facts, bound); len(got) != 0 {
		t.Errorf("two fitting hosts: bound %v", names(bound))
	}
	// One fitting host, a, but the unbound primary could want it: not bound.
	bound = map[string]*probe.Host{}
	rb.AutoBind(list("a", "down"), facts, bound)
	if bound["standby"] != nil || bound["primary"] != nil {
		t.Errorf("a host the primary could want was bound: %v", names(bound))
	}
	// The watcher, which has no requirements, could want any host: while it is unbound,
	// a is not bound to the standby.
	bound = map[string]*probe.Host{"primary": hosts["down"]}
	if got := rb.AutoBind(list("a", "c", "down"), facts, bound); len(got) != 0 {
		t.Errorf("bound %v with the watcher unbound", names(bound))
	}
	// The primary and the watcher bound: a is the standby's only host and nobody else
	// could want it.
	bound = map[string]*probe.Host{"primary": hosts["down"], "watcher": hosts["c"]}
	got := rb.AutoBind(list("a", "c", "down"), facts, bound)
	if !reflect.DeepEqual(got, []string{"standby"}) || bound["standby"] != hosts["a"] {
		t.Errorf("bound %v (%v), want standby=a", got, names(bound))
	}
}

// TestWithoutRoleSaysWhatTheRunDoesWithoutAHost: the steps a down primary skips and
// those that run only then.
func TestWithoutRoleSaysWhatTheRunDoesWithoutAHost(t *testing.T) {
	rb, err := Parse("fit.yaml", []byte(fitRunbook))
	if err != nil {
		t.Fatal(err)
	}
	skips, runs := rb.WithoutRole("primary")
	if strings.Join(skips, "|") != "Fence the primary through its services" || strings.Join(runs, "|") != "Fence the primary by hand" {
		t.Errorf("skips %q runs %q", skips, runs)
	}
}

// TestFitPendingOnParameters: while the parameters are not known (roles are chosen
// before them), a host that breaks only requirements reading a parameter may still fit
// once it is given (a component kept in the site's own folder): Pending names those
// parameters. With the parameters known, the same requirement is judged with them, and
// a requirement that reads none is never pending.
func TestFitPendingOnParameters(t *testing.T) {
	rb, err := Parse("pending.yaml", []byte(`id: test/pending
title: Move
system: Test
source: a test
roles:
  - id: old
    title: Old server
    requires:
      - that: '"app" in role.components || (params.app_dir ?? "") not in ["", "app"]'
        because: the application must be installed here (or give app_dir)
  - id: new
    title: New server
    requires:
      - that: '!("app" in role.components)'
        because: the application must not be installed on the new server yet
params:
  - {id: app_dir, title: the application's folder, type: path, default: app}
  - {id: myparams_x, title: a name that ends in params, type: string, optional: true}
steps:
  - id: look
    title: Look
    manual: true
    text: x
`))
	if err != nil {
		t.Fatal(err)
	}
	hosts, facts := fitHosts()
	choosing := Binding{Roles: map[string]*probe.Host{}, Facts: facts}
	if got := rb.Fit("old", hosts["c"], choosing).Pending(); !reflect.DeepEqual(got, []string{"app_dir"}) {
		t.Errorf("old on c while choosing roles: pending %q, want [app_dir]", got)
	}
	if f := rb.Fit("old", hosts["a"], choosing); !f.OK() || f.Pending() != nil {
		t.Errorf("old on a: ok %v pending %q", f.OK(), f.Pending())
	}
	if got := rb.Fit("new", hosts["a"], choosing).Pending(); got != nil {
		t.Errorf("new on a (a requirement without parameters): pending %q", got)
	}
	if got := rb.Fit("old", hosts["down"], choosing).Pending(); got != nil {
		t.Errorf("a host that does not answer: pending %q", got)
	}
	given := Binding{Roles: map[string]*probe.Host{}, Facts: facts, Params: map[string]any{"app_dir": "app"}}
	if f := rb.Fit("old", hosts["c"], given); f.OK() || f.Pending() != nil {
		t.Errorf("old on c with app_dir left at the manual's folder: ok %v pending %q", f.OK(), f.Pending())
	}
	given.Params["app_dir"] = "data/app"
	if f := rb.Fit("old", hosts["c"], given); !f.OK() {
		t.Errorf("old on c with app_dir given: %q", f.Why("old"))
	}
	for src, want := range map[string][]string{
		`params.a + params.b_c > 0 && params.a`: {"a", "b_c"},
		`myparams.x || role.params.y`:           nil,
		`(params.app_dir ?? "") != ""`:          {"app_dir"},
		`"params." in role.components`:          nil,
	} {
		if got := paramsRead(src); !reflect.DeepEqual(got, want) {
			t.Errorf("paramsRead(%q) = %q, want %q", src, got, want)
		}
	}
	for src, want := range map[string]bool{
		`role.host != roles.old.host`:    true,
		`roles.old_host == ""`:           false,
		`myroles.old.host == ""`:         false,
		`x.roles.old`:                    false,
		`roles.new.host != roles.old.os`: true,
	} {
		if got := mentionsRole(src, "old"); got != want {
			t.Errorf("mentionsRole(%q, old) = %v, want %v", src, got, want)
		}
	}
}
