package steps

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"path"
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
	if err == nil {
		var dt probe.Transport
		var to *probe.Host
		dt, to, err = x.conn(ctx, a.To.Name)
		if err == nil {
			err = a.copyAll(ctx, x, st, dt, from, to, rec)
		}
	}
	if err != nil {
		rec.Error = err.Error()
		rec.Unreachable = probe.IsConnectionError(err)
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
		files, err := copyItems(ctx, st, dt, j.src, target, j.items, a.Mode == "into", prog)
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

func copyItems(ctx context.Context, st, dt probe.Transport, src, dst string, items []copyItem, into bool, prog *copyProgress) (int, error) {
	files := 0
	for _, it := range items {
		s, d := path.Join(src, it.rel), path.Join(dst, it.rel)
		if it.fi.IsDir() {
			if err := dt.MkdirAll(ctx, d, it.fi.Mode().Perm()|0o700); err != nil {
				return files, err
			}
			continue
		}
		tmp := d
		if into {
			tmp = d + ".cutover-tmp"
		}
		if err := copyFile(ctx, st, dt, s, tmp, it.fi, prog); err != nil {
			_ = dt.Remove(ctx, tmp)
			return files, err
		}
		if into {
			if err := dt.Rename(ctx, tmp, d); err != nil {
				return files, err
			}
		}
		files++
	}
	// Folder times last: writing files into a folder changes its modification time.
	for i := len(items) - 1; i >= 0; i-- {
		if it := items[i]; it.fi.IsDir() {
			_ = dt.Chtimes(ctx, path.Join(dst, it.rel), it.fi.ModTime(), it.fi.ModTime())
		}
	}
	return files, nil
}

// copyFile streams one file, hashing what it sends, then reads the copy back and
// compares size and SHA-256.
func copyFile(ctx context.Context, st, dt probe.Transport, src, dst string, fi fs.FileInfo, prog *copyProgress) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	in, err := st.Open(ctx, src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := dt.Create(ctx, dst, fi.Mode().Perm())
	if err != nil {
		return err
	}
	sent := sha256.New()
	n, err := io.Copy(out, io.TeeReader(&progressReader{r: in, p: prog}, sent))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if n != fi.Size() {
		return fmt.Errorf("%s changed while it was copied: %d bytes read, %d listed", src, n, fi.Size())
	}
	if err := dt.Chtimes(ctx, dst, fi.ModTime(), fi.ModTime()); err != nil {
		return err
	}
	return verifyFile(ctx, dt, dst, n, sent)
}

func verifyFile(ctx context.Context, t probe.Transport, p string, size int64, sent hash.Hash) error {
	f, err := t.Open(ctx, p)
	if err != nil {
		return fmt.Errorf("verifying %s: %w", p, err)
	}
	defer f.Close()
	got := sha256.New()
	n, err := io.Copy(got, f)
	if err != nil {
		return fmt.Errorf("verifying %s: %w", p, err)
	}
	if n != size || !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
		return errors.New("verification failed for " + p + ": the copy differs from the source (" +
			fmt.Sprintf("%d bytes, sha256 %x; sent %d bytes, sha256 %x)", n, got.Sum(nil)[:8], size, sent.Sum(nil)[:8]))
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
