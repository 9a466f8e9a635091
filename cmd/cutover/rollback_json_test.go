package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRollbackJSONKeepsStdoutAStream: with --json, a rollback's standard output is its
// event stream, one JSON object per line; the back-out plan and what remains for the
// operator go to standard error. The INI file and the file a write replaced get their
// originals back, and the file a write created is kept aside.
func TestRollbackJSONKeepsStdoutAStream(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	host := filepath.Join(dir, "me")
	os.MkdirAll(host, 0o755)
	const orig = "[main]\nname = old\n"
	os.WriteFile(filepath.Join(host, "app.ini"), []byte(orig), 0o644)
	const motd = "the old name\n"
	os.WriteFile(filepath.Join(host, "motd"), []byte(motd), 0o644)
	inv := filepath.Join(dir, "inventory.yaml")
	os.WriteFile(inv, []byte("hosts:\n  me:\n    local: true\n    install_dir: "+host+"\n"), 0o644)
	rbFile := filepath.Join(dir, "rename.yaml")
	os.WriteFile(rbFile, []byte(`id: site/rename
title: Rename the application
system: Site
source: the site's own procedure
roles:
  - {id: app, title: the application server}
steps:
  - id: rename
    title: Give the application its new name
    back_out: tell the users the old name again
    action:
      ini: {role: app, file: app.ini, set: {main.name: new}}
    gates:
      - ini: {role: app, file: app.ini, key: main.name, equals: new}
  - id: motd
    title: Greet with the new name
    action:
      write: {role: app, file: motd, content: "the new name\n"}
  - id: site
    title: Describe the site
    action:
      write: {role: app, file: site.conf, content: "name new\n"}
`), 0o644)
	jpath := filepath.Join(dir, "run.jsonl")
	wantCode(t, cutover(t, "run", rbFile, "-i", inv, "--role", "app=me", "--headless", "--journal", jpath), 0, "done: every step is done")
	if got := readFile(t, filepath.Join(host, "app.ini")); !strings.Contains(got, "new") {
		t.Fatalf("the run did not edit app.ini:\n%s", got)
	}
	r := cutover(t, "rollback", jpath, "--json", "--journal", filepath.Join(dir, "rollback.jsonl"))
	wantCode(t, r, 0)
	for i, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Errorf("stdout line %d is not a JSON object: %q", i+1, l)
		}
	}
	for _, want := range []string{"back-out plan for run ", "auto:   me: put the original", "rollback: what remains for you to undo by hand", "tell the users the old name again"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if got := readFile(t, filepath.Join(host, "app.ini")); got != orig {
		t.Errorf("app.ini after the rollback:\n%q\nwant\n%q", got, orig)
	}
	if got := readFile(t, filepath.Join(host, "motd")); got != motd {
		t.Errorf("motd after the rollback: %q, want %q", got, motd)
	}
	if _, err := os.Lstat(filepath.Join(host, "site.conf")); !os.IsNotExist(err) {
		t.Errorf("site.conf, which the run created, is still in place after the rollback (%v)", err)
	}
	if m, _ := filepath.Glob(filepath.Join(host, "site.conf.cutover-*")); len(m) != 1 || readFile(t, m[0]) != "name new\n" {
		t.Errorf("the created site.conf was not kept aside: %v", m)
	}
}
