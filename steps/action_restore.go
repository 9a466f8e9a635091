package steps

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/cutover/cutover/probe"
)

// RestoreAction undoes one change an earlier run recorded (an Undo): it puts a kept
// original file back, or a folder or file a copy replaced and kept aside, or keeps
// aside a copy whose target did not exist before. Nothing is deleted: what is undone
// is itself kept aside, beside its path, under a name of its own. cutover rollback
// writes the runbook of these actions from the recorded undos; the paths are the ones
// the run recorded, checked by the same path rules as every action's.
type RestoreAction struct {
	Role Ref `yaml:"role"`
	// Kind is file, aside or absent (Undo's kinds).
	Kind string `yaml:"kind"`
	// Path is what is restored; Kept where the original is (file, aside).
	Path string `yaml:"path"`
	Kept string `yaml:"kept"`
}

func (a *RestoreAction) compile(c *compiler, act *Action) {
	c.role(a.Role, "role", act.Pos)
	switch a.Kind {
	case UndoFile, UndoAside:
		if a.Kept == "" {
			c.errorf(act.Pos, "kept (where the original is) is required for kind %s", a.Kind)
		}
	case UndoAbsent:
	default:
		c.errorf(act.Pos, "kind must be %s, %s or %s, not %q", UndoFile, UndoAside, UndoAbsent, a.Kind)
	}
	if a.Path == "" {
		c.errorf(act.Pos, "path is required")
	}
}

func (a *RestoreAction) plan(x *stepExec) (ActionRecord, error) {
	h := x.host(a.Role.Name)
	rec := ActionRecord{Kind: "restore", Hosts: []string{h.Name}}
	rec.Summary = Undo{Kind: a.Kind, Host: h.Name, Path: a.Path, Kept: a.Kept}.String()
	for _, p := range []string{a.Path, a.Kept} {
		if p == "" {
			continue
		}
		if err := checkPlanned(h, p, "the path to restore"); err != nil {
			return rec, err
		}
	}
	return rec, nil
}

func (a *RestoreAction) run(ctx context.Context, x *stepExec, rec *ActionRecord) {
	t, h, err := x.conn(ctx, a.Role.Name)
	if err != nil {
		rec.Error, rec.Unreachable = err.Error(), true
		return
	}
	fail := func(err error) {
		rec.Error = err.Error()
		if !strings.HasPrefix(rec.Error, h.Name+":") {
			rec.Error = fmt.Sprintf("%s:%s: %v", h.Name, a.Path, err)
		}
	}
	p, err := safeTarget(ctx, t, h, a.Path, targetOpts{What: "the path to restore"})
	if err != nil {
		fail(err)
		return
	}
	if a.Kind == UndoFile {
		kept, err := safeTarget(ctx, t, h, a.Kept, targetOpts{What: "the kept original"})
		var orig []byte
		if err == nil {
			orig, err = readSmallFile(ctx, t, kept)
		}
		if err != nil {
			fail(err)
			return
		}
		fi, err := t.Lstat(ctx, p)
		if err != nil {
			fail(err)
			return
		}
		// The file as the run left it is kept too (FILE.cutover-ROLLBACKRUN).
		saved, err := putFile(ctx, t, fileWrite{Host: h.Name, Path: p, Data: orig, Perm: fi.Mode().Perm(), KeepRun: x.runID})
		if err != nil {
			fail(err)
			return
		}
		back, err := readSmallFile(ctx, t, p)
		if err == nil && !bytes.Equal(back, orig) {
			err = fmt.Errorf("%s does not read back as the original %s", p, kept)
		}
		if err != nil {
			fail(err)
			return
		}
		rec.Changes = []string{fmt.Sprintf("%s:%s: the original %s put back, %d bytes, byte for byte", h.Name, p, kept, len(orig))}
		if saved != "" {
			rec.Changes = append(rec.Changes, "the file as the run left it kept as "+saved)
		}
		rec.OK = true
		return
	}
	if a.Kind == UndoAside {
		// What was kept aside must be there before anything moves: when it is gone, either
		// this rollback put it back already (it was cut short after that, and is run
		// again) or it was removed (cutover cleanup); either way the path stays as it is.
		kept, err := safeTarget(ctx, t, h, a.Kept, targetOpts{What: "what was kept aside"})
		if err == nil {
			_, err = t.Lstat(ctx, kept)
		}
		if isNotExist(err) {
			if done, _ := restoredBy(ctx, t, p, x.runID); done != "" {
				rec.Changes = append(rec.Changes, fmt.Sprintf("%s:%s: already put back from %s by this rollback (the copy is kept aside as %s)", h.Name, p, a.Kept, done))
				rec.OK = true
				return
			}
			err = fmt.Errorf("%s:%s: what was kept aside, %s, is gone (removed by cutover cleanup?): it cannot be put back; %s is left as it is", h.Name, p, a.Kept, p)
		}
		if err != nil {
			fail(err)
			return
		}
	}
	// The copy in place goes aside, then (aside) the replaced one comes back.
	u, err := keepAside(ctx, t, h.Name, a.Role.Name, p, x.runID)
	if err != nil {
		fail(err)
		return
	}
	if u.Kind == UndoAside {
		rec.Changes = append(rec.Changes, fmt.Sprintf("%s:%s: the copy kept aside as %s", h.Name, p, u.Kept))
	}
	if a.Kind == UndoAside {
		kept, err := safeTarget(ctx, t, h, a.Kept, targetOpts{What: "what was kept aside"})
		if err == nil {
			err = t.Rename(ctx, kept, p)
		}
		if err != nil {
			fail(err)
			return
		}
		rec.Changes = append(rec.Changes, fmt.Sprintf("%s:%s: put back from %s", h.Name, p, kept))
	}
	rec.OK = true
}

// restoredBy returns what run runID kept aside of p (p.cutover-RUN-replaced, or the
// highest numbered one) when p exists again beside it: the sign that a restore of run
// runID already moved the copy aside and put the original back.
func restoredBy(ctx context.Context, t probe.Transport, p, runID string) (string, error) {
	if runID == "" {
		return "", nil
	}
	if _, err := t.Lstat(ctx, p); err != nil {
		return "", err
	}
	base := p + ".cutover-" + runID + "-replaced"
	found := ""
	for n := 1; ; n++ {
		name := base
		if n > 1 {
			name = fmt.Sprintf("%s-%d", base, n)
		}
		if _, err := t.Lstat(ctx, name); err != nil {
			if isNotExist(err) {
				return found, nil
			}
			return found, err
		}
		found = name
	}
}
