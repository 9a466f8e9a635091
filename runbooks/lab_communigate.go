package runbooks

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cutover/cutover/probe/lab"
)

const cgpDir = "var/CommuniGate"

// The simulated addresses of the CommuniGate Pro cluster: the shared domains' A records
// point at the frontends.
var cgpIP = map[string]string{"cgfe1": "10.77.1.11", "cgfe2": "10.77.1.12", "cgbe1": "10.77.1.21", "cgbe2": "10.77.1.22"}

// communigateScenario is a dynamic CommuniGate Pro cluster: two frontends (cgfe1, cgfe2)
// and two backends (cgbe1, cgbe2) serving the shared domains north.lab and south.lab,
// spread by DNS round-robin.
func communigateScenario(now time.Time) *lab.Scenario {
	server := func(name, label string, backend bool) lab.HostSpec {
		fqdn := label + ".cgp.lab"
		files := []lab.File{
			{Path: cgpDir + "/README.lab", Content: "Simulated CommuniGate Pro base folder, written by the cutover practice lab.\n" +
				"It holds the files the runbooks read; nothing here is Stalker's software.\n"},
			{Path: cgpDir + "/Settings/Main.settings", Age: 30 * 24 * time.Hour, Content: "{\n" +
				"  DomainName = " + fqdn + ";\n" +
				"  ServerOSName = \"Linux (simulated by the cutover practice lab)\";\n" +
				"  LogLevel = 2;\n" +
				"}\n"},
			{Path: cgpDir + "/Accounts/postmaster.macnt/account.settings", Content: "{ RealName = \"Postmaster of " + fqdn + "\"; }\n"},
			{Path: cgpDir + "/Logs/" + now.Format("2006-01-02") + ".log", Age: time.Hour,
				Content: now.Add(-time.Hour).Format("15:04:05.000") + " 2 SYSTEM CommuniGate Pro started (simulated)\n"},
		}
		ports := []lab.Endpoint{{Name: "smtp", Port: 25}, {Name: "imap", Port: 143}, {Name: "http-user", Port: 8100}}
		if backend {
			for _, d := range []string{"north.lab", "south.lab"} {
				files = append(files, lab.File{Path: cgpDir + "/SharedDomains/" + d + "/Settings/Domain.settings",
					Content: "{ DomainAccessModes = All; }\n"})
			}
			ports = append(ports, lab.Endpoint{Name: "pwd", Port: 106}, lab.Endpoint{Name: "webadmin", Port: 8010})
		} else {
			ports = append(ports, lab.Endpoint{Name: "pop", Port: 110})
		}
		return lab.HostSpec{Name: name, Hostname: fqdn, IP: cgpIP[name], InstallDir: cgpDir, Files: files,
			Groups: []string{"communigate"}, Endpoints: ports}
	}
	frontends := []string{cgpIP["cgfe1"], cgpIP["cgfe2"]}
	return &lab.Scenario{
		Name:  "communigate",
		Title: "CommuniGate Pro dynamic cluster (simulated): two frontends, two backends, DNS round-robin",
		Description: "Four simulated hosts with the files of CommuniGate Pro servers (Main.settings, postmaster accounts, " +
			"shared domains on the backends) and listeners on the cluster ports; the shared domains north.lab and " +
			"south.lab resolve to both frontends. Nothing of Stalker's software runs: the listeners only accept TCP.",
		Hosts: []lab.HostSpec{
			server("cgfe1", "fe1", false), server("cgfe2", "fe2", false),
			server("cgbe1", "be1", true), server("cgbe2", "be2", true),
		},
		DNS: map[string][]string{"north.lab": frontends, "south.lab": frontends},
		Faults: []lab.Fault{
			{Name: "domain-name-mismatch", Description: "cgbe2's Main Domain Name is be2.cgp-old.lab, not under cgp.lab",
				Apply: editHostFile("cgbe2", cgpDir+"/Settings/Main.settings", "be2.cgp.lab", "be2.cgp-old.lab")},
			{Name: "port-blocked", Description: "a firewall between cgfe2 and cgbe2 refuses every connection",
				Apply: func(l *lab.Lab) error { l.Block("cgfe2", "cgbe2"); return nil }},
			{Name: "postmaster-removed", Description: "someone deleted the postmaster account of cgbe2's Main Domain",
				Apply: func(l *lab.Lab) error {
					return os.RemoveAll(filepath.Join(l.HostRoot("cgbe2"), cgpDir, "Accounts", "postmaster.macnt"))
				}},
			{Name: "dns-record-missing", Description: "south.lab has lost the A record of cgfe2",
				Apply: func(l *lab.Lab) error { return labDNS(l, "cgfe1", "south.lab", cgpIP["cgfe1"]) }},
		},
		Runs: []lab.RunFile{{Runbook: "communigate/cluster", Content: communigateRun}},
	}
}

// labDNS changes the lab's simulated DNS with the lab's own tool, as a DNS administrator
// would: name resolves to addrs from then on.
func labDNS(l *lab.Lab, host, name string, addrs ...string) error {
	cmd := exec.Command(filepath.Join(l.HostRoot(host), "bin", "lab-dns"), append([]string{"set", name}, addrs...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("lab-dns set %s %s: %v: %s", name, strings.Join(addrs, " "), err, out)
	}
	return nil
}

const communigateRun = `# Practice run of communigate/cluster in the cutover lab (simulated hosts). The manual
# steps are WebAdmin settings, which the lab does not simulate: the answers confirm them.
runbook: communigate/cluster
inventory: ../inventory.yaml
roles:
  fe1: cgfe1
  fe2: cgfe2
  be1: cgbe1
  be2: cgbe2
params:
  cluster_type: dynamic
  balancing: dns-round-robin
  shared_domain: north.lab
  shared_domain_2: south.lab
answers:
  cluster-license:
    confirm: true
  postmaster:
    confirm: true
  cluster-addresses:
    confirm: true
  backend-smtp-forwarding:
    confirm: true
  frontend-connection-limits:
    confirm: true
`
