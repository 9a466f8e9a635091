package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/cutover/cutover/probe"
)

// How a pre-seeded copy works. The pre-seed step copies the source, while the service
// still runs, to a staging name beside the target (NAME.cutover-preseed-RANDOM, made with
// mkdir like every other name cutover creates). The copy inside the outage window then
// brings that staging copy up to date: it removes what the source no longer has, sends
// what is new or differs in size or modification time, and hashes every file of the
// result on both hosts (SHA-256, the source's files and the target's at once, while the
// changed files stream). A file whose hashes differ is sent again, whatever its size and
// time say, so nothing about the result depends on modification times: they only choose
// what to send first. Only then does the staging copy replace the target, as a plain
// replace does.

// syncer brings a staging copy on the target to the source's content.
type syncer struct {
	st, dt   probe.Transport
	ec       probe.ExclusiveCreator
	from, to *probe.Host
	prog     *copyProgress
	// srcHash and dstHash hash files on each host.
	srcHash, dstHash *treeHasher
	// preseed marks the copy made before the window: the source is live, so a file that
	// changes while it is sent is left for the window, and nothing is hashed.
	preseed bool
	// send moves files to the target (relayed by default).
	send sender
}

// sendFile is one file to send: its source path, its final path in the staging copy
// and its listing on the source.
type sendFile struct {
	rel      string
	src, dst string
	fi       fs.FileInfo
}

// sender moves files from the source to the target, each through a random temporary
// name created exclusively and renamed into place after an Lstat, and returns the files
// now in place (a pre-seed may leave out a file that changed while it was sent).
type sender func(ctx context.Context, s *syncer, files []sendFile) ([]sendFile, error)

// syncResult says what a sync did.
type syncResult struct {
	Sent, Kept, Removed, Verified int
	SentBytes                     int64
	Skipped                       []string // files a pre-seed left for the window
	FreeSpace                     string   // what the free space check found
}

// maxSyncRounds bounds how often files whose hashes differ are sent again: a file that
// still differs then is being written while cutover copies it.
const maxSyncRounds = 3

