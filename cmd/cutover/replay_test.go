package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
)

// Replay: recorded runs run again, headless.

func decisionsVia(t *testing.T, jpath string) map[string]string {
	t.Helper()
	j, err := journal.Read(jpath)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, ev := range j.Events {
		if ev.Type == steps.EvDecision {
			out[ev.Step] = string(ev.Decision.Kind) + " via " + ev.Decision.Via
		}
	}
	return out
}

// TestReplayOnAnotherInventory: a recorded run replayed on a fresh lab (another
// inventory) leaves its hosts as the recording left the first lab's.
func TestReplayOnAnotherInventory(t *testing.T) {
	t.Parallel()
	a, b := startLab(t), startLab(t)
	ja := filepath.Join(t.TempDir(), "a.jsonl")
	wantCode(t, cutover(t, "run", "--from", a.runFile(), "--headless", "--journal", ja), 0)
	jb := filepath.Join(t.TempDir(), "b.jsonl")
	r := cutover(t, "replay", ja, "-i", b.Inventory(), "--headless", "--journal", jb)
	wantCode(t, r, 0, "replaying "+ja, "done: every step is done", "[replay]")
	if got, want := crashTree(t, b), crashTree(t, a); got != want {
		t.Errorf("the replayed lab differs from the recorded one:\n%s", diffTrees(want, got))
	}
	st := stateOf(t, jb)
	if st.Session.Replay != ja || st.Session.RunID == stateOf(t, ja).Session.RunID {
		t.Errorf("the replay's session: replay_of %q run %s", st.Session.Replay, st.Session.RunID)
	}
	via := decisionsVia(t, jb)
	for _, s := range []string{"install-fresh", "uninstall-old-hub"} {
		if via[s] != "confirm via replay" {
			t.Errorf("%s: %q, want a confirmation from the recording", s, via[s])
		}
	}
	wantCode(t, cutover(t, "export", jb), 0, "This run replays `"+ja+"`")
	// The recording itself is untouched.
	wantCode(t, cutover(t, "verify", ja), 0, "hash chain intact")
}

// TestReplayManualStepWithNothingToCheck: a manual step without gates that the operator
// confirmed by hand stops the replay: nothing can show it was done on these hosts.
// With Hosted LISTSERV Lists the recording itself stops at start-listserv, whose gate
// needs a LISTSERV server that answers (the lab simulates none); everything before it,
// stop-listserv included, is recorded.
func TestReplayManualStepWithNothingToCheck(t *testing.T) {
	t.Parallel()
	a, b := startLab(t), startLab(t)
	ja := filepath.Join(t.TempDir(), "a.jsonl")
	wantCode(t, cutover(t, "run", "--from", a.runFile(), "--set", "hosted_lists=true", "--headless", "--journal", ja), 1,
		"stopped at step start-listserv", "needs an operator")
	if st := stateOf(t, ja).Step("start-maestro"); st == nil || st.Status != steps.StepDone {
		t.Fatalf("the recording should have come as far as start-maestro's end: %+v", st)
	}
	if decisionsVia(t, ja)["stop-listserv"] != "confirm via runfile" {
		t.Fatal("the recording should confirm stop-listserv")
	}
	r := cutover(t, "replay", ja, "-i", b.Inventory(), "--headless", "--journal-dir", t.TempDir())
	wantCode(t, r, 1, "note: step stop-listserv: a manual step with nothing to check", "stopped at step stop-listserv", "needs an operator")
	if got := stateChanging(t, b); got["lui: maestroctl stop"] != 1 || len(got) != 4 {
		t.Errorf("the replay should have stopped Maestro and gone no further: %v", got)
	}
}

