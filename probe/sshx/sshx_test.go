package sshx

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"

	"github.com/cutover/cutover/probe"
)

// fixture is a running test server and a host entry that reaches it: a fresh client
// key in an identity file and the server's ed25519 host key in a known_hosts file.
type fixture struct {
	srv       *testServer
	host      *probe.Host
	clientKey ssh.Signer
	clientPK  crypto.PrivateKey // clientKey's private half, to write in other forms
	hostKey   ssh.Signer
	dir       string // the operator's side: key and known_hosts files
}

func setup(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir()}
	f.clientKey, f.clientPK = newEd25519(t)
	f.hostKey, _ = newEd25519(t)
	f.srv = startServer(t, []ssh.PublicKey{f.clientKey.PublicKey()}, f.hostKey)
	f.host = &probe.Host{
		Name:          "web1",
		Address:       "127.0.0.1",
		Port:          f.srv.port,
		User:          "tester",
		IdentityFiles: []string{writeKey(t, f.dir, "id_test", f.clientPK, nil)},
		KnownHosts:    []string{writeFile(t, f.dir, "known_hosts", xknownhosts.Line([]string{f.srv.addr}, f.hostKey.PublicKey()))},
	}
	return f
}

func writeFile(t *testing.T, dir, name string, lines ...string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeKey(t *testing.T, dir, name string, priv crypto.PrivateKey, passphrase []byte) string {
	t.Helper()
	var block *pem.Block
	var err error
	if passphrase == nil {
		block, err = ssh.MarshalPrivateKey(priv, "")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "", passphrase)
	}
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// dial connects with d (a hermetic default if nil) and closes the transport when the
// test ends.
func dial(t *testing.T, d *Dialer, h *probe.Host) *transport {
	t.Helper()
	if d == nil {
		d = &Dialer{NoAgent: true}
	}
	tr, err := d.Dial(context.Background(), h)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr.(*transport)
}

func TestRun(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tr := dial(t, nil, f.host)
	if tm := tr.Timing(); tm.Dial <= 0 || tm.Auth <= 0 || tm.Exec != 0 {
		t.Errorf("Timing() = %+v, want Dial and Auth measured, Exec zero", tm)
	}
	for _, c := range []struct {
		cmd            string
		code           int
		stdout, stderr string
	}{
		{cmd: "echo out; echo err >&2", code: 0, stdout: "out\n", stderr: "err\n"},
		{cmd: "echo three; exit 3", code: 3, stdout: "three\n"},
		{cmd: "exit 42", code: 42},
		{cmd: "pwd", code: 0, stdout: f.srv.dir + "\n"},
		{cmd: "kill -TERM $$", code: 128 + 15},
	} {
		var stdout, stderr bytes.Buffer
		code, err := tr.Run(context.Background(), c.cmd, &stdout, &stderr)
		if err != nil || code != c.code || stdout.String() != c.stdout || stderr.String() != c.stderr {
			t.Errorf("Run(%q) = %d, %v, stdout %q, stderr %q; want %d, nil, %q, %q",
				c.cmd, code, err, stdout.String(), stderr.String(), c.code, c.stdout, c.stderr)
		}
	}

	// nil writers discard; one writer for both streams is safe.
	if code, err := tr.Run(context.Background(), "echo x; echo y >&2; exit 5", nil, nil); code != 5 || err != nil {
		t.Errorf("Run with nil writers = %d, %v", code, err)
	}
	var both bytes.Buffer
	if _, err := tr.Run(context.Background(), "for i in 1 2 3 4 5; do echo o$i; echo e$i >&2; done", &both, &both); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(both.String(), "\n"); n != 10 {
		t.Errorf("shared writer got %d lines: %q", n, both.String())
	}
}

func TestRunCancelKillsCommand(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tr := dial(t, nil, f.host)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if _, err := os.Stat(filepath.Join(f.srv.dir, "pid")); err == nil {
				break
			}
		}
		cancel()
	}()
	code, err := tr.Run(ctx, "echo $$ > pid.tmp && mv pid.tmp pid && exec sleep 30", nil, nil)
	if code != -1 || !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %d, %v; want -1, context.Canceled", code, err)
	}
	b, err := os.ReadFile(filepath.Join(f.srv.dir, "pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return syscall.Kill(pid, 0) == syscall.ESRCH })
}

func TestRunDeadline(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tr := dial(t, nil, f.host)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	code, err := tr.Run(ctx, "sleep 30", nil, nil)
	if code != -1 || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %d, %v; want -1, context.DeadlineExceeded", code, err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Run returned after %v", took)
	}
	// The connection is still good for the next command.
	if code, err := tr.Run(context.Background(), "exit 7", nil, nil); code != 7 || err != nil {
		t.Errorf("Run after a deadline = %d, %v", code, err)
	}
}

