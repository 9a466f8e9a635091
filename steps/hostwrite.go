package steps

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"

	"github.com/cutover/cutover/probe"
)

// How cutover writes on a host without ever following a planted link. Every name it
// creates beside a file or folder is random (crypto/rand) and created exclusively (SFTP
// open with O_EXCL, or mkdir, both of which fail on anything already there, a link
// included), and is looked at with Lstat before it is renamed into place:
//
//	NAME.cutover-tmp-RANDOM       new content of NAME, renamed over it
//	NAME.cutover-orig-RANDOM      the original of NAME being kept, renamed to NAME.cutover-RUNID
//	NAME.cutover-incoming-RANDOM  the staging copy of a copy that replaces NAME
//	NAME.cutover-preseed-RANDOM   the staging copy a pre-seed made ahead of the window; the
//	                              window's copy finds it (Lstat: a folder or file, never a
//	                              link), brings it up to date and renames it over NAME
//
// RANDOM is 16 hexadecimal digits. Leftovers of these names from a run that was cut short
// are removed before NAME is written again.

// Kinds of temporary names.
const (
	tmpNew      = "tmp"
	tmpOrig     = "orig"
	tmpIncoming = "incoming"
)

// tempName is a new random temporary name for p, of the given kind, in p's folder.
func tempName(p, kind string) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return p + ".cutover-" + kind + "-" + hex.EncodeToString(b[:])
}

// backupName is where the original of p is kept during run runID.
func backupName(p, runID string) string { return p + ".cutover-" + runID }

// sweepTemps removes what an earlier attempt left under p's temporary names of the
// given kinds (a run killed between creating one and renaming it). RemoveAll does not
// follow links: a link planted at such a name is removed, not what it points to.
func sweepTemps(ctx context.Context, t probe.Transport, p string, kinds ...string) error {
	dir, base := path.Dir(p), path.Base(p)
	alts := ""
	for i, k := range kinds {
		if i > 0 {
			alts += "|"
		}
		alts += regexp.QuoteMeta(k)
	}
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(base) + `\.cutover-(?:` + alts + `)-[0-9a-f]{16}$`)
	entries, err := t.ReadDir(ctx, dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, e := range entries {
		if re.MatchString(e.Name()) {
			if err := t.RemoveAll(ctx, path.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("removing %s, left by an earlier attempt: %w", path.Join(dir, e.Name()), err)
			}
		}
	}
	return nil
}

// exclusive returns the transport's exclusive create, or why the host cannot be written
// safely.
func exclusive(t probe.Transport, host string) (probe.ExclusiveCreator, error) {
	ec, ok := t.(probe.ExclusiveCreator)
	if !ok {
		return nil, fmt.Errorf("%s: cannot write safely: this connection cannot create a file exclusively (O_EXCL), which cutover needs so that no write follows a link planted at its name", host)
	}
	return ec, nil
}

// PlantedError is an exclusive create or mkdir refused because something was already at
// a name cutover had just chosen at random: a planted link, most likely. Nothing was
// written through it.
type PlantedError struct{ Host, Path string }

// Error names the host and the name.
func (e *PlantedError) Error() string {
	return fmt.Sprintf("%s: %s exists already, though cutover had just chosen that name at random: something (a planted link?) is there; nothing was written through it", e.Host, e.Path)
}

// Unwrap makes the error an fs.ErrExist.
func (e *PlantedError) Unwrap() error { return fs.ErrExist }

// plantedError names the host in err, and explains a refusal because the name was taken.
func plantedError(host, p string, err error) error {
	if errors.Is(err, fs.ErrExist) {
		return &PlantedError{Host: host, Path: p}
	}
	return fmt.Errorf("%s: %w", host, err)
}

