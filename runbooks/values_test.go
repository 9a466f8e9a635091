package runbooks

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/steps"
)

// TestFailoverGateQuotesWhatHostsSay: the gate that searches the standby's INI files for
// the primary's addresses gets those addresses (what the primary reported) as -e words
// and the standby's install folder as a quoted word, in sh and in PowerShell, whatever
// the folder's name holds.
func TestFailoverGateQuotesWhatHostsSay(t *testing.T) {
	rb, err := Get("maestro/failover")
	if err != nil {
		t.Fatal(err)
	}
	all := []string{"hub", "lui", "trk"}
	for _, tc := range []struct {
		shell, dir, want string
	}{
		{"sh", "/opt/it's $(touch CANARY)",
			"`grep -n -F -e 10.0.0.12 -e 2001:db8::12 -- '/opt/it'\\''s $(touch CANARY)/lui/lui.ini' '/opt/it'\\''s $(touch CANARY)/hub/hub.ini' '/opt/it'\\''s $(touch CANARY)/trk/tracker.ini'` exits 1"},
		{"powershell", "C:\\Maestro\u2019s $(x)",
			"`Set-Location -LiteralPath 'C:\\Maestro\u2019\u2019s $(x)'; $m = Select-String -SimpleMatch -LiteralPath @('lui\\lui.ini','hub\\hub.ini','trk\\tracker.ini') -Pattern @('10.0.0.12','2001:db8::12'); if ($m) { $m | ForEach-Object { $_.ToString() }; exit 0 } else { exit 1 }` exits 1"},
	} {
		t.Run(tc.shell, func(t *testing.T) {
			hosts := map[string]*probe.Host{
				"prim": {Name: "prim", Address: "10.0.0.12", InstallDir: "/opt/maestro"},
				"stby": {Name: "stby", Address: "10.0.0.13", InstallDir: tc.dir, Shell: tc.shell},
				"ops":  {Name: "ops", Address: "10.0.0.14"},
				"wit":  {Name: "wit", Address: "10.0.0.15"},
			}
			facts := map[string]*probe.Facts{
				"prim": {Name: "prim", Reachable: true, Hostname: "prim.example", Addresses: []string{"10.0.0.12", "2001:db8::12"}, Components: all},
				"stby": {Name: "stby", Reachable: true, Hostname: "stby.example", Addresses: []string{"10.0.0.13"}, Components: all},
				"ops":  {Name: "ops", Reachable: true},
				"wit":  {Name: "wit", Reachable: true},
			}
			plan, err := steps.Prepare(rb, func(n string) *probe.Host { return hosts[n] }, steps.Inputs{
				Roles:  map[string]string{"primary": "prim", "standby": "stby", "operator": "ops", "witness": "wit"},
				Params: map[string]string{"outage_threshold": "5m", "public_name": "maestro.example"},
			}, facts)
			if err != nil {
				t.Fatal(err)
			}
			if g := onlyGate(t, plan, "check-network-rules"); !strings.Contains(g, tc.want) {
				t.Errorf("gate\n%s\nwant it to contain\n%s", g, tc.want)
			}
		})
	}
}
