package main

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"

	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
	"github.com/cutover/cutover/steps/lock"
)

// Faults: connections that drop or hang mid-action, host keys, locks, secrets.

// stateChanging counts the lab's state-changing commands per "host: command".
func stateChanging(t *testing.T, l *testLab) map[string]int {
	t.Helper()
	entries, err := l.Audit()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range entries {
		if e.Kind == "exec" && !readOnly(e.Host+" exec "+e.Command) {
			out[e.Host+": "+e.Command]++
		}
	}
	return out
}

func lastAction(t *testing.T, jpath, step string) *steps.Event {
	t.Helper()
	j, err := journal.Read(jpath)
	if err != nil {
		t.Fatal(err)
	}
	var last *steps.Event
	for _, ev := range j.Events {
		if ev.Step == step && (ev.Type == steps.EvActionStart || ev.Type == steps.EvActionResult) {
			last = ev
		}
	}
	if last == nil {
		t.Fatalf("no action of %s in the journal", step)
	}
	return last
}

// TestDroppedConnectionAfterAction: the connection to trk drops after Maestro started
// there and before cutover hears so. The action is recorded as of unknown outcome, its
// gates are checked (they pass), the operator is asked; resume asks again without
// running anything; accept ends the run with every start once.
func TestDroppedConnectionAfterAction(t *testing.T) {
	t.Parallel()
	l := startLab(t, "drop-after:trk:^maestroctl start$")
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	r := cutover(t, "run", "--from", l.runFile(), "--headless", "--journal", jpath)
	wantCode(t, r, 1, "stopped at step start-maestro", "outcome is unknown", "the connection was lost while it ran",
		"nothing was run again", "all 3 pass", "--decide start-maestro=accept|rerun")
	res := lastAction(t, jpath, "start-maestro")
	if res.Type != steps.EvActionResult || !res.Action.Unreachable || !res.Action.Unknown || res.Action.OK {
		t.Fatalf("the action's result should be recorded as unreachable: %+v", res.Action)
	}
	st := stateOf(t, jpath)
	if ss := st.Step("start-maestro"); !ss.ActionPending || ss.ActionDone {
		t.Errorf("a dropped action must read as outcome unknown: pending=%v done=%v", ss.ActionPending, ss.ActionDone)
	}
	want := "map[lui: maestroctl start:1 spare: maestroctl start:1 trk: maestroctl start:1]"
	starts := func() string {
		m := stateChanging(t, l)
		for k := range m {
			if !strings.HasSuffix(k, "maestroctl start") {
				delete(m, k)
			}
		}
		return fmt.Sprint(m)
	}
	if got := starts(); got != want {
		t.Fatalf("starts %s, want %s", got, want)
	}
	// The export says so too.
	wantCode(t, cutover(t, "export", jpath), 0, "**Outcome unknown**: the connection was lost while the action ran")

	// Resume checks the gates and asks again; nothing runs by itself.
	r = cutover(t, "resume", jpath, "--answers", l.runFile(), "--headless")
	wantCode(t, r, 1, "outcome is unknown", "all 3 pass")
	if got := starts(); got != want {
		t.Fatalf("resume ran something by itself: %s", got)
	}
	r = cutover(t, "resume", jpath, "--decide", "start-maestro=accept", "--headless")
	wantCode(t, r, 0, "accept [flag]", "done: every step is done")
	if got := starts(); got != want {
		t.Errorf("after accept: %s, want %s", got, want)
	}
}

