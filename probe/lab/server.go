package lab

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// host is a simulated host at run time.
type host struct {
	spec       *HostSpec
	name       string
	hostname   string
	root       string
	installDir string
	ln         net.Listener
	port       int
	endpoints  []*endpoint

	mu      sync.Mutex
	ed25519 ssh.Signer
	ecdsa   ssh.Signer
	conns   map[*gatedConn]struct{}
	gate    chan struct{} // closed while traffic flows, open while the host hangs
}

// endpoint is a bound Endpoint.
type endpoint struct {
	spec Endpoint
	ln   net.Listener
	addr string // real "127.0.0.1:port"
}

// hostKeys returns the current host keys; RotateKey may replace the ed25519 one.
func (h *host) hostKeys() (ed, ec ssh.Signer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ed25519, h.ecdsa
}

// Serve answers SSH for every host and serves the endpoints until ctx is done or Close
// is called; then it closes everything as Close does and returns nil.
func (l *Lab) Serve(ctx context.Context) error {
	l.mu.Lock()
	if l.closed || l.serving {
		l.mu.Unlock()
		return errors.New("lab: Serve may be called once, before Close")
	}
	l.serving = true
	for _, h := range l.hosts {
		l.wg.Add(1)
		go l.acceptSSH(h)
		for _, e := range h.endpoints {
			l.wg.Add(1)
			if e.spec.Handler != nil {
				srv := &http.Server{Handler: e.spec.Handler, ReadHeaderTimeout: 10 * time.Second, BaseContext: l.servingContext(h, e)}
				l.servers = append(l.servers, srv)
				go func() {
					defer l.wg.Done()
					_ = srv.Serve(e.ln)
				}()
			} else {
				go l.holdConns(e)
			}
		}
	}
	l.mu.Unlock()
	select {
	case <-ctx.Done():
	case <-l.done:
	}
	return l.Close()
}

// Close stops serving: it closes the listeners and every connection, kills running
// commands and waits until all of that is done. Closing again waits for the first Close.
func (l *Lab) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		<-l.stopped
		return nil
	}
	l.closed = true
	close(l.done)
	servers := l.servers
	holds := make([]net.Conn, 0, len(l.holds))
	for c := range l.holds {
		holds = append(holds, c)
	}
	l.mu.Unlock()
	defer close(l.stopped)

	for _, h := range l.hosts {
		for _, ln := range h.listeners() {
			_ = ln.Close()
		}
		h.closeConns()
	}
	for _, srv := range servers {
		_ = srv.Close()
	}
	for _, c := range holds {
		_ = c.Close()
	}
	l.wg.Wait()
	var err error
	if l.audit != nil {
		err = l.audit.close()
	}
	if l.lock != nil {
		err = cmp.Or(err, l.lock.Close())
	}
	return err
}

// listeners are the host's bound sockets (Setup may fail before all are bound).
func (h *host) listeners() []net.Listener {
	var out []net.Listener
	if h.ln != nil {
		out = append(out, h.ln)
	}
	for _, e := range h.endpoints {
		if e.ln != nil {
			out = append(out, e.ln)
		}
	}
	return out
}

// closeConns closes every SSH connection of the host; their handlers then end.
func (h *host) closeConns() {
	h.mu.Lock()
	conns := make([]*gatedConn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// track registers a new connection unless the lab is closing; the caller then owns one
// count of l.wg.
func (l *Lab) track(h *host, c *gatedConn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.mu.Unlock()
	l.wg.Add(1)
	return true
}

func (l *Lab) acceptSSH(h *host) {
	defer l.wg.Done()
	for {
		c, err := h.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait rather than spin.
			l.logf("%s: accept: %v", h.name, err)
			select {
			case <-l.done:
				return
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		if l.poweredOff(h) {
			// A host switched off (bin/lab-power off) does not answer at all.
			_ = c.Close()
			continue
		}
		gc := h.newConn(c)
		if !l.track(h, gc) {
			_ = gc.Close()
			continue
		}
		go l.serveConn(h, gc)
	}
}

// serveConn runs one SSH connection until it ends.
func (l *Lab) serveConn(h *host, c *gatedConn) {
	defer l.wg.Done()
	defer func() {
		h.mu.Lock()
		delete(h.conns, c)
		h.mu.Unlock()
		_ = c.Close()
	}()
	sc, chans, reqs, err := ssh.NewServerConn(c, l.serverConfig(h))
	if err != nil {
		select {
		case <-l.done: // closed mid-handshake: not worth a line
		default:
			l.logf("%s: connection from %s refused: %v", h.name, c.RemoteAddr(), err)
		}
		return
	}
	defer sc.Close()
	l.logf("%s: connection from %s as %s", h.name, c.RemoteAddr(), sc.User())
	perms := sc.Permissions
	if perms == nil || perms.Extensions[permHostKey] == "" {
		c.setLink(l.operatorLink()) // the operator's connection: its link's speed applies
	}

	// ctx ends with the connection; forwarded TCP connections close with it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { ssh.DiscardRequests(reqs) }) // keepalives get a "no", which is an answer
	for nc := range chans {
		switch nc.ChannelType() {
		case "session":
			wg.Go(func() { l.session(h, nc, perms) })
		case "direct-tcpip":
			if perms != nil && perms.Extensions[permNoFwd] != "" {
				_ = nc.Reject(ssh.Prohibited, "lab: this key may not forward")
				continue
			}
			wg.Go(func() { l.forward(ctx, h, nc) })
		default:
			_ = nc.Reject(ssh.UnknownChannelType, fmt.Sprintf("lab: channel type %s is not supported", nc.ChannelType()))
		}
	}
	cancel()
	wg.Wait()
}

// serverConfig is built per connection so that a rotated host key applies to new
// connections only.
func (l *Lab) serverConfig(h *host) *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{
		ServerVersion: "SSH-2.0-cutover-lab",
		PublicKeyCallback: func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if bytes.Equal(key.Marshal(), l.clientKey) {
				return &ssh.Permissions{}, nil
			}
			if p := l.hostAuthorized(h, c, key); p != nil {
				return p, nil
			}
			return nil, fmt.Errorf("lab: host %s accepts only the lab's key %s", h.name, l.ClientKey())
		},
	}
	ed, ec := h.hostKeys()
	cfg.AddHostKey(ed)
	cfg.AddHostKey(ec)
	return cfg
}

// poweredOff reports whether the simulated host is switched off (var/powered-off).
func (l *Lab) poweredOff(h *host) bool {
	_, err := os.Stat(filepath.Join(h.root, "var", "powered-off"))
	return err == nil
}
