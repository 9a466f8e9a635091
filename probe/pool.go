package probe

import (
	"context"
	"errors"
	"sync"
)

// DialerFunc adapts a function to the Dialer interface.
type DialerFunc func(ctx context.Context, h *Host) (Transport, error)

// Dial calls f.
func (f DialerFunc) Dial(ctx context.Context, h *Host) (Transport, error) { return f(ctx, h) }

// Pool keeps one connection per host for the length of a run, so the probe, every step
// and every gate share it instead of paying for a handshake each time. Concurrent
// callers for the same host share one dial. A connection that reports itself broken is
// replaced on the next Get; a failed dial is not remembered, so a host that comes back
// is reached again.
type Pool struct {
	dialer Dialer
	mu     sync.Mutex
	conns  map[string]*poolEntry
	closed bool
}

type poolEntry struct {
	ready chan struct{}
	t     Transport
	err   error
}

// NewPool returns a pool that dials with d.
func NewPool(d Dialer) *Pool {
	return &Pool{dialer: d, conns: map[string]*poolEntry{}}
}

// ErrPoolClosed is returned by Get after Close.
var ErrPoolClosed = errors.New("connection pool closed")

// Get returns the connection to h, dialling it if needed.
func (p *Pool) Get(ctx context.Context, h *Host) (Transport, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, ErrPoolClosed
		}
		e, ok := p.conns[h.Name]
		if !ok {
			e = &poolEntry{ready: make(chan struct{})}
			p.conns[h.Name] = e
			p.mu.Unlock()
			e.t, e.err = p.dialer.Dial(ctx, h)
			p.mu.Lock()
			if e.err == nil && p.closed {
				// Closed while dialling: nobody will close this connection later.
				_ = e.t.Close()
				e.t, e.err = nil, ErrPoolClosed
			}
			if e.err != nil && p.conns[h.Name] == e {
				delete(p.conns, h.Name)
			}
			p.mu.Unlock()
			close(e.ready)
			return e.t, e.err
		}
		p.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.err != nil {
			return nil, e.err
		}
		if b, ok := e.t.(Broken); ok && b.Broken() != nil {
			p.mu.Lock()
			if p.conns[h.Name] == e {
				delete(p.conns, h.Name)
			}
			p.mu.Unlock()
			_ = e.t.Close()
			continue
		}
		return e.t, nil
	}
}

// Drop closes and forgets the connection to host name, if any.
func (p *Pool) Drop(name string) {
	p.mu.Lock()
	e, ok := p.conns[name]
	delete(p.conns, name)
	p.mu.Unlock()
	if ok {
		<-e.ready
		if e.t != nil {
			_ = e.t.Close()
		}
	}
}

// Close closes every connection.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	conns := p.conns
	p.conns = map[string]*poolEntry{}
	p.mu.Unlock()
	var errs []error
	for _, e := range conns {
		<-e.ready
		if e.t != nil {
			errs = append(errs, e.t.Close())
		}
	}
	return errors.Join(errs...)
}
