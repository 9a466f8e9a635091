package probe

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/probe/ini"
)

// TestSettingsAreReadAsTheirProgramReadsThem: the probe reads Maestro's INI files as
// Java properties (escapes decoded, ":" separators, continuation lines) and other
// systems' INI files as plain INI.
func TestSettingsAreReadAsTheirProgramReadsThem(t *testing.T) {
	m := "@@cutover-x"
	out := strings.Join([]string{
		m + ` setting lui RestoreBackup=C:\\temp\\restore`,
		m + ` setting lui TrackerHost : trk.example`,
		m + ` setting lui List=a, \`,
		m + ` setting lui    b`,
		m + ` setting listmanager DatabaseServer=C:\db`,
		m + ` end`,
	}, "\n")
	f := &Facts{}
	if err := parseFacts(f, []byte(out), m, Catalogue); err != nil {
		t.Fatal(err)
	}
	lui := f.Settings["lui"]
	if lui["RestoreBackup"] != `C:\temp\restore` || lui["TrackerHost"] != "trk.example" || lui["List"] != "a, b" {
		t.Errorf("lui settings: %q", lui)
	}
	if got := f.Settings["listmanager"]["DatabaseServer"]; got != `C:\db` {
		t.Errorf("lm.ini is plain INI: DatabaseServer = %q", got)
	}
}

func TestINIDialect(t *testing.T) {
	for file, want := range map[string]ini.Dialect{
		"lui/lui.ini": ini.Properties, `D:\Maestro\hub\hub.ini`: ini.Properties, "/srv/m/trk/tracker.ini": ini.Properties,
		"lm.ini": ini.INI, "/etc/maestro-sync.conf": ini.INI, "App/MDaemon.ini": ini.INI,
	} {
		if got := INIDialect(file); got != want {
			t.Errorf("INIDialect(%s) = %v, want %v", file, got, want)
		}
	}
}
