package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cutover/cutover/runbooks"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
)

// End-to-end runs of the LISTSERV Maestro runbooks in their practice labs, through
// realMain as an operator would type them: every run file to success, and every fault
// a runbook gates stopping the run (exit 1) at the right gate with the right evidence.

// runOf runs the scenario's run file for runbook (maestro/NAME), with extra arguments
// (--set, --role, --preset, --answers), and returns the result and the journal path.
func runOf(t *testing.T, l *testLab, runbook string, extra ...string) (result, string) {
	t.Helper()
	jpath := filepath.Join(t.TempDir(), "run.jsonl")
	rf := l.RunFile(runbook)
	args := append([]string{"run", "--from", rf, "--headless", "--journal", jpath}, extra...)
	return cutover(t, args...), jpath
}

// answersFile writes a run file that only carries answers, for --answers.
func answersFile(t *testing.T, runbook, answers string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "answers.yaml")
	if err := os.WriteFile(p, []byte("runbook: "+runbook+"\nanswers:\n"+answers), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// onHost runs one of a lab host's programs as the host would (lab-power, lab-net), as an
// operator rehearsing does between runs.
func onHost(t *testing.T, l *testLab, host string, args ...string) string {
	t.Helper()
	root := l.HostRoot(host)
	cmd := exec.Command(filepath.Join(root, "bin", args[0]), args[1:]...)
	cmd.Dir = root
	cmd.Env = []string{"PATH=" + filepath.Join(root, "bin") + ":/usr/bin:/bin", "HOME=" + root, "LAB_HOST=" + host}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %v\n%s", host, args, err, out)
	}
	return string(out)
}

