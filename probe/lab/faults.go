package lab

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/ssh"
)

// Fault knobs. Scenario faults are flag files the simulated software reads; the knobs
// below break the SSH side, for tests of how cutover copes with hosts that hang, drop
// connections or change their keys.

// mustHost returns the named host; a wrong name is a mistake in the calling test or
// scenario, so it panics.
func (l *Lab) mustHost(name string) *host {
	h := l.byName[name]
	if h == nil {
		panic(fmt.Sprintf("lab: scenario %s has no host %q", l.sc.Name, name))
	}
	return h
}

// SetFlag writes DIR/hosts/<host>/var/faults/<name> with content; the scenario's scripts
// test for these files to misbehave on purpose.
func (l *Lab) SetFlag(host, name, content string) error {
	h := l.byName[host]
	if h == nil {
		return fmt.Errorf("lab: scenario %s has no host %q", l.sc.Name, host)
	}
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return fmt.Errorf("lab: host %s: fault flag name %q must be a plain file name", host, name)
	}
	dir := filepath.Join(h.root, "var", "faults")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("lab: host %s: %w", host, err)
	}
	if err := writeFileAtomic(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		return fmt.Errorf("lab: host %s: %w", host, err)
	}
	return nil
}

// Hang makes the host's existing and new SSH connections stop answering: nothing more
// is read or written, and nothing is closed, until Unhang. Clients see a host that went
// silent (keepalives unanswered), not one that went away. It panics if the host is not
// in the scenario.
func (l *Lab) Hang(host string) {
	h := l.mustHost(host)
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.gate:
		h.gate = make(chan struct{})
	default: // already hanging
	}
}

// Unhang lets the host's connections carry on where Hang stopped them; it panics on an
// unknown host as Hang does.
func (l *Lab) Unhang(host string) {
	h := l.mustHost(host)
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.gate:
	default:
		close(h.gate)
	}
}

// Drop closes all current SSH connections of the host, killing their commands; new
// connections are accepted as usual. It panics if the host is not in the scenario.
func (l *Lab) Drop(host string) {
	h := l.mustHost(host)
	l.logf("%s: dropping all connections", h.name)
	h.closeConns()
}

// RotateKey gives the host a new ed25519 host key, as a reinstall would: new connections
// present it, known_hosts keeps the old one, and the key file in DIR/hostkeys is
// replaced so the change survives a lab restart. The old and new SHA256 fingerprints go
// to the log; HostKeyFingerprint tells them too.
func (l *Lab) RotateKey(host string) error {
	h := l.byName[host]
	if h == nil {
		return fmt.Errorf("lab: scenario %s has no host %q", l.sc.Name, host)
	}
	key, err := newEd25519()
	if err != nil {
		return fmt.Errorf("lab: host %s: new host key: %w", host, err)
	}
	s, err := writeKey(l.hostKeyPath(h, ssh.KeyAlgoED25519), "lab host "+h.name, key)
	if err != nil {
		return err
	}
	h.mu.Lock()
	old := h.ed25519
	h.ed25519 = s
	h.mu.Unlock()
	l.logf("%s: host key rotated from %s to %s", h.name, ssh.FingerprintSHA256(old.PublicKey()), ssh.FingerprintSHA256(s.PublicKey()))
	return nil
}

// HostKeyFingerprint is the SHA256 fingerprint ("SHA256:...") of the ed25519 key the host
// presents now, or "" if there is no such host.
func (l *Lab) HostKeyFingerprint(host string) string {
	h := l.byName[host]
	if h == nil {
		return ""
	}
	ed, _ := h.hostKeys()
	return ssh.FingerprintSHA256(ed.PublicKey())
}

// openGate returns a closed gate: traffic flows.
func openGate() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// currentGate is the channel traffic waits on; it is closed unless the host hangs.
func (h *host) currentGate() chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.gate
}

// gatedConn is an SSH connection that Hang can freeze: reads and writes wait while the
// host hangs, and data that arrives meanwhile is held back.
type gatedConn struct {
	net.Conn
	h      *host
	closed chan struct{}
	once   sync.Once
	// link, when set, holds traffic to the operator's link speed (SetOperatorLink).
	link atomic.Pointer[linkLimit]
}

func (h *host) newConn(c net.Conn) *gatedConn {
	return &gatedConn{Conn: c, h: h, closed: make(chan struct{})}
}

func (c *gatedConn) wait() error {
	select {
	case <-c.h.currentGate():
		return nil
	case <-c.closed:
		return net.ErrClosed
	}
}

// Read reads once the host answers again.
func (c *gatedConn) Read(p []byte) (int, error) {
	if err := c.wait(); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	if lim := c.link.Load(); lim != nil {
		lim.up.take(n)
	}
	if werr := c.wait(); werr != nil {
		return 0, werr
	}
	return n, err
}

// Write writes once the host answers again.
func (c *gatedConn) Write(p []byte) (int, error) {
	if err := c.wait(); err != nil {
		return 0, err
	}
	if lim := c.link.Load(); lim != nil {
		lim.down.take(len(p))
	}
	return c.Conn.Write(p)
}

// Close closes the connection and releases reads and writes waiting on a hang.
func (c *gatedConn) Close() error {
	err := net.ErrClosed
	c.once.Do(func() {
		close(c.closed)
		err = c.Conn.Close()
	})
	return err
}