func TestRunPowerShellReadsStdin(t *testing.T) {
	t.Parallel()
	f := setup(t)
	// A stand-in "powershell" that reports its arguments and runs its input with sh.
	bin := t.TempDir()
	writeFile(t, bin, "powershell", "#!/bin/sh", `echo "args: $*" >&2`, "exec /bin/sh")
	if err := os.Chmod(filepath.Join(bin, "powershell"), 0o755); err != nil {
		t.Fatal(err)
	}
	f.srv.env = []string{"PATH=" + bin + ":/usr/bin:/bin"}
	f.host.Shell = "PowerShell"
	tr := dial(t, nil, f.host)
	var stdout, stderr bytes.Buffer
	code, err := tr.Run(context.Background(), `echo "it's \"quoted\""; exit 4`, &stdout, &stderr)
	if code != 4 || err != nil {
		t.Fatalf("Run = %d, %v", code, err)
	}
	if got, want := stdout.String(), `it's "quoted"`+"\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	if got, want := stderr.String(), "args: -NoProfile -NonInteractive -Command -\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
}

func TestHostKeyUnknownAndChanged(t *testing.T) {
	t.Parallel()
	f := setup(t)
	d := &Dialer{NoAgent: true}
	normalized := "[127.0.0.1]:" + strconv.Itoa(f.srv.port)

	other, _ := newEd25519(t)
	f.host.KnownHosts = []string{writeFile(t, f.dir, "other_hosts", xknownhosts.Line([]string{"192.0.2.1"}, other.PublicKey()))}
	_, err := d.Dial(context.Background(), f.host)
	unknown, ok := errors.AsType[*probe.HostKeyError](err)
	if !ok || unknown.Problem != probe.KeyUnknown {
		t.Fatalf("unknown key: err = %v, want HostKeyError KeyUnknown", err)
	}
	if unknown.KnownHosts != normalized || unknown.Presented != fingerprint(f.hostKey.PublicKey()) ||
		!slices.Equal(unknown.Files, f.host.KnownHosts) || unknown.Host != "web1" {
		t.Errorf("unknown key: %+v", unknown)
	}

	f.host.KnownHosts = []string{
		writeFile(t, f.dir, "changed_hosts", "# old key", xknownhosts.Line([]string{f.srv.addr}, other.PublicKey())),
		filepath.Join(f.dir, "missing_known_hosts"),
	}
	_, err = d.Dial(context.Background(), f.host)
	changed, ok := errors.AsType[*probe.HostKeyError](err)
	if !ok || changed.Problem != probe.KeyChanged {
		t.Fatalf("changed key: err = %v, want HostKeyError KeyChanged", err)
	}
	msg := changed.Error()
	for _, want := range []string{
		ssh.FingerprintSHA256(other.PublicKey()),
		ssh.FingerprintSHA256(f.hostKey.PublicKey()),
		f.host.KnownHosts[0] + ":2",
		normalized,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("changed key message lacks %q: %s", want, msg)
		}
	}
	if !slices.Equal(changed.Files, f.host.KnownHosts[:1]) {
		t.Errorf("changed key: Files = %v, want only the file that exists", changed.Files)
	}
	if unknown.Error() == changed.Error() || strings.Contains(unknown.Error(), "CHANGED") {
		t.Errorf("unknown and changed keys must read differently:\n%s\n%s", unknown, changed)
	}
	if !probe.IsConnectionError(err) {
		t.Error("a host key error is a connection error")
	}

	f.host.KnownHosts = []string{writeFile(t, f.dir, "revoked_hosts",
		"@revoked * "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(f.hostKey.PublicKey()))),
		xknownhosts.Line([]string{f.srv.addr}, f.hostKey.PublicKey()))}
	_, err = d.Dial(context.Background(), f.host)
	if revoked, ok := errors.AsType[*probe.HostKeyError](err); !ok || revoked.Problem != probe.KeyRevoked {
		t.Errorf("revoked key: err = %v, want HostKeyError KeyRevoked", err)
	}
}

