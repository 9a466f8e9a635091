package tui

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/steps"
)

// TestHomeShowsWhereASiteRunbookComesFrom: a runbook found in a site folder names that
// folder in the list (and the filter matches it); a shipped one shows no origin.
func TestHomeShowsWhereASiteRunbookComesFrom(t *testing.T) {
	cat := catalog(t)
	site, err := steps.Parse("site.yaml", []byte("id: postfix/move-queue\ntitle: Move the Postfix queue\nsystem: Postfix\nsource: ours\nsteps:\n  - id: s\n    title: S\n    manual: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	site.Origin = "/srv/runbooks"
	cat = append([]*steps.Runbook{site}, cat...)
	inv := syntheticInventory(2)
	h := newHarness(t, Config{Inventory: inv, Dialer: noDialer, Catalog: cat})
	h.giveFacts(syntheticFacts(inv))
	v := h.view()
	if !strings.Contains(v, "postfix/move-queue  Move the Postfix queue  (Postfix)  [site: /srv/runbooks]") {
		t.Errorf("the site runbook does not show its folder:\n%s", v)
	}
	if strings.Contains(v, "move-hub  Move the Administration Hub to another server  (LISTSERV Maestro)  [") {
		t.Errorf("a shipped runbook shows an origin:\n%s", v)
	}
	h.typeText("srv/runbooks")
	if hp := h.top().(*home); len(hp.matches) != 1 {
		t.Errorf("filtering on the folder: %d matches", len(hp.matches))
	}
}
