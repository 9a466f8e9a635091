package lab

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/cutover/cutover/probe"
)

// Found is a practice lab found on disk through its inventory (one that another
// process serves, such as `cutover lab --dir DIR`).
type Found struct {
	// Dir is the lab folder, Scenario the scenario it was set up from.
	Dir, Scenario string
}

// FindByInventory reports the practice lab whose inventory is the file at path, with
// hosts as loaded from it: the lab writes inventory.yaml beside its finished state
// (lab.json) and serves every host on 127.0.0.1. A site's own inventory, whose hosts
// are not all on loopback, is never taken for a lab's.
func FindByInventory(path string, hosts []*probe.Host) (*Found, bool) {
	if filepath.Base(path) != inventoryFile || len(hosts) == 0 {
		return nil, false
	}
	for _, h := range hosts {
		if h.Address != "127.0.0.1" {
			return nil, false
		}
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, false
	}
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, false
	}
	var st state
	if json.Unmarshal(data, &st) != nil || !st.Ready || st.Scenario == "" {
		return nil, false
	}
	return &Found{Dir: dir, Scenario: st.Scenario}, true
}

// RunFile is the path of the lab's run file of runbook (which may not exist: not every
// runbook has one in every scenario).
func (f *Found) RunFile(runbook string) string {
	return filepath.Join(f.Dir, runsDir, runFileName(runbook))
}

// RunFile is the path of the lab's run file of runbook, as RunFile of Found.
func (l *Lab) RunFile(runbook string) string {
	return filepath.Join(l.dir, runsDir, runFileName(runbook))
}
