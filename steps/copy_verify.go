package steps

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cutover/cutover/probe"
)

// verifyJob is a copied file waiting to be checked.
type verifyJob struct {
	path  string // where the copy is
	final string // where it goes once verified ("" when it is in place already)
	size  int64
	sum   []byte // SHA-256 of what was sent
}

// verifier checks copies on the target, one at a time, beside the transfer of the next
// file. It hashes on the target itself (openssl dgst, else sha256sum or shasum, or
// Get-FileHash on PowerShell hosts), which costs no transfer; where no such command
// exists it reads the copy back over SFTP.
type verifier struct {
	ctx  context.Context
	t    probe.Transport
	h    *probe.Host
	jobs chan verifyJob
	done chan error
	// failed is closed when a verification fails, so the copy stops early.
	failed chan struct{}
	// with is how the host hashes (learnt once per action, shared by its paths).
	with *hashMethod
}

// hashMethod is how a target host hashes a copy.
type hashMethod int

const (
	hashUnknown  hashMethod = iota // not tried yet
	hashOpenSSL                    // openssl dgst: uses the CPU's SHA instructions, several times faster
	hashSum                        // sha256sum, or shasum -a 256 (PowerShell: Get-FileHash)
	hashReadBack                   // no command: read the copy back over SFTP
)

func newVerifier(ctx context.Context, t probe.Transport, h *probe.Host, with *hashMethod) *verifier {
	v := &verifier{ctx: ctx, t: t, h: h, jobs: make(chan verifyJob, 64), done: make(chan error, 1), failed: make(chan struct{}), with: with}
	go v.loop()
	return v
}

func (v *verifier) hostName() string {
	if v.h == nil {
		return "the target"
	}
	return v.h.Name
}

// add queues a job; false means an earlier file failed and the copy should stop.
func (v *verifier) add(j verifyJob) bool {
	select {
	case v.jobs <- j:
		return true
	case <-v.failed:
		return false
	}
}

// wait returns the first verification error once every queued file is checked.
func (v *verifier) wait() error {
	close(v.jobs)
	return <-v.done
}

func (v *verifier) loop() {
	var first error
	for j := range v.jobs {
		if first != nil {
			_ = v.t.Remove(context.WithoutCancel(v.ctx), j.path)
			continue
		}
		var err error
		for *v.with != hashReadBack {
			m := max(*v.with, hashOpenSSL)
			if v.h != nil && v.h.PowerShell() {
				m = hashSum
			}
			var ok bool
			if ok, err = v.remoteHash(j, m); ok {
				*v.with = m
				break
			}
			*v.with = m + 1 // that command is missing here: the next one
		}
		if *v.with == hashReadBack {
			err = readBack(v.ctx, v.t, j)
		}
		if err == nil && j.final != "" {
			// Still the file cutover wrote, not something swapped in at its name.
			if err = checkOwn(v.ctx, v.t, v.hostName(), j.path, j.size); err == nil {
				err = v.t.Rename(v.ctx, j.path, j.final)
			}
		}
		if err != nil {
			_ = v.t.Remove(context.WithoutCancel(v.ctx), j.path)
			first = err
			close(v.failed)
		}
	}
	v.done <- first
}

// remoteHash hashes the copy on the target with m. ok is false when the host lacks that
// command, and the caller tries the next method.
func (v *verifier) remoteHash(j verifyJob, m hashMethod) (ok bool, err error) {
	var cmd string
	switch {
	case v.h != nil && v.h.PowerShell():
		cmd = fmt.Sprintf("(Get-FileHash -Algorithm SHA256 -LiteralPath %s).Hash", probe.PSQuote(j.path))
	case m == hashOpenSSL:
		p := j.path
		if !strings.HasPrefix(p, "/") {
			p = "./" + p // openssl has no "--": a name must not read as an option
		}
		cmd = fmt.Sprintf("openssl dgst -sha256 -r %s 2>/dev/null", probe.ShellQuote(p))
	default:
		q := probe.ShellQuote(j.path)
		cmd = fmt.Sprintf("sha256sum -- %s 2>/dev/null || shasum -a 256 -- %s", q, q)
	}
	code, out, err := capture(v.ctx, v.t, cmd)
	if err != nil {
		return true, fmt.Errorf("verifying %s: %w", j.path, err)
	}
	fields := strings.Fields(out)
	if code != 0 || len(fields) == 0 || len(fields[0]) != 64 {
		return false, nil
	}
	got, err := hex.DecodeString(strings.ToLower(fields[0]))
	if err != nil {
		return false, nil
	}
	fi, err := v.t.Stat(v.ctx, j.path)
	if err != nil {
		return true, fmt.Errorf("verifying %s: %w", j.path, err)
	}
	return true, compareCopy(j, fi.Size(), got)
}

// readBack verifies a copy by reading it back over SFTP.
func readBack(ctx context.Context, t probe.Transport, j verifyJob) error {
	f, err := t.Open(ctx, j.path)
	if err != nil {
		return fmt.Errorf("verifying %s: %w", j.path, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fmt.Errorf("verifying %s: %w", j.path, err)
	}
	return compareCopy(j, n, h.Sum(nil))
}

func compareCopy(j verifyJob, size int64, sum []byte) error {
	if size != j.size || !bytes.Equal(sum, j.sum) {
		return errors.New("verification failed for " + j.path + ": the copy differs from the source (" +
			fmt.Sprintf("%d bytes, sha256 %x; sent %d bytes, sha256 %x)", size, sum[:8], j.size, j.sum[:8]))
	}
	return nil
}
