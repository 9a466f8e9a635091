package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
)

// End-to-end runs of the cluster runbooks (ListManager, CommuniGate Pro, MDaemon) on
// their practice labs, through realMain as an operator runs them.

// startCluster serves the named lab scenario in process for one test.
func startCluster(t *testing.T, scenario string, faults ...string) *lab.Lab {
	t.Helper()
	return startScenario(t, scenario, faults...).Lab
}

func clusterRunFile(l *lab.Lab, runbook string) string {
	return l.RunFile(runbook)
}

var clusterRunbooks = map[string]string{
	"listmanager": "listmanager/cluster-node",
	"communigate": "communigate/cluster",
	"mdaemon":     "mdaemon/cluster",
}

// TestClusterRuns: each cluster runbook's lab run file runs headless to the end, the
// lab's hosts show what the run did, and the journal exports as a filled checklist.
func TestClusterRuns(t *testing.T) {
	t.Parallel()
	for scenario, runbook := range clusterRunbooks {
		t.Run(scenario, func(t *testing.T) {
			t.Parallel()
			l := startCluster(t, scenario)
			jpath := filepath.Join(t.TempDir(), "run.jsonl")
			r := cutover(t, "run", "--from", clusterRunFile(l, runbook), "--headless", "--journal", jpath)
			wantCode(t, r, 0, "done: every step is done")
			if strings.Contains(r.stdout, "FAIL") {
				t.Errorf("a gate failed on the way:\n%s", r.stdout)
			}
			switch scenario {
			case "listmanager":
				clusterNodeJoined(t, &testLab{Lab: l})
				wantCode(t, r, 0, "round trip lm2 -> lm1 is", "round trip lm1 -> lm2 is", "PASS  The new node has the processors and memory of the existing node: alike: 4 processors and 8.0 GiB")
			case "communigate":
				communigateClusterUnchanged(t, &testLab{Lab: l})
				wantCode(t, r, 0, "all 12 connections open", "all 8 connections open", "north.lab resolves to 10.77.1.11, 10.77.1.12")
			case "mdaemon":
				mdaemonClustered(t, &testLab{Lab: l})
				wantCode(t, r, 0, "MDaemon version is 23.5.1 on md1, md2", "clocks agree within")
			}
			endStateHolds(t, jpath)
			r = cutover(t, "export", jpath)
			wantCode(t, r, 0, "Outcome: **done**")
			if strings.Contains(r.stdout, "- [ ] ") {
				t.Errorf("a finished run exports unticked items:\n%s", r.stdout)
			}
		})
	}
}

