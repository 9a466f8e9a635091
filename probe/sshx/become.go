package sshx

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/cutover/cutover/probe"
)

// Become: a host with probe.Host.Become runs every command as
//
//	sudo -S -p PROMPT -u USER -- /bin/sh -c 'echo MARK >&2 && exec /bin/sh -c "$1"' cutover-become COMMAND
//
// and its file operations through an SFTP server started the same way (exec "$1" of
// the sftp-server program) as the session's command, with the SFTP client over the
// session's standard input and output. PROMPT and MARK carry a random nonce. What
// sudo writes to standard error is read until one of them arrives:
//   - PROMPT: sudo wants the login account's password. It is written to the session's
//     standard input, once, followed by a newline: sudo reads it byte by byte up to
//     the newline, so nothing of it is left for the command. A second PROMPT means
//     sudo refused it, and the session is ended.
//   - MARK: sudo let the login become USER and the command starts. From here standard
//     error is the command's own; for a command, standard input is closed (commands
//     get no input, as without become); for SFTP it now carries the protocol.
//
// A session that ends without MARK never ran the command: Run returns a
// *probe.BecomeError with what sudo said. So a host whose sudo needs no password
// (NOPASSWD) never asks, and the password is asked for only when sudo wants it; it
// is never on a command line, in an environment variable of the host, or in any
// output. COMMAND stays one argument of sh -c, byte for byte.

// becomeMaxSaid caps what is kept of sudo's words before MARK, for the error message.
const becomeMaxSaid = 4096

// becomeScript is the script sudo runs: announce, then run "$1" as a shell command.
func becomeScript(mark string) string {
	return "echo " + mark + ` >&2 && exec /bin/sh -c "$1"`
}

// sftpServerPaths are where distributions install OpenSSH's sftp-server.
var sftpServerPaths = []string{
	"/usr/lib/openssh/sftp-server",     // Debian, Ubuntu
	"/usr/libexec/openssh/sftp-server", // Red Hat, Fedora, SUSE
	"/usr/lib/ssh/sftp-server",         // Arch, Alpine
	"/usr/libexec/sftp-server",         // macOS, BSDs
	"/usr/local/libexec/sftp-server",   // FreeBSD ports
	"/usr/lib/misc/sftp-server",        // Gentoo
}

// becomeSFTPScript is the script sudo runs for file operations: announce, then start
// the sftp-server program "$1" names, or else the one sshd_config's Subsystem line
// names, or else the first of the usual places.
func becomeSFTPScript(mark string) string {
	return "echo " + mark + ` >&2
if [ -n "$1" ]; then exec "$1"; fi
s=$(sed -n 's/^[[:space:]]*[Ss]ubsystem[[:space:]][[:space:]]*sftp[[:space:]][[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/ssh/sshd_config 2>/dev/null | head -n 1)
for p in "$s" ` + strings.Join(sftpServerPaths, " ") + `; do
  case "$p" in /*) [ -x "$p" ] && exec "$p" ;; esac
done
echo "no sftp-server program found (give the host sftp_server: PATH in the inventory)" >&2
exit 127`
}

// sudoCommand is the session command that runs script as the Become account, with arg
// as its $1.
func sudoCommand(b *probe.Become, prompt, script, arg string) string {
	return "sudo -S -p " + probe.ShellQuote(prompt) + " -u " + probe.ShellQuote(b.Account()) +
		" -- /bin/sh -c " + probe.ShellQuote(script) + " cutover-become " + probe.ShellQuote(arg)
}

// sudoDialog reads sudo's standard error until MARK, answering PROMPT with the
// password; afterwards it passes standard error on.
type sudoDialog struct {
	prompt, mark []byte
	stdin        io.WriteCloser
	password     func() ([]byte, error) // the password to answer PROMPT with
	refused      func()                 // sudo refused the password given
	closeOnMark  bool                   // end standard input once the command runs
	after        io.Writer              // where the command's standard error goes

	mu      sync.Mutex
	said    []byte // what came before MARK, PROMPTs taken out
	prompts int
	reason  string        // why the dialog failed, when it did
	marked  chan struct{} // closed at MARK
	failed  chan struct{} // closed when the dialog gave up
	over    bool          // MARK seen or given up
}

func newSudoDialog(nonce string, stdin io.WriteCloser, after io.Writer) *sudoDialog {
	return &sudoDialog{
		prompt: []byte(sudoPrompt(nonce)),
		mark:   []byte(sudoMark(nonce) + "\n"),
		stdin:  stdin,
		after:  after,
		marked: make(chan struct{}),
		failed: make(chan struct{}),
	}
}

