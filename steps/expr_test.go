package steps

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/probe"
)

// exprRunbook declares a parameter of every type and two roles.
const exprRunbook = `id: test/expr
title: Expressions
system: Test
source: Test manual
roles:
  - id: old
    title: Old server
  - id: new
    title: New server
params:
  - {id: name, title: Name}
  - {id: flag, title: Flag, type: bool, default: "no"}
  - {id: count, title: Count, type: int, default: "3"}
  - {id: mode, title: Mode, type: choice, choices: [fast, careful], default: fast}
  - {id: server, title: Server, type: host, optional: true}
  - {id: port, title: Port, type: port, default: "443"}
  - {id: dir, title: Folder, type: path, default: /opt}
steps:
  - id: s
    title: S
    manual: true
`

func exprSetup(t *testing.T) (*Runbook, *Values) {
	t.Helper()
	rb, err := Parse("expr.yaml", []byte(exprRunbook))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	oldHost := &probe.Host{Name: "hub", Address: "10.0.0.1", InstallDir: "/opt/maestro", Shell: "sh", Vars: map[string]string{"site": "east"}}
	newHost := &probe.Host{Name: "spare", Address: "10.0.0.2"}
	oldFacts := &probe.Facts{
		Reachable: true, Hostname: "hub.example", OS: "linux", OSName: "Debian GNU/Linux 12",
		Components:  []string{"hub", "lui"},
		Settings:    map[string]map[string]string{"hub": {"RegistryHubHost": "old.example"}},
		Services:    map[string]string{"maestro": "running"},
		ClockOffset: 1500 * time.Millisecond,
	}
	newFacts := &probe.Facts{Reachable: false, Hostname: "spare.example", Components: []string{"lui", "trk"}}
	v := &Values{
		Params: map[string]any{
			"name": "Ada", "flag": false, "count": 3, "mode": "fast",
			"server": "hub.example", "port": 443, "dir": "/opt",
		},
		Roles: map[string]RoleEnv{"old": NewRoleEnv(oldHost, oldFacts), "new": NewRoleEnv(newHost, newFacts)},
		Step:  StepEnv{ID: "s", Start: "2024-05-01T10:00:00Z"},
	}
	return rb, v
}

// exprCompile compiles src as the runbook would compile a condition (role: with "role").
func exprCompile(t *testing.T, rb *Runbook, src string, role bool) *Expr {
	t.Helper()
	prog, err := rb.schema.compile(src, textPos{}, role, true)
	if err != nil {
		t.Fatalf("compile %q: %v", src, err)
	}
	return &Expr{Src: src, prog: prog, role: role}
}

