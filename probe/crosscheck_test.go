package probe

import (
	"slices"
	"testing"
)

// TestCrosscheck: an INI file that names a Hub or Tracker host where that component is
// not installed is flagged on the host that holds the file, naming the file; names match
// by inventory name, host name or short name, in any case; a host that did not answer
// proves nothing either way.
func TestCrosscheck(t *testing.T) {
	lui := &Facts{Name: "lui", Hostname: "lui.example.org", Reachable: true, Components: []string{"lui"},
		Settings: map[string]map[string]string{"lui": {"RegistryHubHost": "HUB.example.org", "TrackerHost": "spare"}}}
	trk := &Facts{Name: "trk", Hostname: "trk.example.org", Reachable: true, Components: []string{"trk"},
		Settings: map[string]map[string]string{"trk": {"RegistryHubHost": "spare.example.org"}}}
	hub := &Facts{Name: "hub1", Hostname: "hub.example.org", Reachable: true, Components: []string{"hub"}}
	spare := &Facts{Name: "spare", Hostname: "spare.example.org", Reachable: true, Components: []string{}}
	down := &Facts{Name: "old", Hostname: "old.example.org", Reachable: false,
		Settings: map[string]map[string]string{"lui": {"RegistryHubHost": "spare"}}}
	Crosscheck([]*Facts{lui, trk, hub, spare, down, nil})

	want := map[*Facts][]string{
		lui: {"TrackerHost in lui/lui.ini names spare, but no Maestro Tracker was found there"},
		trk: {"RegistryHubHost in trk/tracker.ini names spare.example.org, but no Administration Hub was found there"},
	}
	for _, f := range []*Facts{lui, trk, hub, spare, down} {
		if !slices.Equal(f.Warnings, want[f]) {
			t.Errorf("%s: warnings %q, want %q", f.Name, f.Warnings, want[f])
		}
	}

	// A name that no probed host answers to is not a contradiction: it may be a host
	// outside the inventory.
	other := &Facts{Name: "lui2", Reachable: true, Components: []string{"lui"},
		Settings: map[string]map[string]string{"lui": {"RegistryHubHost": "elsewhere.example.org"}}}
	Crosscheck([]*Facts{other, hub})
	if len(other.Warnings) != 0 {
		t.Errorf("a host outside the inventory was flagged: %q", other.Warnings)
	}
}
