package inventory

import (
	"fmt"
	"os"
)

// LoadImplicit loads an inventory that cutover found by itself (./cutover.yaml, or
// inventory.yaml in the user's config folder) rather than one the operator named
// with -i. Whoever can write such a file decides what cutover connects to and what
// runs on local hosts, so it is refused, with the reason, when it or any file it
// brings in (group_vars, host_vars) belongs to another user (root excepted) or is
// writable by group or others; on Windows, where access is a matter of ACLs, no check
// is made. The inventory is marked Implicit.
func LoadImplicit(path string) (*Inventory, error) {
	inv, err := load(path, checkImplicit)
	if err != nil {
		return nil, err
	}
	inv.Implicit = true
	return inv, nil
}

// checkImplicit vets one file or folder of an implicit inventory.
func checkImplicit(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("inventory: %w", err)
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		if fi, err = os.Stat(path); err != nil {
			return fmt.Errorf("inventory: %w", err)
		}
	}
	if why := unsafeOwner(fi); why != "" {
		return fmt.Errorf("inventory: refusing %s, found without -i: %s; whoever can change it decides what cutover connects to and runs. "+
			"Give it with -i if you trust it, or fix it (chown, chmod go-w)", path, why)
	}
	return nil
}
