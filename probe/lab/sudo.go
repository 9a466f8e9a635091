package lab

import (
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// Sudo is a simulated sudo on a lab host, so that runs which become another account
// (probe.Host.Become) are rehearsed, and tested, without root: the lab answers an
// exec whose command line starts with "sudo" itself, as sudo would (options -S, -n,
// -k, -H, -p PROMPT, -u USER, --; the password read from standard input byte by byte
// up to a newline, three tries), records in the audit log which account the command
// ran as, and runs it, as the lab's own user: the lab has no accounts to switch to.
// An SFTP server started under it (the path SFTPServer names) is the lab's own.
type Sudo struct {
	// As are the accounts the login may become; the first is the inventory's
	// become_user.
	As []string
	// Password is what sudo asks for; empty means the host's sudoers has NOPASSWD.
	Password string
}

// SFTPServer is the sftp-server path the lab's inventory names for hosts with Sudo:
// the simulated sudo serves SFTP itself where a real one would start this program.
const SFTPServer = "/usr/lib/cutover-lab/sftp-server"

// isSudo reports a command line for the simulated sudo.
func isSudo(command string) bool { return strings.HasPrefix(command, "sudo ") }

// sudo plays sudo for one exec: options, password, who may become whom, then the
// command (or the lab's SFTP server).
func (s *session) sudo(command string) {
	start := time.Now()
	fail := func(code int, format string, args ...any) {
		fmt.Fprintf(s.ch.Stderr(), format+"\n", args...)
		s.finish("exec", command, start, code, "")
	}
	spec := s.h.spec.Sudo
	if spec == nil {
		fail(127, "sudo: command not found (the practice lab simulates sudo only on hosts whose scenario sets it up)")
		return
	}
	words, err := splitWords(command)
	if err != nil {
		fail(1, "sudo: the lab's simulated sudo takes a plain command line: %v", err)
		return
	}
	prompt, user, nonInteractive := "[sudo] password for lab: ", "root", false
	argv := words[1:]
	for len(argv) > 0 && strings.HasPrefix(argv[0], "-") {
		opt := argv[0]
		argv = argv[1:]
		switch opt {
		case "-S", "-k", "-H":
		case "-n":
			nonInteractive = true
		case "-p", "-u":
			if len(argv) == 0 {
				fail(1, "sudo: option requires an argument -- '%s'", opt[1:])
				return
			}
			if opt == "-p" {
				prompt = argv[0]
			} else {
				user = argv[0]
			}
			argv = argv[1:]
		case "--":
			goto parsed
		default:
			fail(1, "sudo: the lab's simulated sudo does not take %s", opt)
			return
		}
	}
parsed:
	if len(argv) == 0 {
		fail(1, "usage: sudo [-nSk] [-p prompt] [-u user] [--] command")
		return
	}
	if spec.Password != "" {
		if nonInteractive {
			fail(1, "sudo: a password is required")
			return
		}
		for try := 1; ; try++ {
			fmt.Fprint(s.ch.Stderr(), prompt)
			line, err := s.readLine()
			if err != nil {
				fail(1, "sudo: no password was provided")
				return
			}
			if line == spec.Password {
				break
			}
			if try == 3 {
				fail(1, "sudo: 3 incorrect password attempts")
				return
			}
			fmt.Fprintln(s.ch.Stderr(), "Sorry, try again.")
		}
	}
	if !slices.Contains(spec.As, user) {
		fail(1, "Sorry, user lab is not allowed to execute '%s' as %s on %s.", strings.Join(argv, " "), user, s.h.hostname)
		return
	}
	s.as = user
	if i := slices.Index(argv, SFTPServer); i >= 0 {
		// Whatever leads up to the server runs (it may announce itself); where the server
		// itself would start, the lab serves SFTP on the channel.
		argv = slices.Clone(argv)
		argv[i] = "true"
		s.startThen("exec", command, exec.Command(argv[0], argv[1:]...), false, func(start time.Time) {
			s.l.record(AuditEntry{Time: start, Host: s.h.name, Kind: "exec", Op: "exec", Command: command, As: user})
			s.serveSFTP()
		})
		return
	}
	s.start("exec", command, exec.Command(argv[0], argv[1:]...), true)
}

// readLine reads the channel one byte at a time up to a newline, as sudo reads a
// password, so that nothing after it is taken from the command.
func (s *session) readLine() (string, error) {
	var b strings.Builder
	var c [1]byte
	for b.Len() < 4096 {
		n, err := s.ch.Read(c[:])
		if n == 1 {
			if c[0] == '\n' {
				return strings.TrimSuffix(b.String(), "\r"), nil
			}
			b.WriteByte(c[0])
			continue
		}
		if err != nil {
			return "", err
		}
	}
	return "", errors.New("line too long")
}

// splitWords splits a command line the way a POSIX shell splits plain words: single
// and double quotes group (no expansion inside either), a backslash escapes. Anything
// that would need a shell (an operator, an expansion, a newline outside quotes) is an
// error: the simulated sudo runs what it is given without one, like sudo.
func splitWords(line string) ([]string, error) {
	var out []string
	var cur strings.Builder
	in := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unclosed '")
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			in = true
		case c == '"':
			j := strings.IndexByte(line[i+1:], '"')
			if j < 0 || strings.ContainsAny(line[i+1:i+1+j], "$`\\") {
				return nil, errors.New(`a double-quoted word the lab cannot take literally`)
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			in = true
		case c == '\\' && i+1 < len(line) && line[i+1] != '\n':
			i++
			cur.WriteByte(line[i])
			in = true
		case strings.IndexByte("|&;<>()$`\n*?[#~", c) >= 0:
			return nil, fmt.Errorf("%q needs a shell", c)
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
}
