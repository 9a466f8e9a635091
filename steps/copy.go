package steps

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"

	yast "github.com/goccy/go-yaml/ast"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/yamlpos"
)

// CopyAction copies files and folders from one role's host to another's, through the
// operator's machine. In replace mode (the default) the target is replaced as a whole,
// never merged: the copy goes to a staging name beside the target, is verified, and only
// then is the old target removed and the staging copy renamed into place. In into mode
// files are copied into an existing folder, each through a temporary name. Every file is
// verified after copying: size and SHA-256 of what arrived against what was sent.
type CopyAction struct {
	From  Ref        `yaml:"from"`
	To    Ref        `yaml:"to"`
	Paths []CopyPath `yaml:"paths"`
	Mode  string     `yaml:"mode"`
}

// CopyPath is one file or folder to copy; Dst defaults to Src. Relative paths resolve
// against each host's install folder.
type CopyPath struct {
	Src *Template `yaml:"src"`
	Dst *Template `yaml:"dst"`
	Pos yamlpos.Pos
}

// UnmarshalYAML accepts "hub/hub.ini" or {src: ..., dst: ...}.
func (p *CopyPath) UnmarshalYAML(n yast.Node) error {
	p.Pos = yamlpos.PosOf(n)
	if n.Type() == yast.MappingType {
		type plain CopyPath
		return yamlpos.DecodeNode(n, (*plain)(p))
	}
	p.Src = &Template{}
	return p.Src.UnmarshalYAML(n)
}

func (a *CopyAction) compile(c *compiler, act *Action) {
	c.role(a.From, "from", act.Pos)
	c.role(a.To, "to", act.Pos)
	if a.Mode == "" {
		a.Mode = "replace"
	}
	if a.Mode != "replace" && a.Mode != "into" {
		c.errorf(act.Pos, "mode must be replace or into, not %q", a.Mode)
	}
	if len(a.Paths) == 0 {
		c.errorf(act.Pos, "paths: list at least one file or folder")
	}
	for _, p := range a.Paths {
		c.tmpl(p.Src, "src", p.Pos, true)
		c.tmpl(p.Dst, "dst", p.Pos, false)
	}
}

func (a *CopyAction) pair(x *stepExec, p CopyPath) (src, dst string, err error) {
	if src, err = x.path(p.Src, a.From.Name); err != nil {
		return "", "", err
	}
	d := p.Dst
	if d.IsZero() {
		d = p.Src
	}
	dst, err = x.path(d, a.To.Name)
	return src, dst, err
}

func (a *CopyAction) plan(x *stepExec) (ActionRecord, error) {
	from, to := x.host(a.From.Name), x.host(a.To.Name)
	rec := ActionRecord{Kind: "copy", Hosts: []string{from.Name, to.Name}}
	verb := "replace on"
	if a.Mode == "into" {
		verb = "copy into"
	}
	for _, p := range a.Paths {
		src, dst, err := a.pair(x, p)
		if err != nil {
			return rec, err
		}
		rec.Changes = append(rec.Changes, fmt.Sprintf("%s:%s -> %s:%s", from.Name, src, to.Name, dst))
	}
	rec.Summary = fmt.Sprintf("%s %s: %s from %s (verified by size and SHA-256)", verb, to.Name, plural(len(a.Paths), "path", "paths"), from.Name)
	return rec, nil
}

// copyItem is one file or folder of a source tree.
type copyItem struct {
	rel string // relative to the copied path; "" for the path itself
	fi  fs.FileInfo
}

func (a *CopyAction) run(ctx context.Context, x *stepExec, rec *ActionRecord) {
	st, from, err := x.conn(ctx, a.From.Name)
	copying := false
	if err == nil {
		var dt probe.Transport
		var to *probe.Host
		dt, to, err = x.conn(ctx, a.To.Name)
		if err == nil {
			copying = true
			err = a.copyAll(ctx, x, st, dt, from, to, rec)
		}
	}
	if err != nil {
		rec.Error = err.Error()
		rec.Unreachable = probe.IsConnectionError(err)
		// A connection lost with the copy under way leaves the target in a state nobody
		// knows (staging copy, old copy removed, new one in place).
		rec.Unknown = rec.Unreachable && copying
		return
	}
	rec.OK = true
}

