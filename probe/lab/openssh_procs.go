//go:build linux

package lab

import (
	"bytes"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Close stops every sshd instance and the sessions they run.
func (o *OpenSSH) Close() error {
	o.once.Do(func() {
		var listeners []int
		for _, s := range o.servers {
			if s.cmd != nil && s.cmd.Process != nil {
				listeners = append(listeners, s.cmd.Process.Pid)
			}
		}
		// sshd puts each connection in a session of its own (setsid), out of reach of
		// the listener's process group: its processes are signalled one by one. They
		// also hold the listener's stderr, so Wait would not return while they run.
		sessions := descendants(listeners)
		for _, pid := range listeners {
			_ = syscall.Kill(-pid, syscall.SIGTERM)
		}
		for _, pid := range sessions {
			_ = syscall.Kill(pid, syscall.SIGTERM)
		}
		// What sessions started in the background may have left them (setsid, nohup).
		// Everything the lab's own accounts run is the lab's: end it all. Only those
		// accounts: with another login account (a user's own, when not root) nothing
		// is swept.
		if os.Geteuid() == 0 {
			for _, name := range o.labAccounts() {
				if u, err := user.Lookup(name); err == nil {
					if uid, err := strconv.Atoi(u.Uid); err == nil && uid != 0 {
						if err := killUID(uid, 5*time.Second); err != nil && o.closeErr == nil {
							o.closeErr = err
						}
					}
				}
			}
		}
		if o.sudo != nil {
			if err := o.closeSudo(); err != nil && o.closeErr == nil {
				o.closeErr = err
			}
		}
		for _, s := range o.servers {
			if s.done == nil {
				continue
			}
			select {
			case <-s.done:
			case <-time.After(5 * time.Second):
				_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
				<-s.done
			}
		}
	})
	return o.closeErr
}

// labAccounts are the accounts the lab created and whose processes are all its own.
func (o *OpenSSH) labAccounts() []string {
	if o.sudo != nil {
		return []string{OpenSSHOperator, OpenSSHOperatorPassword, OpenSSHService}
	}
	if o.user == OpenSSHUser {
		return []string{OpenSSHUser}
	}
	return nil
}

// killUID sends SIGKILL to every process whose real or effective user id is uid, as
// read from /proc, until none is left (a process may fork while it is swept) or
// timeout passes. It never signals a process of another user, nor this one.
func killUID(uid int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		pids, err := uidProcesses(uid)
		if err != nil {
			return err
		}
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("lab: %d processes of uid %d still run after %v: %v", len(pids), uid, timeout, pids)
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// descendants lists the processes below pids (children, their children, ...), from
// the parent ids in /proc.
func descendants(pids []int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// "pid (comm) state ppid ...": comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(data, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(data[i+1:]))
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil {
			children[ppid] = append(children[ppid], pid)
		}
	}
	var out []int
	queue := slices.Clone(pids)
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, c := range children[pid] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// uidProcesses lists the live processes (not zombies, which only wait to be reaped)
// whose real or effective user id is uid.
func uidProcesses(uid int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	want := strconv.Itoa(uid)
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue // the process has exited
		}
		var ids []string
		zombie := false
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "Uid:"); ok {
				ids = strings.Fields(v) // real, effective, saved, filesystem
			} else if v, ok := strings.CutPrefix(line, "State:"); ok {
				zombie = strings.HasPrefix(strings.TrimSpace(v), "Z")
			}
		}
		if !zombie && len(ids) >= 2 && (ids[0] == want || ids[1] == want) {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}