func hostFile(l *testLab, host, rel string) string {
	return filepath.Join(l.HostRoot(host), filepath.FromSlash(rel))
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestMaestroRunFiles: every Maestro run file of the labs runs headless to success, and
// leaves the hosts as the procedure says.
func TestMaestroRunFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, scenario, runbook string
		faults                  []string
		extra                   func(t *testing.T) []string
		check                   func(t *testing.T, l *testLab, r result)
	}{
		{name: "move-lui internal database", scenario: "maestro", runbook: "maestro/move-lui",
			check: func(t *testing.T, l *testLab, r result) { movedLUIInternal(t, l) }},
		{name: "move-lui with a restore folder relative to lui.ini", scenario: "maestro", runbook: "maestro/move-lui",
			extra: func(*testing.T) []string { return []string{"--set", "restore_dir=../../lui-restore"} },
			check: func(t *testing.T, l *testLab, r result) {
				facts := probeJSON(t, l.Inventory())
				if got := facts["spare"].Settings["lui"]["RestoreBackup"]; got != "../../lui-restore" {
					t.Errorf("RestoreBackup = %q, want the path as given, relative to lui.ini", got)
				}
				if m, _ := filepath.Glob(hostFile(l, "spare", "opt/lui-restore/backup-*/system-db.sql")); len(m) != 1 {
					t.Errorf("the backup copy is not where lui.ini's relative path leads: %v", m)
				}
				maestroRuns(t, facts, "spare", "hub", "trk")
				if log := readNewest(t, hostFile(l, "spare", "opt/maestro/lui/logs/LUI-*.LOG")); !strings.Contains(log, "restoring the system database from ../../lui-restore") {
					t.Errorf("the new User Interface did not restore from the copy:\n%s", log)
				}
			}},
		{name: "move-lui external database, added to an installation", scenario: "maestro", runbook: "maestro/move-lui",
			extra: func(t *testing.T) []string {
				return []string{"--role", "new=trk", "--set", "database=external", "--set", "db_host=db.maestro.lab",
					"--answers", answersFile(t, "maestro/move-lui", "  install-add:\n    run: {role: new, command: \"maestro-setup add lui\"}\n")}
			},
			check: func(t *testing.T, l *testLab, r result) {
				for _, s := range []string{"install-fresh        skipped", "trigger-backup       skipped", "copy-backup          skipped",
					"PASS  The new server reaches the external database: trk reaches db.maestro.lab:3306", "add-db-driver        done"} {
					if !strings.Contains(r.stdout, s) {
						t.Errorf("output lacks %q", s)
					}
				}
				if got := probeJSON(t, l.Inventory())["trk"].Components; !slices.Equal(got, []string{"lui", "trk"}) {
					t.Errorf("trk has %v, want [lui trk]", got)
				}
				if exists(hostFile(l, "trk", "opt/maestro/mysql")) {
					t.Error("the MySQL component was installed with an external database")
				}
			}},
		{name: "move-tracker keeping its name by DNS", scenario: "maestro", runbook: "maestro/move-tracker",
			check: func(t *testing.T, l *testLab, r result) {
				if !strings.Contains(r.stdout, "from ops, http://trk.maestro.lab:8888/trk/ answers 200") {
					t.Errorf("the old name does not lead to the new tracker:\n%s", r.stdout)
				}
				movedTrackerKeepingItsName(t, l)
			}},
		{name: "move-tracker under a new name", scenario: "maestro", runbook: "maestro/move-tracker",
			extra: func(*testing.T) []string { return []string{"--set", "old_name=accept-loss"} },
			check: func(t *testing.T, l *testLab, r result) {
				if !strings.Contains(r.stdout, "accept-loss          confirm [runfile]") {
					t.Errorf("the loss was not acknowledged:\n%s", r.stdout)
				}
				if got := probeJSON(t, l.Inventory())["lui"].Settings["lui"]["TrackerHost"]; got != "spare.maestro.lab" {
					t.Errorf("TrackerHost = %q", got)
				}
			}},
		{name: "move-database", scenario: "maestro", runbook: "maestro/move-database",
			check: func(t *testing.T, l *testLab, r result) {
				for _, s := range []string{"PASS  The Tracker server reaches the new database: trk reaches db2.maestro.lab:3306",
					"reapply-db-config    skipped: the practice lab's database has no special settings"} {
					if !strings.Contains(r.stdout, s) {
						t.Errorf("output lacks %q", s)
					}
				}
			}},
		{name: "proxy-aliases, the manual's example 1", scenario: "maestro", runbook: "maestro/proxy-aliases",
			check: func(t *testing.T, l *testLab, r result) {
				proxiedOneName(t, l)
				for _, s := range []string{"http://maestro.sample.com:9001/lui/ answers 200", "http://maestro.sample.com:9002/hub/ answers 200",
					"http://maestro.sample.com:9003/trk/ answers 200"} {
					if !strings.Contains(r.stdout, s) {
						t.Errorf("output lacks %q", s)
					}
				}
			}},
		{name: "proxy-aliases, the manual's example 2", scenario: "maestro", runbook: "maestro/proxy-aliases",
			extra: func(*testing.T) []string { return []string{"--preset", "example-2-three-names"} },
			check: func(t *testing.T, l *testLab, r result) {
				proxiedThreeNames(t, l)
				for _, s := range []string{"http://lui.sample.com:80/lui/ answers 200", "http://hub.sample.com:80/hub/ answers 200",
					"http://trk.sample.com:80/trk/ answers 200", "set-lui-port         skipped"} {
					if !strings.Contains(r.stdout, s) {
						t.Errorf("output lacks %q", s)
					}
				}
			}},
		{name: "ha-prepare", scenario: "maestro-ha", runbook: "maestro/ha-prepare",
			check: func(t *testing.T, l *testLab, r result) {
				if !strings.Contains(r.stdout, "PASS  The last completed sync is recent enough") {
					t.Errorf("no freshness gate:\n%s", r.stdout)
				}
			}},
		{name: "failover after the primary failed", scenario: "maestro-ha", runbook: "maestro/failover", faults: []string{"primary-down"},
			check: func(t *testing.T, l *testLab, r result) {
				checkFailedOver(t, l, r)
			}},
		{name: "failback after a failover", scenario: "maestro-ha", runbook: "maestro/failback", faults: []string{"after-failover"},
			check: func(t *testing.T, l *testLab, r result) {
				checkFailedBack(t, l, r)
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := startScenario(t, tc.scenario, tc.faults...)
			var extra []string
			if tc.extra != nil {
				extra = tc.extra(t)
			}
			r, jpath := runOf(t, l, tc.runbook, extra...)
			wantCode(t, r, 0, "run                            done: every step is done")
			if st := stateOf(t, jpath); st.Outcome != steps.RunDone {
				t.Errorf("outcome %s", st.Outcome)
			}
			tc.check(t, l, r)
			endStateHolds(t, jpath)
		})
	}
}

