package steps

import (
	"context"
	"fmt"
	"io/fs"
	"path"
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
	// Preseed has a preseed step copy the paths to staging names on the target before
	// the outage window (while the service runs); this copy then sends only what changed
	// since, verifies every file of the result by SHA-256 on both hosts, and replaces the
	// target with it. Replace mode only.
	Preseed bool `yaml:"preseed"`
	// Direct false forbids sending the data from host to host (see copy_direct.go):
	// it then always goes through the operator's machine. Unset, a replace goes direct
	// whenever the hosts allow it.
	Direct *bool `yaml:"direct"`
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
	if a.Preseed {
		if a.Mode != "replace" {
			c.errorf(act.Pos, "preseed: true needs mode replace: a pre-seeded copy replaces its target")
		}
		for _, s := range c.rb.Steps {
			if s.Action == act && preseededBy(c.rb, s.ID) == "" {
				c.errorf(act.Pos, "preseed: true, and no step pre-seeds this copy: add a step before the service stops with action preseed: {copy: %s}", s.ID)
			}
		}
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
	if a.Preseed {
		rec.Summary = fmt.Sprintf("%s %s: %s from %s, from the staging copy step %s pre-seeded: only what changed since is sent%s, then every file is verified by SHA-256 on both hosts",
			verb, to.Name, Plural(len(a.Paths), "path", "paths"), from.Name, preseededBy(x.rb, x.step.ID), a.directNote(from, to))
	}
	return rec, nil
}

// directNote tells the plan how a pre-seeded copy's data may travel.
func (a *CopyAction) directNote(from, to *probe.Host) string {
	if why := a.directForbidden(from, to); why != "" {
		return " through this machine (" + why + ")"
	}
	return fmt.Sprintf(" (host to host with a one-copy key when %s reaches %s and the copy holds %s or more; the key is removed after)", from.Name, to.Name, byteText(directMinBytes))
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

// copyJob is one path of a copy, looked at and ready to copy.
type copyJob struct {
	src, dst string // as the plan shows them
	at       string // the target to act on: dst with its folders' links followed
	items    []copyItem
	total    int64
	space    string // what the free space check before a replace found
}

// jobs looks at every source and target first: a missing source, a refused path or an
// unexpected target stops the action before anything on the target is touched.
func (a *CopyAction) jobs(ctx context.Context, x *stepExec, st, dt probe.Transport, from, to *probe.Host) ([]copyJob, int64, error) {
	var jobs []copyJob
	var total int64
	for _, p := range a.Paths {
		src, dst, err := a.pair(x, p)
		if err != nil {
			return nil, 0, err
		}
		if err := a.checkSource(ctx, st, from, src); err != nil {
			return nil, 0, err
		}
		items, size, err := listTree(ctx, st, src)
		if err != nil {
			return nil, 0, fmt.Errorf("source %s:%s: %w", from.Name, src, err)
		}
		at, err := safeTarget(ctx, dt, to, dst, targetOpts{What: "the copy target", Follow: a.FollowSymlinks, Hint: followHint})
		if err != nil {
			return nil, 0, err
		}
		if a.Mode == "replace" {
			err = expectTarget(ctx, dt, to, p, at, src, items)
		} else {
			err = intoTarget(ctx, dt, to, at, items)
		}
		if err != nil {
			return nil, 0, err
		}
		jobs = append(jobs, copyJob{src: src, dst: dst, at: at, items: items, total: size})
		total += size
	}
	return jobs, total, nil
}

func (a *CopyAction) copyAll(ctx context.Context, x *stepExec, st, dt probe.Transport, from, to *probe.Host, rec *ActionRecord) (err error) {
	ec, err := exclusive(dt, to.Name)
	if err != nil {
		return err
	}
	jobs, total, err := a.jobs(ctx, x, st, dt, from, to)
	if err != nil {
		return err
	}
	if a.Mode == "replace" && !a.Preseed {
		// A pre-seeded copy checks the space for what it sends when it sends it.
		notes, err := replaceSpace(ctx, dt, to, jobs)
		if err != nil {
			return err
		}
		for i := range jobs {
			jobs[i].space = notes[i]
		}
	}
	prog := &copyProgress{x: x, total: total, every: 100 * time.Millisecond}
	hashWith := hashUnknown
	rec.Changes = nil
	var sy *syncer
	if a.Mode == "replace" {
		sy = newSyncer(st, dt, ec, from, to, prog)
		var link *directLink
		if link, err = a.transfer(ctx, x, sy, total, rec); err != nil {
			return err
		}
		defer link.release(ctx, rec, &err)
		if link == nil && !a.Preseed {
			sy = nil // relayed without a pre-seed: the streaming copy below
		}
	}
	for _, j := range jobs {
		if err := dt.MkdirAll(ctx, path.Dir(j.at), 0o755); err != nil {
			return fmt.Errorf("%s:%s: %w", to.Name, path.Dir(j.at), err)
		}
		if sy != nil {
			if err := a.fromStaging(ctx, x, sy, j, rec); err != nil {
				return err
			}
			continue
		}
		target := j.at
		if a.Mode == "replace" {
			if err := sweepTemps(ctx, dt, j.at, tmpIncoming); err != nil {
				return fmt.Errorf("%s: clearing an earlier staging copy: %w", to.Name, err)
			}
			target = tempName(j.at, tmpIncoming)
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
			if err := replaceWith(ctx, x, dt, a.To.Name, to.Name, target, j, rec); err != nil {
				return err
			}
		}
		rec.Files += files
		rec.Bytes += j.total
		rec.Changes = append(rec.Changes, fmt.Sprintf("%s:%s -> %s:%s (%s, %d bytes, verified%s)", from.Name, j.src, to.Name, j.where(), Plural(files, "file", "files"), j.total, j.spaceNote()))
	}
	prog.report(true)
	return nil
}

// spaceNote is what the free space check found, as the end of a record's line.
func (j copyJob) spaceNote() string {
	if j.space == "" {
		return ""
	}
	return "; " + j.space
}

// where is the target as the plan shows it, and where it led if links were followed.
func (j copyJob) where() string {
	if j.at != cleanHostPath(j.dst) {
		return j.dst + " (at " + j.at + ")"
	}
	return j.dst
}

// replaceWith puts a complete, verified staging copy in place of the target: the
// staging name must still be what cutover made (Lstat), then the old target is kept
// aside under a name of its own (the back-out puts it back) and the staging copy is
// renamed into place. It records how to undo that.
func replaceWith(ctx context.Context, x *stepExec, dt probe.Transport, role, host, staging string, j copyJob, rec *ActionRecord) error {
	size := int64(-1)
	if !j.items[0].fi.IsDir() {
		size = j.total
	}
	if err := checkOwn(ctx, dt, host, staging, size); err != nil {
		return err
	}
	u, err := keepAside(ctx, dt, host, role, j.at, x.runID)
	if err != nil {
		return err
	}
	rec.Undo = append(rec.Undo, u)
	if err := dt.Rename(ctx, staging, j.at); err != nil {
		return fmt.Errorf("%s: moving %s into place: %w", host, staging, err)
	}
	return nil
}
