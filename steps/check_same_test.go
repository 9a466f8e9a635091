package steps

import (
	"strings"
	"testing"
)

// TestSameCheck reads a value on three hosts through INI files and commands, and
// compares the values whole or beyond their first label.
func TestSameCheck(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for h, v := range map[string]string{"h1": "23.5.1", "h2": "23.5.1", "h3": "23.0.2"} {
		f.write(h, "App/MDaemon.ini", "; settings\r\n[Special]\r\nVersion="+v+"\r\n")
	}
	for h, d := range map[string]string{"h1": "fe1.mail.example", "h2": "be1.mail.example", "h3": "be2.old.example"} {
		f.write(h, "Settings/Main.settings", "{\n  DomainName = "+d+";\n}\n")
	}
	f.write("h3", "dup.settings", "{\n  DomainName = fe1.mail.example;\n}\n")
	domain := `"grep DomainName {{ role.install_dir }}/Settings/Main.settings | sed 's/.*= *//; s/;//'"`
	rb := testRunbook(t, `  - id: s
    title: same
    gates:
      - same: {roles: [a, b], what: MDaemon version, ini: {file: App/MDaemon.ini, section: Special, key: Version}}
      - same: {roles: [a, b, c], what: MDaemon version, ini: {file: App/MDaemon.ini, section: Special, key: Version}}
      - same: {roles: [a, b], what: MDaemon version, ini: {file: App/MDaemon.ini, key: Version}}
      - same: {roles: [a, b], what: MDaemon version, command: {run: "sed -n 's/^Version=//p' {{ role.install_dir }}/App/MDaemon.ini | tr -d '\\r'"}}
      - same: {roles: [a, b, c], what: MDaemon version, command: {run: "sed -n 's/^Version=//p' {{ role.install_dir }}/App/MDaemon.ini | tr -d '\\r'"}}
      - same: {roles: [a, b], what: Main Domain Name, compare: after_first_label, command: {run: `+domain+`}}
      - same: {roles: [a, b, c], what: Main Domain Name, compare: after_first_label, command: {run: `+domain+`}}
      - same: {roles: [a, b], what: version, command: {run: "exit 4"}}
      - same: {roles: [a, a], what: version, command: {run: "echo {{ role.host }}"}}
      - same: {roles: [a, c], what: Main Domain Name, compare: after_first_label, command: {run: "grep DomainName {{ role.install_dir }}/{{ role.host == 'h3' ? 'dup' : 'Settings/Main' }}.settings | sed 's/.*= *//; s/;//'"}}
`)
	x := f.exec(rb, "s", nil, nil)
	tests := []struct {
		gate     int
		want     Status
		summary  string
		evidence string
	}{
		{0, Pass, "MDaemon version is 23.5.1 on h1, h2", "[Special] Version=23.5.1"},
		{1, Fail, "MDaemon version differs: 23.5.1 on h1, h2; 23.0.2 on h3", "h3:" + f.path("h3", "App/MDaemon.ini") + ": [Special] Version=23.0.2"},
		{2, Fail, "no MDaemon version on h1 (Version is not set in", "Version is not set"},
		{3, Pass, "MDaemon version is 23.5.1 on h1, h2", "h2: MDaemon version 23.5.1"},
		{4, Fail, "23.0.2 on h3", "h3: MDaemon version 23.0.2"},
		{5, Pass, "every Main Domain Name ends in mail.example", "h2: Main Domain Name be1.mail.example, after its first label: mail.example"},
		{6, Fail, "differ beyond the first label: mail.example on h1, h2; old.example on h3", "h3: Main Domain Name be2.old.example, after its first label: old.example"},
		{7, Fail, "no version on h1 (the command exited 4)", "h1$ exit 4  (exit 4)"},
		{8, Pass, "version is h1 on h1", "h1: version h1"},
		{9, Fail, "h1 and h3 report the same Main Domain Name fe1.mail.example", "h3: Main Domain Name fe1.mail.example"},
	}
	for _, tc := range tests {
		r := evalGate(t, x, tc.gate)
		t.Run(strings.ReplaceAll(tc.summary, " ", "_"), func(t *testing.T) {
			wantStatus(t, r, tc.want, tc.summary)
			evidenceHas(t, r, tc.evidence)
		})
	}

	// The plan shows the command each host runs; hosts running the same one share it.
	d := x.step.Gates[3].Spec.describe(x)
	if !strings.Contains(d, "MDaemon version is the same on h1, h2, read with h1: `sed") || !strings.Contains(d, "h2: `sed") {
		t.Errorf("describe: %s", d)
	}
	if d := x.step.Gates[8].Spec.describe(x); d != "version is the same on h1, read with `echo h1`" {
		t.Errorf("describe: %s", d)
	}
}

func TestSameCheckPowerShell(t *testing.T) {
	f := newFixture(t)
	rb := testRunbook(t, `  - id: s
    title: same
    gates:
      - same:
          roles: [a, b]
          what: MDaemon version
          command:
            run: cat {{ role.install_dir }}/version
            powershell: (Get-Item -LiteralPath (Join-Path {{ role.install_dir }} 'App\MDaemon.exe')).VersionInfo.ProductVersion
      - same: {roles: [a, b], what: version, command: {run: "cat version"}}
`)
	f.hosts["h1"].Shell, f.hosts["h2"].Shell = "powershell", "powershell"
	f.hosts["h1"].InstallDir, f.hosts["h2"].InstallDir = `C:\MDaemon`, `D:\MDaemon`
	x := f.exec(rb, "s", nil, nil)
	want := "MDaemon version is the same on h1, h2, read with h1: `(Get-Item -LiteralPath (Join-Path 'C:\\MDaemon' 'App\\MDaemon.exe')).VersionInfo.ProductVersion`; " +
		"h2: `(Get-Item -LiteralPath (Join-Path 'D:\\MDaemon' 'App\\MDaemon.exe')).VersionInfo.ProductVersion`"
	if d := x.step.Gates[0].Spec.describe(x); d != want {
		t.Errorf("describe:\n got %s\nwant %s", d, want)
	}
	if d := x.step.Gates[1].Spec.describe(x); !strings.Contains(d, "h1 runs PowerShell and this command has no powershell: form") {
		t.Errorf("a command without a PowerShell form on a PowerShell host: %s", d)
	}
}

func TestSameCheckCompileErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{`same: {roles: [a], what: v, command: {run: x}}`, "at least two roles"},
		{`same: {roles: [a, b], command: {run: x}}`, "what:"},
		{`same: {roles: [a, b], what: v}`, "exactly one of ini"},
		{`same: {roles: [a, b], what: v, command: {run: x}, ini: {file: f, key: k}}`, "exactly one of ini"},
		{`same: {roles: [a, b], what: v, ini: {file: f}}`, "ini.key is required"},
		{`same: {roles: [a, b], what: v, command: {run: x}, compare: fuzzy}`, "compare must be whole or after_first_label"},
		{`same: {roles: [a, b], what: v, command: {run: "{{ role.nothing }}"}}`, "roles have no field"},
		{`same: {roles: [a, b], what: v, command: {}}`, "command.run is required"},
	} {
		src := "id: test/unit\ntitle: T\nsystem: T\nsource: T\nroles:\n  - {id: a, title: A}\n  - {id: b, title: B}\n" +
			"steps:\n  - id: s\n    title: S\n    gates:\n      - " + tc.yaml + "\n"
		_, err := Parse("unit.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
