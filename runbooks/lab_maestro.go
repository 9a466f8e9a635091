package runbooks

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/lab"
)

const maestroDir = "opt/maestro"

var maestroService = map[string]probe.Service{
	"maestro": {Start: "maestroctl start", Stop: "maestroctl stop", Status: "maestroctl status"},
}

// Addresses of the maestro scenario's hosts in the simulated network (run files name
// some of them, as an operator would type them).
const (
	ipLUI   = "10.77.0.10"
	ipHub   = "10.77.0.11"
	ipTrk   = "10.77.0.12"
	ipSpare = "10.77.0.13"
	ipDB    = "10.77.0.20"
	ipDB2   = "10.77.0.21"
	ipProxy = "10.77.0.30"
	ipOps   = "10.77.0.40"
)

// maestroScenario is a running, distributed LISTSERV Maestro: the User Interface, the
// Administration Hub and the Tracker each on its own server, a spare server with
// nothing installed (where components move to), the external database server and its
// successor, a proxy for section 23.3, and the operator's workstation outside.
func maestroScenario(now time.Time) *lab.Scenario {
	host := func(name, ip string, files ...lab.File) lab.HostSpec {
		fqdn := name + ".maestro.lab"
		base := []lab.File{
			{Path: "bin/maestroctl", Mode: 0o755, Content: labFile("maestro/maestroctl")},
			{Path: "bin/maestro-setup", Mode: 0o755, Content: labFile("maestro/maestro-setup")},
			{Path: "bin/maestro-backup", Mode: 0o755, Content: labFile("maestro/maestro-backup")},
			{Path: maestroDir + "/README.lab", Content: "Simulated LISTSERV Maestro installation folder, written by the cutover practice lab.\n" +
				"The programs in ../../bin stand in for L-Soft's software; nothing here is the real product.\n"},
		}
		return lab.HostSpec{Name: name, Hostname: fqdn, InstallDir: maestroDir, Files: append(base, files...),
			Services: maestroService, Groups: []string{"maestro"}, Vars: map[string]string{"site": "practice-lab"},
			IP: ip, Endpoints: maestroEndpoints()}
	}
	running := lab.File{Path: "var/maestro.running", Content: "1\n"}
	startup := func(comp, title string, withDB bool) lab.File { return maestroStartupLog(now, comp, title, withDB) }
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

	lui := host("lui", ipLUI, append([]lab.File{
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

	hub := host("hub", ipHub, append([]lab.File{
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

	trk := host("trk", ipTrk, append([]lab.File{
		{Path: maestroDir + "/trk/tracker.ini", Content: "# Maestro Tracker settings\n" +
			"# (simulated installation, cutover practice lab)\n" +
			"RegistryHubHost=hub.maestro.lab\n" +
			"HTTPPort=8888\n"},
		running,
		startup("trk", "Maestro Tracker", false),
	}, dataFiles("trk/data", "events", "dat", 20, func(i int) string {
		return strings.Repeat(fmt.Sprintf("click\t%d\tmailing-%d\thttp://example.com/offer\n", 1_700_000_000+i*977, i%7), 50+i*10)
	})...)...)

	spare := host("spare", ipSpare)
	db := plainHost("db", "db.maestro.lab", ipDB, "database", lab.Endpoint{Name: "mysql", Port: 3306})
	db2 := plainHost("db2", "db2.maestro.lab", ipDB2, "database", lab.Endpoint{Name: "mysql", Port: 3306})
	proxy := plainHost("proxy", "proxy.maestro.lab", ipProxy, "proxy", proxyEndpoints()...)
	proxy.InstallDir = "etc/nginx"
	proxy.Files = append(proxy.Files,
		lab.File{Path: "bin/nginx", Mode: 0o755, Content: labFile("maestro/nginx")},
		lab.File{Path: "etc/nginx/nginx.conf", Content: "# Simulated nginx of the cutover practice lab: it reads conf.d/*.conf.\n"},
		lab.File{Path: "etc/nginx/conf.d/.keep"})
	ops := plainHost("ops", "ops.maestro.lab", ipOps, "workstation")
	ops.Files = append(ops.Files, lab.File{Path: "bin/dig", Mode: 0o755, Content: labFile("maestro/dig")})

	return &lab.Scenario{
		Name:  "maestro",
		Title: "Distributed LISTSERV Maestro (simulated): LUI, HUB and TRK on separate servers, plus a spare server",
		Description: "Eight simulated hosts. lui, hub and trk each run one Maestro component and are running; spare has " +
			"nothing installed. db is the external database server and db2 its successor; proxy runs a simulated " +
			"nginx (bin/nginx) in front of the components, on ports 80 and 9001-9003, and the names of the manual's " +
			"proxy examples (maestro.sample.com, lui/hub/trk.sample.com) point at it; ops is the operator's " +
			"workstation outside. bin/maestroctl, bin/maestro-setup and bin/maestro-backup on the Maestro hosts " +
			"stand in for Maestro's service control, installer and backup; they are shell scripts, not L-Soft " +
			"software. Every Maestro host answers HTTP on 80 (/lui), 8080 (/hub) and 8888 (/trk) for the " +
			"components installed and running there.",
		Hosts: []lab.HostSpec{lui, hub, trk, spare, db, db2, proxy, ops},
		DNS: map[string][]string{
			"maestro.sample.com": {ipProxy},
			"lui.sample.com":     {ipProxy},
			"hub.sample.com":     {ipProxy},
			"trk.sample.com":     {ipProxy},
		},
		Faults: []lab.Fault{
			{Name: "startup-db-error", Description: "the next Maestro start writes database table errors to its startup log",
				Apply: flagAll("startup-db-error", "lui", "hub", "trk", "spare")},
			{Name: "backup-fails", Description: "the next backup in the Hub fails and says so in its backup log",
				Apply: flagAll("backup-fails", "hub", "spare")},
			{Name: "installer-autostarts", Description: "the installer starts Maestro when it finishes (which the runbooks forbid)",
				Apply: flagAll("installer-autostarts", "lui", "hub", "trk", "spare")},
			{Name: "dns-not-updated", Description: "ops and lui keep their resolvers' cached answers: a DNS change made now does not reach them",
				Apply: staleDNS("ops", "lui")},
			{Name: "dns-slow-outside", Description: "ops, outside the Maestro network, keeps its resolver's cached answers: a DNS change made now reaches the Maestro servers but not the outside yet",
				Apply: staleDNS("ops")},
			{Name: "proxy-misrouted", Description: "the proxy sends requests for /hub to the wrong backend",
				Apply: flagAll("proxy-misrouted", "proxy")},
			{Name: "db-unreachable", Description: "a firewall on db2 refuses connections from the Hub server",
				Apply: labRun("hub", "lab-net", "block", "hub", "db2")},
			{Name: "site-wording", Description: "(a situation, not a failure) this site's Maestro words its logs otherwise than the runbooks' defaults: " +
				"a clean start says \"" + siteStarted + "\" and a good backup \"" + siteBackupDone + "\", in the earlier logs and in every new one",
				Apply: all(siteWording("lui", "hub", "trk", "spare"), rewordLogs("lui", "hub", "trk"))},
			{Name: "site-layout", Description: "(a situation, not a failure) this site keeps each Maestro component's folder under " + siteLayoutDir + "/ in the install folder " +
				"(" + siteLayoutDir + "/lui, " + siteLayoutDir + "/hub, " + siteLayoutDir + "/trk), not where the manual has it; the simulated installer installs there too",
				Apply: siteLayout(map[string]string{"lui": "lui", "hub": "hub", "trk": "trk"}, "spare")},
			{Name: "lui-ini-link", Description: "lui.ini on lui is a symbolic link to a copy in /etc/maestro: cutover refuses to edit it through the link",
				Apply: linkAway("lui", maestroDir+"/lui/lui.ini", "etc/maestro/lui.ini")},
		},
		Runs: []lab.RunFile{
			{Runbook: "maestro/move-hub", Content: moveHubRun},
			{Runbook: "maestro/move-lui", Content: moveLUIRun},
			{Runbook: "maestro/move-tracker", Content: moveTrackerRun},
			{Runbook: "maestro/move-database", Content: moveDatabaseRun},
			{Runbook: "maestro/proxy-aliases", Content: proxyAliasesRun},
		},
	}
}

// plainHost is a simulated host without Maestro: a database server, a proxy, a
// workstation.
func plainHost(name, hostname, ip, group string, eps ...lab.Endpoint) lab.HostSpec {
	return lab.HostSpec{Name: name, Hostname: hostname, IP: ip, Groups: []string{group}, Endpoints: eps,
		Files: []lab.File{{Path: "README.lab", Content: "Simulated host " + hostname + " of the cutover practice lab.\n"}}}
}

// labRun runs one of a host's programs (a lab tool such as lab-net, or the simulated
// software) as that host would, when a fault or situation is applied.
func labRun(host, program string, args ...string) func(*lab.Lab) error {
	return func(l *lab.Lab) error {
		root := l.HostRoot(host)
		if root == "" {
			return fmt.Errorf("no host %s", host)
		}
		cmd := exec.Command(filepath.Join(root, "bin", program), args...)
		cmd.Dir = root
		cmd.Env = []string{"PATH=" + filepath.Join(root, "bin") + ":/usr/local/bin:/usr/bin:/bin", "HOME=" + root,
			"LANG=C.UTF-8", "LAB_HOST=" + host, "LAB_ROOT=" + root, "LAB_DIR=" + l.Dir()}
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %s %s: %v: %s", host, program, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
		return nil
	}
}

// staleDNS gives hosts a view of the simulated DNS of their own, frozen as it is now:
// their resolvers keep answering from a cache while the zone changes.
func staleDNS(hosts ...string) func(*lab.Lab) error {
	return func(l *lab.Lab) error {
		for _, h := range hosts {
			root := l.HostRoot(h)
			out, err := exec.Command(filepath.Join(root, "bin", "lab-dns"), "show").Output()
			if err != nil {
				return fmt.Errorf("%s: lab-dns show: %v", h, err)
			}
			view := "# Cached answers of this host's resolver (lab fault dns-not-updated): the lab's DNS\n" +
				"# changes do not reach it until this file is removed.\n" + string(out)
			if err := os.MkdirAll(filepath.Join(root, "var"), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(root, "var", "dns.zone"), []byte(view), 0o644); err != nil {
				return err
			}
		}
		return nil
	}
}

// all applies several faults' steps in order.
func all(steps ...func(*lab.Lab) error) func(*lab.Lab) error {
	return func(l *lab.Lab) error {
		for _, s := range steps {
			if err := s(l); err != nil {
				return err
			}
		}
		return nil
	}
}

// linkAway moves a host's file to another place on the same host and leaves a symbolic
// link to it where it was, as sites that keep settings elsewhere do.
func linkAway(host, rel, to string) func(*lab.Lab) error {
	return func(l *lab.Lab) error {
		root := l.HostRoot(host)
		from, dst := filepath.Join(root, filepath.FromSlash(rel)), filepath.Join(root, filepath.FromSlash(to))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.Rename(from, dst); err != nil {
			return err
		}
		return os.Symlink(dst, from)
	}
}

// linkTo replaces a host's file by a symbolic link to target, such as /dev/zero.
func linkTo(host, rel, target string) func(*lab.Lab) error {
	return func(l *lab.Lab) error {
		p := filepath.Join(l.HostRoot(host), filepath.FromSlash(rel))
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return err
		}
		return os.Symlink(target, p)
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

// siteLayoutDir is the folder, in the install folder, under which the site-layout
// situation keeps the Maestro components' folders.
const siteLayoutDir = "data"

// siteLayout moves each host's component folder (host: component) under siteLayoutDir,
// and leaves the folder's name in the site-layout flag of those hosts and of others,
// where the simulated maestroctl, installer and backup look for the components.
func siteLayout(moved map[string]string, others ...string) func(*lab.Lab) error {
	return func(l *lab.Lab) error {
		hosts := others
		for h, comp := range moved {
			hosts = append(hosts, h)
			from := filepath.Join(l.HostRoot(h), filepath.FromSlash(maestroDir), comp)
			to := filepath.Join(l.HostRoot(h), filepath.FromSlash(maestroDir), siteLayoutDir, comp)
			if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
				return err
			}
			if err := os.Rename(from, to); err != nil {
				return err
			}
		}
		for _, h := range hosts {
			if err := l.SetFlag(h, "site-layout", siteLayoutDir+"\n"); err != nil {
				return err
			}
		}
		return nil
	}
}

// The site-wording situation's words for a clean start and a good backup, which the
// lab's simulated Maestro writes instead of the runbooks' defaults.
const (
	siteStarted    = "Server ready, listening for requests"
	siteBackupDone = "Backup done, all files written"
)

// siteWording leaves the site's words in each host's site-wording flag, where the
// simulated maestroctl and maestro-backup read them for every log they write.
func siteWording(hosts ...string) func(*lab.Lab) error {
	return func(l *lab.Lab) error {
		for _, h := range hosts {
			if err := l.SetFlag(h, "site-wording", "started="+siteStarted+"\nbackup_done="+siteBackupDone+"\n"); err != nil {
				return err
			}
		}
		return nil
	}
}

// rewordLogs rewrites the earlier startup and backup logs of the hosts' Maestro in the
// site-wording situation's words, keeping each file's time: the history a preflight
// reads is the site's, not the lab's.
func rewordLogs(hosts ...string) func(*lab.Lab) error {
	words := strings.NewReplacer("Startup complete", siteStarted, "Backup completed successfully", siteBackupDone)
	return func(l *lab.Lab) error {
		for _, h := range hosts {
			logs, err := filepath.Glob(filepath.Join(l.HostRoot(h), filepath.FromSlash(maestroDir), "*", "logs", "*"))
			if err != nil {
				return err
			}
			for _, p := range logs {
				fi, err := os.Stat(p)
				if err != nil {
					return err
				}
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				if err := os.WriteFile(p, []byte(words.Replace(string(data))), fi.Mode().Perm()); err != nil {
					return err
				}
				if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
					return err
				}
			}
		}
		return nil
	}
}