// checkFailedOver: the standby serves, the primary is fenced, the name points at the
// standby.
//
// The primary is switched off (it refuses SSH, as a dead host does), so the run starts
// without it, takes the fencing-by-hand branch, and the guard demands its silence.
func checkFailedOver(t *testing.T, l *testLab, r result) {
	t.Helper()
	failedOverHosts(t, l)
	for _, s := range []string{"primary is down: none of ops, standby, witness reaches it; held for",
		"fence-autostart      skip:", "PASS  cutover still gets no SSH answer from the primary",
		"PASS  None of the three hosts reaches the primary on SSH or Maestro's ports",
		"PASS  Before traffic moves, the switched-off primary answers none of the three hosts",
		"maestro is proven stopped on primary: it does not answer over SSH (its status could not be read)",
		"from ops, http://maestro.ha.lab/lui/ answers 200"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("output lacks %q", s)
		}
	}
}

// failedOverHosts: the standby serves and does not sync, Maestro does not run on the
// primary.
func failedOverHosts(t *testing.T, l *testLab) {
	t.Helper()
	facts := probeJSON(t, l.Inventory(), "standby", "ops", "witness")
	if facts["standby"].Services["maestro"] != "running" || facts["standby"].Services["maestro-sync"] != "stopped" {
		t.Errorf("standby after the failover: %v", facts["standby"].Services)
	}
	if exists(hostFile(l, "primary", "var/maestro.running")) {
		t.Error("Maestro runs on the primary")
	}
}

// checkFailedBack: the primary serves with the failover's data, starts at boot again,
// and the sync runs from it to the standby.
func checkFailedBack(t *testing.T, l *testLab, r result) {
	t.Helper()
	failedBackHosts(t, l)
	if !strings.Contains(r.stdout, "PASS  The standby received a completed copy from the primary") {
		t.Errorf("the sync direction after the failback was not shown by a pass:\n%s", r.stdout)
	}
}

// failedBackHosts: the primary serves with the failover's data and starts at boot
// again; the sync runs from it to the standby.
func failedBackHosts(t *testing.T, l *testLab) {
	t.Helper()
	facts := probeJSON(t, l.Inventory())
	p, s := facts["primary"].Services, facts["standby"].Services
	if p["maestro"] != "running" || s["maestro"] != "stopped" {
		t.Errorf("maestro: primary %q, standby %q", p["maestro"], s["maestro"])
	}
	if p["maestro-autostart"] != "running" || s["maestro-autostart"] != "stopped" {
		t.Errorf("autostart: primary %q, standby %q", p["maestro-autostart"], s["maestro-autostart"])
	}
	if p["maestro-sync"] != "running" || s["maestro-sync"] != "stopped" {
		t.Errorf("sync schedule: primary %q, standby %q", p["maestro-sync"], s["maestro-sync"])
	}
	if !exists(hostFile(l, "primary", "opt/maestro/lui/luidata/jobs/job-failover.xml")) {
		t.Error("the data written during the failover did not come back to the primary")
	}
	for _, h := range []string{"primary", "standby"} {
		conf := readFile(t, hostFile(l, h, "opt/maestro-sync/sync.conf"))
		if !strings.Contains(conf, "Source=primary.ha.lab") || !strings.Contains(conf, "Target=standby.ha.lab") {
			t.Errorf("%s's sync settings after the failback:\n%s", h, conf)
		}
	}
}

func readNewest(t *testing.T, pattern string) string {
	t.Helper()
	m, _ := filepath.Glob(pattern)
	if len(m) == 0 {
		t.Fatalf("no file matches %s", pattern)
	}
	slices.SortFunc(m, func(a, b string) int {
		fa, _ := os.Stat(a)
		fb, _ := os.Stat(b)
		return fb.ModTime().Compare(fa.ModTime())
	})
	return readFile(t, m[0])
}

