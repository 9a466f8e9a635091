//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/probe/sshx"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/headless"
	"github.com/cutover/cutover/steps/runner"
)

// The outage window, measured in the practice lab with its own SSH server: the lab's
// hosts must accept a one-copy key from each other (their authorized_keys) and the
// operator's link must be slowed while the hosts' links are not (SetOperatorLink), which
// the lab's sshd instances here do not do. rsync, the anchor, runs between the same two
// lab hosts over the same server.

// outageAppctl is the simulated service: it "runs" while var/app.running exists.
const outageAppctl = `#!/bin/sh
case "$1" in
start) mkdir -p "$LAB_ROOT/var" && : > "$LAB_ROOT/var/app.running" ;;
stop) rm -f "$LAB_ROOT/var/app.running" ;;
status) [ -e "$LAB_ROOT/var/app.running" ] && exit 0; exit 3 ;;
esac
`

// outageRunbook moves opt/app/data from old to new inside a stop and a start. The first
// %s is the pre-seed step (or nothing), the others the copy's extra fields.
const outageRunbook = `id: bench/outage
title: Move a data folder inside an outage window
system: cutover-bench
source: cutover-bench
roles:
  - {id: old, title: the old server}
  - {id: new, title: the new server}
steps:
%s  - id: stop
    title: Stop the service
    action:
      service: {roles: [old], name: app, do: stop}
    gates:
      - service: {roles: [old], name: app, state: stopped}
  - id: transfer
    title: Copy the data
    action:
      copy: {from: old, to: new%s, paths: [data]}
  - id: start
    title: Start the service on the new server
    action:
      service: {roles: [new], name: app, do: start}
    gates:
      - service: {roles: [new], name: app, state: running}
`

const outagePreseedStep = `  - id: preseed
    title: Copy the data ahead of the outage
    action:
      preseed: {copy: transfer}
`

// outageResult holds the outage measurements, one entry per run.
type outageResult struct {
	size, changed int64
	files, nchg   int
	// windows by variant: from the stop action's start to the start step's end.
	windows map[string][]time.Duration
	// copies by variant: the transfer step's action alone.
	copies   map[string][]time.Duration
	preseed  []time.Duration // the pre-seed step, outside the window
	rsync    []time.Duration
	rsyncCmd string
	// the slow link: the same copy relayed and direct.
	linkSize  int64
	linkFiles int
	linkMbit  int
	link      map[string][]time.Duration
}

// Variants of the window measurement.
const (
	varFull    = "without pre-seed (relayed)"
	varPreseed = "with pre-seed (relayed)"
	varDirect  = "with pre-seed (direct)"
)

type outageLab struct {
	b   *bench
	lab *lab.Lab
	inv *inventory.Inventory
}

func (b *bench) outage() error {
	dir := b.path("outage-lab")
	svc := map[string]probe.Service{"app": {Start: "appctl start", Stop: "appctl stop", Status: "appctl status"}}
	files := []lab.File{{Path: "bin/appctl", Content: outageAppctl, Mode: 0o755}}
	sc := &lab.Scenario{Name: "outage", Title: "two hosts and a data folder", Hosts: []lab.HostSpec{
		{Name: "old", InstallDir: "opt/app", Services: svc, Files: files},
		{Name: "new", InstallDir: "opt/app", Services: svc, Files: files},
	}}
	l, err := lab.Setup(dir, sc, lab.Options{Reset: true})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = l.Serve(ctx) }()
	defer l.Close()
	inv, err := inventory.Load(l.Inventory())
	if err != nil {
		return err
	}
	o := &outageLab{b: b, lab: l, inv: inv}
	res := &outageResult{windows: map[string][]time.Duration{}, copies: map[string][]time.Duration{}, link: map[string][]time.Duration{}}
	b.report.outage = res
	if err := o.window(res); err != nil {
		return err
	}
	return o.slowLink(res)
}

func (o *outageLab) data(host string) string {
	return filepath.Join(o.lab.HostRoot(host), "opt", "app", "data")
}

