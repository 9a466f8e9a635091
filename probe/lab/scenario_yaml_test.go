package lab_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cutover/cutover/probe/lab"
)

const dataScenario = `name: data
title: a scenario written as data
hosts:
  - name: a
    hostname: alpha.example
    install_dir: opt/app
    services:
      app: {start: app start, stop: app stop, status: app status}
    endpoints:
      - {name: smtp, port: 25, listening_if: var/app.running}
    files:
      - {path: bin/app, from: scripts/app, executable: true}
      - path: opt/app/logs/{{ now.Format "2006-01-02" }}.log
        age: 2h
        content: "{{ (ago \"2h\").Format \"15:04\" }} started on {{ .Hosts.a.Hostname }}\n"
      - {path: opt/app/app.conf, content: "queue = /var/spool/app\n"}
  - name: b
    install_dir: opt/app
faults:
  - name: broken
    description: everything at once
    files:
      - {host: a, path: bin/app, content: "#!/bin/sh\necho broken; exit 1\n", executable: true}
    edit:
      - {host: a, path: opt/app/app.conf, replace: /var/spool/app, with: /nowhere}
    remove:
      - {host: b, path: opt/app}
    flags:
      - {host: a, name: slow, content: "on\n"}
runs:
  - runbook: test/app
    content: "runbook: test/app\nport: {{ .Hosts.a.Port }}\n"
`

// TestDataScenarioIsServedAsTheGoOnes: a scenario read from YAML is served over real
// SSH with its files (scripts from beside it, dated paths and contents), services,
// endpoints and run files, and a fault overlays files, edits, removes and flags.
func TestDataScenarioIsServedAsTheGoOnes(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.Local)
	files := fstest.MapFS{"scripts/app": {Data: []byte("#!/bin/sh\necho \"app $*\"\n")}}
	sc, err := lab.ParseScenario("data.lab.yaml", []byte(dataScenario), files, now)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Hosts[0].Services["app"].Status != "app status" || sc.Hosts[0].Files[0].Mode != 0o755 {
		t.Errorf("host a: %+v", sc.Hosts[0])
	}
	dir := t.TempDir()
	l := serveScenario(t, dir, sc, lab.Options{Faults: []string{"broken"}})
	c := dialHost(t, l, "a")
	if out, code := run(t, c, "app"); code != 1 || out != "broken\n" {
		t.Errorf("the fault's script: %q, exit %d", out, code)
	}
	if out, _ := run(t, c, "cat opt/app/logs/2026-11-22.log opt/app/app.conf var/faults/slow"); out != "10:00 started on alpha.example\nqueue = /nowhere\non\n" {
		t.Errorf("files after the fault: %q", out)
	}
	st, err := os.Stat(filepath.Join(l.HostRoot("a"), "opt/app/logs/2026-11-22.log"))
	if err != nil || time.Since(st.ModTime()) < 2*time.Hour-time.Minute {
		t.Errorf("the log's age: %v %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(l.HostRoot("b"), "opt/app")); !os.IsNotExist(err) {
		t.Errorf("b's folder was not removed: %v", err)
	}
	run1, err := os.ReadFile(filepath.Join(dir, "runs", "test-app.yaml"))
	if err != nil || !strings.Contains(string(run1), "port: ") {
		t.Errorf("run file: %q %v", run1, err)
	}
}

// TestDataScenarioErrors: mistakes in a scenario file are reported at their place.
func TestDataScenarioErrors(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown key":      {"name: x\nhosts:\n  - name: a\n    filez: []\n", "s.lab.yaml:4:5: unknown key \"filez\""},
		"no hosts":         {"name: x\nhosts: []\n", "s.lab.yaml:1:1: hosts: a scenario needs at least one host"},
		"fault host":       {"name: x\nhosts: [{name: a}]\nfaults:\n  - name: f\n    block: [{from: a, to: zz}]\n", "s.lab.yaml:5:13: block: to: no host \"zz\""},
		"missing from":     {"name: x\nhosts:\n  - name: a\n    files: [{path: bin/x, from: nope}]\n", "s.lab.yaml:4:13: file bin/x: from \"nope\""},
		"escaping from":    {"name: x\nhosts:\n  - name: a\n    files: [{path: bin/x, from: ../etc/passwd}]\n", "must name a file in the scenario's folder"},
		"escaping path":    {"name: x\nhosts:\n  - name: a\n    files: [{path: ../x, content: y}]\n", "s.lab.yaml:4:13: path \"../x\" must be relative"},
		"bad age":          {"name: x\nhosts:\n  - name: a\n    files: [{path: x, content: y, age: soon}]\n", "age \"soon\": write a duration"},
		"empty fault":      {"name: x\nhosts: [{name: a}]\nfaults: [{name: f}]\n", "fault f changes nothing"},
		"content and from": {"name: x\nhosts:\n  - name: a\n    files: [{path: x, content: y, from: z}]\n", "give content or from, not both"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := lab.ParseScenario("s.lab.yaml", []byte(tc.yaml), fstest.MapFS{}, time.Now())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %s", err, tc.want)
			}
		})
	}
}
