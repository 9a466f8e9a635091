package sshx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/cutover/cutover/probe"
)

// transport is one SSH connection to a host, possibly through jump hosts.
type transport struct {
	host    *probe.Host
	addr    string
	clients []*ssh.Client // jump hosts in order, then the host
	client  *ssh.Client   // the host's: the last of clients
	timing  probe.Timing
	done    chan struct{} // closed by Close, to stop the keepalive
	gone    chan struct{} // closed when the connection is found dead (fail)
	hostKey string        // the host's verified key, "TYPE SHA256:..."
	hostPub string        // the same key as "TYPE BASE64", for a known_hosts line
	login   string        // the account logged in as
	dialer  *Dialer       // asks for sudo passwords (Become)

	mu     sync.Mutex
	broken error // why the connection died; nil while healthy
	closed bool

	sftpMu sync.Mutex
	sftp   *sftp.Client // started on first use
}

var _ interface {
	probe.Transport
	probe.Broken
	probe.Timed
	probe.Identified
	probe.PinnedKey
} = (*transport)(nil)

// VerifiedHostKey returns the host's verified public key as "TYPE BASE64".
func (t *transport) VerifiedHostKey() string { return t.hostPub }

// HostKey returns the host's verified key as "TYPE SHA256:fingerprint".
func (t *transport) HostKey() string { return t.hostKey }

// Timing reports how long the TCP connections (Dial) and the SSH handshakes with
// authentication (Auth) took, jump hosts included. Exec is left to the caller.
func (t *transport) Timing() probe.Timing { return t.timing }

// Broken returns why the connection is no longer usable (a keepalive went unanswered,
// the connection dropped, or it was closed), or nil while it is healthy.
func (t *transport) Broken() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.broken == nil && t.closed {
		return fmt.Errorf("%s (%s): %w", t.host.Name, t.addr, net.ErrClosed)
	}
	return t.broken
}

// fail records why the connection died and closes it, so operations in flight return
// at once; the first reason wins, and none is recorded after Close.
func (t *transport) fail(reason error) {
	t.mu.Lock()
	if t.broken == nil && !t.closed {
		t.broken = &probe.UnreachableError{Host: t.host.Name, Addr: t.addr, Err: reason}
		close(t.gone)
	}
	t.mu.Unlock()
	t.closeClients()
}

// watch notices the connection ending by itself (the host closed it, or a jump host's
// connection dropped).
func (t *transport) watch() {
	err := t.client.Wait()
	t.fail(fmt.Errorf("connection lost: %w", err))
}

// keepalive asks the host for a reply every interval, as OpenSSH's ServerAliveInterval
// does. Any reply, even a refusal, shows the host is there; none within timeout means it
// or the network stopped responding, and TCP alone could take many minutes to notice.
func (t *transport) keepalive(interval, timeout time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-t.done:
			return
		case <-tick.C:
		}
		reply := make(chan error, 1)
		go func() {
			_, _, err := t.client.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		select {
		case <-t.done:
			return
		case err := <-reply:
			if err != nil {
				return // the connection is gone; watch says why
			}
		case <-time.After(timeout):
			t.fail(fmt.Errorf("no answer to keepalive within %v: the host or the network stopped responding", timeout))
			return
		}
	}
}

// Close closes the SFTP session and the connections to the host and any jump hosts.
// It is idempotent and returns nil: a connection that already died is closed as far as
// the caller is concerned.
func (t *transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.mu.Unlock()
	close(t.done)
	// Connections first: that also ends a SFTP start that is waiting on the host.
	t.closeClients()
	t.sftpMu.Lock()
	if t.sftp != nil {
		_ = t.sftp.Close()
	}
	t.sftpMu.Unlock()
	return nil
}

// closeClients closes the host's connection, then the jump hosts' back to the first.
func (t *transport) closeClients() {
	for i := len(t.clients) - 1; i >= 0; i-- {
		_ = t.clients[i].Close()
	}
}

