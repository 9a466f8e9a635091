package lab_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/lab"
)

func TestResumeAndReset(t *testing.T) {
	dir := t.TempDir()
	l1, err := lab.Setup(dir, testScenario(), lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	progress := filepath.Join(l1.HostRoot("a"), "var", "progress")
	hello := filepath.Join(l1.HostRoot("a"), "bin", "hello")
	for _, p := range []string{progress, hello} {
		if err := os.WriteFile(p, []byte("#!/bin/sh\necho step 3 done\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fpA, portA, portB := l1.HostKeyFingerprint("a"), l1.Port("a"), l1.Port("b")
	if err := l1.Close(); err != nil {
		t.Fatal(err)
	}

	// Hold b's port so the resumed lab has to move it.
	busy, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(portB)))
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	l2 := serve(t, dir, lab.Options{})
	for _, p := range []string{progress, hello} {
		if got, _ := os.ReadFile(p); string(got) != "#!/bin/sh\necho step 3 done\n" {
			t.Errorf("%s after a restart = %q, want the host's state kept", p, got)
		}
	}
	if l2.HostKeyFingerprint("a") != fpA || l2.Port("a") != portA {
		t.Errorf("restart changed a's key or port: %s:%d, was %s:%d", l2.HostKeyFingerprint("a"), l2.Port("a"), fpA, portA)
	}
	if l2.Port("b") == portB {
		t.Fatalf("b kept port %d although it was taken", portB)
	}
	inv, err := inventory.Load(l2.Inventory())
	if err != nil || inv.Host("b").Port != l2.Port("b") {
		t.Fatalf("inventory after the port moved: %v, %v", inv, err)
	}
	// The moved host is reachable with the rewritten known_hosts and the kept client key.
	if out, _ := run(t, dialHost(t, l2, "b"), "hello"); out != "hello from b: \n" {
		t.Errorf("hello on b = %q", out)
	}

	l3, err := lab.Setup(t.TempDir(), testScenario(), lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(l3.HostRoot("a"), "marker"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l3.Close()
	l4, err := lab.Setup(l3.Dir(), testScenario(), lab.Options{Reset: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l4.Close()
	if l4.HostKeyFingerprint("a") == l3.HostKeyFingerprint("a") {
		t.Error("Reset kept the host key")
	}
	if _, err := os.Stat(filepath.Join(l4.HostRoot("a"), "marker")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Reset kept the host's files: %v", err)
	}

	// A different scenario in the folder starts afresh.
	other := testScenario()
	other.Name = "other"
	other.Hosts = other.Hosts[1:]
	other.Runs = nil
	other.Hosts[0].Files[0].Content = "{{ .Hosts.a.Port }}" // a is gone: a template error
	if _, err := lab.Setup(t.TempDir(), other, lab.Options{}); err == nil {
		t.Error("template naming a missing host rendered")
	}
	other.Hosts[0].Files[0].Content = helloScript
	if err := os.WriteFile(filepath.Join(l4.HostRoot("a"), "marker"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l4.Close()
	l5, err := lab.Setup(l4.Dir(), other, lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l5.Close()
	if _, err := os.Stat(filepath.Join(l4.Dir(), "hosts", "a")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("host a of the earlier scenario survived a scenario change: %v", err)
	}
}

func TestFaultKnobs(t *testing.T) {
	l := serve(t, t.TempDir(), lab.Options{})

	// RotateKey: existing connections carry on, new ones fail host key verification.
	before := dialHost(t, l, "a")
	fp := l.HostKeyFingerprint("a")
	if err := l.RotateKey("a"); err != nil {
		t.Fatal(err)
	}
	if l.HostKeyFingerprint("a") == fp {
		t.Error("fingerprint unchanged after RotateKey")
	}
	_, err := ssh.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Port("a"))), clientConfig(t, l))
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) || len(ke.Want) == 0 {
		t.Errorf("dial after RotateKey: %v, want a changed-key error", err)
	}
	if out, _ := run(t, before, "hello"); out != "hello from a: \n" {
		t.Errorf("connection from before the rotation: %q", out)
	}

	// Drop closes a live connection and kills its command.
	c := dialHost(t, l, "b")
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("sleep 30"); err != nil {
		t.Fatal(err)
	}
	l.Drop("b")
	waitFor(t, "Drop to end the connection", func() { _ = c.Wait() })
	if err := s.Wait(); err == nil {
		t.Error("command ended cleanly although its connection was dropped")
	}

	// Hang: keepalives and new handshakes go unanswered until Unhang.
	c = dialHost(t, l, "b")
	l.Hang("b")
	reply := make(chan error, 1)
	go func() {
		_, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
		reply <- err
	}()
	handshake := make(chan error, 1)
	go func() {
		conn, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Port("b"))))
		if err == nil {
			var cc ssh.Conn
			cc, _, _, err = ssh.NewClientConn(conn, conn.RemoteAddr().String(), clientConfig(t, l))
			if err == nil {
				cc.Close()
			}
		}
		handshake <- err
	}()
	select {
	case err := <-reply:
		t.Fatalf("keepalive answered while hanging: %v", err)
	case err := <-handshake:
		t.Fatalf("handshake completed while hanging: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	l.Unhang("b")
	for name, ch := range map[string]chan error{"keepalive": reply, "handshake": handshake} {
		select {
		case err := <-ch:
			if err != nil {
				t.Errorf("%s after Unhang: %v", name, err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("%s still unanswered after Unhang", name)
		}
	}
}

// waitFor fails the test if f, run in the background, has not returned in 5 seconds.
func waitFor(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestServeStopKillsCommands(t *testing.T) {
	var log bytes.Buffer // read only after Serve returned, when the lab writes no more
	l, err := lab.Setup(t.TempDir(), testScenario(), lab.Options{Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- l.Serve(ctx) }()

	c := dialHost(t, l, "a")
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("echo $$ > sleep.pid; exec sleep 60"); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(l.HostRoot("a"), "sleep.pid")
	var pid int
	deadline := time.Now().Add(5 * time.Second)
	for pid == 0 && time.Now().Before(deadline) {
		data, _ := os.ReadFile(pidFile)
		pid, _ = strconv.Atoi(strings.TrimSpace(string(data)))
		time.Sleep(10 * time.Millisecond)
	}
	if pid == 0 {
		t.Fatal("sleep did not start")
	}

	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("sleep (pid %d) still exists after Serve returned: %v", pid, err)
	}
	entries, err := l.Audit()
	if err != nil {
		t.Fatal(err)
	}
	last := entries[len(entries)-1]
	if last.Kind != "exec" || !strings.Contains(last.Command, "sleep 60") || last.Exit == nil || *last.Exit != 128+int(syscall.SIGKILL) {
		t.Errorf("last audit entry = %+v, want the killed sleep", last)
	}
	if _, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", l.Port("a"))); err == nil {
		t.Error("SSH port still open after Serve returned")
	}
	if out := log.String(); !strings.Contains(out, "lab: a: connection from 127.0.0.1:") || !strings.Contains(out, `lab: a: exec "echo $$ > sleep.pid; exec sleep 60": exit 137`) {
		t.Errorf("log:\n%s", out)
	}
}
