package runbooks

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/lab"
)

// Addresses of the maestro-ha scenario's hosts in the simulated network.
const (
	ipHAPrimary = "10.77.1.10"
	ipHAStandby = "10.77.1.20"
	ipHAWitness = "10.77.1.30"
	ipHAOps     = "10.77.1.5"
	haPublic    = "maestro.ha.lab"
)

var haServices = map[string]probe.Service{
	"maestro":           {Start: "maestroctl start", Stop: "maestroctl stop", Status: "maestroctl status"},
	"maestro-autostart": {Start: "maestroctl enable", Stop: "maestroctl disable", Status: "maestroctl is-enabled"},
	"maestro-sync":      {Start: "maestro-sync start", Stop: "maestro-sync stop", Status: "maestro-sync status"},
}

// maestroHAScenario is the tech tip's high-availability pair: every Maestro component on
// one primary server, a standby with a synchronized copy that does not run, a third
// host watching both, and the operator's workstation. The public name maestro.ha.lab
// points at the primary.
func maestroHAScenario(now time.Time) *lab.Scenario {
	const syncDir = "opt/maestro-sync"
	syncConf := func(enabled string) lab.File {
		return lab.File{Path: syncDir + "/sync.conf", Content: "# Scheduled synchronization of the Maestro installation (simulated rsync job)\n" +
			"Source=primary.ha.lab\nTarget=standby.ha.lab\nEnabled=" + enabled + "\n"}
	}
	common := func() []lab.File {
		files := []lab.File{
			{Path: "bin/maestroctl", Mode: 0o755, Content: labFile("maestro/maestroctl")},
			{Path: "bin/maestro-setup", Mode: 0o755, Content: labFile("maestro/maestro-setup")},
			{Path: "bin/maestro-backup", Mode: 0o755, Content: labFile("maestro/maestro-backup")},
			{Path: "bin/maestro-sync", Mode: 0o755, Content: labFile("maestro-ha/maestro-sync")},
			{Path: "bin/lab-power", Mode: 0o755, Content: labFile("maestro-ha/lab-power")},
			{Path: maestroDir + "/README.lab", Content: "Simulated LISTSERV Maestro installation folder, written by the cutover practice lab.\n" +
				"The programs in ../../bin stand in for L-Soft's software; nothing here is the real product.\n"},
			{Path: maestroDir + "/lui/lui.ini", Content: "# LISTSERV Maestro User Interface settings\n" +
				"# (simulated installation, cutover practice lab)\n" +
				"RegistryHubHost=" + haPublic + "\nTrackerHost=" + haPublic + "\nHTTPPort=80\n"},
			{Path: maestroDir + "/lui/registry/lui-registry.properties", Content: "instance=ha-lui\n"},
			{Path: maestroDir + "/hub/hub.ini", Content: "# Administration Hub settings\nHTTPPort=8080\nHubInstanceID=ha-hub-31c9\n"},
			{Path: maestroDir + "/hub/hubreg/hub-registry.properties", Content: "components=3\n"},
			{Path: maestroDir + "/hub/accountreg/account-001.xml", Content: "<account id=\"1\"/>\n"},
			{Path: maestroDir + "/trk/tracker.ini", Content: "# Maestro Tracker settings\nRegistryHubHost=" + haPublic + "\nHTTPPort=8888\n"},
			{Path: maestroDir + "/mysql/README", Content: "internal system database (simulated)\n"},
			nightlyBackupLog(now, 7*time.Hour, true),
		}
		for _, c := range []struct{ id, title string }{{"lui", "Maestro User Interface"}, {"hub", "Administration Hub"}, {"trk", "Maestro Tracker"}} {
			files = append(files, maestroStartupLog(now, c.id, c.title, c.id != "trk"))
		}
		for i := range 12 {
			files = append(files, lab.File{Path: fmt.Sprintf("%s/lui/luidata/jobs/job-%03d.xml", maestroDir, i+1), Age: time.Duration(12-i) * time.Hour,
				Content: fmt.Sprintf("<job id=\"%d\">\n%s</job>\n", i+1, strings.Repeat("  <entry>simulated data for the practice lab</entry>\n", 10+i))})
		}
		for i := range 6 {
			files = append(files, lab.File{Path: fmt.Sprintf("%s/trk/data/events-%03d.dat", maestroDir, i+1),
				Content: strings.Repeat(fmt.Sprintf("click\t%d\tmailing-%d\n", 1_700_000_000+i*977, i), 40)})
		}
		return files
	}
	maestroHost := func(name, ip string, files ...lab.File) lab.HostSpec {
		return lab.HostSpec{Name: name, Hostname: name + ".ha.lab", IP: ip, InstallDir: maestroDir,
			Files: append(common(), files...), Services: haServices, Groups: []string{"maestro"},
			Endpoints: append(maestroEndpoints(), lab.Endpoint{Name: "mysql", Port: 3306})}
	}
	syncAt := now.Add(-4 * time.Minute)
	primary := maestroHost("primary", ipHAPrimary,
		lab.File{Path: "var/maestro.running", Content: "1\n"},
		lab.File{Path: "var/autostart", Content: "auto\n"},
		syncConf("yes"))
	standby := maestroHost("standby", ipHAStandby,
		lab.File{Path: "var/autostart", Content: "manual\n"},
		syncConf("no"),
		lab.File{Path: syncDir + "/last-sync", Age: 4 * time.Minute,
			Content: syncAt.Format("2006-01-02 15:04:05") + " sync completed: primary.ha.lab -> standby.ha.lab, 31 files\n"})
	witness := plainHost("witness", "witness.ha.lab", ipHAWitness, "monitoring")
	ops := plainHost("ops", "ops.ha.lab", ipHAOps, "workstation")

	return &lab.Scenario{
		Name:  "maestro-ha",
		Title: "LISTSERV Maestro high availability (simulated): a primary, a standby kept in sync, a third host",
		Description: "Four simulated hosts. primary runs every Maestro component and is reached as " + haPublic + "; " +
			"standby holds a copy kept by a scheduled sync (bin/maestro-sync, its stamp in opt/maestro-sync/last-sync) " +
			"and is stopped and set to manual start; witness watches both; ops is the operator's workstation. " +
			"Rehearse in order: maestro-ha-prepare; then the primary fails (bin/lab-power off on primary, or start the " +
			"lab with --fault primary-down) and maestro-failover; then maestro-failback, whose first answer powers " +
			"the repaired primary on (--fault after-failover starts from there). lab-dns and lab-net stand in for " +
			"the DNS and network administrators.",
		Hosts: []lab.HostSpec{primary, standby, witness, ops},
		DNS:   map[string][]string{haPublic: {ipHAPrimary}},
		Faults: []lab.Fault{
			{Name: "primary-down", Description: "the primary fails: Maestro dies with it and no host reaches it (what a failover is for)",
				Apply: labRun("primary", "lab-power", "off")},
			{Name: "partition", Description: "the link between primary and standby is cut; the primary runs on and the other hosts reach it",
				Apply: all(labRun("standby", "lab-net", "block", "standby", "primary"), labRun("standby", "lab-net", "block", "primary", "standby"))},
			{Name: "primary-still-running", Description: "the primary's network fails but the primary, and Maestro on it, keep running",
				Apply: labRun("primary", "lab-power", "isolate")},
			{Name: "stale-sync", Description: "the sync job stopped working hours ago: the standby's copy is old",
				Apply: staleSync(now)},
			{Name: "sync-cut-off", Description: "the primary failed in the middle of a sync pass: the standby's stamp is fresh, but its last pass only started",
				Apply: cutOffSync()},
			{Name: "dns-not-updated", Description: "ops and witness keep their resolvers' cached answers: a DNS change made now does not reach them",
				Apply: staleDNS("ops", "witness")},
			{Name: "backup-fails", Description: "last night's Maestro backup on the primary failed and says so in its log",
				Apply: failedNightlyBackup(now)},
			{Name: "startup-db-error", Description: "the next Maestro start writes database table errors to its startup log",
				Apply: flagAll("startup-db-error", "primary", "standby")},
			{Name: "sync-conf-dev-zero", Description: "the sync job's settings file on the primary is a symbolic link to /dev/zero: reading it must end at once, not fill memory",
				Apply: linkTo("primary", "opt/maestro-sync/sync.conf", "/dev/zero")},
			{Name: "after-failover", Description: "(a situation, not a failure) the lab as a failover leaves it: the primary off and fenced, Maestro on the standby, " + haPublic + " pointing at it",
				Apply: afterFailover()},
		},
		Runs: []lab.RunFile{
			{Runbook: "maestro/ha-prepare", Content: haPrepareRun},
			{Runbook: "maestro/failover", Content: failoverRun},
			{Runbook: "maestro/failback", Content: failbackRun},
		},
	}
}

