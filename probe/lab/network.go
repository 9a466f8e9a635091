package lab

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// The simulated network: TCP opened from a host over SSH ("direct-tcpip") reaches other
// hosts' endpoints by hostname and simulated port, and 127.0.0.0/8 as it is. Nothing
// else is reachable, so a rehearsal never sends traffic off the operator's machine.

// refusal is why a direct-tcpip channel is rejected.
type refusal struct {
	reason ssh.RejectionReason
	msg    string
}

func (r *refusal) Error() string { return r.msg }

// route maps a TCP target seen from host from to the real address to dial. It never
// dials: every target outside the simulated network is refused here.
func (l *Lab) route(from *host, target string, port int) (string, error) {
	if ip := net.ParseIP(target); ip != nil && l.alias[ip.String()] == nil {
		ip4 := ip.To4()
		if ip4 == nil || ip4[0] != 127 {
			return "", &refusal{ssh.Prohibited, fmt.Sprintf("lab: %s is outside the simulated network (only lab hosts and 127.0.0.0/8)", target)}
		}
		addr := net.JoinHostPort(ip4.String(), strconv.Itoa(port))
		// A partition also holds for an endpoint addressed by its real port, and for a
		// host's SSH port (a direct transfer between hosts).
		for _, to := range l.hosts {
			if to.ln != nil && to.ln.Addr().String() == addr && l.isBlocked(from, to) {
				return "", &refusal{ssh.ConnectionFailed, fmt.Sprintf("connect to %s: connection refused (lab: %s is blocked from %s)", addr, to.name, from.name)}
			}
			for _, e := range to.endpoints {
				if e.addr == addr && l.isBlocked(from, to) {
					return "", &refusal{ssh.ConnectionFailed, fmt.Sprintf("connect to %s: connection refused (lab: %s is blocked from %s)", addr, to.name, from.name)}
				}
				if e.addr == addr && e.stopped(to) {
					return "", &refusal{ssh.ConnectionFailed, fmt.Sprintf("connect to %s: connection refused (lab: %s on %s is stopped)", addr, e.spec.Name, to.name)}
				}
			}
		}
		return addr, nil
	}
	name := strings.ToLower(strings.TrimSuffix(target, "."))
	to := l.alias[name]
	if name == "localhost" {
		to = from
	} else if h, addrs := l.resolve(from, name); h != nil {
		to = h
	} else if len(addrs) > 0 {
		return "", &refusal{ssh.Prohibited, fmt.Sprintf("lab: %s resolves to %s, outside the simulated network", target, strings.Join(addrs, " "))}
	}
	if to == nil {
		return "", &refusal{ssh.ConnectionFailed, fmt.Sprintf("lab: unknown host %s: not a host of the simulated network", target)}
	}
	for _, e := range to.endpoints {
		if e.spec.Port != port {
			continue
		}
		if l.isBlocked(from, to) {
			return "", &refusal{ssh.ConnectionFailed, fmt.Sprintf("connect to %s:%d: connection refused (lab: %s is blocked from %s)", target, port, to.name, from.name)}
		}
		if e.stopped(to) {
			return "", &refusal{ssh.ConnectionFailed, fmt.Sprintf("connect to %s:%d: connection refused (lab: %s on %s is stopped)", target, port, e.spec.Name, to.name)}
		}
		return e.addr, nil
	}
	return "", &refusal{ssh.ConnectionFailed, fmt.Sprintf("connect to %s:%d: connection refused (lab: no endpoint of %s listens on %d)", target, port, to.name, port)}
}

