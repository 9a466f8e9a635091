package runbooks

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/steps"
)

// haPlan prepares maestro/failover for a primary and a standby whose shell and install
// folder the case gives, with the site's layout parameters.
func haPlan(t *testing.T, shell, install string, params map[string]string) (*steps.Plan, error) {
	t.Helper()
	rb, err := Get("maestro/failover")
	if err != nil {
		t.Fatal(err)
	}
	all := []string{"hub", "lui", "trk"}
	hosts := map[string]*probe.Host{
		"prim": {Name: "prim", Address: "10.0.0.12", InstallDir: install, Shell: shell},
		"stby": {Name: "stby", Address: "10.0.0.13", InstallDir: install, Shell: shell},
		"ops":  {Name: "ops", Address: "10.0.0.14"},
		"wit":  {Name: "wit", Address: "10.0.0.15"},
	}
	facts := map[string]*probe.Facts{
		"prim": {Name: "prim", Reachable: true, Hostname: "prim.example", Addresses: []string{"10.0.0.12"}, Components: all},
		"stby": {Name: "stby", Reachable: true, Hostname: "stby.example", Addresses: []string{"10.0.0.13"}, Components: all},
		"ops":  {Name: "ops", Reachable: true},
		"wit":  {Name: "wit", Reachable: true},
	}
	given := map[string]string{"outage_threshold": "5m", "public_name": "maestro.example"}
	for k, v := range params {
		given[k] = v
	}
	return steps.Prepare(rb, func(n string) *probe.Host { return hosts[n] }, steps.Inputs{
		Roles:  map[string]string{"primary": "prim", "standby": "stby", "operator": "ops", "witness": "wit"},
		Params: given,
	}, facts)
}

// onlyGate is how the plan describes the one gate of step.
func onlyGate(t *testing.T, plan *steps.Plan, step string) string {
	t.Helper()
	d, err := plan.Describe(step)
	if err != nil || len(d.Gates) != 1 {
		t.Fatalf("describe %s: %+v %v", step, d, err)
	}
	return d.Gates[0]
}

// TestSiteFoldersInTheINISearch: the gate that searches the standby's INI files finds
// them in the folders the site gives (lui_dir, hub_dir, trk_dir): relative ones inside
// the install folder, absolute ones as given, Windows folders with drive letters and
// backslashes as PowerShell reads them, each path one quoted word or literal.
func TestSiteFoldersInTheINISearch(t *testing.T) {
	for _, tc := range []struct {
		name, shell, install string
		params               map[string]string
		want                 string
	}{
		{"sh defaults", "sh", "/opt/maestro", nil,
			"`grep -n -F -e 10.0.0.12 -- /opt/maestro/lui/lui.ini /opt/maestro/hub/hub.ini /opt/maestro/trk/tracker.ini` exits 1"},
		{"sh site folders", "sh", "/opt/maestro",
			map[string]string{"lui_dir": "/srv/maestro/lui", "hub_dir": "data/hub", "trk_dir": "it's trk"},
			"`grep -n -F -e 10.0.0.12 -- /srv/maestro/lui/lui.ini /opt/maestro/data/hub/hub.ini '/opt/maestro/it'\\''s trk/tracker.ini'` exits 1"},
		{"powershell defaults", "powershell", `C:\Program Files\L-Soft\Maestro`, nil,
			"`Set-Location -LiteralPath 'C:\\Program Files\\L-Soft\\Maestro'; $m = Select-String -SimpleMatch -LiteralPath @('lui\\lui.ini','hub\\hub.ini','trk\\tracker.ini') -Pattern @('10.0.0.12'); if ($m) { $m | ForEach-Object { $_.ToString() }; exit 0 } else { exit 1 }` exits 1"},
		{"powershell site folders", "powershell", `C:\Program Files\L-Soft\Maestro`,
			map[string]string{"lui_dir": `D:\Maestro Data\lui`, "hub_dir": `data\hub`, "trk_dir": "it\u2019s trk $(x)"},
			"`Set-Location -LiteralPath 'C:\\Program Files\\L-Soft\\Maestro'; $m = Select-String -SimpleMatch -LiteralPath @('D:\\Maestro Data\\lui\\lui.ini','data\\hub\\hub.ini','it\u2019\u2019s trk $(x)\\tracker.ini') -Pattern @('10.0.0.12'); if ($m) { $m | ForEach-Object { $_.ToString() }; exit 0 } else { exit 1 }` exits 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := haPlan(t, tc.shell, tc.install, tc.params)
			if err != nil {
				t.Fatal(err)
			}
			if g := onlyGate(t, plan, "check-network-rules"); !strings.Contains(g, tc.want) {
				t.Errorf("gate\n%s\nwant it to contain\n%s", g, tc.want)
			}
		})
	}
}