func TestConditionsEvaluateAgainstValues(t *testing.T) {
	rb, v := exprSetup(t)
	tests := []struct {
		name string
		src  string
		want bool
	}{
		{"a bool parameter", "params.flag", false},
		{"a negated bool parameter", "!params.flag", true},
		{"an int parameter compared", "params.count > 2 && params.count < 4", true},
		{"a choice parameter", `params.mode == "fast"`, true},
		{"a choice parameter, other value", `params.mode == "careful"`, false},
		{"a string parameter", `params.name == "Ada"`, true},
		{"a host parameter", `params.server == "hub.example"`, true},
		{"a port parameter is a number", "params.port == 443", true},
		{"a path parameter joins text", `params.dir + "/hub" == "/opt/hub"`, true},
		{"a component is installed", `"hub" in roles.old.components`, true},
		{"a component is not installed", `"hub" in roles.new.components`, false},
		{"a negated in", `!("hub" in roles.new.components)`, true},
		{"the number of components", "len(roles.new.components) == 2", true},
		{"reachability of two roles", "roles.old.reachable && !roles.new.reachable", true},
		{"an INI setting among the facts", `roles.old.settings.hub.RegistryHubHost == "old.example"`, true},
		{"a service state", `roles.old.services.maestro == "running"`, true},
		{"the clock offset in milliseconds", "roles.old.clock_offset_ms == 1500", true},
		{"an inventory variable", `roles.old.vars.site == "east"`, true},
		{"the inventory name and address", `roles.new.host == "spare" && roles.new.address == "10.0.0.2"`, true},
		{"the hostname from the facts", `roles.new.hostname == "spare.example"`, true},
		{"the install folder from the inventory", `roles.old.install_dir == "/opt/maestro"`, true},
		{"the step being run", `step.id == "s" && step.start startsWith "2024-05-01"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := exprCompile(t, rb, tt.src, false).eval(rb.schema, v, "")
			if err != nil {
				t.Fatalf("eval %q: %v", tt.src, err)
			}
			if got != tt.want {
				t.Errorf("%s = %v, want %v", tt.src, got, tt.want)
			}
		})
	}
}

func TestRequirementsSeeTheirRoleAsRole(t *testing.T) {
	rb, v := exprSetup(t)
	tests := []struct {
		src, role string
		want      bool
	}{
		{`"hub" in role.components`, "old", true},
		{`"hub" in role.components`, "new", false},
		{"role.host != roles.old.host", "new", true},
		{"role.host != roles.old.host", "old", false},
	}
	for _, tt := range tests {
		t.Run(tt.src+" for role "+tt.role, func(t *testing.T) {
			got, err := exprCompile(t, rb, tt.src, true).eval(rb.schema, v, tt.role)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMissingValuesAreTheZeroOfTheirType(t *testing.T) {
	rb, _ := exprSetup(t)
	empty := &Values{}
	tests := []struct {
		src  string
		want bool
	}{
		{"params.count == 0", true},
		{`params.name == ""`, true},
		{"!params.flag", true},
		{"len(roles.old.components) == 0", true},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			got, err := exprCompile(t, rb, tt.src, false).eval(rb.schema, empty, "")
			if err != nil || got != tt.want {
				t.Errorf("eval = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestEvalErrorNamesTheCondition(t *testing.T) {
	rb, v := exprSetup(t)
	e := exprCompile(t, rb, `roles.old.components[5] == "x"`, false)
	e.Pos.File, e.Pos.Line, e.Pos.Col = "expr.yaml", 7, 11
	_, err := e.eval(rb.schema, v, "")
	if err == nil {
		t.Fatal("want an error for an index out of range")
	}
	for _, want := range []string{"expr.yaml:7:11", `roles.old.components[5] == \"x\"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestTemplatesRender(t *testing.T) {
	rb, v := exprSetup(t)
	tests := []struct {
		name, src, want string
	}{
		{"plain text stays as it is", "no braces here", "no braces here"},
		{"one part", "{{ roles.old.host }}", "hub"},
		{"several parts and text around them", "On {{ roles.old.host }} ({{roles.old.address}}) port {{ params.port }}, flag {{ params.flag }}.", "On hub (10.0.0.1) port 443, flag false."},
		{"a list is joined with commas", "Installed: {{ roles.new.components }}", "Installed: lui, trk"},
		{"an expression is computed", "{{ params.count * 2 }} copies", "6 copies"},
		{"a list built in the template is joined", "{{ [params.mode, params.name] }}", "fast, Ada"},
		{"a setting of a component not installed renders as nothing", "[{{ roles.new.settings.hub.RegistryHubHost }}]", "[]"},
		{"text across lines", "line one {{ params.name }}\nline two {{ params.dir }}\n", "line one Ada\nline two /opt\n"},
		{"braces with no space", "{{params.name}}{{params.name}}", "AdaAda"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := &Template{Src: tt.src}
			if err := rb.schema.compileTemplate(tmpl, false); err != nil {
				t.Fatalf("compile %q: %v", tt.src, err)
			}
			got, err := tmpl.render(rb.schema, v)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			if got != tt.want {
				t.Errorf("render(%q) = %q, want %q", tt.src, got, tt.want)
			}
		})
	}
}

func TestTemplatesMadeAtRunTimeCompileOnFirstUse(t *testing.T) {
	rb, v := exprSetup(t)
	got, err := NewTemplate("{{ params.name }} on {{ roles.new.host }}").render(rb.schema, v)
	if err != nil || got != "Ada on spare" {
		t.Errorf("render = %q, %v; want %q", got, err, "Ada on spare")
	}
	if _, err := NewTemplate("{{ params.nope }}").render(rb.schema, v); err == nil || !strings.Contains(err.Error(), `undefined parameter "nope"`) {
		t.Errorf("render of an undefined parameter = %v, want an error naming it", err)
	}
	var none *Template
	if got, err := none.render(rb.schema, v); got != "" || err != nil {
		t.Errorf("a nil template renders %q, %v; want nothing", got, err)
	}
}

func TestNewRoleEnv(t *testing.T) {
	h := &probe.Host{Name: "hub", Address: "10.0.0.1", Shell: "powershell", InstallDir: `C:\Maestro`}
	t.Run("without facts only the inventory is known", func(t *testing.T) {
		r := NewRoleEnv(h, nil)
		if r.Host != "hub" || r.Address != "10.0.0.1" || r.Shell != "powershell" || r.InstallDir != `C:\Maestro` || r.Hostname != "10.0.0.1" || r.Reachable {
			t.Errorf("NewRoleEnv = %+v (the host name falls back to the address)", r)
		}
		named := *h
		named.Vars = map[string]string{"hostname": "hub.example.com"}
		if got := NewRoleEnv(&named, nil).Hostname; got != "hub.example.com" {
			t.Errorf("host name without facts = %q, want vars.hostname", got)
		}
		named.Vars["addresses"] = "10.0.0.1, 2001:db8::1"
		if got := NewRoleEnv(&named, nil).Addresses; !slices.Equal(got, []string{"10.0.0.1", "2001:db8::1"}) {
			t.Errorf("addresses without facts = %q, want vars.addresses", got)
		}
		if r.Addresses == nil || len(r.Addresses) != 0 {
			t.Errorf("addresses without facts or vars = %#v, want an empty list", r.Addresses)
		}
		if r.Components == nil {
			t.Error("components must be an empty list, not nil, so that `in` and len work")
		}
	})
	t.Run("facts fill in the rest", func(t *testing.T) {
		r := NewRoleEnv(h, &probe.Facts{Reachable: true, Hostname: "HUB", OS: "windows", TimeZone: "CET+0100", MachineID: "m1", ClockOffset: -2 * time.Second})
		if !r.Reachable || r.Hostname != "HUB" || r.OS != "windows" || r.TimeZone != "CET+0100" || r.MachineID != "m1" || r.ClockOffset != -2000 {
			t.Errorf("NewRoleEnv = %+v", r)
		}
		named := *h
		named.Vars = map[string]string{"addresses": "192.0.2.9"}
		if got := NewRoleEnv(&named, &probe.Facts{Reachable: true, Addresses: []string{"10.0.0.1"}}).Addresses; !slices.Equal(got, []string{"10.0.0.1"}) {
			t.Errorf("addresses = %q: what the host reports wins over vars.addresses", got)
		}
	})
}

func TestScalarPositions(t *testing.T) {
	// Where the text of each scalar starts in the file decides where errors in it point.
	src := "id: test/pos\ntitle: T\nsystem: S\nsource: M\nroles:\n  - id: old\n    title: Old\nsteps:\n" +
		"  - id: plain\n    title: P\n    manual: true\n    when: roles.old.reachable\n" + // when on line 12, col 11
		"  - id: quoted\n    title: Q\n    manual: true\n    when: \"roles.old.reachable\"\n" + // line 16, text at col 12
		"  - id: block\n    title: B\n    manual: true\n    text: |\n        eight spaces\n" // text from line 21, col 9
	rb, err := Parse("pos.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	tests := []struct {
		name         string
		got          textPos
		line, col, i int
	}{
		{"a plain scalar starts at its first character", textPos{rb.Step("plain").When.Pos, rb.Step("plain").When.indent}, 12, 11, 0},
		{"a quoted scalar starts after its quote", textPos{rb.Step("quoted").When.Pos, rb.Step("quoted").When.indent}, 16, 12, 0},
		{"a block scalar starts on the next line past its indentation", textPos{rb.Step("block").Text.Pos, rb.Step("block").Text.indent}, 21, 9, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got.start.Line != tt.line || tt.got.start.Col != tt.col || tt.got.indent != tt.i {
				t.Errorf("start %d:%d indent %d, want %d:%d indent %d", tt.got.start.Line, tt.got.start.Col, tt.got.indent, tt.line, tt.col, tt.i)
			}
		})
	}
	at := textPos{start: rb.Step("block").Text.Pos, indent: 8}.at(3, 4)
	if at.Line != 23 || at.Col != 13 {
		t.Errorf("line 3, column 4 of the block is %d:%d, want 23:13", at.Line, at.Col)
	}
}
