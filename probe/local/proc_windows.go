package local

import (
	"errors"
	"os/exec"
	"strconv"
	"syscall"
)

// command is the process that runs cmd: PowerShell (pwsh, else Windows PowerShell), or
// the sh found on PATH for a host whose shell is sh.
func command(powerShell bool, cmd string) (*exec.Cmd, error) {
	if powerShell {
		ps, err := exec.LookPath("pwsh")
		if err != nil {
			ps = "powershell"
		}
		return exec.Command(ps, "-NoProfile", "-NonInteractive", "-Command", cmd), nil
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		return nil, errors.New("this local host's shell is sh and no sh is on PATH (Git for Windows has one); or give the host shell: powershell")
	}
	return exec.Command(sh, "-c", cmd), nil
}

// ownGroup starts c in a process group of its own, so a Ctrl-C at the console does not
// reach it; killGroup ends it and its children.
func ownGroup(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}

// killGroup kills c and every process it started (taskkill /T walks the tree by parent
// process), then c itself in case taskkill could not.
func killGroup(c *exec.Cmd) {
	_ = exec.Command("taskkill", "/T", "/F", "/PID", strconv.Itoa(c.Process.Pid)).Run()
	_ = c.Process.Kill()
}