func TestHostKeyAlgorithmFollowsKnownHosts(t *testing.T) {
	t.Parallel()
	f := setup(t)
	// The server offers ecdsa, which x/crypto prefers, as well as the ed25519 key on file.
	srv := startServer(t, []ssh.PublicKey{f.clientKey.PublicKey()}, newECDSA(t), f.hostKey)
	f.host.Port = srv.port
	f.host.KnownHosts = []string{writeFile(t, f.dir, "kh", xknownhosts.Line([]string{srv.addr}, f.hostKey.PublicKey()))}
	tr := dial(t, nil, f.host)
	if code, err := tr.Run(context.Background(), "true", nil, nil); code != 0 || err != nil {
		t.Errorf("Run = %d, %v", code, err)
	}

	// A host whose key on file is of a type it no longer offers is "changed", not
	// "no common algorithm".
	srv = startServer(t, []ssh.PublicKey{f.clientKey.PublicKey()}, newECDSA(t))
	f.host.Port = srv.port
	f.host.KnownHosts = []string{writeFile(t, f.dir, "kh2", xknownhosts.Line([]string{srv.addr}, f.hostKey.PublicKey()))}
	_, err := (&Dialer{NoAgent: true}).Dial(context.Background(), f.host)
	if hk, ok := errors.AsType[*probe.HostKeyError](err); !ok || hk.Problem != probe.KeyChanged {
		t.Errorf("err = %v, want HostKeyError KeyChanged", err)
	}
}

func TestKnownHostsEntryForms(t *testing.T) {
	t.Parallel()
	f := setup(t)
	key := base64.StdEncoding.EncodeToString(f.hostKey.PublicKey().Marshal())
	normalized := xknownhosts.Normalize(f.srv.addr)
	if want := "[127.0.0.1]:" + strconv.Itoa(f.srv.port); normalized != want {
		t.Fatalf("Normalize = %q, want %q", normalized, want)
	}
	for name, line := range map[string]string{
		"hashed":    xknownhosts.HashHostname(normalized) + " ssh-ed25519 " + key,
		"bracketed": normalized + " ssh-ed25519 " + key,
		"list":      "other.example," + normalized + " ssh-ed25519 " + key,
	} {
		t.Run(name, func(t *testing.T) {
			f.host.KnownHosts = []string{writeFile(t, f.dir, name, line)}
			dial(t, nil, f.host)
		})
	}
	// The port matters: an entry for port 22 does not vouch for another port.
	f.host.KnownHosts = []string{writeFile(t, f.dir, "port22", "127.0.0.1 ssh-ed25519 "+key)}
	_, err := (&Dialer{NoAgent: true}).Dial(context.Background(), f.host)
	if hk, ok := errors.AsType[*probe.HostKeyError](err); !ok || hk.Problem != probe.KeyUnknown {
		t.Errorf("port-22 entry: err = %v, want KeyUnknown", err)
	}
}