// sudoPrompt is the prompt sudo is told to print; it holds no % (sudo expands those).
func sudoPrompt(nonce string) string { return "[cutover-sudo-" + nonce + "] password: " }

// sudoMark is the line the script prints once sudo let it run.
func sudoMark(nonce string) string { return "cutover-become-" + nonce }

// Write takes what the session writes to standard error.
func (d *sudoDialog) Write(p []byte) (int, error) {
	d.mu.Lock()
	if d.over {
		d.mu.Unlock()
		if d.after == nil {
			return len(p), nil
		}
		return d.after.Write(p)
	}
	d.said = append(d.said, p...)
	var rest []byte
	for !d.over {
		pi, mi := bytes.Index(d.said, d.prompt), bytes.Index(d.said, d.mark)
		switch {
		case mi >= 0 && (pi < 0 || mi < pi):
			rest = bytes.Clone(d.said[mi+len(d.mark):])
			d.said = d.said[:mi]
			d.over = true
			close(d.marked)
			if d.closeOnMark {
				_ = d.stdin.Close()
			}
		case pi >= 0:
			d.said = append(d.said[:pi], d.said[pi+len(d.prompt):]...)
			d.prompts++
			if d.prompts > 1 {
				if d.refused != nil {
					d.refused()
				}
				d.giveUp("sudo refused the password")
				continue
			}
			pw, err := d.password()
			if err != nil {
				d.giveUp(err.Error())
				continue
			}
			line := append(pw, '\n')
			_, werr := d.stdin.Write(line)
			clear(line)
			if werr != nil {
				d.giveUp(fmt.Sprintf("writing the password to sudo: %v", werr))
			}
		default:
			if len(d.said) > becomeMaxSaid+len(d.prompt)+len(d.mark) {
				// Keep the end, where PROMPT or MARK would be.
				d.said = append(d.said[:0], d.said[len(d.said)-becomeMaxSaid:]...)
			}
			d.mu.Unlock()
			return len(p), nil
		}
	}
	d.mu.Unlock()
	if len(rest) > 0 && d.after != nil {
		_, _ = d.after.Write(rest)
	}
	return len(p), nil
}

// giveUp ends the dialog: closing standard input makes a sudo waiting for a password
// give up, so the session ends. Called with d.mu held.
func (d *sudoDialog) giveUp(reason string) {
	d.reason, d.over = reason, true
	close(d.failed)
	_ = d.stdin.Close()
}

// ran reports whether MARK arrived: the command ran.
func (d *sudoDialog) ran() bool {
	select {
	case <-d.marked:
		return true
	default:
		return false
	}
}

// why says why the command did not run: the dialog's reason, else what sudo said.
func (d *sudoDialog) why(code int) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.reason != "" {
		return d.reason
	}
	said := printable(string(bytes.TrimSpace(d.said)))
	if said == "" {
		return fmt.Sprintf("sudo exited with status %d and said nothing", code)
	}
	return said
}