// usable returns why an operation should not start.
func (t *transport) usable(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return t.Broken()
}

// failed names the host in err, or, when the connection broke, leads with the reason:
// "keepalive unanswered" explains an operation's "EOF".
//
// An error that only a dead connection produces (EOF, an exit status that never came,
// a garbled channel open) often arrives before the connection's own watcher has noticed
// the end; waiting a moment for it lets the caller see an UnreachableError, which is
// what it is (exit code 4, outcome unknown), and not a failed command.
func (t *transport) failed(err error) error {
	if t.Broken() == nil && connectionLevel(err) {
		select {
		case <-t.gone:
		case <-t.done:
		case <-time.After(500 * time.Millisecond):
		}
	}
	if b := t.Broken(); b != nil {
		return fmt.Errorf("%w: %w", b, err)
	}
	if connectionLevel(err) {
		return &probe.UnreachableError{Host: t.host.Name, Addr: t.addr, Err: err}
	}
	return fmt.Errorf("%s (%s): %w", t.host.Name, t.addr, err)
}

// connectionLevel reports errors that mean the connection, not the operation, failed.
func connectionLevel(err error) bool {
	if _, ok := errors.AsType[*ssh.ExitMissingError](err); ok {
		return true
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		// pkg/sftp fails the requests in flight with these when its channel ends.
		errors.Is(err, sftp.ErrSSHFxConnectionLost) || errors.Is(err, sftp.ErrSSHFxNoConnection) {
		return true
	}
	return strings.Contains(err.Error(), "unexpected packet in response to channel open")
}

// Run runs cmd in a new session and returns its exit code; a command killed by a signal
// returns 128 plus the signal's number, like a shell. POSIX hosts get cmd as is: the
// server runs it with the user's login shell; with Become, sudo runs it with /bin/sh
// as the Become account (become.go), and a sudo that refuses gives a
// *probe.BecomeError. PowerShell hosts get it on the standard
// input of "powershell -Command -", because Windows' OpenSSH hands a command line to
// cmd.exe first and no quoting survives both cmd.exe and PowerShell intact.
//
// Cancelling ctx sends the command SIGKILL, closes the session and returns ctx.Err().
func (t *transport) Run(ctx context.Context, cmd string, stdout, stderr io.Writer) (int, error) {
	if err := t.usable(ctx); err != nil {
		return -1, err
	}
	s, err := t.session(ctx)
	if err != nil {
		return -1, t.failed(fmt.Errorf("opening a session: %w", err))
	}
	defer s.Close()
	if t.host.Become != nil && !t.host.PowerShell() {
		return t.runBecome(ctx, s, cmd, stdout, stderr)
	}
	out := &outputs{}
	defer out.stop()
	s.Stdout, s.Stderr = out.to(stdout), out.to(stderr)
	if t.host.PowerShell() {
		if !strings.HasSuffix(cmd, "\n") {
			cmd += "\n" // PowerShell runs a line only once it ends
		}
		s.Stdin = strings.NewReader(cmd)
		cmd = "powershell -NoProfile -NonInteractive -Command -"
	}

	done := make(chan error, 1)
	go func() { done <- s.Run(cmd) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = s.Signal(ssh.SIGKILL)
		return -1, ctx.Err()
	}
	code, err := exitStatus(err)
	if err != nil {
		return -1, t.failed(err)
	}
	return code, nil
}

// exitStatus reads a session's end: its exit code, or the error that is not one.
func exitStatus(err error) (int, error) {
	if ee, ok := errors.AsType[*ssh.ExitError](err); ok {
		if sig := ee.Signal(); sig != "" {
			return signalExit(sig), nil
		}
		return ee.ExitStatus(), nil
	}
	if err != nil {
		return -1, err
	}
	return 0, nil
}

// session opens a session, giving up when ctx ends.
func (t *transport) session(ctx context.Context) (*ssh.Session, error) {
	type opened struct {
		s   *ssh.Session
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		s, err := t.client.NewSession()
		ch <- opened{s, err}
	}()
	select {
	case o := <-ch:
		return o.s, o.err
	case <-ctx.Done():
		go func() {
			if o := <-ch; o.s != nil {
				_ = o.s.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// signalExit is the exit code a shell reports for a command killed by the signal RFC
// 4254 names: 128 plus its POSIX number, or 255 for a signal whose number differs
// between systems.
func signalExit(name string) int {
	switch name {
	case "HUP":
		return 128 + 1
	case "INT":
		return 128 + 2
	case "QUIT":
		return 128 + 3
	case "ILL":
		return 128 + 4
	case "ABRT":
		return 128 + 6
	case "FPE":
		return 128 + 8
	case "KILL":
		return 128 + 9
	case "SEGV":
		return 128 + 11
	case "PIPE":
		return 128 + 13
	case "ALRM":
		return 128 + 14
	case "TERM":
		return 128 + 15
	}
	return 255
}

// outputs passes a session's stdout and stderr to the caller's writers. x/crypto copies
// each in its own goroutine and callers often pass one writer for both, so writes are
// serialised; and after Run returns early (ctx ended) late output is dropped rather than
// written to a buffer the caller is already reading.
type outputs struct {
	mu      sync.Mutex
	stopped bool
}

func (o *outputs) to(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return writerFunc(func(p []byte) (int, error) {
		o.mu.Lock()
		defer o.mu.Unlock()
		if o.stopped {
			return len(p), nil
		}
		return w.Write(p)
	})
}

func (o *outputs) stop() {
	o.mu.Lock()
	o.stopped = true
	o.mu.Unlock()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// DialTCP opens a direct-tcpip channel: the host itself connects to addr.
func (t *transport) DialTCP(ctx context.Context, addr string) (net.Conn, error) {
	if err := t.usable(ctx); err != nil {
		return nil, err
	}
	conn, err := t.client.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, t.failed(fmt.Errorf("connecting to %s from the host: %w", addr, err))
	}
	return conn, nil
}

// files returns the connection's SFTP client, starting it on first use. A failed start
// is not remembered, and a session that ends (the host's sftp-server died) is replaced
// on the next call.
func (t *transport) files(ctx context.Context) (*sftp.Client, error) {
	if err := t.usable(ctx); err != nil {
		return nil, err
	}
	t.sftpMu.Lock()
	defer t.sftpMu.Unlock()
	if t.sftp != nil {
		return t.sftp, nil
	}
	var c *sftp.Client
	var err error
	if t.host.Become != nil && !t.host.PowerShell() {
		c, err = t.becomeSFTP(ctx)
	} else {
		c, err = sftp.NewClient(t.client, sftp.UseConcurrentReads(true), sftp.UseConcurrentWrites(true))
	}
	if err != nil {
		if _, ok := errors.AsType[*probe.BecomeError](err); ok || ctx.Err() != nil {
			return nil, err
		}
		return nil, t.failed(fmt.Errorf("starting SFTP: %w", err))
	}
	t.sftp = c
	go func() {
		_ = c.Wait()
		t.sftpMu.Lock()
		if t.sftp == c {
			t.sftp = nil
		}
		t.sftpMu.Unlock()
	}()
	return c, nil
}

// fsErr makes err a *fs.PathError (pkg/sftp returns some errors bare, such as
// os.ErrNotExist for SSH_FX_NO_SUCH_FILE) and names the host.
func (t *transport) fsErr(op, p string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*fs.PathError](err); !ok {
		err = &fs.PathError{Op: op, Path: p, Err: err}
	}
	return t.failed(err)
}

// Stat returns file information, following symbolic links.
func (t *transport) Stat(ctx context.Context, p string) (fs.FileInfo, error) {
	c, err := t.files(ctx)
	if err != nil {
		return nil, err
	}
	fi, err := c.Stat(p)
	return fi, t.fsErr("stat", p, err)
}

// ReadDir lists a folder, without "." and "..".
func (t *transport) ReadDir(ctx context.Context, p string) ([]fs.FileInfo, error) {
	c, err := t.files(ctx)
	if err != nil {
		return nil, err
	}
	list, err := c.ReadDirContext(ctx, p)
	return list, t.fsErr("readdir", p, err)
}

// Open opens a file for reading; reads may run ahead concurrently.
func (t *transport) Open(ctx context.Context, p string) (probe.File, error) {
	c, err := t.files(ctx)
	if err != nil {
		return nil, err
	}
	f, err := c.Open(p)
	if err != nil {
		return nil, t.fsErr("open", p, err)
	}
	return f, nil
}

// Create creates or truncates a file and sets its permissions to exactly perm (no
// umask) before anything is written to it.
func (t *transport) Create(ctx context.Context, p string, perm fs.FileMode) (io.WriteCloser, error) {
	c, err := t.files(ctx)
	if err != nil {
		return nil, err
	}
	f, err := c.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return nil, t.fsErr("create", p, err)
	}
	if err := f.Chmod(perm); err != nil {
		_ = f.Close()
		return nil, t.fsErr("chmod", p, err)
	}
	return f, nil
}

// MkdirAll creates a folder and any missing parents, each with permissions perm.
func (t *transport) MkdirAll(ctx context.Context, p string, perm fs.FileMode) error {
	c, err := t.files(ctx)
	if err != nil {
		return err
	}
	return t.fsErr("mkdir", p, mkdirAll(c, path.Clean(p), perm))
}

// mkdirAll is os.MkdirAll over SFTP. pkg/sftp's own creates folders with the server's
// default mode, and a folder for a mail queue or for keys must get perm.
func mkdirAll(c *sftp.Client, p string, perm fs.FileMode) error {
	if fi, err := c.Stat(p); err == nil {
		if fi.IsDir() {
			return nil
		}
		return &fs.PathError{Op: "mkdir", Path: p, Err: syscall.ENOTDIR}
	}
	if parent := path.Dir(p); parent != p && parent != "." {
		if err := mkdirAll(c, parent, perm); err != nil {
			return err
		}
	}
	if err := c.Mkdir(p); err != nil {
		if fi, serr := c.Stat(p); serr == nil && fi.IsDir() {
			return nil // created meanwhile
		}
		return &fs.PathError{Op: "mkdir", Path: p, Err: err}
	}
	return c.Chmod(p, perm)
}

// Remove removes a file or an empty folder.
func (t *transport) Remove(ctx context.Context, p string) error {
	c, err := t.files(ctx)
	if err != nil {
		return err
	}
	return t.fsErr("remove", p, c.Remove(p))
}

// RemoveAll removes p and everything below it; a missing p is not an error.
func (t *transport) RemoveAll(ctx context.Context, p string) error {
	c, err := t.files(ctx)
	if err != nil {
		return err
	}
	if err := c.RemoveAll(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return t.fsErr("removeall", p, err)
	}
	return nil
}

// Rename renames oldpath to newpath, replacing newpath. With OpenSSH's
// posix-rename@openssh.com extension the replacement is atomic; plain SFTP refuses to
// rename onto an existing file, so without it newpath is removed first.
func (t *transport) Rename(ctx context.Context, oldpath, newpath string) error {
	c, err := t.files(ctx)
	if err != nil {
		return err
	}
	if _, ok := c.HasExtension("posix-rename@openssh.com"); ok {
		err = c.PosixRename(oldpath, newpath)
	} else if err = c.Remove(newpath); err == nil || errors.Is(err, fs.ErrNotExist) {
		err = c.Rename(oldpath, newpath)
	}
	if err != nil {
		return t.failed(&os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err})
	}
	return nil
}

// Chtimes sets access and modification times, to the second (SFTP version 3 carries
// no more).
func (t *transport) Chtimes(ctx context.Context, p string, atime, mtime time.Time) error {
	c, err := t.files(ctx)
	if err != nil {
		return err
	}
	return t.fsErr("chtimes", p, c.Chtimes(p, atime, mtime))
}
