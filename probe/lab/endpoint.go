package lab

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// What an endpoint's http.Handler may know about where it runs. Handlers are written in
// Go by the scenario, before the lab has a folder; ServingOf tells them, per request,
// which simulated host they answer for (so they can read its state files and answer only
// while the simulated service runs) and lets them open connections the way that host
// would (so a simulated proxy forwards through the simulated network, partitions and
// all).

type servingKey struct{}

// Serving describes the simulated host an endpoint belongs to.
type Serving struct {
	// Host is the host the endpoint belongs to.
	Host HostData
	// Name and Port are the endpoint's name and simulated port.
	Name string
	Port int

	lab *Lab
	h   *host
}

// ServingOf returns what the lab tells the handler of r, or nil when r did not come in
// through a lab endpoint.
func ServingOf(r *http.Request) *Serving {
	s, _ := r.Context().Value(servingKey{}).(*Serving)
	return s
}

// servingContext is the base context of an endpoint's HTTP server.
func (l *Lab) servingContext(h *host, e *endpoint) func(net.Listener) context.Context {
	s := &Serving{Host: hostData(h), Name: e.spec.Name, Port: e.spec.Port, lab: l, h: h}
	return func(net.Listener) context.Context { return context.WithValue(context.Background(), servingKey{}, s) }
}

// hostData is what endpoint code may know of h.
func hostData(h *host) HostData {
	d := HostData{Name: h.name, Hostname: h.hostname, Root: h.root, InstallDir: h.installDir, Port: h.port,
		Endpoints: map[string]string{}}
	for _, x := range h.endpoints {
		d.Endpoints[x.spec.Name] = x.addr
	}
	return d
}

// stopped reports whether e's simulated service does not listen right now.
func (e *endpoint) stopped(h *host) bool {
	return e.spec.Listening != nil && !e.spec.Listening(hostData(h))
}

// Dial opens a TCP connection from the serving host to addr ("name:port" with a
// simulated port), routed as a connection the host opens over SSH would be: by name
// through the host's view of the simulated DNS, refused where the network is cut, slowed
// where it is slow. Nothing outside the simulated network and 127.0.0.0/8 is reachable.
func (s *Serving) Dial(ctx context.Context, _, addr string) (net.Conn, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return nil, fmt.Errorf("lab: %s: bad port", addr)
	}
	real, err := s.lab.route(s.h, host, port)
	if err != nil {
		return nil, err
	}
	if to := s.lab.targetHost(s.h, host); to != nil {
		if d := s.lab.delayOf(s.h, to); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", real)
}