// TestDroppedConnectionBeforeAction: the connection to hub drops as Maestro is about to
// be stopped there: lui was stopped, hub, trk and spare were not. The gates fail, accept
// is not offered, nothing is re-run until the operator says rerun.
func TestDroppedConnectionBeforeAction(t *testing.T) {
	t.Parallel()
	l := startLab(t, "drop:hub:^maestroctl stop$")
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	r := cutover(t, "run", "--from", l.runFile(), "--headless", "--journal", jpath)
	wantCode(t, r, 1, "stopped at step stop-maestro", "outcome is unknown", "the connection was lost while it ran", "0 of 1 pass")
	before := fmt.Sprint(stateChanging(t, l))
	if before != "map[lui: maestroctl stop:1]" {
		t.Fatalf("state-changing commands after the drop: %s", before)
	}
	r = cutover(t, "resume", jpath, "--decide", "stop-maestro=accept", "--headless")
	wantCode(t, r, 1, "outcome is unknown")
	if got := fmt.Sprint(stateChanging(t, l)); got != before {
		t.Fatalf("resume ran something by itself: %s", got)
	}
	r = cutover(t, "resume", jpath, "--decide", "stop-maestro=rerun", "--answers", l.runFile(), "--headless")
	wantCode(t, r, 0, "rerun [flag]", "done: every step is done")
	got := stateChanging(t, l)
	// lui's stop ran twice: once before the drop, once in the rerun the operator chose
	// (maestroctl stop on a stopped server changes nothing).
	if got["lui: maestroctl stop"] != 2 || got["hub: maestroctl stop"] != 1 || got["trk: maestroctl stop"] != 1 || got["spare: maestroctl stop"] != 1 {
		t.Errorf("stops after the rerun: %v", got)
	}
}

// TestDroppedConnectionMidCopy: the connection to spare drops in the middle of copying
// the account registry to its pre-seeded staging copy. The message shows the copy's
// outcome is unknown: the operator reruns, the pre-seed continues, the window's copy
// sends what is missing, and the registry ends as on the old server, nothing merged.
func TestDroppedConnectionMidCopy(t *testing.T) {
	t.Parallel()
	l := startLab(t, `drop:spare:accountreg\.cutover-preseed-[0-9a-f]+/account-008`)
	orig := treeOf(t, l.file("hub", "hub/accountreg"))
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	r := cutover(t, "run", "--from", l.runFile(), "--headless", "--journal", jpath)
	wantCode(t, r, 1, "stopped at step preseed-hub-data", "outcome is unknown", "the connection was lost while it ran")
	// The pre-seed never touches the target: spare has no account registry yet.
	if _, err := os.Stat(l.file("spare", "hub/accountreg")); !os.IsNotExist(err) {
		t.Fatalf("the pre-seed touched the target: %v", err)
	}
	r = cutover(t, "resume", jpath, "--decide", "preseed-hub-data=rerun", "--answers", l.runFile(), "--headless")
	wantCode(t, r, 0, "done: every step is done")
	if got := treeOf(t, l.file("spare", "hub/accountreg")); got != orig {
		t.Error("after the rerun the account registry on spare differs from the old one")
	}
	// What the copy replaced is kept aside for the back-out under this run's name
	// (NAME.cutover-RUN-replaced); anything else named by cutover is a staging copy or a
	// temporary file left behind.
	aside := ".cutover-" + stateOf(t, jpath).Session.RunID + "-replaced"
	m, _ := filepath.Glob(l.file("spare", "hub/*.cutover-*-*"))
	var left, kept []string
	for _, p := range m {
		if strings.HasSuffix(p, aside) {
			kept = append(kept, filepath.Base(p))
		} else {
			left = append(left, p)
		}
	}
	if len(left) > 0 {
		t.Errorf("staging copies left behind: %v", left)
	}
	if want := "accountreg" + aside + " hub.ini" + aside + " hubreg" + aside; strings.Join(kept, " ") != want {
		t.Errorf("kept aside for the back-out: %v, want %s", kept, want)
	}
}