// TestSiteFoldersRefused: a folder parameter that would climb out of where it is given,
// or match other files as a pattern, or carry a line break, is refused when the run is
// prepared, naming the parameter.
func TestSiteFoldersRefused(t *testing.T) {
	for _, tc := range []struct{ param, value, want string }{
		{"lui_dir", "../../etc", "may not climb out"},
		{"hub_dir", `data\..\..\Windows`, "may not climb out"},
		{"trk_dir", "..", "may not climb out"},
		{"lui_dir", "lui*", "wildcard characters"},
		{"hub_dir", "hub\nrm -rf /", "control character"},
	} {
		t.Run(tc.param+"="+tc.value, func(t *testing.T) {
			_, err := haPlan(t, "sh", "/opt/maestro", map[string]string{tc.param: tc.value})
			if err == nil || !strings.Contains(err.Error(), tc.param) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to name %s and say %q", err, tc.param, tc.want)
			}
		})
	}
}

// TestMoveLUIInTheSitesFolders: on Windows servers whose User Interface lives in a
// folder of the site's (an absolute one on another drive), every path of move-lui
// follows it: the pre-checks of the first step, the copy, the INI edit, and the restore
// folder given relative to lui.ini, which must climb out of that folder.
func TestMoveLUIInTheSitesFolders(t *testing.T) {
	rb, err := Get("maestro/move-lui")
	if err != nil {
		t.Fatal(err)
	}
	hosts := map[string]*probe.Host{
		"old": {Name: "old", Address: "10.0.0.10", InstallDir: `C:\Program Files\L-Soft\Maestro`, Shell: "powershell"},
		"new": {Name: "new", Address: "10.0.0.11", InstallDir: `C:\Program Files\L-Soft\Maestro`, Shell: "powershell"},
		"hub": {Name: "hub", Address: "10.0.0.12", InstallDir: `C:\Program Files\L-Soft\Maestro`, Shell: "powershell"},
		"trk": {Name: "trk", Address: "10.0.0.13", InstallDir: `C:\Program Files\L-Soft\Maestro`, Shell: "powershell"},
	}
	facts := map[string]*probe.Facts{
		// The probe finds no User Interface on old (it is not in lui\), nor the Hub.
		"old": {Name: "old", Reachable: true, Hostname: "old.example", OS: "windows"},
		"new": {Name: "new", Reachable: true, Hostname: "new.example", OS: "windows"},
		"hub": {Name: "hub", Reachable: true, Hostname: "hub.example", OS: "windows"},
		"trk": {Name: "trk", Reachable: true, Hostname: "trk.example", OS: "windows", Components: []string{"trk"}},
	}
	in := steps.Inputs{Roles: map[string]string{"old": "old", "new": "new", "hub": "hub", "trk": "trk"}}
	prepare := func(params map[string]string) (*steps.Plan, error) {
		in.Params = params
		return steps.Prepare(rb, func(n string) *probe.Host { return hosts[n] }, in, facts)
	}
	// Without the site's folders, the roles the probe did not find stop the run.
	if _, err := prepare(nil); err == nil || !strings.Contains(err.Error(), "give that folder with lui_dir") ||
		!strings.Contains(err.Error(), "give that folder with hub_dir") {
		t.Fatalf("without lui_dir and hub_dir: err = %v", err)
	}
	plan, err := prepare(map[string]string{"lui_dir": `D:\Maestro\lui`, "hub_dir": `data\hub`, "restore_dir": `..\..\restore`})
	if err != nil {
		t.Fatal(err)
	}
	d, err := plan.Describe("check-https-apart")
	if err != nil || len(d.Pre) != 3 || !strings.Contains(d.Pre[0], `old:D:\Maestro\lui/lui.ini exists`) ||
		!strings.Contains(d.Pre[1], `hub:data\hub/hub.ini exists`) || !strings.Contains(d.Pre[2], `trk:trk/tracker.ini exists`) {
		t.Errorf("the first step's pre-checks: %q %v", d.Pre, err)
	}
	d, err = plan.Describe("transfer-lui-data")
	if err != nil {
		t.Fatal(err)
	}
	action, _ := json.Marshal(d.Action)
	for _, want := range []string{`D:/Maestro/lui/lui.ini`, `D:/Maestro/lui/luidata`, `D:/Maestro/lui/registry`} {
		if !strings.Contains(string(action), want) {
			t.Errorf("copy lacks %s: %s", want, action)
		}
	}
	d, err = plan.Describe("set-restore-backup")
	if err != nil {
		t.Fatal(err)
	}
	if action, _ := json.Marshal(d.Action); !strings.Contains(string(action), `edit D:\\Maestro\\lui/lui.ini on new`) {
		t.Errorf("INI edit: %s", action)
	}
	if d, _ := plan.Describe("trigger-backup"); len(d.Gates) != 1 || !strings.Contains(d.Gates[0], `data\hub/logs/backup-*.log`) {
		t.Errorf("backup gate: %+v", d)
	}
}

