package tui

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/steps"
)

// Role binding at the Update level: what cutover binds by itself, and what it leaves
// to the operator, on synthetic hosts whose facts the tests deliver.

const bindingRunbook = `id: test/binding
title: Fail over to a standby
system: Test
source: a test
roles:
  - id: primary
    title: Primary server that failed
    may_be_down: true
    requires:
      - that: '"app" in role.components'
        because: the application must be installed on the primary
  - id: standby
    title: Standby server that takes over
    requires:
      - that: '"app" in role.components'
        because: the application must be installed on the standby
      - that: role.host != roles.primary.host
        because: the standby must be another host than the primary
  - id: db
    title: The database server
    requires:
      - that: '"db" in role.components'
        because: the database must run there
steps:
  - id: fence
    title: Fence the primary through its services
    when: roles.primary.reachable
    manual: true
    text: Fence it.
  - id: fence-by-hand
    title: Fence the primary by hand
    when: '!roles.primary.reachable'
    manual: true
    text: Fence it by hand.
`

// bindingSetup opens the setup of bindingRunbook on hosts with the given components
// ("" none, "down" a host that does not answer).
func bindingSetup(t *testing.T, comps map[string]string) (*harness, *setup) {
	t.Helper()
	rb, err := steps.Parse("binding.yaml", []byte(bindingRunbook))
	if err != nil {
		t.Fatal(err)
	}
	inv := &inventory.Inventory{File: "inventory.yaml"}
	var facts []*probe.Facts
	for _, name := range []string{"alpha", "beta", "gamma", "delta"} {
		c, ok := comps[name]
		if !ok {
			continue
		}
		inv.Hosts = append(inv.Hosts, &probe.Host{Name: name, Address: "192.0.2.1", Port: 22})
		f := &probe.Facts{Name: name, Reachable: true, Hostname: name + ".example.org"}
		switch c {
		case "down":
			f.Reachable, f.Error = false, "dial tcp 192.0.2.1:22: connect: connection refused"
		case "":
		default:
			f.Components = strings.Split(c, ",")
		}
		facts = append(facts, f)
	}
	h := newHarness(t, Config{Inventory: inv, Catalog: []*steps.Runbook{rb}, Runbook: rb.ID, Dialer: noDialer})
	h.giveFacts(facts)
	s, ok := h.top().(*setup)
	if !ok {
		t.Fatalf("the wizard opened on %T, want the setup", h.top())
	}
	return h, s
}

func boundNames(s *setup) map[string]string {
	out := map[string]string{}
	for r, h := range s.bound {
		out[r] = h.Name
	}
	return out
}

// Two hosts fit the standby: cutover cannot know which one is meant and binds neither.
// The one database server, which no other role could want, is bound, and marked.
func TestAutoBindLeavesTwoFittingHostsToTheOperator(t *testing.T) {
	h, s := bindingSetup(t, map[string]string{"alpha": "app", "beta": "app", "gamma": "db"})
	if got := boundNames(s); len(got) != 1 || got["db"] != "gamma" {
		t.Fatalf("bound by itself: %v, want only db=gamma", got)
	}
	if !s.auto["db"] || !strings.Contains(h.view(), "gamma ✓ auto") {
		t.Errorf("the automatic binding is not marked:\n%s", h.view())
	}
	if s.rb.Roles[s.roleCur].ID != "primary" {
		t.Errorf("cursor on %s, want the first unbound role", s.rb.Roles[s.roleCur].ID)
	}
}

// One host fits the standby and no unbound role could want it (the primary, which
// could, is bound already): it is bound. Choosing another host for a role clears the
// automatic mark.
func TestAutoBindBindsTheOnlyFitWithoutCompetition(t *testing.T) {
	t.Parallel()
	h, s := bindingSetup(t, map[string]string{"alpha": "app", "beta": "app", "gamma": "db"})
	bindRole(t, h, s, "primary", "alpha")
	h.giveFacts(nil) // the next probe round: the standby now has one host left, beta
	if got := boundNames(s); got["standby"] != "beta" || !s.auto["standby"] {
		t.Fatalf("bound: %v (auto %v), want standby=beta by cutover", got, s.auto)
	}
	bindRole(t, h, s, "standby", "beta")
	if s.auto["standby"] {
		t.Error("the operator's own choice is still marked as cutover's")
	}
}