// fill writes n files of incompressible data, size bytes in all, in 20 folders.
func fill(dir string, n int, size int64, seed uint64) error {
	r := rand.New(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}))
	each := size / int64(n)
	buf := make([]byte, 1<<20)
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("d%02d", i%20), fmt.Sprintf("f%05d.bin", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		for left := each; left > 0; {
			k := min(left, int64(len(buf)))
			for j := 0; j < int(k); j += 8 {
				v := r.Uint64()
				for x := 0; x < 8 && j+x < int(k); x++ {
					buf[j+x] = byte(v >> (8 * x))
				}
			}
			if _, err := f.Write(buf[:k]); err != nil {
				f.Close()
				return err
			}
			left -= k
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// change rewrites every hundredth file with new content of the same size and gives it a
// new modification time, as a live service's writes would.
func change(dir string, n int, size int64, seed uint64) (int, int64, error) {
	r := rand.New(rand.NewPCG(seed, 7))
	each := size / int64(n)
	changed, bytes := 0, int64(0)
	for i := 0; i < n; i += 100 {
		p := filepath.Join(dir, fmt.Sprintf("d%02d", i%20), fmt.Sprintf("f%05d.bin", i))
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			return 0, 0, err
		}
		b := make([]byte, each)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		_, err = f.Write(b)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return 0, 0, err
		}
		t := time.Now().Add(time.Duration(i) * time.Millisecond)
		if err := os.Chtimes(p, t, t); err != nil {
			return 0, 0, err
		}
		changed++
		bytes += each
	}
	return changed, bytes, nil
}

// reset empties the new host's install folder and starts the service on the old one.
func (o *outageLab) reset() error {
	app := filepath.Join(o.lab.HostRoot("new"), "opt", "app")
	entries, _ := os.ReadDir(app)
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(app, e.Name())); err != nil {
			return err
		}
	}
	for _, h := range []string{"old", "new"} {
		_ = os.Remove(filepath.Join(o.lab.HostRoot(h), "var", "app.running"))
	}
	return os.WriteFile(filepath.Join(o.lab.HostRoot("old"), "var", "app.running"), nil, 0o644)
}