// TestHungPeerMidAction: lui stops answering (without closing anything) while Maestro
// is being stopped there. The keepalive notices within its bound and says so; the
// action is of unknown outcome. The test lets lui answer again once cutover noticed, so
// the gates can be checked.
func TestHungPeerMidAction(t *testing.T) {
	t.Parallel()
	const interval, timeout = 300 * time.Millisecond, 700 * time.Millisecond
	l := startLab(t, "hang:lui:^maestroctl stop$")
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	var noticed time.Time
	stdout := &funcWriter{match: regexp.MustCompile(`result\s+stop-maestro\s+FAILED`), fire: func() {
		noticed = time.Now()
		l.Unhang("lui")
	}}
	var stderr syncBuffer
	code := realMain([]string{"run", "--from", l.runFile(), "--headless", "--journal", jpath,
		"--keepalive", interval.String(), "--keepalive-timeout", timeout.String()}, strings.NewReader(""), stdout, &stderr)
	r := result{code, stdout.String(), stderr.String()}
	wantCode(t, r, 1, "keepalive", "the host or the network stopped responding", "outcome is unknown")
	t.Logf("the operator reads:\n%s", r.stderr)
	if noticed.IsZero() {
		t.Fatalf("the hang was not reported as the action's failure:\n%s", r)
	}
	var hung time.Time
	entries, _ := l.Audit()
	for _, e := range entries {
		if e.Kind == "fault" && e.Op == "hang" {
			hung = e.Time
		}
	}
	if hung.IsZero() {
		t.Fatal("the hang never struck")
	}
	took, bound := noticed.Sub(hung), interval+timeout
	t.Logf("hung peer detected after %v (keepalive bound %v: interval %v + timeout %v)", took.Round(time.Millisecond), bound, interval, timeout)
	if took > bound+time.Second {
		t.Errorf("a hung peer was detected after %v, beyond the keepalive bound %v", took, bound)
	}
	res := lastAction(t, jpath, "stop-maestro")
	if !res.Action.Unreachable || !strings.Contains(res.Action.Error, "keepalive") {
		t.Errorf("the journaled result should say the keepalive went unanswered: %+v", res.Action)
	}
	wantCode(t, cutover(t, "run", "--from", l.runFile(), "--headless", "--keepalive", "0s"), 2, "--keepalive")
}

// TestHostKeyMessages: an unknown key and a changed key are refused with exit 4 and
// different messages (how to add it; from which fingerprint to which); a host offering
// several key types works with only one of them on file, hashed entries and [host]:port
// entries work.
func TestHostKeyMessages(t *testing.T) {
	t.Parallel()
	l := startLab(t)
	port := l.Port("trk")
	kh := readFile(t, l.KnownHosts())
	if !strings.Contains(kh, fmt.Sprintf("[127.0.0.1]:%d ssh-ed25519 ", port)) {
		t.Fatalf("the lab's known_hosts should hold [host]:port ed25519 entries:\n%s", kh)
	}
	ecdsa := hostPublicKey(t, l, "trk_ecdsa")
	ed := hostPublicKey(t, l, "trk_ed25519")
	variant := func(name string, lines func(string) string) string {
		out := []string{}
		for _, line := range strings.Split(strings.TrimSpace(kh), "\n") {
			if strings.HasPrefix(line, fmt.Sprintf("[127.0.0.1]:%d ", port)) {
				line = lines(line)
			}
			if line != "" {
				out = append(out, line)
			}
		}
		p := filepath.Join(l.Dir(), name+"_known_hosts")
		if err := os.WriteFile(p, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return writeInventory(t, l, "inventory-"+name+".yaml", func(s string) string {
			return strings.Replace(s, "known_hosts: known_hosts\n", "known_hosts: "+filepath.Base(p)+"\n", 1)
		})
	}
	addr := fmt.Sprintf("[127.0.0.1]:%d", port)
	works := map[string]string{
		"ecdsa-only": variant("ecdsa", func(string) string { return xknownhosts.Line([]string{addr}, ecdsa) }),
		"hashed":     variant("hashed", func(string) string { return xknownhosts.HashHostname(addr) + " " + authorized(ed) }),
		"both":       variant("both", func(l string) string { return l + "\n" + xknownhosts.Line([]string{addr}, ecdsa) }),
	}
	for name, inv := range works {
		t.Run(name, func(t *testing.T) {
			wantCode(t, cutover(t, "probe", "-i", inv, "trk"), 0, "trk")
		})
	}

	unknown := variant("unknown", func(string) string { return "" })
	r := cutover(t, "probe", "-i", unknown, "trk")
	wantCode(t, r, 4, "is unknown", "unknown_known_hosts", fmt.Sprintf("ssh-keyscan -p %d 127.0.0.1 >> <known_hosts>", port))
	// With nothing on file the host presents the type x/crypto prefers (ecdsa).
	if !strings.Contains(r.out(), ssh.FingerprintSHA256(ecdsa)) && !strings.Contains(r.out(), ssh.FingerprintSHA256(ed)) {
		t.Errorf("the unknown key's fingerprint is not shown:\n%s", r)
	}
	if strings.Contains(r.out(), "CHANGED") {
		t.Errorf("an unknown key reads as a changed one:\n%s", r)
	}

	old := l.HostKeyFingerprint("trk")
	if err := l.RotateKey("trk"); err != nil {
		t.Fatal(err)
	}
	r = cutover(t, "run", "--from", l.runFile(), "--headless", "--journal-dir", t.TempDir())
	wantCode(t, r, 4, "HOST KEY CHANGED", "trk", old, l.HostKeyFingerprint("trk"), "ssh-keygen -R")
	if strings.Contains(r.out(), "is unknown") {
		t.Errorf("a changed key reads as an unknown one:\n%s", r)
	}
}

func hostPublicKey(t *testing.T, l *testLab, file string) ssh.PublicKey {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(l.Dir(), "hostkeys", file))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return s.PublicKey()
}

