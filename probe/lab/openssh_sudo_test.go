//go:build linux

package lab_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/probe/sshx"
	"github.com/cutover/cutover/runbooks"
)

// TestOpenSSHSudoSite runs cutover against Debian's sshd and sudo on a site where the
// login accounts are ordinary ones, the install folders belong to a service account
// with mode 0750, and sudo lets the logins become it: without a password on every host
// but spare, whose sudo asks for one. The probe and a headless maestro/move-hub reach
// what a plain login cannot read; the files the run wrote belong to the service
// account; the password is in no file cutover wrote. Root, openssh-server and sudo are
// needed; make test-openssh installs the packages.
func TestOpenSSHSudoSite(t *testing.T) {
	if os.Getenv("CUTOVER_OPENSSH") == "" {
		t.Skip("set CUTOVER_OPENSSH=1 (make test-openssh) to test against OpenSSH's sshd")
	}
	if os.Geteuid() != 0 {
		t.Skip("the OpenSSH tests run as root: they create accounts, sudoers rules and start sshd")
	}
	for _, p := range []string{"/usr/sbin/sshd", "/usr/bin/sudo"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("no %s (apt-get install openssh-server sudo, or run make test-openssh): %v", p, err)
		}
	}
	t.Setenv("SSH_AUTH_SOCK", "")
	bin := buildCutover(t)
	var raw [12]byte
	_, _ = rand.Read(raw[:])
	password := "pw-" + hex.EncodeToString(raw[:])

	sc, err := runbooks.Scenario("maestro", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
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
	o, err := l.ServeOpenSSH(lab.OpenSSHOptions{Sudo: &lab.OpenSSHSudo{AskPassword: []string{"spare"}, Password: password}})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	inv, err := inventory.Load(o.Inventory())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := user.Lookup(lab.OpenSSHService)
	if err != nil {
		t.Fatal(err)
	}
	svcUID, _ := strconv.Atoi(svc.Uid)
	journals := t.TempDir()
	withPassword := []string{"CUTOVER_BECOME_PASSWORD=" + password, "CUTOVER_JOURNALS=" + journals}

	t.Run("a plain login cannot read the install folder", func(t *testing.T) {
		plain := *inv.Host("hub")
		if plain.User != lab.OpenSSHOperator || plain.Become == nil || plain.Become.User != lab.OpenSSHService {
			t.Fatalf("hub logs in as %s and becomes %v", plain.User, plain.Become)
		}
		plain.Become = nil
		tr, err := (&sshx.Dialer{NoAgent: true}).Dial(context.Background(), &plain)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		var out bytes.Buffer
		if code, err := tr.Run(context.Background(), "cat "+probe.ShellQuote(plain.InstallDir)+"/hub/hub.ini", &out, &out); err != nil || code == 0 ||
			!strings.Contains(out.String(), "Permission denied") {
			t.Errorf("a plain login read hub.ini: exit %d, %v: %s", code, err, out.String())
		}
		if _, err := tr.ReadDir(context.Background(), plain.InstallDir); err == nil {
			t.Error("a plain login listed the install folder over SFTP")
		}
	})

	t.Run("probe through sudo", func(t *testing.T) {
		out := runCutoverEnv(t, bin, 0, withPassword, "probe", "-i", o.Inventory(), "--json")
		var facts []probe.Facts
		if err := json.Unmarshal([]byte(out), &facts); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		want := map[string]string{"lui": "lui", "hub": "hub", "trk": "trk", "spare": ""}
		for _, f := range facts {
			comps, ok := want[f.Name]
			if !ok {
				continue
			}
			if !f.Reachable || strings.Join(f.Components, ",") != comps {
				t.Errorf("%s: reachable %v components %v error %q", f.Name, f.Reachable, f.Components, f.Error)
			}
		}
	})

	t.Run("no password, or a wrong one, is refused with the reason", func(t *testing.T) {
		out := runCutoverEnv(t, bin, 4, []string{"CUTOVER_JOURNALS=" + journals}, "probe", "-i", o.Inventory(), "spare")
		if !strings.Contains(out, "no terminal to ask for it on") {
			t.Errorf("probe without a password:\n%s", out)
		}
		out = runCutoverEnv(t, bin, 4, []string{"CUTOVER_BECOME_PASSWORD=wrong", "CUTOVER_JOURNALS=" + journals}, "probe", "-i", o.Inventory(), "spare")
		if !strings.Contains(out, "sudo refused the password") {
			t.Errorf("probe with a wrong password:\n%s", out)
		}
	})

	t.Run("maestro/move-hub headless as the service account", func(t *testing.T) {
		journal := filepath.Join(journals, "move-hub.jsonl")
		out := runCutoverEnv(t, bin, 0, withPassword, "run", "--from", filepath.Join(l.Dir(), "runs", "maestro-move-hub.yaml"),
			"-i", o.Inventory(), "--headless", "--journal", journal)
		spare := filepath.Join(l.HostRoot("spare"), "opt", "maestro", "hub")
		ini, err := os.ReadFile(filepath.Join(spare, "hub.ini"))
		if err != nil || !bytes.Contains(ini, []byte("HubInstanceID=prod-hub-7f3a")) {
			t.Fatalf("the old hub.ini did not arrive on spare (%v)\n%s", err, out)
		}
		n := 0
		_ = filepath.WalkDir(spare, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, err := os.Lstat(p)
			if err != nil {
				return err
			}
			if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != svcUID {
				t.Errorf("%s belongs to uid %d, not %s (%d)", p, st.Uid, lab.OpenSSHService, svcUID)
			}
			n++
			return nil
		})
		if n < 10 {
			t.Errorf("only %d files under %s", n, spare)
		}
		lui, _ := os.ReadFile(filepath.Join(l.HostRoot("lui"), "opt/maestro/lui/lui.ini"))
		if !bytes.Contains(lui, []byte("RegistryHubHost=spare.maestro.lab")) {
			t.Errorf("lui.ini does not name the new Hub:\n%s", lui)
		}
	})

	t.Run("the password is in no file cutover wrote", func(t *testing.T) {
		for _, dir := range []string{journals, l.Dir()} {
			_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(password)) {
						t.Errorf("the sudo password is in %s", p)
					}
				}
				return nil
			})
		}
	})
}

// runCutoverEnv is runCutover with more environment variables; it returns stdout and
// stderr together.
func runCutoverEnv(t *testing.T, bin string, code int, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), "SSH_AUTH_SOCK="), env...)
	out, err := cmd.CombinedOutput()
	got := 0
	if ee, ok := err.(*exec.ExitError); ok {
		got = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if got != code {
		t.Fatalf("cutover %s: exit %d, want %d\n%s", strings.Join(args, " "), got, code, out)
	}
	return string(out)
}