// maestroStartupLog is a component's startup log of an earlier start, six hours ago.
func maestroStartupLog(now time.Time, comp, title string, withDB bool) lab.File {
	at := now.Add(-6 * time.Hour)
	ts := at.Format("2006-01-02 15:04:05,000")
	var b strings.Builder
	fmt.Fprintf(&b, "%s INFO  [main] %s starting (simulated by the cutover practice lab)\n", ts, title)
	if withDB {
		fmt.Fprintf(&b, "%s INFO  [main] Connecting to the system database\n", ts)
		fmt.Fprintf(&b, "%s INFO  [main] Database tables checked: 214 tables OK\n", ts)
	}
	fmt.Fprintf(&b, "%s INFO  [main] Startup complete\n", ts)
	return lab.File{Path: fmt.Sprintf("%s/%s/logs/%s-%s.LOG", maestroDir, comp, strings.ToUpper(comp), at.Format("20060102")),
		Content: b.String(), Age: 6 * time.Hour}
}

// nightlyBackupLog is the Hub's log of its scheduled backup, age ago.
func nightlyBackupLog(now time.Time, age time.Duration, ok bool) lab.File {
	at := now.Add(-age)
	ts := at.Format("2006-01-02 15:04:05")
	content := ts + " Backup started (nightly schedule)\n" + ts + " Maestro User Interface backup written to lui/backup\n" +
		ts + " Backup completed successfully\n"
	if !ok {
		content = ts + " Backup started (nightly schedule)\n" +
			ts + " ERROR Could not write lui/backup: No space left on device\n" +
			ts + " Backup FAILED: the backup is incomplete\n"
	}
	return lab.File{Path: maestroDir + "/hub/logs/backup-" + at.Format("20060102-150405") + ".log", Content: content, Age: age}
}

