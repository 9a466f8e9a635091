package steps

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/cutover/cutover/probe"
)

// Cleanup: what a replacing copy kept aside (PATH.cutover-RUN-replaced) stays on the
// host until the operator confirms the move; cutover cleanup then removes exactly those
// names, each by a discard action of a generated runbook, run and journaled like any
// run. After that the back-out of those copies is no longer possible.

// KeptItem is one file or folder a run's copy kept aside: the step whose action
// recorded it and the Undo that names it (kind aside).
type KeptItem struct {
	Step  string `json:"step"`
	Title string `json:"title"`
	Undo  Undo   `json:"undo"`
}

// KeptAside lists, in the order the run made them, what the actions of a run kept
// aside (every recorded Undo of kind aside, of a finished action), for cutover cleanup
// and the run's summary.
func KeptAside(st *RunState) []KeptItem {
	var out []KeptItem
	for _, ss := range st.Steps {
		a := ss.Action
		if a == nil || !ss.ActionDone {
			continue
		}
		for _, u := range a.Undo {
			if u.Kind == UndoAside && u.Kept != "" {
				out = append(out, KeptItem{Step: ss.ID(), Title: ss.Planned.Title, Undo: u})
			}
		}
	}
	return out
}

// CleanupCommand is the command that removes what the run of journal kept aside.
func CleanupCommand(journal string) string { return "cutover cleanup " + journal }

// runIDPattern is a run id as NewRunID makes it.
const runIDPattern = `[0-9]{8}T[0-9]{6}Z-[0-9a-f]+`

// keptName matches the last part of a name keepAside gives, after the name it was kept
// aside from: .cutover-RUN-replaced, numbered when taken.
var keptName = regexp.MustCompile(`^\.cutover-(` + runIDPattern + `-)?replaced(-[0-9]+)?$`)

// isKeptName reports whether kept is a name keepAside gives what it keeps aside from p:
// beside it, p's name followed by .cutover-RUN-replaced (and -N).
func isKeptName(p, kept string) bool {
	p, kept = cleanHostPath(p), cleanHostPath(kept)
	if path.Dir(p) != path.Dir(kept) {
		return false
	}
	rest, ok := strings.CutPrefix(path.Base(kept), path.Base(p))
	return ok && keptName.MatchString(rest)
}

// Titles of the generated back-out runbooks: the sessions of their runs carry them, so
// a journal tells which run it rolled back or cleaned up.
const (
	rollbackTitle = "Back out run %s of %s"
	cleanupTitle  = "Clean up after run %s of %s"
)

// RollbackOf returns the run id a rollback run's session backs out ("" when it is
// not the run of a generated rollback runbook).
func RollbackOf(s *Session) string { return generatedOf(s, "-rollback", "Back out run ") }

// CleanupOf returns the run id whose kept-aside copies a cleanup run's session removes
// ("" when it is not the run of a generated cleanup runbook).
func CleanupOf(s *Session) string { return generatedOf(s, "-cleanup", "Clean up after run ") }

func generatedOf(s *Session, suffix, prefix string) string {
	if s == nil || !strings.HasSuffix(s.Runbook, suffix) {
		return ""
	}
	rest, ok := strings.CutPrefix(s.Title, prefix)
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, " ")
	return id
}

// CleanupRunbook writes the runbook that removes items, each a step with a discard
// action and a gate that the name is gone, for the run of st (of rb): cutover cleanup
// runs it like any runbook, with a journal of its own. Recorded values become data,
// never templates.
func CleanupRunbook(st *RunState, rb *Runbook, journal string, items []KeptItem) ([]byte, error) {
	doc := rollbackDoc{ID: rb.ID + "-cleanup", Title: fmt.Sprintf(cleanupTitle, st.Session.RunID, rb.ID),
		System: rb.System, Source: "the journal " + journal}
	used := map[string]bool{}
	for n, it := range items {
		u := it.Undo
		if err := noTemplate(it.Step, u.Role, u.Host, u.Path, u.Kept, it.Title); err != nil {
			return nil, err
		}
		used[u.Role] = true
		doc.Steps = append(doc.Steps, rollbackStep{
			ID:    fmt.Sprintf("remove-%d-%s", n+1, it.Step),
			Title: "Remove what " + it.Step + " kept aside on " + u.Host,
			Text: "Removes `" + u.Kept + "` on " + u.Host + ", which step `" + it.Step + "` kept aside when its copy replaced `" +
				u.Path + "`. After this, rolling that copy back is no longer possible.",
			Action: map[string]any{"discard": map[string]any{"role": u.Role, "path": u.Path, "kept": u.Kept}},
			Gates:  []map[string]any{{"file_absent": map[string]any{"role": u.Role, "path": u.Kept}}},
		})
	}
	if len(doc.Steps) == 0 {
		return nil, nil
	}
	for _, r := range rb.Roles {
		if used[r.ID] {
			doc.Roles = append(doc.Roles, rollbackRole{ID: r.ID, Title: r.Title})
		}
	}
	return yaml.Marshal(doc)
}

