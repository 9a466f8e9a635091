//go:build linux

// Command cutover-bench measures cutover side by side with the tools operators would
// otherwise use, on the same real OpenSSH servers (Debian's sshd on 127.0.0.1, serving
// practice-lab hosts), and writes BENCHMARKS.md:
//
//   - the probe of 50 hosts against parallel-ssh -p 50 and ansible -m raw -f 50 running
//     the same command, and against a bare x/crypto program (the floor);
//   - the probe of 200 hosts, with the probe's peak memory;
//   - a log gate on a large log against ssh + grep;
//   - a verified copy of a large folder between two hosts against scp -3 -r.
//
// Every figure is the median of several runs; every ratio is taken within one run (the
// tools run back to back, in rotating order) and then its median is reported.
//
//	go run ./cmd/cutover-bench -o BENCHMARKS.md      (make bench; needs root)
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/runbooks"
)

type options struct {
	dir      string
	out      string
	cutover  string
	runs     int
	hosts    int
	many     int
	logSize  int64
	copySize int64
	only     string
	// The outage window and the slow link (outage.go).
	outageSize  int64
	outageFiles int
	linkSize    int64
	linkMbit    int
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "floor" {
		os.Exit(floorMain(os.Args[2:]))
	}
	var o options
	flag.StringVar(&o.dir, "dir", filepath.Join(os.TempDir(), "cutover-bench"), "work folder (emptied first)")
	flag.StringVar(&o.out, "o", "BENCHMARKS.md", "report to write")
	flag.StringVar(&o.cutover, "cutover", "bin/cutover", "the cutover binary to measure")
	flag.IntVar(&o.runs, "runs", 5, "runs of each measurement")
	flag.IntVar(&o.hosts, "hosts", 50, "hosts of the side-by-side probe")
	flag.IntVar(&o.many, "many", 200, "hosts of the large probe")
	size := flag.String("log-size", "1GiB", "size of the log the gate reads")
	csize := flag.String("copy-size", "1GiB", "size of the folder copied")
	flag.StringVar(&o.only, "only", "probe,many,log,copy,outage", "which measurements")
	osize := flag.String("outage-size", "2GiB", "size of the folder moved in the outage window")
	flag.IntVar(&o.outageFiles, "outage-files", 2000, "files of the folder moved in the outage window")
	lsize := flag.String("link-size", "256MiB", "size of the copy over the slow operator link")
	flag.IntVar(&o.linkMbit, "link-mbit", 20, "speed of the slow operator link, Mbit/s")
	flag.Parse()
	var err error
	if o.logSize, err = parseSize(*size); err != nil {
		fail(err)
	}
	if o.copySize, err = parseSize(*csize); err != nil {
		fail(err)
	}
	if o.outageSize, err = parseSize(*osize); err != nil {
		fail(err)
	}
	if o.linkSize, err = parseSize(*lsize); err != nil {
		fail(err)
	}
	if err := run(o); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "cutover-bench:", err)
	os.Exit(1)
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suf, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if strings.HasSuffix(s, suf) {
			s, mult = strings.TrimSuffix(s, suf), m
		}
	}
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil || n <= 0 {
		return 0, fmt.Errorf("size %q: use a number with KiB, MiB or GiB", s)
	}
	return n * mult, nil
}

// bench is the state of one benchmark session.
type bench struct {
	o       options
	lab     *lab.Lab
	ssh     *lab.OpenSSH
	cutover string
	self    string
	script  string // the probe command every tool runs
	report  *report
}

