// Package sshx is cutover's SSH transport: it reaches inventory hosts the way OpenSSH
// would (ssh-agent and identity files, known_hosts verification, ProxyJump chains), runs
// commands in exec sessions and works with files over one SFTP session per connection.
// Keepalives notice a host or network that stopped answering, so a probe.Pool dials
// again instead of hanging on a dead connection.
package sshx

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/cutover/cutover/probe"
)

const (
	defaultDialTimeout       = 15 * time.Second
	defaultKeepaliveInterval = 10 * time.Second
	defaultKeepaliveTimeout  = 15 * time.Second
)

// Dialer connects to hosts over SSH. The zero value is ready to use: ssh-agent when
// SSH_AUTH_SOCK is set, the default identity and known_hosts files, and the default
// timeouts. A Dialer is safe for concurrent use and must not be copied after first use.
type Dialer struct {
	// NoAgent stops the Dialer from asking any ssh-agent for keys.
	NoAgent bool
	// Agent, when set, is asked for keys instead of the agent at SSH_AUTH_SOCK
	// (tests pass an agent.NewKeyring()).
	Agent agent.Agent
	// Passphrase returns the passphrase of an encrypted identity file; the Dialer wipes
	// the slice after use. It is not asked for a key the agent already holds, calls are
	// serialised, and once a file is decrypted its key is remembered for later dials.
	// Nil means encrypted files are skipped (the failure message names them if no other
	// key works).
	Passphrase func(keyFile string) ([]byte, error)
	// DialTimeout bounds reaching a host: TCP connections, SSH handshakes and
	// authentication, jump hosts included. Zero means 15 seconds.
	DialTimeout time.Duration
	// KeepaliveInterval is how often an idle or busy connection is checked. Zero means
	// 10 seconds; negative disables keepalives.
	KeepaliveInterval time.Duration
	// KeepaliveTimeout is how long a keepalive may go unanswered before the connection
	// is declared dead and closed. Zero means 15 seconds.
	KeepaliveTimeout time.Duration

	// BecomePassword returns the sudo password of login on h, for a host with
	// probe.Host.Become whose sudo asks for one and whose inventory gives none. It is
	// asked once per login account and remembered while the Dialer lives (a password
	// sudo refuses is forgotten and asked for again); calls are serialised. Nil means a
	// sudo that asks for a password is an error saying so.
	BecomePassword func(h *probe.Host, login string) ([]byte, error)

	mu   sync.Mutex
	keys map[string]ssh.Signer // decrypted identity files, so each passphrase is asked once

	pwMu      sync.Mutex
	passwords map[string][]byte // sudo passwords by login account
}

var _ probe.Dialer = (*Dialer)(nil)

// Dial connects to h through h.Jump in order (the jump hosts' own Jump lists are not
// followed), verifies every host's key against that host's own known_hosts files and
// authenticates with public keys. The Transport it returns also implements
// probe.Broken and probe.Timed.
//
// A refused host key is a *probe.HostKeyError and any other failure to reach or log in
// to a host a *probe.UnreachableError, both naming the host that failed (a jump host or
// h). Only a cancelled ctx gives a plain error, wrapping context.Canceled.
func (d *Dialer) Dial(ctx context.Context, h *probe.Host) (probe.Transport, error) {
	agentKeys, closeAgent, agentErr := d.agentKeys()
	defer closeAgent()

	// Keys are loaded before the clock starts: decrypting one may wait for a person.
	chain := append(slices.Clone(h.Jump), h)
	hops := make([]*hop, len(chain))
	for i, hh := range chain {
		p, err := d.prepare(hh, agentKeys, agentErr)
		if err != nil {
			return nil, err
		}
		hops[i] = p
	}

	ctx, cancel := context.WithTimeout(ctx, cmp.Or(d.DialTimeout, defaultDialTimeout))
	defer cancel()
	t := &transport{host: h, addr: h.Addr(), done: make(chan struct{}), gone: make(chan struct{})}
	var via *hop
	for _, p := range hops {
		c, err := p.connect(ctx, t, via)
		if err != nil {
			t.closeClients()
			return nil, err
		}
		t.clients = append(t.clients, c)
		p.client, via = c, p
	}
	t.client, t.hostKey, t.login, t.dialer = via.client, via.hostKey, via.cfg.User, d
	t.hostPub = via.hostPub

	go t.watch()
	if interval := cmp.Or(d.KeepaliveInterval, defaultKeepaliveInterval); interval > 0 {
		go t.keepalive(interval, cmp.Or(d.KeepaliveTimeout, defaultKeepaliveTimeout))
	}
	return t, nil
}

