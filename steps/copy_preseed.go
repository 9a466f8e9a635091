package steps

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/cutover/cutover/probe"
)

// PreseedAction copies the paths of a later copy step (one marked preseed: true) to
// staging names on the target while the service still runs, so the copy inside the
// outage window has only the difference to send. Running it again continues where it
// stopped: what is in the staging copy already, with the source's size and time, is not
// sent again. Nothing is verified here (the source is live and the window verifies every
// file), and the target itself is not touched; the free space is checked first.
type PreseedAction struct {
	// Copy is the id of the copy step this one prepares.
	Copy string `yaml:"copy"`
	// From and To are that copy's roles, set when the runbook compiles, so the plan
	// shows which hosts the step acts on.
	From Ref `yaml:"-"`
	To   Ref `yaml:"-"`
	// copy is that step's action, found when the runbook compiles.
	copy *CopyAction
}

func (a *PreseedAction) compile(c *compiler, act *Action) {
	if a.Copy == "" {
		c.errorf(act.Pos, "copy: name the id of the copy step this pre-seed prepares")
		return
	}
	seen := false
	for _, s := range c.rb.Steps {
		if s.Action == act {
			seen = true
			continue
		}
		if s.ID != a.Copy {
			continue
		}
		ca, ok := s.Action.spec().(*CopyAction)
		switch {
		case !ok:
			c.errorf(act.Pos, "copy: step %s has no copy action to pre-seed", a.Copy)
		case !seen:
			c.errorf(act.Pos, "copy: step %s comes before this pre-seed; a pre-seed runs before the copy it prepares", a.Copy)
		case !ca.Preseed:
			c.errorf(act.Pos, "copy: the copy of step %s does not say preseed: true", a.Copy)
		default:
			a.copy, a.From, a.To = ca, ca.From, ca.To
		}
		return
	}
	c.errorf(act.Pos, "copy: no step %q", a.Copy)
}

// spec is the action's spec, or nil for a step without one.
func (a *Action) spec() ActionSpec {
	if a == nil {
		return nil
	}
	return a.Spec
}

// preseededBy returns the id of the step that pre-seeds the copy of step id, or "".
func preseededBy(rb *Runbook, id string) string {
	for _, s := range rb.Steps {
		if p, ok := s.Action.spec().(*PreseedAction); ok && p.Copy == id {
			return s.ID
		}
	}
	return ""
}

func (a *PreseedAction) plan(x *stepExec) (ActionRecord, error) {
	c := a.copy
	from, to := x.host(c.From.Name), x.host(c.To.Name)
	rec := ActionRecord{Kind: "preseed", Hosts: []string{from.Name, to.Name}}
	for _, p := range c.Paths {
		src, dst, err := c.pair(x, p)
		if err != nil {
			return rec, err
		}
		rec.Changes = append(rec.Changes, fmt.Sprintf("%s:%s -> %s:%s.cutover-%s-... (staging copy; the target is not touched)", from.Name, src, to.Name, dst, tmpPreseed))
		if err := checkPlanned(to, dst, "the copy target"); err != nil {
			return rec, err
		}
	}
	rec.Summary = fmt.Sprintf("pre-seed %s from %s to staging names on %s while the service runs%s (free space checked first; step %s then sends only what changed)",
		Plural(len(c.Paths), "path", "paths"), from.Name, to.Name, c.directNote(from, to), a.Copy)
	return rec, nil
}

