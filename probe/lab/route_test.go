package lab

import (
	"errors"
	"testing"

	"golang.org/x/crypto/ssh"
)

// TestRouteRefusesOutside checks the decision forward takes before dialling: targets
// outside the simulated network are refused without an address to dial.
func TestRouteRefusesOutside(t *testing.T) {
	l, err := Setup(t.TempDir(), &Scenario{Name: "route", Hosts: []HostSpec{
		{Name: "a", Endpoints: []Endpoint{{Name: "db", Port: 3306}}},
		{Name: "b", Hostname: "b.example"},
	}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	b := l.byName["b"]
	for _, target := range []string{"192.0.2.1", "10.0.0.1", "::1", "2001:db8::1"} {
		addr, err := l.route(b, target, 80)
		var r *refusal
		if addr != "" || !errors.As(err, &r) || r.reason != ssh.Prohibited {
			t.Errorf("route %s = %q, %v; want a prohibition and nothing to dial", target, addr, err)
		}
	}
	if addr, err := l.route(b, "A", 3306); err != nil || addr != l.Endpoint("a", "db") {
		t.Errorf("route A:3306 = %q, %v", addr, err)
	}
	if addr, err := l.route(b, "127.0.0.5", 9); err != nil || addr != "127.0.0.5:9" {
		t.Errorf("route 127.0.0.5:9 = %q, %v", addr, err)
	}
	if addr, err := l.route(l.byName["a"], "localhost", 3306); err != nil || addr != l.Endpoint("a", "db") {
		t.Errorf("route localhost:3306 from a = %q, %v", addr, err)
	}
	if _, err := l.route(b, "localhost", 3306); err == nil {
		t.Error("localhost from b reached a's endpoint")
	}
}
