package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/runbooks"
	"github.com/cutover/cutover/steps"
)

// TestWizardBindsComponentsInTheSitesFolders: in the lab situation whose Maestro keeps
// each component under data/, the probe finds none where the manual has them, so no
// host fits the roles that need one until the folder parameters are given, and the
// form asks for those after the roles. The real program, in a real terminal, offers the
// hosts on that condition and says which parameter each waits for, binds them, takes
// the folders typed in the form, and opens the plan review with every role bound; the
// setup saved as a run file holds the folders. Nothing runs.
func TestWizardBindsComponentsInTheSitesFolders(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the built program in tmux")
	}
	t.Parallel()
	bin := buildCutover(t)
	rb, err := runbooks.Get("maestro/move-lui")
	if err != nil {
		t.Fatal(err)
	}
	env, _ := wizardEnv(t)
	labDir, _ := labProcess(t, bin, "maestro", "site-layout")
	rf, err := steps.LoadRunFile(filepath.Join(labDir, "runs", probe.Slug(rb.ID)+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tm := startTmux(t, 80, 24, t.TempDir(), env, bin, "--journal-dir", t.TempDir(), "-i", filepath.Join(labDir, "inventory.yaml"))
	tm.waitFor("[practice lab]", "probed at")
	tm.text(rb.ID)
	tm.waitFor("> " + rb.ID + " ")
	tm.keys("Enter")
	tm.waitFor("Bind each role to a host")
	for _, r := range rb.Roles {
		tm.bindRole(r.ID, rf.Roles[r.ID])
	}
	folders := map[string]string{"lui_dir": "data/lui", "hub_dir": "data/hub", "trk_dir": "data/trk"}
	tm.waitFor(rf.Roles["old"]+" ? needs lui_dir", rf.Roles["hub"]+" ? needs hub_dir", rf.Roles["trk"]+" ? needs trk_dir")

	tm.keys("n")
	tm.waitFor("the practice lab's values filled in")
	for i, prm := range rb.Params {
		if v, ok := folders[prm.ID]; ok {
			// The field holds the manual's folder (lui, hub, trk): replaced by the site's.
			tm.keys("End", "BSpace", "BSpace", "BSpace")
			tm.text(v)
			tm.waitFor(v)
		}
		if i < len(rb.Params)-1 {
			tm.keys("Tab")
		}
	}
	tm.keys("Enter")
	s := tm.waitFor("plan review", "Nothing has run")
	if strings.Contains(s, "(choose)") || strings.Contains(s, "needs ") {
		t.Fatalf("a role is not bound on the plan review:\n%s", s)
	}
	// Back from the review, the form is there again; the setup saved as a run file
	// holds the folders as typed.
	tm.keys("Escape")
	tm.waitFor("the practice lab's values filled in", "esc back to roles")
	saved := filepath.Join(t.TempDir(), "layout.yaml")
	tm.keys("C-s")
	tm.waitFor("save run file to:")
	tm.keys("C-u")
	tm.text(saved)
	tm.keys("Enter")
	tm.waitFor("saved ")
	got, err := steps.LoadRunFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range folders {
		if got.Params[k] != v {
			t.Errorf("the saved run file has %s = %q, want %q", k, got.Params[k], v)
		}
	}
	tm.keys("Escape")
	tm.waitFor("Bind each role to a host")
	tm.keys("q")
	if code := tm.exited(); code != 0 {
		t.Fatalf("exit %d; the screen:\n%s", code, tm.scrollback())
	}
}
