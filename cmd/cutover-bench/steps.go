//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/sshx"
	"github.com/cutover/cutover/runbooks"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/headless"
	"github.com/cutover/cutover/steps/runner"
)

// The log gate and the copy run as real runbook steps, through the same runner and
// engine as `cutover run --headless`; an observer notes when each event arrives.

const logGateRunbook = `id: bench/log-gate
title: Log gate on a large log
system: cutover-bench
source: cutover-bench
roles:
  - id: app
    title: The host with the log
steps:
  - id: restart
    title: A start appends its line; the gate reads what the step wrote
    action:
      run: {role: app, command: "printf '%s INFO  [main] Startup complete\\n' \"$(date '+%F %T')\" >> opt/maestro/hub/logs/APP-bench.LOG"}
    gates:
      - name: The start was clean
        newest_file:
          role: app
          path: hub/logs/APP-*.LOG
          newer_than: step_start
          contains: ['(?i)startup complete']
          not_contains: ['(?i)\berror\b', '(?i)table\b.*\b(crashed|corrupt)']
`

const copyRunbook = `id: bench/copy
title: Verified copy of a large folder
system: cutover-bench
source: cutover-bench
roles:
  - id: src
    title: Source
  - id: dst
    title: Target
steps:
  - id: copy
    title: Replace the target's folder with the source's, verified
    action:
      copy: {from: src, to: dst, mode: replace, paths: [bench-data]}
`

// observer notes the time each event arrives.
type observer struct {
	mu     sync.Mutex
	events []timedEvent
}

type timedEvent struct {
	at time.Time
	ev *steps.Event
}

func (o *observer) Event(ev *steps.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, timedEvent{time.Now(), ev})
}

func (o *observer) Progress(steps.Progress) {}

// between is the time from the first event of type a to the first of type b after it.
func (o *observer) between(a, b steps.EventType) (time.Duration, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var from time.Time
	for _, e := range o.events {
		if e.ev.Type == a && from.IsZero() {
			from = e.at
		} else if e.ev.Type == b && !from.IsZero() {
			return e.at.Sub(from), nil
		}
	}
	return 0, fmt.Errorf("no %s event after %s", b, a)
}

