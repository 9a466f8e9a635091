package steps

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// replaced runs the fixture's replacing copy and returns the undos it recorded: what
// it kept aside of h2's hub.ini and reg folder.
func replaced(t *testing.T, f *fixture) []Undo {
	t.Helper()
	x := f.exec(testRunbook(t, copyRunbook), "replace", nil, nil)
	x.runEnv.runID = testRunID
	rec := runAction(t, x)
	if !rec.OK || len(rec.Undo) != 2 {
		t.Fatalf("copy: %+v", rec)
	}
	return rec.Undo
}

// testRunID is a run id of the form NewRunID gives.
const testRunID = "20261206T210237Z-e7a5b1"

func discardStep(id, p, kept string) string {
	return "  - id: " + id + "\n    title: discard\n    action:\n      discard: {role: b, path: '" + p + "', kept: '" + kept + "'}\n"
}

// TestDiscardRemovesOnlyWhatWasKeptAside: after a replacing copy, discard removes the
// two names it kept aside and nothing else on the host; run again, it finds them gone
// and is fine (a cleanup cut short runs again).
func TestDiscardRemovesOnlyWhatWasKeptAside(t *testing.T) {
	t.Parallel()
	f := copyFixture(t)
	undos := replaced(t, f)
	before := treeHashes(t, f.root)
	var yaml string
	for i, u := range undos {
		yaml += discardStep("d"+string(rune('1'+i)), u.Path, u.Kept)
	}
	rb := testRunbook(t, yaml)
	for i, u := range undos {
		id := "d" + string(rune('1'+i))
		rec := runAction(t, f.exec(rb, id, nil, nil))
		if !rec.OK || !strings.Contains(strings.Join(rec.Changes, "\n"), "removed") {
			t.Fatalf("discard %s: %+v", u.Kept, rec)
		}
		if _, err := os.Lstat(u.Kept); !os.IsNotExist(err) {
			t.Errorf("%s is still there: %v", u.Kept, err)
		}
		rec = runAction(t, f.exec(rb, id, nil, nil))
		if !rec.OK || !strings.Contains(strings.Join(rec.Changes, "\n"), "already gone") {
			t.Errorf("discard run again: %+v", rec)
		}
	}
	after := treeHashes(t, f.root)
	for p, h := range before {
		if strings.Contains(p, ".cutover-"+testRunID+"-replaced") {
			continue
		}
		if after[p] != h {
			t.Errorf("%s changed or went: %q -> %q", p, h, after[p])
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s appeared", p)
		}
	}
}