func (a *PreseedAction) run(ctx context.Context, x *stepExec, rec *ActionRecord) {
	c := a.copy
	err := func() (err error) {
		st, from, err := x.conn(ctx, c.From.Name)
		if err != nil {
			return err
		}
		dt, to, err := x.conn(ctx, c.To.Name)
		if err != nil {
			return err
		}
		ec, err := exclusive(dt, to.Name)
		if err != nil {
			return err
		}
		// The same looks as the copy's: a target the window's copy would refuse stops the
		// pre-seed already, long before the outage.
		jobs, total, err := c.jobs(ctx, x, st, dt, from, to)
		if err != nil {
			return err
		}
		prog := &copyProgress{x: x, total: total, every: 100 * time.Millisecond}
		sy := newSyncer(st, dt, ec, from, to, prog)
		sy.preseed = true
		rec.Changes = nil
		link, err := c.transfer(ctx, x, sy, total, rec)
		if err != nil {
			return err
		}
		defer link.release(ctx, rec, &err)
		for _, j := range jobs {
			if err := dt.MkdirAll(ctx, path.Dir(j.at), 0o755); err != nil {
				return fmt.Errorf("%s:%s: %w", to.Name, path.Dir(j.at), err)
			}
			staging, err := preseedStaging(ctx, dt, to.Name, j.at)
			if err != nil {
				return err
			}
			res, err := sy.sync(ctx, j.src, staging, j.items)
			rec.Files += res.Sent
			rec.Bytes += res.SentBytes
			if err != nil {
				return err
			}
			line := fmt.Sprintf("%s:%s -> %s:%s (%d sent, %s; %d already there; %d removed; %s)",
				from.Name, j.src, to.Name, staging, res.Sent, byteText(res.SentBytes), res.Kept, res.Removed, res.FreeSpace)
			if len(res.Skipped) > 0 {
				line += fmt.Sprintf("; %s changed while being copied and are left for the window, such as %s", Plural(len(res.Skipped), "file", "files"), res.Skipped[0])
			}
			rec.Changes = append(rec.Changes, line)
		}
		prog.report(true)
		return nil
	}()
	if err != nil {
		rec.Error = err.Error()
		rec.Unreachable = probe.IsConnectionError(err)
		// Cut short with files under way: what the staging copy holds is not known (a
		// rerun continues from it, and the window's copy verifies every file anyway).
		rec.Unknown = rec.Unreachable
		return
	}
	rec.OK = true
}

// newSyncer is a syncer relaying through the operator's machine.
func newSyncer(st, dt probe.Transport, ec probe.ExclusiveCreator, from, to *probe.Host, prog *copyProgress) *syncer {
	srcWith, dstWith := hashUnknown, hashUnknown
	return &syncer{
		st: st, dt: dt, ec: ec, from: from, to: to, prog: prog,
		srcHash: &treeHasher{t: st, h: from, with: &srcWith},
		dstHash: &treeHasher{t: dt, h: to, with: &dstWith},
		send:    relaySend,
	}
}

// fromStaging is the window's copy of a pre-seeded path: the staging copy is brought up
// to date and verified, then replaces the target. Without a staging copy (the pre-seed
// was skipped) it is made now, in full. A failed copy keeps the staging copy for the
// next attempt: it holds no half-written file (each goes through a temporary name).
func (a *CopyAction) fromStaging(ctx context.Context, x *stepExec, sy *syncer, j copyJob, rec *ActionRecord) error {
	var staging string
	var err error
	if a.Preseed {
		staging, err = preseedStaging(ctx, sy.dt, sy.to.Name, j.at)
	} else {
		// A direct copy without a pre-seed: a fresh staging copy, as a plain replace makes.
		err = sweepTemps(ctx, sy.dt, j.at, tmpIncoming)
		staging = tempName(j.at, tmpIncoming)
	}
	if err != nil {
		return err
	}
	res, err := sy.sync(ctx, j.src, staging, j.items)
	if err != nil {
		if !a.Preseed {
			_ = sy.dt.RemoveAll(context.WithoutCancel(ctx), staging)
		}
		return fmt.Errorf("copying %s:%s to %s:%s: %w", sy.from.Name, j.src, sy.to.Name, staging, err)
	}
	if err := replaceWith(ctx, x, sy.dt, a.To.Name, sy.to.Name, staging, j, rec); err != nil {
		return err
	}
	rec.Files += res.Verified
	rec.Bytes += j.total
	line := fmt.Sprintf("%s:%s -> %s:%s (%s, %d bytes, verified by SHA-256 on both hosts",
		sy.from.Name, j.src, sy.to.Name, j.where(), Plural(res.Verified, "file", "files"), j.total)
	if a.Preseed {
		line += fmt.Sprintf("; %d sent, %s; %d unchanged since the pre-seed; %d removed", res.Sent, byteText(res.SentBytes), res.Kept, res.Removed)
	}
	rec.Changes = append(rec.Changes, line+j.spaceNote()+")")
	return nil
}

