package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gold "github.com/cutover/cutover/steps/golden"
)

// golden compares got with the file testdata/NAME at the top of the repository, or
// writes it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	gold.Check(t, filepath.Join("..", "..", "testdata", filepath.FromSlash(name)), got)
}

// TestExportPlanGolden: a plan exports as an empty checklist.
func TestExportPlanGolden(t *testing.T) {
	t.Parallel()
	r := cutover(t, append([]string{"export", "maestro/move-hub"}, roleArgs...)...)
	wantCode(t, r, 0)
	if strings.Contains(r.stdout, "- [x]") {
		t.Error("a plan has ticked items")
	}
	for _, s := range []string{"- [ ] **3. Shut down LISTSERV Maestro on every server**", "Cannot be undone: confirm by typing `UNINSTALL HUB ON hub`",
		"~~4. Shut down every LISTSERV instance~~ (`stop-listserv`) skipped: only needed when the internal database serves Hosted LISTSERV Lists"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("plan lacks %q", s)
		}
	}
	golden(t, "export/move-hub-plan.md", r.stdout)

	// -o writes the same to a file.
	out := filepath.Join(t.TempDir(), "plan.md")
	r2 := cutover(t, append([]string{"export", "maestro/move-hub", "-o", out}, roleArgs...)...)
	wantCode(t, r2, 0)
	if r2.stdout != "" || readFile(t, out) != r.stdout {
		t.Errorf("export -o wrote %d bytes to the file and %d to stdout", len(readFile(t, out)), len(r2.stdout))
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".cutover-*"))
	if len(leftovers) > 0 {
		t.Errorf("export -o left temporary files: %v", leftovers)
	}
}

func TestExportPlanErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		has  string
	}{
		{"unknown runbook", []string{"export", "nope/none"}, `no runbook "nope/none"`},
		{"unknown preset", []string{"export", "maestro/move-hub", "--preset", "fancy"}, `unknown preset "fancy"`},
		{"bad parameter", append([]string{"export", "maestro/move-hub", "--set", "hub_external_port=99999"}, roleArgs...), "parameter hub_external_port"},
		{"unknown parameter", []string{"export", "maestro/move-hub", "--set", "x=1"}, `unknown parameter "x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, cutover(t, tc.args...), 2, tc.has)
		})
	}
}

func TestRunbooksAndLint(t *testing.T) {
	t.Parallel()
	r := cutover(t, "runbooks")
	wantCode(t, r, 0, "ID", "maestro/move-hub", "Move the Administration Hub")
	r = cutover(t, "runbooks", "--json")
	wantCode(t, r, 0)
	var list []struct {
		ID    string
		Steps int
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) == 0 {
		t.Fatalf("runbooks --json: %v\n%s", err, r.stdout)
	}
	for _, rb := range list {
		if rb.ID == "maestro/move-hub" && rb.Steps != 14 {
			t.Errorf("move-hub has %d steps, want 14", rb.Steps)
		}
	}

	// Every value a command inserts as code is listed, without failing.
	wantCode(t, cutover(t, "lint"), 0, "no problems, 4 warnings",
		"runbooks/maestro/failback.yaml:", ":38: warning: step sync-back, action run: command: {{ params.sync_now }}: params.sync_now is of type command")
	raw := filepath.Join(t.TempDir(), "raw.yaml")
	os.WriteFile(raw, []byte("id: site/raw\ntitle: Raw\nsystem: X\nsource: none\nroles: [{id: a, title: A}]\nsteps:\n  - id: s\n    title: S\n    action: {run: {role: a, command: \"{{ raw('ls -l') }}\"}}\n"), 0o644)
	wantCode(t, cutover(t, "lint", raw), 0, "1 runbooks, no problems, 1 warnings", raw+":9:39: warning: step s, action run: command: {{ raw('ls -l') }}: raw(...) inserts its value unquoted")
	// The shipped runbooks are checked with the files named only when asked.
	wantCode(t, cutover(t, "lint", "--builtin", raw), 0, "no problems, 5 warnings")
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("id: site/bad\ntitle: Bad\nsystem: X\nsource: none\nsteps:\n  - id: s\n    title: S\n    gates:\n      - file_exists: {role: nobody, path: x}\n"), 0o644)
	r = cutover(t, "lint", bad)
	wantCode(t, r, 2, `undefined role "nobody"`)
	if !strings.Contains(r.stderr, bad+":9:") {
		t.Errorf("lint does not point at the line: %s", r)
	}
	wantCode(t, cutover(t, "version"), 0, "cutover ")
	wantCode(t, cutover(t, "--help"), 0, "Exit codes:")
}

// localSetup writes an inventory with one host that is this machine (no SSH), and a
// runbook file with a secret parameter.
func localSetup(t *testing.T) (inv, rbFile, hostDir string) {
	t.Helper()
	dir := t.TempDir()
	hostDir = filepath.Join(dir, "me")
	os.MkdirAll(hostDir, 0o755)
	inv = filepath.Join(dir, "inventory.yaml")
	os.WriteFile(inv, []byte("hosts:\n  me:\n    local: true\n    install_dir: "+hostDir+"\n"), 0o644)
	rbFile = filepath.Join(dir, "token.yaml")
	os.WriteFile(rbFile, []byte(`id: site/store-token
title: Store an API token
system: Site
source: the site's own procedure
roles:
  - {id: app, title: the application server}
params:
  - {id: token, title: API token, type: string, secret: true}
steps:
  - id: store
    title: Write the token
    action:
      run: {role: app, command: "cd {{ roles.app.install_dir }} && echo token={{ params.token }} > token.conf && echo stored {{ params.token }}"}
    gates:
      - command: {role: app, run: "cat {{ roles.app.install_dir }}/token.conf", output_contains: ['token=']}
`), 0o644)
	return inv, rbFile, hostDir
}

// TestFileRunbookWithSecret runs a site's own runbook file with a secret parameter on
// the local machine, then exports and resumes its journal: the secret is needed for
// the run and never shown.
func TestFileRunbookWithSecret(t *testing.T) {
	t.Parallel()
	const canary = "tok-8c1d2e3f"
	inv, rbFile, hostDir := localSetup(t)
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	r := cutover(t, "run", rbFile, "-i", inv, "--role", "app=me", "--set", "token="+canary, "--headless", "-v", "--journal", jpath)
	wantCode(t, r, 0, "done: every step is done")
	if got := readFile(t, filepath.Join(hostDir, "token.conf")); got != "token="+canary+"\n" {
		t.Fatalf("token.conf = %q", got)
	}
	if strings.Contains(r.out(), canary) {
		t.Errorf("the run printed the secret:\n%s", r)
	}
	if strings.Contains(readFile(t, jpath), canary) {
		t.Error("the journal holds the secret")
	}
	r = cutover(t, "export", jpath)
	wantCode(t, r, 0, "# Store an API token", "| token | [secret] |", "- [x] **1. Write the token**")
	if strings.Contains(r.out(), canary) {
		t.Errorf("the export shows the secret:\n%s", r)
	}

	// A run interrupted before its end resumes only with the secret given again.
	lines := strings.SplitAfter(readFile(t, jpath), "\n")
	cut := filepath.Join(t.TempDir(), "cut.jsonl")
	os.WriteFile(cut, []byte(strings.Join(lines[:3], "")), 0o600) // session, plan, step start
	wantCode(t, cutover(t, "resume", cut, "--headless"), 2, "parameter token is secret")
	r = cutover(t, "resume", cut, "--set", "token="+canary, "--headless")
	wantCode(t, r, 0, "done: every step is done")
	if strings.Contains(r.out()+readFile(t, cut), canary) {
		t.Error("the resumed run leaked the secret")
	}
}
