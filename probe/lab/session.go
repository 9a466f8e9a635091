package lab

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// outputGrace bounds how long a finished command's output may stay open: a daemon left
// in the background that inherited stdout would otherwise hold the session forever.
const outputGrace = time.Second

// session is one "session" channel: at most one command, shell or SFTP server.
type session struct {
	l  *Lab
	h  *host
	ch ssh.Channel

	mu      sync.Mutex
	started bool
	pgid    int    // process group of the running command, 0 when none runs
	as      string // the account the simulated sudo let the program run as, if any
	wg      sync.WaitGroup
	// forced is the command the login key's command= option runs instead of whatever
	// the client asks for ("" for the lab's own key).
	forced string
}

// session serves a session channel until the client closes it or the connection ends;
// then whatever still runs in it is killed.
func (l *Lab) session(h *host, nc ssh.NewChannel, perms *ssh.Permissions) {
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	s := &session{l: l, h: h, ch: ch}
	if perms != nil {
		s.forced = perms.Extensions[permCommand]
	}
	for req := range reqs {
		switch req.Type {
		case "exec":
			var p struct{ Command string }
			if ssh.Unmarshal(req.Payload, &p) != nil || !s.claim() {
				_ = req.Reply(false, nil)
				continue
			}
			_ = req.Reply(true, nil)
			s.run("exec", p.Command)
		case "shell":
			if !s.claim() {
				_ = req.Reply(false, nil)
				continue
			}
			_ = req.Reply(true, nil)
			s.run("shell", "")
		case "subsystem":
			var p struct{ Name string }
			if ssh.Unmarshal(req.Payload, &p) != nil || p.Name != "sftp" && s.forced == "" || !s.claim() {
				_ = req.Reply(false, nil)
				continue
			}
			_ = req.Reply(true, nil)
			if s.forced != "" {
				s.run("exec", "")
				continue
			}
			s.serveSFTP()
		case "signal":
			var p struct{ Signal string }
			ok := ssh.Unmarshal(req.Payload, &p) == nil && s.signal(p.Signal)
			_ = req.Reply(ok, nil)
		case "pty-req", "env":
			// Accepted so that interactive clients proceed; commands run without a pty and
			// with the lab's own environment.
			_ = req.Reply(true, nil)
		default:
			_ = req.Reply(false, nil)
		}
	}
	s.mu.Lock()
	if s.pgid != 0 {
		_ = killGroup(s.pgid, killSignal)
	}
	s.mu.Unlock()
	_ = ch.Close()
	s.wg.Wait()
}

// claim reports whether the session may start its one program.
func (s *session) claim() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return false
	}
	s.started = true
	return true
}

// env is the clean environment of a host's commands: nothing leaks from the lab process
// but TZ, so scripts behave the same on every operator's machine.
func (l *Lab) env(h *host) []string {
	env := []string{
		"PATH=" + filepath.Join(h.root, "bin") + ":/usr/local/bin:/usr/bin:/bin",
		"HOME=" + h.root,
		"USER=lab",
		"LOGNAME=lab",
		"SHELL=/bin/sh",
		"LANG=C.UTF-8",
		"LAB_HOST=" + h.name,
		"LAB_ROOT=" + h.root,
		"LAB_DIR=" + l.dir,
		// The probe reads the machine identity from here when it is set, so each
		// simulated host is a machine of its own.
		"CUTOVER_MACHINE_ID_FILE=" + filepath.Join(h.root, "etc", "machine-id"),
	}
	if tz, ok := os.LookupEnv("TZ"); ok {
		env = append(env, "TZ="+tz)
	}
	return env
}

// run starts /bin/sh (with -c command for an exec) in its own process group and, when it
// ends, reports its exit status and closes the channel.
func (s *session) run(op, command string) {
	if s.forced != "" {
		// The key's command= runs, whatever the client asked for.
		op, command = "exec", s.forced
	}
	if op == "exec" && s.l.strike(s.h, momentBeforeStart, command) {
		return // a disruption cut the connection: the command never runs
	}
	if op == "exec" && isSudo(command) {
		// The simulated sudo talks with the client (a password) before anything runs.
		s.wg.Go(func() { s.sudo(command) })
		return
	}
	args := []string{}
	if op == "exec" {
		args = []string{"-c", command}
	}
	s.start(op, command, exec.Command("/bin/sh", args...), true)
}