func run(o options) error {
	if o.only == "outage" {
		return runOutageOnly(o)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("run as root: the benchmark starts sshd instances with a login account of their own")
	}
	for _, tool := range []string{"/usr/sbin/sshd", "parallel-ssh", "ansible", "scp", "ssh"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is missing (make bench installs openssh-server, pssh and ansible-core)", tool)
		}
	}
	var err error
	b := &bench{o: o, report: &report{}}
	if b.cutover, err = filepath.Abs(o.cutover); err != nil {
		return err
	}
	if b.self, err = os.Executable(); err != nil {
		return err
	}
	if err := os.RemoveAll(o.dir); err != nil {
		return err
	}
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return err
	}

	n := max(o.hosts, o.many)
	sc, hub, err := benchScenario(n)
	if err != nil {
		return err
	}
	start := time.Now()
	if b.lab, err = lab.Setup(filepath.Join(o.dir, "lab"), sc, lab.Options{}); err != nil {
		return err
	}
	defer b.lab.Close()
	if b.ssh, err = b.lab.ServeOpenSSH(lab.OpenSSHOptions{HostsPerServer: 16}); err != nil {
		return err
	}
	defer b.ssh.Close()
	// Interrupted: stop sshd and any SSH masters Ansible left, which would otherwise keep
	// sessions open on the stopped servers.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		b.endAnsibleMasters()
		_ = b.ssh.Close()
		_ = b.lab.Close()
		os.Exit(130)
	}()
	logf("%d hosts served by %d sshd instances in %v", n, (n+15)/16, time.Since(start).Round(time.Millisecond))
	b.script = probe.Script(&probe.Host{InstallDir: hub.InstallDir, Services: hub.Services}, probe.Catalogue, "0123456789abcdef")
	probeScript = b.script
	if err := os.WriteFile(b.path("probe.sh"), []byte(b.script), 0o644); err != nil {
		return err
	}
	b.report.setup(b, n)
	for _, what := range strings.Split(o.only, ",") {
		switch what {
		case "probe":
			err = b.probeSideBySide(o.hosts)
		case "many":
			err = b.probeMany(o.many)
		case "log":
			err = b.logGate()
		case "copy":
			err = b.copyFolder()
		case "outage":
			err = b.outage()
		default:
			err = fmt.Errorf("unknown measurement %q", what)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	md := b.report.markdown(o)
	if old, err := os.ReadFile(o.out); err == nil {
		for _, h := range keptHeadings {
			md += keptSection(string(old), h)
		}
	}
	return os.WriteFile(o.out, []byte(md), 0o644)
}

// wizardHeading starts the report's section on the wizard's frame times, which come
// from `go test -bench` in the tui package, not from this program.
const wizardHeading = "## The wizard's frame time"

// keptHeadings start the report's sections that come from `go test -bench` (the
// wizard's frame times, reading the shipped runbooks), not from this program.
var keptHeadings = []string{wizardHeading, "## Reading the shipped runbooks"}

// keptSection is the section of report md that starts with heading, up to the next
// section, or "" when md has none: this program writes the rest of the report anew and
// keeps that section as it stands.
func keptSection(md, heading string) string {
	i := strings.Index(md, "\n"+heading+"\n")
	if i < 0 {
		return ""
	}
	rest := md[i+1:]
	if j := strings.Index(rest[len(heading):], "\n## "); j >= 0 {
		rest = rest[:len(heading)+j+1]
	}
	return "\n" + strings.TrimRight(rest, "\n") + "\n"
}

// benchScenario is n copies of the maestro lab's Hub server: a small install folder with
// INI files and a service whose status command is a shell script.
func benchScenario(n int) (*lab.Scenario, lab.HostSpec, error) {
	sc, err := runbooks.Scenario("maestro", time.Now())
	if err != nil {
		return nil, lab.HostSpec{}, err
	}
	var hub lab.HostSpec
	for _, h := range sc.Hosts {
		if h.Name == "hub" {
			hub = h
		}
	}
	out := &lab.Scenario{Name: "bench", Title: fmt.Sprintf("%d copies of the maestro lab's Hub server", n)}
	for i := 1; i <= n; i++ {
		h := hub
		h.Name = fmt.Sprintf("h%03d", i)
		h.Hostname = h.Name + ".bench.lab"
		h.Files = nil
		for _, f := range hub.Files {
			if f.Path != "bin/hostname" {
				h.Files = append(h.Files, f)
			}
		}
		out.Hosts = append(out.Hosts, h)
	}
	return out, hub, nil
}

func (b *bench) path(name string) string { return filepath.Join(b.o.dir, name) }

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// sample is one timed command.
type sample struct {
	wall   time.Duration
	maxRSS int64 // KiB, of the largest process of the command's tree that was waited for
	out    []byte
}

// timed runs a command and measures its wall time and peak memory.
func timed(env []string, name string, args ...string) (sample, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	s := sample{wall: time.Since(start), out: out.Bytes()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.maxRSS = ru.Maxrss
	}
	if err != nil {
		return s, fmt.Errorf("%s %s: %v\n%s%s", filepath.Base(name), strings.Join(trimArgs(args), " "), err, tail(out.Bytes()), tail(errb.Bytes()))
	}
	return s, nil
}

func trimArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if len(a) > 60 {
			a = a[:57] + "..."
		}
		out[i] = a
	}
	return out
}

