//go:build !windows

package local

import (
	"os/exec"
	"syscall"
)

// command is the process that runs cmd: /bin/sh -c, or pwsh.
func command(powerShell bool, cmd string) (*exec.Cmd, error) {
	if powerShell {
		return exec.Command("pwsh", "-NoProfile", "-NonInteractive", "-Command", cmd), nil
	}
	return exec.Command("/bin/sh", "-c", cmd), nil
}

// ownGroup starts c in a process group of its own, so that killGroup reaches whatever
// it starts.
func ownGroup(c *exec.Cmd) { c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// killGroup kills c's process group.
func killGroup(c *exec.Cmd) { _ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
