package journal

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// Namespace is the SSH signature namespace of journals: a signature made for another
// purpose (git commits, files) is never taken for one of a journal, nor one of a
// journal for anything else.
const Namespace = "cutover-journal"

// hashAlg is the hash a signature covers the journal with (ssh-keygen's default).
const hashAlg = sshsig.HashSHA512

// SigPath is where the signature of the journal at path lives: beside it, with .sig
// added (journal.jsonl.sig), in the armored form ssh-keygen -Y sign writes.
func SigPath(path string) string { return path + ".sig" }

// Sign signs the journal at path as it is now, with s, and replaces its signature file
// atomically. The signature covers the file's bytes, so it checks with
//
//	ssh-keygen -Y verify -f allowed_signers -I PRINCIPAL -n cutover-journal -s J.sig < J
//
// as well as with Verify.
func Sign(path string, s ssh.Signer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("signing the journal: %w", err)
	}
	defer f.Close()
	sig, err := sshsig.Sign(f, s, hashAlg, Namespace)
	if err != nil {
		return fmt.Errorf("signing the journal with %s key %s: %w", s.PublicKey().Type(), ssh.FingerprintSHA256(s.PublicKey()), err)
	}
	return writeAtomic(SigPath(path), sshsig.Armor(sig))
}

// writeAtomic writes data to name through a new file beside it, so a reader sees the
// old signature or the new one, never half of one.
func writeAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".cutover-sig-*")
	if err != nil {
		return fmt.Errorf("writing the journal's signature: %w", err)
	}
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), name)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing the journal's signature: %w", werr)
	}
	syncDir(filepath.Dir(name))
	return nil
}

// Signature is what a journal's signature file says about the journal.
type Signature struct {
	// Key signed it.
	Key ssh.PublicKey
	// Lines is how many lines of the journal it covers, from the first; Whole is set
	// when that is all of them (nothing was added after it was made).
	Lines int
	Whole bool
}

// ErrNoSignature is returned by ReadSignature for a journal that was never signed.
var ErrNoSignature = errors.New("the journal has no signature")

// ReadSignature checks the signature file of the journal at path against the journal's
// content: the signature must be valid, for the namespace of journals, over the whole
// file or over its first lines (a run that was killed before it could sign what it
// last wrote leaves lines after the signed ones). It says which key signed and how
// much; whether that key may sign is the caller's question (Verify, allowed signers).
// A journal changed anywhere in what was signed fails, whoever recomputed its chain.
func ReadSignature(path string) (*Signature, error) {
	armored, err := os.ReadFile(SigPath(path))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoSignature
	}
	if err != nil {
		return nil, err
	}
	sig, err := sshsig.Unarmor(armored)
	if err != nil {
		return nil, fmt.Errorf("%s: not an SSH signature: %w", SigPath(path), err)
	}
	if sig.Namespace != Namespace {
		return nil, fmt.Errorf("%s: a signature for %q, not for a cutover journal (%q)", SigPath(path), sig.Namespace, Namespace)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lines, whole, err := signedPrefix(bufio.NewReader(io.LimitReader(f, MaxSize+1)), sig)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if lines < 0 {
		return nil, fmt.Errorf("%s does not match its signature (%s, by %s key %s): it was changed after it was signed",
			path, SigPath(path), sig.PublicKey.Type(), ssh.FingerprintSHA256(sig.PublicKey))
	}
	return &Signature{Key: sig.PublicKey, Lines: lines, Whole: whole}, nil
}

// signedPrefix finds the end of a line up to which sig signs r's content, reading r
// once: the whole content first, else the latest line end that fits. It returns the
// number of lines signed (-1 when none fits) and whether that is all of r.
func signedPrefix(r *bufio.Reader, sig *sshsig.Signature) (int, bool, error) {
	if sig.HashAlgorithm != hashAlg && sig.HashAlgorithm != sshsig.HashSHA256 {
		return -1, false, fmt.Errorf("signature hash %q is not one SSH signatures use", sig.HashAlgorithm)
	}
	h := sig.HashAlgorithm.Hash()
	var ends [][]byte // the digest at the end of each line
	for {
		line, err := r.ReadBytes('\n')
		h.Write(line)
		if len(line) > 0 && line[len(line)-1] == '\n' {
			ends = append(ends, h.Sum(nil))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return -1, false, err
		}
	}
	all := h.Sum(nil)
	if matches(sig, all) {
		return len(ends), true, nil
	}
	for i := len(ends) - 1; i >= 0; i-- {
		if matches(sig, ends[i]) {
			return i + 1, false, nil
		}
	}
	return -1, false, nil
}

// matches checks sig against the digest of a message: the signed data of an SSH
// signature is "SSHSIG", the namespace, a reserved string, the hash algorithm and the
// message's digest (PROTOCOL.sshsig in OpenSSH's sources). sshsig.Verify hashes a
// message itself; a journal's prefixes are checked from the digests of one pass.
func matches(sig *sshsig.Signature, digest []byte) bool {
	signed := append([]byte("SSHSIG"), ssh.Marshal(struct {
		Namespace, Reserved, Hash, Digest string
	}{Namespace, "", sig.HashAlgorithm.String(), string(digest)})...)
	return sig.PublicKey.Verify(signed, sig.Signature) == nil
}

// equalKeys reports whether two public keys are the same key.
func equalKeys(a, b ssh.PublicKey) bool { return bytes.Equal(a.Marshal(), b.Marshal()) }
