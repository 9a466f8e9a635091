package probe

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestHardwareFacts: the probe reads processors and memory (pages times page size, or
// bytes times 1 from PowerShell); what is missing or not a number leaves them unknown
// (0), and they survive a journal's JSON.
func TestHardwareFacts(t *testing.T) {
	m := "@@cutover-x"
	for _, tc := range []struct {
		lines  []string
		cpus   int
		memory int64
	}{
		{[]string{" cpus 4", " memory 2097152 4096"}, 4, 8 << 30},
		{[]string{" cpus 16", " memory 68719476736 1"}, 16, 64 << 30},
		{[]string{" cpus ", " memory  "}, 0, 0},
		{[]string{" cpus undefined", " memory undefined 4096"}, 0, 0},
		{[]string{" cpus -2", " memory 9223372036854775807 4096"}, 0, 0},
	} {
		var out []string
		for _, l := range tc.lines {
			out = append(out, m+l)
		}
		f := &Facts{}
		if err := parseFacts(f, []byte(strings.Join(append(out, m+" end"), "\n")), m, nil); err != nil {
			t.Fatal(err)
		}
		if f.CPUs != tc.cpus || f.Memory != tc.memory {
			t.Errorf("%q: cpus %d, memory %d; want %d, %d", tc.lines, f.CPUs, f.Memory, tc.cpus, tc.memory)
		}
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		var back Facts
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if back.CPUs != f.CPUs || back.Memory != f.Memory {
			t.Errorf("JSON %s reads back as cpus %d, memory %d", b, back.CPUs, back.Memory)
		}
	}
}

// TestScriptReadsHardware runs the probe's POSIX script here: this machine's
// processors and memory come back as numbers.
func TestScriptReadsHardware(t *testing.T) {
	if _, err := exec.LookPath("getconf"); err != nil {
		t.Skip("no getconf on this machine")
	}
	out, err := exec.Command("/bin/sh", "-c", Script(&Host{Name: "here"}, nil, "n")).Output()
	if err != nil {
		t.Fatal(err)
	}
	f := &Facts{}
	if err := parseFacts(f, out, "@@cutover-n", nil); err != nil {
		t.Fatal(err)
	}
	if f.CPUs < 1 || f.Memory < 1<<20 {
		t.Errorf("this machine: cpus %d, memory %d bytes\n%s", f.CPUs, f.Memory, out)
	}
}