func authorized(k ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}

func lockFile(l *testLab, host string) string {
	return filepath.Join(l.HostRoot(host), "opt", "maestro", lock.FileName)
}

func readLock(t *testing.T, l *testLab, host string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(readFile(t, lockFile(l, host))), &m); err != nil {
		t.Fatalf("lock of %s: %v", host, err)
	}
	return m
}

// deadPID is the pid of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// TestLocks: one run at a time on a host; a refusal says who, since when,
// which runbook, run and journal; a lock whose owner is gone is broken only with
// --break-lock and a reason, which is journaled; a lock of a live process never.
func TestLocks(t *testing.T) {
	t.Parallel()
	l := startLab(t)
	hosts := []string{"hub", "lui", "spare", "trk"}
	j1 := filepath.Join(t.TempDir(), "first.jsonl")
	args := append([]string{"run", "maestro/move-hub", "-i", l.Inventory()}, roleArgs...)
	wantCode(t, cutover(t, append(args, "--headless", "--journal", j1)...), 1, "needs an operator")

	// The first run waits for its operator: it keeps its locks.
	runID := stateOf(t, j1).Session.RunID
	for _, h := range hosts {
		m := readLock(t, l, h)
		if m["run_id"] != runID || m["runbook"] != "maestro/move-hub" || m["journal"] != j1 ||
			int(m["pid"].(float64)) != os.Getpid() || m["operator"] == "" || m["since"] == "" || m["machine"] == "" {
			t.Errorf("lock of %s: %v", h, m)
		}
	}
	if !strings.Contains(readFile(t, j1), "locked hub (") {
		t.Error("the journal does not note the locks taken")
	}
	audit := fmt.Sprint(stateChanging(t, l))

	// A second run is refused with what the lock says, and touches nothing.
	j2 := filepath.Join(t.TempDir(), "second.jsonl")
	second := []string{"run", "--from", l.runFile(), "--headless", "--journal", j2}
	r := cutover(t, second...)
	owner := readLock(t, l, "hub")
	wantCode(t, r, 1, "one run at a time", "hub is locked by another cutover run", owner["operator"].(string),
		"runbook maestro/move-hub", "run "+runID, "journal "+j1, "still running", "never breaks")
	if _, err := os.Stat(j2); !os.IsNotExist(err) {
		t.Errorf("a refused run created its journal: %v", err)
	}
	wantCode(t, cutover(t, append(second, "--break-lock", "I want to")...), 1, "never broken")
	if got := fmt.Sprint(stateChanging(t, l)); got != audit {
		t.Errorf("refused runs changed the hosts: %s, was %s", got, audit)
	}
	wantCode(t, cutover(t, append(second, "--break-lock", " ")...), 2, "--break-lock needs a reason")

	// The owner goes away: on this machine its pid is gone, lui's lock is from another
	// machine, where cutover cannot tell.
	gone := deadPID(t)
	for _, h := range hosts {
		m := readLock(t, l, h)
		m["pid"] = gone
		if h == "lui" {
			m["machine"] = "elsewhere.example"
		}
		b, _ := json.Marshal(m)
		if err := os.WriteFile(lockFile(l, h), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r = cutover(t, second...)
	wantCode(t, r, 1, fmt.Sprintf("no process %d on this machine", gone), "--break-lock",
		"cannot tell from here whether it is still going (it runs on elsewhere.example)")
	if got := fmt.Sprint(stateChanging(t, l)); got != audit {
		t.Errorf("refused runs changed the hosts: %s", got)
	}

	const reason = "the first operator went home; run abandoned (ticket 4711)"
	r = cutover(t, append(second, "--break-lock", reason)...)
	wantCode(t, r, 0, "done: every step is done", "broke the lock of")
	notes := 0
	for _, line := range strings.Split(readFile(t, j2), "\n") {
		if strings.Contains(line, `"type":"note"`) && strings.Contains(line, "broke the lock of") && strings.Contains(line, reason) && strings.Contains(line, runID) {
			notes++
		}
	}
	if notes != len(hosts) {
		t.Errorf("%d journaled lock breaks with the reason, want %d:\n%s", notes, len(hosts), readFile(t, j2))
	}
	for _, h := range hosts {
		if _, err := os.Stat(lockFile(l, h)); !os.IsNotExist(err) {
			t.Errorf("the finished run left its lock on %s", h)
		}
	}
	wantCode(t, cutover(t, "export", j2), 0, reason)
}

// TestLockTakenOverOnResume: an interrupted run keeps its locks; resuming it takes them
// over and the end of the run removes them.
func TestLockTakenOverOnResume(t *testing.T) {
	t.Parallel()
	l := startLab(t)
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	args := append([]string{"run", "maestro/move-hub", "-i", l.Inventory()}, roleArgs...)
	wantCode(t, cutover(t, append(args, "--headless", "--journal", jpath)...), 1, "needs an operator")
	if _, err := os.Stat(lockFile(l, "spare")); err != nil {
		t.Fatalf("the interrupted run dropped its lock: %v", err)
	}
	r := cutover(t, "resume", jpath, "--answers", l.runFile(), "--headless")
	wantCode(t, r, 0, "took over the locks of", "done: every step is done")
	for _, h := range []string{"hub", "lui", "spare", "trk"} {
		if _, err := os.Stat(lockFile(l, h)); !os.IsNotExist(err) {
			t.Errorf("lock left on %s", h)
		}
	}
}

// encryptKey writes the lab's client key encrypted with passphrase.
func encryptKey(t *testing.T, l *testLab, name, passphrase string) string {
	t.Helper()
	raw, err := os.ReadFile(l.ClientKey())
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.ParseRawPrivateKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKeyWithPassphrase(key, "lab client (encrypted)", []byte(passphrase))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(l.Dir(), name)
	if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSecretsNeverLeak: a secret parameter's value and a key passphrase typed
// (through SSH_ASKPASS) reach the hosts and no file cutover writes, no export and no
// output: run, resume, export, verify and replay are all searched, with the locks held
// mid-run.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	const canary = `S3cr3t-canary-91<&>q`
	const passphrase = "pass-canary-7734"
	bin := cutoverBinary(t)
	l := startLab(t)
	dir := t.TempDir()
	encryptKey(t, l, "id_encrypted", passphrase)
	inv := writeInventory(t, l, "inventory-encrypted.yaml", func(s string) string {
		return strings.Replace(s, "identity: id_ed25519\n", "identity: id_encrypted\n", 1)
	})
	askpass := filepath.Join(dir, "askpass")
	asked := filepath.Join(dir, "asked")
	os.WriteFile(askpass, []byte("#!/bin/sh\necho \"$1\" >> '"+asked+"'\necho '"+passphrase+"'\n"), 0o755)
	rbFile := filepath.Join(dir, "token.yaml")
	os.WriteFile(rbFile, []byte(`id: site/store-token
title: Store an API token on the User Interface server
system: Site
source: the site's own procedure
roles:
  - {id: app, title: the User Interface server}
params:
  - {id: token, title: API token, type: string, secret: true}
steps:
  - id: store
    title: Write the token where the application reads it
    action:
      run: {role: app, command: "echo token={{ params.token }} > token.conf && echo stored {{ params.token }}"}
    gates:
      - command: {role: app, run: "cat token.conf", output_contains: ['token=']}
  - id: configure
    title: Put the token in lui.ini
    action:
      ini: {role: app, file: lui/lui.ini, set: {ApiToken: "{{ params.token }}"}}
    gates:
      - ini: {role: app, file: lui/lui.ini, key: ApiToken, equals: "{{ params.token }}"}
  - id: tell-the-vendor
    title: Register the token with the vendor by hand
    manual: true
    gates:
      - command: {role: app, run: "echo registered {{ params.token }}; grep -q token= token.conf"}
`), 0o644)
	answers := filepath.Join(dir, "answers.yaml")
	os.WriteFile(answers, []byte("answers:\n  tell-the-vendor: {confirm: true}\n"), 0o644)
	jdir := filepath.Join(dir, "journals")
	os.MkdirAll(jdir, 0o700)
	jpath := filepath.Join(jdir, "run.jsonl")
	env := append(os.Environ(), "SSH_ASKPASS="+askpass, "SSH_ASKPASS_REQUIRE=force", "CUTOVER_JOURNALS="+jdir)

	var outputs []string
	run := func(wantExit int, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, _ := cmd.CombinedOutput()
		outputs = append(outputs, string(out))
		if cmd.ProcessState.ExitCode() != wantExit {
			t.Fatalf("cutover %v: exit %d, want %d\n%s", args, cmd.ProcessState.ExitCode(), wantExit, out)
		}
		return string(out)
	}
	run(1, "run", rbFile, "-i", inv, "--role", "app=lui", "--set", "token="+canary, "--headless", "-v", "--journal", jpath)
	lockContent := readFile(t, lockFile(l, "lui"))
	out := run(0, "resume", jpath, "--set", "token="+canary, "--answers", answers, "--headless", "-v")
	if !strings.Contains(out, "[secret]") {
		t.Errorf("the run shows no [secret] placeholder: the test did not exercise redaction:\n%s", out)
	}
	export := filepath.Join(dir, "checklist.md")
	run(0, "export", jpath, "-o", export)
	run(0, "verify", jpath)
	run(0, "replay", jpath, "--verify-only", "--set", "token="+canary)
	run(0, "replay", jpath, "--set", "token="+canary, "--answers", answers, "--headless", "-v", "--journal", filepath.Join(jdir, "replay.jsonl"))
	run(2, "replay", jpath, "--headless") // the secret is needed again: bad input, and says which

	// The secret and the passphrase did their work...
	if got := readFile(t, filepath.Join(l.HostRoot("lui"), "token.conf")); got != "token="+canary+"\n" {
		t.Fatalf("token.conf = %q", got)
	}
	if !strings.Contains(readFile(t, l.file("lui", "lui/lui.ini")), "ApiToken="+canary) {
		t.Fatal("lui.ini did not get the token")
	}
	if prompts := readFile(t, asked); !strings.Contains(prompts, "Enter passphrase for key") || !strings.Contains(prompts, "id_encrypted") {
		t.Fatalf("the passphrase was not asked for through SSH_ASKPASS: %q", prompts)
	}

	// ...and appear nowhere cutover wrote.
	escaped, _ := json.Marshal(canary)
	needles := []string{canary, strings.Trim(string(escaped), `"`), "S3cr3t-canary", passphrase}
	search := map[string]string{"lock file": lockContent}
	for i, o := range outputs {
		search[fmt.Sprintf("output %d", i+1)] = o
	}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && p != rbFile && p != askpass {
			search[p] = readFile(t, p)
		}
		return nil
	})
	if len(search) < 10 {
		t.Fatalf("only %d places searched", len(search))
	}
	for name, text := range search {
		for _, n := range needles {
			if i := strings.Index(text, n); i >= 0 {
				t.Errorf("%s contains a secret (%q) near %q", name, n, text[max(0, i-60):min(len(text), i+40)])
			}
		}
	}
}

