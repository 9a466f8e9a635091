package runbooks_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/runbooks"
	"github.com/cutover/cutover/steps"
)

// clusterPlan serves a scenario's lab, probes every host and plans the scenario's run
// file for runbook id.
func clusterPlan(t *testing.T, scenario, id string) *steps.Plan {
	t.Helper()
	l, inv, facts := runbooks.ProbedLab(t, scenario)
	rf, err := steps.LoadRunFile(l.RunFile(id))
	if err != nil {
		t.Fatal(err)
	}
	rb, err := runbooks.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := steps.Prepare(rb, inv.Host, rf.Inputs(), facts)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

func planOutline(t *testing.T, plan *steps.Plan) []string {
	t.Helper()
	var got []string
	for _, s := range plan.Steps {
		if s.Undecided {
			t.Errorf("step %s is undecided although every host was probed", s.ID)
		}
		if s.Skip {
			got = append(got, fmt.Sprintf("skip %s: %s", s.ID, s.Reason))
		} else {
			got = append(got, "keep "+s.ID+" "+strings.Join(s.Hosts, ","))
		}
	}
	return got
}

// TestClusterPlansInLab plans each cluster runbook with its lab run file: which steps
// run on which hosts, which are skipped and why, and the defaults read from the hosts.
func TestClusterPlansInLab(t *testing.T) {
	tests := []struct {
		scenario, runbook string
		want              []string
		params            map[string]string
	}{
		{"listmanager", "listmanager/cluster-node", []string{
			"keep preflight-database lm1,lm2",
			"keep preflight-nodes lm1,lm2",
			"keep check-lan lm1,lm2",
			"keep check-hardware lm1,lm2",
			"skip platform-differs: both nodes run the same operating system",
			"keep license-node ",
			"keep license-new ",
			"keep join-cluster lm2",
			"keep operating-notes ",
		}, map[string]string{"db_host": "sql.lists.lab", "db_port": "1433"}},
		{"communigate", "communigate/cluster", []string{
			"keep cluster-license ",
			"keep main-domain-names cgbe1,cgbe2,cgfe1,cgfe2",
			"keep backend-ports cgbe1,cgbe2,cgfe1,cgfe2",
			"keep dynamic-shared-storage cgbe1,cgbe2",
			"keep dns-round-robin cgfe1",
			"skip dns-load-balancer: DNS round-robin spreads the connections, so each shared domain has one A record per frontend",
			"keep postmaster cgbe1,cgbe2",
			"keep cluster-addresses ",
			"keep backend-smtp-forwarding ",
			"keep frontend-connection-limits ",
			"keep operating-notes ",
		}, map[string]string{"cluster_type": "dynamic", "shared_domain_2": "south.lab"}},
		{"mdaemon", "mdaemon/cluster", []string{
			"keep preflight md1,md2",
			"skip service-account: the share is not a UNC path, so the services need no network account for it",
			"keep enter-shared-paths ",
			"keep multi-node-routing md1,md2",
			"keep move-folder-contents md1,md2",
			"keep secondary-registration-key ",
			"keep enable-cluster-service md1,md2",
			"keep add-secondary md1,md2",
			"keep registered-servers ",
			"keep load-balancer ",
		}, map[string]string{"cluster_log": "Logs/*Cluster*.log", "multi_node_routing": "true"}},
	}
	for _, tc := range tests {
		t.Run(tc.scenario, func(t *testing.T) {
			t.Parallel()
			plan := clusterPlan(t, tc.scenario, tc.runbook)
			if got := planOutline(t, plan); !slices.Equal(got, tc.want) {
				t.Errorf("plan:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			for k, v := range tc.params {
				if got := fmt.Sprint(plan.Params[k]); got != v {
					t.Errorf("parameter %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

// TestMDaemonSharedPathDefaults: the folder paths follow the share unless given.
func TestMDaemonSharedPathDefaults(t *testing.T) {
	rb, err := runbooks.Get("mdaemon/cluster")
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(n string) *probe.Host { return &probe.Host{Name: n} }
	plan, err := steps.Prepare(rb, lookup, steps.Inputs{Roles: map[string]string{"primary": "a", "secondary": "b"},
		Params: map[string]string{"share": `\\nas\MDaemon`, "digests_path": `\\nas2\Digests`}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"users_path": `\\nas\MDaemon\Users`, "public_path": `\\nas\MDaemon\Public Folders`,
		"digests_path": `\\nas2\Digests`, "queues_path": `\\nas\MDaemon\Queues`} {
		if got := fmt.Sprint(plan.Params[k]); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	kept := map[string]bool{}
	for _, s := range plan.Steps {
		kept[s.ID] = !s.Skip
	}
	if !kept["service-account"] || kept["multi-node-routing"] {
		t.Errorf("a UNC share without multi-node routing: %v", kept)
	}
}

// TestClusterRunbooksOnPowerShellHosts renders every step of the cluster runbooks for
// hosts whose shell is PowerShell (the lab cannot run Windows): every command a check
// or an action runs must have a PowerShell form, and MDaemon's commands are the
// Windows ones.
func TestClusterRunbooksOnPowerShellHosts(t *testing.T) {
	for _, tc := range []struct {
		runbook string
		roles   map[string]string
		params  map[string]string
		want    []string
	}{
		{"mdaemon/cluster", map[string]string{"primary": "md1", "secondary": "md2"},
			map[string]string{"share": `\\nas\MDaemon`, "multi_node_routing": "yes"},
			[]string{"read with `(Get-Item -LiteralPath (Join-Path 'C:/MDaemon' 'App\\MDaemon.exe')).VersionInfo.ProductVersion`"}},
		{"communigate/cluster", map[string]string{"fe1": "fe1", "fe2": "fe2", "be1": "be1", "be2": "be2"},
			map[string]string{"shared_domain": "north.example"},
			[]string{"(Select-String -LiteralPath (Join-Path 'C:/MDaemon' 'Settings\\Main.settings')"}},
		{"listmanager/cluster-node", map[string]string{"node": "lm1", "new": "lm2"},
			map[string]string{"db_host": "sql.example"}, nil},
	} {
		t.Run(tc.runbook, func(t *testing.T) {
			rb, err := runbooks.Get(tc.runbook)
			if err != nil {
				t.Fatal(err)
			}
			lookup := func(n string) *probe.Host {
				return &probe.Host{Name: n, Address: n + ".example", Shell: "powershell", InstallDir: "C:/MDaemon",
					Services: map[string]probe.Service{"listmanager": {Start: "Start-Service ListManager", Stop: "Stop-Service ListManager",
						Status: "if ((Get-Service ListManager).Status -eq 'Running') { exit 0 } else { exit 3 }"}}}
			}
			plan, err := steps.Prepare(rb, lookup, steps.Inputs{Roles: tc.roles, Params: tc.params}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var all []string
			for _, s := range plan.Steps {
				d, err := plan.Describe(s.ID)
				if err != nil {
					t.Fatal(err)
				}
				if d.ActionError != "" {
					t.Errorf("step %s: %s", s.ID, d.ActionError)
				}
				lines := append(append([]string{}, d.Pre...), d.Gates...)
				if d.Action != nil {
					lines = append(lines, d.Action.Commands...)
				}
				for _, l := range lines {
					if strings.Contains(l, "PowerShell and this command has no powershell: form") || strings.Contains(l, "runs a POSIX shell") {
						t.Errorf("step %s: %s", s.ID, l)
					}
					if strings.Contains(l, "sed ") || strings.Contains(l, "grep ") {
						t.Errorf("step %s renders a POSIX command for a PowerShell host: %s", s.ID, l)
					}
				}
				all = append(all, lines...)
			}
			for _, w := range tc.want {
				if !strings.Contains(strings.Join(all, "\n"), w) {
					t.Errorf("no check renders %q:\n%s", w, strings.Join(all, "\n"))
				}
			}
		})
	}
}

// TestClusterScenarioFaults: each scenario offers the faults its runbook is meant to
// catch.
func TestClusterScenarioFaults(t *testing.T) {
	want := map[string][]string{
		"listmanager": {"same-machine", "wan-latency", "port-blocked", "unsupported-database", "database-on-node", "smaller-node"},
		"communigate": {"domain-name-mismatch", "port-blocked", "postmaster-removed", "dns-record-missing", "http-user-port-80", "dns-backend-record"},
		"mdaemon":     {"cluster-service-fails", "clock-skew", "timezone-mismatch", "version-mismatch", "same-machine", "shared-folder-missing", "missing-replication-log"},
	}
	for name, faults := range want {
		sc, err := runbooks.Scenario(name, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range sc.Faults {
			got = append(got, f.Name)
		}
		if !slices.Equal(got, faults) {
			t.Errorf("scenario %s has faults %v, want %v", name, got, faults)
		}
	}
}
