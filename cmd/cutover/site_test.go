package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/probe/lab/labtest"
	"github.com/cutover/cutover/runbooks"
)

// siteDir is the worked example's folder of site runbooks: the Postfix runbook, its
// component declaration and its data-only lab scenario.
var siteDir = filepath.Join("..", "..", "testdata", "site-runbooks")

// TestSiteRunbooksAreListed: a folder on the search path adds its runbooks to cutover
// runbooks, with their origin, in text and JSON; without it they are not there.
func TestSiteRunbooksAreListed(t *testing.T) {
	t.Parallel()
	r := cutover(t, "runbooks", "--runbooks", siteDir)
	wantCode(t, r, 0, "ORIGIN", "postfix/move-queue", siteDir, "Move a Postfix mail host and its queue to another host")
	r = cutover(t, "runbooks", "--runbooks", siteDir, "--json")
	wantCode(t, r, 0)
	var list []struct {
		ID     string `json:"id"`
		Origin string `json:"origin"`
		File   string `json:"file"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatal(err)
	}
	origins := map[string]string{}
	for _, it := range list {
		origins[it.ID] = it.Origin
	}
	if origins["postfix/move-queue"] != siteDir || origins["maestro/move-hub"] != runbooks.Shipped {
		t.Errorf("origins: %v", origins)
	}
	if r := cutover(t, "runbooks"); strings.Contains(r.stdout, "postfix/") {
		t.Errorf("a site runbook is listed without its folder on the search path:\n%s", r.stdout)
	}
	wantCode(t, cutover(t, "lint", "--runbooks", siteDir), 0, "12 runbooks, no problems")
}

// TestSiteRunbookShadowingAShippedOne is refused with the file and line, and allowed with
// a warning when asked.
func TestSiteRunbookShadowingAShippedOne(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "maestro", "move-hub.yaml")
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, []byte("# our own\nid: maestro/move-hub\ntitle: Our Hub move\nsystem: Site\nsource: ours\nsteps:\n  - {id: s, title: S, manual: true}\n"), 0o644)
	r := cutover(t, "runbooks", "--runbooks", dir)
	wantCode(t, r, 2, p+":2:1: runbook id maestro/move-hub is a shipped runbook's", "--allow-shadow")
	r = cutover(t, "runbooks", "--runbooks", dir, "--allow-shadow")
	wantCode(t, r, 0, "warning: "+p+": runbook maestro/move-hub shadows the shipped one", "(shadows shipped)", "Our Hub move")
}

// TestPostfixExampleRunsInItsDataOnlyLab is the README's worked example: a runbook for
// a system no shipped runbook covers, its components and its practice lab all written
// as data in a site folder, run headless to the end over real SSH; a fault of the lab
// stops it at the gate meant to catch it.
func TestPostfixExampleRunsInItsDataOnlyLab(t *testing.T) {
	labtest.SkipShort(t)
	t.Parallel()
	wantCode(t, cutover(t, "lab", "--runbooks", siteDir, "--scenario", "postfix", "--faults"), 0, "start-fails", "queue-stuck")
	sc, err := runbooks.ScenarioFile(filepath.Join(siteDir, "postfix", "postfix.lab.yaml"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	t.Run("run", func(t *testing.T) {
		t.Parallel()
		l := labtest.Serve(t, sc, lab.Options{})
		jpath := filepath.Join(t.TempDir(), "run.jsonl")
		r := cutover(t, "run", "--runbooks", siteDir, "--from", l.RunFile("postfix/move-queue"), "--headless", "--journal", jpath)
		wantCode(t, r, 0, "done: every step is done")
		mx2 := filepath.Join(l.HostRoot("mx2"), "srv", "postfix")
		if cf := readFile(t, filepath.Join(mx2, "etc", "main.cf")); !strings.Contains(cf, "myhostname = mx2.example.lab") ||
			!strings.Contains(cf, "relayhost = [smarthost.example.lab]:587") {
			t.Errorf("mx2's main.cf:\n%s", cf)
		}
		if log := readFile(t, filepath.Join(mx2, "log", "maillog")); strings.Count(log, "status=sent") != 3 {
			t.Errorf("mx2 did not deliver the three moved messages:\n%s", log)
		}
		if left, _ := filepath.Glob(filepath.Join(mx2, "spool", "deferred", "4BX*")); len(left) != 0 {
			t.Errorf("messages left in mx2's queue: %v", left)
		}
		endStateHolds(t, jpath)
	})
	t.Run("start-fails", func(t *testing.T) {
		t.Parallel()
		l := labtest.Serve(t, sc, lab.Options{Faults: []string{"start-fails"}})
		r := cutover(t, "run", "--runbooks", siteDir, "--from", l.RunFile("postfix/move-queue"), "--headless")
		if r.code != 1 || !strings.Contains(r.out(), "start-new") {
			t.Errorf("a Postfix that does not start: %s", r)
		}
	})
}