func TestSilentHandshakeTimesOut(t *testing.T) {
	t.Parallel()
	addr := silentListener(t)
	h := &probe.Host{Name: "mute", Address: "127.0.0.1", Port: addr.Port, User: "x",
		KnownHosts: []string{filepath.Join(t.TempDir(), "none")}}
	start := time.Now()
	_, err := (&Dialer{NoAgent: true, DialTimeout: 300 * time.Millisecond}).Dial(context.Background(), h)
	ue, ok := errors.AsType[*probe.UnreachableError](err)
	if !ok || !strings.Contains(err.Error(), "handshake timed out") || ue.Host != "mute" || ue.Addr != addr.String() {
		t.Fatalf("err = %v, want UnreachableError saying the handshake timed out", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Dial returned after %v", took)
	}
}

func TestKeepaliveDetectsHungPeer(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tr := dial(t, &Dialer{NoAgent: true, KeepaliveInterval: 100 * time.Millisecond, KeepaliveTimeout: 300 * time.Millisecond}, f.host)

	// Several keepalives are refused (as OpenSSH does) and the connection stays healthy.
	time.Sleep(500 * time.Millisecond)
	if err := tr.Broken(); err != nil {
		t.Fatalf("Broken() = %v on a healthy connection", err)
	}

	started := make(chan struct{})
	var once sync.Once
	out := writerFunc(func(p []byte) (int, error) { once.Do(func() { close(started) }); return len(p), nil })
	result := make(chan error, 1)
	go func() {
		_, err := tr.Run(context.Background(), "echo started; sleep 30", out, nil)
		result <- err
	}()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("command did not start")
	}
	f.srv.frozen.Store(true)

	select {
	case err := <-result:
		if err == nil || !strings.Contains(err.Error(), "keepalive") {
			t.Errorf("Run in flight = %v, want an error about the keepalive", err)
		}
		if _, ok := errors.AsType[*probe.UnreachableError](err); !ok {
			t.Errorf("Run in flight = %v, want it to wrap an UnreachableError", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run still waiting on a hung peer")
	}
	broken := tr.Broken()
	if _, ok := errors.AsType[*probe.UnreachableError](broken); !ok || !strings.Contains(broken.Error(), "no answer to keepalive within 300ms") {
		t.Errorf("Broken() = %v", broken)
	}
	if _, err := tr.Stat(context.Background(), "/"); err == nil {
		t.Error("Stat on a broken connection succeeded")
	}
}

func TestFiles(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tr := dial(t, nil, f.host)
	ctx := context.Background()
	dir := f.srv.dir

	if err := tr.MkdirAll(ctx, dir+"/a/b/c", 0o750); err != nil {
		t.Fatal(err)
	}
	if err := tr.MkdirAll(ctx, dir+"/a/b/c", 0o750); err != nil {
		t.Errorf("MkdirAll on an existing folder: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "a", "b")); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o750 {
		t.Errorf("created parent: %v, %v", fi, err)
	}

	content := strings.Repeat("0123456789", 10000)
	w, err := tr.Create(ctx, dir+"/a/file", 0o640)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, strings.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "a", "file")); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("created file: %v, %v", fi, err)
	}

	r, err := tr.Open(ctx, dir+"/a/file")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if n, err := r.ReadAt(buf, 99990); n != 10 || string(buf) != "0123456789" || (err != nil && err != io.EOF) {
		t.Errorf("ReadAt = %d, %v, %q", n, err, buf)
	}
	all, err := io.ReadAll(r)
	if err != nil || string(all) != content {
		t.Errorf("ReadAll: %d bytes, %v", len(all), err)
	}
	if fi, err := r.Stat(); err != nil || fi.Size() != int64(len(content)) {
		t.Errorf("File.Stat = %v, %v", fi, err)
	}
	_ = r.Close()

	if fi, err := tr.Stat(ctx, dir+"/a/file"); err != nil || fi.Size() != int64(len(content)) || fi.Name() != "file" {
		t.Errorf("Stat = %v, %v", fi, err)
	}

	// Rename replaces an existing file.
	w, _ = tr.Create(ctx, dir+"/a/new", 0o600)
	_, _ = io.WriteString(w, "new")
	_ = w.Close()
	if err := tr.Rename(ctx, dir+"/a/new", dir+"/a/file"); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "a", "file")); err != nil || string(b) != "new" {
		t.Errorf("after Rename: %q, %v", b, err)
	}

	list, err := tr.ReadDir(ctx, dir+"/a")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fi := range list {
		names = append(names, fi.Name())
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"b", "file"}) {
		t.Errorf("ReadDir = %v", names)
	}

	mtime := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	if err := tr.Chtimes(ctx, dir+"/a/file", mtime, mtime); err != nil {
		t.Fatal(err)
	}
	if fi, err := tr.Stat(ctx, dir+"/a/file"); err != nil || !fi.ModTime().Equal(mtime) {
		t.Errorf("after Chtimes: %v, %v", fi.ModTime(), err)
	}

	if err := tr.Remove(ctx, dir+"/a/file"); err != nil {
		t.Fatal(err)
	}
	if err := tr.RemoveAll(ctx, dir+"/a"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after RemoveAll: %v", err)
	}
	if err := tr.RemoveAll(ctx, dir+"/a"); err != nil {
		t.Errorf("RemoveAll of a missing path: %v", err)
	}

	missing := dir + "/missing"
	_, errStat := tr.Stat(ctx, missing)
	_, errOpen := tr.Open(ctx, missing)
	_, errDir := tr.ReadDir(ctx, missing)
	for name, err := range map[string]error{
		"Stat": errStat, "Open": errOpen, "ReadDir": errDir,
		"Remove": tr.Remove(ctx, missing), "Rename": tr.Rename(ctx, missing, dir+"/x"),
		"Chtimes": tr.Chtimes(ctx, missing, mtime, mtime),
	} {
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "missing") || !strings.Contains(err.Error(), "web1") {
			t.Errorf("%s on a missing file: %v, want fs.ErrNotExist naming the host and path", name, err)
		}
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := tr.Stat(cancelled, dir); !errors.Is(err, context.Canceled) {
		t.Errorf("Stat with a cancelled context: %v", err)
	}
}

