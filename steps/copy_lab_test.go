package steps_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/probe/lab/labtest"
	"github.com/cutover/cutover/probe/sshx"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/headless"
	"github.com/cutover/cutover/steps/runner"
)

// The outage-window copy end to end in the practice lab: a pre-seed while the service
// runs, changes meanwhile, the copy inside the window, over real SSH between lab hosts.

const appctl = `#!/bin/sh
# Simulated service control: the service "runs" while var/app.running exists.
case "$1" in
start) mkdir -p "$LAB_ROOT/var" && : > "$LAB_ROOT/var/app.running" ;;
stop) rm -f "$LAB_ROOT/var/app.running" ;;
status) [ -e "$LAB_ROOT/var/app.running" ] && exit 0; exit 3 ;;
esac
`

func copyScenario() *lab.Scenario {
	svc := map[string]probe.Service{"app": {Start: "appctl start", Stop: "appctl stop", Status: "appctl status"}}
	files := []lab.File{{Path: "bin/appctl", Content: appctl, Mode: 0o755}, {Path: "var/app.running", Content: ""}}
	return &lab.Scenario{
		Name:  "copy",
		Title: "two hosts and a data folder",
		Hosts: []lab.HostSpec{
			{Name: "old", InstallDir: "opt/app", Services: svc, Files: append(files, lab.File{Path: "opt/app/app.ini", Content: "[app]\n"})},
			{Name: "new", InstallDir: "opt/app", Services: svc, Files: []lab.File{{Path: "bin/appctl", Content: appctl, Mode: 0o755}}},
		},
	}
}

const copyLabRunbook = `id: test/window
title: Move the data folder with a pre-seed
system: Test
source: the tests
roles:
  - {id: old, title: the old server}
  - {id: new, title: the new server}
steps:
  - id: preseed
    title: Copy the data ahead of the outage
    action:
      preseed: {copy: transfer}
  - id: stop
    title: Stop the service
    action:
      service: {roles: [old], name: app, do: stop}
    gates:
      - service: {roles: [old], name: app, state: stopped}
  - id: transfer
    title: Copy what changed
    action:
      copy: {from: old, to: new, preseed: true%s, paths: [data]}
  - id: start
    title: Start the service on the new server
    action:
      service: {roles: [new], name: app, do: start}
    gates:
      - service: {roles: [new], name: app, state: running}
`

type copyLab struct {
	lab   *lab.Lab
	rb    *steps.Runbook
	cfg   *runner.Config
	roles map[string]string
}

func startCopyLab(t *testing.T, direct bool) *copyLab {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end lab copy")
	}
	l := labtest.Serve(t, copyScenario(), lab.Options{})
	inv, err := inventory.Load(l.Inventory())
	if err != nil {
		t.Fatal(err)
	}
	extra := ""
	if !direct {
		extra = ", direct: false"
	}
	rb, err := steps.Parse("window.yaml", []byte(fmt.Sprintf(copyLabRunbook, extra)))
	if err != nil {
		t.Fatal(err)
	}
	m := &copyLab{lab: l, rb: rb, roles: map[string]string{"old": "old", "new": "new"}}
	m.cfg = &runner.Config{Inventory: inv, Dialer: &sshx.Dialer{NoAgent: true}, JournalDir: t.TempDir()}
	// 60 files in nested folders, a few of them larger.
	for i := range 60 {
		size := 1000 + i*37
		if i%20 == 0 {
			size = 3 << 20
		}
		m.writeOld(t, fmt.Sprintf("data/d%d/f%02d.bin", i%4, i), pattern(i, size))
	}
	return m
}

func pattern(seed, size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(seed*31 + i*7 + i/251)
	}
	return b
}

func (m *copyLab) path(host, rel string) string {
	return filepath.Join(m.lab.HostRoot(host), "opt", "app", filepath.FromSlash(rel))
}

