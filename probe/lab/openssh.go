//go:build linux

package lab

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	yaml "github.com/goccy/go-yaml"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/cutover/cutover/probe"
)

// Serving a lab with OpenSSH: the same simulated hosts (their folders, scripts and
// environment), answered by Debian's sshd instead of the lab's own SSH server, so that
// cutover is tested and measured against the server operators actually run.
//
// Every sshd instance runs from its own sshd_config in DIR/openssh, with its own host
// keys made by ssh-keygen. A "Match LocalPort" block per host forces every session
// through DIR/openssh/labsh, which gives the session the host's environment (the same
// one the lab's own server gives: cwd and HOME the host root, PATH starting with its
// bin folder) and then runs the client's command with /bin/sh, or sftp-server rooted in
// the host's folder. Logins use a dedicated account whose shell is /bin/sh and whose
// home is empty, so no start-up file of the machine's users runs in a session.

// Where DIR/openssh keeps what ServeOpenSSH writes.
const (
	openSSHDir       = "openssh"
	openSSHInventory = "inventory.yaml"
	openSSHKnown     = "known_hosts"
	openSSHConfig    = "ssh_config"
	openSSHAuthKeys  = "authorized_keys"
	openSSHWrapper   = "labsh"
)

// maxListen is how many ListenAddress lines one sshd accepts (MAX_LISTEN_SOCKS).
const maxListen = 16

// OpenSSH is a lab served by sshd instances. Close stops them.
type OpenSSH struct {
	lab      *Lab
	sudo     *OpenSSHSudo
	dir      string
	user     string
	sshd     string
	ports    map[string]int // host name -> port
	servers  []*sshdServer
	closeErr error
	once     sync.Once
}

// sshdServer is one sshd instance.
type sshdServer struct {
	name  string
	hosts []*host
	ports []int
	conf  string
	log   string
	cmd   *exec.Cmd
	done  chan struct{} // closed when the process has exited
}

