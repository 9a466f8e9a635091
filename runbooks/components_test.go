package runbooks_test

import (
	"slices"
	"testing"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/runbooks"
)

// TestMDaemonVersionIsAFact: the probe reads MDaemon.ini's keys inside sections, so the
// version in [Special] is a fact of each node, as the shipped declaration names it.
func TestMDaemonVersionIsAFact(t *testing.T) {
	_, _, facts := runbooks.ProbedLab(t, "mdaemon")
	for _, name := range []string{"md1", "md2"} {
		f := facts[name]
		if !f.Has("mdaemon") || f.Settings["mdaemon"]["Special.Version"] != "23.5.1" {
			t.Errorf("%s: components %v, settings %v", name, f.Components, f.Settings["mdaemon"])
		}
		if _, kept := f.Settings["mdaemon"]["Special.ServerName"]; !kept || len(f.Settings["mdaemon"]) != 4 {
			t.Errorf("%s: the declaration's facts are not what is kept: %v", name, f.Settings["mdaemon"])
		}
	}
}

// TestSiteComponentsFoundOverSSH: components a site declares in YAML (a file, an INI key
// it requires, a service) are found on the lab's hosts by the real probe, without Go.
func TestSiteComponentsFoundOverSSH(t *testing.T) {
	sc, err := lab.ParseScenario("site.lab.yaml", []byte(`name: site
hosts:
  - name: mx1
    install_dir: etc/postfix
    services:
      postfix: {start: "true", stop: "true", status: "exit 3"}
    files:
      - {path: etc/postfix/main.cf, content: "myhostname = mx1.example\nqueue_directory = /var/spool/postfix\n"}
      - {path: etc/postfix/app.ini, content: "[app]\nmode = relay\n"}
  - name: mx2
    install_dir: etc/postfix
    files:
      - {path: etc/postfix/app.ini, content: "[app]\n"}
`), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	site, err := probe.ParseComponents("site.components.yaml", []byte(`components:
  - id: postfix
    system: postfix
    title: Postfix
    services: [postfix]
  - id: relay
    system: site
    title: the relay app
    files: [app.ini]
    settings: {file: app.ini, require: [app.mode], facts: [app.mode]}
`), probe.Catalogue)
	if err != nil {
		t.Fatal(err)
	}
	_, _, facts := runbooks.ProbedScenario(t, sc, append(slices.Clone(probe.Catalogue), site...))
	mx1, mx2 := facts["mx1"], facts["mx2"]
	if !slices.Equal(mx1.Components, []string{"postfix", "relay"}) || mx1.Settings["relay"]["app.mode"] != "relay" {
		t.Errorf("mx1: %v %v %s", mx1.Components, mx1.Settings, mx1.Error)
	}
	if len(mx2.Components) != 0 || mx2.Settings["relay"] != nil {
		t.Errorf("mx2 lacks the required key and the service: %v %v", mx2.Components, mx2.Settings)
	}
}
