package lock_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/local"
	"github.com/cutover/cutover/steps/lock"
)

// hosts are folders of a temporary directory reached through the local transport.
func hosts(t *testing.T, names ...string) ([]*probe.Host, *probe.Pool) {
	t.Helper()
	root := t.TempDir()
	var out []*probe.Host
	for _, n := range names {
		dir := filepath.Join(root, n)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		out = append(out, &probe.Host{Name: n, Local: true, InstallDir: dir})
	}
	pool := probe.NewPool(local.Dialer())
	t.Cleanup(func() { pool.Close() })
	return out, pool
}

func owner(run string) lock.Owner {
	return lock.Owner{Operator: "alice@desk", Machine: "desk", Runbook: "maestro/move-hub", RunID: run, Journal: "/j/" + run + ".jsonl"}
}

func read(t *testing.T, h *probe.Host) *lock.Owner {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(h.InstallDir, lock.FileName))
	if err != nil {
		t.Fatal(err)
	}
	o := &lock.Owner{}
	if err := json.Unmarshal(b, o); err != nil {
		t.Fatal(err)
	}
	return o
}

func write(t *testing.T, h *probe.Host, o *lock.Owner) {
	t.Helper()
	b, _ := json.Marshal(o)
	if err := os.WriteFile(filepath.Join(h.InstallDir, lock.FileName), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func exists(h *probe.Host) bool {
	_, err := os.Stat(filepath.Join(h.InstallDir, lock.FileName))
	return err == nil
}

func TestAcquireReleaseAndConflicts(t *testing.T) {
	ctx := context.Background()
	hs, pool := hosts(t, "a", "b", "c")
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	first, err := lock.Acquire(ctx, pool, hs[:2], owner("run-1"), lock.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	o := read(t, hs[0])
	if o.RunID != "run-1" || o.PID != os.Getpid() || !o.Since.Equal(now) || strings.Join(o.Hosts, ",") != "a,b" || o.Journal != "/j/run-1.jsonl" {
		t.Errorf("lock content: %+v", o)
	}

	// A second run on an overlapping set is refused, names every conflict, and keeps
	// nothing it took on the way (c).
	_, err = lock.Acquire(ctx, pool, hs[1:], owner("run-2"), lock.Options{})
	var held *lock.HeldError
	if !errors.As(err, &held) || len(held.Conflicts) != 1 || held.Conflicts[0].Host != "b" || held.Conflicts[0].Alive != lock.Alive {
		t.Fatalf("overlapping run: %v", err)
	}
	if exists(hs[2]) {
		t.Error("a refused run left a lock on c")
	}
	for _, s := range []string{"b is locked by another cutover run", "alice@desk", "runbook maestro/move-hub", "run run-1", "/j/run-1.jsonl", "2026-11-22 03:00:00 UTC", "never breaks"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("refusal lacks %q: %v", s, err)
		}
	}
	// Breaking a live run's lock is refused even with a reason.
	_, err = lock.Acquire(ctx, pool, hs[1:], owner("run-2"), lock.Options{Break: "because"})
	if !errors.As(err, &held) || !held.Refused {
		t.Errorf("breaking a live lock: %v", err)
	}

	// Release removes only this run's locks.
	if err := first.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if exists(hs[0]) || exists(hs[1]) {
		t.Error("locks left after Release")
	}
}

func TestGoneOwnerAndOtherMachine(t *testing.T) {
	ctx := context.Background()
	hs, pool := hosts(t, "a", "b")
	dead := func(int) bool { return false }
	o := owner("run-1")
	o.Machine, o.PID, o.Since = "desk", 999999, time.Now()
	write(t, hs[0], &o)
	far := owner("run-0")
	far.Machine, far.PID = "laptop", 42
	write(t, hs[1], &far)

	_, err := lock.Acquire(ctx, pool, hs, owner("run-2"), lock.Options{Alive: dead})
	var held *lock.HeldError
	if !errors.As(err, &held) || len(held.Conflicts) != 2 {
		t.Fatalf("%v", err)
	}
	msg := err.Error()
	for _, s := range []string{"no process 999999 on this machine", "--break-lock", "runs on laptop", "cannot tell"} {
		if !strings.Contains(msg, s) {
			t.Errorf("refusal lacks %q: %s", s, msg)
		}
	}
	set, err := lock.Acquire(ctx, pool, hs, owner("run-2"), lock.Options{Alive: dead, Break: "owner left at 02:00"})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Broken) != 2 || !strings.Contains(set.Broken[0].Note(), "owner left at 02:00") || !strings.Contains(set.Broken[0].Note(), "run run-1") {
		t.Errorf("broken: %+v", set.Broken)
	}
	if read(t, hs[0]).RunID != "run-2" || read(t, hs[1]).RunID != "run-2" {
		t.Error("the broken locks were not taken")
	}
}

func TestResumeTakesOver(t *testing.T) {
	ctx := context.Background()
	hs, pool := hosts(t, "a")
	// The same run, its process gone: taken over.
	o := owner("run-1")
	o.PID = 999999
	write(t, hs[0], &o)
	set, err := lock.Acquire(ctx, pool, hs, owner("run-1"), lock.Options{Alive: func(int) bool { return false }})
	if err != nil || len(set.TookOver) != 1 || read(t, hs[0]).PID != os.Getpid() {
		t.Fatalf("take over: %v %+v", err, set)
	}
	if !strings.Contains(set.Note(), "took over the locks of a") {
		t.Errorf("note %q", set.Note())
	}
	// The same run held by a live process (a second resume right now): refused.
	o.PID = 999998
	write(t, hs[0], &o)
	_, err = lock.Acquire(ctx, pool, hs, owner("run-1"), lock.Options{Alive: func(int) bool { return true }})
	if err == nil || !strings.Contains(err.Error(), "this same run, held by another process") {
		t.Errorf("a second live resume: %v", err)
	}
	// An unreadable lock: owner unknown, refused, breakable with a reason.
	os.WriteFile(filepath.Join(hs[0].InstallDir, lock.FileName), []byte("{garbage"), 0o644)
	if _, err := lock.Acquire(ctx, pool, hs, owner("run-3"), lock.Options{}); err == nil || !strings.Contains(err.Error(), "cannot read") {
		t.Errorf("unreadable lock: %v", err)
	}
	if _, err := lock.Acquire(ctx, pool, hs, owner("run-3"), lock.Options{Break: "it is junk"}); err != nil {
		t.Errorf("breaking an unreadable lock: %v", err)
	}
}

// TestRace: of many runs locking the same host at once exactly one wins.
func TestRace(t *testing.T) {
	hs, pool := hosts(t, "a")
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 16 {
		wg.Go(func() {
			_, err := lock.Acquire(context.Background(), pool, hs, owner("run-"+string(rune('a'+i))), lock.Options{})
			if err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Errorf("%d runs got the lock, want 1", won)
	}
}

func TestPaths(t *testing.T) {
	h := &probe.Host{Name: "x", InstallDir: "/opt/maestro"}
	if got := lock.Paths(h); strings.Join(got, " ") != "/opt/maestro/.cutover.lock .cutover.lock" {
		t.Errorf("paths %v", got)
	}
	h.Vars = map[string]string{lock.HostVar: "/var/lock/maestro.cutover"}
	if got := lock.Paths(h); strings.Join(got, " ") != "/var/lock/maestro.cutover" {
		t.Errorf("paths with the variable: %v", got)
	}
	// A host whose install folder does not exist yet is locked in the home folder.
	hs, pool := hosts(t, "fresh")
	home := t.TempDir()
	t.Setenv("HOME", home)
	hs[0].InstallDir = filepath.Join(hs[0].InstallDir, "not-yet")
	set, err := lock.Acquire(context.Background(), pool, hs, owner("run-1"), lock.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(home, lock.FileName)); err != nil {
		t.Errorf("no lock in the home folder: %v", err)
	}
	set.Release(context.Background())
}

// noExcl is a transport without exclusive create: locks are refused, not taken unsafely.
type noExcl struct{ probe.Transport }

func TestTransportWithoutExclusiveCreate(t *testing.T) {
	hs, _ := hosts(t, "a")
	pool := probe.NewPool(probe.DialerFunc(func(context.Context, *probe.Host) (probe.Transport, error) {
		return noExcl{&local.Transport{}}, nil
	}))
	defer pool.Close()
	_, err := lock.Acquire(context.Background(), pool, hs, owner("r"), lock.Options{})
	if err == nil || !strings.Contains(err.Error(), "exclusively") {
		t.Errorf("err = %v", err)
	}
}

// TestTwoNamesOneMachine: two inventory names for one machine and folder share the lock
// file; the run locks it once and is not refused by itself.
func TestTwoNamesOneMachine(t *testing.T) {
	hs, pool := hosts(t, "a")
	alias := &probe.Host{Name: "a-alias", Local: true, InstallDir: hs[0].InstallDir}
	set, err := lock.Acquire(context.Background(), pool, append(hs, alias), owner("r"), lock.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Release(context.Background()); err != nil || exists(hs[0]) {
		t.Errorf("release: %v, left: %v", err, exists(hs[0]))
	}
}

// TestZombieOwnerIsGone: a process that exited and was not collected by its parent
// answers signal 0, but holds nothing any more: its lock counts as its owner's gone.
func TestZombieOwnerIsGone(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	// Not waited for yet: a zombie once it has exited.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid))
		if strings.Contains(string(b), ") Z") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the child did not become a zombie")
		}
	}
	hs, pool := hosts(t, "a")
	o := owner("run-1")
	o.PID, o.Machine = cmd.Process.Pid, mustHostname(t)
	write(t, hs[0], &o)
	me := owner("run-1")
	me.Machine = o.Machine
	set, err := lock.Acquire(context.Background(), pool, hs, me, lock.Options{})
	if err != nil || len(set.TookOver) != 1 {
		t.Fatalf("the lock of a zombie should be taken over by the same run: %v", err)
	}
}

func mustHostname(t *testing.T) string {
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestBreakRace: of many operators breaking one stale lock at once, exactly one ends up
// holding the host. (Removing the judged lock and then creating would let a second
// breaker remove the first one's fresh lock and both runs go ahead.)
func TestBreakRace(t *testing.T) {
	for round := range 20 {
		hs, pool := hosts(t, "a")
		stale := owner("run-stale")
		stale.Machine, stale.PID = "elsewhere", 4242
		write(t, hs[0], &stale)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var won []string
		for i := range 8 {
			wg.Go(func() {
				run := fmt.Sprintf("run-%d", i)
				if _, err := lock.Acquire(context.Background(), pool, hs, owner(run), lock.Options{Break: "stale since yesterday"}); err == nil {
					mu.Lock()
					won = append(won, run)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(won) != 1 {
			t.Fatalf("round %d: %d runs broke the stale lock and went ahead (%v), want 1", round, len(won), won)
		}
		if got := read(t, hs[0]).RunID; got != won[0] {
			t.Fatalf("round %d: the lock belongs to %s, but %s went ahead", round, got, won[0])
		}
		if left, _ := filepath.Glob(filepath.Join(hs[0].InstallDir, lock.FileName+".*")); len(left) != 0 {
			t.Errorf("round %d: set-aside locks left behind: %v", round, left)
		}
	}
}

// TestReleaseLeavesAResumersLock: a run's process releases only a lock it holds itself;
// once a resume of the same run elsewhere has taken the lock over, the first process
// ending must not unlock the host under it.
func TestReleaseLeavesAResumersLock(t *testing.T) {
	ctx := context.Background()
	hs, pool := hosts(t, "a")
	set, err := lock.Acquire(ctx, pool, hs, owner("run-1"), lock.Options{})
	if err != nil {
		t.Fatal(err)
	}
	resumer := owner("run-1")
	resumer.Machine, resumer.PID = "jumphost", 777
	write(t, hs[0], &resumer)
	if err := set.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if !exists(hs[0]) || read(t, hs[0]).Machine != "jumphost" {
		t.Error("releasing removed the lock a resume on another machine holds")
	}
}

// TestSameNameOtherMachine: a lock written on another machine that happens to have the
// same host name is not judged by a pid lookup here: its owner cannot be known, so it
// is refused, and a resume of the same run does not take it over silently.
func TestSameNameOtherMachine(t *testing.T) {
	ctx := context.Background()
	hs, pool := hosts(t, "a")
	other := owner("run-1")
	other.MachineID, other.PID = "0123456789abcdef0123456789abcdef", 999999
	write(t, hs[0], &other)
	me := owner("run-1")
	me.MachineID = "fedcba9876543210fedcba9876543210"
	_, err := lock.Acquire(ctx, pool, hs, me, lock.Options{Alive: func(int) bool { return false }})
	if err == nil || !strings.Contains(err.Error(), "cannot tell from here") {
		t.Fatalf("a lock from a same-named machine: %v, want a refusal that cannot tell", err)
	}
	// The same machine (same id): its gone process's lock is taken over.
	me.MachineID = other.MachineID
	if _, err := lock.Acquire(ctx, pool, hs, me, lock.Options{Alive: func(int) bool { return false }}); err != nil {
		t.Fatalf("the same machine: %v", err)
	}
}

// TestPlantedLockLink: a symbolic link planted at the lock's name (to a file the run
// must never write) is neither followed nor overwritten: the exclusive create fails on
// it, and the run is refused with a message naming the link, even with --break-lock.
// The mutex name of a lock being broken is created exclusively too.
func TestPlantedLockLink(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{lock.FileName, lock.FileName + ".breaking"} {
		hs, pool := hosts(t, "a")
		canary := filepath.Join(t.TempDir(), "canary")
		if err := os.WriteFile(canary, []byte("canary\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if name != lock.FileName {
			// A stale lock to break, so that the mutex is needed.
			write(t, hs[0], &lock.Owner{Operator: "bob@gone", Machine: "elsewhere", PID: 1, RunID: "old", Runbook: "x"})
		}
		if err := os.Symlink(canary, filepath.Join(hs[0].InstallDir, name)); err != nil {
			t.Fatal(err)
		}
		_, err := lock.Acquire(ctx, pool, hs, owner("run-1"), lock.Options{Break: "the old run is gone"})
		want := name + " is a symbolic link (to " + canary + ")"
		if name != lock.FileName {
			want = "another cutover run is replacing this lock right now (" + filepath.Join(hs[0].InstallDir, name) + " exists"
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s planted: %v; want %q", name, err, want)
		}
		if b, _ := os.ReadFile(canary); string(b) != "canary\n" {
			t.Errorf("%s planted: the lock was written through the link: %q", name, b)
		}
	}
}

// TestOversizedLockIsRefused: a lock file larger than any cutover writes is not read
// whole; the refusal names the file and the limit.
func TestOversizedLockIsRefused(t *testing.T) {
	hs, pool := hosts(t, "a")
	p := filepath.Join(hs[0].InstallDir, lock.FileName)
	if err := os.WriteFile(p, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := lock.Acquire(context.Background(), pool, hs, owner("run-1"), lock.Options{})
	if err == nil || !strings.Contains(err.Error(), p+" is 1048576 bytes, larger than 64 KiB") {
		t.Errorf("an oversized lock: %v", err)
	}
}
