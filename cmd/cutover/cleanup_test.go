package main

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/probe/lab/labtest"
	"github.com/cutover/cutover/runbooks"
)

// keptAsideName matches what a replacing copy kept aside.
var keptAsideName = regexp.MustCompile(`\.cutover-[0-9]{8}T[0-9]{6}Z-[0-9a-f]+-replaced(-[0-9]+)?$`)

// hostTrees fingerprints every file, folder and link under each lab host's root
// (links by where they point, never followed), leaving out what skip says.
func hostTrees(t *testing.T, l *testLab, skip func(p string) bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, h := range []string{"lui", "hub", "trk", "spare"} {
		root := l.HostRoot(h)
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if skip != nil && skip(p) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			key := h + ":" + strings.TrimPrefix(p, root)
			switch {
			case d.Type()&fs.ModeSymlink != 0:
				to, _ := os.Readlink(p)
				out[key] = "link to " + to
			case d.IsDir():
				out[key] = "folder"
			default:
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				out[key] = fmt.Sprintf("%x", sha256.Sum256(b))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// sameTrees reports every path that differs between two fingerprints.
func sameTrees(t *testing.T, before, after map[string]string) {
	t.Helper()
	var diff []string
	for p, h := range before {
		if after[p] != h {
			diff = append(diff, fmt.Sprintf("%s: %s -> %q", p, h, after[p]))
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			diff = append(diff, p+": appeared")
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		t.Errorf("the hosts changed beyond the kept-aside items:\n%s", strings.Join(diff, "\n"))
	}
}

// keptAside lists the kept-aside names in the lab's install folders.
func keptAside(t *testing.T, l *testLab) []string {
	t.Helper()
	var out []string
	for _, h := range []string{"lui", "hub", "trk", "spare"} {
		_ = filepath.WalkDir(l.HostRoot(h), func(p string, d fs.DirEntry, err error) error {
			if err == nil && keptAsideName.MatchString(p) {
				out = append(out, p)
				if d.IsDir() {
					return filepath.SkipDir
				}
			}
			return nil
		})
	}
	sort.Strings(out)
	return out
}

// doneMoveHub runs move-hub to its end and returns its journal and the run's output.
func doneMoveHub(t *testing.T, l *testLab, jdir string) (string, result) {
	t.Helper()
	jpath := filepath.Join(jdir, "run.jsonl")
	r := cutover(t, "run", "--from", l.runFile(), "--headless", "--journal", jpath)
	wantCode(t, r, 0, "done: every step is done")
	return jpath, r
}

// TestCleanupMoveHub: a finished move of the Hub says what it kept aside and how to
// remove it; cleanup refuses to ask without a terminal, then with --yes lists the
// items with their size, removes exactly them (everything else on every host is
// byte for byte as it was), journals it as a run of its own, and says rollback of those
// copies is no longer possible.
func TestCleanupMoveHub(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a lab run")
	}
	l := startLab(t)
	jdir := t.TempDir()
	jpath, r := doneMoveHub(t, l, jdir)
	kept := keptAside(t, l)
	if len(kept) == 0 {
		t.Fatal("move-hub kept nothing aside")
	}
	for _, want := range []string{"kept aside until you confirm the move", "cutover cleanup " + jpath, filepath.Base(kept[0])} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the run's end does not say %q:\n%s", want, r.stdout)
		}
	}
	wantCode(t, cutover(t, "export", jpath), 0, "Kept aside by the copies until the move is confirmed", "`cutover cleanup "+jpath+"`")
	isKept := func(p string) bool {
		for _, k := range kept {
			if p == k {
				return true
			}
		}
		return false
	}
	before := hostTrees(t, l, isKept)

	r = cutover(t, "cleanup", jpath)
	wantCode(t, r, 2, "no terminal to ask on", "--yes")
	if got := keptAside(t, l); len(got) != len(kept) {
		t.Fatalf("cleanup without a confirmation removed something: %v", got)
	}

	cpath := filepath.Join(jdir, "cleanup.jsonl")
	r = cutover(t, "cleanup", jpath, "--yes", "--journal", cpath)
	wantCode(t, r, 0, "kept aside, until the move is confirmed:", "(1 file, 103 bytes; step transfer-hub-data replaced ", "cleanup: "+fmt.Sprint(len(kept))+" kept-aside items removed", "no longer possible")
	if got := keptAside(t, l); len(got) != 0 {
		t.Errorf("left after cleanup: %v", got)
	}
	sameTrees(t, before, hostTrees(t, l, nil))
	if st := stateOf(t, cpath); !st.Ended || st.Outcome != "done" {
		t.Errorf("the cleanup's journal: ended %v, outcome %s", st.Ended, st.Outcome)
	}
	wantCode(t, cutover(t, "export", cpath), 0, "Remove what transfer-hub-data kept aside on spare")
}

// TestCleanupRefusesPlantedLink: a link planted at a kept-aside name (to a folder
// elsewhere on the host) is refused: what it points to, and the link, stay.
func TestCleanupRefusesPlantedLink(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a lab run")
	}
	l := startLab(t)
	jdir := t.TempDir()
	jpath, _ := doneMoveHub(t, l, jdir)
	kept := keptAside(t, l)
	var target string
	for _, k := range kept {
		if strings.Contains(k, "accountreg") {
			target = k
		}
	}
	if target == "" {
		t.Fatalf("no kept-aside account registry: %v", kept)
	}
	canary := filepath.Join(l.HostRoot("spare"), "precious")
	if err := os.MkdirAll(canary, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(canary, "data"), []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(target); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(canary, target); err != nil {
		t.Fatal(err)
	}
	r := cutover(t, "cleanup", jpath, "--yes", "--journal", filepath.Join(jdir, "cleanup.jsonl"))
	wantCode(t, r, 1, "a symbolic link to "+canary, "symbolic link", "nothing was removed")
	if b, err := os.ReadFile(filepath.Join(canary, "data")); err != nil || string(b) != "keep me\n" {
		t.Errorf("what the planted link points to was touched: %q %v", b, err)
	}
	if fi, err := os.Lstat(target); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the planted link is gone: %v", err)
	}
}