// sync brings staging (a name cutover made, or is about to make) to the content of the
// source src, listed as items.
func (s *syncer) sync(ctx context.Context, src, staging string, items []copyItem) (syncResult, error) {
	var res syncResult
	srcDir := items[0].fi.IsDir()
	have, err := s.prepareStaging(ctx, staging, srcDir)
	if err != nil {
		return res, err
	}
	bySrc := make(map[string]copyItem, len(items))
	for _, it := range items {
		bySrc[it.rel] = it
	}
	// What the staging copy has that the source does not (or not of that kind: a link,
	// a file where the source has a folder) goes; RemoveAll never follows a link.
	rels := make([]string, 0, len(have))
	for rel := range have {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	var gone []string
	for _, rel := range rels {
		if under(rel, gone) {
			delete(have, rel)
			continue
		}
		tfi := have[rel]
		it, ok := bySrc[rel]
		if ok && it.fi.IsDir() == tfi.IsDir() && (tfi.IsDir() || tfi.Mode().IsRegular()) {
			continue
		}
		if err := s.dt.RemoveAll(ctx, joinRel(staging, rel)); err != nil {
			return res, fmt.Errorf("%s: removing %s from the staging copy: %w", s.to.Name, joinRel(staging, rel), err)
		}
		delete(have, rel)
		gone = append(gone, rel)
		if !tfi.IsDir() {
			res.Removed++
		}
	}
	var send, keep []sendFile
	var need int64
	for _, it := range items {
		d := joinRel(staging, it.rel)
		tfi, ok := have[it.rel]
		if it.fi.IsDir() {
			if !ok && it.rel != "" { // prepareStaging made the root
				if err := copyDir(ctx, s.dt, s.to.Name, d, it.fi.Mode().Perm()|0o700, false); err != nil {
					return res, err
				}
			}
			continue
		}
		f := sendFile{rel: it.rel, src: joinRel(src, it.rel), dst: d, fi: it.fi}
		if ok && tfi.Size() == it.fi.Size() && sameModTime(tfi.ModTime(), it.fi.ModTime()) {
			keep = append(keep, f)
			continue
		}
		send = append(send, f)
		need += it.fi.Size()
	}
	if res.FreeSpace, err = checkFreeSpace(ctx, s.dt, s.to, path.Dir(staging), need); err != nil {
		return res, err
	}
	if s.preseed {
		placed, err := s.send(ctx, s, send)
		res.Kept, res.Sent = len(keep), len(placed)
		res.SentBytes = filesBytes(placed)
		res.Skipped = missing(send, placed)
		if err == nil {
			s.dirTimes(ctx, staging, items)
		}
		return res, err
	}
	res.Kept = len(keep)
	all := append(append([]sendFile(nil), keep...), send...)
	res.Verified = len(all)
	for round := 1; ; round++ {
		placed, err := s.sendAndHash(ctx, all, keep, send)
		if err != nil {
			return res, err
		}
		res.Sent += len(send)
		res.SentBytes += filesBytes(send)
		if len(placed.differ) == 0 {
			break
		}
		if round == maxSyncRounds {
			return res, fmt.Errorf("verification failed for %s: after %d rounds its SHA-256 on %s still differs from the source's on %s (is something writing it?)", placed.differ[0].src, round, s.to.Name, s.from.Name)
		}
		// Differing files go again, whatever their size and time say; the rest of the
		// tree is verified already and is not hashed again.
		res.Kept -= countIn(placed.differ, keep)
		all, keep, send = placed.differ, nil, placed.differ
	}
	s.dirTimes(ctx, staging, items)
	return res, nil
}

// hashOutcome is what hashing found: the files whose hashes differ.
type hashOutcome struct{ differ []sendFile }

// sendAndHash sends the files in send and hashes all of them on both hosts at once: the
// source's every file, the target's kept files while the others stream, and each sent
// file once it is in place.
func (s *syncer) sendAndHash(ctx context.Context, all, keep, send []sendFile) (hashOutcome, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	srcSums := make(map[string][]byte, len(all))
	dstSums := make(map[string][]byte, len(all))
	store := func(m map[string][]byte) func(string, []byte) {
		return func(p string, sum []byte) {
			mu.Lock()
			m[p] = sum
			mu.Unlock()
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 3)
	wg.Go(func() {
		errs[0] = s.srcHash.hashAll(ctx, hashItems(all, true), store(srcSums))
	})
	wg.Go(func() {
		errs[1] = s.dstHash.hashAll(ctx, hashItems(keep, false), store(dstSums))
	})
	placed, err := s.send(ctx, s, send)
	if left := missing(send, placed); err == nil && len(left) > 0 {
		err = fmt.Errorf("%s was not copied", left[0])
	}
	if err == nil {
		err = s.dstHash.hashAll(ctx, hashItems(placed, false), store(dstSums))
	}
	if err != nil {
		cancel()
	}
	wg.Wait()
	if err = errors.Join(append(errs[:2], err)...); err != nil {
		return hashOutcome{}, err
	}
	var out hashOutcome
	for _, f := range all {
		a, b := srcSums[f.src], dstSums[f.dst]
		if a == nil || b == nil || !bytes.Equal(a, b) {
			out.differ = append(out.differ, f)
		}
	}
	return out, nil
}

// prepareStaging makes sure staging is the kind of the source (a folder or a file, never
// a link) and lists what it holds, relative to it ("" is staging itself).
func (s *syncer) prepareStaging(ctx context.Context, staging string, srcDir bool) (map[string]fs.FileInfo, error) {
	fi, err := s.dt.Lstat(ctx, staging)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("%s: looking at the staging copy %s: %w", s.to.Name, staging, err)
	case fi.IsDir() == srcDir && (fi.IsDir() || fi.Mode().IsRegular()):
		if !srcDir {
			return map[string]fs.FileInfo{"": fi}, nil
		}
		have := map[string]fs.FileInfo{}
		if err := listStaging(ctx, s.dt, staging, "", have); err != nil {
			return nil, fmt.Errorf("%s: listing the staging copy %s: %w", s.to.Name, staging, err)
		}
		return have, nil
	default:
		if err := s.dt.RemoveAll(ctx, staging); err != nil {
			return nil, fmt.Errorf("%s: removing %s: %w", s.to.Name, staging, err)
		}
	}
	if srcDir {
		if err := copyDir(ctx, s.dt, s.to.Name, staging, 0o700, false); err != nil {
			return nil, err
		}
	}
	return map[string]fs.FileInfo{}, nil
}

// listStaging lists a staging folder without following links: a link is listed as one.
func listStaging(ctx context.Context, t probe.Transport, root, rel string, into map[string]fs.FileInfo) error {
	entries, err := t.ReadDir(ctx, joinRel(root, rel))
	if err != nil {
		return err
	}
	for _, e := range entries {
		r := path.Join(rel, e.Name())
		into[r] = e
		if e.IsDir() {
			if err := listStaging(ctx, t, root, r, into); err != nil {
				return err
			}
		}
	}
	return nil
}

// dirTimes sets the folders' times last: writing into a folder changes its time.
func (s *syncer) dirTimes(ctx context.Context, staging string, items []copyItem) {
	for i := len(items) - 1; i >= 0; i-- {
		if it := items[i]; it.fi.IsDir() {
			_ = s.dt.Chtimes(ctx, joinRel(staging, it.rel), it.fi.ModTime(), it.fi.ModTime())
		}
	}
}

// relaySend streams files through the operator's machine, one at a time with several
// SFTP requests in flight on both sides.
func relaySend(ctx context.Context, s *syncer, files []sendFile) ([]sendFile, error) {
	placed := make([]sendFile, 0, len(files))
	for _, f := range files {
		tmp := tempName(f.dst, tmpNew)
		_, err := copyFile(ctx, s.st, s.dt, s.ec, s.to.Name, f.src, tmp, f.fi, s.prog)
		if err == nil {
			err = placeFile(ctx, s.dt, s.to.Name, tmp, f.dst, f.fi.Size())
		}
		if err != nil {
			if !errors.Is(err, fs.ErrExist) {
				_ = s.dt.Remove(context.WithoutCancel(ctx), tmp)
			}
			if s.preseed && ctx.Err() == nil && !probe.IsConnectionError(err) && !errors.Is(err, fs.ErrExist) {
				continue // changed or vanished meanwhile: the window sends it
			}
			return placed, fmt.Errorf("copying %s:%s to %s:%s: %w", s.from.Name, f.src, s.to.Name, f.dst, err)
		}
		placed = append(placed, f)
	}
	return placed, nil
}

// placeFile renames a temporary file cutover wrote into place, once an Lstat shows it is
// still the regular file of that size cutover made.
func placeFile(ctx context.Context, t probe.Transport, host, tmp, dst string, size int64) error {
	if err := checkOwn(ctx, t, host, tmp, size); err != nil {
		return err
	}
	if err := t.Rename(ctx, tmp, dst); err != nil {
		return fmt.Errorf("%s: moving %s into place: %w", host, tmp, err)
	}
	return nil
}

// checkFreeSpace checks, on POSIX hosts with df, that dir's file system has room for need
// bytes; it says what it found, or why it could not look.
func checkFreeSpace(ctx context.Context, t probe.Transport, h *probe.Host, dir string, need int64) (string, error) {
	if h.PowerShell() {
		return "free space not checked (PowerShell host)", nil
	}
	free, _, ok, err := dfSpace(ctx, t, h, dir)
	if err != nil {
		return "", err
	}
	if !ok {
		return "free space not checked (df gave no answer)", nil
	}
	if need > free {
		return "", fmt.Errorf("%s: not enough free space in %s for the copy: %s to write, %s free. Nothing was copied: free some space and retry", h.Name, dir, byteText(need), byteText(free))
	}
	return fmt.Sprintf("free space checked: %s to write, %s free", byteText(need), byteText(free)), nil
}

// byteText writes a byte count for people: "12.3 MiB".
func byteText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func hashItems(files []sendFile, source bool) []hashItem {
	out := make([]hashItem, len(files))
	for i, f := range files {
		p := f.dst
		if source {
			p = f.src
		}
		out[i] = hashItem{path: p, size: f.fi.Size()}
	}
	return out
}

func filesBytes(files []sendFile) int64 {
	var n int64
	for _, f := range files {
		n += f.fi.Size()
	}
	return n
}

// countIn counts the files of a that are in b.
func countIn(a, b []sendFile) int {
	in := make(map[string]bool, len(b))
	for _, f := range b {
		in[f.rel] = true
	}
	n := 0
	for _, f := range a {
		if in[f.rel] {
			n++
		}
	}
	return n
}

// under reports whether rel lies under one of the removed paths.
func under(rel string, removed []string) bool {
	for _, g := range removed {
		if strings.HasPrefix(rel, g+"/") {
			return true
		}
	}
	return false
}

// missing lists the files of want (relative) that got lacks.
func missing(want, got []sendFile) []string {
	in := make(map[string]bool, len(got))
	for _, f := range got {
		in[f.rel] = true
	}
	var out []string
	for _, f := range want {
		if !in[f.rel] {
			out = append(out, f.rel)
		}
	}
	return out
}
