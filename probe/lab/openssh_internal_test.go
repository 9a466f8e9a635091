//go:build linux

package lab

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Ids no account on a test machine uses, to hand files and processes to.
const (
	testUID   = 64917
	otherUID  = 64918
	testGroup = 64917
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: it changes owners and starts processes as other users")
	}
}

func owner(t *testing.T, path string) int {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid)
}

// TestChownTreeFollowsNoSwappedFolder: a process of the account that swaps a folder it
// has just been given for a symlink must not make root's chown follow it out of the
// tree. The hook plays that process: as soon as a folder is handed over it is replaced
// by a symlink to a folder outside. Contents go before their folder, so by then there
// is nothing left to do below it.
func TestChownTreeFollowsNoSwappedFolder(t *testing.T) {
	needRoot(t)
	base := t.TempDir()
	tree, outside := filepath.Join(base, "hosts"), filepath.Join(base, "outside")
	for _, d := range []string{filepath.Join(tree, "a", "b"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{filepath.Join(tree, "a", "b", "f"), filepath.Join(tree, "a", "victim"), filepath.Join(outside, "victim"), filepath.Join(outside, "b")} {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(outside, "victim"), filepath.Join(tree, "link")); err != nil {
		t.Fatal(err)
	}
	swapped := map[string]bool{}
	chownHook = func(p string) {
		fi, err := os.Lstat(p)
		if p == tree || swapped[p] || err != nil || !fi.IsDir() {
			return
		}
		swapped[p] = true
		if err := os.Rename(p, p+".moved"); err != nil {
			t.Error(err)
		}
		if err := os.Symlink(outside, p); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() { chownHook = nil })
	if err := chownTree(tree, testUID, testGroup); err != nil {
		t.Fatal(err)
	}
	if len(swapped) == 0 {
		t.Fatal("the hook swapped no folder")
	}
	for _, p := range []string{outside, filepath.Join(outside, "victim"), filepath.Join(outside, "b")} {
		if got := owner(t, p); got != 0 {
			t.Errorf("%s outside the tree now belongs to uid %d", p, got)
		}
	}
	for _, p := range []string{tree, filepath.Join(tree, "link"), filepath.Join(tree, "a.moved"), filepath.Join(tree, "a.moved", "victim"),
		filepath.Join(tree, "a.moved", "b.moved"), filepath.Join(tree, "a.moved", "b.moved", "f")} {
		if got := owner(t, p); got != testUID {
			t.Errorf("%s belongs to uid %d, want %d", p, got, testUID)
		}
	}
}

// TestKillUIDOnlyThatUser: the sweep ends every process of the uid, detached ones too,
// and no process of another user.
func TestKillUIDOnlyThatUser(t *testing.T) {
	needRoot(t)
	start := func(uid uint32) *exec.Cmd {
		cmd := exec.Command("sleep", "300")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: &syscall.Credential{Uid: uid, Gid: uid}}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
	mine, other := start(testUID), start(otherUID)
	exited := make(chan error, 1)
	go func() { exited <- mine.Wait() }()
	if err := killUID(testUID, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatal("the process of the uid still runs")
	}
	if err := other.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("the other user's process was signalled: %v", err)
	}
	if pids, err := uidProcesses(otherUID); err != nil || len(pids) != 1 || pids[0] != other.Process.Pid {
		t.Errorf("uidProcesses(other) = %v, %v; want [%d]", pids, err, other.Process.Pid)
	}
}
