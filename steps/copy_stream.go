package steps

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"time"

	"github.com/cutover/cutover/probe"
)

// copyItems copies a listed tree to dst. In replace mode dst is a staging name nobody
// else has: each folder is created with mkdir and each file exclusively, so nothing
// there can be a planted link. In into mode the folders may exist (intoTarget looked at
// them), and each file goes through a random temporary name created exclusively and is
// renamed into place once verified.
func copyItems(ctx context.Context, st, dt probe.Transport, ec probe.ExclusiveCreator, dstHost *probe.Host, hashWith *hashMethod, src, dst string, items []copyItem, into bool, prog *copyProgress) (int, error) {
	v := newVerifier(ctx, dt, dstHost, hashWith)
	files := 0
	var err error
	for _, it := range items {
		s, d := path.Join(src, it.rel), path.Join(dst, it.rel)
		if it.fi.IsDir() {
			if err = copyDir(ctx, dt, dstHost.Name, d, it.fi.Mode().Perm()|0o700, into); err != nil {
				break
			}
			continue
		}
		tmp := d
		if into {
			tmp = tempName(d, tmpNew)
		}
		var sum []byte
		if sum, err = copyFile(ctx, st, dt, ec, dstHost.Name, s, tmp, it.fi, prog); err != nil {
			if !errors.Is(err, fs.ErrExist) {
				_ = dt.Remove(context.WithoutCancel(ctx), tmp)
			}
			break
		}
		// Verified on the target while the next file streams; in into mode the file is
		// renamed into place only once it is verified.
		final := ""
		if into {
			final = d
		}
		if !v.add(verifyJob{path: tmp, final: final, size: it.fi.Size(), sum: sum}) {
			break // an earlier file failed verification
		}
		files++
	}
	if verr := v.wait(); err == nil {
		err = verr
	}
	if err != nil {
		return files, err
	}
	// Folder times last: writing files into a folder changes its modification time.
	for i := len(items) - 1; i >= 0; i-- {
		if it := items[i]; it.fi.IsDir() {
			_ = dt.Chtimes(ctx, path.Join(dst, it.rel), it.fi.ModTime(), it.fi.ModTime())
		}
	}
	return files, nil
}

// copyDir creates a folder of the copy. In replace mode it is new (inside the staging
// copy, or the staging copy itself) and made with mkdir, which fails on anything already
// there; in into mode an existing folder is used (intoTarget refused links) and leftovers
// of an earlier attempt's temporary names in it are removed.
func copyDir(ctx context.Context, t probe.Transport, host, d string, perm fs.FileMode, into bool) error {
	if !into {
		if err := t.Mkdir(ctx, d, perm); err != nil {
			return plantedError(host, d, err)
		}
		return nil
	}
	fi, err := t.Lstat(ctx, d)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := t.Mkdir(ctx, d, perm); err != nil {
			return plantedError(host, d, err)
		}
		return nil
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s: %s is no longer a folder (%s)", host, d, describeMode(fi.Mode()))
	}
	entries, err := t.ReadDir(ctx, d)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if leftoverTemp.MatchString(e.Name()) {
			if err := t.RemoveAll(ctx, path.Join(d, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// leftoverTemp matches a temporary name of an into copy's file.
var leftoverTemp = regexp.MustCompile(`\.cutover-` + tmpNew + `-[0-9a-f]{16}$`)

// copyFile streams one file to a new file dst, created exclusively, and returns the
// SHA-256 of what it sent. Both ends keep several SFTP requests in flight: the source is
// read with its WriterTo into a pipe, and the target is written from a reader whose
// length is known.
func copyFile(ctx context.Context, st, dt probe.Transport, ec probe.ExclusiveCreator, host, src, dst string, fi fs.FileInfo, prog *copyProgress) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	in, err := st.Open(ctx, src)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	out, err := ec.CreateExclusive(ctx, dst, fi.Mode().Perm())
	if err != nil {
		return nil, plantedError(host, dst, err)
	}
	pr, pw := io.Pipe()
	go func() {
		var err error
		if wt, ok := in.(io.WriterTo); ok {
			_, err = wt.WriteTo(pw)
		} else {
			_, err = io.Copy(pw, in)
		}
		pw.CloseWithError(err)
	}()
	sent := sha256.New()
	n, err := io.Copy(out, io.LimitReader(io.TeeReader(&progressReader{r: pr, p: prog}, sent), fi.Size()))
	_ = pr.Close() // ends the reader goroutine if the copy stopped early
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if n != fi.Size() {
		return nil, fmt.Errorf("%s changed while it was copied: %d bytes read, %d listed", src, n, fi.Size())
	}
	// The read stops at the listed size, so a file that grew or was rewritten meanwhile
	// would pass verification as the prefix it was: look at the source again.
	now, err := st.Stat(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("%s: looking at the source again after copying: %w", src, err)
	}
	if now.Size() != fi.Size() || !sameModTime(now.ModTime(), fi.ModTime()) {
		return nil, fmt.Errorf("%s changed while it was copied (listed %d bytes modified %s, now %d bytes modified %s): stop whatever writes it and run the copy again",
			src, fi.Size(), Stamp(fi.ModTime()), now.Size(), Stamp(now.ModTime()))
	}
	if err := dt.Chtimes(ctx, dst, fi.ModTime(), fi.ModTime()); err != nil {
		return nil, err
	}
	return sent.Sum(nil), nil
}

// sameModTime compares modification times at the precision both have: SFTP gives whole
// seconds, a local file nanoseconds.
func sameModTime(a, b time.Time) bool {
	if a.Nanosecond() == 0 || b.Nanosecond() == 0 {
		return a.Unix() == b.Unix()
	}
	return a.Equal(b)
}

type copyProgress struct {
	x     *stepExec
	done  int64
	total int64
	last  time.Time
	every time.Duration
}

func (p *copyProgress) add(n int) {
	p.done += int64(n)
	p.report(false)
}

func (p *copyProgress) report(final bool) {
	now := p.x.now()
	if !final && now.Sub(p.last) < p.every {
		return
	}
	p.last = now
	p.x.progress(Progress{Done: p.done, Total: p.total})
}

type progressReader struct {
	r io.Reader
	p *copyProgress
}

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.p.add(n)
	return n, err
}