func tail(b []byte) string {
	if len(b) > 1500 {
		b = b[len(b)-1500:]
	}
	return string(b)
}

// tool is one contender of a side-by-side measurement.
type tool struct {
	name string
	cmd  string // the command that reproduces it, for the report
	run  func(i int) (sample, error)
}

// sideBySide runs every tool once per run, rotating their order, and returns the
// samples per tool.
func (b *bench) sideBySide(tools []tool) (map[string][]sample, error) {
	out := map[string][]sample{}
	// One warm-up round: page cache, sshd's first forks, Python's bytecode cache.
	for _, t := range tools {
		if _, err := t.run(-1); err != nil {
			return nil, fmt.Errorf("%s (warm-up): %w", t.name, err)
		}
	}
	for i := range b.o.runs {
		for k := range tools {
			t := tools[(i+k)%len(tools)]
			s, err := t.run(i)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", t.name, err)
			}
			out[t.name] = append(out[t.name], s)
			logf("  run %d %-14s %v", i+1, t.name, s.wall.Round(time.Millisecond))
		}
	}
	return out, nil
}

// hostsFiles writes, for the first n hosts, the files each tool takes: a cutover YAML
// inventory, an Ansible INI inventory (which cutover reads too), a parallel-ssh host
// list and the floor's address list.
func (b *bench) hostsFiles(n int) (yamlInv, ansibleInv, psshHosts, floorHosts string, err error) {
	names := b.lab.Scenario().Hosts[:n]
	var ini, pssh, floor strings.Builder
	ini.WriteString("[bench]\n")
	for _, h := range names {
		port := b.ssh.Port(h.Name)
		fmt.Fprintf(&ini, "%s ansible_host=127.0.0.1 ansible_port=%d cutover_install_dir=%s\n", h.Name, port,
			filepath.Join(b.lab.HostRoot(h.Name), filepath.FromSlash(h.InstallDir)))
		fmt.Fprintf(&pssh, "%s\n", h.Name)
		fmt.Fprintf(&floor, "127.0.0.1:%d\n", port)
	}
	svc := h0Service(b)
	fmt.Fprintf(&ini, "\n[all:vars]\nansible_user=%s\nansible_ssh_private_key_file=%s\n"+
		"ansible_ssh_common_args='-o UserKnownHostsFile=%s -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o BatchMode=yes'\n"+
		"cutover_service_maestro_start=%s\ncutover_service_maestro_stop=%s\ncutover_service_maestro_status=%s\n",
		b.ssh.User(), b.lab.ClientKey(), b.ssh.KnownHosts(), svc.Start, svc.Stop, svc.Status)
	ansibleInv = b.path(fmt.Sprintf("ansible-%d.ini", n))
	psshHosts = b.path(fmt.Sprintf("pssh-%d.hosts", n))
	floorHosts = b.path(fmt.Sprintf("floor-%d.hosts", n))
	for file, content := range map[string]string{ansibleInv: ini.String(), psshHosts: pssh.String(), floorHosts: floor.String()} {
		if err = os.WriteFile(file, []byte(content), 0o644); err != nil {
			return
		}
	}
	return b.ssh.Inventory(), ansibleInv, psshHosts, floorHosts, nil
}

func h0Service(b *bench) probe.Service { return b.lab.Scenario().Hosts[0].Services["maestro"] }

// cutoverProbe probes the first n hosts with the cutover binary.
func (b *bench) cutoverProbe(inv string, n int) tool {
	return tool{
		name: "cutover",
		cmd:  fmt.Sprintf("cutover probe -i %s --json", filepath.Base(inv)),
		run: func(int) (sample, error) {
			s, err := timed([]string{"SSH_AUTH_SOCK="}, b.cutover, append([]string{"probe", "-i", inv, "--json"}, hostArgs(b, n, inv)...)...)
			if err != nil {
				return s, err
			}
			var facts []probe.Facts
			if err := json.Unmarshal(s.out, &facts); err != nil {
				return s, err
			}
			ok := 0
			for _, f := range facts {
				if f.Reachable && f.Hostname == f.Name+".bench.lab" && len(f.Components) == 1 {
					ok++
				}
			}
			if ok != n {
				return s, fmt.Errorf("cutover probed %d of %d hosts correctly", ok, n)
			}
			return s, nil
		},
	}
}