// run runs the outage runbook; between runs after the pre-seed step (when there is one).
func (o *outageLab) run(preseed bool, copyExtra string, between func() error) (*observer, error) {
	step := ""
	if preseed {
		step = outagePreseedStep
		copyExtra = ", preseed: true" + copyExtra
	}
	rb, err := steps.Parse("outage.yaml", []byte(fmt.Sprintf(outageRunbook, step, copyExtra)))
	if err != nil {
		return nil, err
	}
	obs := &observer{}
	jdir, err := os.MkdirTemp(o.b.o.dir, "journal-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(jdir)
	jpath := filepath.Join(jdir, "journal.jsonl")
	cfg := &runner.Config{Inventory: o.inv, Dialer: &sshx.Dialer{NoAgent: true}, JournalPath: jpath, Observer: obs, Version: "bench"}
	ctx := context.Background()
	r, err := cfg.Start(ctx, rb, steps.Inputs{Roles: map[string]string{"old": "old", "new": "new"}}, "")
	if err != nil {
		return nil, err
	}
	defer r.Close()
	a := &steps.Answerer{Via: "runfile"}
	if preseed {
		for !r.Engine.Finished() {
			if ss := r.Engine.State().Step("preseed"); ss != nil && ss.Status == steps.StepDone {
				break
			}
			var err error
			if p := r.Engine.Prompt(); p != nil {
				d, ok := a.Decide(p)
				if !ok {
					return obs, fmt.Errorf("pre-seed: nobody answers the prompt %s at %s", p.Kind, p.Step)
				}
				err = r.Engine.Decide(d)
			} else {
				err = r.Engine.Advance(ctx)
			}
			if err != nil {
				return obs, fmt.Errorf("pre-seed: %w", err)
			}
		}
		if between != nil {
			if err := between(); err != nil {
				return obs, err
			}
		}
	}
	res := headless.Drive(ctx, r.Engine, a, jpath)
	if res.Code != 0 {
		return obs, fmt.Errorf("the outage runbook ended with code %d: %s", res.Code, res.Message)
	}
	return obs, nil
}

// span is the time from the first event matching a to the last matching b.
func (o *observer) span(a, b func(*steps.Event) bool) (time.Duration, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var from, to time.Time
	for _, e := range o.events {
		if from.IsZero() && a(e.ev) {
			from = e.at
		}
		if !from.IsZero() && b(e.ev) {
			to = e.at
		}
	}
	if from.IsZero() || to.IsZero() {
		return 0, fmt.Errorf("events missing from the run")
	}
	return to.Sub(from), nil
}

func isEv(t steps.EventType, step string) func(*steps.Event) bool {
	return func(ev *steps.Event) bool { return ev.Type == t && ev.Step == step }
}

// window measures the outage with and without a pre-seed, and rsync's delta.
func (o *outageLab) window(res *outageResult) error {
	b := o.b
	res.size, res.files = b.o.outageSize, b.o.outageFiles
	src := o.data("old")
	logf("outage: writing %s in %d files on the old host", human(res.size), res.files)
	if err := fill(src, res.files, res.size, 1); err != nil {
		return err
	}
	rsyncDir := filepath.Join(o.lab.HostRoot("new"), "rsync-data")
	for run := range b.o.runs {
		for _, v := range []string{varFull, varPreseed, varDirect} {
			if err := o.reset(); err != nil {
				return err
			}
			extra := ", direct: false"
			if v == varDirect {
				extra = ""
			}
			var obs *observer
			var err error
			if v == varFull {
				if _, _, err = change(src, res.files, res.size, uint64(run*3+1)); err != nil {
					return err
				}
				obs, err = o.run(false, extra, nil)
			} else {
				obs, err = o.run(true, extra, func() error {
					if v == varPreseed {
						// rsync's target: the pre-seeded copy as it is now.
						if err := snapshot(o.lab.HostRoot("new"), rsyncDir); err != nil {
							return err
						}
					}
					var err error
					res.nchg, res.changed, err = change(src, res.files, res.size, uint64(run*3+2))
					return err
				})
			}
			if err != nil {
				return fmt.Errorf("%s: %w", v, err)
			}
			w, err := obs.span(isEv(steps.EvActionStart, "stop"), isEv(steps.EvStepEnd, "start"))
			if err != nil {
				return err
			}
			c, err := obs.span(isEv(steps.EvActionStart, "transfer"), isEv(steps.EvActionResult, "transfer"))
			if err != nil {
				return err
			}
			res.windows[v] = append(res.windows[v], w)
			res.copies[v] = append(res.copies[v], c)
			if v != varFull {
				p, err := obs.span(isEv(steps.EvActionStart, "preseed"), isEv(steps.EvActionResult, "preseed"))
				if err == nil && v == varPreseed {
					res.preseed = append(res.preseed, p)
				}
			}
			logf("outage run %d, %s: window %s, copy %s", run+1, v, ms(w), ms(c))
			if v == varPreseed {
				d, cmd, err := o.rsync(src, rsyncDir)
				if err != nil {
					return err
				}
				res.rsync, res.rsyncCmd = append(res.rsync, d), cmd
				logf("outage run %d, rsync delta: %s", run+1, ms(d))
			}
		}
	}
	return os.RemoveAll(rsyncDir)
}

// snapshot copies the pre-seeded staging folder to dst, as rsync's starting point.
func snapshot(newRoot, dst string) error {
	app := filepath.Join(newRoot, "opt", "app")
	entries, err := os.ReadDir(app)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "data.cutover-preseed-") {
			_ = os.RemoveAll(dst)
			out, err := exec.Command("cp", "-a", filepath.Join(app, e.Name()), dst).CombinedOutput()
			if err != nil {
				return fmt.Errorf("cp: %v: %s", err, out)
			}
			return nil
		}
	}
	return fmt.Errorf("no pre-seeded staging copy in %s", app)
}

