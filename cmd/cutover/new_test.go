package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/probe/lab/labtest"
	"github.com/cutover/cutover/runbooks"
)

// TestNewRunbookSkeletonRuns: cutover new runbook writes a skeleton that lints clean,
// is listed from its folder, and runs headless to the end in the practice lab written
// beside it; it never overwrites.
func TestNewRunbookSkeletonRuns(t *testing.T) {
	dir := t.TempDir()
	r := cutover(t, "new", "runbook", "acme/move-app", "--dir", dir)
	wantCode(t, r, 0, "wrote "+filepath.Join(dir, "acme", "move-app.yaml"), "move-app.lab.yaml", "move-app.components.yaml")
	wantCode(t, cutover(t, "lint", filepath.Join(dir, "acme", "move-app.yaml")), 0, "1 runbooks, no problems")
	wantCode(t, cutover(t, "runbooks", "--runbooks", dir), 0, "acme/move-app", dir)
	wantCode(t, cutover(t, "new", "runbook", "acme/move-app", "--dir", dir), 2, "exists already")
	wantCode(t, cutover(t, "new", "runbook", "Acme App", "--dir", dir), 2, "SYSTEM/NAME")

	labtest.SkipShort(t)
	sc, err := runbooks.ScenarioFile(filepath.Join(dir, "acme", "move-app.lab.yaml"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	l := labtest.Serve(t, sc, lab.Options{})
	r = cutover(t, "run", "--runbooks", dir, "--from", l.RunFile("acme/move-app"), "--headless")
	wantCode(t, r, 0, "done: every step is done")
	if ini := readFile(t, filepath.Join(l.HostRoot("new"), "srv", "app", "app.ini")); !strings.Contains(ini, "ListenName = new") {
		t.Errorf("the new host's app.ini:\n%s", ini)
	}
}
