package runbooks

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/probe/yamlpos"
)

//go:embed labfiles
var labFiles embed.FS

// scenarios maps a scenario name to its constructor. Constructors take the current time
// because simulated logs carry dates ("LUI-20261122.LOG"). Scenarios written as data
// are labfiles/NAME.lab.yaml; the rest are still built in Go.
var scenarios = map[string]func(now time.Time) (*lab.Scenario, error){
	"maestro":     goScenario(maestroScenario),
	"maestro-ha":  goScenario(maestroHAScenario),
	"listmanager": dataScenario("listmanager.lab.yaml"),
	"communigate": dataScenario("communigate.lab.yaml"),
	"mdaemon":     goScenario(mdaemonScenario),
}

func goScenario(mk func(time.Time) *lab.Scenario) func(time.Time) (*lab.Scenario, error) {
	return func(now time.Time) (*lab.Scenario, error) { return mk(now), nil }
}

// dataScenario reads an embedded scenario file; the files it names with from: are in
// labfiles.
func dataScenario(name string) func(time.Time) (*lab.Scenario, error) {
	return func(now time.Time) (*lab.Scenario, error) {
		data, err := labFiles.ReadFile("labfiles/" + name)
		if err != nil {
			return nil, err
		}
		sub, err := fs.Sub(labFiles, "labfiles")
		if err != nil {
			return nil, err
		}
		return lab.ParseScenario("runbooks/labfiles/"+name, data, sub, now)
	}
}

// Scenario returns the practice-lab scenario called name, built for time now; a name
// that is a scenario file (NAME.lab.yaml) reads that file.
func Scenario(name string, now time.Time) (*lab.Scenario, error) {
	if strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml") {
		return ScenarioFile(name, now)
	}
	mk, ok := scenarios[name]
	if !ok {
		return nil, fmt.Errorf("no lab scenario %q (known: %s; or name a scenario file, NAME.lab.yaml)", name, strings.Join(ScenarioNames(), ", "))
	}
	return mk(now)
}

// ScenarioFile reads a practice-lab scenario written as data; the files its from:
// entries name are beside it.
func ScenarioFile(path string, now time.Time) (*lab.Scenario, error) {
	data, err := yamlpos.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return lab.ParseScenario(path, data, lab.ScenarioFiles(path), now)
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

// aliasMachine is the same-machine fault: the inventory entry name leads to the machine
// of host of (see lab.Lab.AliasMachine).
func aliasMachine(name, of string) func(*lab.Lab) error {
	return func(l *lab.Lab) error { return l.AliasMachine(name, of) }
}

// editHostFile returns a fault that replaces old with new in a file of a host, as an
// administrator's edit would.
func editHostFile(host, rel, old, new string) func(*lab.Lab) error {
	return func(l *lab.Lab) error { return l.EditHostFile(host, rel, old, new) }
}

func labFile(path string) string {
	b, err := labFiles.ReadFile("labfiles/" + path)
	if err != nil {
		panic("runbooks: missing embedded lab file " + path) // a build mistake, caught by every lab test
	}
	return string(b)
}