// rsync sends the same delta from the old host to the new over the lab's SSH.
func (o *outageLab) rsync(src, dst string) (time.Duration, string, error) {
	port := strconv.Itoa(o.lab.Port("new"))
	rsh := "ssh -i " + o.lab.ClientKey() + " -o UserKnownHostsFile=" + o.lab.KnownHosts() + " -o IdentitiesOnly=yes -o BatchMode=yes -p " + port
	args := []string{"-a", "--delete", "-e", rsh, src + "/", "127.0.0.1:" + dst + "/"}
	start := time.Now()
	out, err := exec.Command("rsync", args...).CombinedOutput()
	if err != nil {
		return 0, "", fmt.Errorf("rsync: %v: %s", err, tail(out))
	}
	return time.Since(start), "rsync -a --delete -e \"ssh -p PORT\" old:opt/app/data/ new:rsync-data/", nil
}

// slowLink copies linkSize over a slowed operator link, relayed and direct.
func (o *outageLab) slowLink(res *outageResult) error {
	b := o.b
	res.linkSize, res.linkFiles, res.linkMbit = b.o.linkSize, 64, b.o.linkMbit
	src := o.data("old")
	if err := os.RemoveAll(src); err != nil {
		return err
	}
	if err := fill(src, res.linkFiles, res.linkSize, 9); err != nil {
		return err
	}
	o.lab.SetOperatorLink(int64(res.linkMbit) * 1_000_000)
	defer o.lab.SetOperatorLink(0)
	for run := range b.o.runs {
		for _, v := range []string{"relayed", "direct"} {
			if err := o.reset(); err != nil {
				return err
			}
			extra := ", direct: false"
			if v == "direct" {
				extra = ""
			}
			obs, err := o.run(false, extra, nil)
			if err != nil {
				return fmt.Errorf("slow link, %s: %w", v, err)
			}
			c, err := obs.span(isEv(steps.EvActionStart, "transfer"), isEv(steps.EvActionResult, "transfer"))
			if err != nil {
				return err
			}
			res.link[v] = append(res.link[v], c)
			logf("slow link run %d, %s: %s", run+1, v, ms(c))
		}
	}
	return nil
}