// transfer decides how the syncer's files travel: direct from host to host when the
// runbook, the inventory and the hosts allow it, else through the operator's machine.
// It first removes what an earlier attempt of the run left of one-copy keys, and says
// in the record what it found and chose. The link it returns must be closed.
func (a *CopyAction) transfer(ctx context.Context, x *stepExec, sy *syncer, total int64, rec *ActionRecord) (*directLink, error) {
	said, err := sweepDirect(ctx, x, sy.st, sy.dt, sy.from, sy.to)
	rec.Changes = append(rec.Changes, said...)
	if err != nil {
		return nil, err
	}
	// The plan's summary says how the data may travel; once decided, the record says
	// how it did.
	planned := a.directNote(sy.from, sy.to)
	settle := func(how string) { rec.Summary = strings.Replace(rec.Summary, planned, how, 1) }
	why := a.directForbidden(sy.from, sy.to)
	if why == "" && total < directMinBytes {
		// Small copies are relayed without a word in the changes: nothing was refused.
		small := fmt.Sprintf("%s is less than the %s worth a one-copy key", byteText(total), byteText(directMinBytes))
		settle(" through this machine (" + small + ")")
		x.progress(Progress{Host: sy.from.Name, Line: "relaying through this machine: " + small})
		return nil, nil
	}
	var link *directLink
	if why == "" {
		if link, why, err = setUpDirect(ctx, x, sy.st, sy.dt, sy.ec, sy.from, sy.to); err != nil {
			return nil, err
		}
	}
	if link == nil {
		settle(" through this machine (" + why + ")")
		rec.Changes = append(rec.Changes, "relayed through the operator's machine: "+why)
		x.progress(Progress{Host: sy.from.Name, Line: "relaying through this machine: " + why})
		return nil, nil
	}
	sy.send = link.send
	settle(fmt.Sprintf(" host to host from %s to %s with a one-copy key, removed after", sy.from.Name, sy.to.Name))
	rec.Changes = append(rec.Changes, link.Said)
	x.progress(Progress{Host: sy.from.Name, Line: link.Said})
	return link, nil
}

// tmpPreseed is the kind of temporary name of a pre-seeded staging copy.
const tmpPreseed = "preseed"

// preseedStaging returns the staging copy a pre-seed left beside at, or a new random
// name for one. A staging name holding anything but a folder or a regular file (a
// link planted there) is removed, never followed; of several (runs cut short), the
// newest is kept and the others are removed.
func preseedStaging(ctx context.Context, t probe.Transport, host, at string) (string, error) {
	dir, base := path.Dir(at), path.Base(at)
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(base) + `\.cutover-` + tmpPreseed + `-[0-9a-f]{16}$`)
	entries, err := t.ReadDir(ctx, dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s: looking for a pre-seeded copy of %s: %w", host, at, err)
	}
	var keep fs.FileInfo
	var drop []string
	for _, e := range entries {
		if !re.MatchString(e.Name()) {
			continue
		}
		ok := e.IsDir() || e.Mode().IsRegular()
		switch {
		case !ok:
			drop = append(drop, e.Name())
		case keep == nil || e.ModTime().After(keep.ModTime()):
			if keep != nil {
				drop = append(drop, keep.Name())
			}
			keep = e
		default:
			drop = append(drop, e.Name())
		}
	}
	for _, n := range drop {
		if err := t.RemoveAll(ctx, path.Join(dir, n)); err != nil {
			return "", fmt.Errorf("%s: removing %s, left by an earlier attempt: %w", host, path.Join(dir, n), err)
		}
	}
	if keep != nil {
		return path.Join(dir, keep.Name()), nil
	}
	return tempName(at, tmpPreseed), nil
}