// createNew writes data to a new file p, created exclusively with mode perm. A failed
// write removes what it created.
func createNew(ctx context.Context, t probe.Transport, ec probe.ExclusiveCreator, host, p string, data []byte, perm fs.FileMode) error {
	w, err := ec.CreateExclusive(ctx, p, perm)
	if err != nil {
		return plantedError(host, p, err)
	}
	_, err = io.Copy(w, bytes.NewReader(data))
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = t.Remove(context.WithoutCancel(ctx), p)
		return fmt.Errorf("%s: writing %s: %w", host, p, err)
	}
	return nil
}

// checkOwn looks at a name cutover created before it is renamed into place: it must still
// be what cutover made (a regular file of size bytes, or a folder when size < 0), not
// something swapped in meanwhile.
func checkOwn(ctx context.Context, t probe.Transport, host, p string, size int64) error {
	fi, err := t.Lstat(ctx, p)
	if err != nil {
		return fmt.Errorf("%s: looking at %s before moving it into place: %w", host, p, err)
	}
	ok := fi.Mode().IsRegular() && fi.Size() == size
	if size < 0 {
		ok = fi.IsDir()
	}
	if !ok {
		return fmt.Errorf("%s: %s is no longer what cutover wrote there (now %s, %d bytes): it was replaced meanwhile; nothing was moved into place", host, p, fi.Mode().Type(), fi.Size())
	}
	return nil
}

// fileWrite is one file written on a host (see putFile).
type fileWrite struct {
	// Host names the host in messages.
	Host string
	// Path is the file, as safeTarget returned it.
	Path string
	Data []byte
	// Perm is the file's mode; zero keeps the existing file's (0644 for a new file).
	Perm fs.FileMode
	// Create allows the file not to exist yet; otherwise a missing file is an error.
	Create bool
	// KeepRun, when set, keeps the original as Path.cutover-KEEPRUN before the first
	// change of that run (a retry finds it there and keeps it).
	KeepRun string
	// Orig is the original's content as the caller read it, for the kept copy; nil means
	// putFile reads it (bounded, as every read of a host file).
	Orig []byte
}