// TestReplayConfirmationNeedsItsGates: a manual step confirmed by hand in the recording
// is confirmed again in the replay, and its gates decide: on a host where nobody did
// it they fail; where the operator does it, the replay goes on.
func TestReplayConfirmationNeedsItsGates(t *testing.T) {
	t.Parallel()
	a := startLab(t)
	ja := filepath.Join(t.TempDir(), "a.jsonl")
	args := append([]string{"run", "maestro/move-hub", "-i", a.Inventory()}, roleArgs...)
	wantCode(t, cutover(t, append(args, "--headless", "--journal", ja)...), 1, "stopped at step install-fresh")
	install := func(l *testLab) {
		t.Helper()
		out, err := exec.Command(filepath.Join(l.HostRoot("spare"), "bin", "maestro-setup"), "install", "--components", "hub").CombinedOutput()
		if err != nil {
			t.Fatalf("installing by hand: %v\n%s", err, out)
		}
	}
	install(a) // the operator does it by hand
	answers := filepath.Join(t.TempDir(), "answers.yaml")
	os.WriteFile(answers, []byte(`answers:
  install-fresh: {confirm: true}
  uninstall-old-hub: {phrase: "UNINSTALL HUB ON hub", run: {role: old, command: "maestro-setup remove hub"}}
`), 0o644)
	wantCode(t, cutover(t, "resume", ja, "--answers", answers, "--headless"), 0)

	// Nobody installs on b: the confirmation is given and the gate fails.
	b := startLab(t)
	r := cutover(t, "replay", ja, "-i", b.Inventory(), "--headless", "--journal-dir", t.TempDir())
	wantCode(t, r, 1, "confirm [replay]", "stopped at step install-fresh", "a check failed", "hub.ini is missing on spare")

	// On c the operator installs when the replay confirms the step: its gates pass.
	c := startLab(t)
	stdout := &funcWriter{match: regexp.MustCompile(`decision\s+install-fresh\s+confirm`), fire: func() { install(c) }}
	var stderr syncBuffer
	code := realMain([]string{"replay", ja, "-i", c.Inventory(), "--headless", "--journal-dir", t.TempDir()}, strings.NewReader(""), stdout, &stderr)
	wantCode(t, result{code, stdout.String(), stderr.String()}, 0, "PASS  The Hub is now installed", "done: every step is done")
}

// TestReplayOverrides: an override is not repeated unless asked for.
func TestReplayOverrides(t *testing.T) {
	t.Parallel()
	a := startLab(t, "startup-db-error")
	ja := filepath.Join(t.TempDir(), "a.jsonl")
	wantCode(t, cutover(t, "run", "--from", a.runFile(), "--headless", "--journal", ja), 1, "stopped at step start-maestro")
	const reason = "the crashed table is repaired in change 4711"
	answers := filepath.Join(t.TempDir(), "answers.yaml")
	os.WriteFile(answers, []byte("answers:\n  start-maestro: {override: \""+reason+"\"}\n"), 0o644)
	wantCode(t, cutover(t, "resume", ja, "--answers", answers, "--headless"), 0, "override: "+reason)

	b := startLab(t, "startup-db-error")
	r := cutover(t, "replay", ja, "-i", b.Inventory(), "--headless", "--journal-dir", t.TempDir())
	wantCode(t, r, 1, "the recording overrode a failure", "--replay-overrides", "stopped at step start-maestro", "a check failed")

	c := startLab(t, "startup-db-error")
	r = cutover(t, "replay", ja, "-i", c.Inventory(), "--replay-overrides", "--headless", "--journal-dir", t.TempDir())
	wantCode(t, r, 0, "override: replayed from the recording: "+reason, "done: every step is done")
}

