package sshx

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"
)

// testServer is a small SSH server: public key authentication, "exec" with /bin/sh -c
// in a temporary folder, the "sftp" subsystem, direct-tcpip to 127.0.0.1 and replies
// to global requests. It listens on 127.0.0.1 only.
type testServer struct {
	addr string // 127.0.0.1:port
	port int
	dir  string   // working folder for commands and SFTP
	env  []string // environment for commands; nil means this process's

	frozen atomic.Bool  // stop reading from every connection: a hung peer
	tcpip  atomic.Int32 // direct-tcpip channels opened
	done   chan struct{}

	mu    sync.Mutex
	users []string // login names of authenticated connections
	conns []net.Conn
}

// startServer serves on 127.0.0.1 with the given host keys, accepting the authorized
// client keys, until the test ends.
func startServer(t *testing.T, authorized []ssh.PublicKey, hostKeys ...ssh.Signer) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{
		addr: ln.Addr().String(),
		port: ln.Addr().(*net.TCPAddr).Port,
		dir:  t.TempDir(),
		done: make(chan struct{}),
	}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(md ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			for _, k := range authorized {
				if string(k.Marshal()) == string(key.Marshal()) {
					// Recorded here, before the client learns it is in.
					s.mu.Lock()
					s.users = append(s.users, md.User())
					s.mu.Unlock()
					return nil, nil
				}
			}
			return nil, errors.New("key not authorized")
		},
	}
	for _, k := range hostKeys {
		cfg.AddHostKey(k)
	}
	t.Cleanup(func() {
		close(s.done)
		_ = ln.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range s.conns {
			_ = c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			go s.handle(&freezeConn{Conn: c, s: s}, cfg)
		}
	}()
	return s
}

// freezeConn drops everything read once the server is frozen and blocks until the
// test ends, so the peer looks alive at the TCP level but never answers.
type freezeConn struct {
	net.Conn
	s *testServer
}

func (c *freezeConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.s.frozen.Load() {
		<-c.s.done
		return 0, net.ErrClosed
	}
	return n, err
}

func (s *testServer) user(i int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i >= len(s.users) {
		return ""
	}
	return s.users[i]
}

func (s *testServer) handle(c net.Conn, cfg *ssh.ServerConfig) {
	_, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		_ = c.Close()
		return
	}
	go func() {
		// OpenSSH refuses keepalive@openssh.com too; a refusal is still an answer.
		for r := range reqs {
			if r.WantReply {
				_ = r.Reply(false, nil)
			}
		}
	}()
	for nc := range chans {
		switch nc.ChannelType() {
		case "session":
			ch, reqs, err := nc.Accept()
			if err == nil {
				go s.session(ch, reqs)
			}
		case "direct-tcpip":
			go s.directTCPIP(nc)
		default:
			_ = nc.Reject(ssh.UnknownChannelType, nc.ChannelType())
		}
	}
}

func (s *testServer) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	var proc *os.Process
	exited := make(chan struct{})
	for req := range reqs {
		switch req.Type {
		case "exec":
			var p struct{ Command string }
			if proc != nil || ssh.Unmarshal(req.Payload, &p) != nil {
				_ = req.Reply(false, nil)
				continue
			}
			cmd := exec.Command("/bin/sh", "-c", p.Command)
			cmd.Dir, cmd.Env = s.dir, s.env
			cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			stdin, err := cmd.StdinPipe()
			if err == nil {
				err = cmd.Start()
			}
			_ = req.Reply(err == nil, nil)
			if err != nil {
				continue
			}
			proc = cmd.Process
			go func() {
				_, _ = io.Copy(stdin, ch)
				_ = stdin.Close()
			}()
			go func() {
				_ = cmd.Wait()
				close(exited)
				ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
				if ws.Signaled() {
					_, _ = ch.SendRequest("exit-signal", false, ssh.Marshal(struct {
						Signal     string
						CoreDumped bool
						Error      string
						Lang       string
					}{Signal: strings.TrimPrefix(unix.SignalName(ws.Signal()), "SIG")}))
				} else {
					_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(ws.ExitStatus())}))
				}
				_ = ch.Close()
			}()
		case "signal":
			var p struct{ Signal string }
			if proc != nil && ssh.Unmarshal(req.Payload, &p) == nil {
				_ = syscall.Kill(-proc.Pid, unix.SignalNum("SIG"+p.Signal))
			}
		case "subsystem":
			var p struct{ Name string }
			if ssh.Unmarshal(req.Payload, &p) != nil || p.Name != "sftp" {
				_ = req.Reply(false, nil)
				continue
			}
			srv, err := sftp.NewServer(ch, sftp.WithServerWorkingDirectory(s.dir))
			_ = req.Reply(err == nil, nil)
			if err == nil {
				go func() {
					_ = srv.Serve()
					_ = ch.Close()
				}()
			}
		default:
			if req.WantReply {
				_ = req.Reply(false, nil)
			}
		}
	}
	// The channel or the connection ended: end the command with it.
	if proc != nil {
		select {
		case <-exited:
		default:
			_ = syscall.Kill(-proc.Pid, syscall.SIGKILL)
		}
	}
}

func (s *testServer) directTCPIP(nc ssh.NewChannel) {
	var p struct {
		Host     string
		Port     uint32
		OrigHost string
		OrigPort uint32
	}
	if ssh.Unmarshal(nc.ExtraData(), &p) != nil || p.Host != "127.0.0.1" {
		_ = nc.Reject(ssh.Prohibited, "this test server connects to 127.0.0.1 only")
		return
	}
	c, err := net.Dial("tcp", net.JoinHostPort(p.Host, strconv.Itoa(int(p.Port))))
	if err != nil {
		_ = nc.Reject(ssh.ConnectionFailed, err.Error())
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		_ = c.Close()
		return
	}
	s.tcpip.Add(1)
	go ssh.DiscardRequests(reqs)
	var once sync.Once
	closeBoth := func() { once.Do(func() { _ = c.Close(); _ = ch.Close() }) }
	go func() { _, _ = io.Copy(ch, c); closeBoth() }()
	go func() { _, _ = io.Copy(c, ch); closeBoth() }()
}

// silentListener accepts connections on 127.0.0.1 and never says a word.
func silentListener(t *testing.T) *net.TCPAddr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	return ln.Addr().(*net.TCPAddr)
}

// newEd25519 returns a fresh key as a signer and as the private key to write to a file.
func newEd25519(t *testing.T) (ssh.Signer, ed25519.PrivateKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, priv
}

func newECDSA(t *testing.T) ssh.Signer {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
