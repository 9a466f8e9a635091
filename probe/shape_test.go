package probe

import (
	"strings"
	"testing"
)

func TestShapes(t *testing.T) {
	const ok = ""
	for _, tc := range []struct {
		name  string
		check func(string) error
		in    string
		want  string // "" accepts; else part of the error
	}{
		{"host", CheckHostName, "hub1.maestro.lab", ok},
		{"host", CheckHostName, "hub_1", ok},
		{"host", CheckHostName, "10.0.0.12", ok},
		{"host", CheckHostName, "fe80::1%eth0", ok},
		{"host", CheckHostName, "", "empty host name"},
		{"host", CheckHostName, "-oProxyCommand=touch", "starts with '-'"},
		{"host", CheckHostName, "hub1\ntouch CANARY", "control character (U+000A)"},
		{"host", CheckHostName, "hub1\x00", "control character (U+0000)"},
		{"host", CheckHostName, "hub1\x1b[2J", "control character (U+001B)"},
		{"host", CheckHostName, "hub;touch", `';' in label`},
		{"host", CheckHostName, "$(touch)", `'$' in label`},
		{"host", CheckHostName, "hub one", "contains a space"},
		{"host", CheckHostName, "hub1:22", "includes a port (22)"},
		{"host", CheckHostName, "a.-b", `(label "-b")`},
		{"host", CheckHostName, "\u2018hub\u2019", "is not a host name"},
		{"host", CheckHostName, "hub\xff", "not valid UTF-8"},
		{"path", CheckPath, "/opt/it's maestro", ok},
		{"path", CheckPath, "-rf", "starts with '-'"},
		{"path", CheckPath, "/opt/x\n/etc", "control character (U+000A)"},
		{"path", CheckPath, "/opt/x\x00", "control character (U+0000)"},
		{"path", CheckPath, "/opt/\u0085x", "control character (U+0085)"},
		{"path", CheckPath, "", "empty path"},
		{"sh install_dir", func(s string) error { return CheckInstallDir(s, false) }, "/opt/maestro", ok},
		{"sh install_dir", func(s string) error { return CheckInstallDir(s, false) }, "opt/maestro", "not an absolute path"},
		{"sh install_dir", func(s string) error { return CheckInstallDir(s, false) }, "/opt/$(touch CANARY)", ok}, // a legal name: quoted wherever it goes
		{"ps install_dir", func(s string) error { return CheckInstallDir(s, true) }, `C:\MDaemon`, ok},
		{"ps install_dir", func(s string) error { return CheckInstallDir(s, true) }, `\\nas\share\MDaemon`, ok},
		{"ps install_dir", func(s string) error { return CheckInstallDir(s, true) }, `MDaemon`, "not an absolute Windows path"},
		{"ps install_dir", func(s string) error { return CheckInstallDir(s, true) }, `C:\MD"aemon`, "Windows file names cannot hold"},
		{"ps install_dir", func(s string) error { return CheckInstallDir(s, true) }, `C:\a|b`, "Windows file names cannot hold"},
		{"line", CheckLine, "nginx -t && nginx -s reload", ok},
		{"line", CheckLine, "a\tb", ok},
		{"line", CheckLine, "a\nb", "control character (U+000A)"},
	} {
		err := tc.check(tc.in)
		switch {
		case tc.want == ok && err != nil:
			t.Errorf("%s %q refused: %v", tc.name, tc.in, err)
		case tc.want != ok && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s %q: %v, want %q", tc.name, tc.in, err, tc.want)
		}
		// A refusal shows the value escaped: it cannot start a line of its own.
		if err != nil && strings.ContainsAny(err.Error(), "\n\x00\x1b") {
			t.Errorf("%s %q: the message carries a control character: %q", tc.name, tc.in, err)
		}
	}
}

// TestReportedFactsAreShaped: addresses a host reports that are not IP addresses are
// left out of its facts, and a name that is not a host name is kept as sent, each with a
// warning that names it.
func TestReportedFactsAreShaped(t *testing.T) {
	m := "@@cutover-x"
	out := strings.Join([]string{
		m + " hostname hub1;touch CANARY",
		m + " addresses 10.0.0.5 $(touch${IFS}CANARY) -e 2001:db8::1 '",
		m + " end", ""}, "\n")
	f := &Facts{}
	if err := parseFacts(f, []byte(out), m, Catalogue); err != nil {
		t.Fatal(err)
	}
	if f.Hostname != "hub1;touch CANARY" || strings.Join(f.Addresses, " ") != "10.0.0.5 2001:db8::1" {
		t.Errorf("facts kept %q and %q", f.Hostname, f.Addresses)
	}
	all := strings.Join(f.Warnings, "\n")
	for _, w := range []string{`name that is not a host name: "hub1;touch CANARY"`, `not an IP address, left out: "$(touch${IFS}CANARY)"`, `left out: "-e"`, `left out: "'"`} {
		if !strings.Contains(all, w) {
			t.Errorf("warnings lack %q:\n%s", w, all)
		}
	}
}
