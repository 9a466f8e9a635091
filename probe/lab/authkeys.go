package lab

import (
	"bytes"
	"net"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
)

// A host's own authorized_keys. Besides the lab's client key, each simulated host
// accepts the keys in ROOT/.ssh/authorized_keys (ROOT is the host's HOME), with the
// options a restricted key is given, as OpenSSH's sshd reads them:
//
//	from="PATTERN,..."  the client's address must match one pattern (* and ? wildcards,
//	                    a leading ! refuses); anything else is refused
//	restrict            no forwarding of any kind, no pty
//	no-port-forwarding  no forwarding
//	command="CMD"       CMD runs whatever the client asks for (exec, shell or a
//	                    subsystem such as sftp), with SSH_ORIGINAL_COMMAND set
//
// This is what lets one lab host log in to another with a key made for one copy (a
// direct transfer), and nothing more. Such logins are host-to-host traffic: the slow
// operator link (SetOperatorLink) does not apply to them.

// Extensions of ssh.Permissions the lab sets for a host's own keys.
const (
	permHostKey = "lab-host-key"   // logged in with a key from the host's authorized_keys
	permCommand = "lab-command"    // the forced command
	permNoFwd   = "lab-no-forward" // forwarding refused
)

// hostAuthorized looks key up in the host's authorized_keys; nil means not found or not
// allowed from the client's address.
func (l *Lab) hostAuthorized(h *host, c ssh.ConnMetadata, key ssh.PublicKey) *ssh.Permissions {
	file := filepath.Join(h.root, ".ssh", "authorized_keys")
	fi, err := os.Lstat(file)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > 1<<20 {
		return nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	want := key.Marshal()
	for rest := data; len(rest) > 0; {
		pub, _, opts, next, err := ssh.ParseAuthorizedKey(rest)
		if err != nil {
			return nil // nothing more parses (ParseAuthorizedKey skips bad lines itself)
		}
		rest = next
		if !bytes.Equal(pub.Marshal(), want) {
			continue
		}
		perms := &ssh.Permissions{Extensions: map[string]string{permHostKey: "1"}}
		allowed := true
		for _, o := range opts {
			name, val, hasVal := strings.Cut(o, "=")
			val = strings.Trim(val, `"`)
			switch strings.ToLower(name) {
			case "from":
				allowed = hasVal && fromAllowed(val, c.RemoteAddr())
			case "restrict", "no-port-forwarding":
				perms.Extensions[permNoFwd] = "1"
			case "command":
				perms.Extensions[permCommand] = val
			}
		}
		if allowed {
			return perms
		}
	}
	return nil
}

// fromAllowed matches the client's address against a from= pattern list.
func fromAllowed(patterns string, addr net.Addr) bool {
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return false
	}
	ok := false
	for _, p := range strings.Split(patterns, ",") {
		neg := strings.HasPrefix(p, "!")
		if m, _ := path.Match(strings.TrimPrefix(p, "!"), host); m {
			if neg {
				return false
			}
			ok = true
		}
	}
	return ok
}
