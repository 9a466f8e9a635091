package steps_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/steps"
)

const planRunbook = `id: test/plan
title: Move the Hub
system: Test
source: Test manual, section 2
roles:
  - id: old
    title: Server with the Hub
    requires:
      - that: '"hub" in role.components'
        because: the Hub must be installed here
  - id: new
    title: Server the Hub moves to
    requires:
      - that: '!("hub" in role.components)'
        because: the Hub must not be installed here yet
      - that: role.host != roles.old.host
        because: the new server must be another host than the old one
params:
  - id: hub_host
    title: Hub host name
    type: host
    default: "{{ roles.new.hostname }}"
  - id: port
    title: Port
    type: port
    default: "8080"
  - id: database
    title: Database
    type: choice
    choices: [internal, external]
    default: internal
  - id: lists
    title: Hosted lists
    type: bool
  - id: note
    title: Note
    optional: true
  - id: site
    title: Site
presets:
  - id: example
    title: The manual's example
    params: {database: external, port: "9090", site: west}
steps:
  - id: always
    title: Always done
    manual: true
  - id: lists-only
    title: Only with hosted lists
    when: params.database == "internal" && params.lists
    skip_reason: only needed when the internal database serves Hosted LISTSERV Lists
    manual: true
  - id: external-only
    title: Only with an external database
    when: params.database == "external"
    manual: true
  - id: fresh
    title: Fresh installation
    when: len(roles.new.components) == 0
    skip_reason: the new server already has Maestro components
    manual: true
  - id: stop
    title: Stop everything
    action:
      service: {roles: [old, new], name: maestro, do: stop}
    gates:
      - file_absent: {role: new, path: hub/hub.ini}
`

// planWorld is an inventory and the facts a probe found.
type planWorld struct {
	hosts map[string]*probe.Host
	facts map[string]*probe.Facts
}

func newPlanWorld() *planWorld {
	w := &planWorld{hosts: map[string]*probe.Host{}, facts: map[string]*probe.Facts{}}
	add := func(name, hostname string, reachable bool, comps ...string) {
		w.hosts[name] = &probe.Host{Name: name, Address: name + ".lan", Port: 22}
		w.facts[name] = &probe.Facts{Name: name, Reachable: reachable, Hostname: hostname, Components: comps}
	}
	add("hub", "hub.example.com", true, "hub", "lui")
	add("spare", "spare.example.com", true, "lui")
	add("empty", "empty.example.com", true)
	add("hub2", "hub2.example.com", true, "hub")
	add("down", "", false)
	add("odd", "odd host name", true)
	return w
}

func (w *planWorld) lookup(name string) *probe.Host { return w.hosts[name] }

func planLoad(t *testing.T) *steps.Runbook {
	t.Helper()
	rb, err := steps.Parse("plan.yaml", []byte(planRunbook))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return rb
}

func planSteps(p *steps.Plan) map[string]steps.PlannedStep {
	m := map[string]steps.PlannedStep{}
	for _, s := range p.Steps {
		m[s.ID] = s
	}
	return m
}

func TestPrepareBindsRolesAndParameters(t *testing.T) {
	rb, w := planLoad(t), newPlanWorld()
	p, err := steps.Prepare(rb, w.lookup, steps.Inputs{
		Roles:  map[string]string{"old": "hub", "new": "spare"},
		Params: map[string]string{"site": "east", "lists": "yes"},
	}, w.facts)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if p.Roles["old"] != w.hosts["hub"] || p.Roles["new"] != w.hosts["spare"] {
		t.Errorf("roles = %v", p.Roles)
	}
	if p.Facts["hub"] != w.facts["hub"] || p.Facts["spare"] != w.facts["spare"] || len(p.Facts) != 2 {
		t.Errorf("facts = %v, want those of the two bound hosts", p.Facts)
	}
	want := map[string]any{
		"hub_host": "spare.example.com", // the default, from the new server's facts
		"port":     8080,
		"database": "internal",
		"lists":    true,
		"note":     "",
		"site":     "east",
	}
	for k, v := range want {
		if p.Params[k] != v {
			t.Errorf("param %s = %#v, want %#v", k, p.Params[k], v)
		}
	}
	if got := slices.Collect(func(yield func(string) bool) {
		for _, s := range p.Steps {
			if !yield(s.ID) {
				return
			}
		}
	}); !slices.Equal(got, []string{"always", "lists-only", "external-only", "fresh", "stop"}) {
		t.Errorf("plan order = %v", got)
	}
	ps := planSteps(p)
	t.Run("a true condition keeps the step", func(t *testing.T) {
		if s := ps["lists-only"]; s.Skip || s.Undecided {
			t.Errorf("lists-only = %+v", s)
		}
	})
	t.Run("a false condition skips with the runbook's reason", func(t *testing.T) {
		if s := ps["fresh"]; !s.Skip || s.Reason != "the new server already has Maestro components" {
			t.Errorf("fresh = %+v", s)
		}
	})
	t.Run("a false condition without a reason shows the condition", func(t *testing.T) {
		if s := ps["external-only"]; !s.Skip || s.Reason != `its condition is false: params.database == "external"` {
			t.Errorf("external-only = %+v", s)
		}
	})
	t.Run("a step lists the hosts it touches", func(t *testing.T) {
		if got := ps["stop"].Hosts; !slices.Equal(got, []string{"hub", "spare"}) {
			t.Errorf("stop hosts = %v", got)
		}
		if got := ps["always"].Hosts; len(got) != 0 {
			t.Errorf("a manual step without checks touches %v", got)
		}
	})
}

