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
	"regexp"
	"slices"
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
//
// Before anything is written, every target passes the path rules (safeTarget), a
// symbolic link at the root of a source or target is refused unless FollowSymlinks, and
// a replace whose target exists, is not empty and is not what the step expects stops
// (expectTarget).
type CopyAction struct {
	From  Ref        `yaml:"from"`
	To    Ref        `yaml:"to"`
	Paths []CopyPath `yaml:"paths"`
	Mode  string     `yaml:"mode"`
	// FollowSymlinks lets a source or target that is itself a symbolic link stand for
	// what it points to (which the path rules then check). Links inside a copied folder
	// are refused either way.
	FollowSymlinks bool `yaml:"follow_symlinks"`
}

// CopyPath is one file or folder to copy; Dst defaults to Src. Relative paths resolve
// against each host's install folder.
type CopyPath struct {
	Src *Template `yaml:"src"`
	Dst *Template `yaml:"dst"`
	// Expect says which existing target a replace may delete: "install" (the default
	// inside the install folder) accepts one of the source's kind, file or folder, such
	// as a fresh installation's; "absent" (the default elsewhere) accepts only an empty
	// one or an earlier copy of the same source.
	Expect string `yaml:"expect"`
	// Marker names a file (relative to the target folder) whose presence makes an
	// existing target folder expected, whatever Expect says.
	Marker string `yaml:"marker"`
	Pos    yamlpos.Pos
}