// forward serves a direct-tcpip channel: the client's TCP connection as seen from h.
func (l *Lab) forward(ctx context.Context, h *host, nc ssh.NewChannel) {
	var p struct {
		Addr       string
		Port       uint32
		OriginAddr string
		OriginPort uint32
	}
	if err := ssh.Unmarshal(nc.ExtraData(), &p); err != nil {
		_ = nc.Reject(ssh.ConnectionFailed, "lab: malformed direct-tcpip request")
		return
	}
	addr, err := l.route(h, p.Addr, int(p.Port))
	if err != nil {
		r := err.(*refusal) // route fails only with refusals
		_ = nc.Reject(r.reason, r.msg)
		return
	}
	if to := l.targetHost(h, p.Addr); to != nil {
		if delay := l.delayOf(h, to); delay > 0 {
			// A slow link: the connection takes longer to open, as a far host's would.
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				_ = nc.Reject(ssh.ConnectionFailed, "lab: closing")
				return
			}
		}
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		_ = nc.Reject(ssh.ConnectionFailed, err.Error())
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		_ = conn.Close()
		return
	}
	// The connection ends with the SSH connection, even if neither side closes it.
	stop := context.AfterFunc(ctx, func() {
		_ = ch.Close()
		_ = conn.Close()
	})
	defer stop()
	var wg sync.WaitGroup
	wg.Go(func() { ssh.DiscardRequests(reqs) })
	wg.Go(func() {
		_, _ = io.Copy(conn, ch)
		_ = conn.(*net.TCPConn).CloseWrite()
	})
	wg.Go(func() {
		_, _ = io.Copy(ch, conn)
		_ = ch.CloseWrite()
		// The endpoint is done; closing the channel lets the client's reads end too.
		_ = ch.Close()
	})
	wg.Wait()
	_ = conn.Close()
}

// holdConns serves a plain TCP endpoint: connections are accepted and held, their input
// discarded, until the client closes them or the lab closes.
func (l *Lab) holdConns(e *endpoint) {
	defer l.wg.Done()
	for {
		c, err := e.ln.Accept()
		if err != nil {
			return
		}
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			_ = c.Close()
			continue
		}
		l.holds[c] = struct{}{}
		l.wg.Add(1)
		l.mu.Unlock()
		go func() {
			defer l.wg.Done()
			_, _ = io.Copy(io.Discard, c)
			_ = c.Close()
			l.mu.Lock()
			delete(l.holds, c)
			l.mu.Unlock()
		}()
	}
}

// Block partitions the simulated network: TCP from host from to any endpoint of host to
// is refused until Unblock. Connections already open are not affected. It panics if a
// host is not in the scenario, a mistake in the calling test or scenario.
func (l *Lab) Block(from, to string) {
	key := [2]string{l.mustHost(from).name, l.mustHost(to).name}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.blocked[key] = true
}

// Unblock lifts a Block; it panics on unknown hosts as Block does.
func (l *Lab) Unblock(from, to string) {
	key := [2]string{l.mustHost(from).name, l.mustHost(to).name}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.blocked, key)
}

func (l *Lab) isBlocked(from, to *host) bool {
	key := [2]string{from.name, to.name}
	l.mu.Lock()
	b := l.blocked[key]
	l.mu.Unlock()
	if b {
		return true
	}
	blocked, _ := l.rules.load()
	return blocked[key]
}

// targetHost is the lab host a direct-tcpip target names, or nil (127.0.0.0/8).
func (l *Lab) targetHost(from *host, target string) *host {
	name := strings.ToLower(strings.TrimSuffix(target, "."))
	if name == "localhost" {
		return from
	}
	if h, _ := l.resolve(from, name); h != nil {
		return h
	}
	if h := l.alias[name]; h != nil {
		return h
	}
	return nil
}

// resolve looks name up in the simulated DNS as host from sees it (its own
// var/dns.zone when it has one, as bin/getent does, else the lab's zone). It returns the
// host the first address of the answer belongs to, or the addresses when none is a lab
// host's; nil and nothing when the name is not in the zone. A connection to a name goes
// where the name points, so re-pointing a name with lab-dns re-routes the traffic, as a
// DNS change does in a real network.
func (l *Lab) resolve(from *host, name string) (*host, []string) {
	data, err := os.ReadFile(filepath.Join(from.root, "var", zoneFile))
	if err != nil {
		if data, err = os.ReadFile(filepath.Join(l.dir, zoneFile)); err != nil {
			return nil, nil
		}
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") || strings.ToLower(f[0]) != name {
			continue
		}
		for _, a := range f[1:] {
			if h := l.alias[a]; h != nil {
				return h, f[1:]
			}
		}
		return nil, f[1:]
	}
	return nil, nil
}