// TestDiscardRefuses: a link planted at a kept-aside name, a folder on the way that a
// link leads out of the install folder, and a name that is not one cutover gives are
// all refused, and what they lead to stays.
func TestDiscardRefuses(t *testing.T) {
	f := copyFixture(t)
	outside := filepath.Join(f.root, "outside")
	canary := filepath.Join(outside, "x.cutover-20261206T210237Z-e7a5b1-replaced", "canary")
	if err := os.MkdirAll(filepath.Dir(canary), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(canary, []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hub := f.path("h2", "hub")
	f.write("h2", "hub/x", "the copy\n")
	// A link at the kept-aside name, to the canary's folder.
	planted := filepath.Join(hub, "x.cutover-20261206T210237Z-e7a5b1-replaced")
	if err := os.Symlink(filepath.Dir(canary), planted); err != nil {
		t.Fatal(err)
	}
	// A folder of the install folder that leads out of it.
	if err := os.Symlink(outside, f.path("h2", "evil")); err != nil {
		t.Fatal(err)
	}
	rb := testRunbook(t, discardStep("link", hub+"/x", planted)+
		discardStep("escape", f.path("h2", "evil")+"/x", f.path("h2", "evil")+"/x.cutover-20261206T210237Z-e7a5b1-replaced"))
	for id, want := range map[string]string{"link": "symbolic link", "escape": "install folder"} {
		rec := runAction(t, f.exec(rb, id, nil, nil))
		if rec.OK || !strings.Contains(rec.Error, want) || !strings.Contains(rec.Error, "nothing was removed") {
			t.Errorf("%s: want a refusal mentioning %q and that nothing was removed, got %+v", id, want, rec)
		}
	}
	if b, err := os.ReadFile(canary); err != nil || string(b) != "keep me\n" {
		t.Fatalf("what the links lead to was touched: %q %v", b, err)
	}
	if fi, err := os.Lstat(planted); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the planted link itself went: %v", err)
	}
	_, err := Parse("bad.yaml", []byte(testRunbookText(discardStep("other", hub+"/x", hub+"/reg"))))
	if err == nil || !strings.Contains(err.Error(), "is not a name cutover keeps") {
		t.Errorf("a discard of another name loads: %v", err)
	}
}

// TestRestoreAsideRunsAgain: a rollback's restore of what a copy kept aside, run a
// second time (it was cut short after putting it back), finds it done and leaves the
// original in place; once a cleanup removed the kept copy, it refuses and moves
// nothing.
func TestRestoreAsideRunsAgain(t *testing.T) {
	t.Parallel()
	f := copyFixture(t)
	orig := f.read("h2", "hub/hub.ini")
	u := replaced(t, f)[0]
	step := "  - id: undo\n    title: undo\n    action:\n      restore: {role: b, kind: aside, path: '" + u.Path + "', kept: '" + u.Kept + "'}\n"
	rb := testRunbook(t, step)
	x := f.exec(rb, "undo", nil, nil)
	x.runEnv.runID = "ROLLBACK"
	if rec := runAction(t, x); !rec.OK {
		t.Fatalf("restore: %+v", rec)
	}
	x = f.exec(rb, "undo", nil, nil)
	x.runEnv.runID = "ROLLBACK"
	rec := runAction(t, x)
	if !rec.OK || !strings.Contains(strings.Join(rec.Changes, "\n"), "already put back") {
		t.Errorf("restore run again: %+v", rec)
	}
	if got := f.read("h2", "hub/hub.ini"); got != orig {
		t.Errorf("hub.ini after the restore ran twice: %q, want the original %q", got, orig)
	}
	// Another rollback, after the kept copy went: refused, the file stays.
	x = f.exec(rb, "undo", nil, nil)
	x.runEnv.runID = "OTHER"
	rec = runAction(t, x)
	if rec.OK || !strings.Contains(rec.Error, "is gone") {
		t.Errorf("restore of a kept copy that is gone: %+v", rec)
	}
	if got := f.read("h2", "hub/hub.ini"); got != orig {
		t.Errorf("the refused restore moved hub.ini: %q", got)
	}
}

func TestGeneratedRunsName(t *testing.T) {
	rb := &Runbook{ID: "maestro/move-hub", System: "LISTSERV Maestro", Roles: []*Role{{ID: "new", Title: "the new server"}}}
	st := &RunState{Session: &Session{RunID: "20261206T210237Z-e7a5b1"}}
	data, err := CleanupRunbook(st, rb, "j.jsonl", []KeptItem{{Step: "copy", Undo: Undo{Kind: UndoAside, Role: "new", Host: "spare", Path: "/a/b", Kept: "/a/b.cutover-20261206T210237Z-e7a5b1-replaced"}}})
	if err != nil {
		t.Fatal(err)
	}
	crb, err := Parse("c.yaml", data)
	if err != nil {
		t.Fatalf("the generated cleanup runbook does not load: %v\n%s", err, data)
	}
	if got := CleanupOf(&Session{Runbook: crb.ID, Title: crb.Title}); got != st.Session.RunID {
		t.Errorf("CleanupOf = %q", got)
	}
	if got := RollbackOf(&Session{Runbook: crb.ID, Title: crb.Title}); got != "" {
		t.Errorf("a cleanup taken for a rollback of %q", got)
	}
	if got := RollbackOf(&Session{Runbook: "maestro/move-hub-rollback", Title: "Back out run R1 of maestro/move-hub"}); got != "R1" {
		t.Errorf("RollbackOf = %q", got)
	}
	_, err = CleanupRunbook(st, rb, "j", []KeptItem{{Step: "copy", Undo: Undo{Kind: UndoAside, Role: "new", Host: "spare", Path: "/a/{{ x }}", Kept: "/a/{{ x }}.cutover-replaced"}}})
	if err == nil {
		t.Error("a recorded path holding {{ }} went into a generated runbook")
	}
	items := WithoutDiscarded([]BackOutItem{{Step: "copy", Undos: []Undo{{Kind: UndoAside, Host: "spare", Path: "/a/b", Kept: "/a/b.k"}, {Kind: UndoFile, Path: "/c"}}, Auto: []string{"aside", "file"}}},
		map[string]string{"/a/b.k": "cleanup.jsonl"})
	if it := items[0]; len(it.Undos) != 1 || it.Auto[0] != "file" || !strings.Contains(it.Manual, "removed by cutover cleanup (journal cleanup.jsonl)") {
		t.Errorf("WithoutDiscarded: %+v", it)
	}
}
