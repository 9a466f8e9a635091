//go:build !windows

package lock

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// processAlive reports whether pid runs on this machine (signal 0; EPERM means it
// exists and belongs to someone else). A zombie (it exited, and its parent has not
// collected it, as tmux does not for a pane it killed) answers signal 0 too but runs no
// more; where /proc tells, it counts as gone.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// "pid (comm) S ...": the state follows the command name, which may hold spaces
		// and parentheses itself.
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 {
			if f := strings.Fields(string(stat[i+1:])); len(f) > 0 && (f[0] == "Z" || f[0] == "X") {
				return false
			}
		}
	}
	return true
}
