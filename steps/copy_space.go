package steps

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/cutover/cutover/probe"
)

// dfSpace reads, with df on a POSIX host, the free bytes of dir's file system and where
// it is mounted. ok is false when df gave no answer cutover can read (no df, an odd
// format): the caller then says the space was not checked rather than guess.
func dfSpace(ctx context.Context, t probe.Transport, h *probe.Host, dir string) (free int64, mount string, ok bool, err error) {
	code, out, err := capture(ctx, t, "df -Pk -- "+probe.ShellQuote(dir))
	if err != nil {
		return 0, "", false, fmt.Errorf("%s: checking free space in %s: %w", h.Name, dir, err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) < 2 {
		return 0, "", false, nil
	}
	f := strings.Fields(lines[len(lines)-1])
	if len(f) < 4 {
		return 0, "", false, nil
	}
	var kib int64
	if _, err := fmt.Sscan(f[3], &kib); err != nil || kib < 0 || kib == 0 && !strings.Contains(out, " 0 ") {
		return 0, "", false, nil
	}
	if len(f) >= 6 {
		mount = strings.Join(f[5:], " ")
	}
	return kib << 10, mount, true, nil
}

// replaceSpace checks, before a replacing copy writes anything on the target, that each
// file system it writes to has room for the whole new copy: the old target is kept
// aside (renamed, not deleted) until the operator confirms the run with cutover
// cleanup, so nothing it holds is freed by the copy. Paths on one file system add up.
// It returns, per job, what the check found, for the action's record; a refusal says
// that nothing was copied.
func replaceSpace(ctx context.Context, t probe.Transport, h *probe.Host, jobs []copyJob) ([]string, error) {
	notes := make([]string, len(jobs))
	if h.PowerShell() {
		for i := range notes {
			notes[i] = "free space not checked (PowerShell host)"
		}
		return notes, nil
	}
	type fsys struct {
		free, need int64
		dir        string
		jobs       []int
	}
	var order []string
	byMount := map[string]*fsys{}
	for i, j := range jobs {
		dir, err := existingDir(ctx, t, path.Dir(j.at))
		if err != nil {
			return nil, fmt.Errorf("%s: checking free space for %s: %w", h.Name, j.at, err)
		}
		free, mount, ok, err := dfSpace(ctx, t, h, dir)
		if err != nil {
			return nil, err
		}
		if !ok {
			notes[i] = "free space not checked (df gave no answer)"
			continue
		}
		key := mount
		if key == "" {
			key = "dir:" + dir
		}
		fs := byMount[key]
		if fs == nil {
			fs = &fsys{free: free, dir: dir}
			byMount[key] = fs
			order = append(order, key)
		}
		fs.need += j.total
		fs.jobs = append(fs.jobs, i)
	}
	for _, key := range order {
		fs := byMount[key]
		if fs.need > fs.free {
			return nil, fmt.Errorf("%s: not enough free space in %s for the new copy while the old one is kept aside: %s to write, %s free. Nothing was copied: free some space (what earlier runs kept aside goes with cutover cleanup JOURNAL) and retry",
				h.Name, fs.dir, byteText(fs.need), byteText(fs.free))
		}
		for _, i := range fs.jobs {
			notes[i] = fmt.Sprintf("free space checked: %s to write, %s free", byteText(fs.need), byteText(fs.free))
		}
	}
	return notes, nil
}

// existingDir is dir, or its nearest parent that exists: df needs a path that is there,
// and a copy may create the folders above its target.
func existingDir(ctx context.Context, t probe.Transport, dir string) (string, error) {
	for {
		_, err := t.Stat(ctx, dir)
		if err == nil {
			return dir, nil
		}
		if !isNotExist(err) {
			return "", err
		}
		up := path.Dir(dir)
		if up == dir {
			return dir, nil
		}
		dir = up
	}
}
