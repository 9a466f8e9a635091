package runbooks

import (
	"embed"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cutover/cutover/probe/lab"
)

//go:embed labfiles
var labFiles embed.FS

// scenarios maps a scenario name to its constructor. Constructors take the current time
// because simulated logs carry dates ("LUI-20261122.LOG").
var scenarios = map[string]func(now time.Time) *lab.Scenario{
	"maestro": maestroScenario,
}

// Scenario returns the practice-lab scenario called name, built for time now.
func Scenario(name string, now time.Time) (*lab.Scenario, error) {
	mk, ok := scenarios[name]
	if !ok {
		return nil, fmt.Errorf("no lab scenario %q (known: %s)", name, strings.Join(ScenarioNames(), ", "))
	}
	return mk(now), nil
}

// ScenarioNames lists the practice-lab scenarios.
func ScenarioNames() []string {
	out := make([]string, 0, len(scenarios))
	for k := range scenarios {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func labFile(path string) string {
	b, err := labFiles.ReadFile("labfiles/" + path)
	if err != nil {
		panic("runbooks: missing embedded lab file " + path) // a build mistake, caught by every lab test
	}
	return string(b)
}

// hostnameShim makes `hostname` on a simulated host print that host's name: the lab's
// hosts share one machine, and the probe asks each host who it is.
func hostnameShim(fqdn string) lab.File {
	short, _, _ := strings.Cut(fqdn, ".")
	return lab.File{Path: "bin/hostname", Mode: 0o755, Content: fmt.Sprintf(`#!/bin/sh
# Simulated host name (cutover practice lab).
case "$1" in
-s | --short) echo %s ;;
*) echo %s ;;
esac
`, short, fqdn)}
}