// TestCleanupRefusesUnfinishedRun: a run stopped after its copy still needs what it
// kept aside (it resumes, or rolls back): cleanup refuses, saying why, and removes
// nothing.
func TestCleanupRefusesUnfinishedRun(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a lab run")
	}
	l := startLab(t)
	jdir := t.TempDir()
	jpath := filepath.Join(jdir, "run.jsonl")
	wantCode(t, cutover(t, "run", "--from", l.runFile(), "--headless", "--journal", jpath, "--stop-after", "point-tracker-to-hub"), 3)
	kept := keptAside(t, l)
	if len(kept) == 0 {
		t.Fatal("the run kept nothing aside before it stopped")
	}
	r := cutover(t, "cleanup", jpath, "--yes")
	wantCode(t, r, 1, "refusing to clean up", "has not finished", "cutover resume "+jpath, "cutover rollback "+jpath, "nothing was removed")
	if got := keptAside(t, l); len(got) != len(kept) {
		t.Errorf("the refused cleanup removed something: %v, was %v", got, kept)
	}
}

// TestRollbackAfterCleanup: the Postfix example's move, done, then cleaned up: a
// rollback afterwards lists what the cleanup removed as what it can no longer put back
// (naming the cleanup's journal), undoes the rest, and leaves the copy in place.
func TestRollbackAfterCleanup(t *testing.T) {
	labtest.SkipShort(t)
	t.Parallel()
	sc, err := runbooks.ScenarioFile(filepath.Join(siteDir, "postfix", "postfix.lab.yaml"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	l := labtest.Serve(t, sc, lab.Options{})
	jdir := t.TempDir()
	jpath := filepath.Join(jdir, "run.jsonl")
	wantCode(t, cutover(t, "run", "--runbooks", siteDir, "--from", l.RunFile("postfix/move-queue"), "--headless", "--journal", jpath), 0, "done: every step is done")
	var kept []string
	_ = filepath.WalkDir(filepath.Join(l.Dir(), "hosts"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && keptAsideName.MatchString(p) {
			kept = append(kept, p)
		}
		return nil
	})
	if len(kept) == 0 {
		t.Fatal("the Postfix move kept nothing aside")
	}
	cpath := filepath.Join(jdir, "cleanup.jsonl")
	wantCode(t, cutover(t, "cleanup", jpath, "--yes", "--journal", cpath), 0, "kept-aside item")
	r := cutover(t, "rollback", jpath, "--journal", filepath.Join(jdir, "rollback.jsonl"))
	wantCode(t, r, 0, "removed by cutover cleanup (journal "+cpath+"): it cannot be put back", "rollback: what remains for you to undo by hand")
	for _, k := range kept {
		if _, err := os.Lstat(k); !os.IsNotExist(err) {
			t.Errorf("%s is back after the rollback: %v", k, err)
		}
		if _, err := os.Lstat(keptAsideName.ReplaceAllString(k, "")); err != nil {
			t.Errorf("the copy at %s went: %v", keptAsideName.ReplaceAllString(k, ""), err)
		}
	}
}