// writeHostFile writes a file on a host as a fault does, with a modification time.
func writeHostFile(l *lab.Lab, host string, f lab.File, now time.Time) error {
	p := filepath.Join(l.HostRoot(host), filepath.FromSlash(f.Path))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(p, []byte(f.Content), 0o644); err != nil {
		return err
	}
	t := now.Add(-f.Age)
	return os.Chtimes(p, t, t)
}

// staleSync makes the standby's copy nine hours old: the job's last completed pass.
func staleSync(now time.Time) func(*lab.Lab) error {
	return func(l *lab.Lab) error {
		at := now.Add(-9 * time.Hour)
		return writeHostFile(l, "standby", lab.File{Path: "opt/maestro-sync/last-sync", Age: 9 * time.Hour,
			Content: at.Format("2006-01-02 15:04:05") + " sync completed: primary.ha.lab -> standby.ha.lab, 31 files\n"}, now)
	}
}

// failedNightlyBackup adds a newer, failed nightly backup log on the primary.
func failedNightlyBackup(now time.Time) func(*lab.Lab) error {
	return func(l *lab.Lab) error {
		return writeHostFile(l, "primary", nightlyBackupLog(now, 3*time.Hour, false), now)
	}
}

// cutOffSync adds a started pass to the standby's stamp that never completed: the
// outage came in the middle of it.
func cutOffSync() func(*lab.Lab) error {
	return func(l *lab.Lab) error {
		p := filepath.Join(l.HostRoot("standby"), "opt", "maestro-sync", "last-sync")
		f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(f, "%s sync started: primary.ha.lab -> standby.ha.lab\n", time.Now().Format("2006-01-02 15:04:05"))
		return errors.Join(err, f.Close())
	}
}

