package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
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

// verifier checks copies on the target beside the transfer of the next files, in
// batches of those that arrived meanwhile. It hashes on the target itself (openssl dgst, else sha256sum or shasum, or
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

// verifyBatch is the most files one hash command checks: the verifier takes whatever
// has arrived meanwhile, up to this many, so a folder of small files costs a few
// commands rather than one per file.
const verifyBatch = 64

func (v *verifier) loop() {
	h := v.h
	if h == nil {
		h = &probe.Host{Name: "the target"}
	}
	th := &treeHasher{t: v.t, h: h, with: v.with}
	var first error
	for j := range v.jobs {
		batch := []verifyJob{j}
	more:
		for len(batch) < verifyBatch {
			select {
			case k, ok := <-v.jobs:
				if !ok {
					break more
				}
				batch = append(batch, k)
			default:
				break more
			}
		}
		if first != nil {
			for _, k := range batch {
				_ = v.t.Remove(context.WithoutCancel(v.ctx), k.path)
			}
			continue
		}
		if err := v.check(th, batch); err != nil {
			first = err
			close(v.failed)
		}
	}
	v.done <- first
}

// check verifies a batch of copies and moves each into place (into mode); on the first
// failure every copy of the batch not yet in place is removed.
func (v *verifier) check(th *treeHasher, batch []verifyJob) error {
	items := make([]hashItem, len(batch))
	for i, k := range batch {
		items[i] = hashItem{path: k.path, size: k.size}
	}
	sums := make(map[string][]byte, len(batch))
	var err error
	for _, b := range hashBatches(items) {
		if err = th.batch(v.ctx, b, func(p string, sum []byte) { sums[p] = sum }); err != nil {
			break
		}
	}
	for i, k := range batch {
		if err == nil {
			var fi fs.FileInfo
			if fi, err = v.t.Stat(v.ctx, k.path); err == nil {
				err = compareCopy(k, fi.Size(), sums[k.path])
			}
		}
		if err == nil && k.final != "" {
			// Still the file cutover wrote, not something swapped in at its name.
			if err = checkOwn(v.ctx, v.t, v.hostName(), k.path, k.size); err == nil {
				err = v.t.Rename(v.ctx, k.path, k.final)
			}
		}
		if err != nil {
			for _, r := range batch[i:] {
				_ = v.t.Remove(context.WithoutCancel(v.ctx), r.path)
			}
			if !strings.HasPrefix(err.Error(), "verification failed") {
				err = fmt.Errorf("verifying %s: %w", k.path, err)
			}
			return err
		}
	}
	return nil
}

func compareCopy(j verifyJob, size int64, sum []byte) error {
	if size != j.size || !bytes.Equal(sum, j.sum) {
		if len(sum) < 8 {
			sum = make([]byte, 8)
		}
		return errors.New("verification failed for " + j.path + ": the copy differs from the source (" +
			fmt.Sprintf("%d bytes, sha256 %x; sent %d bytes, sha256 %x)", size, sum[:8], j.size, j.sum[:8]))
	}
	return nil
}
