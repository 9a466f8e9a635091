package runbooks

import (
	"context"
	"testing"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/probe/lab/labtest"
	"github.com/cutover/cutover/probe/sshx"
)

// ProbedLab serves a scenario's lab for one test and probes every host of it, as a run
// would before planning; a host that does not answer fails the test.
func ProbedLab(t *testing.T, scenario string) (*lab.Lab, *inventory.Inventory, map[string]*probe.Facts) {
	t.Helper()
	sc, err := Scenario(scenario, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return ProbedScenario(t, sc, nil)
}

// ProbedScenario serves sc and probes every host for comps (nil: the shipped and
// declared components).
func ProbedScenario(t *testing.T, sc *lab.Scenario, comps []probe.Component) (*lab.Lab, *inventory.Inventory, map[string]*probe.Facts) {
	t.Helper()
	l := labtest.Serve(t, sc, lab.Options{})
	inv, err := inventory.Load(l.Inventory())
	if err != nil {
		t.Fatal(err)
	}
	pool := probe.NewPool(&sshx.Dialer{NoAgent: true})
	t.Cleanup(func() { pool.Close() })
	facts := map[string]*probe.Facts{}
	for _, f := range (&probe.Prober{Pool: pool, Components: comps}).ProbeAll(context.Background(), inv.Hosts) {
		if !f.Reachable {
			t.Fatalf("%s: %s", f.Name, f.Error)
		}
		facts[f.Name] = f
	}
	return l, inv, facts
}
