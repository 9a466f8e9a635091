package runbooks

import (
	"strings"
	"time"

	"github.com/cutover/cutover/probe/lab"
)

const mdDir = "MDaemon"

// mdaemonScenario is an MDaemon server (md1) that becomes the primary of a cluster, a
// freshly installed second server (md2) that joins it as a secondary, and a file server
// (nas) with the share the cluster's folders move to.
//
// MDaemon runs on Windows; the lab cannot run Windows, so md1 and md2 are POSIX hosts
// with the files of an MDaemon installation, and bin/mdaemon-cluster stands in for the
// Cluster Service dialog. The runbook's commands have a PowerShell form for real nodes,
// which the lab does not exercise.
func mdaemonScenario(now time.Time) *lab.Scenario {
	ini := func(server, version string) string {
		lines := []string{
			"; MDaemon settings (simulated installation, cutover practice lab)",
			"[Special]",
			"Version=" + version,
			"ServerName=" + server,
			"[Directories]",
			`Users={{ (index .Hosts "` + strings.ToLower(server) + `").InstallDir }}/Users`,
			`PublicFolders={{ (index .Hosts "` + strings.ToLower(server) + `").InstallDir }}/Public Folders`,
		}
		return strings.Join(lines, "\r\n") + "\r\n"
	}
	node := func(name string, files ...lab.File) lab.HostSpec {
		base := []lab.File{
			{Path: "bin/date", Mode: 0o755, Content: labFile("mdaemon/date")},
			{Path: "bin/mdaemon-cluster", Mode: 0o755, Content: labFile("mdaemon/mdaemon-cluster")},
			{Path: mdDir + "/README.lab", Content: "Simulated MDaemon folder (C:\\MDaemon on a real server), written by the cutover practice lab.\n" +
				"MDaemon runs on Windows; this host is a POSIX stand-in and nothing here is the real product.\n"},
			{Path: mdDir + "/App/MDaemon.ini", Content: ini(strings.ToUpper(name), "23.5.1")},
			{Path: mdDir + "/Logs/MDaemon-" + now.Add(-2*time.Hour).Format("2006-01-02") + "-SMTP-(in).log", Age: 2 * time.Hour,
				Content: now.Add(-2*time.Hour).Format("06/01/02 15:04:05.000") + " Info  SMTP session started (simulated)\r\n"},
		}
		return lab.HostSpec{Name: name, Hostname: name + ".mail.lab", InstallDir: mdDir, Files: append(base, files...),
			Groups: []string{"mdaemon"}, Vars: map[string]string{"os": "windows (simulated on POSIX)"}}
	}
	folder := func(rel, content string) lab.File {
		return lab.File{Path: mdDir + "/" + rel, Content: content, Age: 24 * time.Hour}
	}
	md1 := node("md1",
		folder("Users/mail.lab/alice/md5000001.msg", "From: bob@mail.lab\r\nTo: alice@mail.lab\r\nSubject: simulated message\r\n\r\nHello.\r\n"),
		folder("Users/mail.lab/bob/md5000002.msg", "From: alice@mail.lab\r\nTo: bob@mail.lab\r\nSubject: re: simulated message\r\n\r\nHi.\r\n"),
		folder("Public Folders/mail.lab/Announcements/md5000003.msg", "Subject: simulated announcement\r\n\r\nWelcome.\r\n"),
		folder("LockFiles/.keep", ""),
		folder("PEM/mail.lab/rsa.private", "(simulated DKIM private key, cutover practice lab)\n"),
		folder("Archives/mail.lab/2024-01.arc", "(simulated mail archive)\n"),
		folder("Digests/staff/digest-0001.txt", "(simulated list digest)\n"),
		folder("Gateways/example-gw/.keep", ""),
	)
	md2 := node("md2")
	nas := lab.HostSpec{Name: "nas", Hostname: "nas.mail.lab", Groups: []string{"storage"},
		Files: []lab.File{{Path: "share/MDaemon/README.lab", Content: "The share the MDaemon cluster's folders move to (cutover practice lab).\n"}}}

	return &lab.Scenario{
		Name:  "mdaemon",
		Title: "MDaemon (simulated Windows servers): a primary, a secondary to add, and a file server with the share",
		Description: "Three simulated hosts. md1 runs MDaemon with its mail and other folders local; md2 has the same " +
			"version freshly installed; nas holds the empty share share/MDaemon. MDaemon is Windows software: md1 and md2 " +
			"are POSIX stand-ins, bin/mdaemon-cluster plays the Cluster Service dialog and bin/date the host's clock.",
		Hosts: []lab.HostSpec{md1, md2, nas},
		Faults: []lab.Fault{
			{Name: "cluster-service-fails", Description: "the cluster service on md2 cannot start when it is switched on, and says so in its cluster log",
				Apply: flagAll("cluster-service-fails", "md2")},
			{Name: "clock-skew", Description: "md2's clock runs 3 seconds ahead of md1's",
				Apply: func(l *lab.Lab) error { return l.SetFlag("md2", "clock-offset", "3\n") }},
			{Name: "timezone-mismatch", Description: "md2 is set to another time zone than md1",
				Apply: func(l *lab.Lab) error { return l.SetFlag("md2", "timezone", otherZone(time.Now())+"\n") }},
			{Name: "version-mismatch", Description: "md2 runs an older MDaemon version (23.0.2) than md1",
				Apply: editHostFile("md2", mdDir+"/App/MDaemon.ini", "Version=23.5.1", "Version=23.0.2")},
			{Name: "same-machine", Description: "the inventory entry md2 leads to md1's machine (an old name left in the inventory)",
				Apply: aliasMachine("md2", "md1")},
			{Name: "shared-folder-missing", Description: "the Gateways folder cannot be created on the share",
				Apply: func(l *lab.Lab) error { return l.SetFlag("md1", "shared-folder-missing", "Gateways") }},
			{Name: "missing-replication-log", Description: "md2's replication job never completes: its cluster log has the signal and an aborted job",
				Apply: func(l *lab.Lab) error { return l.SetFlag("md2", "missing-replication-log", "on\n") }},
		},
		Runs: []lab.RunFile{{Runbook: "mdaemon/cluster", Content: mdaemonRun}},
	}
}