// TestHARolesInTheSitesFolders: a primary and a standby whose components the probe did
// not find (they live in the site's folders) do not fit the HA roles until the folders
// are given, and then the first step looks for each INI file there on the standby.
func TestHARolesInTheSitesFolders(t *testing.T) {
	rb, err := Get("maestro/failover")
	if err != nil {
		t.Fatal(err)
	}
	hosts := map[string]*probe.Host{
		"prim": {Name: "prim", Address: "10.0.0.12", InstallDir: "/opt/maestro"},
		"stby": {Name: "stby", Address: "10.0.0.13", InstallDir: "/opt/maestro"},
		"ops":  {Name: "ops", Address: "10.0.0.14"},
		"wit":  {Name: "wit", Address: "10.0.0.15"},
	}
	facts := map[string]*probe.Facts{
		"prim": {Name: "prim", Reachable: true, Hostname: "prim.example", Addresses: []string{"10.0.0.12"}},
		"stby": {Name: "stby", Reachable: true, Hostname: "stby.example", Addresses: []string{"10.0.0.13"}},
		"ops":  {Name: "ops", Reachable: true},
		"wit":  {Name: "wit", Reachable: true},
	}
	in := steps.Inputs{
		Roles:  map[string]string{"primary": "prim", "standby": "stby", "operator": "ops", "witness": "wit"},
		Params: map[string]string{"outage_threshold": "5m", "public_name": "maestro.example"},
	}
	_, err = steps.Prepare(rb, func(n string) *probe.Host { return hosts[n] }, in, facts)
	if err == nil || !strings.Contains(err.Error(), "gives those with lui_dir, hub_dir and trk_dir") {
		t.Fatalf("without the folders: %v", err)
	}
	in.Params["lui_dir"], in.Params["hub_dir"], in.Params["trk_dir"] = "/srv/lui", "/srv/hub", "/srv/trk"
	plan, err := steps.Prepare(rb, func(n string) *probe.Host { return hosts[n] }, in, facts)
	if err != nil {
		t.Fatal(err)
	}
	d, err := plan.Describe("assess-outage")
	if err != nil || len(d.Pre) != 3 || !strings.Contains(d.Pre[0], "stby:/srv/lui/lui.ini exists") ||
		!strings.Contains(d.Pre[2], "stby:/srv/trk/tracker.ini exists") {
		t.Errorf("the first step's pre-checks: %q %v", d.Pre, err)
	}
	if v := plan.Params["lui_logs"]; v != "/srv/lui/logs/LUI-*.LOG" {
		t.Errorf("lui_logs defaults to %v, want it inside lui_dir", v)
	}
}
