package sshx

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
)

// SigningKey finds the operator's key for signing a file (a journal): with file empty,
// the ssh-agent's first key, else the first of OpenSSH's default identity files;
// with a public key file (KEY.pub), the agent's key that matches it, else its private
// half beside it; with a private key file, that key (its passphrase asked as for a
// login). release ends the agent connection an agent key signs through: call it once
// the signing is done.
func (d *Dialer) SigningKey(file string) (s ssh.Signer, release func(), err error) {
	release = func() {}
	keys, closeAgent, agentErr := d.agentKeys()
	keep := false
	defer func() {
		if !keep {
			closeAgent()
		}
	}()
	if file == "" {
		if len(keys) > 0 {
			keep = true
			return keys[0], closeAgent, nil
		}
		files := defaultIdentityFiles()
		if len(files) == 0 {
			why := "ssh-agent has no key"
			if agentErr != nil {
				why = agentErr.Error()
			}
			return nil, release, fmt.Errorf("no key to sign with: %s and there is no ~/.ssh/id_ed25519, id_ecdsa or id_rsa (name one with --sign-key)", why)
		}
		file = files[0]
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, release, fmt.Errorf("signing key: %w", err)
	}
	if pub, _, _, _, perr := ssh.ParseAuthorizedKey(data); perr == nil {
		for _, k := range keys {
			if bytes.Equal(k.PublicKey().Marshal(), pub.Marshal()) {
				keep = true
				return k, closeAgent, nil
			}
		}
		private := strings.TrimSuffix(file, ".pub")
		if _, err := os.Stat(private); private == file || err != nil {
			return nil, release, fmt.Errorf("signing key %s: a public key, and neither ssh-agent nor a private key file beside it has its private half", file)
		}
		file = private
	}
	s, err = d.signer(file, map[string]bool{})
	if err == nil && s == nil {
		err = errors.New("not a key")
	}
	if err != nil {
		return nil, release, fmt.Errorf("signing key %s: %w", file, err)
	}
	return s, release, nil
}
