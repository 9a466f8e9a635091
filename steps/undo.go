package steps

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/cutover/cutover/probe"
)

// Back-out: every automatic action records, as it makes a change, how to undo it (an
// Undo in its ActionRecord): an INI edit names the original it kept beside the file, a
// copy that replaced a file or folder names where it kept the old one aside (or that
// there was none), a service action the state each service was in before. The export's
// back-out section lists them in reverse order, and cutover rollback performs them as
// a run of their own (BackOut).

// Kinds of Undo.
const (
	// UndoFile puts the kept original (Kept) back at Path.
	UndoFile = "file"
	// UndoAside puts what a copy replaced, kept aside at Kept, back at Path (the copy
	// itself is kept aside in turn).
	UndoAside = "aside"
	// UndoAbsent: Path did not exist before the copy or write; undoing keeps what is
	// there now aside.
	UndoAbsent = "absent"
	// UndoService brings Service back to State (running or stopped).
	UndoService = "service"
)

// Undo is how to undo one change of an action, recorded when the change was made.
type Undo struct {
	Kind    string `json:"kind"`
	Role    string `json:"role"`
	Host    string `json:"host"`
	Path    string `json:"path,omitempty"`
	Kept    string `json:"kept,omitempty"`
	Service string `json:"service,omitempty"`
	State   string `json:"state,omitempty"`
}

// String says in one line what undoing does.
func (u Undo) String() string {
	switch u.Kind {
	case UndoFile:
		return fmt.Sprintf("%s: put the original %s back at %s", u.Host, u.Kept, u.Path)
	case UndoAside:
		return fmt.Sprintf("%s: put what was replaced, kept aside as %s, back at %s", u.Host, u.Kept, u.Path)
	case UndoAbsent:
		return fmt.Sprintf("%s: %s did not exist before: keep what is there now aside", u.Host, u.Path)
	case UndoService:
		if u.State != "running" && u.State != "stopped" {
			return fmt.Sprintf("%s: %s was %s before: bring it back by hand", u.Host, u.Service, u.State)
		}
		return fmt.Sprintf("%s: bring %s back to %s", u.Host, u.Service, u.State)
	}
	return u.Host + ": " + u.Kind
}

// serviceStateNow reads a service's state on role's host through the inventory's
// status command: running, stopped, or unknown (no status command, no answer).
func serviceStateNow(ctx context.Context, x *stepExec, role, name string) string {
	h := x.host(role)
	svc, ok := h.Services[name]
	if !ok || strings.TrimSpace(svc.Status) == "" {
		return "unknown"
	}
	t, _, err := x.conn(ctx, role)
	if err != nil {
		return "unknown"
	}
	code, _, err := capture(ctx, t, svc.Status)
	if err != nil {
		return "unknown"
	}
	return probe.ServiceState(strconv.Itoa(code))
}

// keepAside moves what a replacing copy is about to replace at p out of the way, to a
// name of its own beside it (p.cutover-RUN-replaced, numbered when taken), instead of
// deleting it: the back-out puts it back, and the operator removes it once the run is
// confirmed. It returns the Undo to record: UndoAbsent when nothing was there.
func keepAside(ctx context.Context, t probe.Transport, host, role, p, runID string) (Undo, error) {
	u := Undo{Kind: UndoAbsent, Role: role, Host: host, Path: p}
	if _, err := t.Lstat(ctx, p); err != nil {
		if isNotExist(err) {
			return u, nil
		}
		return u, fmt.Errorf("%s:%s: %w", host, p, err)
	}
	base := p + ".cutover-" + runID + "-replaced"
	if runID == "" {
		base = p + ".cutover-replaced"
	}
	aside := base
	for n := 2; ; n++ {
		if _, err := t.Lstat(ctx, aside); isNotExist(err) {
			break
		} else if err != nil {
			return u, fmt.Errorf("%s:%s: %w", host, aside, err)
		}
		aside = fmt.Sprintf("%s-%d", base, n)
	}
	if err := t.Rename(ctx, p, aside); err != nil {
		return u, fmt.Errorf("%s: keeping %s aside as %s: %w", host, p, aside, err)
	}
	u.Kind, u.Kept = UndoAside, aside
	return u, nil
}