func TestPrepareConditionsFollowTheFacts(t *testing.T) {
	rb, w := planLoad(t), newPlanWorld()
	p, err := steps.Prepare(rb, w.lookup, steps.Inputs{
		Roles:  map[string]string{"old": "hub", "new": "empty"},
		Params: map[string]string{"site": "east"},
	}, w.facts)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	ps := planSteps(p)
	if ps["fresh"].Skip {
		t.Errorf("fresh is skipped on a server without components: %+v", ps["fresh"])
	}
	if s := ps["lists-only"]; !s.Skip || s.Reason != "only needed when the internal database serves Hosted LISTSERV Lists" {
		t.Errorf("lists-only with lists=false (the bool default) = %+v", s)
	}
}

func TestPreparePresets(t *testing.T) {
	rb, w := planLoad(t), newPlanWorld()
	roles := map[string]string{"old": "hub", "new": "spare"}
	t.Run("a preset gives its values", func(t *testing.T) {
		p, err := steps.Prepare(rb, w.lookup, steps.Inputs{Roles: roles, Preset: "example"}, w.facts)
		if err != nil {
			t.Fatalf("Prepare: %v", err)
		}
		if p.Params["database"] != "external" || p.Params["port"] != 9090 || p.Params["site"] != "west" {
			t.Errorf("params = %v", p.Params)
		}
		if s := planSteps(p)["external-only"]; s.Skip {
			t.Errorf("external-only is skipped under the preset: %+v", s)
		}
	})
	t.Run("explicit values override the preset", func(t *testing.T) {
		p, err := steps.Prepare(rb, w.lookup, steps.Inputs{Roles: roles, Preset: "example", Params: map[string]string{"port": "7070", "hub_host": "hub.example.org"}}, w.facts)
		if err != nil {
			t.Fatalf("Prepare: %v", err)
		}
		if p.Params["port"] != 7070 || p.Params["database"] != "external" || p.Params["hub_host"] != "hub.example.org" {
			t.Errorf("params = %v", p.Params)
		}
	})
}

func TestPrepareInputErrorsListEveryProblem(t *testing.T) {
	rb, w := planLoad(t), newPlanWorld()
	tests := []struct {
		name string
		in   steps.Inputs
		want []string
	}{
		{
			name: "unbound, unknown role and unknown host",
			in: steps.Inputs{
				Roles:  map[string]string{"old": "nohost", "nwe": "spare"},
				Params: map[string]string{"site": "x"},
			},
			want: []string{
				`unknown role "nwe" (test/plan has: old, new)`,
				`role old: host "nohost" is not in the inventory`,
				"role new (Server the Hub moves to) is not bound to a host: use --role new=HOST",
			},
		},
		{
			name: "unknown parameters and preset, in name order",
			in: steps.Inputs{
				Roles:  map[string]string{"old": "hub", "new": "spare"},
				Params: map[string]string{"zport": "1", "aport": "2", "mport": "3", "site": "x"},
				Preset: "nope",
			},
			want: []string{
				`unknown preset "nope" (test/plan has: example)`,
				`unknown parameter "aport" (test/plan has: hub_host, port, database, lists, note, site)`,
				`unknown parameter "mport"`,
				`unknown parameter "zport"`,
			},
		},
		{
			name: "missing and invalid values",
			in: steps.Inputs{
				Roles:  map[string]string{"old": "hub", "new": "spare"},
				Params: map[string]string{"port": "http", "lists": "maybe", "hub_host": "hub:8080"},
			},
			want: []string{
				`parameter hub_host: "hub:8080" carries a port (8080)`,
				`parameter port: a port is a number from 1 to 65535, got "http"`,
				`parameter lists: expected yes or no, got "maybe"`,
				"parameter site (Site) is required: use --set site=VALUE",
			},
		},
		{
			name: "a default from facts that is not valid",
			in: steps.Inputs{
				Roles:  map[string]string{"old": "hub", "new": "odd"},
				Params: map[string]string{"site": "x"},
			},
			want: []string{`parameter hub_host: "odd host name" is not a valid host name`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 10 { // the problems come in the same order every time
				_, err := steps.Prepare(rb, w.lookup, tt.in, w.facts)
				var ie *steps.InputError
				if !errors.As(err, &ie) {
					t.Fatalf("Prepare = %T %v, want an *InputError", err, err)
				}
				if len(ie.Problems) != len(tt.want) {
					t.Fatalf("problems:\n%s\nwant %d:\n%s", ie, len(tt.want), strings.Join(tt.want, "\n"))
				}
				for i, want := range tt.want {
					if !strings.HasPrefix(ie.Problems[i], want) {
						t.Fatalf("problem %d = %q, want it to start with %q", i+1, ie.Problems[i], want)
					}
				}
			}
		})
	}
}