// TestMaestroHAChain rehearses the whole story in one lab, as the scenario describes:
// prepare, the primary fails, fail over, the primary is repaired, fail back, and the
// standby is ready again.
func TestMaestroHAChain(t *testing.T) {
	t.Parallel()
	l := startScenario(t, "maestro-ha")
	r, _ := runOf(t, l, "maestro/ha-prepare")
	wantCode(t, r, 0, "done: every step is done")
	onHost(t, l, "primary", "lab-power", "off")
	r, _ = runOf(t, l, "maestro/failover")
	wantCode(t, r, 0, "done: every step is done")
	checkFailedOver(t, l, r)
	// Users work on the standby meanwhile.
	if err := os.WriteFile(hostFile(l, "standby", "opt/maestro/lui/luidata/jobs/job-failover.xml"), []byte("<job>sent during the failover</job>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, _ = runOf(t, l, "maestro/failback")
	wantCode(t, r, 0, "done: every step is done")
	checkFailedBack(t, l, r)
	r, _ = runOf(t, l, "maestro/ha-prepare")
	wantCode(t, r, 0, "done: every step is done")
}

// TestMaestroFaultsStopAtTheirGate: each fault a runbook gates stops the run with exit
// 1 at the gate that catches it, with the hosts' evidence, and the journal holds it.
func TestMaestroFaultsStopAtTheirGate(t *testing.T) {
	t.Parallel()
	const crashed = "ERROR [main] Table 'maestro.lui_recipient_data' is marked as crashed"
	tests := []struct {
		name, scenario, runbook string
		faults                  []string
		extra                   func(t *testing.T) []string
		step, gate              string
		evidence                []string
	}{
		{"backup fails", "maestro", "maestro/move-lui", []string{"backup-fails"}, nil,
			"trigger-backup", "A new backup log says the backup completed successfully",
			[]string{"ERROR Could not lock the system database for the backup", "Backup FAILED: no backup was written"}},
		{"move-lui: installer starts Maestro", "maestro", "maestro/move-lui", []string{"installer-autostarts"}, nil,
			"install-fresh", "Maestro was not started after the installation", []string{"maestroctl status  (exit 0: running)"}},
		{"move-lui: a relative restore folder inside the installation", "maestro", "maestro/move-lui", nil,
			func(*testing.T) []string { return []string{"--set", "restore_dir=restore"} },
			"copy-backup", "The restore folder is outside the install folder of the new server",
			[]string{"restore is relative to the folder of lui.ini (lui) and stays inside the installation: start it with enough ../ to leave it"}},
		{"move-lui: https next to the Tracker", "maestro", "maestro/move-lui", nil,
			func(*testing.T) []string {
				return []string{"--role", "new=trk", "--set", "database=external", "--set", "db_host=db.maestro.lab", "--set", "lui_scheme=https"}
			},
			"check-https-apart", "An HTTPS User Interface does not move to the Tracker's server",
			[]string{"trk runs the Tracker, and a User Interface on https must not share its server"}},
		{"move-lui: startup database errors", "maestro", "maestro/move-lui", []string{"startup-db-error"}, nil,
			"start-maestro", "The User Interface started cleanly, without database table errors", []string{crashed}},
		{"move-lui: leaving the internal database", "maestro", "maestro/move-lui", nil,
			func(*testing.T) []string { return []string{"--set", "switch_to_external=yes"} },
			"switch-database-first", "The system database is switched before the move",
			[]string{"switch to the external database first (manual section 10.1)"}},
		{"move-tracker: installer starts Maestro", "maestro", "maestro/move-tracker", []string{"installer-autostarts"}, nil,
			"install-fresh", "Maestro was not started after the installation", []string{"maestroctl status  (exit 0: running)"}},
		{"move-tracker: DNS not updated", "maestro", "maestro/move-tracker", []string{"dns-not-updated"}, nil,
			"repoint-dns", "The User Interface server sees the old name point at the new server", []string{"lui: trk.maestro.lab resolves to " + "10.77.0.12"}},
		{"move-tracker: startup database errors", "maestro", "maestro/move-tracker", []string{"startup-db-error"}, nil,
			"start-maestro", "The User Interface started cleanly, without database table errors", []string{crashed}},
		{"move-database: a firewall in the way", "maestro", "maestro/move-database", []string{"db-unreachable"}, nil,
			"check-db-reach", "The Hub server reaches the new database", []string{"hub -> db2.maestro.lab:3306", "db2 is blocked from hub"}},
		{"move-database: startup database errors", "maestro", "maestro/move-database", []string{"startup-db-error"}, nil,
			"start-maestro", "The Hub started cleanly on the new database", []string{crashed}},
		{"proxy-aliases: proxy misrouted", "maestro", "maestro/proxy-aliases", []string{"proxy-misrouted"}, nil,
			"check-through-proxy", "The Hub answers through the proxy",
			[]string{"GET http://maestro.sample.com:9002/hub/: 404 Not Found", "no page /hub/ on the Maestro User Interface of lui.maestro.lab"}},
		{"proxy-aliases: two components on one address", "maestro", "maestro/proxy-aliases", nil,
			func(*testing.T) []string { return []string{"--set", "hub_external_port=9001"} },
			"review-mapping", "Each component has an external address of its own",
			[]string{"two components share an external name and port"}},
		{"proxy-aliases: startup database errors", "maestro", "maestro/proxy-aliases", []string{"startup-db-error"}, nil,
			"start-lui", "The User Interface started cleanly", []string{crashed}},
		{"ha-prepare: stale sync", "maestro-ha", "maestro/ha-prepare", []string{"stale-sync"}, nil,
			"check-sync-fresh", "The last completed sync is recent enough", []string{"9h0m", "ago (at most 15m0s allowed; host clock)"}},
		{"ha-prepare: failed nightly backup", "maestro-ha", "maestro/ha-prepare", []string{"backup-fails"}, nil,
			"check-nightly-backup", "The newest backup log is recent and reports success",
			[]string{"ERROR Could not write lui/backup: No space left on device", "Backup FAILED"}},
		{"failover: partition", "maestro-ha", "maestro/failover", []string{"partition"}, nil,
			"assess-outage", "None of the three hosts reaches the primary, for the whole threshold",
			[]string{"standby -> primary.ha.lab: 80 REFUSED", "ops -> primary.ha.lab: 80 open", "witness -> primary.ha.lab: 80 open", "verdict: partition"}},
		{"failover: primary still running", "maestro-ha", "maestro/failover", []string{"primary-still-running"}, nil,
			"redirect-traffic", "Before traffic moves, Maestro is proven not to run on the primary",
			[]string{"primary$ maestroctl status  (exit 0: running)", "verdict: MAY BE RUNNING"}},
		{"failover: stale sync", "maestro-ha", "maestro/failover", []string{"primary-down", "stale-sync"}, nil,
			"check-standby-copy", "The standby's copy is recent enough", []string{"9h0m"}},
		{"failover: a sync pass cut off by the outage", "maestro-ha", "maestro/failover", []string{"primary-down", "sync-cut-off"}, nil,
			"check-standby-copy", "The last sync pass completed (none was cut off by the outage)", []string{"sync started: primary.ha.lab -> standby.ha.lab"}},
		{"failover: DNS not updated", "maestro-ha", "maestro/failover", []string{"primary-down", "dns-not-updated"}, nil,
			"redirect-traffic", "From the operator's machine, the public name points at the standby",
			[]string{"ops: maestro.ha.lab resolves to 10.77.1.10"}},
		{"failover: startup database errors", "maestro-ha", "maestro/failover", []string{"primary-down", "startup-db-error"}, nil,
			"start-standby", "The User Interface recovered without database table problems", []string{crashed}},
		{"failback: DNS not updated", "maestro-ha", "maestro/failback", []string{"after-failover", "dns-not-updated"}, nil,
			"restore-traffic", "From the operator's machine, the public name points at the primary",
			[]string{"ops: maestro.ha.lab resolves to 10.77.1.20"}},
		{"failback: startup database errors", "maestro-ha", "maestro/failback", []string{"after-failover", "startup-db-error"}, nil,
			"start-primary", "The User Interface started without database table problems", []string{crashed}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := startScenario(t, tc.scenario, tc.faults...)
			var extra []string
			if tc.extra != nil {
				extra = tc.extra(t)
			}
			r, jpath := runOf(t, l, tc.runbook, extra...)
			wantCode(t, r, 1, "stopped at step "+tc.step, "a check failed", tc.gate)
			failed := failedCheck(t, jpath, tc.step, tc.gate)
			if failed == nil {
				t.Fatalf("the run stopped at step %s, but the journal has no failure of %q there", tc.step, tc.gate)
			}
			ev := failed.Summary + "\n" + strings.Join(failed.Evidence, "\n")
			for _, want := range tc.evidence {
				if !strings.Contains(ev, want) {
					t.Errorf("the journaled evidence lacks %q:\n%s", want, ev)
				}
				if !strings.Contains(r.stdout, want) {
					t.Errorf("the output does not show %q", want)
				}
			}
		})
	}
}

// failedCheck is the journaled failure of the check called name at step, or nil.
func failedCheck(t *testing.T, jpath, step, name string) *steps.CheckResult {
	t.Helper()
	j, err := journal.Read(jpath)
	if err != nil {
		t.Fatal(err)
	}
	var last *steps.CheckResult
	for _, ev := range j.Events {
		if ev.Type == steps.EvCheck && ev.Step == step && ev.Check.Status == steps.Fail && ev.Check.Name == name {
			last = ev.Check
		}
	}
	return last
}

// TestFailoverSplitBrainGuardUnderPartition: an operator overrides the partition verdict
// and goes on; the split-brain guard refuses to redirect traffic, and, overridden there
// too, still refuses to start the standby, since the primary runs and two vantage points
// get its answers at its address. Maestro never starts there.
func TestFailoverSplitBrainGuardUnderPartition(t *testing.T) {
	t.Parallel()
	l := startScenario(t, "maestro-ha", "partition")
	answers := answersFile(t, "maestro/failover", "  assess-outage:\n    override: \"rehearsing a failover against the verdict (drill 7)\"\n"+
		"  redirect-traffic:\n    override: \"rehearsing a failover against the guard (drill 7)\"\n"+
		"    run: {role: operator, command: \"lab-dns set maestro.ha.lab 10.77.1.20\"}\n")
	r, _ := runOf(t, l, "maestro/failover", "--answers", answers)
	wantCode(t, r, 1, "FAIL  Before traffic moves, Maestro is proven not to run on the primary",
		"stopped at step start-standby", "Maestro is proven not to run on the primary",
		"its status command says maestro runs", "ops gets an answer from http://10.77.1.10:80/lui/",
		"witness gets an answer from", "standby -> http://10.77.1.10:80/lui/: no answer (REFUSED)")
	entries, err := l.Audit()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Host == "standby" && e.Kind == "exec" && e.Command == "maestroctl start" {
			t.Fatal("Maestro was started on the standby while the primary ran")
		}
	}
	if facts := probeJSON(t, l.Inventory()); facts["standby"].Services["maestro"] != "stopped" {
		t.Errorf("maestro on the standby: %q", facts["standby"].Services["maestro"])
	}
}