// noTemplate refuses a recorded value that would read as a template in a generated
// runbook.
func noTemplate(step string, vals ...string) error {
	for _, v := range vals {
		if strings.Contains(v, "{{") || strings.Contains(v, "}}") {
			return fmt.Errorf("step %s: the recorded value %q holds {{ or }}: cutover does not put it into a runbook; undo the step by hand", step, v)
		}
	}
	return nil
}

// DiscardAction removes what a replacing copy kept aside (kept), once the operator has
// confirmed the run: cutover cleanup writes these actions from the recorded undos. It
// removes only a name keepAside gives (beside path: path.cutover-RUN-replaced), checked
// by the path rules, never a symbolic link at that name, and never anything outside
// the folder path is in (nor outside the install folder when path is in it). A name
// already gone is fine: a cleanup cut short runs again.
type DiscardAction struct {
	Role Ref `yaml:"role"`
	// Path is what the copy replaced; Kept where it kept the old one aside.
	Path string `yaml:"path"`
	Kept string `yaml:"kept"`
}

func (a *DiscardAction) compile(c *compiler, act *Action) {
	c.role(a.Role, "role", act.Pos)
	if a.Path == "" || a.Kept == "" {
		c.errorf(act.Pos, "path (what a copy replaced) and kept (where it kept the old one aside) are required")
		return
	}
	if !isKeptName(a.Path, a.Kept) {
		c.errorf(act.Pos, "kept %q is not a name cutover keeps %q aside under (beside it, followed by .cutover-RUN-replaced): discard removes nothing else", a.Kept, a.Path)
	}
}

func (a *DiscardAction) plan(x *stepExec) (ActionRecord, error) {
	h := x.host(a.Role.Name)
	rec := ActionRecord{Kind: "discard", Hosts: []string{h.Name},
		Summary: fmt.Sprintf("%s: remove %s, what a copy replaced at %s and kept aside (it cannot be put back after this)", h.Name, a.Kept, a.Path)}
	if err := checkPlanned(h, a.Kept, "what a run kept aside"); err != nil {
		return rec, err
	}
	return rec, nil
}

func (a *DiscardAction) run(ctx context.Context, x *stepExec, rec *ActionRecord) {
	t, h, err := x.conn(ctx, a.Role.Name)
	if err != nil {
		rec.Error, rec.Unreachable = err.Error(), true
		return
	}
	at, err := a.target(ctx, t, h)
	if err == nil {
		var files int
		var size int64
		var gone bool
		if files, size, gone, err = keptSize(ctx, t, at); err == nil && gone {
			rec.Changes = []string{fmt.Sprintf("%s:%s: already gone, nothing to remove", h.Name, at)}
			rec.OK = true
			return
		}
		if err == nil {
			err = t.RemoveAll(ctx, at)
		}
		if err == nil {
			if _, lerr := t.Lstat(ctx, at); !isNotExist(lerr) {
				err = fmt.Errorf("%s is still there after removing it", at)
			}
		}
		if err == nil {
			rec.Changes = []string{fmt.Sprintf("%s:%s removed (%s, %s): what the copy replaced at %s; rollback can no longer put it back",
				h.Name, at, Plural(files, "file", "files"), byteText(size), a.Path)}
			rec.OK = true
			return
		}
	}
	rec.Error = err.Error()
	if !strings.HasPrefix(rec.Error, h.Name+":") {
		rec.Error = fmt.Sprintf("%s:%s: %v", h.Name, a.Kept, err)
	}
	rec.Unreachable = probe.IsConnectionError(err)
}