// runSteps runs a runbook headless against the OpenSSH inventory.
func (b *bench) runSteps(rbFile string, roles map[string]string) (*observer, error) {
	rb, err := runbooks.LoadFile(rbFile)
	if err != nil {
		return nil, err
	}
	inv, err := inventory.Load(b.ssh.Inventory())
	if err != nil {
		return nil, err
	}
	obs := &observer{}
	dir, err := os.MkdirTemp(b.o.dir, "journal-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	jpath := filepath.Join(dir, "journal.jsonl")
	cfg := &runner.Config{Inventory: inv, Dialer: &sshx.Dialer{NoAgent: true}, JournalPath: jpath, Observer: obs, Version: "bench"}
	ctx := context.Background()
	r, err := cfg.Start(ctx, rb, steps.Inputs{Roles: roles, Params: map[string]string{}}, "")
	if err != nil {
		return nil, err
	}
	defer r.Close()
	res := headless.Drive(ctx, r.Engine, &steps.Answerer{Answers: map[string]*steps.Answer{}, Via: "runfile"}, jpath)
	if res.Code != 0 {
		return obs, fmt.Errorf("runbook %s ended with code %d: %s", rb.ID, res.Code, res.Message)
	}
	return obs, nil
}

func (b *bench) chownLab(path string) error {
	u, err := user.Lookup(b.ssh.User())
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.Walk(path, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

func (b *bench) installDir(host string) string {
	return filepath.Join(b.lab.HostRoot(host), "opt", "maestro")
}

// logGate measures the gate on logs of growing size, and ssh + grep on the largest.
func (b *bench) logGate() error {
	rbFile := b.path("log-gate.yaml")
	if err := os.WriteFile(rbFile, []byte(logGateRunbook), 0o644); err != nil {
		return err
	}
	logPath := filepath.Join(b.installDir("h001"), "hub", "logs", "APP-bench.LOG")
	res := &logResult{log: b.o.logSize}
	for _, size := range []int64{1 << 20, 64 << 20, b.o.logSize} {
		if size > b.o.logSize || (size == b.o.logSize && len(res.sizes) > 0 && res.sizes[len(res.sizes)-1] == size) {
			continue
		}
		logf("log gate on a %s log", human(size))
		if err := writeRandom(logPath, size, logLine); err != nil {
			return err
		}
		if err := b.chownLab(logPath); err != nil {
			return err
		}
		var gate []time.Duration
		for i := -1; i < b.o.runs; i++ {
			obs, err := b.runSteps(rbFile, map[string]string{"app": "h001"})
			if err != nil {
				return err
			}
			d, err := obs.between(steps.EvActionResult, steps.EvCheck)
			if err != nil {
				return err
			}
			if i >= 0 {
				gate = append(gate, d)
				logf("  run %d gate %v", i+1, d.Round(time.Microsecond))
			}
		}
		res.sizes = append(res.sizes, size)
		res.gate = append(res.gate, gate)
	}
	// ssh + grep reads the whole log on the host.
	grep := tool{name: "ssh + grep", cmd: `ssh -F ssh_config h001 "grep -Eic 'startup complete' opt/maestro/hub/logs/APP-bench.LOG"`,
		run: func(int) (sample, error) {
			return timed(nil, "ssh", "-F", b.ssh.SSHConfig(), "h001", "grep -Eic 'startup complete' opt/maestro/hub/logs/APP-bench.LOG")
		}}
	var greps []sample
	for i := -1; i < b.o.runs; i++ {
		s, err := grep.run(i)
		if err != nil {
			return err
		}
		if i >= 0 {
			greps = append(greps, s)
			logf("  run %d ssh+grep %v", i+1, s.wall.Round(time.Millisecond))
		}
	}
	res.grep, res.grepCmd = greps, grep.cmd
	b.report.log = res
	return os.Remove(logPath)
}

func logLine(w io.Writer, r *rand.Rand) {
	fmt.Fprintf(w, "2026-11-22 03:%02d:%02d,%03d INFO  [worker-%d] delivered message %016x to list-%d (%d recipients)\n",
		r.IntN(60), r.IntN(60), r.IntN(1000), r.IntN(32), r.Uint64(), r.IntN(500), r.IntN(100000))
}

// The target-side hash commands the copy action uses, in the order it tries them.
const (
	hashOpenSSL   = "openssl dgst -sha256 -r part-*"
	hashSha256sum = "sha256sum part-*"
)

// copyFolder measures the verified copy action against scp -3 -r.
func (b *bench) copyFolder() error {
	rbFile := b.path("copy.yaml")
	if err := os.WriteFile(rbFile, []byte(copyRunbook), 0o644); err != nil {
		return err
	}
	src := filepath.Join(b.installDir("h001"), "bench-data")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return err
	}
	const files = 16
	logf("writing a %s folder of %d files", human(b.o.copySize), files)
	for i := range files {
		p := filepath.Join(src, fmt.Sprintf("part-%02d.bin", i))
		if err := writeRandom(p, b.o.copySize/files, func(w io.Writer, r *rand.Rand) {
			var buf [4096]byte
			for j := 0; j < len(buf); j += 8 {
				v := r.Uint64()
				for k := range 8 {
					buf[j+k] = byte(v >> (8 * k))
				}
			}
			_, _ = w.Write(buf[:])
		}); err != nil {
			return err
		}
	}
	if err := b.chownLab(src); err != nil {
		return err
	}
	dstRoot := b.installDir("h002")
	scpDst := "opt/maestro/scp-data"
	tools := []tool{
		{name: "cutover copy", cmd: "cutover run (copy action: from h001 to h002, mode replace, paths [bench-data])",
			run: func(int) (sample, error) {
				_ = os.RemoveAll(filepath.Join(dstRoot, "bench-data"))
				obs, err := b.runSteps(rbFile, map[string]string{"src": "h001", "dst": "h002"})
				if err != nil {
					return sample{}, err
				}
				d, err := obs.between(steps.EvActionStart, steps.EvActionResult)
				return sample{wall: d}, err
			}},
		{name: "scp -3 -r", cmd: "scp -3 -r -F ssh_config h001:opt/maestro/bench-data h002:" + scpDst,
			run: func(int) (sample, error) {
				_ = os.RemoveAll(filepath.Join(b.lab.HostRoot("h002"), scpDst))
				return timed(nil, "scp", "-3", "-r", "-q", "-F", b.ssh.SSHConfig(), "h001:opt/maestro/bench-data", "h002:"+scpDst)
			}},
	}
	logf("verified copy of %s: cutover against scp -3 -r", human(b.o.copySize))
	res, err := b.sideBySide(tools)
	if err != nil {
		return err
	}
	// What hashing the copy on the target costs by itself, with each command the copy
	// action may use: it overlaps that with the next file's transfer.
	hashes := map[string][]sample{}
	for _, cmd := range []string{hashOpenSSL, hashSha256sum} {
		for range 3 {
			s, err := timed(nil, "ssh", "-F", b.ssh.SSHConfig(), "h002", "cd opt/maestro/bench-data && "+cmd)
			if err != nil {
				return err
			}
			if n := strings.Count(string(s.out), "part-"); n != files {
				return fmt.Errorf("%s on the target listed %d files, want %d", cmd, n, files)
			}
			hashes[cmd] = append(hashes[cmd], s)
		}
	}
	b.report.copy = &copyResult{size: b.o.copySize, files: files, tools: tools, res: res, hashes: hashes}
	_ = os.RemoveAll(filepath.Join(b.lab.HostRoot("h002"), scpDst))
	_ = os.RemoveAll(filepath.Join(dstRoot, "bench-data"))
	return os.RemoveAll(src)
}

func human(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}