// TestFailoverCutOff: fencing by cutting the primary off the network, done by hand,
// is checked from both sides.
func TestFailoverCutOff(t *testing.T) {
	t.Parallel()
	l := startScenario(t, "maestro-ha", "primary-down")
	r, _ := runOf(t, l, "maestro/failover", "--set", "fence=cut-off")
	// The primary is down, so only the standby's side can be checked, and the primary is
	// fenced by hand too.
	wantCode(t, r, 0, "fence-autostart      skipped", "PASS  The standby cannot reach the primary",
		"SKIPPED  The primary cannot reach the standby", "PASS  None of the three hosts reaches the primary")
}

// TestMaestroBadInputRefusedAtOnce: bad parameters are refused before any host is
// touched, each with its reason.
func TestMaestroBadInputRefusedAtOnce(t *testing.T) {
	t.Parallel()
	proxy := slices.Clone(maestroExports[3].args)
	tests := []struct {
		name string
		args []string
		has  string
	}{
		{"host name with a port", append(slices.Clone(proxy), "--set", "lui_external_host=maestro.sample.com:9001"), "carries a port"},
		{"port out of range", append(slices.Clone(proxy), "--set", "hub_external_port=70000"), "a port is a number from 1 to 65535"},
		{"port zero", append(slices.Clone(proxy), "--set", "trk_external_port=0"), "a port is a number from 1 to 65535"},
		{"entries aimed at hub.ini", append(slices.Clone(proxy), "--set", "lui_ini=hub/hub.ini"), "never into hub.ini"},
		{"entries aimed at tracker.ini", append(slices.Clone(proxy), "--set", "lui_ini=trk/tracker.ini"), "not in tracker.ini"},
		{"relative proxy configuration", append(slices.Clone(proxy), "--set", "proxy_conf=conf.d/maestro.conf"), "absolute path"},
		{"outage threshold", append(slices.Clone(maestroExports[6].args), "--set", "outage_threshold=soon"), "parameter outage_threshold"},
		{"no outage threshold", slices.Clone(maestroExports[6].args[:len(maestroExports[6].args)-2]), "parameter outage_threshold (How long"},
		{"tracker choice missing", maestroExports[1].args[:len(maestroExports[1].args)-2], "parameter old_name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if args[0] != "export" {
				args = append([]string{"export"}, args...)
			}
			wantCode(t, cutover(t, args...), 2, tc.has)
		})
	}
	// The same refusal for a run, before any host is probed.
	l := startScenario(t, "maestro")
	r, _ := runOf(t, l, "maestro/proxy-aliases", "--set", "lui_ini=hub/hub.ini")
	wantCode(t, r, 2, "never into hub.ini")
	if strings.Contains(r.stdout, "session") {
		t.Errorf("a run started with bad input:\n%s", r)
	}
}

