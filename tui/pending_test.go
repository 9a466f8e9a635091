package tui

import (
	"strings"
	"testing"
)

// TestHostWithComponentInSitesFolderIsBoundOnCondition: the Hub is kept in a folder of
// the site's own (the probe, which knows only the manual's folder, finds none), so no
// host fits the old role until hub_dir is given, and the parameters come after the
// roles. The wizard offers the host on that condition and says so, binds it, and the
// plan judges it again with the parameters: left at the manual's folder, the setup says
// why the host does not fit; with the site's folder, the plan review opens. Once the
// form has been open, the roles are judged with its values, and it opens again with
// what the operator typed, back from the roles or from the plan review.
func TestHostWithComponentInSitesFolderIsBoundOnCondition(t *testing.T) {
	t.Parallel()
	inv := syntheticInventory(4)
	facts := syntheticFacts(inv)
	facts[1].Components = nil // hub keeps the Hub in data/hub
	h := newHarness(t, Config{Inventory: inv, Dialer: noDialer})
	h.giveFacts(facts)
	s := openMoveHub(t, h)
	if s.bound["old"] != nil {
		t.Fatalf("old was bound by itself to %s", s.bound["old"].Name)
	}
	for s.rb.Roles[s.roleCur].ID != "old" {
		h.key("up")
	}
	h.key("enter")
	cursorTo(t, h, s, "hub")
	h.waitWords(wait, "? hub", "once hub_dir is given", "hub is old only once hub_dir is given in the parameters")
	if c := s.cands[s.hostCur]; c.fit.OK() || strings.Join(c.fit.Pending(), ",") != "hub_dir" {
		t.Fatalf("hub for old: ok %v, pending %q", c.fit.OK(), c.fit.Pending())
	}
	h.key("enter")
	if s.bound["old"] == nil || s.bound["old"].Name != "hub" {
		t.Fatalf("old is bound to %v, want hub on condition:\n%s", s.bound["old"], h.view())
	}
	h.waitWords(wait, "hub is old once you give hub_dir in the parameters", "hub ? needs hub_dir")
	// A host that breaks a requirement no parameter can meet is still refused.
	for s.rb.Roles[s.roleCur].ID != "new" {
		h.key("down")
	}
	h.key("enter")
	cursorTo(t, h, s, "hub")
	h.key("enter")
	if s.bound["new"] != nil {
		t.Fatalf("hub was bound to new as well:\n%s", h.view())
	}
	h.waitWords(wait, "hub cannot be new: the new server must be another host than the old one")
	h.key("esc")
	bindMoveHub(t, h, s, "spare")

	// Left at the manual's folder: the plan judges the host again and the setup says why.
	// The form's keys are tested elsewhere: here values are put in the fields, and the
	// form is left as its keys leave it (submitted, or esc back to the roles).
	openForm := func() {
		t.Helper()
		h.key("n")
		if s.stage != stageParams || s.values["hub_dir"] == nil {
			t.Fatalf("the form did not open with hub_dir:\n%s", h.view())
		}
	}
	openForm()
	*s.values["listserv_host"] = "lists.example.org"
	h.send(formDoneMsg{})
	h.settle()
	if s.stage != stageRoles || len(s.problems) == 0 || !strings.Contains(strings.Join(s.problems, "\n"), "give that folder with hub_dir") {
		t.Fatalf("with hub_dir at the manual's folder: stage %v, problems %q:\n%s", s.stage, s.problems, h.view())
	}
	// The roles are now judged with the form's values: hub does not fit with hub_dir at
	// the manual's folder.
	h.waitView(wait, "hub ✗")
	// The form opens again with what the operator typed; with the site's folder given
	// and the form left for the roles, hub fits.
	openForm()
	if got := *s.values["listserv_host"]; got != "lists.example.org" {
		t.Errorf("listserv_host is %q when the form opens again, want what was typed", got)
	}
	*s.values["hub_dir"] = "data/hub"
	h.send(formCancelMsg{})
	h.settle()
	h.waitView(wait, "hub ✓")
	openForm()
	if got := *s.values["hub_dir"]; got != "data/hub" {
		t.Errorf("hub_dir is %q when the form opens again", got)
	}
	h.send(formDoneMsg{})
	h.pump("the plan review", wait, func() bool { _, ok := h.top().(*planPage); return ok })
	if in := s.inputs(); in.Params["hub_dir"] != "data/hub" || in.Params["listserv_host"] != "lists.example.org" {
		t.Errorf("the plan's inputs: %v", in.Params)
	}
	// Back from the review, the form is there again, with the values as given.
	h.key("esc")
	if h.top() != s || s.stage != stageParams || *s.values["hub_dir"] != "data/hub" {
		t.Fatalf("back from the review: top %T, stage %v:\n%s", h.top(), s.stage, h.view())
	}
	h.waitWords(wait, "How users reach the Hub", "esc back to roles")
}