// afterFailover leaves the lab as maestro/failover would: the primary off, set to manual
// start, its sync stopped; Maestro running on the standby with a mailing sent during
// the failover; the public name on the standby.
func afterFailover() func(*lab.Lab) error {
	return all(
		labRun("primary", "lab-power", "off"),
		labRun("primary", "maestroctl", "disable"),
		labRun("primary", "maestro-sync", "stop"),
		labRun("standby", "maestro-sync", "stop"),
		func(l *lab.Lab) error {
			return writeHostFile(l, "standby", lab.File{Path: maestroDir + "/lui/luidata/jobs/job-failover.xml",
				Content: "<job id=\"failover\">a mailing sent while the standby served</job>\n"}, time.Now())
		},
		labRun("standby", "maestroctl", "start"),
		labRun("ops", "lab-dns", "set", haPublic, ipHAStandby),
	)
}

const haPrepareRun = `# Practice run of maestro/ha-prepare in the cutover lab (simulated hosts): is the
# standby ready to take over? It changes nothing.
runbook: maestro/ha-prepare
inventory: ../inventory.yaml
roles:
  primary: primary
  standby: standby
params:
  sync_method: scheduled-rsync
  # The lab's sync job keeps its settings and stamp next to the install folder.
  sync_conf: ../maestro-sync/sync.conf
  sync_stamp: ../maestro-sync/last-sync
  max_sync_age: 15m
answers:
  check-replication:
    confirm: true
  agree-policy:
    confirm: true
`

const failoverRun = `# Practice run of maestro/failover in the cutover lab (simulated hosts). The primary
# must have failed first: start the lab with --fault primary-down, or run
# "lab-power off" on the primary. The outage threshold is short for the rehearsal.
runbook: maestro/failover
inventory: ../inventory.yaml
roles:
  primary: primary
  standby: standby
  operator: ops
  witness: witness
params:
  outage_threshold: 2s
  public_name: ` + haPublic + `
  redirect: dns
  fence: services
  sync_method: scheduled-rsync
  sync_stamp: ../maestro-sync/last-sync
  max_sync_age: 15m
  lui_url: http://` + haPublic + `/lui/
  tracker_url: http://` + haPublic + `:8888/trk/
answers:
  check-replica:
    confirm: true
  fence-cut-off:
    run: {role: standby, command: "lab-net block standby primary && lab-net block primary standby"}
  fence-down:
    # The primary is off (lab-power off). What the operator does at its console so that
    # it stays fenced when it comes back is done here from the operator's machine (the
    # lab's hosts share one machine); the phrase is the operator's word, typed.
    phrase: "primary IS OFF AND STAYS OFF"
    run: {role: operator, command: "P=$LAB_DIR/hosts/primary/bin; $P/maestroctl disable && $P/maestro-sync stop"}
  redirect-traffic:
    run: {role: operator, command: "lab-dns set ` + haPublic + ` ` + ipHAStandby + `"}
  check-network-rules:
    confirm: true
  verify-service:
    confirm: true
`

const failbackRun = `# Practice run of maestro/failback in the cutover lab (simulated hosts), after
# maestro-failover (or start the lab with --fault after-failover). The first answer
# powers the repaired primary on.
runbook: maestro/failback
inventory: ../inventory.yaml
roles:
  primary: primary
  standby: standby
  operator: ops
  witness: witness
params:
  public_name: ` + haPublic + `
  redirect: dns
  sync_method: scheduled-rsync
  sync_conf: ../maestro-sync/sync.conf
  sync_stamp: ../maestro-sync/last-sync
  sync_now: maestro-sync run
  lui_url: http://` + haPublic + `/lui/
  tracker_url: http://` + haPublic + `:8888/trk/
answers:
  primary-back:
    # The primary is off, so its power comes back from the operator's machine (the lab's
    # hosts share one machine, which is how this simulation reaches its switch).
    run: {role: operator, command: "$LAB_DIR/hosts/primary/bin/lab-power on"}
  resync-replica:
    confirm: true
  restore-traffic:
    run: {role: operator, command: "lab-dns set ` + haPublic + ` ` + ipHAPrimary + `"}
  verify-service:
    confirm: true
  resume-replica:
    confirm: true
`
