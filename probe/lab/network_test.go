package lab_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/cutover/cutover/probe/lab"
)

// httpVia fetches url with TCP opened from the host behind c.
func httpVia(c *ssh.Client, url string) (string, error) {
	hc := &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
				return c.DialContext(ctx, "tcp", addr)
			},
		},
	}
	resp, err := hc.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

func TestDirectTCPIP(t *testing.T) {
	l := serve(t, t.TempDir(), lab.Options{})
	b := dialHost(t, l, "b")

	// By hostname and simulated port, by inventory name, and by the real loopback port.
	for _, url := range []string{"http://alpha.example:80/status", "http://a/status", "http://" + l.Endpoint("a", "web") + "/status"} {
		if body, err := httpVia(b, url); err != nil || body != "web on a: /status" {
			t.Errorf("GET %s from b = %q, %v", url, body, err)
		}
	}
	// A plain TCP endpoint accepts and holds the connection.
	a := dialHost(t, l, "a")
	conn, err := a.Dial("tcp", "beta.example:3306")
	if err != nil {
		t.Fatalf("a -> beta.example:3306: %v", err)
	}
	if _, err := conn.Write([]byte("ping")); err != nil {
		t.Errorf("write to the held connection: %v", err)
	}
	conn.Close()

	// Outside the simulated network: refused by the lab (route never dials these).
	for _, addr := range []string{"192.0.2.1:80", "example.com:443", "beta.example:22", "[::1]:80"} {
		if c, err := a.Dial("tcp", addr); err == nil {
			c.Close()
			t.Errorf("a -> %s connected, want a refusal", addr)
		}
	}

	l.Block("b", "a")
	if _, err := httpVia(b, "http://alpha.example/status"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("GET while blocked: %v, want connection refused", err)
	}
	if _, err := httpVia(b, "http://"+l.Endpoint("a", "web")+"/"); err == nil {
		t.Error("the real endpoint address bypasses Block")
	}
	if _, err := a.Dial("tcp", "beta.example:3306"); err != nil {
		t.Errorf("Block(b, a) also blocked a -> b: %v", err)
	}
	l.Unblock("b", "a")
	if body, err := httpVia(b, "http://alpha.example/x"); err != nil || body != "web on a: /x" {
		t.Errorf("GET after Unblock = %q, %v", body, err)
	}
}
