package main

import (
	"os"
	"strings"
	"testing"
)

// End-to-end runs of maestro/failover in the practice lab for the split-brain guard and
// the fencing of a primary that does not answer over SSH.

// standbyStarted reports whether the run started Maestro on the standby.
func standbyStarted(t *testing.T, l *testLab) bool {
	t.Helper()
	entries, err := l.Audit()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Host == "standby" && e.Kind == "exec" && e.Command == "maestroctl start" {
			return true
		}
	}
	return false
}

// TestFailoverGuardProbesThePrimaryByAddress: the primary's sshd is dead but its Maestro
// still serves, and the inventory names the primary by the public name, which the
// redirect points at the standby. Probing by that name after the redirect would test
// the standby (silent, not yet started) and let it start beside the live primary. The
// guard probes the primary's addresses instead: it refuses before the redirect and,
// overridden there, again before the standby starts.
func TestFailoverGuardProbesThePrimaryByAddress(t *testing.T) {
	t.Parallel()
	l := startScenario(t, "maestro-ha")
	// sshd down, Maestro up: the lab's host refuses SSH while its endpoints serve.
	if err := os.WriteFile(hostFile(l, "primary", "var/powered-off"), []byte("sshd only\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inv, err := os.ReadFile(l.Inventory())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(inv), "hostname: primary.ha.lab") {
		t.Fatalf("inventory without the primary's vars.hostname:\n%s", inv)
	}
	inv = []byte(strings.Replace(string(inv), "hostname: primary.ha.lab", "hostname: maestro.ha.lab", 1))
	if err := os.WriteFile(l.Inventory(), inv, 0o644); err != nil {
		t.Fatal(err)
	}
	answers := answersFile(t, "maestro/failover", `  assess-outage:
    override: "drill: failing over although the primary's ports answer"
  fence-down:
    phrase: "primary IS OFF AND STAYS OFF"
    override: "drill: the operator typed the phrase without switching it off"
    run: {role: operator, command: "P=$LAB_DIR/hosts/primary/bin; $P/maestroctl disable && $P/maestro-sync stop"}
  redirect-traffic:
    override: "drill: redirecting against the guard"
    run: {role: operator, command: "lab-dns set maestro.ha.lab 10.77.1.20"}
`)
	r, jpath := runOf(t, l, "maestro/failover", "--answers", answers)
	wantCode(t, r, 1, "FAIL  Before traffic moves, the switched-off primary answers none of the three hosts",
		"stopped at step start-standby", "The switched-off primary answers none of the three hosts",
		"ops gets an answer from http://10.77.1.10:80/lui/")
	failed := failedCheck(t, jpath, "start-standby", "The switched-off primary answers none of the three hosts")
	if failed == nil || !strings.Contains(strings.Join(failed.Evidence, "\n"), "witness -> http://10.77.1.10:8080/hub/: ANSWERS") {
		t.Errorf("the guard's evidence does not show the primary's answers at its address: %+v", failed)
	}
	if standbyStarted(t, l) {
		t.Fatal("Maestro was started on the standby while the primary served")
	}
}

// TestFailoverGuardWantsAutostartOff: Maestro on a reachable primary is stopped at the
// moment, but its start at boot was switched on again after the fencing: the standby
// does not start.
func TestFailoverGuardWantsAutostartOff(t *testing.T) {
	t.Parallel()
	l := startScenario(t, "maestro-ha", "primary-still-running")
	onHost(t, l, "primary", "maestroctl", "stop")
	answers := answersFile(t, "maestro/failover", `  check-network-rules:
    run: {role: operator, command: "$LAB_DIR/hosts/primary/bin/maestroctl enable"}
`)
	r, jpath := runOf(t, l, "maestro/failover", "--answers", answers)
	wantCode(t, r, 1, "PASS  Before traffic moves, Maestro is proven not to run on the primary",
		"stopped at step start-standby", "The primary's Maestro is set to manual start")
	if failedCheck(t, jpath, "start-standby", "The primary's Maestro is set to manual start") == nil {
		t.Error("the journal has no failure of the autostart guard")
	}
	if standbyStarted(t, l) {
		t.Fatal("Maestro was started on the standby while the primary would start at boot")
	}
}

// TestFailoverFenceDownWantsThePrimaryStillSilent: a primary that was down when the run
// started comes back (on, cut off the network, Maestro started at boot) before it is
// fenced by hand: the typed phrase is not enough, the fencing step stops.
func TestFailoverFenceDownWantsThePrimaryStillSilent(t *testing.T) {
	t.Parallel()
	l := startScenario(t, "maestro-ha", "primary-down")
	answers := answersFile(t, "maestro/failover", `  check-replica:
    run: {role: operator, command: "P=$LAB_DIR/hosts/primary/bin; $P/lab-power on && $P/lab-power isolate"}
`)
	r, jpath := runOf(t, l, "maestro/failover", "--answers", answers, "--set", "sync_method=block-level")
	wantCode(t, r, 1, "stopped at step fence-down", "cutover still gets no SSH answer from the primary",
		"the primary answers over SSH again")
	if failedCheck(t, jpath, "fence-down", "cutover still gets no SSH answer from the primary") == nil {
		t.Error("the journal has no failure of the SSH gate of fence-down")
	}
	if standbyStarted(t, l) {
		t.Fatal("Maestro was started on the standby")
	}
}
