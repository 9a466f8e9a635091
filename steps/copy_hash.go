package steps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"

	"github.com/cutover/cutover/probe"
)

// treeHasher hashes many files of one host with SHA-256, on the host itself: one command
// hashes a batch of files (openssl dgst, else sha256sum or shasum, Get-FileHash on
// PowerShell hosts), several batches run at once, so thousands of files cost tens of
// commands rather than thousands. A host without any of them has its files read back
// over SFTP and hashed here.
type treeHasher struct {
	t probe.Transport
	h *probe.Host
	// with is how the host hashes, learnt on the first batch and kept (shared with the
	// verifier of the same action).
	mu   sync.Mutex
	with *hashMethod
	// known is set once a command of *with worked here: a failure after that is a file
	// that is missing or unreadable, not a missing command.
	known bool
}

// Batches: bounded by the command's length and by the bytes one command hashes, so a
// few large files spread over the parallel commands.
const (
	hashBatchFiles = 256
	hashBatchBytes = 96 << 20
	hashBatchChars = 24 << 10
	hashParallel   = 3
)

// hashItem is one file to hash: its path on the host and its listed size.
type hashItem struct {
	path string
	size int64
}

// batches splits items into the batches one command each hashes. A name holding a
// newline or a backslash goes alone: hash commands escape such names in their output.
func hashBatches(items []hashItem) [][]hashItem {
	var out [][]hashItem
	var cur []hashItem
	var bytes int64
	chars := 0
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
			cur, bytes, chars = nil, 0, 0
		}
	}
	for _, it := range items {
		if strings.ContainsAny(it.path, "\n\\") {
			flush()
			out = append(out, []hashItem{it})
			continue
		}
		if len(cur) >= hashBatchFiles || bytes+it.size > hashBatchBytes || chars+len(it.path)+8 > hashBatchChars {
			flush()
		}
		cur = append(cur, it)
		bytes += it.size
		chars += len(it.path) + 8
	}
	flush()
	return out
}

// hashAll hashes every item and calls got for each (from several goroutines at once,
// never twice for one path). It stops at the first error.
func (th *treeHasher) hashAll(ctx context.Context, items []hashItem, got func(p string, sum []byte)) error {
	batches := hashBatches(items)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan []hashItem)
	errs := make(chan error, hashParallel)
	var wg sync.WaitGroup
	for range min(hashParallel, len(batches)) {
		wg.Go(func() {
			for b := range work {
				if err := th.batch(ctx, b, got); err != nil {
					errs <- err
					cancel()
					return
				}
			}
		})
	}
feed:
	for _, b := range batches {
		select {
		case work <- b:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return ctx.Err()
	}
}

// batch hashes one batch with the host's method, learning it on the way.
func (th *treeHasher) batch(ctx context.Context, b []hashItem, got func(string, []byte)) error {
	for {
		th.mu.Lock()
		m := *th.with
		th.mu.Unlock()
		if m == hashReadBack {
			for _, it := range b {
				sum, err := readBackSum(ctx, th.t, it.path)
				if err != nil {
					return fmt.Errorf("%s: hashing %s: %w", th.h.Name, it.path, err)
				}
				got(it.path, sum)
			}
			return nil
		}
		m = max(m, hashOpenSSL)
		if th.h.PowerShell() {
			m = hashSum
		}
		sums, ok, err := th.command(ctx, b, m)
		if err != nil {
			return err
		}
		if ok {
			th.mu.Lock()
			*th.with, th.known = m, true
			th.mu.Unlock()
			for i, it := range b {
				got(it.path, sums[i])
			}
			return nil
		}
		th.mu.Lock()
		learnt := th.known && *th.with == m // this method worked here before
		if !learnt && *th.with <= m {
			*th.with = m + 1 // missing here: the next method
		}
		th.mu.Unlock()
		if learnt {
			return fmt.Errorf("%s: hashing failed for one of %d files from %s: it is missing or unreadable (did it change while it was copied?)", th.h.Name, len(b), b[0].path)
		}
	}
}

// command runs one hash command over a batch; ok is false when the output is not one
// hash per file (the command is missing, or a file could not be read).
func (th *treeHasher) command(ctx context.Context, b []hashItem, m hashMethod) (sums [][]byte, ok bool, err error) {
	var cmd string
	switch {
	case th.h.PowerShell():
		q := make([]string, len(b))
		for i, it := range b {
			q[i] = probe.PSQuote(it.path)
		}
		cmd = "Get-FileHash -Algorithm SHA256 -LiteralPath " + strings.Join(q, ",") + " | ForEach-Object { $_.Hash }"
	case m == hashOpenSSL:
		q := make([]string, len(b))
		for i, it := range b {
			p := it.path
			if !strings.HasPrefix(p, "/") {
				p = "./" + p // openssl has no "--": a name must not read as an option
			}
			q[i] = probe.ShellQuote(p)
		}
		cmd = "openssl dgst -sha256 -r " + strings.Join(q, " ") + " 2>/dev/null"
	default:
		q := make([]string, len(b))
		for i, it := range b {
			q[i] = probe.ShellQuote(it.path)
		}
		args := strings.Join(q, " ")
		cmd = "sha256sum -- " + args + " 2>/dev/null || shasum -a 256 -- " + args
	}
	code, out, err := capture(ctx, th.t, cmd)
	if err != nil {
		return nil, false, fmt.Errorf("%s: hashing: %w", th.h.Name, err)
	}
	lines := strings.FieldsFunc(out, func(r rune) bool { return r == '\n' || r == '\r' })
	if code != 0 || len(lines) != len(b) {
		return nil, false, nil
	}
	for _, l := range lines {
		f := strings.Fields(strings.TrimPrefix(l, `\`))
		if len(f) == 0 || len(f[0]) != 64 {
			return nil, false, nil
		}
		sum, err := hex.DecodeString(strings.ToLower(f[0]))
		if err != nil {
			return nil, false, nil
		}
		sums = append(sums, sum)
	}
	return sums, true, nil
}

// readBackSum hashes a host file by reading it over SFTP.
func readBackSum(ctx context.Context, t probe.Transport, p string) ([]byte, error) {
	f, err := t.Open(ctx, p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// joinRel is root/rel, or root itself for the root's own entry.
func joinRel(root, rel string) string {
	if rel == "" {
		return root
	}
	return path.Join(root, rel)
}