// TestClusterFaults: each lab fault stops its runbook at the gate that is meant to catch
// it, with exit 1 and the figures as evidence, on screen and in the journal.
func TestClusterFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scenario, fault string
		step, gate      string
		// evidence must appear in the failed gate's journaled summary or evidence.
		evidence []string
	}{
		{"listmanager", "same-machine", "preflight-nodes", "The two nodes are different machines",
			[]string{"lm1 and lm2 are the same machine (same host key)", "lm2: host key ssh-ed25519 SHA256:"}},
		{"listmanager", "wan-latency", "check-lan", "Round trip from the new node to the existing node is LAN-like",
			[]string{"more than 5ms: not a LAN", "lm2 -> lm1.lists.lab:25: fastest of 5 connections"}},
		{"listmanager", "port-blocked", "preflight-database", "The new node reaches the database",
			[]string{"lm2 cannot reach sql.lists.lab:1433", "lmdb is blocked from lm2"}},
		{"listmanager", "unsupported-database", "preflight-database", "The database is Microsoft SQL Server or Oracle",
			[]string{"listmanager.DatabaseType=postgresql"}},
		{"listmanager", "database-on-node", "preflight-database", "The database server is not one of the nodes",
			[]string{"lm1.lists.lab resolves to 10.77.0.10"}},
		{"communigate", "domain-name-mismatch", "main-domain-names", "Main Domain Names share everything after the first label",
			[]string{"cgp.lab on cgfe1, cgfe2, cgbe1; cgp-old.lab on cgbe2", "cgbe2: Main Domain Name be2.cgp-old.lab"}},
		{"communigate", "port-blocked", "backend-ports", "Every frontend reaches every backend on the HTTP User, PWD and IMAP ports",
			[]string{"3 of 12 cannot connect", "cgfe2 -> be2.cgp.lab: 106 REFUSED, 143 REFUSED, 8100 REFUSED", "cgfe1 -> be2.cgp.lab: 106 open"}},
		{"communigate", "postmaster-removed", "postmaster", "The second backend keeps its postmaster account",
			[]string{"Accounts/postmaster.macnt is missing on cgbe2"}},
		{"communigate", "dns-record-missing", "dns-round-robin", "The second shared domain has two A records",
			[]string{"south.lab resolves 1 addresses, want 2", "cgfe1: south.lab resolves to 10.77.1.11"}},
		{"communigate", "dns-backend-record", "dns-round-robin", "One of the second domain's records is the first frontend's",
			[]string{"10.77.1.21"}},
		{"mdaemon", "cluster-service-fails", "enable-cluster-service", "The secondary's cluster log says the cluster service runs",
			[]string{"Cluster Service could not start on MD2"}},
		{"mdaemon", "clock-skew", "preflight", "Clocks agree within one second, in one time zone",
			[]string{"ahead of md1 (at most 1s allowed)", "largest difference: ", "(md2 ahead of md1)", "md2: clock +"}},
		{"mdaemon", "timezone-mismatch", "preflight", "Clocks agree within one second, in one time zone",
			[]string{"time zones differ", "md2: clock"}},
		{"mdaemon", "version-mismatch", "preflight", "Both nodes run the same MDaemon version",
			[]string{"MDaemon version differs: 23.5.1 on md1; 23.0.2 on md2", "md2: MDaemon version 23.0.2"}},
		{"mdaemon", "same-machine", "preflight", "The nodes are different machines",
			[]string{"md1 and md2 are the same machine (same host key)"}},
		{"mdaemon", "shared-folder-missing", "move-folder-contents", "Gateways are reachable from the secondary",
			[]string{"share/MDaemon/Gateways is missing on md2"}},
		{"mdaemon", "missing-replication-log", "add-secondary", "The secondary completed a replication job",
			[]string{"no line matches /(?i)replication job completed/", "Replication Job Aborted"}},
	}
	for _, tc := range tests {
		t.Run(tc.scenario+"/"+tc.fault, func(t *testing.T) {
			t.Parallel()
			l := startCluster(t, tc.scenario, tc.fault)
			jpath := filepath.Join(t.TempDir(), "run.jsonl")
			r := cutover(t, "run", "--from", clusterRunFile(l, clusterRunbooks[tc.scenario]), "--headless", "--journal", jpath)
			wantCode(t, r, 1, "stopped at step "+tc.step, "a check failed")
			if !regexp.MustCompile(`(?m)FAIL  ` + regexp.QuoteMeta(tc.gate) + `: `).MatchString(r.stdout) {
				t.Errorf("the gate %q is not shown as failed:\n%s", tc.gate, r.stdout)
			}
			j, err := journal.Read(jpath)
			if err != nil {
				t.Fatal(err)
			}
			var failed *steps.CheckResult
			for _, ev := range j.Events {
				if ev.Type == steps.EvCheck && ev.Step == tc.step && ev.Check.Name == tc.gate && ev.Check.Status == steps.Fail {
					failed = ev.Check
				}
			}
			if failed == nil {
				t.Fatalf("no failure of %q journaled at step %s", tc.gate, tc.step)
			}
			text := failed.Summary + "\n" + strings.Join(failed.Evidence, "\n")
			for _, e := range tc.evidence {
				if !strings.Contains(text, e) {
					t.Errorf("the journaled failure lacks %q:\n%s", e, text)
				}
			}
			if st := steps.NewRunState(j.Events); st.Ended || st.Step(tc.step).Status != steps.StepRunning {
				t.Errorf("the run should wait at %s for the operator", tc.step)
			}
		})
	}
}