// TestReplayChangedRunbook: a runbook that changed since the recording is refused
// unless allowed; secrets must be given again.
func TestReplayChangedRunbook(t *testing.T) {
	t.Parallel()
	inv, rbFile, hostDir := localSetup(t)
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	wantCode(t, cutover(t, "run", rbFile, "-i", inv, "--role", "app=me", "--set", "token=t1", "--headless", "--journal", jpath), 0)
	wantCode(t, cutover(t, "replay", jpath, "--headless"), 2, "parameter token is secret and was not recorded", "--set token=")
	wantCode(t, cutover(t, "replay", jpath, "--set", "token=t", "--set", "colour=red", "--headless"), 2, "--set colour: site/store-token has no parameter colour")

	src := readFile(t, rbFile)
	os.WriteFile(rbFile, []byte(strings.Replace(src, "title: Write the token", "title: Write the API token", 1)), 0o644)
	r := cutover(t, "replay", jpath, "--set", "token=t2", "--headless", "--journal-dir", t.TempDir())
	wantCode(t, r, 2, "changed since this run was recorded", "--allow-changed")
	r = cutover(t, "replay", jpath, "--set", "token=t2", "--allow-changed", "--headless", "--journal-dir", t.TempDir())
	wantCode(t, r, 0, "done: every step is done")
	if got := readFile(t, filepath.Join(hostDir, "token.conf")); got != "token=t2\n" {
		t.Errorf("token.conf = %q", got)
	}
	// A tampered recording is not replayed.
	lines := strings.SplitAfter(readFile(t, jpath), "\n")
	lines[2] = strings.Replace(lines[2], `"seq":3,`, `"seq":3,"message":"x",`, 1)
	bad := filepath.Join(t.TempDir(), "tampered.jsonl")
	os.WriteFile(bad, []byte(strings.Join(lines, "")), 0o600)
	wantCode(t, cutover(t, "replay", bad, "--set", "token=t", "--headless"), 2, "integrity", "line 4")
}

// TestReplayVerifyOnly runs only the gates of the recorded steps, changes nothing and
// writes no journal.
func TestReplayVerifyOnly(t *testing.T) {
	t.Parallel()
	inv, rbFile, hostDir := localSetup(t)
	jdir := t.TempDir()
	jpath := filepath.Join(jdir, "run.jsonl")
	wantCode(t, cutover(t, "run", rbFile, "-i", inv, "--role", "app=me", "--set", "token=t1", "--headless", "--journal", jpath), 0)
	r := cutover(t, "replay", jpath, "--verify-only", "--set", "token=t1")
	wantCode(t, r, 0, "PASS  store", "(recorded: pass)", "1 of 1 end-state gates of the recorded steps still hold")
	os.Remove(filepath.Join(hostDir, "token.conf"))
	r = cutover(t, "replay", jpath, "--verify-only", "--set", "token=t1")
	wantCode(t, r, 1, "FAIL  store", "0 of 1 end-state gates", "no longer hold")
	if m, _ := filepath.Glob(filepath.Join(jdir, "*")); len(m) != 1 {
		t.Errorf("verify-only wrote files: %v", m)
	}

	// On the lab: after a whole move the end-state gates hold; a gate that holds only
	// while the run is under way (Maestro stopped everywhere) is named and left out, a
	// step without gates is listed as such, and nothing on the hosts changes.
	l := startLab(t)
	lj := filepath.Join(t.TempDir(), "lab.jsonl")
	wantCode(t, cutover(t, "run", "--from", l.runFile(), "--headless", "--journal", lj), 0)
	before := fmt.Sprint(stateChanging(t, l))
	tree := crashTree(t, l)
	entries, _ := l.Audit()
	r = cutover(t, "replay", lj, "--verify-only")
	wantCode(t, r, 0, "stop-maestro         Maestro is stopped everywhere: not checked, holds only during the run", "PASS  transfer-hub-data", "PASS  start-maestro",
		"PASS  check-https-apart", "not checked: skipped in the recording", "11 of 11 end-state gates", "2 that hold only during a run left out",
		"preseed-hub-data     not checked: the step has no gate: nothing to check again")
	if got := fmt.Sprint(stateChanging(t, l)); got != before || crashTree(t, l) != tree {
		t.Error("verify-only changed the hosts")
	}
	after, _ := l.Audit()
	for _, e := range after[len(entries):] {
		if e.Kind == "sftp" {
			t.Errorf("verify-only changed a file: %+v", e)
		}
	}
}