// hop is one host of a chain, ready to connect to.
type hop struct {
	host   *probe.Host
	cfg    *ssh.ClientConfig
	creds  credentials
	client *ssh.Client // once connected
	// hostKey is the verified key, "TYPE SHA256:...", once connected.
	hostKey string
	// hostPub is the same key in authorized_keys form ("TYPE BASE64").
	hostPub string
}

// prepare reads what connecting to h needs: its user, keys and known_hosts.
func (d *Dialer) prepare(h *probe.Host, agentKeys []ssh.Signer, agentErr error) (*hop, error) {
	user, err := loginName(h)
	if err != nil {
		return nil, &probe.UnreachableError{Host: h.Name, Addr: h.Addr(), Err: err}
	}
	creds := d.credentials(h, agentKeys, agentErr)
	hostKey, algos, err := verifier(h)
	if err != nil {
		return nil, &probe.UnreachableError{Host: h.Name, Addr: h.Addr(), Err: err}
	}
	p := &hop{host: h, creds: creds}
	p.cfg = &ssh.ClientConfig{
		User: user,
		Auth: []ssh.AuthMethod{ssh.PublicKeys(creds.signers...)},
		// Remember the verified key: two inventory names with the same host key are the
		// same machine, which cluster runbooks must refuse.
		HostKeyCallback: func(hostname string, remote net.Addr, key ssh.PublicKey) error {
			err := hostKey(hostname, remote, key)
			if err == nil {
				p.hostKey = fingerprint(key)
				p.hostPub = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
			}
			return err
		},
		HostKeyAlgorithms: algos,
	}
	return p, nil
}

// connect opens a TCP connection to the hop (directly, or from the previous hop) and
// runs the SSH handshake over it, adding the time each phase took to t.timing.
func (p *hop) connect(ctx context.Context, t *transport, via *hop) (*ssh.Client, error) {
	addr := p.host.Addr()
	through := ""
	start := time.Now()
	var conn net.Conn
	var err error
	if via == nil {
		conn, err = new(net.Dialer).DialContext(ctx, "tcp", addr)
	} else {
		through = fmt.Sprintf(" via jump host %s (%s)", via.host.Name, via.host.Addr())
		conn, err = via.client.DialContext(ctx, "tcp", addr)
		if err != nil {
			err = fmt.Errorf("connecting%s: %w", through, err)
		}
	}
	t.timing.Dial += time.Since(start)
	if err != nil {
		return nil, p.failure(ctx, err)
	}

	start = time.Now()
	c, err := handshake(ctx, conn, addr, p.cfg)
	took := time.Since(start)
	t.timing.Auth += took
	if hk, ok := errors.AsType[*probe.HostKeyError](err); ok {
		return nil, hk
	}
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, context.DeadlineExceeded):
		err = fmt.Errorf("SSH handshake%s timed out after %v: %w", through, took.Round(time.Millisecond), err)
	case strings.Contains(err.Error(), "ssh: unable to authenticate"):
		// x/crypto has no typed error for this; the text is stable API in practice.
		err = fmt.Errorf("authentication failed for user %q%s (%s)", p.cfg.User, through, p.creds)
	default:
		err = fmt.Errorf("SSH handshake%s: %w", through, err)
	}
	return nil, p.failure(ctx, err)
}

// failure reports err as the hop being unreachable, unless the caller gave up: a
// cancelled dial says nothing about the host.
func (p *hop) failure(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("connecting to %s (%s): %w", p.host.Name, p.host.Addr(), err)
	}
	return &probe.UnreachableError{Host: p.host.Name, Addr: p.host.Addr(), Err: err}
}

// handshake runs the SSH handshake on conn within ctx. x/crypto bounds neither a server
// that accepts and never speaks nor a slow authentication (ClientConfig.Timeout covers
// only its own TCP dial), so the handshake runs aside and conn is closed when ctx ends,
// which makes it fail.
func handshake(ctx context.Context, conn net.Conn, addr string, cfg *ssh.ClientConfig) (*ssh.Client, error) {
	type result struct {
		conn  ssh.Conn
		chans <-chan ssh.NewChannel
		reqs  <-chan *ssh.Request
		err   error
	}
	done := make(chan result, 1)
	go func() {
		c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
		done <- result{c, chans, reqs, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, r.err
		}
		return ssh.NewClient(r.conn, r.chans, r.reqs), nil
	case <-ctx.Done():
		_ = conn.Close()
		go func() {
			if r := <-done; r.err == nil {
				_ = r.conn.Close()
			}
		}()
		return nil, ctx.Err()
	}
}
