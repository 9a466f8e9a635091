package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
)

// The cluster runbooks on a site that differs from the vendor's defaults: CommuniGate
// Pro backends on other ports, ListManager nodes of unequal hardware.

// TestCommuniGateBackendPortsAreParameters: the lab's backends take WebUser sessions on
// port 80, as in the guide's own example. With the default http_user_port (8100) the
// reach check fails on that port alone; with http_user_port=80 the run goes through.
func TestCommuniGateBackendPortsAreParameters(t *testing.T) {
	t.Parallel()
	t.Run("default port", func(t *testing.T) {
		t.Parallel()
		l := startCluster(t, "communigate", "http-user-port-80")
		r := cutover(t, "run", "--from", clusterRunFile(l, "communigate/cluster"), "--headless",
			"--journal", filepath.Join(t.TempDir(), "run.jsonl"))
		wantCode(t, r, 1, "stopped at step backend-ports",
			"FAIL  Every frontend reaches every backend on the HTTP User, PWD and IMAP ports: 4 of 12 cannot connect",
			"cgfe1 -> be1.cgp.lab: 106 open, 143 open, 8100 REFUSED")
	})
	t.Run("port given", func(t *testing.T) {
		t.Parallel()
		l := startCluster(t, "communigate", "http-user-port-80")
		r := cutover(t, "run", "--from", clusterRunFile(l, "communigate/cluster"), "--headless",
			"--journal", filepath.Join(t.TempDir(), "run.jsonl"), "--set", "http_user_port=80")
		wantCode(t, r, 0, "done: every step is done",
			"PASS  Every frontend reaches every backend on the HTTP User, PWD and IMAP ports: all 12 connections open")
	})
}

// TestListManagerHardwareAdvice: the guide advises the same hardware on every node
// without requiring it. The plan compares the processors and memory the probe found:
// alike nodes pass; a smaller new node (smaller-node) shows a warning, and the plan and
// the run go on, the warning journaled as such.
func TestListManagerHardwareAdvice(t *testing.T) {
	t.Parallel()
	const gate = "The new node has the processors and memory of the existing node"
	t.Run("alike", func(t *testing.T) {
		t.Parallel()
		l := startCluster(t, "listmanager")
		r := cutover(t, "plan", "--from", clusterRunFile(l, "listmanager/cluster-node"))
		wantCode(t, r, 0, "pre-check PASS: "+gate+": alike: 4 processors and 8.0 GiB of memory on each of lm1, lm2")
		if strings.Contains(r.stdout, "WARN") {
			t.Errorf("alike nodes warn:\n%s", r.stdout)
		}
	})
	t.Run("smaller node", func(t *testing.T) {
		t.Parallel()
		l := startCluster(t, "listmanager", "smaller-node")
		const differ = "processors differ: 4 processors on lm1; 2 processors on lm2; memory differs by more than 5%: 8.0 GiB on lm1; 4.0 GiB on lm2"
		r := cutover(t, "plan", "--from", clusterRunFile(l, "listmanager/cluster-node"))
		wantCode(t, r, 0, "pre-check WARN: "+gate+": "+differ, "The run could start")
		jpath := filepath.Join(t.TempDir(), "run.jsonl")
		r = cutover(t, "run", "--from", clusterRunFile(l, "listmanager/cluster-node"), "--headless", "--journal", jpath)
		wantCode(t, r, 0, "done: every step is done", "WARN  "+gate+": "+differ)
		j, err := journal.Read(jpath)
		if err != nil {
			t.Fatal(err)
		}
		var warned *steps.CheckResult
		for _, ev := range j.Events {
			if ev.Type == steps.EvCheck && ev.Step == "check-hardware" && ev.Check.Name == gate {
				warned = ev.Check
			}
		}
		if warned == nil || warned.Status != steps.Warn || !strings.Contains(strings.Join(warned.Evidence, "\n"), "lm2: 2 processors, 4.0 GiB of memory") {
			t.Errorf("the journal does not hold the warning with its evidence: %+v", warned)
		}
		r = cutover(t, "export", jpath)
		wantCode(t, r, 0, "**WARN**", "Outcome: **done**")
	})
}