// putFile writes w.Data to w.Path the safe way: a file that is a symbolic link, or not a
// regular file, is refused; the original is kept (once per run) through a random name
// created exclusively and renamed to FILE.cutover-RUN; the new content goes to another
// random name, created exclusively, looked at with Lstat and renamed over the file; and
// the file is read back. It returns the kept original's name ("" when none was kept, as
// for a new file). The caller has passed w.Path through safeTarget.
func putFile(ctx context.Context, t probe.Transport, w fileWrite) (kept string, err error) {
	ec, err := exclusive(t, w.Host)
	if err != nil {
		return "", err
	}
	if err := sweepTemps(ctx, t, w.Path, tmpNew, tmpOrig); err != nil {
		return "", fmt.Errorf("%s: %w", w.Host, err)
	}
	fi, err := t.Lstat(ctx, w.Path)
	exists := err == nil
	switch {
	case errors.Is(err, fs.ErrNotExist) && w.Create:
	case err != nil:
		return "", fmt.Errorf("%s: %w", w.Host, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		to, _ := t.ReadLink(ctx, w.Path)
		return "", &LinkRefusal{Host: w.Host, Path: w.Path, To: to, What: "to write", Hint: "(replace the link by the file itself, or name the file it points to)"}
	case !fi.Mode().IsRegular():
		return "", fmt.Errorf("%s: refusing to write %s: it is not a regular file (%s)", w.Host, w.Path, fi.Mode().Type())
	}
	perm := w.Perm
	if perm == 0 {
		perm = 0o644
		if exists {
			perm = fi.Mode().Perm()
		}
	}
	if exists && w.KeepRun != "" {
		if kept, err = keepOriginal(ctx, t, ec, w, fi); err != nil {
			return "", err
		}
	}
	tmp := tempName(w.Path, tmpNew)
	if err := createNew(ctx, t, ec, w.Host, tmp, w.Data, perm); err != nil {
		return kept, err
	}
	err = checkOwn(ctx, t, w.Host, tmp, int64(len(w.Data)))
	if err == nil {
		if err = t.Rename(ctx, tmp, w.Path); err != nil {
			err = fmt.Errorf("%s: %w", w.Host, err)
		}
	}
	if err != nil {
		_ = t.Remove(context.WithoutCancel(ctx), tmp)
		return kept, err
	}
	back, err := readSmallFile(ctx, t, w.Path)
	if err != nil || !bytes.Equal(back, w.Data) {
		return kept, fmt.Errorf("%s: %s did not read back as written", w.Host, w.Path)
	}
	return kept, nil
}

// keepOriginal keeps the file's original as FILE.cutover-RUN, unless this run kept it
// already: a retried step must not replace the original with an already edited copy.
// It is written under a random name and renamed, so a copy cut short is never taken
// for the original by the next attempt; a rename replaces a link planted at the kept
// name, it never writes through one.
func keepOriginal(ctx context.Context, t probe.Transport, ec probe.ExclusiveCreator, w fileWrite, fi fs.FileInfo) (string, error) {
	backup := backupName(w.Path, w.KeepRun)
	bi, err := t.Lstat(ctx, backup)
	switch {
	case err == nil && bi.Mode().IsRegular():
		return backup, nil // kept by an earlier attempt of this run
	case err == nil:
		return "", fmt.Errorf("%s: keeping the original as %s: something else is there (%s); nothing was written", w.Host, backup, bi.Mode().Type())
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("%s: keeping the original as %s: %w", w.Host, backup, err)
	}
	orig := w.Orig
	if orig == nil {
		if orig, err = readSmallFile(ctx, t, w.Path); err != nil {
			return "", fmt.Errorf("%s: reading the original to keep it: %w", w.Host, err)
		}
	}
	tmp := tempName(w.Path, tmpOrig)
	if err := createNew(ctx, t, ec, w.Host, tmp, orig, fi.Mode().Perm()); err != nil {
		return "", fmt.Errorf("keeping the original as %s: %w", backup, err)
	}
	err = checkOwn(ctx, t, w.Host, tmp, int64(len(orig)))
	if err == nil {
		_ = t.Chtimes(ctx, tmp, fi.ModTime(), fi.ModTime())
		if err = t.Rename(ctx, tmp, backup); err != nil {
			err = fmt.Errorf("%s: %w", w.Host, err)
		}
	}
	if err != nil {
		_ = t.Remove(context.WithoutCancel(ctx), tmp)
		return "", fmt.Errorf("keeping the original as %s: %w", backup, err)
	}
	return backup, nil
}

// maxSmallFile bounds files read whole (INI files, files read back after writing them):
// anything larger is not a file an operator edits by hand, and reading it would be a
// mistake (or a file that never ends, such as /dev/zero behind a link).
const maxSmallFile = 4 << 20

// readSmallFile reads a host file whole, up to maxSmallFile bytes. What is not a regular
// file (a device, a pipe, a folder) is refused before it is opened, and a file larger
// than the limit is an error naming the file and the limit, whatever size it claims.
func readSmallFile(ctx context.Context, t probe.Transport, p string) ([]byte, error) {
	return readLimited(ctx, t, p, maxSmallFile)
}

// readLimited is readSmallFile with another limit.
func readLimited(ctx context.Context, t probe.Transport, p string, limit int64) ([]byte, error) {
	fi, err := t.Stat(ctx, p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s); cutover reads only regular files here", p, describeMode(fi.Mode()))
	}
	tooBig := func() error {
		return fmt.Errorf("%s is larger than %s, the most cutover reads of such a file", p, sizeText(limit))
	}
	if fi.Size() > limit {
		return nil, tooBig()
	}
	f, err := t.Open(ctx, p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, limit+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > limit {
		return nil, tooBig()
	}
	return buf.Bytes(), nil
}

func describeMode(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

// sizeText writes a byte count as "4 MiB", "64 KiB" or "100 bytes".
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