// Values of CopyPath.Expect.
const (
	expectInstall = "install"
	expectAbsent  = "absent"
)

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
		switch p.Expect {
		case "", expectInstall, expectAbsent:
		default:
			c.errorf(p.Pos, "expect must be %s or %s, not %q", expectInstall, expectAbsent, p.Expect)
		}
		if p.Expect != "" && a.Mode == "into" {
			c.errorf(p.Pos, "expect applies to mode replace only: mode into never deletes a target")
		}
		m := strings.ReplaceAll(p.Marker, `\`, "/")
		if p.Marker != "" && (probe.IsAbs(m) || slices.Contains(strings.Split(m, "/"), "..")) {
			c.errorf(p.Pos, "marker %q must be a path inside the target folder (relative, without ..)", p.Marker)
		}
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
		if err := checkPlanned(to, dst, "the copy target"); err != nil {
			return rec, err
		}
	}
	rec.Summary = fmt.Sprintf("%s %s: %s from %s (verified by size and SHA-256)", verb, to.Name, Plural(len(a.Paths), "path", "paths"), from.Name)
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

// followHint is how a refused link at a copy's root can be copied anyway.
const followHint = "(say follow_symlinks: true in the runbook's copy to copy what it points to)"

func (a *CopyAction) copyAll(ctx context.Context, x *stepExec, st, dt probe.Transport, from, to *probe.Host, rec *ActionRecord) error {
	ec, err := exclusive(dt, to.Name)
	if err != nil {
		return err
	}
	// Look at every source and target first: a missing source, a refused path or an
	// unexpected target stops the action before anything on the target is touched.
	type job struct {
		src, dst string // as the plan shows them
		at       string // the target to act on: dst with its folders' links followed
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
		if err := a.checkSource(ctx, st, from, src); err != nil {
			return err
		}
		items, size, err := listTree(ctx, st, src)
		if err != nil {
			return fmt.Errorf("source %s:%s: %w", from.Name, src, err)
		}
		at, err := safeTarget(ctx, dt, to, dst, targetOpts{What: "the copy target", Follow: a.FollowSymlinks, Hint: followHint})
		if err != nil {
			return err
		}
		if a.Mode == "replace" {
			err = expectTarget(ctx, dt, to, p, at, src, items)
		} else {
			err = intoTarget(ctx, dt, to, at, items)
		}
		if err != nil {
			return err
		}
		jobs = append(jobs, job{src: src, dst: dst, at: at, items: items, total: size})
		total += size
	}
	prog := &copyProgress{x: x, total: total, every: 100 * time.Millisecond}
	hashWith := hashUnknown
	rec.Changes = nil
	for _, j := range jobs {
		target := j.at
		if a.Mode == "replace" {
			if err := sweepTemps(ctx, dt, j.at, tmpIncoming); err != nil {
				return fmt.Errorf("%s: clearing an earlier staging copy: %w", to.Name, err)
			}
			target = tempName(j.at, tmpIncoming)
		}
		if err := dt.MkdirAll(ctx, path.Dir(target), 0o755); err != nil {
			return fmt.Errorf("%s:%s: %w", to.Name, path.Dir(target), err)
		}
		files, err := copyItems(ctx, st, dt, ec, to, &hashWith, j.src, target, j.items, a.Mode == "into", prog)
		if err != nil {
			if a.Mode == "replace" {
				// The staging copy is incomplete or failed verification: remove it, so the
				// target holds only its old copy and nothing half-made beside it.
				_ = dt.RemoveAll(context.WithoutCancel(ctx), target)
			}
			return fmt.Errorf("copying %s:%s to %s:%s: %w", from.Name, j.src, to.Name, target, err)
		}
		if a.Mode == "replace" {
			size := int64(-1)
			if !j.items[0].fi.IsDir() {
				size = j.total
			}
			if err := checkOwn(ctx, dt, to.Name, target, size); err != nil {
				return err
			}
			u, err := keepAside(ctx, dt, to.Name, a.To.Name, j.at, x.runID)
			if err != nil {
				return err
			}
			rec.Undo = append(rec.Undo, u)
			if err := dt.Rename(ctx, target, j.at); err != nil {
				return fmt.Errorf("%s: moving %s into place: %w", to.Name, target, err)
			}
		}
		rec.Files += files
		rec.Bytes += j.total
		where := j.dst
		if j.at != cleanHostPath(j.dst) {
			where += " (at " + j.at + ")"
		}
		rec.Changes = append(rec.Changes, fmt.Sprintf("%s:%s -> %s:%s (%s, %d bytes, verified)", from.Name, j.src, to.Name, where, Plural(files, "file", "files"), j.total))
	}
	prog.report(true)
	return nil
}

// checkSource refuses a source that is itself a symbolic link, unless the runbook says
// follow_symlinks: copying it would copy whatever the link points to now.
func (a *CopyAction) checkSource(ctx context.Context, t probe.Transport, h *probe.Host, src string) error {
	fi, err := t.Lstat(ctx, src)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 || a.FollowSymlinks {
		return nil // a missing source is reported by the listing
	}
	to, _ := t.ReadLink(ctx, src)
	return &LinkRefusal{Host: h.Name, Path: src, To: to, What: "the copy source", Hint: followHint}
}

// expectTarget decides whether the existing target of a replace may be deleted. It may
// when it is absent or empty, when it holds p.Marker, or when it has the source's kind
// (file or folder) and, under expect: install (the default inside the install folder),
// that is all it takes (a fresh installation's files), while under expect: absent (the
// default elsewhere) every name under it must be one the source has too, with the same
// kind: an earlier copy of the same source, complete or cut short. Anything else stops
// the step with the reason, before anything is changed.
func expectTarget(ctx context.Context, t probe.Transport, h *probe.Host, p CopyPath, at, src string, items []copyItem) error {
	fi, err := t.Lstat(ctx, at)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: looking at the copy target %s: %w", h.Name, at, err)
	}
	stop := func(why string) error {
		return fmt.Errorf("%s: refusing to replace %s: it exists, is not empty and is not what this step expects: %s. Nothing was changed: move it aside or empty it and retry, or choose another target", h.Name, at, why)
	}
	srcDir := items[0].fi.IsDir()
	switch {
	case !fi.IsDir() && !fi.Mode().IsRegular():
		return stop(fmt.Sprintf("it is %s, not a file or folder", describeMode(fi.Mode())))
	case fi.Mode().IsRegular() && fi.Size() == 0:
		return nil
	case fi.IsDir() != srcDir:
		kind := map[bool]string{true: "a folder", false: "a file"}
		return stop(fmt.Sprintf("it is %s and the source %s is %s", kind[fi.IsDir()], src, kind[srcDir]))
	}
	var entries []fs.FileInfo
	if fi.IsDir() {
		if entries, err = t.ReadDir(ctx, at); err != nil {
			return fmt.Errorf("%s: looking into the copy target %s: %w", h.Name, at, err)
		}
		if len(entries) == 0 {
			return nil
		}
		if p.Marker != "" {
			if mi, err := t.Lstat(ctx, path.Join(at, strings.ReplaceAll(p.Marker, `\`, "/"))); err == nil && mi.Mode().IsRegular() {
				return nil
			}
		}
	}
	expect := p.Expect
	if expect == "" {
		expect = expectAbsent
		if inside, err := insideInstall(ctx, t, h, at); err != nil {
			return err
		} else if inside {
			expect = expectInstall
		}
	}
	if expect == expectInstall {
		return nil
	}
	if !fi.IsDir() {
		return stop(fmt.Sprintf("it is a file of %d bytes where the runbook expects nothing (expect: %s)", fi.Size(), expectAbsent))
	}
	kinds := make(map[string]bool, len(items)) // relative path -> is a folder
	for _, it := range items {
		kinds[it.rel] = it.fi.IsDir()
	}
	foreign, err := firstForeign(ctx, t, at, "", entries, kinds)
	if err != nil {
		return fmt.Errorf("%s: looking into the copy target %s: %w", h.Name, at, err)
	}
	if foreign != "" {
		where := "outside the install folder"
		if p.Expect != "" {
			where = "with expect: " + expectAbsent
		}
		return stop(fmt.Sprintf("it holds %s, which the source %s does not have (%s only an empty folder or an earlier copy of the same source is replaced)", path.Join(at, foreign), src, where))
	}
	return nil
}

// firstForeign walks a target folder and returns the first name under it (relative)
// that the source does not have with the same kind, or "".
func firstForeign(ctx context.Context, t probe.Transport, root, rel string, entries []fs.FileInfo, kinds map[string]bool) (string, error) {
	for _, e := range entries {
		r := path.Join(rel, e.Name())
		isDir, ok := kinds[r]
		if !ok || isDir != e.IsDir() || (!e.IsDir() && !e.Mode().IsRegular()) {
			return r, nil
		}
		if !e.IsDir() {
			continue
		}
		sub, err := t.ReadDir(ctx, path.Join(root, r))
		if err != nil {
			return "", err
		}
		if f, err := firstForeign(ctx, t, root, r, sub, kinds); f != "" || err != nil {
			return f, err
		}
	}
	return "", nil
}

// insideInstall reports whether at lies inside the host's install folder, as written or
// as resolved on the host.
func insideInstall(ctx context.Context, t probe.Transport, h *probe.Host, at string) (bool, error) {
	if h.InstallDir == "" {
		return false, nil
	}
	in, err := resolveOnHost(ctx, t, h.InstallDir, true)
	if err != nil {
		return false, fmt.Errorf("%s: resolving the install folder %s: %w", h.Name, h.InstallDir, err)
	}
	return within(at, in) || within(at, cleanHostPath(h.InstallDir)), nil
}

// intoTarget looks at the target of an into copy before anything is written: where the
// source has a folder the target must have a folder or nothing, and where it has a file,
// a file or nothing; a link anywhere the copy would write is refused (a write into it
// would land wherever it points).
func intoTarget(ctx context.Context, t probe.Transport, h *probe.Host, at string, items []copyItem) error {
	for _, it := range items {
		d := path.Join(at, it.rel)
		fi, err := t.Lstat(ctx, d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: looking at %s: %w", h.Name, d, err)
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			to, _ := t.ReadLink(ctx, d)
			return &LinkRefusal{Host: h.Name, Path: d, To: to, What: "to copy into", Hint: "(nothing was written)"}
		case it.fi.IsDir() && !fi.IsDir():
			return fmt.Errorf("%s: refusing to copy into %s: the source has a folder there and the target %s; nothing was written", h.Name, d, describeMode(fi.Mode()))
		case !it.fi.IsDir() && !fi.Mode().IsRegular():
			return fmt.Errorf("%s: refusing to copy into %s: the source has a file there and the target %s; nothing was written", h.Name, d, describeMode(fi.Mode()))
		}
	}
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
