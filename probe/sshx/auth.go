package sshx

import (
	"cmp"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/cutover/cutover/probe"
)

// credentials are the keys offered to one host, and what to say if none is accepted.
type credentials struct {
	signers []ssh.Signer
	tried   []string // "agent" and key files, in the order offered
	skipped []string // key sources that could not be used, with the reason
}

func (c credentials) String() string {
	s := "tried: " + cmp.Or(strings.Join(c.tried, ", "), "no keys")
	if len(c.skipped) > 0 {
		s += "; skipped: " + strings.Join(c.skipped, "; ")
	}
	return s
}

// agentKeys returns the ssh-agent's keys and a function that ends the agent connection
// (the keys sign through it, so it stays open while dialling). An agent that cannot be
// asked is not fatal: its error ends up in the authentication failure message.
func (d *Dialer) agentKeys() ([]ssh.Signer, func(), error) {
	noop := func() {}
	if d.NoAgent {
		return nil, noop, nil
	}
	ag, release := d.Agent, noop
	if ag == nil {
		conn, err := dialAgent()
		if err != nil {
			return nil, noop, fmt.Errorf("ssh-agent (%w)", err)
		}
		if conn == nil {
			return nil, noop, nil
		}
		ag, release = agent.NewClient(conn), func() { _ = conn.Close() }
	}
	keys, err := ag.Signers()
	if err != nil {
		release()
		return nil, noop, fmt.Errorf("ssh-agent (%w)", err)
	}
	return keys, release, nil
}

// credentials gathers the keys to offer h: the agent's first, then h.IdentityFiles in
// order, or the default files that exist. A key is offered once, which also keeps a
// server's MaxAuthTries from running out before the files get their turn.
func (d *Dialer) credentials(h *probe.Host, agentKeys []ssh.Signer, agentErr error) credentials {
	var c credentials
	offered := map[string]bool{}
	if agentErr != nil {
		c.skipped = append(c.skipped, agentErr.Error())
	}
	if len(agentKeys) > 0 {
		c.signers = append(c.signers, agentKeys...)
		c.tried = append(c.tried, "agent")
		for _, k := range agentKeys {
			offered[string(k.PublicKey().Marshal())] = true
		}
	}
	files := h.IdentityFiles
	if len(files) == 0 {
		files = defaultIdentityFiles()
	}
	for _, f := range files {
		s, err := d.signer(f, offered)
		switch {
		case err != nil:
			c.skipped = append(c.skipped, fmt.Sprintf("%s (%v)", f, err))
		case s != nil:
			c.signers = append(c.signers, s)
			c.tried = append(c.tried, f)
		}
	}
	return c
}

// defaultIdentityFiles are OpenSSH's default keys that exist, in OpenSSH's order.
func defaultIdentityFiles() []string {
	home, err := os.UserHomeDir()
	if err != nil {
		return nil
	}
	var files []string
	for _, name := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
		f := filepath.Join(home, ".ssh", name)
		if _, err := os.Stat(f); err == nil {
			files = append(files, f)
		}
	}
	return files
}

// signer loads an identity file, asking for its passphrase if it is encrypted. It
// returns nil and no error for a key already offered, and marks the one it returns as
// offered. The lock also serialises passphrase prompts, so hosts dialled at once that
// share a key ask for it once.
func (d *Dialer) signer(file string, offered map[string]bool) (ssh.Signer, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.keys[file]
	if !ok {
		if err := privateKeyMode(file); err != nil {
			return nil, err
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		s, err = ssh.ParsePrivateKey(data)
		if missing, ok := errors.AsType[*ssh.PassphraseMissingError](err); ok {
			if missing.PublicKey != nil && offered[string(missing.PublicKey.Marshal())] {
				return nil, nil // the agent has it: no need to ask
			}
			if s, err = d.decrypt(file, data); err == nil {
				if d.keys == nil {
					d.keys = map[string]ssh.Signer{}
				}
				d.keys[file] = s
			}
		}
		if err != nil {
			return nil, err
		}
	}
	k := string(s.PublicKey().Marshal())
	if offered[k] {
		return nil, nil
	}
	offered[k] = true
	return s, nil
}

// decrypt asks for file's passphrase and decrypts it. The passphrase is wiped after use
// and appears in no error.
func (d *Dialer) decrypt(file string, data []byte) (ssh.Signer, error) {
	if d.Passphrase == nil {
		return nil, errors.New("encrypted, and no way to ask for its passphrase")
	}
	pass, err := d.Passphrase(file)
	if err != nil {
		return nil, fmt.Errorf("passphrase: %w", err)
	}
	defer clear(pass)
	s, err := ssh.ParsePrivateKeyWithPassphrase(data, pass)
	if errors.Is(err, x509.IncorrectPasswordError) {
		return nil, errors.New("wrong passphrase")
	}
	return s, err
}

// loginName is h's user, or the operator's own login name like ssh uses.
func loginName(h *probe.Host) (string, error) {
	if h.User != "" {
		return h.User, nil
	}
	u, err := user.Current()
	if err != nil {
		return "", fmt.Errorf("no user in the inventory and no login name to default to: %w", err)
	}
	// Windows names are DOMAIN\user; the host knows the user only.
	return u.Username[strings.LastIndex(u.Username, `\`)+1:], nil
}
