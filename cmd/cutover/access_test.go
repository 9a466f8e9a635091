//go:build !windows

package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/probe/lab/labtest"
	"github.com/cutover/cutover/runbooks"
)

// TestImplicitInventoryWritableByOthers: ./cutover.yaml that group or others can
// write is refused (bad input, with the reason) when found by itself, and read when
// named with -i.
func TestImplicitInventoryWritableByOthers(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	if err := os.WriteFile(filepath.Join(dir, "cutover.yaml"), []byte("hosts:\n  me: {local: true}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "cutover.yaml"), 0o666); err != nil {
		t.Fatal(err)
	}
	wantCode(t, cutover(t, "probe"), 2, "refusing cutover.yaml, found without -i", "group or others can write it (mode 0666)")
	wantCode(t, cutover(t, "probe", "-i", "cutover.yaml"), 0, "me")
}

// TestBecomePasswordLeavesTheEnvironment: CUTOVER_BECOME_PASSWORD is taken out of the
// environment, so commands cutover runs on this machine do not inherit it.
func TestBecomePasswordLeavesTheEnvironment(t *testing.T) {
	t.Setenv(becomePasswordEnv, "hunter2")
	pw := takeBecomePassword()
	if string(pw) != "hunter2" {
		t.Fatalf("took %q", pw)
	}
	if _, ok := os.LookupEnv(becomePasswordEnv); ok {
		t.Error("the password is still in the environment")
	}
}

// TestMoveHubBecomesTheServiceAccount: maestro/move-hub on a practice lab whose old and
// new Hub servers let the login become the service account through the lab's
// simulated sudo (one NOPASSWD, one asking a password, given through
// CUTOVER_BECOME_PASSWORD) runs to the end with every command and file operation on
// those hosts done as that account; the password is in no file cutover wrote. A wrong
// password is refused with sudo's reason, naming the host.
func TestMoveHubBecomesTheServiceAccount(t *testing.T) {
	const password = "lab-sudo-Pa55"
	sc, err := runbooks.Scenario("maestro", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for i := range sc.Hosts {
		switch sc.Hosts[i].Name {
		case "hub":
			sc.Hosts[i].Sudo = &lab.Sudo{As: []string{"maestro"}}
		case "spare":
			sc.Hosts[i].Sudo = &lab.Sudo{As: []string{"maestro"}, Password: password}
		}
	}
	l := &testLab{Lab: labtest.Serve(t, sc, lab.Options{})}
	jdir := t.TempDir()
	t.Setenv("CUTOVER_JOURNALS", jdir)

	t.Setenv(becomePasswordEnv, "wrong")
	r := cutover(t, "probe", "-i", l.Inventory(), "spare")
	wantCode(t, r, 4, "spare: cannot become maestro with sudo (login lab): sudo refused the password")

	t.Setenv(becomePasswordEnv, password)
	jpath := filepath.Join(jdir, "run.jsonl")
	r = cutover(t, "run", "--from", l.runFile(), "--headless", "--journal", jpath)
	wantCode(t, r, 0, "done: every step is done")
	if !strings.Contains(readFile(t, l.file("spare", "hub/hub.ini")), "HubInstanceID=prod-hub-7f3a") {
		t.Error("the Hub's files did not arrive on spare")
	}

	entries, err := l.Audit()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range entries {
		if e.Host != "hub" && e.Host != "spare" {
			continue
		}
		if e.As != "maestro" && !(e.Kind == "exec" && e.Exit != nil && *e.Exit != 0 && e.As == "") {
			t.Errorf("%s: %s %s %s%s ran as the login, not through sudo", e.Host, e.Kind, e.Op, e.Path, e.Command)
		}
		seen[e.Host+" "+e.Kind]++
	}
	for _, k := range []string{"hub exec", "hub sftp", "spare exec", "spare sftp"} {
		if seen[k] == 0 {
			t.Errorf("no %s through sudo in the audit log: %v", k, seen)
		}
	}
	for _, dir := range []string{jdir, l.Dir()} {
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(password)) {
					t.Errorf("the sudo password is in %s", p)
				}
			}
			return nil
		})
	}
}