func (m *copyLab) writeOld(t *testing.T, rel string, data []byte) {
	t.Helper()
	p := m.path("old", rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// tree hashes every file under a host's data folder; names with .cutover- in them are
// listed too, so a staging copy left behind shows.
func (m *copyLab) tree(t *testing.T, host string) string {
	t.Helper()
	root := m.path(host, "data")
	var lines []string
	err := filepath.WalkDir(filepath.Dir(root), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(filepath.Dir(root), p)
		if !strings.HasPrefix(rel, "data") || d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := sha256.Sum256(b)
		lines = append(lines, rel+" "+hex.EncodeToString(s[:8]))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// drive runs a new run until stop says so (or to its end) and returns the journal.
func (m *copyLab) drive(t *testing.T, stop func(*steps.Engine) bool) (string, *steps.Engine) {
	t.Helper()
	ctx := context.Background()
	run, err := m.cfg.Start(ctx, m.rb, steps.Inputs{Roles: m.roles}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	a := &steps.Answerer{Via: "test"}
	for !run.Engine.Finished() && (stop == nil || !stop(run.Engine)) {
		if err := transition(ctx, run.Engine, a); err != nil {
			t.Fatalf("%v", err)
		}
	}
	return run.Journal.Path(), run.Engine
}

func (m *copyLab) resume(t *testing.T, path string, answers map[string]*steps.Answer) (headless.Result, *steps.Engine) {
	t.Helper()
	run, err := m.cfg.Resume(context.Background(), path, m.rb, runner.ResumeOptions{})
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	defer run.Close()
	res := headless.Drive(context.Background(), run.Engine, &steps.Answerer{Answers: answers, Via: "runfile"}, path)
	return res, run.Engine
}

func stepDone(id string) func(*steps.Engine) bool {
	return func(e *steps.Engine) bool {
		ss := e.State().Step(id)
		return ss != nil && ss.Status == steps.StepDone
	}
}

// change adds, changes, removes and renames files on the old host, one of them keeping
// its size and modification time.
func (m *copyLab) change(t *testing.T) {
	t.Helper()
	m.writeOld(t, "data/d9/added.bin", pattern(99, 5000))
	m.writeOld(t, "data/d1/f01.bin", pattern(100, 4000))
	if err := os.Remove(m.path("old", "data/d2/f02.bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(m.path("old", "data/d3/f03.bin"), m.path("old", "data/d3/renamed.bin")); err != nil {
		t.Fatal(err)
	}
	p := m.path("old", "data/d0/f04.bin")
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	same := pattern(4, int(fi.Size()))
	same[10] ^= 0xff
	if err := os.WriteFile(p, same, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
}

func actionChanges(e *steps.Engine, id string) string {
	ss := e.State().Step(id)
	if ss == nil || ss.Action == nil {
		return ""
	}
	return strings.Join(ss.Action.Changes, "\n")
}

// TestPreseedThenDeltaInLab: pre-seed, then files added, changed (one with the same size
// and time), removed and renamed, then the window's copy: the target is the source's
// exact copy, reached by sending only what changed; both with the data relayed through
// the operator's machine and sent host to host.
func TestPreseedThenDeltaInLab(t *testing.T) {
	for _, direct := range []bool{false, true} {
		t.Run(map[bool]string{false: "relayed", true: "direct"}[direct], func(t *testing.T) {
			m := startCopyLab(t, direct)
			path, e := m.drive(t, stepDone("preseed"))
			pre := actionChanges(e, "preseed")
			if !strings.Contains(pre, "60 sent") {
				t.Errorf("pre-seed record:\n%s", pre)
			}
			m.change(t)
			res, e := m.resume(t, path, nil)
			if res.Code != headless.ExitDone {
				t.Fatalf("resume: code %d: %s", res.Code, res.Message)
			}
			if src, dst := m.tree(t, "old"), m.tree(t, "new"); src != dst {
				t.Fatalf("the target is not the source's copy:\nsource:\n%s\ntarget:\n%s", src, dst)
			}
			win := actionChanges(e, "transfer")
			// added, changed, renamed and the same-size-and-time change: 4 sent.
			for _, want := range []string{"verified by SHA-256 on both hosts", "4 sent", "2 removed"} {
				if !strings.Contains(win, want) {
					t.Errorf("window copy record lacks %q:\n%s", want, win)
				}
			}
			how := "relayed through the operator's machine: the runbook says direct: false"
			if direct {
				how = "direct from old to new: one-copy key"
			}
			if !strings.Contains(win, how) || !strings.Contains(pre, how) {
				t.Errorf("records do not say %q:\npre-seed:\n%s\nwindow:\n%s", how, pre, win)
			}
			// Once done, the summaries say how the data went, not how it might.
			said := " through this machine (the runbook says direct: false for this copy)"
			if direct {
				said = " host to host from old to new with a one-copy key, removed after"
			}
			for _, id := range []string{"preseed", "transfer"} {
				sum := e.State().Step(id).Action.Summary
				if !strings.Contains(sum, said) || strings.Contains(sum, " when old reaches new") {
					t.Errorf("%s's summary does not say how the data went (%q):\n%s", id, said, sum)
				}
			}
			m.checkNoKeys(t)
		})
	}
}

// checkNoKeys demands that no one-copy key is left on either host.
func (m *copyLab) checkNoKeys(t *testing.T) {
	t.Helper()
	if b, err := os.ReadFile(filepath.Join(m.lab.HostRoot("new"), ".ssh", "authorized_keys")); err == nil && strings.Contains(string(b), "cutover-one-copy") {
		t.Errorf("a one-copy key is left in new's authorized_keys:\n%s", b)
	}
	entries, _ := os.ReadDir(m.lab.HostRoot("old"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".cutover-direct-") {
			t.Errorf("a one-copy key's private half is left on old: %s", e.Name())
		}
	}
}

// killable dials as its Dialer does until kill is called; then it closes every
// connection it made and refuses new ones, as a cutover process killed at that moment
// would stop doing anything on the hosts.
type killable struct {
	probe.Dialer
	mu   sync.Mutex
	made []probe.Transport
	dead bool
}

func (k *killable) Dial(ctx context.Context, h *probe.Host) (probe.Transport, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.dead {
		return nil, errors.New("simulated crash: cutover is not running")
	}
	t, err := k.Dialer.Dial(ctx, h)
	if err == nil {
		k.made = append(k.made, t)
	}
	return t, err
}

func (k *killable) kill() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.dead = true
	for _, t := range k.made {
		_ = t.Close()
	}
}

func (k *killable) killed() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.dead
}

// TestDirectCopyCrashResumes: cutover stops dead in the middle of a direct copy, with
// the one-copy key installed; the journal ends at the action's start. The resume finds
// the outcome unknown, runs the copy again, which first removes the key left behind,
// and the run ends with the target complete and no key anywhere.
func TestDirectCopyCrashResumes(t *testing.T) {
	m := startCopyLab(t, true)
	k := &killable{Dialer: m.cfg.Dialer}
	m.cfg.Dialer = k
	// Dead as soon as the one-copy key is in place on the target.
	authKeys := filepath.Join(m.lab.HostRoot("new"), ".ssh", "authorized_keys")
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
			if b, err := os.ReadFile(authKeys); err == nil && strings.Contains(string(b), "cutover-one-copy") {
				k.kill()
				return
			}
		}
	}()
	path, _ := m.drive(t, func(e *steps.Engine) bool {
		ss := e.State().Step("preseed")
		return k.killed() || ss != nil && ss.ActionDone
	})
	if !k.killed() {
		t.Fatal("the pre-seed ended before the one-copy key was seen")
	}
	truncateAfter(t, path, func(ev *steps.Event) bool { return ev.Type == steps.EvActionStart && ev.Step == "preseed" })
	if b, _ := os.ReadFile(authKeys); !strings.Contains(string(b), "cutover-one-copy") {
		t.Fatal("the crash left no key behind: the test did not interrupt the copy")
	}
	m.cfg.Dialer = &sshx.Dialer{NoAgent: true}
	res, e := m.resume(t, path, map[string]*steps.Answer{"preseed": {Unknown: "rerun"}})
	if res.Code != headless.ExitDone {
		t.Fatalf("resume: code %d: %s", res.Code, res.Message)
	}
	if src, dst := m.tree(t, "old"), m.tree(t, "new"); src != dst {
		t.Fatalf("the target is not the source's copy:\nsource:\n%s\ntarget:\n%s", src, dst)
	}
	if pre := actionChanges(e, "preseed"); !strings.Contains(pre, "left by an earlier attempt") {
		t.Errorf("the resumed pre-seed does not say it removed the key left behind:\n%s", pre)
	}
	m.checkNoKeys(t)
}