func TestDialTCP(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tr := dial(t, nil, f.host)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.WriteString(c, "220 hello\r\n")
		_, _ = io.Copy(c, c)
	}()
	c, err := tr.DialTCP(context.Background(), ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "QUIT\r\n")
	buf := make([]byte, len("220 hello\r\nQUIT\r\n"))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "220 hello\r\nQUIT\r\n" {
		t.Errorf("read %q, %v", buf, err)
	}
	if n := f.srv.tcpip.Load(); n != 1 {
		t.Errorf("server saw %d direct-tcpip channels, want 1", n)
	}

	_, err = tr.DialTCP(context.Background(), "127.0.0.1:1")
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("DialTCP to a closed port: %v", err)
	}
}

func TestJumpHost(t *testing.T) {
	t.Parallel()
	target := setup(t)
	jumpKey, _ := newEd25519(t)
	jump := startServer(t, []ssh.PublicKey{target.clientKey.PublicKey()}, jumpKey)
	target.host.Jump = []*probe.Host{{
		Name:          "bastion",
		Address:       "127.0.0.1",
		Port:          jump.port,
		User:          "hopper",
		IdentityFiles: target.host.IdentityFiles,
		KnownHosts:    []string{writeFile(t, target.dir, "bastion_hosts", xknownhosts.Line([]string{jump.addr}, jumpKey.PublicKey()))},
	}}
	tr := dial(t, nil, target.host)
	var out bytes.Buffer
	if code, err := tr.Run(context.Background(), "echo via", &out, nil); code != 0 || err != nil || out.String() != "via\n" {
		t.Errorf("Run = %d, %v, %q", code, err, out.String())
	}
	if jump.tcpip.Load() != 1 || jump.user(0) != "hopper" || target.srv.user(0) != "tester" {
		t.Errorf("jump host opened %d channels for %q; target saw %q", jump.tcpip.Load(), jump.user(0), target.srv.user(0))
	}
	if len(tr.clients) != 2 {
		t.Fatalf("%d clients, want 2", len(tr.clients))
	}
	_ = tr.Close()
	if _, _, err := tr.clients[0].SendRequest("x", true, nil); err == nil {
		t.Error("the jump host's connection is still open after Close")
	}

	// Each hop is verified against its own known_hosts.
	target.host.Jump[0].KnownHosts = target.host.KnownHosts
	_, err := (&Dialer{NoAgent: true}).Dial(context.Background(), target.host)
	if hk, ok := errors.AsType[*probe.HostKeyError](err); !ok || hk.Host != "bastion" || hk.Problem != probe.KeyUnknown {
		t.Errorf("jump host with the wrong known_hosts: %v", err)
	}
}

