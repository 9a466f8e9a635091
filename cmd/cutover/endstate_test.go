package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// What each shipped runbook leaves on its lab's hosts, read from the hosts themselves
// (probe facts and files): shared by the headless runs and the wizard's.

// movedHub: the Hub runs on spare and no longer on hub; the User Interface and the
// Tracker register with it; Maestro runs everywhere it is installed.
func movedHub(t *testing.T, l *testLab) {
	t.Helper()
	facts := probeJSON(t, l.Inventory())
	if got := facts["spare"].Components; !slices.Equal(got, []string{"hub"}) {
		t.Errorf("spare has components %v, want [hub]", got)
	}
	if got := facts["hub"].Components; len(got) != 0 {
		t.Errorf("hub still has components %v", got)
	}
	if got := facts["lui"].Settings["lui"]["RegistryHubHost"]; got != "spare.maestro.lab" {
		t.Errorf("lui's RegistryHubHost = %q", got)
	}
	if got := facts["trk"].Settings["trk"]["RegistryHubHost"]; got != "spare.maestro.lab" {
		t.Errorf("trk's RegistryHubHost = %q", got)
	}
	maestroRuns(t, facts, "spare", "lui", "trk")
}

// maestroRuns demands Maestro running on hosts.
func maestroRuns(t *testing.T, facts map[string]probeFacts, hosts ...string) {
	t.Helper()
	for _, h := range hosts {
		if facts[h].Services["maestro"] != "running" {
			t.Errorf("maestro on %s is %q, want running", h, facts[h].Services["maestro"])
		}
	}
}

// movedLUIInternal: the User Interface runs on spare, restored from a fresh Hub backup
// copied outside the install folder and named by RestoreBackup.
func movedLUIInternal(t *testing.T, l *testLab) {
	t.Helper()
	facts := probeJSON(t, l.Inventory())
	if got := facts["spare"].Components; !slices.Equal(got, []string{"lui"}) {
		t.Errorf("spare has %v, want [lui]", got)
	}
	if got := facts["lui"].Components; len(got) != 0 {
		t.Errorf("lui still has %v", got)
	}
	restore := hostFile(l, "spare", "var/tmp/lui-restore")
	if got := facts["spare"].Settings["lui"]["RestoreBackup"]; got != restore {
		t.Errorf("RestoreBackup = %q, want %q", got, restore)
	}
	if m, _ := filepath.Glob(filepath.Join(restore, "backup-*", "system-db.sql")); len(m) != 1 {
		t.Errorf("the fresh backup was not copied to the restore folder: %v", m)
	}
	if log := readNewest(t, hostFile(l, "spare", "opt/maestro/lui/logs/LUI-*.LOG")); !strings.Contains(log, "restoring the system database from "+restore) {
		t.Errorf("the new User Interface did not restore from the backup:\n%s", log)
	}
	maestroRuns(t, facts, "spare", "hub", "trk")
}

// movedTrackerKeepingItsName: the Tracker runs on spare under its old name, so the User
// Interface's TrackerHost is unchanged.
func movedTrackerKeepingItsName(t *testing.T, l *testLab) {
	t.Helper()
	facts := probeJSON(t, l.Inventory())
	if got := facts["spare"].Components; !slices.Equal(got, []string{"trk"}) {
		t.Errorf("spare has %v, want [trk]", got)
	}
	if got := facts["trk"].Components; len(got) != 0 {
		t.Errorf("trk still has %v", got)
	}
	if got := facts["lui"].Settings["lui"]["TrackerHost"]; got != "trk.maestro.lab" {
		t.Errorf("TrackerHost changed to %q although the name was kept", got)
	}
	maestroRuns(t, facts, "spare", "lui", "hub")
}

// movedDatabase: Maestro runs again on every component server, on the new database.
func movedDatabase(t *testing.T, l *testLab) {
	t.Helper()
	maestroRuns(t, probeJSON(t, l.Inventory(), "lui", "hub", "trk"), "lui", "hub", "trk")
}