// otherZone is a POSIX TZ value whose offset differs from the local zone's at t, so the
// fault shows on every operator's machine: Nepal's +05:45, or the Chatham Islands'
// +12:45 where that happens to be the local offset.
func otherZone(t time.Time) string {
	if _, off := t.Zone(); off == 5*3600+45*60 {
		return "CHAST-12:45"
	}
	return "NPT-5:45"
}

const mdaemonRun = `# Practice run of mdaemon/cluster in the cutover lab (simulated hosts). md1 and md2 stand
# in for Windows servers; the answers perform the manual steps with the lab's stand-in for
# the Cluster Service dialog, as an administrator would at the servers.
runbook: mdaemon/cluster
inventory: ../inventory.yaml
roles:
  primary: md1
  secondary: md2
params:
  share: "{{ (index .Hosts "nas").Root }}/share/MDaemon"
  multi_node_routing: true
answers:
  service-account:
    confirm: true
  enter-shared-paths:
    run: {role: primary, command: "mdaemon-cluster set-paths --queues '{{ (index .Hosts "nas").Root }}/share/MDaemon'"}
  multi-node-routing:
    confirm: true
  move-folder-contents:
    run: {role: primary, command: "mdaemon-cluster move-contents '{{ (index .Hosts "nas").Root }}/share/MDaemon'"}
  secondary-registration-key:
    confirm: true
  enable-cluster-service:
    run: {role: primary, command: "mdaemon-cluster enable md1 md2"}
  add-secondary:
    phrase: "OVERWRITE THE SETTINGS OF md2"
    run: {role: primary, command: "mdaemon-cluster add-secondary md2"}
  registered-servers:
    confirm: true
  load-balancer:
    confirm: true
`