func TestEncryptedIdentity(t *testing.T) {
	t.Parallel()
	f := setup(t)
	locked := writeKey(t, f.dir, "id_locked", f.clientPK, []byte("open sesame"))
	f.host.IdentityFiles = []string{locked}

	// Without a way to ask, the key is skipped and the failure says why.
	_, err := (&Dialer{NoAgent: true}).Dial(context.Background(), f.host)
	if _, ok := errors.AsType[*probe.UnreachableError](err); !ok ||
		!strings.Contains(err.Error(), "authentication failed") || !strings.Contains(err.Error(), locked+" (encrypted") {
		t.Fatalf("no passphrase callback: %v", err)
	}

	// A key the agent holds is taken from the agent, without asking.
	ring := agent.NewKeyring()
	if err := ring.Add(agent.AddedKey{PrivateKey: f.clientPK}); err != nil {
		t.Fatal(err)
	}
	never := &Dialer{Agent: ring, Passphrase: func(string) ([]byte, error) {
		t.Error("passphrase asked for a key the agent holds")
		return nil, errors.New("no")
	}}
	dial(t, never, f.host)

	// Decrypting takes bcrypt's fixed 16 rounds, slow under the race detector: overlap.
	t.Run("passphrase", func(t *testing.T) {
		t.Parallel()
		var asked []string
		d := &Dialer{NoAgent: true, Passphrase: func(file string) ([]byte, error) {
			asked = append(asked, file)
			return []byte("open sesame"), nil
		}}
		dial(t, d, f.host)
		dial(t, d, f.host)
		if !slices.Equal(asked, []string{locked}) {
			t.Errorf("passphrase asked for %v, want once for %s", asked, locked)
		}
	})
	t.Run("wrong passphrase", func(t *testing.T) {
		t.Parallel()
		wrong := &Dialer{NoAgent: true, Passphrase: func(string) ([]byte, error) { return []byte("nope"), nil }}
		if _, err := wrong.Dial(context.Background(), f.host); err == nil || !strings.Contains(err.Error(), "wrong passphrase") ||
			strings.Contains(err.Error(), "nope") {
			t.Errorf("wrong passphrase: %v", err)
		}
	})
}

func TestAuthFailureNamesWhatWasTried(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, stranger := newEd25519(t)
	other := writeKey(t, f.dir, "id_other", stranger, nil)
	f.host.IdentityFiles = []string{other, filepath.Join(f.dir, "id_gone")}
	ring := agent.NewKeyring()
	_, agentKey := newEd25519(t)
	_ = ring.Add(agent.AddedKey{PrivateKey: agentKey})
	_, err := (&Dialer{Agent: ring}).Dial(context.Background(), f.host)
	want := fmt.Sprintf(`authentication failed for user "tester" (tried: agent, %s; skipped: %s (`, other, f.host.IdentityFiles[1])
	if ue, ok := errors.AsType[*probe.UnreachableError](err); !ok || ue.Host != "web1" || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v\nwant it to contain %s", err, want)
	}
}

