package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/steps"
)

// Run is a journal read back with what it records: the fold of its events, the
// session that began it and, when asked for, the runbook it is a run of. Every
// command and screen that opens a recorded run reads it through Load, so they agree
// on what a journal is.
type Run struct {
	Journal *Journal
	State   *steps.RunState
	Session *steps.Session
	// Runbook is nil when Load was given no way to find it.
	Runbook *steps.Runbook
}

// Path is the journal's file name.
func (r *Run) Path() string { return r.Journal.Path }

// RunbookFinder finds the runbook a session names: in a catalogue by its id, or for a
// site's own runbook in the file the session recorded.
type RunbookFinder func(s *steps.Session) (*steps.Runbook, error)

// Load reads the journal at path and folds its events. A file without a session is
// not a cutover journal. With find, the run's runbook is looked up too, and not
// finding it is an error.
func Load(path string, find RunbookFinder) (*Run, error) {
	j, err := Read(path)
	if err != nil {
		return nil, err
	}
	st := steps.NewRunState(j.Events)
	if st.Session == nil {
		return nil, fmt.Errorf("%s is not a cutover journal", path)
	}
	r := &Run{Journal: j, State: st, Session: st.Session}
	if find != nil {
		if r.Runbook, err = find(st.Session); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Which says which runs Latest looks for.
type Which int

// The runs Latest can look for.
const (
	// AnyRun is a run whatever its state.
	AnyRun Which = iota
	// Unfinished is a run that has not ended: one to resume.
	Unfinished
	// Finished is a run that ended, done or aborted: one to export.
	Finished
)

// ErrNoRun is what Latest returns when no journal fits.
var ErrNoRun = errors.New("no such run")

// List reads every journal in dir, newest first (by the time each run started, the
// file name breaking ties). Files that are not readable journals are left out: a
// folder of journals may hold a run's exported checklist or a copy cut short.
func List(dir string) ([]*Run, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("journal folder: %w", err)
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	var out []*Run
	for _, n := range names {
		if r, err := Load(n, nil); err == nil {
			out = append(out, r)
		}
	}
	newestFirst(out)
	return out, nil
}

// newestFirst sorts runs by their start, the newest first; the file name (which
// begins with the runbook and the start time) breaks ties.
func newestFirst(runs []*Run) {
	slices.SortStableFunc(runs, func(a, b *Run) int {
		if c := b.State.Started.Compare(a.State.Started); c != 0 {
			return c
		}
		return strings.Compare(b.Path(), a.Path())
	})
}

// Latest finds the newest run in dir of runbook on inventory inv that is which kind.
// An empty runbook or inventory matches any. A run on another inventory (another
// site, another practice lab) is never taken for this one, however alike its runbook;
// inventories compare as files, however their paths are written. Without a fitting
// run the error wraps ErrNoRun and says what was looked for.
func Latest(dir, runbook, inv string, which Which) (*Run, error) {
	pattern := "*.jsonl"
	if runbook != "" {
		pattern = probe.Slug(runbook) + "-*.jsonl"
	}
	names, _ := filepath.Glob(filepath.Join(dir, pattern))
	var runs []*Run
	for _, n := range names {
		r, err := Load(n, nil)
		if err != nil {
			continue
		}
		s := r.Session
		if runbook != "" && s.Runbook != runbook {
			continue
		}
		if inv != "" && !sameInventory(s.Inventory, inv) {
			continue
		}
		if (which == Unfinished && r.State.Ended) || (which == Finished && !r.State.Ended) {
			continue
		}
		runs = append(runs, r)
	}
	if len(runs) == 0 {
		what := map[Which]string{AnyRun: "no run", Unfinished: "no unfinished run", Finished: "no finished run"}[which]
		if runbook != "" {
			what += " of " + runbook
		}
		if inv != "" {
			what += " on " + inv
		}
		return nil, fmt.Errorf("%w: %s in %s", ErrNoRun, what, dir)
	}
	newestFirst(runs)
	return runs[0], nil
}

// sameInventory reports whether a journal's recorded inventory is the inventory file
// (or ssh: alias list) inv: the same path, however written.
func sameInventory(recorded, inv string) bool {
	if recorded == "" || inv == "" {
		return false
	}
	if strings.HasPrefix(recorded, inventory.SSHPrefix) || strings.HasPrefix(inv, inventory.SSHPrefix) {
		return recorded == inv
	}
	canon := func(p string) string {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		return filepath.Clean(p)
	}
	return canon(recorded) == canon(inv)
}
