package runbooks

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/lab"
)

const lmDir = "opt/lm"

var lmService = map[string]probe.Service{
	"listmanager": {Start: "lmctl start", Stop: "lmctl stop", Status: "lmctl status"},
}

// listmanagerScenario is a ListManager node on its own (lm1) that becomes a cluster with
// a second node (lm2), and the MSSQL server both use (lmdb). lm2 has ListManager
// installed and not yet connected to any database.
func listmanagerScenario(now time.Time) *lab.Scenario {
	node := func(name string, ini string, running bool) lab.HostSpec {
		files := []lab.File{
			{Path: "bin/lmctl", Mode: 0o755, Content: labFile("listmanager/lmctl")},
			{Path: "bin/lm-setup", Mode: 0o755, Content: labFile("listmanager/lm-setup")},
			{Path: lmDir + "/README.lab", Content: "Simulated Lyris ListManager installation folder, written by the cutover practice lab.\n" +
				"The programs in ../../bin stand in for Lyris's software; nothing here is the real product.\n"},
			{Path: lmDir + "/lm.ini", Content: ini},
			{Path: lmDir + "/logs/lm.log", Age: 3 * time.Hour,
				Content: now.Add(-3*time.Hour).Format("2006-01-02 15:04:05") + " ListManager installed (simulated)\n"},
		}
		if running {
			files = append(files, lab.File{Path: "var/lm.running", Content: "1\n"})
		}
		return lab.HostSpec{Name: name, Hostname: name + ".lists.lab", InstallDir: lmDir, Files: files,
			Services: lmService, Groups: []string{"listmanager"},
			Endpoints: []lab.Endpoint{{Name: "smtp", Port: 25}, {Name: "web", Port: 80}}}
	}
	lm1 := node("lm1", "# ListManager settings (simulated installation, cutover practice lab)\n"+
		"Version=12.1\n"+
		"NodeName=lm1\n"+
		"DatabaseType=mssql\n"+
		"DatabaseServer=sql.lists.lab\n"+
		"DatabasePort=1433\n"+
		"DatabaseName=lyris\n", true)
	lm2 := node("lm2", "# ListManager settings (simulated installation, cutover practice lab)\n"+
		"# Installed as for a single server; not connected to a database yet.\n"+
		"Version=12.1\n"+
		"NodeName=lm2\n", false)
	db := lab.HostSpec{Name: "lmdb", Hostname: "sql.lists.lab", Groups: []string{"database"},
		Files:     []lab.File{{Path: "README.lab", Content: "Stands in for the cluster's Microsoft SQL Server (cutover practice lab); it only accepts TCP on 1433.\n"}},
		Endpoints: []lab.Endpoint{{Name: "mssql", Port: 1433}}}

	return &lab.Scenario{
		Name:  "listmanager",
		Title: "Lyris ListManager (simulated): one node, a second node to add, and the cluster's MSSQL server",
		Description: "Three simulated hosts. lm1 runs ListManager on the MSSQL database on lmdb (sql.lists.lab); lm2 has " +
			"ListManager installed, stopped and connected to no database. bin/lmctl and bin/lm-setup stand in for " +
			"ListManager's service control and configuration; they are shell scripts, not Lyris software.",
		Hosts: []lab.HostSpec{lm1, lm2, db},
		Faults: []lab.Fault{
			{Name: "same-machine", Description: "the inventory entry lm2 leads to lm1's machine (an old name left in the inventory)",
				Apply: aliasMachine("lm2", "lm1")},
			{Name: "wan-latency", Description: "the link between lm1 and lm2 takes 40ms each way, like a WAN",
				Apply: func(l *lab.Lab) error {
					l.Delay("lm1", "lm2", 40*time.Millisecond)
					l.Delay("lm2", "lm1", 40*time.Millisecond)
					return nil
				}},
			{Name: "port-blocked", Description: "a firewall between lm2 and the database server refuses every connection",
				Apply: func(l *lab.Lab) error { l.Block("lm2", "lmdb"); return nil }},
			{Name: "unsupported-database", Description: "lm1's database is PostgreSQL, which ListManager cannot cluster on",
				Apply: editHostFile("lm1", lmDir+"/lm.ini", "DatabaseType=mssql", "DatabaseType=postgresql")},
			{Name: "database-on-node", Description: "lm1's database runs on lm1 itself",
				Apply: editHostFile("lm1", lmDir+"/lm.ini", "DatabaseServer=sql.lists.lab", "DatabaseServer=lm1.lists.lab")},
		},
		Runs: []lab.RunFile{{Runbook: "listmanager/cluster-node", Content: clusterNodeRun}},
	}
}

// aliasMachine is the same-machine fault: the inventory entry name leads to the machine
// of host of. The alias names a lock file of its own (cutover_lock): cutover's host lock
// sees one machine under both names and would refuse the run before any gate could show
// what is wrong, with a message about a lock rather than about two names for one machine.
func aliasMachine(name, of string) func(*lab.Lab) error {
	return func(l *lab.Lab) error {
		return l.AliasHost(name, of, map[string]string{"cutover_lock": ".cutover.lock." + name})
	}
}

// editHostFile returns a fault that replaces old with new in a file of a host, as an
// administrator's edit would.
func editHostFile(host, rel, old, new string) func(*lab.Lab) error {
	return func(l *lab.Lab) error {
		p := filepath.Join(l.HostRoot(host), filepath.FromSlash(rel))
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(data), new) {
			return nil // applied before: the lab was resumed with the same fault
		}
		if !strings.Contains(string(data), old) {
			return fmt.Errorf("%s:%s has no %q (the lab was changed since it was set up; reset it)", host, rel, old)
		}
		return os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644)
	}
}

const clusterNodeRun = `# Practice run of listmanager/cluster-node in the cutover lab (simulated hosts).
# The answers perform the manual steps with the lab's simulated tools, as an operator
# would by hand on real servers.
runbook: listmanager/cluster-node
inventory: ../inventory.yaml
roles:
  node: lm1
  new: lm2
answers:
  platform-differs:
    confirm: true
  license-node:
    confirm: true
  license-new:
    confirm: true
  join-cluster:
    run: {role: new, command: "lm-setup join --db-type mssql --db-server sql.lists.lab --db-port 1433 --db-name lyris && lmctl start"}
  operating-notes:
    confirm: true
`