// hostArgs names the first n hosts when the inventory has more.
func hostArgs(b *bench, n int, inv string) []string {
	if !strings.HasSuffix(inv, ".yaml") || n == len(b.lab.Scenario().Hosts) {
		return nil
	}
	var out []string
	for _, h := range b.lab.Scenario().Hosts[:n] {
		out = append(out, h.Name)
	}
	return out
}

func (b *bench) floor(hostsFile string, n int) tool {
	return tool{
		name: "x/crypto floor",
		cmd:  "cutover-bench floor -hosts " + filepath.Base(hostsFile) + " -command probe.sh ...",
		run: func(int) (sample, error) {
			s, err := timed(nil, b.self, "floor", "-hosts", hostsFile, "-user", b.ssh.User(), "-key", b.lab.ClientKey(),
				"-known-hosts", b.ssh.KnownHosts(), "-command", b.path("probe.sh"))
			return s, err
		},
	}
}

func (b *bench) pssh(hostsFile string, n int) tool {
	return tool{
		name: "parallel-ssh",
		cmd:  fmt.Sprintf(`parallel-ssh -h %s -p %d -x "-F ssh_config" -o OUT "$(cat probe.sh)"`, filepath.Base(hostsFile), n),
		run: func(i int) (sample, error) {
			out := b.path(fmt.Sprintf("pssh-out-%d-%d", n, i))
			_ = os.RemoveAll(out)
			s, err := timed(nil, "parallel-ssh", "-h", hostsFile, "-p", fmt.Sprint(n), "-t", "120", "-x", "-F "+b.ssh.SSHConfig(), "-o", out, b.script)
			if err != nil {
				return s, err
			}
			files, _ := os.ReadDir(out)
			if len(files) != n {
				return s, fmt.Errorf("parallel-ssh wrote %d outputs, want %d", len(files), n)
			}
			return s, nil
		},
	}
}

func (b *bench) ansible(inv string, n int) tool {
	return tool{
		name: "ansible",
		cmd:  fmt.Sprintf(`ansible all -i %s -m raw -a "$(cat probe.sh)" -f %d`, filepath.Base(inv), n),
		run: func(i int) (sample, error) {
			home := b.path(fmt.Sprintf("ansible-home-%d-%d", n, i))
			_ = os.RemoveAll(home)
			cp := filepath.Join(home, "cp")
			if err := os.MkdirAll(cp, 0o700); err != nil {
				return sample{}, err
			}
			cfg := filepath.Join(home, "ansible.cfg")
			_ = os.WriteFile(cfg, []byte("[defaults]\n"), 0o644)
			env := []string{"ANSIBLE_CONFIG=" + cfg, "ANSIBLE_HOME=" + home, "ANSIBLE_LOCAL_TEMP=" + filepath.Join(home, "tmp"),
				"ANSIBLE_SSH_CONTROL_PATH_DIR=" + cp, "ANSIBLE_HOST_KEY_CHECKING=True", "ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0"}
			s, err := timed(env, "ansible", "all", "-i", inv, "-m", "raw", "-a", b.script, "-f", fmt.Sprint(n))
			// Ansible leaves its ControlPersist masters running: end them, so the next run
			// connects afresh like every other tool.
			endMasters(cp)
			if err != nil {
				return s, err
			}
			if got := bytes.Count(s.out, []byte("rc=0")); got != n {
				return s, fmt.Errorf("ansible reported %d successes, want %d", got, n)
			}
			return s, nil
		},
	}
}

func (b *bench) probeSideBySide(n int) error {
	logf("probe of %d hosts: cutover, x/crypto floor, parallel-ssh, ansible", n)
	_, ansibleInv, psshHosts, floorHosts, err := b.hostsFiles(n)
	if err != nil {
		return err
	}
	tools := []tool{b.cutoverProbe(ansibleInv, n), b.floor(floorHosts, n), b.pssh(psshHosts, n), b.ansible(ansibleInv, n)}
	res, err := b.sideBySide(tools)
	if err != nil {
		return err
	}
	prof, err := b.profile(floorHosts, n)
	if err != nil {
		return err
	}
	b.report.probe = &probeResult{n: n, tools: tools, res: res, profile: prof}
	return nil
}