// target checks kept on the host before anything is removed: the name keepAside gives
// beside path, by the path rules (a symbolic link at it is refused: cutover never made
// one there), in the folder path is in as resolved on the host, and inside the install
// folder when path is. It returns the path to remove.
func (a *DiscardAction) target(ctx context.Context, t probe.Transport, h *probe.Host) (string, error) {
	if !isKeptName(a.Path, a.Kept) {
		return "", fmt.Errorf("%s: refusing to remove %s: it is not the name cutover keeps %s aside under; nothing was removed", h.Name, a.Kept, a.Path)
	}
	at, err := safeTarget(ctx, t, h, a.Kept, targetOpts{What: "what a run kept aside", Hint: "(cutover never keeps a copy aside as a link; nothing was removed)"})
	if err != nil {
		return "", err
	}
	dir, err := resolveOnHost(ctx, t, path.Dir(cleanHostPath(a.Path)), true)
	if err != nil {
		return "", fmt.Errorf("%s: resolving %s: %w", h.Name, path.Dir(a.Path), err)
	}
	if path.Dir(at) != dir {
		return "", fmt.Errorf("%s: refusing to remove %s: it leads to %s, not beside %s where the run kept it; nothing was removed", h.Name, a.Kept, at, a.Path)
	}
	if h.InstallDir != "" && within(cleanHostPath(a.Path), cleanHostPath(h.InstallDir)) {
		in, err := insideInstall(ctx, t, h, at)
		if err != nil {
			return "", err
		}
		if !in {
			return "", fmt.Errorf("%s: refusing to remove %s: it leads to %s, outside the install folder %s; nothing was removed", h.Name, a.Kept, at, h.InstallDir)
		}
	}
	return at, nil
}

// keptSize counts the files and bytes of a kept-aside file or folder without following
// a link at its name (one there is refused: cutover never keeps a copy aside as a link);
// gone is set when it does not exist.
func keptSize(ctx context.Context, t probe.Transport, p string) (files int, size int64, gone bool, err error) {
	fi, err := t.Lstat(ctx, p)
	switch {
	case isNotExist(err):
		return 0, 0, true, nil
	case err != nil:
		return 0, 0, false, err
	case !fi.IsDir() && !fi.Mode().IsRegular():
		return 0, 0, false, fmt.Errorf("%s is %s, not a file or folder cutover kept aside", p, describeMode(fi.Mode()))
	}
	_, files, size, err = treeSize(ctx, t, p)
	return files, size, false, err
}

// KeptSize says how much a kept-aside item holds on its host, for the list cutover
// cleanup shows before it asks: "3 files, 24.2 KiB", "gone already", or why it
// cannot say (a link at the name, which cleanup refuses).
func KeptSize(ctx context.Context, t probe.Transport, kept string) string {
	fi, err := t.Lstat(ctx, kept)
	switch {
	case isNotExist(err):
		return "gone already"
	case err != nil:
		return "size not known: " + err.Error()
	case fi.Mode()&fs.ModeSymlink != 0:
		to, _ := t.ReadLink(ctx, kept)
		return "a symbolic link to " + to + ": cutover did not make it and will not remove it"
	}
	files, size, _, err := keptSize(ctx, t, kept)
	if err != nil {
		return "size not known: " + err.Error()
	}
	return Plural(files, "file", "files") + ", " + byteText(size)
}

// Discarded lists what a cleanup run (st, of its generated runbook rb) removed: the
// kept names of its discard actions that finished.
func Discarded(st *RunState, rb *Runbook) []string {
	var out []string
	for _, ss := range st.Steps {
		s := rb.Step(ss.ID())
		if s == nil || s.Action == nil || !ss.ActionDone || ss.Action == nil || !ss.Action.OK {
			continue
		}
		if d, ok := s.Action.Spec.(*DiscardAction); ok {
			out = append(out, d.Kept)
		}
	}
	return out
}

// WithoutDiscarded takes out of a back-out plan the undos whose kept-aside copy a
// cleanup removed (removed maps kept names to the cleanup's journal): they cannot be
// performed any more, and the item says so for the operator instead.
func WithoutDiscarded(items []BackOutItem, removed map[string]string) []BackOutItem {
	if len(removed) == 0 {
		return items
	}
	out := make([]BackOutItem, 0, len(items))
	for _, it := range items {
		var undos []Undo
		var auto, gone []string
		for i, u := range it.Undos {
			if j, ok := removed[u.Kept]; ok && u.Kind == UndoAside {
				gone = append(gone, fmt.Sprintf("%s: what the copy replaced at %s was kept aside as %s and removed by cutover cleanup (journal %s): it cannot be put back", u.Host, u.Path, u.Kept, j))
				continue
			}
			undos = append(undos, u)
			if i < len(it.Auto) {
				auto = append(auto, it.Auto[i])
			}
		}
		if len(gone) > 0 {
			it.Undos, it.Auto = undos, auto
			it.Manual = strings.Join(append(gone, nonEmpty(it.Manual)...), "; ")
		}
		out = append(out, it)
	}
	return out
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
