//go:build linux

package lab_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/probe/sshx"
	"github.com/cutover/cutover/runbooks"
)

// TestOpenSSH runs cutover against Debian's OpenSSH server: the maestro practice lab's
// hosts served by real sshd instances, each with its own host keys. It needs root (for
// the login account and sshd's privilege separation) and openssh-server; make
// test-openssh installs the package and sets CUTOVER_OPENSSH=1.
func TestOpenSSH(t *testing.T) {
	if os.Getenv("CUTOVER_OPENSSH") == "" {
		t.Skip("set CUTOVER_OPENSSH=1 (make test-openssh) to test against OpenSSH's sshd")
	}
	if os.Geteuid() != 0 {
		t.Skip("the OpenSSH tests run as root: they create a login account and start sshd")
	}
	if _, err := os.Stat("/usr/sbin/sshd"); err != nil {
		t.Fatalf("no /usr/sbin/sshd (apt-get install openssh-server, or run make test-openssh): %v", err)
	}
	t.Setenv("SSH_AUTH_SOCK", "")
	bin := buildCutover(t)

	sc, err := runbooks.Scenario("maestro", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	// The login account walks down to the lab's folders.
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	l, err := lab.Setup(filepath.Join(base, "lab"), sc, lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	start := time.Now()
	o, err := l.ServeOpenSSH(lab.OpenSSHOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	t.Logf("%d sshd instances ready in %v (user %s, files in %s)", len(sc.Hosts), time.Since(start).Round(time.Millisecond), o.User(), o.Dir())
	inv, err := inventory.Load(o.Inventory())
	if err != nil {
		t.Fatal(err)
	}
	d := &sshx.Dialer{NoAgent: true, DialTimeout: 10 * time.Second}
	ctx := context.Background()

	t.Run("host keys from the sshd's own key files", func(t *testing.T) {
		for _, h := range inv.Hosts {
			tr, err := d.Dial(ctx, h)
			if err != nil {
				t.Fatalf("%s: %v", h.Name, err)
			}
			want := keygenFingerprint(t, o.HostKeyFile(h.Name)+".pub")
			if id, ok := tr.(probe.Identified); ok && id.HostKey() != want {
				t.Errorf("%s presented %s, want %s", h.Name, id.HostKey(), want)
			}
			var out bytes.Buffer
			if code, err := tr.Run(ctx, "hostname; pwd", &out, &out); err != nil || code != 0 {
				t.Errorf("%s: exit %d, %v: %s", h.Name, code, err, out.String())
			}
			if got := out.String(); !strings.HasPrefix(got, h.Name+".") || !strings.Contains(got, "\n"+l.HostRoot(h.Name)+"\n") {
				t.Errorf("%s: hostname and folder = %q: the session lacks the lab host's environment", h.Name, got)
			}
			tr.Close()
		}
		// Another instance's key on file for hub: refused as a changed key.
		wrong := *inv.Host("hub")
		kh := filepath.Join(t.TempDir(), "known_hosts")
		pub, err := os.ReadFile(o.HostKeyFile("lui") + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, kh, fmt.Sprintf("[127.0.0.1]:%d %s", o.Port("hub"), pub))
		wrong.KnownHosts = []string{kh}
		_, err = d.Dial(ctx, &wrong)
		var hk *probe.HostKeyError
		if !errors.As(err, &hk) || hk.Problem != probe.KeyChanged {
			t.Errorf("dial with another host's key on file: %v, want a changed-key error", err)
		}
	})

	t.Run("probe JSON", func(t *testing.T) {
		out := runCutover(t, bin, 0, "probe", "-i", o.Inventory(), "--json")
		var facts []probe.Facts
		if err := json.Unmarshal([]byte(out), &facts); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if len(facts) != len(inv.Hosts) {
			t.Fatalf("%d hosts probed, want %d", len(facts), len(inv.Hosts))
		}
		want := map[string]string{"lui": "lui", "hub": "hub", "trk": "trk", "spare": ""}
		for _, f := range facts {
			if !f.Reachable || !strings.HasPrefix(f.Hostname, f.Name+".") {
				t.Errorf("%s: reachable %v hostname %q error %q", f.Name, f.Reachable, f.Hostname, f.Error)
			}
			if f.Timing.Dial <= 0 || f.Timing.Auth <= 0 || f.Timing.Exec <= 0 {
				t.Errorf("%s: timing %+v, want dial, auth and exec each measured", f.Name, f.Timing)
			}
			comps, ok := want[f.Name]
			if !ok {
				continue // the scenario's other hosts
			}
			delete(want, f.Name)
			if strings.Join(f.Components, ",") != comps {
				t.Errorf("%s: components %v, want %q", f.Name, f.Components, comps)
			}
			if f.Name != "spare" && f.Services["maestro"] != "running" {
				t.Errorf("%s: maestro %q, want running", f.Name, f.Services["maestro"])
			}
		}
		if len(want) > 0 {
			t.Errorf("not probed: %v", want)
		}
	})

	t.Run("jump host and ssh_config", func(t *testing.T) {
		// spare is reached only through hub: OpenSSH's sshd on hub forwards the connection.
		cfg := filepath.Join(t.TempDir(), "ssh_config")
		writeFile(t, cfg, fmt.Sprintf(`Host hubjump
  HostName 127.0.0.1
  Port %d
Host spare-via-hub
  HostName 127.0.0.1
  Port %d
  ProxyJump hubjump
Host *
  User %s
  IdentityFile %s
  UserKnownHostsFile %s
`, o.Port("hub"), o.Port("spare"), o.User(), l.ClientKey(), o.KnownHosts()))
		before := logins(t, o)
		out := runCutover(t, bin, 0, "probe", "-i", cfg, "--json", "spare-via-hub")
		var facts []probe.Facts
		if err := json.Unmarshal([]byte(out), &facts); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if len(facts) != 1 || facts[0].Hostname != "spare.maestro.lab" {
			t.Fatalf("probe through the jump host: %s", out)
		}
		after := logins(t, o)
		if after["hub"]-before["hub"] != 1 || after["spare"]-before["spare"] != 1 {
			t.Errorf("logins hub %d -> %d, spare %d -> %d: want one on each (jump, then target)",
				before["hub"], after["hub"], before["spare"], after["spare"])
		}
		// OpenSSH's own client agrees with the same file.
		if b, err := exec.Command("ssh", "-F", cfg, "-o", "BatchMode=yes", "spare-via-hub", "hostname").CombinedOutput(); err != nil ||
			strings.TrimSpace(string(b)) != "spare.maestro.lab" {
			t.Errorf("ssh -F through the jump host: %v: %s", err, b)
		}
	})

	t.Run("Ansible inventory", func(t *testing.T) {
		ini := filepath.Join(t.TempDir(), "hosts.ini")
		var b strings.Builder
		b.WriteString("[maestro]\n")
		for _, h := range inv.Hosts {
			fmt.Fprintf(&b, "%s ansible_host=127.0.0.1 ansible_port=%d cutover_install_dir=%s\n", h.Name, h.Port, h.InstallDir)
		}
		fmt.Fprintf(&b, "\n[all:vars]\nansible_user=%s\nansible_ssh_private_key_file=%s\n"+
			"ansible_ssh_common_args='-o UserKnownHostsFile=%s'\n", o.User(), l.ClientKey(), o.KnownHosts())
		writeFile(t, ini, b.String())
		out := runCutover(t, bin, 0, "probe", "-i", ini)
		for _, h := range inv.Names() {
			if !strings.Contains(out, h+".") {
				t.Errorf("probe of the Ansible inventory lacks %s:\n%s", h, out)
			}
		}
	})

	t.Run("Ansible inventory with its connection settings in group_vars and host_vars", func(t *testing.T) {
		dir := t.TempDir()
		for _, d := range []string{"group_vars", "host_vars"} {
			if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		var b strings.Builder
		b.WriteString("[maestro]\n")
		for _, h := range inv.Hosts {
			b.WriteString(h.Name + "\n")
			writeFile(t, filepath.Join(dir, "host_vars", h.Name+".yml"),
				fmt.Sprintf("ansible_port: %d\ncutover_install_dir: %s\n", h.Port, h.InstallDir))
		}
		writeFile(t, filepath.Join(dir, "hosts.ini"), b.String())
		writeFile(t, filepath.Join(dir, "group_vars", "all.yml"), fmt.Sprintf(
			"ansible_host: 127.0.0.1\nansible_user: %s\nansible_ssh_private_key_file: %s\nansible_ssh_common_args: -o UserKnownHostsFile=%s\n",
			o.User(), l.ClientKey(), o.KnownHosts()))
		out := runCutover(t, bin, 0, "probe", "-i", filepath.Join(dir, "hosts.ini"), "--json")
		var facts []probe.Facts
		if err := json.Unmarshal([]byte(out), &facts); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if len(facts) != len(inv.Hosts) {
			t.Fatalf("%d hosts probed, want %d", len(facts), len(inv.Hosts))
		}
		for _, f := range facts {
			if !f.Reachable || !strings.HasPrefix(f.Hostname, f.Name+".") {
				t.Errorf("%s: reachable %v hostname %q error %q", f.Name, f.Reachable, f.Hostname, f.Error)
			}
		}
	})

	t.Run("OpenSSH's sftp-server never writes through a planted link", func(t *testing.T) {
		// What cutover's writes rely on, checked against the real server: an exclusive
		// create and a mkdir fail on a link, Lstat and ReadLink see it. The canary is
		// writable by the login, so a plain create does reach it (the control).
		root := l.HostRoot("spare")
		canary := filepath.Join(base, "canary")
		writeFile(t, canary, "canary\n")
		if err := os.Chmod(canary, 0o666); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"planted-file", "planted-dir", "planted-plain"} {
			if err := os.Symlink(canary, filepath.Join(root, n)); err != nil {
				t.Fatal(err)
			}
		}
		tr, err := d.Dial(ctx, inv.Host("spare"))
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		fi, err := tr.Lstat(ctx, filepath.Join(root, "planted-file"))
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("Lstat of a link: %v, %v", fi, err)
		}
		if to, err := tr.ReadLink(ctx, filepath.Join(root, "planted-file")); err != nil || to != canary {
			t.Errorf("ReadLink: %q, %v", to, err)
		}
		ec := tr.(probe.ExclusiveCreator)
		if _, err := ec.CreateExclusive(ctx, filepath.Join(root, "planted-file"), 0o644); !errors.Is(err, fs.ErrExist) {
			t.Errorf("an exclusive create on a link: %v, want fs.ErrExist", err)
		}
		if err := tr.Mkdir(ctx, filepath.Join(root, "planted-dir"), 0o755); !errors.Is(err, fs.ErrExist) {
			t.Errorf("mkdir on a link: %v, want fs.ErrExist", err)
		}
		if got := readCanary(t, canary); got != "canary\n" {
			t.Fatalf("the canary changed: %q", got)
		}
		// Its open truncates the canary before anything else can fail (the mode change
		// after it does, the canary being root's).
		if w, err := tr.Create(ctx, filepath.Join(root, "planted-plain"), 0o644); err == nil {
			w.Close()
		}
		if got := readCanary(t, canary); got == "canary\n" {
			t.Error("the control (a plain create through the link) did not reach the canary")
		}
	})

	t.Run("maestro/move-hub headless, one connection per host", func(t *testing.T) {
		before := logins(t, o)
		journal := filepath.Join(t.TempDir(), "journal.jsonl")
		start := time.Now()
		out := runCutover(t, bin, 0, "run", "--from", filepath.Join(l.Dir(), "runs", "maestro-move-hub.yaml"),
			"-i", o.Inventory(), "--headless", "--journal", journal)
		t.Logf("maestro/move-hub over OpenSSH in %v", time.Since(start).Round(time.Millisecond))
		spare, hub := l.HostRoot("spare"), l.HostRoot("hub")
		ini, err := os.ReadFile(filepath.Join(spare, "opt/maestro/hub/hub.ini"))
		if err != nil || !bytes.Contains(ini, []byte("HubInstanceID=prod-hub-7f3a")) {
			t.Errorf("the old hub.ini did not arrive on spare (%v): %s\n%s", err, ini, out)
		}
		for _, dir := range []string{"opt/maestro/hub/accountreg/account-016.xml", "opt/maestro/hub/hubreg/hub-registry.properties"} {
			if _, err := os.Stat(filepath.Join(spare, dir)); err != nil {
				t.Errorf("spare lacks %s: %v", dir, err)
			}
		}
		if _, err := os.Stat(filepath.Join(hub, "opt/maestro/hub")); !os.IsNotExist(err) {
			t.Errorf("the Hub is still on the old server: %v", err)
		}
		lui, _ := os.ReadFile(filepath.Join(l.HostRoot("lui"), "opt/maestro/lui/lui.ini"))
		if !bytes.Contains(lui, []byte("RegistryHubHost=spare.maestro.lab")) {
			t.Errorf("lui.ini does not name the new Hub:\n%s", lui)
		}
		after := logins(t, o)
		for _, h := range []string{"lui", "hub", "trk", "spare"} {
			if n := after[h] - before[h]; n != 1 {
				t.Errorf("the run logged in to %s %d times, want once (one connection per host, reused by every step)", h, n)
			}
		}
	})

	// Last, as it closes the servers: sshd runs each connection in a session of its own,
	// so what a session leaves running is outside the listener's process group.
	t.Run("Close ends what sessions left running", func(t *testing.T) {
		u, err := user.Lookup(o.User())
		if err != nil {
			t.Fatal(err)
		}
		tr, err := d.Dial(ctx, inv.Hosts[0])
		if err != nil {
			t.Fatal(err)
		}
		// One left in the background of an open session, one detached and orphaned.
		if code, err := tr.Run(ctx, "setsid sleep 301 </dev/null >/dev/null 2>&1 & sleep 302 </dev/null >/dev/null 2>&1 &", nil, nil); code != 0 || err != nil {
			t.Fatalf("Run = %d, %v", code, err)
		}
		// The shell starts both in the background and returns: each becomes "sleep" once
		// it has exec'd, which may be a moment after the command ended.
		n := 0
		for range 200 {
			if n = len(processesOf(t, u.Uid, "sleep")); n >= 2 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if n < 2 {
			t.Fatalf("%d sleep processes of %s before Close, want at least 2", n, o.User())
		}
		if err := o.Close(); err != nil {
			t.Error(err)
		}
		_ = tr.Close()
		if left := processesOf(t, u.Uid, ""); len(left) > 0 {
			t.Errorf("after Close, %s still runs: %v", o.User(), left)
		}
	})
}

// processesOf lists the live processes whose real user id is uid and whose name (comm)
// is name (any, when empty), as "pid name".
func processesOf(t *testing.T, uid, name string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		var comm, state, real string
		for _, line := range strings.Split(string(data), "\n") {
			k, v, _ := strings.Cut(line, ":")
			switch f := strings.Fields(v); {
			case len(f) == 0:
			case k == "Name":
				comm = f[0]
			case k == "State":
				state = f[0]
			case k == "Uid":
				real = f[0]
			}
		}
		if real == uid && state != "Z" && (name == "" || comm == name) {
			out = append(out, e.Name()+" "+comm)
		}
	}
	return out
}

func logins(t *testing.T, o *lab.OpenSSH) map[string]int {
	t.Helper()
	// sshd writes a login's log line as it accepts it; give the last one a moment.
	time.Sleep(100 * time.Millisecond)
	n, err := o.Logins()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func keygenFingerprint(t *testing.T, pub string) string {
	t.Helper()
	out, err := exec.Command("ssh-keygen", "-l", "-f", pub).Output()
	if err != nil {
		t.Fatal(err)
	}
	// "256 SHA256:xxx comment (ED25519)"
	f := strings.Fields(string(out))
	return "ssh-" + strings.ToLower(strings.Trim(f[len(f)-1], "()")) + " " + f[1]
}

// buildCutover builds the command once for the test.
func buildCutover(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cutover")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/cutover")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/cutover: %v\n%s", err, out)
	}
	return bin
}

func runCutover(t *testing.T, bin string, code int, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK=", "CUTOVER_JOURNALS="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	got := 0
	if ee, ok := err.(*exec.ExitError); ok {
		got = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if got != code {
		t.Fatalf("cutover %s: exit %d, want %d\n--- stdout:\n%s--- stderr:\n%s", strings.Join(args, " "), got, code, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readCanary(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