// TestTamperEvidence at the command line: a removed line and a changed line
// are each reported by verify with the first line that no longer follows, and an export
// of the tampered journal warns, on the screen and in the checklist, naming that line.
func TestTamperEvidence(t *testing.T) {
	t.Parallel()
	inv, rbFile, _ := localSetup(t)
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	wantCode(t, cutover(t, "run", rbFile, "-i", inv, "--role", "app=me", "--set", "token=t", "--headless", "--journal", jpath), 0)
	lines := strings.SplitAfter(readFile(t, jpath), "\n")
	lines = lines[:len(lines)-1] // the last "" after the final newline
	if len(lines) < 8 {
		t.Fatalf("only %d lines", len(lines))
	}
	write := func(name string, ls []string) string {
		p := filepath.Join(t.TempDir(), name)
		os.WriteFile(p, []byte(strings.Join(ls, "")), 0o600)
		return p
	}
	removed := write("removed.jsonl", append(append([]string{}, lines[:5]...), lines[6:]...))
	changed := append([]string{}, lines...)
	changed[6] = strings.Replace(changed[6], `"type":`, `"message":"edited","type":`, 1)
	edited := write("edited.jsonl", changed)
	for name, tc := range map[string]struct {
		path string
		line int
	}{"removed": {removed, 6}, "edited": {edited, 8}} {
		t.Run(name, func(t *testing.T) {
			r := cutover(t, "verify", tc.path)
			wantCode(t, r, 1, fmt.Sprintf("BROKEN at line %d:", tc.line))
			r = cutover(t, "export", tc.path)
			wantCode(t, r, 0, "WARNING: this journal fails its integrity check** (line "+fmt.Sprint(tc.line),
				"cutover export: WARNING: "+tc.path+" fails its integrity check: line "+fmt.Sprint(tc.line))
		})
	}
}