// ServeOpenSSH starts sshd instances for every host of l and writes, in DIR/openssh,
// an inventory, a known_hosts file with the instances' keys and an ssh_config for
// OpenSSH clients, all naming the hosts as the lab's inventory does. The lab's own
// server does not need to run. When running as root it hands the hosts' folders to the
// login account, so the simulated software can change them.
func (l *Lab) ServeOpenSSH(opts OpenSSHOptions) (*OpenSSH, error) {
	sshd := opts.Sshd
	if sshd == "" {
		sshd = "/usr/sbin/sshd"
	}
	if !filepath.IsAbs(sshd) {
		return nil, fmt.Errorf("lab: sshd must be given as an absolute path, not %q", sshd)
	}
	if _, err := os.Stat(sshd); err != nil {
		return nil, fmt.Errorf("lab: no OpenSSH server (%v); on Debian: apt-get install openssh-server", err)
	}
	per := opts.HostsPerServer
	if per <= 0 {
		per = 1
	}
	if per > maxListen {
		return nil, fmt.Errorf("lab: one sshd listens on at most %d addresses, not %d", maxListen, per)
	}
	o := &OpenSSH{lab: l, dir: filepath.Join(l.dir, openSSHDir), sshd: sshd, ports: map[string]int{}}
	var err error
	if opts.Sudo != nil {
		o.sudo = opts.Sudo
		if err := o.setUpSudo(); err != nil {
			return nil, err
		}
		o.user = OpenSSHOperator
	} else if o.user, err = openSSHAccount(opts.User); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(o.dir, "keys"), 0o755); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	if err := o.handOver(); err != nil {
		return nil, err
	}
	if err := o.writeCommon(); err != nil {
		return nil, err
	}
	// Ports are taken from the kernel and released just before sshd binds them.
	var lns []net.Listener
	for range l.hosts {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			osshCloseAll(lns)
			return nil, fmt.Errorf("lab: %w", err)
		}
		lns = append(lns, ln)
	}
	for i, h := range l.hosts {
		o.ports[h.name] = lns[i].Addr().(*net.TCPAddr).Port
	}
	for i := 0; i < len(l.hosts); i += per {
		s := &sshdServer{hosts: l.hosts[i:min(i+per, len(l.hosts))]}
		s.name = s.hosts[0].name
		if per > 1 {
			s.name = fmt.Sprintf("sshd-%02d", i/per+1)
		}
		for _, h := range s.hosts {
			s.ports = append(s.ports, o.ports[h.name])
		}
		o.servers = append(o.servers, s)
	}
	known := &bytes.Buffer{}
	fmt.Fprintf(known, "# host keys of the sshd instances serving the cutover practice lab, scenario %s\n", l.sc.Name)
	for _, s := range o.servers {
		pub, err := o.hostKeys(s)
		if err != nil {
			osshCloseAll(lns)
			return nil, err
		}
		for _, h := range s.hosts {
			addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(o.ports[h.name]))
			fmt.Fprintf(known, "%s %s\n", knownhosts.Line([]string{addr}, pub), h.name)
		}
		if err := o.writeServerConfig(s, opts.LogLevel); err != nil {
			osshCloseAll(lns)
			return nil, err
		}
	}
	if err := writeFileAtomic(filepath.Join(o.dir, openSSHKnown), known.Bytes(), 0o644); err != nil {
		osshCloseAll(lns)
		return nil, fmt.Errorf("lab: %w", err)
	}
	if err := o.writeClientFiles(); err != nil {
		osshCloseAll(lns)
		return nil, err
	}
	osshCloseAll(lns)
	for _, s := range o.servers {
		if err := o.start(s); err != nil {
			_ = o.Close()
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, s := range o.servers {
		if err := o.waitReady(ctx, s); err != nil {
			_ = o.Close()
			return nil, err
		}
	}
	return o, nil
}

func osshCloseAll(lns []net.Listener) {
	for _, ln := range lns {
		_ = ln.Close()
	}
}

// writeCommon writes the session wrapper, one environment file per host and the
// authorized_keys file with the lab's client key.
func (o *OpenSSH) writeCommon() error {
	wrapper := `#!/bin/sh
# Session wrapper of the cutover practice lab's sshd instances (ForceCommand):
# gives the session the simulated host's environment, then runs what the client asked
# for. $1 is the host's environment file.
. "$1" || exit 1
cd "$LAB_ROOT" || exit 1
case "$SSH_ORIGINAL_COMMAND" in
` + probe.ShellQuote(osshSFTPServer()) + ` | ` + probe.ShellQuote(osshSFTPServer()) + `\ *) exec ` + osshSFTPServer() + ` -d "$LAB_ROOT" ;;
'') exec /bin/sh -i ;;
esac
exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"
`
	if err := writeFileAtomic(filepath.Join(o.dir, openSSHWrapper), []byte(wrapper), 0o755); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(o.dir, "env"), 0o755); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	for _, h := range o.lab.hosts {
		var b strings.Builder
		b.WriteString("# environment of simulated host " + h.name + " (the lab server's own, see session.go)\n")
		for _, kv := range o.lab.env(h) {
			k, v, _ := strings.Cut(kv, "=")
			if k == "USER" || k == "LOGNAME" {
				v = o.loginOf(h)
			}
			fmt.Fprintf(&b, "export %s=%s\n", k, probe.ShellQuote(v))
		}
		if err := writeFileAtomic(o.envFile(h), []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("lab: %w", err)
		}
	}
	pub, err := os.ReadFile(o.lab.ClientKey() + ".pub")
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(o.dir, openSSHAuthKeys), pub, 0o644); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}

func (o *OpenSSH) envFile(h *host) string { return filepath.Join(o.dir, "env", h.name+".sh") }

// sftpServer is Debian's sftp-server, or another one found beside sshd's usual places.
func osshSFTPServer() string {
	for _, p := range []string{"/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server", "/usr/libexec/sftp-server", "/usr/lib/ssh/sftp-server"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "/usr/lib/openssh/sftp-server"
}

// hostKeys creates (once) the instance's ed25519 and ECDSA host keys with ssh-keygen
// and returns the ed25519 public key, the only one known_hosts lists: clients must pick
// the host key algorithm from known_hosts, not take the server's first offer.
func (o *OpenSSH) hostKeys(s *sshdServer) (ssh.PublicKey, error) {
	var ed ssh.PublicKey
	for _, typ := range []string{"ed25519", "ecdsa"} {
		path := filepath.Join(o.dir, "keys", s.name+"_"+typ)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			out, err := exec.Command("ssh-keygen", "-q", "-t", typ, "-N", "", "-C", "cutover lab sshd "+s.name, "-f", path).CombinedOutput()
			if err != nil {
				return nil, fmt.Errorf("lab: ssh-keygen for %s: %v: %s", s.name, err, bytes.TrimSpace(out))
			}
		}
		data, err := os.ReadFile(path + ".pub")
		if err != nil {
			return nil, fmt.Errorf("lab: %w", err)
		}
		pub, _, _, _, err := ssh.ParseAuthorizedKey(data)
		if err != nil {
			return nil, fmt.Errorf("lab: %s.pub: %w", path, err)
		}
		if typ == "ed25519" {
			ed = pub
		}
	}
	return ed, nil
}

