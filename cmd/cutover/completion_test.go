package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// offered asks cutover what it would offer the shell for args (the last one being
// the word under the cursor), as the completion scripts do, and returns the values
// (without their descriptions) and the directive line.
func offered(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	r := cutover(t, append([]string{"__complete"}, args...)...)
	wantCode(t, r, 0)
	var vals []string
	directive := ""
	for _, l := range strings.Split(strings.TrimRight(r.stdout, "\n"), "\n") {
		if strings.HasPrefix(l, ":") {
			directive = l
			continue
		}
		v, _, _ := strings.Cut(l, "\t")
		vals = append(vals, v)
	}
	return vals, directive
}

func wantValues(t *testing.T, got []string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("completion lacks %q: %q", w, got)
		}
	}
}

// TestCompletionScripts: each shell gets a script that calls cutover back.
func TestCompletionScripts(t *testing.T) {
	t.Parallel()
	for shell, has := range map[string]string{"bash": "__start_cutover", "zsh": "#compdef cutover", "fish": "complete -c cutover", "powershell": "Register-ArgumentCompleter"} {
		r := cutover(t, "completion", shell)
		wantCode(t, r, 0, has, "__complete")
	}
	wantCode(t, cutover(t, "completion", "tcsh"), 2, `invalid argument "tcsh"`)
	wantCode(t, cutover(t, "completion"), 2, "accepts 1 arg")
}

// TestCompletionValues: what the scripts get for the site's values: runbook ids, the
// roles and parameters of the runbook on the line, the inventory's hosts, journals, lab
// scenarios and faults.
func TestCompletionValues(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inv := filepath.Join(dir, "site.yaml")
	os.WriteFile(inv, []byte("hosts:\n  alpha:\n    address: 127.0.0.1\n  beta:\n    address: 127.0.0.2\n"), 0o644)

	// Commands, and runbook ids with what is typed as their prefix.
	got, _ := offered(t, "ru")
	wantValues(t, got, "run", "runbooks")
	got, dir1 := offered(t, "run", "maestro/m")
	wantValues(t, got, "maestro/move-hub")
	if slices.ContainsFunc(got, func(s string) bool { return !strings.HasPrefix(s, "maestro/m") }) {
		t.Errorf("values that do not start with what is typed: %q", got)
	}
	if dir1 != ":4" {
		t.Errorf("runbook ids end with directive %s, want :4 (no file names)", dir1)
	}
	// Roles of the runbook on the line, then the hosts of its inventory after the =.
	got, directive := offered(t, "run", "maestro/move-hub", "--role", "")
	wantValues(t, got, "old=", "new=")
	if directive != ":6" {
		t.Errorf("roles end with directive %s, want :6 (no space, no file names)", directive)
	}
	got, _ = offered(t, "run", "maestro/move-hub", "-i", inv, "--role", "new=")
	wantValues(t, got, "new=alpha", "new=beta")
	// Parameters, and a parameter's choices.
	got, _ = offered(t, "export", "maestro/move-hub", "--set", "")
	wantValues(t, got, "database=")
	got, _ = offered(t, "export", "maestro/move-hub", "--set", "database=")
	if len(got) == 0 || !strings.HasPrefix(got[0], "database=") {
		t.Errorf("no choices for database: %q", got)
	}
	// Hosts of -i, less those already on the line.
	got, _ = offered(t, "probe", "-i", inv, "alpha", "")
	if !slices.Equal(got, []string{"beta"}) {
		t.Errorf("probe hosts: %q, want [beta]", got)
	}
	// Lab scenarios, and the faults of the scenario on the line.
	got, _ = offered(t, "lab", "--scenario", "")
	wantValues(t, got, "maestro", "listmanager", "communigate")
	got, _ = offered(t, "lab", "--scenario", "listmanager", "--fault", "")
	wantValues(t, got, "port-blocked")
	if slices.Contains(got, "slow-web") {
		t.Errorf("a maestro fault offered for listmanager: %q", got)
	}

	// Journals in the journal folder, and the steps of a journal's runbook for --decide.
	inv2, rbFile, _ := localSetup(t)
	jdir := t.TempDir()
	jpath := filepath.Join(jdir, "token.jsonl")
	wantCode(t, cutover(t, "run", rbFile, "-i", inv2, "--role", "app=me", "--set", "token=x1", "--headless", "--journal", jpath), 0)
	got, _ = offered(t, "resume", "--journal-dir", jdir, "")
	wantValues(t, got, jpath)
	got, _ = offered(t, "resume", jpath, "--decide", "")
	wantValues(t, got, "store=")
	got, _ = offered(t, "resume", jpath, "--decide", "store=")
	wantValues(t, got, "store=accept", "store=rerun", "store=retry")
	// A runbook file's roles, and the hosts of the inventory the journal recorded.
	got, _ = offered(t, "run", rbFile, "--role", "")
	wantValues(t, got, "app=")
	got, _ = offered(t, "replay", jpath, "--role", "app=")
	wantValues(t, got, "app=me")
}

// TestCompletionOfSiteRunbooks: the site's runbooks, lab scenarios and their faults on
// the search path complete as the shipped ones do, and a site runbook's roles too.
func TestCompletionOfSiteRunbooks(t *testing.T) {
	t.Parallel()
	site, err := filepath.Abs(filepath.Join("..", "..", "testdata", "site-runbooks"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := offered(t, "--runbooks", site, "run", "post")
	wantValues(t, got, "postfix/move-queue")
	got, _ = offered(t, "--runbooks", site, "run", "postfix/move-queue", "--role", "")
	wantValues(t, got, "old=")
	got, _ = offered(t, "--runbooks", site, "lab", "--scenario", "")
	wantValues(t, got, "maestro", "postfix")
	got, _ = offered(t, "--runbooks", site, "lab", "--scenario", "postfix", "--fault", "")
	wantValues(t, got, "start-fails", "queue-stuck")
	// Without the folder on the path the site's runbook is not offered.
	if got, _ := offered(t, "run", "post"); slices.Contains(got, "postfix/move-queue") {
		t.Errorf("postfix/move-queue offered without its folder on the search path: %q", got)
	}
}
