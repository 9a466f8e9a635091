//go:build !windows

package sshx

import (
	"fmt"
	"os"
	"syscall"
)

// privateKeyMode refuses an identity file of the operator's that others may read, as
// OpenSSH does ("UNPROTECTED PRIVATE KEY FILE"): a key others could copy is not the
// operator's alone, and using it quietly would hide that.
func privateKeyMode(file string) error {
	fi, err := os.Stat(file)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || int(st.Uid) != os.Getuid() {
		return nil // not the operator's own file: OpenSSH checks only those
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("permissions %04o are too open: a private key must not be accessible by others, as OpenSSH requires (chmod 600 %s)", perm, file)
	}
	return nil
}