// TestClusterExportGolden: each cluster runbook's plan exports as a checklist, and the
// MDaemon plan for Windows nodes (shell: powershell in the inventory) shows the
// PowerShell form of every command.
func TestClusterExportGolden(t *testing.T) {
	t.Parallel()
	winInv := filepath.Join(t.TempDir(), "windows.yaml")
	if err := os.WriteFile(winInv, []byte(`# Two MDaemon nodes on Windows, reached through OpenSSH for Windows.
defaults:
  user: administrator
  shell: powershell
  install_dir: C:/MDaemon
hosts:
  md1: {address: md1.corp.example}
  md2: {address: md2.corp.example}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	// The CommuniGate Pro servers by address: the reachability matrix names its targets.
	cgpInv := filepath.Join(t.TempDir(), "cgp.yaml")
	if err := os.WriteFile(cgpInv, []byte(`defaults:
  user: cgpro
  install_dir: /var/CommuniGate
hosts:
  fe1: {address: fe1.mail.example}
  fe2: {address: fe2.mail.example}
  be1: {address: be1.mail.example}
  be2: {address: be2.mail.example}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		golden string
		args   []string
		has    []string
	}{
		{"export/listmanager-cluster-node-plan.md", []string{"listmanager/cluster-node", "--role", "node=lm1", "--role", "new=lm2",
			"--set", "db_host=sql.example.com", "--set", "db_port=1433"},
			[]string{"Round trip from the new node to the existing node is LAN-like: round trip from lm2 to lm1 under 5ms"}},
		{"export/communigate-cluster-plan.md", []string{"communigate/cluster", "-i", cgpInv, "--role", "fe1=fe1", "--role", "fe2=fe2", "--role", "be1=be1",
			"--role", "be2=be2", "--set", "cluster_type=dynamic", "--set", "shared_domain=north.example", "--set", "shared_domain_2=south.example"},
			[]string{"each of fe1, fe2 reaches be1.mail.example, be2.mail.example on ports 8100, 106, 143", "~~6. Each shared domain has the load balancer's address only~~"}},
		{"export/mdaemon-cluster-plan.md", []string{"mdaemon/cluster", "--role", "primary=md1", "--role", "secondary=md2",
			"--set", "share=/srv/mdaemon"},
			[]string{"Cannot be undone: confirm by typing `OVERWRITE THE SETTINGS OF md2`", "read with md1: `sed -n"}},
		{"export/mdaemon-cluster-powershell-plan.md", []string{"mdaemon/cluster", "-i", winInv, "--role", "primary=md1", "--role", "secondary=md2",
			"--set", `share=\\nas\MDaemon`, "--set", "multi_node_routing=yes"},
			[]string{"read with `(Get-Item -LiteralPath (Join-Path 'C:/MDaemon' 'App\\MDaemon.exe')).VersionInfo.ProductVersion`",
				// The first of the two backslashes is escaped: \\ renders as one.
				"md1:\\\\\\nas\\MDaemon\\Users exists and is a folder"}},
	} {
		r := cutover(t, append([]string{"export"}, tc.args...)...)
		wantCode(t, r, 0, tc.has...)
		golden(t, tc.golden, r.stdout)
	}
}

// TestListManagerWANIsTheSitesCall: the guide advises against a WAN without forbidding
// it, so the round-trip limit is a parameter: the lab's WAN-like link stops the run at
// the default and passes with a limit the site set.
func TestListManagerWANIsTheSitesCall(t *testing.T) {
	t.Parallel()
	l := startCluster(t, "listmanager", "wan-latency")
	r := cutover(t, "run", "--from", clusterRunFile(l, "listmanager/cluster-node"), "--headless",
		"--journal", filepath.Join(t.TempDir(), "run.jsonl"), "--set", "lan_rtt=2s")
	wantCode(t, r, 0, "done: every step is done", "PASS  Round trip from the new node to the existing node is LAN-like")
}
