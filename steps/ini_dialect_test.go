package steps

import (
	"strings"
	"testing"
)

// TestINIActionWritesMaestroFilesAsJavaReadsThem: a Windows path set in lui.ini is
// written escaped (Maestro reads the file as Java properties, where "\t" is a tab), the
// same path in a plain INI file is written as it is, and format: overrides the name.
func TestINIActionWritesMaestroFilesAsJavaReadsThem(t *testing.T) {
	rb := testRunbook(t, `  - id: lui
    title: Maestro's file
    action:
      ini: {role: a, file: lui/lui.ini, set: {RestoreBackup: 'C:\temp\restore'}}
  - id: plain
    title: another system's file
    action:
      ini: {role: a, file: app/settings.ini, set: {RestoreBackup: 'C:\temp\restore'}}
  - id: forced
    title: a properties file by another name
    action:
      ini: {role: a, file: app/site.conf, format: properties, set: {RestoreBackup: 'C:\temp\restore'}}
    gates:
      - ini: {role: a, file: app/site.conf, format: properties, key: RestoreBackup, equals: 'C:\temp\restore'}
`)
	f := newFixture(t)
	f.write("h1", "lui/lui.ini", "# LUI\r\nRestoreBackup=old\r\n")
	f.write("h1", "app/settings.ini", "; site\nRestoreBackup=old\n")
	f.write("h1", "app/site.conf", "a=1\n")
	for step, want := range map[string]string{
		"lui":    "# LUI\r\nRestoreBackup=C:\\\\temp\\\\restore\r\n",
		"plain":  "; site\nRestoreBackup=C:\\temp\\restore\n",
		"forced": "a=1\nRestoreBackup=C:\\\\temp\\\\restore\n",
	} {
		rec := runAction(t, f.exec(rb, step, nil, nil))
		if !rec.OK {
			t.Fatalf("%s: %+v", step, rec)
		}
		file := map[string]string{"lui": "lui/lui.ini", "plain": "app/settings.ini", "forced": "app/site.conf"}[step]
		if got := f.read("h1", file); got != want {
			t.Errorf("%s: %s is\n%q\nwant\n%q", step, file, got, want)
		}
		if step == "lui" && !strings.Contains(strings.Join(rec.Changes, "\n"), `RestoreBackup=C:\\temp\\restore`) {
			t.Errorf("the diff does not show the escaped line: %q", rec.Changes)
		}
	}
	wantStatus(t, evalGate(t, f.exec(rb, "forced", nil, nil), 0), Pass)
}
