//go:build !windows

package inventory_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe/inventory"
)

// TestLoadImplicit: an inventory found without -i is refused when group or others can
// write it or a file it brings in, or when another user owns it; a private one loads
// and is marked Implicit. Named with -i, the same file loads.
func TestLoadImplicit(t *testing.T) {
	isolate(t)
	inventory.SetSystemSSHConfig(t, filepath.Join(t.TempDir(), "none"))
	dir := t.TempDir()
	file := filepath.Join(dir, "cutover.yaml")
	writeFile(t, file, "[g]\nh1 ansible_host=10.0.0.1\n")

	inv, err := inventory.LoadImplicit(file)
	if err != nil || !inv.Implicit {
		t.Fatalf("private implicit inventory: %v", err)
	}
	if inv, err := inventory.Load(file); err != nil || inv.Implicit {
		t.Fatalf("Load: %v", err)
	}

	for _, mode := range []os.FileMode{0o664, 0o646} {
		if err := os.Chmod(file, mode); err != nil {
			t.Fatal(err)
		}
		_, err := inventory.LoadImplicit(file)
		if err == nil || !strings.Contains(err.Error(), "group or others can write it") || !strings.Contains(err.Error(), file) {
			t.Errorf("mode %04o: %v", mode, err)
		}
		if _, err := inventory.Load(file); err != nil {
			t.Errorf("named with -i, mode %04o: %v", mode, err)
		}
	}
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}

	// A planted group_vars file is refused too.
	gv := filepath.Join(dir, "group_vars", "all.yml")
	writeFile(t, gv, "ansible_user: mallory\n")
	if err := os.Chmod(gv, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := inventory.LoadImplicit(file); err == nil || !strings.Contains(err.Error(), gv) {
		t.Errorf("writable group_vars file: %v", err)
	}
	if err := os.Chmod(gv, 0o644); err != nil {
		t.Fatal(err)
	}

	if os.Geteuid() == 0 {
		if err := os.Chown(file, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if _, err := inventory.LoadImplicit(file); err == nil || !strings.Contains(err.Error(), "belongs to another user (uid 65534)") {
			t.Errorf("file of another user: %v", err)
		}
	}
}