// maestroExports are the plans exported as golden checklists: each runbook with its
// lab roles and the parameters it needs, hosts named as given.
var maestroExports = []struct {
	golden string
	args   []string
}{
	{"maestro-move-lui-plan.md", []string{"maestro/move-lui", "--role", "old=lui", "--role", "new=spare", "--role", "hub=hub", "--role", "trk=trk"}},
	{"maestro-move-tracker-plan.md", []string{"maestro/move-tracker", "--role", "old=trk", "--role", "new=spare", "--role", "lui=lui", "--role", "hub=hub",
		"--role", "operator=ops", "--set", "old_name=repoint-dns"}},
	{"maestro-move-database-plan.md", []string{"maestro/move-database", "--role", "lui=lui", "--role", "hub=hub", "--role", "trk=trk",
		"--set", "old_db_host=db.maestro.lab", "--set", "new_db_host=db2.maestro.lab"}},
	{"maestro-proxy-aliases-plan.md", []string{"maestro/proxy-aliases", "--preset", "example-1-one-name", "--role", "lui=lui", "--role", "hub=hub",
		"--role", "trk=trk", "--role", "proxy=proxy", "--role", "operator=ops"}},
	{"maestro-proxy-aliases-example-2-plan.md", []string{"maestro/proxy-aliases", "--preset", "example-2-three-names", "--role", "lui=lui", "--role", "hub=hub",
		"--role", "trk=trk", "--role", "proxy=proxy", "--role", "operator=ops"}},
	{"maestro-ha-prepare-plan.md", []string{"maestro/ha-prepare", "--role", "primary=primary", "--role", "standby=standby"}},
	{"maestro-failover-plan.md", []string{"maestro/failover", "--role", "primary=primary", "--role", "standby=standby", "--role", "operator=ops",
		"--role", "witness=witness", "--set", "public_name=maestro.example.org", "--set", "outage_threshold=5m"}},
	{"maestro-failback-plan.md", []string{"maestro/failback", "--role", "primary=primary", "--role", "standby=standby", "--role", "operator=ops",
		"--role", "witness=witness", "--set", "public_name=maestro.example.org"}},
}

// TestMaestroPlanExportGolden: every Maestro plan exports as an empty checklist, golden.
func TestMaestroPlanExportGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range maestroExports {
		t.Run(tc.golden, func(t *testing.T) {
			r := cutover(t, append([]string{"export"}, tc.args...)...)
			wantCode(t, r, 0)
			if strings.Contains(r.stdout, "- [x]") || !strings.Contains(r.stdout, "\n- [ ] ") {
				t.Errorf("not an empty checklist:\n%s", r.stdout)
			}
			golden(t, "export/"+tc.golden, r.stdout)
		})
	}
	// Every Maestro runbook has a golden plan.
	all, err := runbooks.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, rb := range all {
		if !strings.HasPrefix(rb.ID, "maestro/") || rb.ID == "maestro/move-hub" {
			continue // move-hub's golden is TestExportPlanGolden's
		}
		if !slices.ContainsFunc(maestroExports, func(e struct {
			golden string
			args   []string
		}) bool {
			return e.args[0] == rb.ID
		}) {
			t.Errorf("%s has no golden plan export", rb.ID)
		}
	}

}
