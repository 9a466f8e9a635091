package steps

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/cutover/cutover/probe"
)

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
