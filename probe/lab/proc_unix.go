//go:build !windows

package lab

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// killSignal ends a session's command when its channel closes.
const killSignal = syscall.SIGKILL

// ownGroup starts cmd in a process group of its own, so a signal reaches all it started.
func ownGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// killGroup sends sig to process group pgid.
func killGroup(pgid int, sig syscall.Signal) error { return syscall.Kill(-pgid, sig) }

// signals are the names RFC 4254 gives signals, without "SIG".
func signals() map[string]syscall.Signal {
	return map[string]syscall.Signal{
		"ABRT": syscall.SIGABRT, "ALRM": syscall.SIGALRM, "FPE": syscall.SIGFPE, "HUP": syscall.SIGHUP,
		"ILL": syscall.SIGILL, "INT": syscall.SIGINT, "KILL": syscall.SIGKILL, "PIPE": syscall.SIGPIPE,
		"QUIT": syscall.SIGQUIT, "SEGV": syscall.SIGSEGV, "TERM": syscall.SIGTERM,
		"USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2,
	}
}

// lockDir creates dir if needed and locks it for as long as the lab runs, so that a
// second lab never rewrites the files of one that is serving.
func lockDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lab: %s is in use by another lab that is still running; stop it first", dir)
		}
		return nil, fmt.Errorf("lab: locking %s: %w", dir, err)
	}
	return f, nil
}