// proxiedOneName: the manual's first example, one name split by ports, in lui.ini only.
func proxiedOneName(t *testing.T, l *testLab) {
	t.Helper()
	ini := probeJSON(t, l.Inventory(), "lui")["lui"].Settings["lui"]
	want := map[string]string{"ExternalHostName": "maestro.sample.com", "ExternalHTTPPort": "9001",
		"HubExternalHostName": "maestro.sample.com", "HubExternalHTTPPort": "9002"}
	for k, v := range want {
		if ini[k] != v {
			t.Errorf("lui.ini %s = %q, want %q", k, ini[k], v)
		}
	}
	noExternalInHubINI(t, l)
}

// proxiedThreeNames: the manual's second example, three names on port 80.
func proxiedThreeNames(t *testing.T, l *testLab) {
	t.Helper()
	ini := probeJSON(t, l.Inventory(), "lui")["lui"].Settings["lui"]
	if ini["ExternalHostName"] != "lui.sample.com" || ini["HubExternalHostName"] != "hub.sample.com" {
		t.Errorf("lui.ini: %v", ini)
	}
	if _, ok := ini["ExternalHTTPPort"]; ok {
		t.Errorf("ExternalHTTPPort is set for port 80: %v", ini)
	}
	noExternalInHubINI(t, l)
}

func noExternalInHubINI(t *testing.T, l *testLab) {
	t.Helper()
	if hubINI := readFile(t, hostFile(l, "hub", "opt/maestro/hub/hub.ini")); strings.Contains(hubINI, "External") {
		t.Errorf("hub.ini was given external entries:\n%s", hubINI)
	}
}

// standbyPrepared: ha-prepare changes nothing: the primary serves and syncs, the standby
// is stopped and set to manual start.
func standbyPrepared(t *testing.T, l *testLab) {
	t.Helper()
	facts := probeJSON(t, l.Inventory(), "primary", "standby")
	p, s := facts["primary"].Services, facts["standby"].Services
	if p["maestro"] != "running" || p["maestro-sync"] != "running" || s["maestro"] != "stopped" || s["maestro-autostart"] != "stopped" {
		t.Errorf("after ha-prepare: primary %v, standby %v", p, s)
	}
}

// clusterNodeJoined: lm2 uses the cluster's database.
func clusterNodeJoined(t *testing.T, l *testLab) {
	t.Helper()
	ini := readFile(t, filepath.Join(l.HostRoot("lm2"), "opt", "lm", "lm.ini"))
	if !strings.Contains(ini, "DatabaseServer=sql.lists.lab") || !strings.Contains(ini, "DatabaseName=lyris") {
		t.Errorf("lm2 did not join the cluster's database:\n%s", ini)
	}
}

// communigateClusterUnchanged: communigate/cluster checks the cluster and walks the
// operator through WebAdmin settings the lab does not simulate; it changes nothing on
// the servers, which all still answer and run CommuniGate Pro.
func communigateClusterUnchanged(t *testing.T, l *testLab) {
	t.Helper()
	facts := probeJSON(t, l.Inventory(), "cgfe1", "cgfe2", "cgbe1", "cgbe2")
	for _, h := range []string{"cgfe1", "cgfe2", "cgbe1", "cgbe2"} {
		if !facts[h].Reachable || !slices.Contains(facts[h].Components, "cgpro") {
			t.Errorf("%s after the run: reachable %v, components %v", h, facts[h].Reachable, facts[h].Components)
		}
	}
}

// mdaemonClustered: the mail folders are on the share and the secondary replicated.
func mdaemonClustered(t *testing.T, l *testLab) {
	t.Helper()
	share := filepath.Join(l.HostRoot("nas"), "share", "MDaemon")
	if _, err := os.Stat(filepath.Join(share, "Users", "mail.lab", "alice", "md5000001.msg")); err != nil {
		t.Errorf("the mail folders did not move to the share: %v", err)
	}
	logs, _ := filepath.Glob(filepath.Join(l.HostRoot("md2"), "MDaemon", "Logs", "*Cluster.log"))
	if len(logs) != 1 || !strings.Contains(readFile(t, logs[0]), "Replication Job Completed") {
		t.Errorf("md2's cluster log: %v", logs)
	}
}