// TestPassphraseTypedOnTerminal: headless on a terminal, cutover asks for an encrypted
// key's passphrase with echo off; what is typed reaches the key and neither the screen
// nor the journal.
func TestPassphraseTypedOnTerminal(t *testing.T) {
	t.Parallel()
	needTmux(t)
	const passphrase = "typed-canary-5521"
	bin := cutoverBinary(t)
	l := startLab(t)
	encryptKey(t, l, "id_typed", passphrase)
	inv := writeInventory(t, l, "inventory-typed.yaml", func(s string) string {
		return strings.Replace(s, "identity: id_ed25519\n", "identity: id_typed\n", 1)
	})
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	env, _ := wizardEnv(t)
	args := append(append([]string{bin, "run", "maestro/move-hub", "-i", inv}, roleArgs...), "--headless", "--journal", jpath)
	tm := startTmux(t, 200, 50, t.TempDir(), env, args...)
	tm.waitFor("Enter passphrase for key", "id_typed")
	tm.text(passphrase)
	tm.keys("Enter")
	// The run gets going with the decrypted key and stops at the first manual step (its
	// last words; the exit status is not waited for: under load tmux is slow to notice).
	tm.waitFor("stopped at step install-fresh")
	all := tm.tmux("capture-pane", "-p", "-S", "-", "-t", tm.pane)
	if strings.Contains(all, passphrase) {
		t.Errorf("the passphrase was echoed:\n%s", all)
	}
	if strings.Contains(readFile(t, jpath), passphrase) {
		t.Error("the passphrase reached the journal")
	}
}