func (b *bench) probeMany(n int) error {
	logf("probe of %d hosts: cutover, x/crypto floor, parallel-ssh", n)
	inv, _, psshHosts, floorHosts, err := b.hostsFiles(n)
	if err != nil {
		return err
	}
	tools := []tool{b.cutoverProbe(inv, n), b.floor(floorHosts, n), b.pssh(psshHosts, n)}
	res, err := b.sideBySide(tools)
	if err != nil {
		return err
	}
	prof, err := b.profile(floorHosts, n)
	if err != nil {
		return err
	}
	b.report.many = &probeResult{n: n, tools: tools, res: res, profile: prof}
	return nil
}

// profile runs the floor once more and the probe's own timings, for where the time goes.
func (b *bench) profile(floorHosts string, n int) (profileResult, error) {
	var p profileResult
	s, err := timed(nil, b.self, "floor", "-hosts", floorHosts, "-user", b.ssh.User(), "-key", b.lab.ClientKey(),
		"-known-hosts", b.ssh.KnownHosts(), "-command", b.path("probe.sh"))
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(s.out, &p.floor); err != nil {
		return p, err
	}
	// The same phases as cutover measures them, per host, from probe --json.
	s, err = timed([]string{"SSH_AUTH_SOCK="}, b.cutover, append([]string{"probe", "-i", b.ssh.Inventory(), "--json"}, hostArgs(b, n, ".yaml")...)...)
	if err != nil {
		return p, err
	}
	var facts []probe.Facts
	if err := json.Unmarshal(s.out, &facts); err != nil {
		return p, err
	}
	var dial, auth, exe []time.Duration
	for _, f := range facts {
		dial, auth, exe = append(dial, f.Timing.Dial), append(auth, f.Timing.Auth), append(exe, f.Timing.Exec)
	}
	p.cutover = floorSummary{Hosts: len(facts), DialMS: medianMS(dial), AuthMS: medianMS(auth), ExecMS: medianMS(exe),
		DialMaxMS: maxMS(dial), AuthMaxMS: maxMS(auth), ExecMaxMS: maxMS(exe)}
	// One connection's cost on an idle machine: the fixed part of every figure.
	single := b.path("floor-1.hosts")
	_ = os.WriteFile(single, []byte(fmt.Sprintf("127.0.0.1:%d\n", b.ssh.Port("h001"))), 0o644)
	var one []floorSummary
	for range 5 {
		s, err := timed(nil, b.self, "floor", "-hosts", single, "-user", b.ssh.User(), "-key", b.lab.ClientKey(),
			"-known-hosts", b.ssh.KnownHosts(), "-command", b.path("probe.sh"))
		if err != nil {
			return p, err
		}
		var f floorSummary
		if err := json.Unmarshal(s.out, &f); err != nil {
			return p, err
		}
		one = append(one, f)
	}
	sort.Slice(one, func(i, j int) bool { return one[i].AuthMS+one[i].ExecMS < one[j].AuthMS+one[j].ExecMS })
	p.single = one[len(one)/2]
	return p, nil
}

// writeRandom fills path with size bytes of incompressible data, in lines.
func writeRandom(path string, size int64, line func(w io.Writer, r *rand.Rand)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(uint64(size), 7))
	w := &countWriter{w: f}
	buf := bytes.NewBuffer(make([]byte, 0, 1<<20))
	for w.n+int64(buf.Len()) < size {
		line(buf, r)
		if buf.Len() >= 1<<20 {
			if _, err := w.Write(buf.Bytes()); err != nil {
				f.Close()
				return err
			}
			buf.Reset()
		}
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// endMasters asks every SSH master listening in folder cp to exit.
func endMasters(cp string) {
	sockets, _ := os.ReadDir(cp)
	for _, sock := range sockets {
		_ = exec.Command("ssh", "-o", "ControlPath="+filepath.Join(cp, sock.Name()), "-O", "exit", "x").Run()
	}
}

func (b *bench) endAnsibleMasters() {
	homes, _ := filepath.Glob(b.path("ansible-home-*"))
	for _, h := range homes {
		endMasters(filepath.Join(h, "cp"))
	}
}
