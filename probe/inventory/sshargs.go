package inventory

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// sshArgs is what cutover reads from ansible_ssh_common_args and _extra_args.
type sshArgs struct {
	jump       string
	knownHosts []string
	identities []string
	port       int
	user       string
}

// parseSSHArgs reads the ssh command line options that change where and how cutover
// connects; options that only tune ssh (ControlMaster, Compression, ...) are ignored.
func parseSSHArgs(s string) (sshArgs, error) {
	var o sshArgs
	toks, err := splitShell(s)
	if err != nil {
		return o, err
	}
	option := func(kv string) error {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			k, v, ok = strings.Cut(kv, " ")
		}
		if !ok {
			return fmt.Errorf("-o %q: expected -o Key=Value", kv)
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "proxyjump":
			o.jump = v
		case "proxycommand":
			if strings.EqualFold(v, "none") {
				return nil
			}
			j, err := proxyCommandJump(v)
			if err != nil {
				return err
			}
			o.jump = j
		case "userknownhostsfile":
			// As in ssh_config, "none" and /dev/null name no file rather than an empty
			// one: the other known_hosts files (by default ~/.ssh/known_hosts) apply,
			// and host keys are still checked.
			for _, f := range strings.Fields(v) {
				if !strings.EqualFold(f, "none") && f != os.DevNull {
					o.knownHosts = append(o.knownHosts, f)
				}
			}
		case "identityfile":
			o.identities = append(o.identities, v)
		case "port":
			n, err := sshPort(v)
			if err != nil {
				return fmt.Errorf("-o Port=%s: %v", v, err)
			}
			o.port = n
		case "user":
			o.user = v
		}
		return nil
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i].s
		next := func() (string, error) {
			if i+1 >= len(toks) {
				return "", fmt.Errorf("%s needs a value", t)
			}
			i++
			return toks[i].s, nil
		}
		var err error
		var v string
		switch {
		case t == "-o" || t == "-J" || t == "-i" || t == "-p" || t == "-l":
			if v, err = next(); err == nil {
				err = sshFlag(&o, t, v, option)
			}
		case len(t) > 2 && strings.HasPrefix(t, "-") && strings.ContainsRune("oJipl", rune(t[1])):
			err = sshFlag(&o, t[:2], t[2:], option)
		}
		if err != nil {
			return o, err
		}
	}
	return o, nil
}

func sshFlag(o *sshArgs, flag, v string, option func(string) error) error {
	switch flag {
	case "-o":
		return option(v)
	case "-J":
		o.jump = v
	case "-i":
		o.identities = append(o.identities, v)
	case "-p":
		n, err := sshPort(v)
		if err != nil {
			return fmt.Errorf("-p %s: %v", v, err)
		}
		o.port = n
	case "-l":
		o.user = v
	}
	return nil
}

// sshPort reads a port given to ssh.
func sshPort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, errors.New("expected a port number from 1 to 65535")
	}
	return n, nil
}

// token is a word of a line and the column it starts at.
type token struct {
	s   string
	col int
}

// splitShell splits a line into words the way Ansible's shlex does: quotes group, a
// backslash escapes, and a # at the start of a word starts a comment.
func splitShell(line string) ([]token, error) {
	var out []token
	var cur strings.Builder
	in, quote, start := false, byte(0), 0
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' && i+1 < len(line) {
				i++
				cur.WriteByte(line[i])
			} else {
				cur.WriteByte(c)
			}
		case c == ' ' || c == '\t':
			if in {
				out = append(out, token{cur.String(), start + 1})
				cur.Reset()
				in = false
			}
		case c == '#' && !in:
			return out, nil
		default:
			if !in {
				in, start = true, i
			}
			switch c {
			case '\'', '"':
				quote = c
			case '\\':
				if i+1 < len(line) {
					i++
					cur.WriteByte(line[i])
				}
			default:
				cur.WriteByte(c)
			}
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unclosed %c quote", quote)
	}
	if in {
		out = append(out, token{cur.String(), start + 1})
	}
	return out, nil
}
