package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMoveLUIInTheSitesLayout: in the lab situation whose Maestro keeps each component
// under data/ in the install folder, move-lui without the site's folders stops before
// anything changes, saying the probe found no lui.ini where the manual has it and which
// parameter gives the folder; with lui_dir, hub_dir and trk_dir given, the same run goes
// through and the User Interface's files arrive in the site's folder on the new server.
func TestMoveLUIInTheSitesLayout(t *testing.T) {
	t.Parallel()
	l := startScenario(t, "maestro", "site-layout")
	before := hostsTree(t, l)
	r, _ := runOf(t, l, "maestro/move-lui")
	wantCode(t, r, 1, "the probe found no lui/lui.ini", "give that folder with lui_dir",
		"the probe found no hub/hub.ini", "give that folder with hub_dir")
	if got := withoutLocks(hostsTree(t, l)); got != before {
		t.Errorf("the refused run changed the hosts:\n%s", diffTrees(before, got))
	}

	// A folder given wrong passes the role's requirement but not the first step's
	// pre-check on the old server, before anything changes.
	r, _ = runOf(t, l, "maestro/move-lui", "--set", "lui_dir=site/lui", "--set", "hub_dir=data/hub", "--set", "trk_dir=data/trk")
	wantCode(t, r, 1, "The User Interface is in its folder on the old server", "site/lui/lui.ini")
	if got := withoutLocks(hostsTree(t, l)); got != before {
		t.Errorf("the run stopped by its pre-check changed the hosts:\n%s", diffTrees(before, got))
	}

	l = startScenario(t, "maestro", "site-layout")
	r, _ = runOf(t, l, "maestro/move-lui", "--set", "lui_dir=data/lui", "--set", "hub_dir=data/hub", "--set", "trk_dir=data/trk")
	wantCode(t, r, 0, "run                            done: every step is done")
	for _, p := range []string{"data/lui/lui.ini", "data/lui/registry/lui-registry.properties", "data/lui/luidata/lists/list-001.xml"} {
		if _, err := os.Stat(l.file("spare", p)); err != nil {
			t.Errorf("spare lacks %s: %v", p, err)
		}
	}
	if _, err := os.Stat(l.file("spare", "lui")); !os.IsNotExist(err) {
		t.Errorf("the move wrote to the manual's folder lui on spare: %v", err)
	}
	if _, err := os.Stat(l.file("lui", "data/lui")); !os.IsNotExist(err) {
		t.Errorf("the User Interface is still on lui: %v", err)
	}
	restore := hostFile(l, "spare", "var/tmp/lui-restore")
	if log := readNewest(t, l.file("spare", "data/lui/logs/LUI-*.LOG")); !strings.Contains(log, "restoring the system database from "+restore) {
		t.Errorf("the new User Interface did not restore from the backup:\n%s", log)
	}
	if m, _ := filepath.Glob(filepath.Join(restore, "backup-*", "system-db.sql")); len(m) != 1 {
		t.Errorf("the fresh backup (written in data/lui/backup) was not copied to the restore folder: %v", m)
	}
}