func TestDefaults(t *testing.T) {
	f := setup(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("SSH_AUTH_SOCK", "")
	sshDir := filepath.Join(home, ".ssh")
	if err := os.Mkdir(sshDir, 0o700); err != nil {
		t.Fatal(err)
	}
	writeKey(t, sshDir, "id_ed25519", f.clientPK, nil)
	writeFile(t, sshDir, "known_hosts", xknownhosts.Line([]string{f.srv.addr}, f.hostKey.PublicKey()))
	f.host.User, f.host.IdentityFiles, f.host.KnownHosts = "", nil, nil

	dial(t, &Dialer{}, f.host)
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	if got := f.srv.user(0); got != me.Username {
		t.Errorf("logged in as %q, want %q", got, me.Username)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tr := dial(t, nil, f.host)
	if _, err := tr.Stat(context.Background(), "/"); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := tr.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := tr.Broken(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Broken() after Close = %v", err)
	}
	if _, err := tr.Run(context.Background(), "true", nil, nil); err == nil {
		t.Error("Run after Close succeeded")
	}
	if _, err := tr.Stat(context.Background(), "/"); err == nil {
		t.Error("Stat after Close succeeded")
	}
}

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// hostCert certifies key as a host certificate for 127.0.0.1, signed by ca.
func hostCert(t *testing.T, key, ca ssh.Signer) ssh.Signer {
	t.Helper()
	cert := &ssh.Certificate{
		Key: key.PublicKey(), CertType: ssh.HostCert, KeyId: "test host",
		ValidPrincipals: []string{"127.0.0.1"}, ValidBefore: ssh.CertTimeInfinity,
	}
	if err := cert.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewCertSigner(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestHostCertificate: a host that has a certificate (as an sshd with HostCertificate
// does) is verified through a @cert-authority entry when there is one; without one it
// is reported as an unknown or changed key, with the fingerprint of the key it
// certifies, never as unreachable with x/crypto's "no authorities for hostname".
func TestHostCertificate(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ca, _ := newEd25519(t)
	otherCA, _ := newEd25519(t)
	hostKey, _ := newEd25519(t)
	ecdsaKey := newECDSA(t)
	srv := startServer(t, []ssh.PublicKey{f.clientKey.PublicKey()}, hostKey, hostCert(t, hostKey, ca))
	pattern := xknownhosts.Normalize(srv.addr)
	authority := func(k ssh.Signer) string { return "@cert-authority " + pattern + " " + authorizedKey(k) }
	f.host.Port = srv.port
	d := &Dialer{NoAgent: true}
	dialErr := func(name string, lines ...string) error {
		f.host.KnownHosts = []string{writeFile(t, f.dir, name, lines...)}
		tr, err := d.Dial(context.Background(), f.host)
		if err == nil {
			_ = tr.Close()
		}
		return err
	}
	wantProblem := func(name string, err error, want probe.HostKeyProblem, presented ssh.Signer) {
		t.Helper()
		hk, ok := errors.AsType[*probe.HostKeyError](err)
		if !ok || hk.Problem != want {
			t.Errorf("%s: err = %v, want HostKeyError %v", name, err, want)
			return
		}
		if hk.Presented != fingerprint(presented.PublicKey()) || strings.Contains(hk.Presented, "cert") {
			t.Errorf("%s: presented %q, want the certified key %s", name, hk.Presented, fingerprint(presented.PublicKey()))
		}
	}

	// No entry for the host at all.
	wantProblem("no entry", dialErr("kh_none", xknownhosts.Line([]string{"192.0.2.1"}, hostKey.PublicKey())), probe.KeyUnknown, hostKey)
	// Only an authority that did not sign the certificate, and no plain entry.
	wantProblem("other authority", dialErr("kh_other", authority(otherCA)), probe.KeyUnknown, hostKey)
	// The authority that signed it.
	f.host.KnownHosts = []string{writeFile(t, f.dir, "kh_ca", authority(ca))}
	tr := dial(t, d, f.host)
	if got, want := tr.HostKey(), fingerprint(hostKey.PublicKey()); got != want {
		t.Errorf("HostKey() = %s, want the certified key %s", got, want)
	}
	// Another authority, but the host's key on file: accepted, as by OpenSSH.
	if err := dialErr("kh_plain", authority(otherCA), xknownhosts.Line([]string{srv.addr}, hostKey.PublicKey())); err != nil {
		t.Errorf("plain key on file: %v", err)
	}
	// A certificate from a revoked authority is refused even so.
	err := dialErr("kh_revoked", authority(otherCA), "@revoked * "+authorizedKey(ca), xknownhosts.Line([]string{srv.addr}, hostKey.PublicKey()))
	if hk, ok := errors.AsType[*probe.HostKeyError](err); !ok || hk.Problem != probe.KeyRevoked {
		t.Errorf("revoked authority: err = %v, want KeyRevoked", err)
	}

	// The key type on file is gone and the host now has an ecdsa key and certificate.
	srv2 := startServer(t, []ssh.PublicKey{f.clientKey.PublicKey()}, ecdsaKey, hostCert(t, ecdsaKey, ca))
	f.host.Port = srv2.port
	err = dialErr("kh_gone", xknownhosts.Line([]string{srv2.addr}, hostKey.PublicKey()))
	wantProblem("type gone", err, probe.KeyChanged, ecdsaKey)
	if hk, ok := errors.AsType[*probe.HostKeyError](err); ok && (len(hk.Known) != 1 || !strings.Contains(hk.Known[0], ssh.FingerprintSHA256(hostKey.PublicKey()))) {
		t.Errorf("type gone: known = %v, want the ed25519 entry", hk.Known)
	}
}

func authorizedKey(k ssh.Signer) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k.PublicKey())))
}