// writeServerConfig writes the instance's sshd_config.
func (o *OpenSSH) writeServerConfig(s *sshdServer, level string) error {
	if level == "" {
		level = "VERBOSE"
	}
	s.conf = filepath.Join(o.dir, s.name+".sshd_config")
	s.log = filepath.Join(o.dir, s.name+".log")
	var b strings.Builder
	fmt.Fprintf(&b, "# sshd for the cutover practice lab: %s\n", strings.Join(osshHostNames(s.hosts), ", "))
	for _, p := range s.ports {
		fmt.Fprintf(&b, "ListenAddress 127.0.0.1:%d\n", p)
	}
	keys := filepath.Join(o.dir, "keys", s.name)
	fmt.Fprintf(&b, "HostKey %s_ed25519\nHostKey %s_ecdsa\n", keys, keys)
	fmt.Fprintf(&b, "PidFile %s\n", filepath.Join(o.dir, s.name+".pid"))
	fmt.Fprintf(&b, "AuthorizedKeysFile %s\n", filepath.Join(o.dir, openSSHAuthKeys))
	fmt.Fprintf(&b, "AllowUsers %s\n", strings.Join(o.logins(), " "))
	fmt.Fprintf(&b, "LogLevel %s\n", level)
	b.WriteString(`# Keys only; no PAM, so a session costs what sshd itself costs.
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin no
# The lab's folders live in a temporary folder, which StrictModes would refuse.
StrictModes no
PermitUserEnvironment no
PermitUserRC no
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding yes
# Many clients connect at once (benchmarks open hundreds of connections).
MaxStartups 1000
MaxSessions 64
Subsystem sftp ` + osshSFTPServer() + "\n")
	for _, h := range s.hosts {
		fmt.Fprintf(&b, "\nMatch LocalPort %d\n\tForceCommand exec %s %s\n", o.ports[h.name],
			probe.ShellQuote(filepath.Join(o.dir, openSSHWrapper)), probe.ShellQuote(o.envFile(h)))
	}
	if err := writeFileAtomic(s.conf, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}

func osshHostNames(hosts []*host) []string {
	out := make([]string, len(hosts))
	for i, h := range hosts {
		out[i] = h.name
	}
	return out
}

// writeClientFiles writes the inventory, in the lab inventory's form with the sshd
// ports, and an ssh_config for OpenSSH's own clients (ssh -F, parallel-ssh, Ansible).
func (o *OpenSSH) writeClientFiles() error {
	var hosts yaml.MapSlice
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "# OpenSSH client settings for the cutover practice lab served by sshd (%s)\n", o.lab.sc.Name)
	for _, h := range o.lab.hosts {
		entry := o.lab.inventoryEntry(h, o.ports[h.name], false)
		fmt.Fprintf(&cfg, "\nHost %s\n\tHostName 127.0.0.1\n\tPort %d\n", h.name, o.ports[h.name])
		if o.sudo != nil {
			entry = append(entry, yaml.MapItem{Key: "user", Value: o.loginOf(h)},
				yaml.MapItem{Key: "become", Value: true}, yaml.MapItem{Key: "become_user", Value: OpenSSHService})
			fmt.Fprintf(&cfg, "\tUser %s\n", o.loginOf(h))
		}
		hosts = append(hosts, yaml.MapItem{Key: h.name, Value: entry})
	}
	fmt.Fprintf(&cfg, "\nHost *\n\tUser %s\n\tIdentityFile %s\n\tIdentitiesOnly yes\n\tUserKnownHostsFile %s\n"+
		"\tGlobalKnownHostsFile /dev/null\n\tStrictHostKeyChecking yes\n\tBatchMode yes\n\tLogLevel ERROR\n",
		o.user, o.lab.ClientKey(), filepath.Join(o.dir, openSSHKnown))
	body, err := yaml.Marshal(yaml.MapSlice{
		{Key: "known_hosts", Value: openSSHKnown},
		{Key: "identity", Value: o.lab.ClientKey()},
		{Key: "user", Value: o.user},
		{Key: "hosts", Value: hosts},
	})
	if err != nil {
		return fmt.Errorf("lab: inventory: %w", err)
	}
	header := fmt.Sprintf("# cutover practice lab, scenario %s, served by OpenSSH's sshd on 127.0.0.1\n", o.lab.sc.Name)
	if err := writeFileAtomic(o.Inventory(), append([]byte(header), body...), 0o644); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	if err := writeFileAtomic(o.SSHConfig(), []byte(cfg.String()), 0o644); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}

