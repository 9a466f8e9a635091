package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunsAndLast: cutover runs lists the journal folder's runs, newest first, with
// how each ended; resume --last takes the newest unfinished one and export --last the
// newest finished one.
func TestRunsAndLast(t *testing.T) {
	t.Parallel()
	const canary = "tok-runs-1f2e"
	inv, rbFile, _ := localSetup(t)
	jdir := t.TempDir()
	secret := filepath.Join(t.TempDir(), "token")
	os.WriteFile(secret, []byte(canary), 0o600)
	wantCode(t, cutover(t, "runs", "--journal-dir", jdir), 0, "no runs in "+jdir)
	wantCode(t, cutover(t, "resume", "--last", "--journal-dir", jdir, "--headless"), 2, "--last: no such run: no unfinished run")

	// A finished run, then one cut short after its first step started (as a crash would).
	done := filepath.Join(jdir, "site-store-token-1.jsonl")
	wantCode(t, cutover(t, "run", rbFile, "-i", inv, "--role", "app=me", "--set-file", "token="+secret, "--headless", "--journal", done), 0)
	full := filepath.Join(t.TempDir(), "full.jsonl")
	wantCode(t, cutover(t, "run", rbFile, "-i", inv, "--role", "app=me", "--set-file", "token="+secret, "--headless", "--journal", full), 0)
	lines := strings.SplitAfter(readFile(t, full), "\n")
	cut := filepath.Join(jdir, "site-store-token-2.jsonl")
	os.WriteFile(cut, []byte(strings.Join(lines[:3], "")), 0o600)
	os.WriteFile(filepath.Join(jdir, "notes.jsonl"), []byte("not a journal\n"), 0o600)

	r := cutover(t, "runs", "--journal-dir", jdir)
	wantCode(t, r, 0, "RUNBOOK", "site/store-token", "unfinished at store", "done", "me", inv)
	if strings.Index(r.stdout, cut) > strings.Index(r.stdout, done) {
		t.Errorf("not newest first:\n%s", r.stdout)
	}
	r = cutover(t, "runs", "--journal-dir", jdir, "--json")
	wantCode(t, r, 0)
	validateJSON(t, nil, r.stdout)
	var runs []runEntry
	if err := json.Unmarshal([]byte(r.stdout), &runs); err != nil || len(runs) != 2 {
		t.Fatalf("runs --json: %v\n%s", err, r.stdout)
	}
	if runs[0].Journal != cut || runs[0].Outcome != "unfinished" || runs[0].Step != "store" || runs[1].Outcome != "done" ||
		runs[1].Operator == "" || runs[1].Inventory != inv || strings.Join(runs[1].Hosts, ",") != "me" || runs[1].Ended == nil {
		t.Errorf("runs --json: %+v", runs)
	}

	// export --last: the newest finished run; resume --last: the newest unfinished one.
	r = cutover(t, "export", "--last", "--journal-dir", jdir)
	wantCode(t, r, 0, "# Store an API token", "- [x] **1. Write the token**")
	wantCode(t, cutover(t, "resume", "--last", cut, "--journal-dir", jdir), 2, "not both")
	r = cutover(t, "resume", "--last", "--journal-dir", jdir, "--set-file", "token="+secret, "--headless")
	wantCode(t, r, 0, "resuming "+cut, "done: every step is done")
	wantCode(t, cutover(t, "runs", "--journal-dir", jdir), 0)
	if out := cutover(t, "runs", "--journal-dir", jdir).stdout; strings.Contains(out, "unfinished") {
		t.Errorf("the resumed run is still unfinished:\n%s", out)
	}
	noFileHolds(t, canary, jdir)
}
