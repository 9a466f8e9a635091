package lab

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
)

// loadKeys reads the host keys and the client key, creating the missing ones. It reports
// whether an ed25519 host key was created, since known_hosts then needs rewriting.
func (l *Lab) loadKeys() (hostKeyCreated bool, err error) {
	if err := os.MkdirAll(filepath.Join(l.dir, hostKeysDir), 0o700); err != nil {
		return false, fmt.Errorf("lab: %w", err)
	}
	for _, h := range l.hosts {
		ed, created, err := loadOrCreateKey(l.hostKeyPath(h, ssh.KeyAlgoED25519), "lab host "+h.name, ssh.KeyAlgoED25519, newEd25519)
		if err != nil {
			return false, err
		}
		ec, _, err := loadOrCreateKey(l.hostKeyPath(h, ssh.KeyAlgoECDSA256), "lab host "+h.name, ssh.KeyAlgoECDSA256, newECDSA)
		if err != nil {
			return false, err
		}
		h.ed25519, h.ecdsa = ed, ec
		hostKeyCreated = hostKeyCreated || created
	}
	client, _, err := loadOrCreateKey(filepath.Join(l.dir, clientKeyFile), "cutover lab client", ssh.KeyAlgoED25519, newEd25519)
	if err != nil {
		return false, err
	}
	l.clientKey = client.PublicKey().Marshal()
	pub := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(client.PublicKey())), "\n") + " cutover-lab\n"
	if err := writeFileAtomic(filepath.Join(l.dir, clientKeyFile+".pub"), []byte(pub), 0o644); err != nil {
		return false, fmt.Errorf("lab: %w", err)
	}
	return hostKeyCreated, nil
}

// hostKeyPath is DIR/hostkeys/<host>_ed25519 or _ecdsa.
func (l *Lab) hostKeyPath(h *host, algo string) string {
	suffix := "_ed25519"
	if algo == ssh.KeyAlgoECDSA256 {
		suffix = "_ecdsa"
	}
	return filepath.Join(l.dir, hostKeysDir, h.name+suffix)
}

func newEd25519() (crypto.PrivateKey, error) {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	return k, err
}

func newECDSA() (crypto.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// loadOrCreateKey reads an OpenSSH private key of type algo from path, or creates one
// with gen when there is none.
func loadOrCreateKey(path, comment, algo string, gen func() (crypto.PrivateKey, error)) (ssh.Signer, bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err := gen()
		if err != nil {
			return nil, false, fmt.Errorf("lab: generating %s: %w", path, err)
		}
		s, err := writeKey(path, comment, key)
		return s, true, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("lab: %w", err)
	}
	s, err := ssh.ParsePrivateKey(data)
	if err != nil {
		return nil, false, fmt.Errorf("lab: key %s: %w", path, err)
	}
	if t := s.PublicKey().Type(); t != algo {
		return nil, false, fmt.Errorf("lab: key %s is %s, expected %s; set up the lab again with reset", path, t, algo)
	}
	return s, false, nil
}

// writeKey stores key in OpenSSH's own format, which ssh -i and ssh-keygen accept.
func writeKey(path, comment string, key crypto.PrivateKey) (ssh.Signer, error) {
	block, err := ssh.MarshalPrivateKey(key, comment)
	if err != nil {
		return nil, fmt.Errorf("lab: %s: %w", path, err)
	}
	s, err := ssh.NewSignerFromKey(key)
	if err != nil {
		return nil, fmt.Errorf("lab: %s: %w", path, err)
	}
	if err := writeFileAtomic(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	return s, nil
}
