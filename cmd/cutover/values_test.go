package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe"
)

// payloadRunbook carries values to commands on the lab's hosts from every source:
// parameters (w1..w8), the install folder of the host the commands run on, an INI value
// and the addresses that another host (b) reports about itself. Each command writes
// the value it got, as one argument, to a file of its own.
const payloadRunbook = `id: site/payloads
title: Values reach commands as data
system: Test
source: the tests
roles:
  - {id: a, title: the host the commands run on}
  - {id: b, title: the host whose facts travel to a}
params:
  - {id: out, title: Folder for what the commands got, type: path}
%s
steps:
  - id: from-parameters
    title: Parameters reach a command
    action:
      run:
        role: a
        command: |
%s
    gates:
      - command: {role: a, run: "test -s {{ params.out }}/w1"}
  - id: from-the-inventory
    title: The install folder reaches a command
    action:
      run: {role: a, command: "printf '%%s' {{ roles.a.install_dir }} > {{ params.out }}/install_dir"}
  - id: from-another-host
    title: What b reports reaches a command on a
    action:
      run:
        role: a
        command: |
%s
          printf '%%s\n' {{ roles.b.addresses }} > {{ params.out }}/addresses
`

// payloads would each run "touch CANARY" if a shell took them as code: every kind of
// quote, a separator, both command substitutions, a newline, a leading dash, and the
// typographic quotes PowerShell also takes for quotes.
var payloads = []string{
	`it's; touch CANARY`,
	`"; touch CANARY; echo "`,
	`$(touch CANARY)`,
	"`touch CANARY`",
	"one\ntouch CANARY",
	`-n; touch CANARY`,
	"\u2018; touch CANARY; \u2019\u201a\u201b",
	`'\''; touch CANARY #`,
}

