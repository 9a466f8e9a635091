package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
	"github.com/cutover/cutover/steps/lock"
)

// rawControl returns the first thing in out a terminal would act on (a control
// character other than a line end or tab, a C1 control, a bidirectional override,
// bytes that are not UTF-8), or "".
func rawControl(out string) string {
	if !utf8.ValidString(out) {
		return "bytes that are not UTF-8"
	}
	for i, r := range out {
		if r < 0x20 && r != '\n' && r != '\t' || r >= 0x7f && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
			return strings.ToValidUTF8(out[max(0, i-30):min(len(out), i+30)], "?")
		}
	}
	return ""
}

// wantSafe fails t when the command's output, or the file, holds a raw control.
func wantSafe(t *testing.T, what string, out string) {
	t.Helper()
	if c := rawControl(out); c != "" {
		t.Errorf("%s carries a raw control character: %q", what, c)
	}
}

// hostile is what a hostile host's hostname command prints: a window title that
// answers back, a screen clear, a line of its own that looks like cutover's, a
// right-to-left override.
const hostile = "hub\x1b]0;pwned\x07\x1b[2J\r\n09:00:00  run                            done: every step is done \u202eok"

// TestHostileHostCannotForgeTheScreen: a host whose name, reported by its own hostname
// command, is full of escape sequences, and a lock file with escapes in its fields,
// reach the probe table, probe --json, a headless run, its errors and its checklist
// as visible escapes: no raw control byte in any output, and no line the host wrote.
func TestHostileHostCannotForgeTheScreen(t *testing.T) {
	t.Parallel()
	l := startLab(t)
	script := "#!/bin/sh\nprintf '" + strings.NewReplacer("\x1b", `\033`, "\x07", `\007`, "\r", `\r`, "\n", `\n`, "\u202e", `\342\200\256`).Replace(hostile) + "\\n'\n"
	if err := os.WriteFile(filepath.Join(l.HostRoot("hub"), "bin", "hostname"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	r := cutover(t, "probe", "-i", l.Inventory())
	wantSafe(t, "probe", r.out())
	// The probe takes the first line the command prints; the rest never shows.
	if !strings.Contains(r.stdout, `hub\x1b]0;pwned\a\x1b[2J `) {
		t.Errorf("the probe table does not show the hostname escaped:\n%s", r)
	}
	for _, l := range strings.Split(r.out(), "\n") {
		if strings.HasPrefix(l, "09:00:00") {
			t.Errorf("the host wrote a line of its own: %q", l)
		}
	}
	r = cutover(t, "probe", "-i", l.Inventory(), "--json", "hub")
	wantSafe(t, "probe --json", r.out())
	var facts []struct{ Hostname string }
	if err := json.Unmarshal([]byte(r.stdout), &facts); err != nil || len(facts) != 1 || !strings.HasPrefix(facts[0].Hostname, "hub\x1b]0;pwned") {
		t.Errorf("probe --json does not carry the hostname as sent: %v %+v", err, facts)
	}

	// A lock on spare left by "another machine", its fields full of escapes.
	owner := lock.Owner{Operator: "mallory\x1b[2J@evil\nFORGED: the lock is yours", Machine: "far\x1b]0;x\x07", PID: 1, Runbook: "x\r",
		RunID: "r", Journal: "/j\u202e", Since: time.Now(), Hosts: []string{"spare"}}
	data, _ := json.Marshal(owner)
	if err := os.WriteFile(lockFile(l, "spare"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r = cutover(t, "run", "--from", l.runFile(), "--headless", "--journal-dir", dir)
	wantCode(t, r, 1, `mallory\x1b[2J@evil\nFORGED: the lock is yours`, `far\x1b]0;x\a`)
	wantSafe(t, "the refused run", r.out())
	for _, line := range strings.Split(r.out(), "\n") {
		if strings.HasPrefix(line, "FORGED") {
			t.Errorf("the lock wrote a line of its own: %q", line)
		}
	}

	// Without the lock the run goes on; its output and checklist name the host escaped.
	os.Remove(lockFile(l, "spare"))
	r = cutover(t, "run", "--from", l.runFile(), "--headless", "--journal-dir", dir, "-v")
	wantSafe(t, "the run", r.out())
	jpath := onlyJournal(t, dir)
	r = cutover(t, "export", jpath)
	wantCode(t, r, 0, `| old | hub (hub\x1b\]0;pwned\a\x1b\[2J) |`)
	wantSafe(t, "the checklist", r.out())
}

// signingKey makes an ed25519 key with ssh-keygen, and an allowed_signers file that
// lets it sign journals as op@site.
func signingKey(t *testing.T) (key, signers string) {
	t.Helper()
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("ssh-keygen is not installed (CI installs openssh-client)")
	}
	dir := t.TempDir()
	key = filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "op@site", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	signers = filepath.Join(dir, "allowed_signers")
	if err := os.WriteFile(signers, append([]byte(`op@site namespaces="cutover-journal" `), pub...), 0o600); err != nil {
		t.Fatal(err)
	}
	return key, signers
}

// TestSignedJournalShowsForgery: a run signed with --sign-key stops at a manual step
// and resumes signed to its end; cutover verify --signers and ssh-keygen -Y verify
// accept it. A copy whose journal was edited and re-chained passes the chain, which
// cannot tell, and fails the signature: verify says so, resume and replay refuse it.
func TestSignedJournalShowsForgery(t *testing.T) {
	t.Parallel()
	l := startLab(t)
	key, signers := signingKey(t)
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	args := append(append([]string{"run", "maestro/move-hub", "-i", l.Inventory()}, roleArgs...), "--headless", "--journal", jpath, "--sign-key", key)
	r := cutover(t, args...)
	wantCode(t, r, 1, "needs an operator", "journal signed with ssh-ed25519 key SHA256:", jpath+".sig")
	wantCode(t, cutover(t, "verify", jpath, "--signers", signers), 0, "hash chain intact", "signed by op@site (ssh-ed25519 key SHA256:")

	// The forgery: a copy with the first check's evidence changed, the chain recomputed.
	forged := filepath.Join(t.TempDir(), "forged.jsonl")
	var out []byte
	prev := ""
	changed := false
	for i, line := range strings.SplitAfter(strings.TrimSuffix(readFile(t, jpath), "\n"), "\n") {
		ev := &steps.Event{}
		if err := json.Unmarshal([]byte(line), ev); err != nil {
			t.Fatal(err)
		}
		if ev.Type == steps.EvCheck && !changed {
			ev.Check.Summary, changed = "checked by the DBA", true
		}
		if i > 0 {
			ev.Prev = prev
		}
		b, _ := json.Marshal(ev)
		sum := sha256.Sum256(b)
		prev = hex.EncodeToString(sum[:])
		out = append(append(out, b...), '\n')
	}
	os.WriteFile(forged, out, 0o600)
	os.WriteFile(journal.SigPath(forged), []byte(readFile(t, journal.SigPath(jpath))), 0o600)
	r = cutover(t, "verify", forged)
	wantCode(t, r, 1, "hash chain intact", "SIGNATURE NOT VALID", "does not match its signature")
	r = cutover(t, "verify", forged, "--signers", signers)
	wantCode(t, r, 1, "SIGNATURE NOT VALID", "does not match its signature")
	if cmd := exec.Command("ssh-keygen", "-Y", "verify", "-f", signers, "-I", "op@site", "-n", journal.Namespace, "-s", journal.SigPath(forged)); true {
		cmd.Stdin, _ = os.Open(forged)
		if b, err := cmd.CombinedOutput(); err == nil {
			t.Errorf("ssh-keygen accepted the forged journal: %s", b)
		}
	}
	wantCode(t, cutover(t, "export", forged), 0, "WARNING: this journal does not match its signature")
	r = cutover(t, "resume", forged, "--headless", "--answers", l.runFile())
	wantCode(t, r, 1, "refusing to continue this journal", "does not match its signature")
	r = cutover(t, "replay", forged, "--headless")
	wantCode(t, r, 2, "refusing to replay", "does not match its signature")

	// The real run goes on, signed again when it ends: every line is covered.
	wantCode(t, cutover(t, "resume", jpath, "--headless", "--answers", l.runFile(), "--sign-key", key), 0, "journal signed with")
	wantCode(t, cutover(t, "verify", jpath, "--signers", signers), 0, "signed by op@site", "every line")
	cmd := exec.Command("ssh-keygen", "-Y", "verify", "-f", signers, "-I", "op@site", "-n", journal.Namespace, "-s", journal.SigPath(jpath))
	cmd.Stdin, _ = os.Open(jpath)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("ssh-keygen -Y verify: %v: %s", err, b)
	}
	// Another operator's key is not an allowed signer of this journal.
	_, other := signingKey(t)
	wantCode(t, cutover(t, "verify", jpath, "--signers", other), 1, "not among the allowed signers")
}

// TestExposedJournalRefused: a journal others may write is refused for resume and
// replay, with its path and mode, and warned about by verify and export.
func TestExposedJournalRefused(t *testing.T) {
	t.Parallel()
	l := startLab(t)
	dir := t.TempDir()
	jpath := filepath.Join(dir, "run.jsonl")
	args := append(append([]string{"run", "maestro/move-hub", "-i", l.Inventory()}, roleArgs...), "--headless", "--journal", jpath)
	wantCode(t, cutover(t, args...), 1, "needs an operator")
	if err := os.Chmod(jpath, 0o666); err != nil {
		t.Fatal(err)
	}
	want := "journal " + jpath + " is writable by others (mode -rw-rw-rw-"
	wantCode(t, cutover(t, "resume", jpath, "--headless", "--answers", l.runFile()), 1, "refusing to continue this journal", want)
	wantCode(t, cutover(t, "replay", jpath, "--headless"), 2, "refusing to replay", want)
	wantCode(t, cutover(t, "verify", jpath), 0, "WARNING: "+want)
	wantCode(t, cutover(t, "export", jpath), 0, "WARNING: "+want)
}
