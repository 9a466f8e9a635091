package journal_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
)

// writeRun records a run of runbook on inventory inv that started at start, in dir
// under the name journal.NewPath gives it; ended adds its run_end.
func writeRun(t *testing.T, dir, runbook, inv string, start time.Time, ended bool) string {
	t.Helper()
	evs := []*steps.Event{
		{Type: steps.EvSession, Session: &steps.Session{RunID: start.Format(time.RFC3339), Runbook: runbook, Inventory: inv}},
		{Type: steps.EvPlan, Plan: []steps.PlannedStep{{ID: "a", Title: "A"}}},
	}
	if ended {
		evs = append(evs, steps.RunEnd(steps.RunDone, ""))
	}
	path := journal.NewPath(dir, runbook, start)
	w, err := journal.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, ev := range evs {
		ev.Seq, ev.Time = i+1, start.Add(time.Duration(i)*time.Second)
		if err := w.Record(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadFoldsAndFindsTheRunbook(t *testing.T) {
	dir := t.TempDir()
	path := writeRun(t, dir, "test/j", "inv.yaml", jT0, true)
	rb := &steps.Runbook{ID: "test/j"}
	var asked *steps.Session
	r, err := journal.Load(path, func(s *steps.Session) (*steps.Runbook, error) { asked = s; return rb, nil })
	if err != nil {
		t.Fatal(err)
	}
	if r.Path() != path || r.Runbook != rb || r.Session != asked || r.Session.Runbook != "test/j" || !r.State.Ended || len(r.Journal.Events) != 3 {
		t.Errorf("Load: %+v", r)
	}
	if r, err := journal.Load(path, nil); err != nil || r.Runbook != nil {
		t.Errorf("Load without a finder: %+v, %v", r, err)
	}
	lost := errors.New("runbook test/j is not known")
	if _, err := journal.Load(path, func(*steps.Session) (*steps.Runbook, error) { return nil, lost }); !errors.Is(err, lost) {
		t.Errorf("a runbook not found: %v", err)
	}
}

func TestLoadRefusesAJournalWithoutSession(t *testing.T) {
	path := jWrite(t, jEvents(3)[1:2])
	if _, err := journal.Load(path, nil); err == nil || !strings.Contains(err.Error(), "not a cutover journal") {
		t.Errorf("Load of a journal without a session: %v", err)
	}
}

func TestLatest(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(t.TempDir(), "inventory.yaml")
	other := filepath.Join(t.TempDir(), "inventory.yaml")
	oldOpen := writeRun(t, dir, "maestro/move-hub", inv, jT0, false)
	done := writeRun(t, dir, "maestro/move-hub", inv, jT0.Add(time.Hour), true)
	elsewhere := writeRun(t, dir, "maestro/move-hub", other, jT0.Add(2*time.Hour), false)
	otherBook := writeRun(t, dir, "maestro/failover", inv, jT0.Add(3*time.Hour), false)
	// Not journals: skipped.
	os.WriteFile(filepath.Join(dir, "maestro-move-hub-junk.jsonl"), []byte("not json\n"), 0o600)
	// The same inventory written another way is the same inventory.
	rel, err := filepath.Rel(mustWd(t), inv)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, runbook, inv string
		which              journal.Which
		want               string
	}{
		{"newest unfinished on this inventory", "maestro/move-hub", inv, journal.Unfinished, oldOpen},
		{"the inventory written relative", "maestro/move-hub", rel, journal.Unfinished, oldOpen},
		{"newest finished", "maestro/move-hub", inv, journal.Finished, done},
		{"newest of any kind", "maestro/move-hub", inv, journal.AnyRun, done},
		{"on any inventory", "maestro/move-hub", "", journal.Unfinished, elsewhere},
		{"on the other inventory", "maestro/move-hub", other, journal.AnyRun, elsewhere},
		{"of any runbook", "", inv, journal.Unfinished, otherBook},
		{"of any runbook, finished", "", "", journal.Finished, done},
	} {
		r, err := journal.Latest(dir, c.runbook, c.inv, c.which)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if r.Path() != c.want {
			t.Errorf("%s: %s, want %s", c.name, r.Path(), c.want)
		}
	}
	_, err = journal.Latest(dir, "maestro/move-hub", other, journal.Finished)
	if !errors.Is(err, journal.ErrNoRun) || !strings.Contains(err.Error(), "no finished run of maestro/move-hub on "+other) {
		t.Errorf("no fitting run: %v", err)
	}
	if _, err := journal.Latest(filepath.Join(dir, "missing"), "", "", journal.AnyRun); !errors.Is(err, journal.ErrNoRun) {
		t.Errorf("a folder that does not exist: %v", err)
	}
}

func TestList(t *testing.T) {
	dir := t.TempDir()
	a := writeRun(t, dir, "maestro/move-hub", "inv.yaml", jT0, true)
	b := writeRun(t, dir, "maestro/failover", "inv.yaml", jT0.Add(time.Minute), false)
	os.WriteFile(filepath.Join(dir, "a.jsonl"), []byte("{}\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "b.md"), []byte("# checklist\n"), 0o600)
	runs, err := journal.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Path() != b || runs[1].Path() != a {
		var got []string
		for _, r := range runs {
			got = append(got, r.Path())
		}
		t.Errorf("List: %v, want %s then %s", got, b, a)
	}
	if _, err := journal.List(filepath.Join(dir, "missing")); err == nil {
		t.Error("List of a folder that does not exist: no error")
	}
}

func TestFoldersFor(t *testing.T) {
	t.Setenv("CUTOVER_JOURNALS", "/srv/cutover/journals")
	if f := journal.FoldersFor("", ""); f != (journal.Folders{Journals: "/srv/cutover/journals", Lab: "/srv/cutover/lab", Runs: "/srv/cutover/runs"}) {
		t.Errorf("defaults: %+v", f)
	}
	if f := journal.FoldersFor("/j/journals", "/elsewhere/lab"); f != (journal.Folders{Journals: "/j/journals", Lab: "/elsewhere/lab", Runs: "/j/runs"}) {
		t.Errorf("given: %+v", f)
	}
}

func mustWd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}
