package sshx_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/cutover/cutover/probe/sshx"
)

// TestSigningKey: the key that signs journals comes from the agent (its first key, or
// the one a .pub file names) or from a private key file, whose passphrase is asked.
func TestSigningKey(t *testing.T) {
	dir := t.TempDir()
	newKey := func(name string, pass []byte) ssh.PublicKey {
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		var block *pem.Block
		var err error
		if pass == nil {
			block, err = ssh.MarshalPrivateKey(priv, "")
		} else {
			block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "", pass)
		}
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600)
		pub, _ := ssh.NewPublicKey(priv.Public())
		os.WriteFile(filepath.Join(dir, name+".pub"), ssh.MarshalAuthorizedKey(pub), 0o644)
		return pub
	}
	inAgent := newKey("in_agent", nil)
	onDisk := newKey("on_disk", []byte("secret"))
	keyring := agent.NewKeyring()
	data, _ := os.ReadFile(filepath.Join(dir, "in_agent"))
	raw, _ := ssh.ParseRawPrivateKey(data)
	if err := keyring.Add(agent.AddedKey{PrivateKey: raw}); err != nil {
		t.Fatal(err)
	}
	asked := 0
	d := &sshx.Dialer{Agent: keyring, Passphrase: func(string) ([]byte, error) { asked++; return []byte("secret"), nil }}
	for _, c := range []struct {
		file string
		want ssh.PublicKey
		err  string
	}{
		{"", inAgent, ""},
		{filepath.Join(dir, "in_agent.pub"), inAgent, ""},
		{filepath.Join(dir, "on_disk"), onDisk, ""},
		{filepath.Join(dir, "on_disk.pub"), onDisk, ""},
		{filepath.Join(dir, "missing"), nil, "no such file"},
	} {
		s, release, err := d.SigningKey(c.file)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %v, want %q", c.file, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if !bytes.Equal(s.PublicKey().Marshal(), c.want.Marshal()) {
			t.Errorf("%s: signs with another key", c.file)
		}
		if _, err := s.Sign(rand.Reader, []byte("journal")); err != nil {
			t.Errorf("%s: %v", c.file, err)
		}
		release()
	}
	if asked != 1 {
		t.Errorf("the passphrase was asked %d times, want once (the decrypted key is kept)", asked)
	}
}
