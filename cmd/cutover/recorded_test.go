package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/steps"
)

// TestRecordedInventory: resume and replay find the inventory a journal names; an
// ssh:ALIAS inventory is resolved again rather than looked for as a file, and a missing
// one is named.
func TestRecordedInventory(t *testing.T) {
	t.Setenv("HOME", t.TempDir()) // no ~/.ssh/config: aliases resolve to themselves
	rec := func(inv string) *recorded {
		return &recorded{st: &steps.RunState{Session: &steps.Session{Inventory: inv}}}
	}
	gone := filepath.Join(t.TempDir(), "inventory.yaml")
	for _, tc := range []struct{ recorded, want string }{
		{"", "names no inventory"},
		{gone, "the recorded inventory " + gone + " is gone"},
		{"ssh:hub1", ""},
	} {
		inv, err := rec(tc.recorded).inventory("")
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.recorded, err)
		case tc.want == "" && inv.Host("hub1") == nil:
			t.Errorf("%q: no host hub1 in %+v", tc.recorded, inv)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: error %v, want %q", tc.recorded, err, tc.want)
		}
	}
}