// start runs one sshd in the foreground, in its own process group, logging to its file.
func (o *OpenSSH) start(s *sshdServer) error {
	if os.Geteuid() == 0 {
		// sshd refuses to start without its privilege separation folder.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			return fmt.Errorf("lab: %w", err)
		}
	}
	_ = os.Remove(s.log)
	s.cmd = exec.Command(o.sshd, "-D", "-f", s.conf, "-E", s.log)
	s.cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	var stderr bytes.Buffer
	s.cmd.Stderr = &stderr
	// Processes sshd starts inherit its stderr; Wait must not wait for the last of them.
	s.cmd.WaitDelay = 2 * time.Second
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("lab: starting %s: %w", o.sshd, err)
	}
	s.done = make(chan struct{})
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	return nil
}

// waitReady waits until every port of s answers with an OpenSSH banner.
func (o *OpenSSH) waitReady(ctx context.Context, s *sshdServer) error {
	for _, p := range s.ports {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		for {
			select {
			case <-s.done:
				return fmt.Errorf("lab: sshd %s exited at start: %s", s.name, osshTail(s.log, 800))
			default:
			}
			if osshBanner(addr) {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("lab: sshd %s does not answer on %s: %s", s.name, addr, osshTail(s.log, 800))
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	return nil
}

func osshBanner(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "SSH-2.0-OpenSSH")
}

func osshTail(path string, n int) string {
	data, _ := os.ReadFile(path)
	if len(data) > n {
		data = data[len(data)-n:]
	}
	s := strings.TrimSpace(string(data))
	if s == "" {
		return "(no log)"
	}
	return s
}

// Inventory is DIR/openssh/inventory.yaml: the lab's hosts at their sshd ports.
func (o *OpenSSH) Inventory() string { return filepath.Join(o.dir, openSSHInventory) }

// KnownHosts is DIR/openssh/known_hosts: the sshd instances' ed25519 host keys.
func (o *OpenSSH) KnownHosts() string { return filepath.Join(o.dir, openSSHKnown) }

// SSHConfig is DIR/openssh/ssh_config: one Host block per lab host, for ssh -F.
func (o *OpenSSH) SSHConfig() string { return filepath.Join(o.dir, openSSHConfig) }

// Dir is DIR/openssh.
func (o *OpenSSH) Dir() string { return o.dir }

// User is the account sessions log in as (on a sudo site, the one of the hosts whose
// sudo needs no password).
func (o *OpenSSH) User() string { return o.user }

// logins are the accounts sessions may log in as.
func (o *OpenSSH) logins() []string {
	if o.sudo != nil {
		return []string{OpenSSHOperator, OpenSSHOperatorPassword}
	}
	return []string{o.user}
}

// loginOf is the account host h's sessions log in as.
func (o *OpenSSH) loginOf(h *host) string {
	if o.sudo != nil && slices.Contains(o.sudo.AskPassword, h.name) {
		return OpenSSHOperatorPassword
	}
	return o.user
}

// Port is host name's sshd port on 127.0.0.1, or 0.
func (o *OpenSSH) Port(name string) int { return o.ports[name] }

// HostKeyFile is the private ed25519 host key of the sshd serving host name.
func (o *OpenSSH) HostKeyFile(name string) string {
	for _, s := range o.servers {
		for _, h := range s.hosts {
			if h.name == name {
				return filepath.Join(o.dir, "keys", s.name+"_ed25519")
			}
		}
	}
	return ""
}

var (
	connFrom = regexp.MustCompile(`Connection from \S+ port (\d+) on \S+ port (\d+)`)
	accepted = regexp.MustCompile(`Accepted publickey for \S+ from \S+ port (\d+)`)
)

// Logins counts, from the sshd logs, the logins accepted on each host's port so far:
// one per SSH connection that authenticated. It needs LogLevel VERBOSE (the default).
func (o *OpenSSH) Logins() (map[string]int, error) {
	byPort := map[int]string{}
	for name, p := range o.ports {
		byPort[p] = name
	}
	out := map[string]int{}
	for _, s := range o.servers {
		data, err := os.ReadFile(s.log)
		if err != nil {
			return nil, fmt.Errorf("lab: %w", err)
		}
		local := map[string]int{} // client port -> local port
		for _, line := range strings.Split(string(data), "\n") {
			if m := connFrom.FindStringSubmatch(line); m != nil {
				p, _ := strconv.Atoi(m[2])
				local[m[1]] = p
			} else if m := accepted.FindStringSubmatch(line); m != nil {
				if name, ok := byPort[local[m[1]]]; ok {
					out[name]++
				}
			}
		}
	}
	return out, nil
}
