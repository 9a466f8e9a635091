//go:build !windows

package inventory

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// unsafeOwner says why a file of an implicit inventory cannot be trusted: another
// user owns it, or group or others may write it; "" when neither.
func unsafeOwner(fi fs.FileInfo) string {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() && st.Uid != 0 {
		return fmt.Sprintf("it belongs to another user (uid %d)", st.Uid)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Sprintf("group or others can write it (mode %04o)", perm)
	}
	return ""
}