// start runs cmd for the session in its own process group, with the host's folder and
// environment and the channel as its output (and, when withStdin, its input), and when
// it ends reports its exit status and closes the channel.
func (s *session) start(op, command string, cmd *exec.Cmd, withStdin bool) {
	s.startThen(op, command, cmd, withStdin, nil)
}

// startThen is start; after, when set, takes over from a program that exits 0 instead
// of the exit status being reported.
func (s *session) startThen(op, command string, cmd *exec.Cmd, withStdin bool, after func(start time.Time)) {
	cmd.Dir = s.h.root
	cmd.Env = s.l.env(s.h)
	cmd.Stdout = s.ch
	cmd.Stderr = s.ch.Stderr()
	ownGroup(cmd)
	cmd.WaitDelay = outputGrace
	start := time.Now()
	// stdin is copied by our own goroutine rather than by exec, whose Wait would wait for
	// clients that never send EOF.
	var stdin io.WriteCloser
	var err error
	if withStdin {
		stdin, err = cmd.StdinPipe()
	}
	if err == nil {
		s.mu.Lock()
		if err = cmd.Start(); err == nil {
			s.pgid = cmd.Process.Pid
		}
		s.mu.Unlock()
	}
	if err != nil {
		fmt.Fprintf(s.ch.Stderr(), "lab: %s: cannot start /bin/sh: %v\n", s.h.name, err)
		s.finish(op, command, start, 127, "")
		return
	}
	if op == "exec" {
		s.l.strike(s.h, momentStarted, command)
	}
	if stdin != nil {
		s.wg.Go(func() {
			_, _ = io.Copy(stdin, s.ch)
			_ = stdin.Close()
		})
	}
	s.wg.Go(func() {
		_ = cmd.Wait()
		s.mu.Lock()
		s.pgid = 0
		s.mu.Unlock()
		code, sig := -1, ""
		if ps := cmd.ProcessState; ps != nil {
			code = ps.ExitCode()
			if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				code, sig = 128+int(ws.Signal()), signalName(ws.Signal())
			}
		}
		if after != nil && code == 0 && sig == "" {
			after(start)
			return
		}
		s.finish(op, command, start, code, sig)
	})
}

// finish reports how the program ended, the way OpenSSH does, and records it.
func (s *session) finish(op, command string, start time.Time, code int, sig string) {
	if op == "exec" && s.l.strike(s.h, momentBeforeExit, command) {
		// A disruption cut the connection: the command ran, and the client never learns
		// how it ended.
		s.l.record(AuditEntry{Time: start, Host: s.h.name, Kind: "exec", Op: op, Command: command, Exit: &code, As: s.as})
		return
	}
	_ = s.ch.CloseWrite()
	if sig != "" {
		_, _ = s.ch.SendRequest("exit-signal", false, ssh.Marshal(struct {
			Signal     string
			CoreDumped bool
			Message    string
			Lang       string
		}{Signal: sig}))
	} else {
		_, _ = s.ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(code)}))
	}
	_ = s.ch.Close()
	s.l.record(AuditEntry{Time: start, Host: s.h.name, Kind: "exec", Op: op, Command: command, Exit: &code, As: s.as})
	s.l.logf("%s: %s %q: exit %d after %s", s.h.name, op, command, code, time.Since(start).Round(time.Millisecond))
}

// signal delivers a "signal" request to the command's process group.
func (s *session) signal(name string) bool {
	sig, ok := signalByName(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ok || s.pgid == 0 {
		return false
	}
	return killGroup(s.pgid, sig) == nil
}

// serveSFTP answers SFTP on the channel; relative paths resolve against the host root.
func (s *session) serveSFTP() {
	rs := sftp.NewRequestServer(s.ch, s.l.sftpHandlers(s.h, s.as), sftp.WithStartDirectory(s.h.root))
	s.wg.Go(func() {
		_ = rs.Serve()
		_ = rs.Close()
	})
}

func signalByName(name string) (syscall.Signal, bool) {
	sig, ok := signals()[name]
	return sig, ok
}

// signalName names sig for an "exit-signal" message; signals RFC 4254 does not name go
// by number.
func signalName(sig syscall.Signal) string {
	for name, s := range signals() {
		if s == sig {
			return name
		}
	}
	return fmt.Sprintf("%d", int(sig))
}
