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
	"maestro":     maestroScenario,
	"maestro-ha":  maestroHAScenario,
	"listmanager": listmanagerScenario,
	"communigate": communigateScenario,
	"mdaemon":     mdaemonScenario,
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