func TestPrepareChecksRoleRequirements(t *testing.T) {
	rb, w := planLoad(t), newPlanWorld()
	tests := []struct {
		name       string
		old, new   string
		want       []string
		wantPassed bool
	}{
		{name: "all met", old: "hub", new: "spare", wantPassed: true},
		{
			name: "the Hub is on neither and both are one host",
			old:  "spare", new: "spare",
			want: []string{
				`role old on spare: the Hub must be installed here ("hub" in role.components)`,
				"role new on spare: the new server must be another host than the old one (role.host != roles.old.host)",
			},
		},
		{
			name: "the Hub is already on the new server",
			old:  "hub", new: "hub2",
			want: []string{`role new on hub2: the Hub must not be installed here yet (!("hub" in role.components))`},
		},
		{name: "an unreachable host is left to the caller", old: "hub", new: "down", wantPassed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := steps.Prepare(rb, w.lookup, steps.Inputs{
				Roles:  map[string]string{"old": tt.old, "new": tt.new},
				Params: map[string]string{"site": "x", "hub_host": "h.example"},
			}, w.facts)
			if tt.wantPassed {
				if err != nil {
					t.Fatalf("Prepare: %v", err)
				}
				return
			}
			var re *steps.RequirementError
			if !errors.As(err, &re) {
				t.Fatalf("Prepare = %T %v, want a *RequirementError", err, err)
			}
			if !slices.Equal(re.Problems, tt.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(re.Problems, "\n"), strings.Join(tt.want, "\n"))
			}
			if !strings.HasPrefix(re.Error(), "the hosts do not meet the runbook's requirements:") {
				t.Errorf("Error() = %q", re.Error())
			}
		})
	}
}

func TestPrepareWithoutFacts(t *testing.T) {
	rb, w := planLoad(t), newPlanWorld()
	// spare would fail old's requirement; without facts requirements are not checked.
	p, err := steps.Prepare(rb, w.lookup, steps.Inputs{
		Roles:  map[string]string{"old": "spare", "new": "spare"},
		Params: map[string]string{"site": "x"},
	}, nil)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if got := p.Params["hub_host"]; got != "<new.hostname>" {
		t.Errorf("a default from facts = %#v, want the placeholder <new.hostname>", got)
	}
	ps := planSteps(p)
	if s := ps["fresh"]; !s.Undecided || s.Skip || s.Reason != "decided when run, from the hosts' facts; skipped if the new server already has Maestro components" {
		t.Errorf("a condition on facts = %+v, want undecided", s)
	}
	if s := ps["external-only"]; s.Undecided || !s.Skip {
		t.Errorf("a condition on parameters only = %+v, want decided (skipped)", s)
	}
	if len(p.Facts) != 0 {
		t.Errorf("facts = %v, want none", p.Facts)
	}
	d, err := p.Describe("stop")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Gates) != 1 || !strings.Contains(d.Gates[0], "spare:hub/hub.ini is absent") {
		t.Errorf("gates = %q", d.Gates)
	}
	if _, err := p.Describe("nope"); err == nil {
		t.Error("Describe of an unknown step must fail")
	}
}

func TestPrepareDefaultsSeeEarlierParameters(t *testing.T) {
	src := `id: test/defaults
title: Defaults
system: S
source: M
params:
  - id: host
    title: Host
    type: host
    default: hub.example
  - id: url
    title: URL
    default: "https://{{ params.host }}:{{ params.port }}/"
  - id: port
    title: Port
    type: port
    default: "8443"
steps:
  - id: s
    title: S
    manual: true
`
	rb, err := steps.Parse("defaults.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	p, err := steps.Prepare(rb, func(string) *probe.Host { return nil }, steps.Inputs{Params: map[string]string{"host": "other.example"}}, map[string]*probe.Facts{})
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	// port comes after url, so url sees it unset (0): defaults are rendered in order.
	if got := p.Params["url"]; got != "https://other.example:0/" {
		t.Errorf("url = %q", got)
	}
}