// A role that may be down is never bound by itself, even with one fitting host; the
// healthy standby, which fits the failed primary's requirements too, is not bound to
// the standby either. The primary's list offers the host that does not answer, saying
// it is down and what the run does without it; bound, it shows as down, and the plan
// review says so.
func TestMayBeDownRoleIsOfferedDownHostsAndNeverBoundByItself(t *testing.T) {
	t.Parallel()
	h, s := bindingSetup(t, map[string]string{"alpha": "down", "beta": "app", "gamma": "db"})
	if got := boundNames(s); got["primary"] != "" || got["standby"] != "" || got["db"] != "gamma" {
		t.Fatalf("bound by itself: %v, want only db=gamma", got)
	}
	h.key("enter") // the primary's host list
	if !s.choosing {
		t.Fatal("enter does not open the primary's host list")
	}
	var down *candidate
	for i := range s.cands {
		if s.cands[i].h.Name == "alpha" {
			down = &s.cands[i]
		}
	}
	if down == nil || !down.fit.OK() || !down.fit.Down {
		t.Fatalf("the host that does not answer is not offered as down: %+v", down)
	}
	cursorTo(t, h, s, "alpha")
	v := h.view()
	for _, want := range []string{"↓ alpha", "down: dial tcp 192.0.2.1:22", "(dial tcp 192.0.2.1:22: connect: connection refused)",
		"alpha does not answer", "the run goes on without it", "«Fence the primary through its services»",
		"«Fence the primary by hand» instead"} {
		if !strings.Contains(strings.Join(strings.Fields(v), " "), want) {
			t.Errorf("the down host's account lacks %q:\n%s", want, v)
		}
	}
	h.checkFrame(80, 24)
	h.key("enter")
	if s.bound["primary"] == nil || s.bound["primary"].Name != "alpha" {
		t.Fatalf("the down host was not bound to the primary:\n%s", h.view())
	}
	if !strings.Contains(h.view(), "alpha ↓ down") {
		t.Errorf("the bound primary does not show as down:\n%s", h.view())
	}
	// The standby's list: the down host cannot be the standby.
	bindRole(t, h, s, "standby", "beta")
	h.key("n")
	h.pump("the plan review", wait, func() bool { _, ok := h.top().(*planPage); return ok })
	v = h.view()
	for _, want := range []string{"primary = alpha", "alpha does not answer: the run goes on without it", "db      = gamma",
		"bound by cutover: the only host that fits", "skipped: its condition is false: roles.primary.reachable"} {
		if !strings.Contains(v, want) {
			t.Errorf("the plan review lacks %q:\n%s", want, v)
		}
	}
}

const derivedRunbook = `id: test/derived
title: Folders on a share
system: Test
source: a test
roles:
  - id: box
    title: Any host
params:
  - id: share
    title: The share
    type: path
  - id: users
    title: Mail folders
    type: path
    default: '{{ params.share }}/Users'
steps:
  - id: look
    title: Look at the box
    manual: true
    text: Look.
`

// A default read from another parameter is computed from that parameter's value in the
// form (here from the run file), and again from the value the operator leaves there.
func TestFormDefaultsFollowTheParametersTheyRead(t *testing.T) {
	rf := &steps.RunFile{Runbook: "test/derived", Params: map[string]any{"share": "/srv/share"}}
	h, s := oneHostSetup(t, derivedRunbook, rf)
	h.key("n")
	if got := *s.values["users"]; got != "/srv/share/Users" {
		t.Fatalf("the form shows users = %q, want it from the share", got)
	}
	*s.values["share"] = "/mnt/other" // as typed into the field
	if got := s.inputs().Params; got["share"] != "/mnt/other" || got["users"] != "" {
		t.Fatalf("inputs %v: want the share, and users left to the plan", got)
	}
	plan, err := steps.Prepare(s.rb, h.a.inv.Host, s.inputs(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Params["users"] != "/mnt/other/Users" {
		t.Errorf("the plan's users = %v, want it from the share as left in the form", plan.Params["users"])
	}
}