// TestValuesNeverBecomeCode sends the payloads through a parameter, an inventory value
// and the facts one host reports into commands on another, over real SSH to the lab:
// each command gets each value back byte for byte as one argument, the canary that any
// of them would create never appears, and the lab's audit log holds the commands
// cutover was asked to run and nothing else. Values of the wrong shape (a path with a
// leading '-' or a newline, an install folder with a newline, an address with a
// leading '-', addresses a host reports that are not addresses) are refused, each
// message naming what was refused.
func TestValuesNeverBecomeCode(t *testing.T) {
	t.Parallel()
	l := startLab(t)
	dir := t.TempDir()
	canary := filepath.Join(dir, "CANARY")
	out := filepath.Join(dir, "got")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	arm := func(p string) string { return strings.ReplaceAll(p, "CANARY", canary) }

	// An install folder whose name is itself a payload (a legal name on any POSIX host).
	installDir := filepath.Join(l.HostRoot("spare"), "opt", arm("it's $(touch CANARY) `touch CANARY`; x"))
	if err := os.MkdirAll(installDir, 0o755); err != nil {
		t.Fatal(err)
	}
	inv := rewriteInstallDir(t, l, "spare", strconv.Quote(installDir))

	// What lui reports: INI values in its lui.ini, addresses from its hostname -I.
	iniPayloads := []string{`x'; touch CANARY; echo '`, `$(touch CANARY)`, "`touch CANARY`", `"; touch CANARY #`, "\u2018;touch CANARY\u2019"}
	ini, err := os.OpenFile(l.file("lui", "lui/lui.ini"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range iniPayloads {
		// lui.ini is a Java properties file: Latin-1, other characters as \uXXXX.
		fmt.Fprintf(ini, "Payload%d=%s\n", i+1, strings.NewReplacer("\u2018", `\u2018`, "\u2019", `\u2019`).Replace(arm(p)))
	}
	ini.Close()
	badAddresses := []string{arm("$(touch${IFS}CANARY)"), "-e", "';touch'"}
	hostname := "#!/bin/sh\ncase \"$1\" in\n-I) printf '%s\\n' " + probe.ShellQuote("10.77.0.10 "+strings.Join(badAddresses, " ")) + " ;;\n*) echo lui.maestro.lab ;;\nesac\n"
	if err := os.WriteFile(filepath.Join(l.HostRoot("lui"), "bin", "hostname"), []byte(hostname), 0o755); err != nil {
		t.Fatal(err)
	}

	var params, paramCmds, factCmds []string
	args := []string{"--role", "a=spare", "--role", "b=lui", "--set", "out=" + out, "--headless", "--journal-dir", t.TempDir()}
	for i, p := range payloads {
		params = append(params, fmt.Sprintf("  - {id: w%d, title: Payload %d, type: string}", i+1, i+1))
		paramCmds = append(paramCmds, fmt.Sprintf("          printf '%%s' {{ params.w%d }} > {{ params.out }}/w%d", i+1, i+1))
		args = append(args, "--set", fmt.Sprintf("w%d=%s", i+1, arm(p)))
	}
	for i := range iniPayloads {
		factCmds = append(factCmds, fmt.Sprintf("          printf '%%s' {{ roles.b.settings.lui.Payload%d }} > {{ params.out }}/ini%d", i+1, i+1))
	}
	rbFile := filepath.Join(dir, "payloads.yaml")
	src := fmt.Sprintf(payloadRunbook, strings.Join(params, "\n"), strings.Join(paramCmds, "\n"), strings.Join(factCmds, "\n"))
	if err := os.WriteFile(rbFile, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	audit, err := l.Audit()
	if err != nil {
		t.Fatal(err)
	}
	r := cutover(t, append([]string{"run", rbFile, "-i", inv}, args...)...)
	wantCode(t, r, 0)

	// Every value arrived whole, as one argument.
	want := map[string]string{"install_dir": installDir, "addresses": "10.77.0.10\n"}
	for i, p := range payloads {
		want[fmt.Sprintf("w%d", i+1)] = arm(p)
	}
	for i, p := range iniPayloads {
		want[fmt.Sprintf("ini%d", i+1)] = arm(p)
	}
	for name, w := range want {
		if got, err := os.ReadFile(filepath.Join(out, name)); err != nil || string(got) != w {
			t.Errorf("%s: the command got %q (%v), want %q", name, got, err, w)
		}
	}
	if _, err := os.Stat(canary); !os.IsNotExist(err) {
		t.Fatal("a value ran as code: the canary exists")
	}
	// The audit log: the probe of each host, the three actions' commands and the gate,
	// each exactly as planned with its values quoted, and nothing else.
	quoted := func(v string) string { return probe.ShellQuote(v) }
	var wantCmds []string
	var lines []string
	for i, p := range payloads {
		lines = append(lines, fmt.Sprintf("printf '%%s' %s > %s/w%d", quoted(arm(p)), out, i+1))
	}
	wantCmds = append(wantCmds, strings.Join(lines, "\n")+"\n", "test -s "+out+"/w1",
		fmt.Sprintf("printf '%%s' %s > %s/install_dir", quoted(installDir), out))
	lines = nil
	for i, p := range iniPayloads {
		lines = append(lines, fmt.Sprintf("printf '%%s' %s > %s/ini%d", quoted(arm(p)), out, i+1))
	}
	wantCmds = append(wantCmds, strings.Join(append(lines, "printf '%s\\n' 10.77.0.10 > "+out+"/addresses"), "\n")+"\n")
	entries, err := l.Audit()
	if err != nil {
		t.Fatal(err)
	}
	probeScript := regexp.MustCompile(`^M=@@cutover-[0-9a-f]+\n`)
	seen := map[string]int{}
	for _, e := range entries[len(audit):] {
		if e.Kind != "exec" {
			continue
		}
		switch {
		case probeScript.MatchString(e.Command):
		case strings.Contains(e.Command, "printf") || strings.HasPrefix(e.Command, "test -s"):
			seen[e.Command]++
		default:
			t.Errorf("%s ran a command nobody asked for: %q", e.Host, e.Command)
		}
	}
	for _, c := range wantCmds {
		if seen[c] != 1 {
			t.Errorf("the lab ran %d times:\n%s\nall commands: %v", seen[c], c, seen)
		}
		delete(seen, c)
	}
	for c := range seen {
		t.Errorf("an unexpected command ran: %q", c)
	}

	// lui's addresses that are not addresses never reached a's command: the probe says
	// which it left out.
	r = cutover(t, "probe", "-i", inv, "lui")
	for _, a := range badAddresses {
		wantCode(t, r, 0, fmt.Sprintf("not an IP address, left out: %q", a))
	}

	// Refused at once, each saying what and where.
	for _, tc := range []struct {
		name, inv string
		set       []string
		has       []string
	}{
		{"a path parameter with a leading dash", inv, []string{"out=-rf"}, []string{`parameter out: "-rf" starts with '-'`}},
		{"a path parameter with a newline", inv, []string{"out=" + out + "\ntouch " + canary}, []string{"parameter out:", "contains a control character (U+000A)"}},
		{"an install folder with a newline", rewriteInstallDir(t, l, "spare", strconv.Quote("/opt/x\ntouch "+canary)), nil,
			[]string{".yaml:", ":18: install_dir of spare:", "contains a control character (U+000A)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := append([]string{"run", rbFile, "-i", tc.inv}, args...)
			for _, s := range tc.set {
				a = append(a, "--set", s)
			}
			wantCode(t, cutover(t, a...), 2, tc.has...)
		})
	}
	badAddr := rewriteField(t, l, "spare", "address", "-oProxyCommand=touch "+canary)
	r = cutover(t, "probe", "-i", badAddr, "spare")
	wantCode(t, r, 2, "address of spare:", `"-oProxyCommand=touch `+canary+`" starts with '-'`)
	if _, err := os.Stat(canary); !os.IsNotExist(err) {
		t.Fatal("a refused value ran as code: the canary exists")
	}
}

// rewriteInstallDir writes a copy of the lab's inventory in which host's install_dir is
// quoted (a YAML scalar as written), and returns its path.
func rewriteInstallDir(t *testing.T, l *testLab, host, quoted string) string {
	t.Helper()
	return rewriteField(t, l, host, "install_dir", quoted)
}

// rewriteField writes a copy of the lab's inventory with host's field set to value
// (YAML as written), beside the lab's own so that its relative paths still hold.
func rewriteField(t *testing.T, l *testLab, host, field, value string) string {
	t.Helper()
	lines := strings.Split(readFile(t, l.Inventory()), "\n")
	in := false
	for i, line := range lines {
		switch {
		case line == "  "+host+":":
			in = true
		case in && strings.HasPrefix(line, "    "+field+":"):
			lines[i] = "    " + field + ": " + value
			in = false
		}
	}
	f, err := os.CreateTemp(l.Dir(), "inventory-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Join(lines, "\n")); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}