// printable keeps what a host said on one line, with control characters shown as
// escapes, so it cannot forge lines of a message.
func printable(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString("; ")
		case unicode.IsControl(r):
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// newNonce is a random word for a session's PROMPT and MARK.
func newNonce() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// becomeError is the error for a session whose command sudo did not start.
func (t *transport) becomeError(reason string) error {
	return &probe.BecomeError{Host: t.host.Name, Login: t.login, User: t.host.Become.Account(), Reason: reason}
}

// becomePassword is the password for sudo's prompt on this host: the inventory's, or
// the Dialer's for the login account.
func (t *transport) becomePassword() ([]byte, error) {
	if pw := t.host.Become.Password; pw != "" {
		return []byte(pw), nil
	}
	if t.dialer == nil {
		return nil, errors.New("sudo wants a password and there is no way to ask for it")
	}
	return t.dialer.becomePassword(t.host, t.login)
}

// forgetPassword drops a password sudo refused, so it is asked for again.
func (t *transport) forgetPassword() {
	if t.host.Become.Password == "" && t.dialer != nil {
		t.dialer.forgetBecomePassword(t.login)
	}
}

// becomePassword asks BecomePassword once per login account and remembers the answer
// for the Dialer's life; calls are serialised, so hosts reached at once that share a
// login ask once.
func (d *Dialer) becomePassword(h *probe.Host, login string) ([]byte, error) {
	d.pwMu.Lock()
	defer d.pwMu.Unlock()
	if pw, ok := d.passwords[login]; ok {
		return bytes.Clone(pw), nil
	}
	if d.BecomePassword == nil {
		return nil, errors.New("sudo wants a password and there is no way to ask for it")
	}
	pw, err := d.BecomePassword(h, login)
	if err != nil {
		return nil, fmt.Errorf("sudo wants a password: %w", err)
	}
	if d.passwords == nil {
		d.passwords = map[string][]byte{}
	}
	d.passwords[login] = pw
	return bytes.Clone(pw), nil
}

func (d *Dialer) forgetBecomePassword(login string) {
	d.pwMu.Lock()
	defer d.pwMu.Unlock()
	clear(d.passwords[login])
	delete(d.passwords, login)
}

// runBecome runs cmd through sudo on session s (see the top of this file).
func (t *transport) runBecome(ctx context.Context, s *ssh.Session, cmd string, stdout, stderr io.Writer) (int, error) {
	stdin, err := s.StdinPipe()
	if err != nil {
		return -1, t.failed(fmt.Errorf("opening a session: %w", err))
	}
	out := &outputs{}
	defer out.stop()
	nonce := newNonce()
	d := newSudoDialog(nonce, stdin, out.to(stderr))
	d.password, d.refused, d.closeOnMark = t.becomePassword, t.forgetPassword, true
	s.Stdout, s.Stderr = out.to(stdout), d
	done := make(chan error, 1)
	go func() {
		done <- s.Run(sudoCommand(t.host.Become, sudoPrompt(nonce), becomeScript(sudoMark(nonce)), cmd))
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		// sudo passes TERM on to the command; KILL would end sudo and leave it running.
		_ = s.Signal(ssh.SIGTERM)
		_ = s.Signal(ssh.SIGKILL)
		return -1, ctx.Err()
	}
	code, err := exitStatus(err)
	if err != nil {
		return -1, t.failed(err)
	}
	if !d.ran() {
		return -1, t.becomeError(d.why(code))
	}
	return code, nil
}

// becomeSFTP starts an SFTP server under sudo on a new session and returns a client
// over its pipes, with a function that ends the session.
func (t *transport) becomeSFTP(ctx context.Context) (*sftp.Client, error) {
	s, err := t.session(ctx)
	if err != nil {
		return nil, t.failed(fmt.Errorf("opening a session for SFTP: %w", err))
	}
	stdin, err := s.StdinPipe()
	if err != nil {
		_ = s.Close()
		return nil, t.failed(fmt.Errorf("starting SFTP: %w", err))
	}
	stdout, err := s.StdoutPipe()
	if err != nil {
		_ = s.Close()
		return nil, t.failed(fmt.Errorf("starting SFTP: %w", err))
	}
	nonce := newNonce()
	tail := &tailBuffer{max: becomeMaxSaid}
	d := newSudoDialog(nonce, stdin, tail)
	d.password, d.refused = t.becomePassword, t.forgetPassword
	s.Stderr = d
	b := t.host.Become
	if err := s.Start(sudoCommand(b, sudoPrompt(nonce), becomeSFTPScript(sudoMark(nonce)), b.SFTPServer)); err != nil {
		_ = s.Close()
		return nil, t.failed(fmt.Errorf("starting SFTP under sudo: %w", err))
	}
	ended := make(chan error, 1)
	go func() { ended <- s.Wait() }()
	select {
	case <-d.marked:
	case <-d.failed:
		_ = s.Close()
		return nil, t.becomeError(d.why(-1))
	case err := <-ended:
		code, werr := exitStatus(err)
		if werr != nil {
			return nil, t.failed(fmt.Errorf("starting SFTP under sudo: %w", werr))
		}
		return nil, t.becomeError(d.why(code))
	case <-ctx.Done():
		_ = s.Close()
		return nil, ctx.Err()
	}
	c, err := sftp.NewClientPipe(stdout, &sessionStdin{WriteCloser: stdin, s: s},
		sftp.UseConcurrentReads(true), sftp.UseConcurrentWrites(true))
	if err != nil {
		_ = s.Close()
		if said := printable(strings.TrimSpace(tail.String())); said != "" {
			err = fmt.Errorf("%w (%s)", err, said)
		}
		return nil, t.failed(fmt.Errorf("starting SFTP under sudo as %s: %w", b.Account(), err))
	}
	return c, nil
}

// sessionStdin ends the session when the SFTP client closes its end.
type sessionStdin struct {
	io.WriteCloser
	s *ssh.Session
}

func (w *sessionStdin) Close() error {
	err := w.WriteCloser.Close()
	_ = w.s.Close()
	return err
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-b.max:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