func (a *CopyAction) copyAll(ctx context.Context, x *stepExec, st, dt probe.Transport, from, to *probe.Host, rec *ActionRecord) error {
	// List every source first: a missing source stops the action before anything on the
	// target is touched.
	type job struct {
		src, dst string
		items    []copyItem
		total    int64
	}
	var jobs []job
	var total int64
	for _, p := range a.Paths {
		src, dst, err := a.pair(x, p)
		if err != nil {
			return err
		}
		items, size, err := listTree(ctx, st, src)
		if err != nil {
			return fmt.Errorf("source %s:%s: %w", from.Name, src, err)
		}
		jobs = append(jobs, job{src: src, dst: dst, items: items, total: size})
		total += size
	}
	prog := &copyProgress{x: x, total: total, every: 100 * time.Millisecond}
	hashWith := hashUnknown
	rec.Changes = nil
	for _, j := range jobs {
		target := j.dst
		if a.Mode == "replace" {
			target = j.dst + ".cutover-incoming"
			if err := dt.RemoveAll(ctx, target); err != nil {
				return fmt.Errorf("%s:%s: clearing an earlier staging copy: %w", to.Name, target, err)
			}
		}
		if err := dt.MkdirAll(ctx, path.Dir(target), 0o755); err != nil {
			return fmt.Errorf("%s:%s: %w", to.Name, path.Dir(target), err)
		}
		files, err := copyItems(ctx, st, dt, to, &hashWith, j.src, target, j.items, a.Mode == "into", prog)
		if err != nil {
			if a.Mode == "replace" {
				// The staging copy is incomplete or failed verification: remove it, so the
				// target holds only its old copy and nothing half-made beside it.
				_ = dt.RemoveAll(context.WithoutCancel(ctx), target)
			}
			return fmt.Errorf("copying %s:%s to %s:%s: %w", from.Name, j.src, to.Name, target, err)
		}
		if a.Mode == "replace" {
			if err := dt.RemoveAll(ctx, j.dst); err != nil {
				return fmt.Errorf("%s:%s: removing the old copy: %w", to.Name, j.dst, err)
			}
			if err := dt.Rename(ctx, target, j.dst); err != nil {
				return fmt.Errorf("%s: moving %s into place: %w", to.Name, target, err)
			}
		}
		rec.Files += files
		rec.Bytes += j.total
		rec.Changes = append(rec.Changes, fmt.Sprintf("%s:%s -> %s:%s (%s, %d bytes, verified)", from.Name, j.src, to.Name, j.dst, plural(files, "file", "files"), j.total))
	}
	prog.report(true)
	return nil
}

// listTree lists a file, or a folder and everything below it, parents before children.
func listTree(ctx context.Context, t probe.Transport, root string) ([]copyItem, int64, error) {
	fi, err := t.Stat(ctx, root)
	if err != nil {
		return nil, 0, err
	}
	items := []copyItem{{rel: "", fi: fi}}
	var total int64
	if !fi.IsDir() {
		return items, fi.Size(), nil
	}
	var walk func(rel string) error
	walk = func(rel string) error {
		entries, err := t.ReadDir(ctx, path.Join(root, rel))
		if err != nil {
			return err
		}
		for _, e := range entries {
			r := path.Join(rel, e.Name())
			switch {
			case e.Mode()&fs.ModeSymlink != 0:
				return fmt.Errorf("%s is a symbolic link; cutover copies only files and folders, copy it by hand", path.Join(root, r))
			case e.IsDir():
				items = append(items, copyItem{rel: r, fi: e})
				if err := walk(r); err != nil {
					return err
				}
			case e.Mode().IsRegular():
				items = append(items, copyItem{rel: r, fi: e})
				total += e.Size()
			default:
				return fmt.Errorf("%s is not a regular file or folder", path.Join(root, r))
			}
		}
		return nil
	}
	return items, total, walk("")
}

func copyItems(ctx context.Context, st, dt probe.Transport, dstHost *probe.Host, hashWith *hashMethod, src, dst string, items []copyItem, into bool, prog *copyProgress) (int, error) {
	v := newVerifier(ctx, dt, dstHost, hashWith)
	files := 0
	var err error
	for _, it := range items {
		s, d := path.Join(src, it.rel), path.Join(dst, it.rel)
		if it.fi.IsDir() {
			if err = dt.MkdirAll(ctx, d, it.fi.Mode().Perm()|0o700); err != nil {
				break
			}
			continue
		}
		tmp := d
		if into {
			tmp = d + ".cutover-tmp"
		}
		var sum []byte
		if sum, err = copyFile(ctx, st, dt, s, tmp, it.fi, prog); err != nil {
			_ = dt.Remove(context.WithoutCancel(ctx), tmp)
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

// copyFile streams one file and returns the SHA-256 of what it sent. Both ends keep
// several SFTP requests in flight: the source is read with its WriterTo into a pipe, and
// the target is written from a reader whose length is known.
func copyFile(ctx context.Context, st, dt probe.Transport, src, dst string, fi fs.FileInfo, prog *copyProgress) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	in, err := st.Open(ctx, src)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	out, err := dt.Create(ctx, dst, fi.Mode().Perm())
	if err != nil {
		return nil, err
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
			src, fi.Size(), stamp(fi.ModTime()), now.Size(), stamp(now.ModTime()))
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
			err = v.t.Rename(v.ctx, j.path, j.final)
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
