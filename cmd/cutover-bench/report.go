//go:build linux

package main

import (
	"fmt"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"
)

type report struct {
	started time.Time
	hosts   int
	tools   map[string]string
	probe   *probeResult
	many    *probeResult
	log     *logResult
	copy    *copyResult
	outage  *outageResult
}

type probeResult struct {
	n       int
	tools   []tool
	res     map[string][]sample
	profile profileResult
}

type profileResult struct {
	floor, cutover, single floorSummary
}

type logResult struct {
	log     int64
	sizes   []int64
	gate    [][]time.Duration
	grep    []sample
	grepCmd string
}

type copyResult struct {
	size  int64
	files int
	tools []tool
	res   map[string][]sample
	// hashes are the target-side hash commands timed alone, by command.
	hashes map[string][]sample
}

func (r *report) setup(b *bench, n int) {
	r.started = time.Now()
	r.hosts = n
	r.tools = map[string]string{}
	for name, args := range map[string][]string{
		"sshd":         {"/usr/sbin/sshd", "-V"},
		"ssh":          {"ssh", "-V"},
		"parallel-ssh": {"parallel-ssh", "--version"},
		"ansible":      {"ansible", "--version"},
	} {
		out, _ := exec.Command(args[0], args[1:]...).CombinedOutput()
		line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		r.tools[name] = line
	}
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medianF(f []float64) float64 {
	s := append([]float64(nil), f...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func walls(s []sample) []time.Duration {
	out := make([]time.Duration, len(s))
	for i, x := range s {
		out[i] = x.wall
	}
	return out
}

// ratio is the median over runs of a's time divided by b's in the same run.
func ratio(a, b []sample) float64 {
	var r []float64
	for i := range min(len(a), len(b)) {
		r = append(r, a[i].wall.Seconds()/b[i].wall.Seconds())
	}
	if len(r) == 0 {
		return 0
	}
	return medianF(r)
}

func ms(d time.Duration) string {
	if d < 10*time.Millisecond {
		return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%d ms", d.Milliseconds())
}

func (r *report) markdown(o options) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Benchmarks\n\n")
	w("Written by `make bench` (`go run ./cmd/cutover-bench`) on %s. Every tool talks to the same real OpenSSH servers: "+
		"Debian's sshd on 127.0.0.1 serving %d practice-lab hosts (%d sshd instances, 16 hosts each, the lab's session "+
		"wrapper giving every session its host's folder and PATH; key authentication, no PAM). Each figure is the median of %d runs "+
		"after one warm-up; each ratio is computed within one run (the tools run back to back, in rotating order) and its median over the runs is given.\n\n",
		r.started.UTC().Format("2006-01-02 15:04 UTC"), r.hosts, (r.hosts+15)/16, o.runs)
	w("Machine: %d CPUs, %s/%s. ", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	w("Tools: %s; %s; parallel-ssh %s; %s.\n\n", r.tools["sshd"], r.tools["ssh"], r.tools["parallel-ssh"], r.tools["ansible"])
	w("Reproduce everything with `make bench` (as root; it installs openssh-server, pssh and ansible-core when missing), " +
		"or one part with `go run ./cmd/cutover-bench -only probe|many|log|copy|outage -runs N`.\n\n")

	if p := r.probe; p != nil {
		w("## Probe of %d hosts, side by side\n\n", p.n)
		w("All four run the probe's one script (%d lines: clock, hostname, OS, machine id, install folder, INI files, service status) "+
			"on every host at once, %d connections in parallel.\n\n", strings.Count(probeScript, "\n"), p.n)
		r.probeTable(&b, p)
		c, f, ps, an := p.res["cutover"], p.res["x/crypto floor"], p.res["parallel-ssh"], p.res["ansible"]
		w("\nRatios (same run): cutover / the floor %.2fx; parallel-ssh / cutover %.2fx; Ansible / cutover %.1fx.\n\n",
			ratio(c, f), ratio(ps, c), ratio(an, c))
		r.profileText(&b, p)
	}
	if p := r.many; p != nil {
		w("## Probe of %d hosts\n\n", p.n)
		r.probeTable(&b, p)
		c := p.res["cutover"]
		var rss []int64
		for _, s := range c {
			rss = append(rss, s.maxRSS)
		}
		sort.Slice(rss, func(i, j int) bool { return rss[i] < rss[j] })
		mc := median(walls(c))
		w("\nPeak memory of `cutover probe` (maximum resident set size of the process): median %.1f MB, largest %.1f MB.\n\n",
			float64(rss[len(rss)/2])/1024, float64(rss[len(rss)-1])/1024)
		w("Median time for %d hosts: %s.\n\n", p.n, ms(mc))
		r.profileText(&b, p)
	}
	if l := r.log; l != nil {
		w("## Log gate on a large log\n\n")
		w("The gate of a step (`newest_file` with `newer_than: step_start`, `contains` and `not_contains` patterns) after an action " +
			"appended one line. Measured in the engine from the action's result to the gate's result (one SFTP stat and listing of the log " +
			"folder, a read of the bytes written since the step started, the patterns, one journal append), over the connection the run " +
			"already has. `ssh + grep` is what an operator would otherwise type: it reads the whole log.\n\n")
		w("| log size | log gate (median) | runs |\n| --- | --- | --- |\n")
		for i, s := range l.sizes {
			w("| %s | %s | %s |\n", human(s), ms(median(l.gate[i])), durs(l.gate[i]))
		}
		last := median(l.gate[len(l.gate)-1])
		w("| %s, `ssh + grep` | %s | %s |\n\n", human(l.log), ms(median(walls(l.grep))), durs(walls(l.grep)))
		var ratios []float64
		for i := range min(len(l.grep), len(l.gate[len(l.gate)-1])) {
			ratios = append(ratios, l.grep[i].wall.Seconds()/l.gate[len(l.gate)-1][i].Seconds())
		}
		w("Ratio at %s (ssh + grep / gate, same run index): %.0fx. Command: `%s`.\n\n", human(l.log), medianF(ratios), l.grepCmd)
		w("Gate time at %s against the smallest log (same run): %s against %s.\n\n", human(l.log), ms(last), ms(median(l.gate[0])))
	}
	if c := r.copy; c != nil {
		w("## Verified copy of a %s folder between two hosts\n\n", human(c.size))
		w("%d files of incompressible data from h001 to h002, through the operator's machine (both tools relay: `scp -3`). "+
			"cutover's copy action (mode `replace`: a staging copy, verified, then renamed into place) hashes what it sends and "+
			"verifies each file's size and SHA-256 after writing it; scp verifies nothing beyond the transport. Time of the action, "+
			"from its start to its result in the engine.\n\n", c.files)
		w("| tool | median | runs | command |\n| --- | --- | --- | --- |\n")
		for _, t := range c.tools {
			w("| %s | %s | %s | `%s` |\n", t.name, ms(median(walls(c.res[t.name]))), durs(walls(c.res[t.name])), t.cmd)
		}
		rt := ratio(c.res["cutover copy"], c.res["scp -3 -r"])
		w("\nRatio cutover / scp -3 -r (same run): %.2fx.\n\n", rt)
		w("Hashing the copy on the target alone (`ssh -F ssh_config h002 \"cd opt/maestro/bench-data && CMD\"`): `%s` %s, `%s` %s. "+
			"The copy action uses the first the host has and overlaps it with the next file's transfer; openssl uses the CPU's SHA "+
			"instructions, which is most of why verifying costs little here.\n\n",
			hashOpenSSL, ms(median(walls(c.hashes[hashOpenSSL]))), hashSha256sum, ms(median(walls(c.hashes[hashSha256sum]))))
	}
	if r.outage != nil {
		r.outage.markdown(&b, o)
	}
	w("## What the figures are made of\n\n")
	if p := r.probe; p != nil {
		c, f, ps := p.res["cutover"], p.res["x/crypto floor"], p.res["parallel-ssh"]
		w("- **Probe vs the floor** (%.2fx): cutover adds its inventory, known_hosts verification shared across hosts, keepalives "+
			"and parsing to the floor's bare connect-login-exec; what remains is one process start and a few milliseconds.\n", ratio(c, f))
		w("- **Probe vs parallel-ssh** (%.2fx; the floor itself is %.2fx faster than parallel-ssh): all tools wait on the same servers, "+
			"and on this %d-CPU machine the servers' work (sshd's re-exec, key exchange and login per connection, then the session, "+
			"the wrapper and the probe script's commands: %.0f ms + %.0f ms for one connection alone) is most of the time. "+
			"parallel-ssh adds one OpenSSH client process per host (sntrup761 key exchange, a fork and exec each) on the same CPUs. "+
			"No client can be more than about %.1fx faster than parallel-ssh here, because the floor is not; a larger ratio needs servers "+
			"that do not share the measuring machine's CPUs.\n", ratio(ps, c), ratio(ps, f), runtime.NumCPU(), p.profile.single.AuthMS, p.profile.single.ExecMS, ratio(ps, f))
	}
	if p := r.many; p != nil {
		w("- **%d hosts**: cutover takes %s, the floor %s: the same server-side cost per host as above, %d times, on %d CPUs. "+
			"cutover takes %.2fx the floor's time, so the limit is the servers sharing this machine, not the probe.\n",
			p.n, ms(median(walls(p.res["cutover"]))), ms(median(walls(p.res["x/crypto floor"]))), p.n, runtime.NumCPU(), ratio(p.res["cutover"], p.res["x/crypto floor"]))
	}
	if c := r.copy; c != nil {
		w("- **Verified copy** (%.2fx): the copy action streams each file with several SFTP requests in flight on both sides "+
			"(the source's WriteTo into a pipe, the target's ReadFrom of a reader of known size), hashes what it sends, and has the "+
			"target hash what arrived (`openssl dgst -sha256`, else `sha256sum`) while the next file streams; only the last file's hash is not overlapped. "+
			"A host without a hash command is verified by reading the copy back over SFTP, which costs a second pass.\n",
			ratio(c.res["cutover copy"], c.res["scp -3 -r"]))
	}
	w("\n## Notes\n\n")
	w("- cutover's probe of %d hosts reads an **Ansible INI inventory** (the same file `ansible -i` reads); the %d-host probe reads the cutover YAML inventory.\n", o.hosts, o.many)
	w("- parallel-ssh and Ansible run OpenSSH's client with the same keys and known_hosts (`-F ssh_config`, or `ansible_ssh_common_args`); Ansible keeps its defaults (`-C -o ControlMaster=auto -o ControlPersist=60s`), with a fresh control folder each run and its masters ended after it, so no run reuses another's connections.\n")
	w("- The per-phase times are wall times of each host's phase while all hosts connect at once: on two CPUs shared with the servers, " +
		"a phase also waits for a CPU (which is why cutover's dial, a TCP connect on loopback, grows with the number of hosts while it stays " +
		"under a millisecond for one host alone). The floor starts every TCP connect before any handshake, cutover each host's right after " +
		"reading its keys, so the two split the same total differently.\n")
	w("- This machine is shared with other work; absolute figures vary by some 20%% between sessions, the ratios within a run much less.\n")
	w("- OpenSSH's client negotiates sntrup761x25519 key exchange with this sshd, x/crypto (cutover and the floor) curve25519; both use ed25519 host and user keys.\n")
	return b.String()
}

var probeScript string

func durs(d []time.Duration) string {
	var s []string
	for _, x := range d {
		s = append(s, ms(x))
	}
	return strings.Join(s, ", ")
}

func (r *report) probeTable(b *strings.Builder, p *probeResult) {
	fmt.Fprintf(b, "| tool | median | runs | ratio to cutover (same run) | command |\n| --- | --- | --- | --- | --- |\n")
	c := p.res["cutover"]
	for _, t := range p.tools {
		s := p.res[t.name]
		fmt.Fprintf(b, "| %s | %s | %s | %.2fx | `%s` |\n", t.name, ms(median(walls(s))), durs(walls(s)), ratio(s, c), t.cmd)
	}
}

func (r *report) profileText(b *strings.Builder, p *probeResult) {
	pr := p.profile
	fmt.Fprintf(b, "Where the time goes (per host, median / slowest, one more run of each): "+
		"floor dial %.1f / %.1f ms, handshake+auth %.1f / %.1f ms, command %.1f / %.1f ms; "+
		"cutover (from `probe --json` timings) dial %.1f / %.1f ms, handshake+auth %.1f / %.1f ms, command %.1f / %.1f ms. "+
		"One connection alone on an idle machine: dial %.2f ms, handshake+auth %.1f ms, command %.1f ms.\n\n",
		pr.floor.DialMS, pr.floor.DialMaxMS, pr.floor.AuthMS, pr.floor.AuthMaxMS, pr.floor.ExecMS, pr.floor.ExecMaxMS,
		pr.cutover.DialMS, pr.cutover.DialMaxMS, pr.cutover.AuthMS, pr.cutover.AuthMaxMS, pr.cutover.ExecMS, pr.cutover.ExecMaxMS,
		pr.single.DialMS, pr.single.AuthMS, pr.single.ExecMS)
}
