package sshx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pkg/sftp"

	"github.com/cutover/cutover/probe"
)

// TestMain lets the test binary stand in for OpenSSH's sftp-server: started with
// SSHX_TEST_SFTP_SERVER=1, it serves SFTP on its standard input and output.
func TestMain(m *testing.M) {
	if os.Getenv("SSHX_TEST_SFTP_SERVER") == "1" {
		srv, err := sftp.NewServer(stdio{})
		if err == nil {
			err = srv.Serve()
		}
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintln(os.Stderr, "test sftp-server:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type stdio struct{}

func (stdio) Read(p []byte) (int, error)  { return os.Stdin.Read(p) }
func (stdio) Write(p []byte) (int, error) { return os.Stdout.Write(p) }
func (stdio) Close() error                { return os.Stdout.Close() }

// fakeSudo stands in for sudo on the test server: it takes -S, -p PROMPT and -u USER
// as sudo does, asks for $FAKE_SUDO_PASSWORD on its standard input when that is set
// (three tries, "Sorry, try again." between them), refuses users other than
// $FAKE_SUDO_ALLOW, logs its arguments (never what it read) to $FAKE_SUDO_LOG, and
// runs the command.
const fakeSudo = `#!/bin/sh
prompt='Password: '; user=root
while [ $# -gt 0 ]; do
  case "$1" in
  -S|-n|-k|-H) shift ;;
  -p) prompt=$2; shift 2 ;;
  -u) user=$2; shift 2 ;;
  --) shift; break ;;
  *) break ;;
  esac
done
echo "sudo -u $user $*" >> "$FAKE_SUDO_LOG"
if [ -n "$FAKE_SUDO_PASSWORD" ]; then
  tries=0
  while :; do
    printf '%s' "$prompt" >&2
    IFS= read -r pw || { echo "sudo: no password was provided" >&2; exit 1; }
    [ "$pw" = "$FAKE_SUDO_PASSWORD" ] && break
    tries=$((tries+1))
    [ $tries -ge 3 ] && { echo "sudo: 3 incorrect password attempts" >&2; exit 1; }
    echo "Sorry, try again." >&2
  done
fi
if [ "$user" != "$FAKE_SUDO_ALLOW" ]; then
  printf 'Sorry, user tester is not allowed to execute as %s on web1.\033[2J\n' "$user" >&2
  exit 1
fi
SUDO_USER=tester; export SUDO_USER
exec "$@"
`

// becomeFixture is a test server whose PATH has fakeSudo, and a host that becomes
// "svc" through it.
func becomeFixture(t *testing.T, password string) (*fixture, string) {
	t.Helper()
	f := setup(t)
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "sudo"), []byte(fakeSudo), 0o755); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(t.TempDir(), "sudo.log")
	f.srv.env = []string{
		"PATH=" + bin + ":/usr/bin:/bin", "FAKE_SUDO_LOG=" + log, "FAKE_SUDO_ALLOW=svc",
		"FAKE_SUDO_PASSWORD=" + password, "SSHX_TEST_SFTP_SERVER=1",
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f.host.Become = &probe.Become{User: "svc", SFTPServer: exe}
	return f, log
}

// TestBecomeRunsCommandsThroughSudo: commands run through sudo as the Become account,
// untouched however they are quoted; sudo's words before the command starts do not
// reach its output; a sudo without a password never asks for one.
func TestBecomeRunsCommandsThroughSudo(t *testing.T) {
	t.Parallel()
	f, log := becomeFixture(t, "")
	asked := atomic.Int32{}
	d := &Dialer{NoAgent: true, BecomePassword: func(*probe.Host, string) ([]byte, error) {
		asked.Add(1)
		return []byte("never"), nil
	}}
	tr := dial(t, d, f.host)
	for _, c := range []struct {
		cmd            string
		code           int
		stdout, stderr string
	}{
		{cmd: "echo $SUDO_USER; echo err >&2; exit 3", code: 3, stdout: "tester\n", stderr: "err\n"},
		{cmd: `printf '%s|' "it's" "$(echo a b)" '$(x)' "\"q\""; echo`, stdout: `it's|a b|$(x)|"q"|` + "\n"},
		{cmd: "echo one\necho two", stdout: "one\ntwo\n"},
		{cmd: "cat; echo end", stdout: "end\n"}, // standard input is empty, as without become
	} {
		var stdout, stderr bytes.Buffer
		code, err := tr.Run(context.Background(), c.cmd, &stdout, &stderr)
		if err != nil || code != c.code || stdout.String() != c.stdout || stderr.String() != c.stderr {
			t.Errorf("Run(%q) = %d, %v, stdout %q, stderr %q; want %d, nil, %q, %q",
				c.cmd, code, err, stdout.String(), stderr.String(), c.code, c.stdout, c.stderr)
		}
	}
	if n := asked.Load(); n != 0 {
		t.Errorf("asked for a password %d times; sudo wanted none", n)
	}
	data, _ := os.ReadFile(log)
	if n := strings.Count(string(data), "sudo -u svc /bin/sh -c"); n != 4 {
		t.Errorf("sudo ran %d commands as svc, want 4:\n%s", n, data)
	}
}

// TestBecomePassword: the password goes to sudo's standard input when sudo asks, is
// asked for once per login, never appears on a command line or reaches the command;
// a wrong one is refused with sudo's reason and forgotten; with no way to ask, the
// error says so and the command does not run.
func TestBecomePassword(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t pass'word"
	f, log := becomeFixture(t, secret)
	var asked atomic.Int32
	d := &Dialer{NoAgent: true, BecomePassword: func(h *probe.Host, login string) ([]byte, error) {
		asked.Add(1)
		if h.Name != "web1" || login != "tester" {
			t.Errorf("asked for the password of %s on %s", login, h.Name)
		}
		return []byte(secret), nil
	}}
	tr := dial(t, d, f.host)
	for range 3 {
		var out bytes.Buffer
		code, err := tr.Run(context.Background(), "cat; echo ran", &out, &out)
		if err != nil || code != 0 || out.String() != "ran\n" {
			t.Fatalf("Run = %d, %v, %q", code, err, out.String())
		}
	}
	if n := asked.Load(); n != 1 {
		t.Errorf("asked %d times, want once", n)
	}

	// Files through the SFTP server started under sudo, with the password.
	if err := tr.MkdirAll(context.Background(), "sub", 0o750); err != nil {
		t.Fatal(err)
	}
	w, err := tr.Create(context.Background(), "sub/f.txt", 0o640)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(w, "through sudo\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(f.srv.dir, "sub", "f.txt"))
	if err != nil || string(got) != "through sudo\n" {
		t.Errorf("file written through sudo's SFTP server: %q, %v", got, err)
	}
	data, _ := os.ReadFile(log)
	if bytes.Contains(data, []byte("s3cr3t")) {
		t.Errorf("the password reached sudo's command line:\n%s", data)
	}
	if !strings.Contains(string(data), "sudo -u svc /bin/sh -c") || !strings.Contains(string(data), os.Args[0]) {
		t.Errorf("the SFTP server did not start through sudo:\n%s", data)
	}

	// A wrong password: refused, forgotten, and asked again next time.
	wrong := &Dialer{NoAgent: true, BecomePassword: func(*probe.Host, string) ([]byte, error) { return []byte("wrong"), nil }}
	tr2 := dial(t, wrong, f.host)
	code, err := tr2.Run(context.Background(), "touch ran-anyway", nil, nil)
	var be *probe.BecomeError
	if !errors.As(err, &be) || be.User != "svc" || be.Login != "tester" || !strings.Contains(err.Error(), "refused the password") {
		t.Errorf("wrong password: %d, %v", code, err)
	}
	if _, err := os.Stat(filepath.Join(f.srv.dir, "ran-anyway")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the command ran after sudo refused the password")
	}
	if _, ok := wrong.passwords["tester"]; ok {
		t.Error("a refused password is remembered")
	}

	// No way to ask: the error says so, and neither a command nor SFTP starts.
	tr3 := dial(t, &Dialer{NoAgent: true}, f.host)
	if _, err := tr3.Run(context.Background(), "touch ran-anyway", nil, nil); !errors.As(err, &be) || !strings.Contains(err.Error(), "no way to ask") {
		t.Errorf("no password function: %v", err)
	}
	if _, err := tr3.Stat(context.Background(), "sub"); !errors.As(err, &be) {
		t.Errorf("SFTP with no password function: %v, want a BecomeError", err)
	}
}

// TestBecomeRefused: a sudo that does not let the login become the account gives a
// BecomeError with sudo's words (control characters escaped), for commands and files.
func TestBecomeRefused(t *testing.T) {
	t.Parallel()
	f, _ := becomeFixture(t, "")
	f.host.Become.User = "root"
	tr := dial(t, nil, f.host)
	_, err := tr.Run(context.Background(), "true", nil, nil)
	var be *probe.BecomeError
	if !errors.As(err, &be) || !strings.Contains(be.Reason, "is not allowed to execute") || strings.ContainsRune(err.Error(), 0x1b) {
		t.Errorf("Run: %v", err)
	}
	if _, err := tr.ReadDir(context.Background(), "."); !errors.As(err, &be) {
		t.Errorf("ReadDir: %v, want a BecomeError", err)
	}
	if probe.IsConnectionError(err) {
		t.Error("a refused sudo counts as a connection error")
	}
}