// outageMarkdown is the report's section on the outage window.
func (r *outageResult) markdown(w io.Writer, o options) {
	fmt.Fprintf(w, "## Outage window of a move, with and without a pre-seed\n\n")
	fmt.Fprintf(w, "Measured on %s in the practice lab served by its own SSH server (x/crypto/ssh on 127.0.0.1; real processes, files and TCP), not by sshd: the lab's hosts must accept a one-copy key from each other and the operator's link must be slowed while the hosts' links are not, which the lab's sshd instances do not do. Machine: %d CPUs, shared with other work while this ran (load average %s), so absolute figures are slower and noisier than on an idle machine; the ratios compare runs made back to back. Runs: %d (each figure is their median). Command: `go run ./cmd/cutover-bench -only outage -runs %d -outage-size %s -outage-files %d -link-size %s -link-mbit %d`.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), loadAverage(), o.runs, o.runs, sizeFlag(o.outageSize), o.outageFiles, sizeFlag(o.linkSize), o.linkMbit)
	fmt.Fprintf(w, "A lab move of %s in %d files (incompressible data) from `old` to `new`: stop the service, copy (mode `replace`), start it on the new host. The window is measured in the engine from the stop action's start to the end of the start step (its gate passing). With a pre-seed, the `preseed` step copies the data to a staging name while the service runs; then %d files (%s, 1%%) are rewritten with new content and a new modification time, and the window's copy sends only those, then hashes every file of the result on both hosts (SHA-256) before renaming it into place. Relayed: through the operator's machine (`direct: false`); direct: host to host with a one-copy key.\n\n",
		human(r.size), r.files, r.nchg, human(r.changed))
	fmt.Fprintf(w, "| variant | window (median) | runs | copy step alone (median) |\n| --- | --- | --- | --- |\n")
	for _, v := range []string{varFull, varPreseed, varDirect} {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", v, ms(median(r.windows[v])), durs(r.windows[v]), ms(median(r.copies[v])))
	}
	fmt.Fprintf(w, "\nRatios of the medians: window with pre-seed (relayed) / without %.2fx; with pre-seed (direct) / without %.2fx. The pre-seed step itself, outside the window: %s (median).\n\n",
		ratioD(r.windows[varPreseed], r.windows[varFull]), ratioD(r.windows[varDirect], r.windows[varFull]), ms(median(r.preseed)))
	fmt.Fprintf(w, "The same delta with rsync, between the same two lab hosts over the same SSH server, from a copy of the same pre-seeded state: %s (median; runs %s). cutover's copy step (relayed) / rsync: %.2fx; (direct) / rsync: %.2fx. rsync compares by size and time only and hashes nothing afterwards; cutover's copy step also hashes all %s on both hosts. Command: `%s`.\n\n",
		ms(median(r.rsync)), durs(r.rsync), ratioD(r.copies[varPreseed], r.rsync), ratioD(r.copies[varDirect], r.rsync), human(r.size), r.rsyncCmd)
	fmt.Fprintf(w, "## A copy over a slow operator link, relayed and direct\n\n")
	fmt.Fprintf(w, "%s in %d files from `old` to `new` while the lab holds the operator's connections to %d Mbit/s in each direction (one token bucket per direction shared by all of them, `Lab.SetOperatorLink`); connections between the lab's hosts are not slowed. Time of the copy action.\n\n", human(r.linkSize), r.linkFiles, r.linkMbit)
	fmt.Fprintf(w, "| transfer | median | runs |\n| --- | --- | --- |\n")
	for _, v := range []string{"relayed", "direct"} {
		fmt.Fprintf(w, "| %s | %s | %s |\n", v, ms(median(r.link[v])), durs(r.link[v]))
	}
	fmt.Fprintf(w, "\nRatio relayed / direct: %.1fx.\n\n", ratioD(r.link["relayed"], r.link["direct"]))
}

// sizeFlag writes a size as the command line takes it ("256MiB").
func sizeFlag(n int64) string { return strings.ReplaceAll(human(n), " ", "") }

// loadAverage is the machine's one-minute load average, as /proc says.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

// runOutageOnly measures the outage window and the slow link alone (no sshd, no root)
// and puts their sections into the existing report in place of the earlier ones.
func runOutageOnly(o options) error {
	if _, err := exec.LookPath("rsync"); err != nil {
		return fmt.Errorf("rsync is missing (apt-get install rsync)")
	}
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return err
	}
	b := &bench{o: o, report: &report{}}
	if err := b.outage(); err != nil {
		return fmt.Errorf("outage: %w", err)
	}
	var sec strings.Builder
	b.report.outage.markdown(&sec, o)
	old, err := os.ReadFile(o.out)
	if err != nil {
		return os.WriteFile(o.out, []byte("# Benchmarks\n\n"+sec.String()), 0o644)
	}
	text := string(old)
	const first, after = "## Outage window of a move", "## What the figures are made of"
	if i := strings.Index(text, first); i >= 0 {
		j := strings.Index(text[i:], after)
		if j < 0 {
			j = len(text) - i
		}
		text = text[:i] + sec.String() + text[i+j:]
	} else if i := strings.Index(text, after); i >= 0 {
		text = text[:i] + sec.String() + text[i:]
	} else {
		text += "\n" + sec.String()
	}
	return os.WriteFile(o.out, []byte(text), 0o644)
}

func ratioD(a, b []time.Duration) float64 {
	if len(a) == 0 || len(b) == 0 || median(b) == 0 {
		return 0
	}
	return float64(median(a)) / float64(median(b))
}
