package lab

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// The practice lab's simulated hosts are folders whose commands run with /bin/sh and
// process groups, which Windows does not have: the lab refuses to start there (cutover
// itself runs against real hosts from Windows).

// killSignal ends a session's command when its channel closes.
const killSignal = syscall.SIGKILL

func ownGroup(*exec.Cmd) {}

func killGroup(int, syscall.Signal) error { return errors.ErrUnsupported }

func signals() map[string]syscall.Signal {
	return map[string]syscall.Signal{"KILL": syscall.SIGKILL, "TERM": syscall.SIGTERM, "INT": syscall.SIGINT}
}

// lockDir refuses: the lab cannot run on Windows.
func lockDir(string) (*os.File, error) {
	return nil, errors.New("lab: the practice lab simulates its hosts with /bin/sh scripts and needs Linux or macOS; on Windows, run it in WSL")
}
