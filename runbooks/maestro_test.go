package runbooks

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/steps"
)

// generatedNginx plans proxy-aliases with a preset and returns the nginx configuration
// its install step writes (the lines its write action plans).
func generatedNginx(t *testing.T, preset string) string {
	t.Helper()
	return generatedNginxWith(t, preset, nil)
}

// generatedNginxWith is generatedNginx with more parameters.
func generatedNginxWith(t *testing.T, preset string, more map[string]string) string {
	t.Helper()
	rb, err := Get("maestro/proxy-aliases")
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(name string) *probe.Host { return &probe.Host{Name: name} }
	in := steps.Inputs{Preset: preset,
		Roles: map[string]string{"lui": "lui", "hub": "hub", "trk": "trk", "proxy": "proxy", "operator": "ops"},
		Params: map[string]string{"lui_local_host": "192.168.1.1", "hub_local_host": "192.168.1.2", "trk_local_host": "192.168.1.3",
			"lui_local_port": "80", "hub_local_port": "8080", "trk_local_port": "8888"}}
	maps.Copy(in.Params, more)
	plan, err := steps.Prepare(rb, lookup, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := plan.Describe("install-proxy-config")
	if err != nil || d.Action == nil || d.Action.Kind != "write" || len(d.Action.Changes) == 0 {
		t.Fatalf("describe: %+v, %v", d, err)
	}
	var conf strings.Builder
	for _, l := range d.Action.Changes {
		line, ok := strings.CutPrefix(l, "+ ")
		if !ok {
			t.Fatalf("planned line %q is not an added line", l)
		}
		conf.WriteString(line + "\n")
	}
	return conf.String()
}

// TestGeneratedNginxConfigOfTheManualsExamples: the configuration cutover writes for
// each worked example of section 23.3 forwards exactly as the manual describes, and the
// lab's simulated nginx accepts it.
func TestGeneratedNginxConfigOfTheManualsExamples(t *testing.T) {
	type route struct {
		port    int
		host    string
		backend string
	}
	tests := []struct {
		preset string
		want   []route
	}{
		{"example-1-one-name", []route{
			{9001, "maestro.sample.com", "http://192.168.1.1:80"},
			{9002, "maestro.sample.com", "http://192.168.1.2:8080"},
			{9003, "maestro.sample.com", "http://192.168.1.3:8888"},
		}},
		{"example-2-three-names", []route{
			{80, "lui.sample.com", "http://192.168.1.1:80"},
			{80, "hub.sample.com", "http://192.168.1.2:8080"},
			{80, "trk.sample.com", "http://192.168.1.3:8888"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.preset, func(t *testing.T) {
			conf := generatedNginx(t, tc.preset)
			servers, err := parseNginx(conf)
			if err != nil {
				t.Fatalf("%v\n%s", err, conf)
			}
			if len(servers) != 3 {
				t.Fatalf("%d server blocks, want 3", len(servers))
			}
			for _, w := range tc.want {
				s := pickServer(servers, w.port, w.host+":"+strconv.Itoa(w.port))
				if s == nil || s.location("/anything").pass != w.backend {
					t.Errorf("%s:%d goes to %+v, want %s", w.host, w.port, s, w.backend)
				}
			}
			checkWithSimulatedNginx(t, conf, true, "test is successful")
		})
	}
}

// checkWithSimulatedNginx runs the lab's bin/nginx -t on conf in a folder laid out like
// the proxy host.
func checkWithSimulatedNginx(t *testing.T, conf string, ok bool, has string) {
	t.Helper()
	root := t.TempDir()
	for p, c := range map[string]string{"bin/nginx": labFile("maestro/nginx"), "etc/nginx/conf.d/maestro.conf": conf} {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(filepath.Join(root, "bin", "nginx"), "-t").CombinedOutput()
	if (err == nil) != ok || !strings.Contains(string(out), has) {
		t.Errorf("nginx -t: %v, want success %v and %q:\n%s", err, ok, has, out)
	}
}

func TestNginxSubset(t *testing.T) {
	conf := `# a comment { ; }
http {
    server {
        listen 0.0.0.0:9002 default_server;
        server_name a.example b.example;
        location / { proxy_pass http://one:80; }
        location /hub { proxy_pass http://two:8080; proxy_set_header Host $host; }
    }
}
server { listen 80; server_name c.example; location / { proxy_pass http://three:8888; } }
`
	servers, err := parseNginx(conf)
	if err != nil || len(servers) != 2 {
		t.Fatalf("%d servers, %v", len(servers), err)
	}
	s := pickServer(servers, 9002, "B.example:9002")
	if s == nil || s.location("/hub/x").pass != "http://two:8080" || s.location("/lui").pass != "http://one:80" {
		t.Errorf("server for b.example:9002: %+v", s)
	}
	if got := pickServer(servers, 80, "unknown.example"); got == nil || got.names[0] != "c.example" {
		t.Errorf("the port's first server is its default: %+v", got)
	}
	if pickServer(servers, 443, "c.example") != nil {
		t.Error("a port nothing listens on has a server")
	}
	if otherBackend(servers, "http://one:80") != "http://two:8080" {
		t.Error("otherBackend")
	}
	for _, bad := range []string{
		"server { listen 80; location / { proxy_pass http://x:1; }",
		"server { listen 80 }",
		"server { listen 99999; location / { proxy_pass http://x:1; } }",
		"server { listen 80; server_name x; }",
		"}",
	} {
		if _, err := parseNginx(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	checkWithSimulatedNginx(t, "server {\n    listen 80;\n    location / {\n        proxy_pass http://x:1;\n    }\n", false, "unexpected end of file")
	checkWithSimulatedNginx(t, "server {\n    listen 80\n    location / {\n        proxy_pass http://x:1;\n    }\n}\n", false, "expecting \";\"")
	checkWithSimulatedNginx(t, "server {\n    listen 80;\n    server_name a;\n}\n", false, "forwards nothing")
}

// TestMaestroPlansFollowTheFacts probes the maestro lab and plans the moves: the
// installer branch follows what the new server holds, the database branch follows the
// parameter, and each skipped step says why.
func TestMaestroPlansFollowTheFacts(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	_, inv, facts := ProbedLab(t, "maestro")
	plan := func(id string, roles, params map[string]string) map[string]string {
		t.Helper()
		rb, err := Get(id)
		if err != nil {
			t.Fatal(err)
		}
		p, err := steps.Prepare(rb, inv.Host, steps.Inputs{Roles: roles, Params: params}, facts)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, s := range p.Steps {
			if s.Undecided {
				t.Errorf("%s: step %s undecided although every host was probed", id, s.ID)
			}
			if s.Skip {
				out[s.ID] = "skip: " + s.Reason
			} else {
				out[s.ID] = "keep"
			}
		}
		return out
	}
	lui := map[string]string{"old": "lui", "new": "spare", "hub": "hub", "trk": "trk"}
	got := plan("maestro/move-lui", lui, nil)
	for id, want := range map[string]string{
		"switch-database-first": "skip: the move keeps the system database in use",
		"check-database-reach":  "skip: only needed with an external system database",
		"trigger-backup":        "keep", "install-fresh": "keep", "copy-backup": "keep", "set-restore-backup": "keep",
		"install-add":   "skip: the new server has no Maestro component yet, so it gets a fresh installation instead",
		"add-db-driver": "skip: only needed with an external system database",
	} {
		if got[id] != want {
			t.Errorf("move-lui to spare, internal: %s = %q, want %q", id, got[id], want)
		}
	}
	lui["new"] = "trk"
	got = plan("maestro/move-lui", lui, map[string]string{"database": "external", "db_host": "db.maestro.lab"})
	for id, want := range map[string]string{
		"install-add": "keep", "check-database-reach": "keep", "add-db-driver": "keep",
		"install-fresh":  "skip: the new server already holds Maestro components, so the User Interface is added to that installation instead",
		"trigger-backup": "skip: only needed with the internal system database",
		"copy-backup":    "skip: only needed with the internal system database",
	} {
		if got[id] != want {
			t.Errorf("move-lui to trk, external: %s = %q, want %q", id, got[id], want)
		}
	}
	got = plan("maestro/move-lui", lui, map[string]string{"switch_to_external": "yes"})
	if got["switch-database-first"] != "keep" {
		t.Errorf("leaving the internal database does not stop the run: %v", got)
	}

	// The tracker's port comes from tracker.ini; the old name from the old server.
	rb, _ := Get("maestro/move-tracker")
	p, err := steps.Prepare(rb, inv.Host, steps.Inputs{Roles: map[string]string{"old": "trk", "new": "spare", "lui": "lui", "hub": "hub", "operator": "ops"},
		Params: map[string]string{"old_name": "repoint-dns"}}, facts)
	if err != nil {
		t.Fatal(err)
	}
	if p.Params["tracker_port"] != 8888 || p.Params["tracker_name"] != "trk.maestro.lab" {
		t.Errorf("move-tracker defaults from the facts: port %v, name %v", p.Params["tracker_port"], p.Params["tracker_name"])
	}
	// The proxy's backends come from the INI files.
	rb, _ = Get("maestro/proxy-aliases")
	p, err = steps.Prepare(rb, inv.Host, steps.Inputs{Preset: "example-2-three-names",
		Roles: map[string]string{"lui": "lui", "hub": "hub", "trk": "trk", "proxy": "proxy", "operator": "ops"}}, facts)
	if err != nil {
		t.Fatal(err)
	}
	if p.Params["hub_local_host"] != "hub.maestro.lab" || p.Params["hub_local_port"] != 8080 || p.Params["trk_local_port"] != 8888 {
		t.Errorf("proxy-aliases backends: %v", p.Params)
	}
}

// TestMovesStartListservAgain: with the internal database and Hosted LISTSERV Lists,
// each move stops LISTSERV and, after Maestro is started again, starts it and checks
// that it answers; without hosted lists both steps are skipped, each saying why.
func TestMovesStartListservAgain(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	_, inv, facts := ProbedLab(t, "maestro")
	moves := []struct {
		id, from string
		roles    map[string]string
	}{
		{"maestro/move-lui", "spare", map[string]string{"old": "lui", "new": "spare", "hub": "hub", "trk": "trk"}},
		{"maestro/move-hub", "lui", map[string]string{"old": "hub", "new": "spare", "lui": "lui", "trk": "trk"}},
		{"maestro/move-tracker", "lui", map[string]string{"old": "trk", "new": "spare", "lui": "lui", "hub": "hub", "operator": "ops"}},
	}
	for _, m := range moves {
		rb, err := Get(m.id)
		if err != nil {
			t.Fatal(err)
		}
		params := map[string]string{"hosted_lists": "yes", "listserv_host": "listserv.example.com"}
		if m.id == "maestro/move-tracker" {
			params["old_name"] = "repoint-dns"
		}
		plan, err := steps.Prepare(rb, inv.Host, steps.Inputs{Roles: m.roles, Params: params}, facts)
		if err != nil {
			t.Fatalf("%s: %v", m.id, err)
		}
		order := map[string]int{}
		for i, s := range plan.Steps {
			if !s.Skip {
				order[s.ID] = i
			}
		}
		stop, okStop := order["stop-listserv"]
		start, okStart := order["start-listserv"]
		if !okStop || !okStart || stop > order["stop-maestro"]+1 || start < order["start-maestro"] {
			t.Errorf("%s: LISTSERV stopped at %d (%v) and started at %d (%v), Maestro started at %d", m.id, stop, okStop, start, okStart, order["start-maestro"])
		}
		d, err := plan.Describe("start-listserv")
		if err != nil {
			t.Fatal(err)
		}
		if want := "listserv.example.com:2306"; !strings.Contains(strings.Join(d.Gates, "\n"), want) || !strings.Contains(strings.Join(d.Gates, "\n"), m.from) {
			t.Errorf("%s: start-listserv's gates do not check %s from %s:\n%s", m.id, want, m.from, strings.Join(d.Gates, "\n"))
		}
		params["hosted_lists"] = "no"
		plan, err = steps.Prepare(rb, inv.Host, steps.Inputs{Roles: m.roles, Params: params}, facts)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range plan.Steps {
			if s.ID == "start-listserv" && (!s.Skip || !strings.Contains(s.Reason, "LISTSERV was not stopped")) {
				t.Errorf("%s without hosted lists: start-listserv skip %v (%s)", m.id, s.Skip, s.Reason)
			}
		}
	}
}

// TestProxyHTTPSFromTheScheme: the scheme is a parameter of its own. An https User
// Interface on 443 gets its TLS lines from the certificate and key given and no port in
// lui.ini (443 is https's default); an http Hub on 443 is not https, so its port is
// written; the Tracker stays on http.
func TestProxyHTTPSFromTheScheme(t *testing.T) {
	conf := generatedNginxWith(t, "example-2-three-names", map[string]string{"lui_scheme": "https", "lui_external_port": "443",
		"hub_external_port": "443", "tls_certificate": "/etc/ssl/maestro.pem", "tls_key": "/etc/ssl/private/maestro.key"})
	servers, err := parseNginx(conf)
	if err != nil {
		t.Fatalf("%v\n%s", err, conf)
	}
	lui := pickServer(servers, 443, "lui.sample.com:443")
	if lui == nil || lui.location("/lui").pass != "http://192.168.1.1:80" {
		t.Fatalf("no https block for the User Interface:\n%s", conf)
	}
	for _, want := range []string{"listen 443 ssl;\n    server_name lui.sample.com;\n    ssl_certificate /etc/ssl/maestro.pem;\n    ssl_certificate_key /etc/ssl/private/maestro.key;",
		"listen 443;\n    server_name hub.sample.com;\n    # plain http: no certificate", "listen 80;\n    server_name trk.sample.com;"} {
		if !strings.Contains(conf, want) {
			t.Errorf("configuration lacks %q:\n%s", want, conf)
		}
	}
	checkWithSimulatedNginx(t, conf, true, "test is successful")

	rb, err := Get("maestro/proxy-aliases")
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(name string) *probe.Host { return &probe.Host{Name: name} }
	in := steps.Inputs{Roles: map[string]string{"lui": "lui", "hub": "hub", "trk": "trk", "proxy": "proxy", "operator": "ops"},
		Params: map[string]string{"lui_scheme": "https", "hub_external_port": "443",
			"lui_external_host": "lui.sample.com", "hub_external_host": "hub.sample.com", "trk_external_host": "trk.sample.com", "lui_local_host": "l", "hub_local_host": "h", "trk_local_host": "k",
			"lui_local_port": "80", "hub_local_port": "8080", "trk_local_port": "8888"}}
	plan, err := steps.Prepare(rb, lookup, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Params["lui_external_port"] != 443 {
		t.Errorf("an https User Interface defaults to port %v, want 443", plan.Params["lui_external_port"])
	}
	skip := map[string]bool{}
	for _, s := range plan.Steps {
		skip[s.ID] = s.Skip
	}
	if !skip["set-lui-port"] || skip["clear-lui-port"] || skip["set-hub-port"] || !skip["clear-hub-port"] {
		t.Errorf("ports in lui.ini: %v", skip)
	}
}
