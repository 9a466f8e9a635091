package runbooks

import (
	"fmt"
	"strings"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/lab"
)

const maestroDir = "opt/maestro"

var maestroService = map[string]probe.Service{
	"maestro": {Start: "maestroctl start", Stop: "maestroctl stop", Status: "maestroctl status"},
}

// maestroScenario is a running, distributed LISTSERV Maestro: the User Interface, the
// Administration Hub and the Tracker each on its own server, plus a spare server with
// nothing installed, which is where components move to.
func maestroScenario(now time.Time) *lab.Scenario {
	host := func(name string, files ...lab.File) lab.HostSpec {
		fqdn := name + ".maestro.lab"
		base := []lab.File{
			{Path: "bin/maestroctl", Mode: 0o755, Content: labFile("maestro/maestroctl")},
			{Path: "bin/maestro-setup", Mode: 0o755, Content: labFile("maestro/maestro-setup")},
			{Path: "bin/maestro-backup", Mode: 0o755, Content: labFile("maestro/maestro-backup")},
			{Path: maestroDir + "/README.lab", Content: "Simulated LISTSERV Maestro installation folder, written by the cutover practice lab.\n" +
				"The programs in ../../bin stand in for L-Soft's software; nothing here is the real product.\n"},
		}
		return lab.HostSpec{Name: name, Hostname: fqdn, InstallDir: maestroDir, Files: append(base, files...),
			Services: maestroService, Groups: []string{"maestro"}, Vars: map[string]string{"site": "practice-lab"}}
	}
	running := lab.File{Path: "var/maestro.running", Content: "1\n"}
	startup := func(comp, title string, withDB bool) lab.File {
		// An earlier start today (or yesterday, just after midnight): its lines are not
		// what a gate of a later step may read.
		at := now.Add(-6 * time.Hour)
		var b strings.Builder
		ts := at.Format("2006-01-02 15:04:05,000")
		fmt.Fprintf(&b, "%s INFO  [main] %s starting (simulated by the cutover practice lab)\n", ts, title)
		if withDB {
			fmt.Fprintf(&b, "%s INFO  [main] Connecting to the system database\n", ts)
			fmt.Fprintf(&b, "%s INFO  [main] Database tables checked: 214 tables OK\n", ts)
		}
		fmt.Fprintf(&b, "%s INFO  [main] Startup complete\n", ts)
		upper := strings.ToUpper(comp)
		return lab.File{Path: fmt.Sprintf("%s/%s/logs/%s-%s.LOG", maestroDir, comp, upper, at.Format("20060102")),
			Content: b.String(), Age: 6 * time.Hour}
	}
	dataFiles := func(dir, prefix, ext string, n int, body func(i int) string) []lab.File {
		out := make([]lab.File, n)
		for i := range n {
			out[i] = lab.File{Path: fmt.Sprintf("%s/%s/%s-%03d.%s", maestroDir, dir, prefix, i+1, ext), Content: body(i), Age: time.Duration(n-i) * time.Hour}
		}
		return out
	}
	xml := func(kind string) func(int) string {
		return func(i int) string {
			return fmt.Sprintf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%s id=\"%d\">\n  <name>%s %d</name>\n%s</%s>\n",
				kind, i+1, kind, i+1, strings.Repeat("  <entry>simulated data for the practice lab</entry>\n", 20+i%40), kind)
		}
	}

	lui := host("lui", append([]lab.File{
		{Path: maestroDir + "/lui/lui.ini", Content: "# LISTSERV Maestro User Interface settings\r\n" +
			"# (simulated installation, cutover practice lab)\r\n" +
			"RegistryHubHost=hub.maestro.lab\r\n" +
			"TrackerHost=trk.maestro.lab\r\n" +
			"HTTPPort=80\r\n" +
			"MaxMemory=2048\r\n"},
		{Path: maestroDir + "/lui/registry/lui-registry.properties", Content: "instance=prod-lui\nregistered=2024-03-18\n"},
		{Path: maestroDir + "/lui/backup/.keep", Content: ""},
		running,
		startup("lui", "Maestro User Interface", true),
	}, append(dataFiles("lui/luidata/lists", "list", "xml", 24, xml("list")),
		dataFiles("lui/luidata/jobs", "job", "xml", 12, xml("job"))...)...)...)

	hub := host("hub", append([]lab.File{
		{Path: maestroDir + "/hub/hub.ini", Content: "# Administration Hub settings\n" +
			"# (simulated installation, cutover practice lab)\n" +
			"HTTPPort=8080\n" +
			"HubInstanceID=prod-hub-7f3a\n"},
		{Path: maestroDir + "/hub/hubreg/hub-registry.properties", Content: "components=3\nlui=lui.maestro.lab\ntrk=trk.maestro.lab\n"},
		{Path: maestroDir + "/hub/logs/backup-" + now.Add(-20*time.Hour).Format("20060102-150405") + ".log", Age: 20 * time.Hour,
			Content: now.Add(-20*time.Hour).Format("2006-01-02 15:04:05") + " Backup started (nightly schedule)\n" +
				now.Add(-20*time.Hour).Format("2006-01-02 15:04:05") + " Backup completed successfully\n"},
		running,
		startup("hub", "Administration Hub", true),
	}, dataFiles("hub/accountreg", "account", "xml", 16, xml("account"))...)...)

	trk := host("trk", append([]lab.File{
		{Path: maestroDir + "/trk/tracker.ini", Content: "# Maestro Tracker settings\n" +
			"# (simulated installation, cutover practice lab)\n" +
			"RegistryHubHost=hub.maestro.lab\n" +
			"HTTPPort=8888\n"},
		running,
		startup("trk", "Maestro Tracker", false),
	}, dataFiles("trk/data", "events", "dat", 20, func(i int) string {
		return strings.Repeat(fmt.Sprintf("click\t%d\tmailing-%d\thttp://example.com/offer\n", 1_700_000_000+i*977, i%7), 50+i*10)
	})...)...)

	spare := host("spare")

	return &lab.Scenario{
		Name:  "maestro",
		Title: "Distributed LISTSERV Maestro (simulated): LUI, HUB and TRK on separate servers, plus a spare server",
		Description: "Four simulated hosts. lui, hub and trk each run one Maestro component and are running; spare has " +
			"nothing installed. bin/maestroctl, bin/maestro-setup and bin/maestro-backup on every host stand in " +
			"for Maestro's service control, installer and backup; they are shell scripts, not L-Soft software.",
		Hosts: []lab.HostSpec{lui, hub, trk, spare},
		Faults: []lab.Fault{
			{Name: "startup-db-error", Description: "the next Maestro start writes database table errors to its startup log",
				Apply: flagAll("startup-db-error", "lui", "hub", "trk", "spare")},
			{Name: "backup-fails", Description: "the next backup in the Hub fails and says so in its backup log",
				Apply: flagAll("backup-fails", "hub", "spare")},
			{Name: "installer-autostarts", Description: "the installer starts Maestro when it finishes (which the runbooks forbid)",
				Apply: flagAll("installer-autostarts", "lui", "hub", "trk", "spare")},
		},
		Runs: []lab.RunFile{{Runbook: "maestro/move-hub", Content: moveHubRun}},
	}
}

// flagAll switches a fault on for the named hosts: the simulation's scripts look for the
// flag file and consume it.
func flagAll(fault string, hosts ...string) func(*lab.Lab) error {
	return func(l *lab.Lab) error {
		for _, h := range hosts {
			if err := l.SetFlag(h, fault, "on\n"); err != nil {
				return err
			}
		}
		return nil
	}
}

const moveHubRun = `# Practice run of maestro/move-hub in the cutover lab (simulated hosts).
# The answers perform the manual steps with the lab's simulated installer, as an
# operator would by hand on real servers.
runbook: maestro/move-hub
inventory: ../inventory.yaml
roles:
  old: hub
  new: spare
  lui: lui
  trk: trk
params:
  database: internal
  hosted_lists: false
answers:
  stop-listserv:
    confirm: true
  install-fresh:
    run: {role: new, command: "maestro-setup install --components hub"}
  install-add:
    run: {role: new, command: "maestro-setup add hub"}
  uninstall-old-hub:
    phrase: "UNINSTALL HUB ON hub"
    run: {role: old, command: "maestro-setup remove hub"}
`
