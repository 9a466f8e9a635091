package runbooks_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/probe/lab/labtest"
	"github.com/cutover/cutover/runbooks"
	"github.com/cutover/cutover/steps"
)

func TestAllLoad(t *testing.T) {
	all, err := runbooks.All()
	if err != nil {
		t.Fatalf("embedded runbooks do not load:\n%v", err)
	}
	var files []string
	fs.WalkDir(runbooks.Embedded, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && runbooks.IsRunbookFile(p) && !strings.HasPrefix(p, "labfiles/") {
			files = append(files, p)
		}
		return err
	})
	if len(all) == 0 || len(all) != len(files) {
		t.Fatalf("All loaded %d runbooks from %d files", len(all), len(files))
	}
	seen := map[string]bool{}
	for i, rb := range all {
		if seen[rb.ID] {
			t.Errorf("runbook id %s twice", rb.ID)
		}
		seen[rb.ID] = true
		if i > 0 && all[i-1].ID >= rb.ID {
			t.Errorf("runbooks not sorted: %s before %s", all[i-1].ID, rb.ID)
		}
		if rb.Hash == "" || !strings.HasPrefix(rb.File, "runbooks/") {
			t.Errorf("%s: file %q hash %q", rb.ID, rb.File, rb.Hash)
		}
		got, err := runbooks.Get(rb.ID)
		if err != nil || got.Hash != rb.Hash {
			t.Errorf("Get(%s) = %v, %v", rb.ID, got, err)
		}
		if len(rb.Steps) == 0 || rb.Source == "" {
			t.Errorf("%s: %d steps, source %q", rb.ID, len(rb.Steps), rb.Source)
		}
	}
	if !seen["maestro/move-hub"] {
		t.Error("maestro/move-hub is not shipped")
	}
	n, _, err := runbooks.Lint(nil, false)
	if err != nil || n != len(all) {
		t.Errorf("Lint = %d, %v", n, err)
	}
}

func TestGet(t *testing.T) {
	_, err := runbooks.Get("maestro/no-such-thing")
	if err == nil || !strings.Contains(err.Error(), "maestro/move-hub") {
		t.Errorf("Get of an unknown id: %v (want the known ids listed)", err)
	}
	// A runbook file of the site's own, by name.
	p := filepath.Join(t.TempDir(), "mine.yaml")
	os.WriteFile(p, []byte("id: site/mine\ntitle: Mine\nsystem: Site\nsource: us\nsteps:\n  - id: s\n    title: S\n    manual: true\n"), 0o644)
	rb, err := runbooks.Get(p)
	if err != nil || rb.ID != "site/mine" || rb.File != p {
		t.Errorf("Get(%s) = %+v, %v", p, rb, err)
	}
	// Lint reports a broken file with its position; the shipped runbooks only when asked.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("id: site/bad\ntitle: Bad\nsystem: Site\nsource: us\nsteps:\n  - id: s\n    title: S\n    when: params.nothing\n    manual: true\n"), 0o644)
	all, _ := runbooks.All()
	n, _, err := runbooks.Lint([]string{p, bad}, false)
	if n != 2 || err == nil || !strings.Contains(err.Error(), bad+":8:") {
		t.Errorf("Lint = %d, %v; want 2 runbooks and an error at %s:8", n, err, bad)
	}
	if n, _, _ = runbooks.Lint([]string{p}, true); n != len(all)+1 {
		t.Errorf("Lint with the shipped runbooks checked %d, want %d", n, len(all)+1)
	}
}

// TestScenarioRunFiles: every lab scenario sets up, and each of its run files names a
// runbook that exists, parses, fits the runbook and plans against the lab's inventory.
func TestScenarioRunFiles(t *testing.T) {
	labtest.SkipShort(t)
	names := runbooks.ScenarioNames()
	if len(names) == 0 {
		t.Fatal("no lab scenarios")
	}
	if _, err := runbooks.Scenario("no-such-scenario", time.Now()); err == nil || !strings.Contains(err.Error(), names[0]) {
		t.Errorf("unknown scenario: %v", err)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			sc, err := runbooks.Scenario(name, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if sc.Name != name || len(sc.Runs) == 0 {
				t.Fatalf("scenario %q: name %q, %d run files", name, sc.Name, len(sc.Runs))
			}
			l, err := lab.Setup(t.TempDir(), sc, lab.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			inv, err := inventory.Load(l.Inventory())
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range sc.Runs {
				rb, err := runbooks.Get(r.Runbook)
				if err != nil {
					t.Errorf("run file for %s: %v", r.Runbook, err)
					continue
				}
				p := l.RunFile(r.Runbook)
				rf, err := steps.LoadRunFile(p)
				if err != nil {
					t.Errorf("%s: %v", p, err)
					continue
				}
				if rf.Runbook != r.Runbook {
					t.Errorf("%s names runbook %s, want %s", p, rf.Runbook, r.Runbook)
				}
				if rf.Inventory != l.Inventory() {
					t.Errorf("%s: inventory %s, want the lab's %s", p, rf.Inventory, l.Inventory())
				}
				if err := rf.CheckAgainst(rb); err != nil {
					t.Errorf("%s does not fit %s: %v", p, rb.ID, err)
				}
				if _, err := steps.Prepare(rb, inv.Host, rf.Inputs(), nil); err != nil {
					t.Errorf("%s does not plan: %v", p, err)
				}
			}
			// Every fault applies.
			for _, f := range sc.Faults {
				l2, err := lab.Setup(t.TempDir(), sc, lab.Options{Faults: []string{f.Name}})
				if err != nil {
					t.Errorf("fault %s: %v", f.Name, err)
					continue
				}
				l2.Close()
			}
		})
	}
}

// TestMoveHubPlanInLab probes the maestro lab and plans move-hub with its run file:
// the fresh installation is kept (spare has no component), the first step looks for
// each component in its folder on its server, and the steps for hosted
// lists, adding to an installation and external names are skipped, each saying why.
func TestMoveHubPlanInLab(t *testing.T) {
	l, inv, facts := runbooks.ProbedLab(t, "maestro")
	rf, err := steps.LoadRunFile(filepath.Join(l.Dir(), "runs", "maestro-move-hub.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	rb, err := runbooks.Get("maestro/move-hub")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := steps.Prepare(rb, inv.Host, rf.Inputs(), facts)
	if err != nil {
		t.Fatal(err)
	}
	got := planOutline(t, plan)
	want := []string{
		"keep check-https-apart hub,lui,trk",
		"keep preseed-hub-data hub,spare",
		"keep stop-maestro hub,lui,spare,trk",
		"skip stop-listserv: only needed when the internal database serves Hosted LISTSERV Lists",
		"keep install-fresh spare",
		"skip install-add: the new server has no Maestro component yet, so it gets a fresh installation instead",
		"keep transfer-hub-data hub,spare",
		"keep point-lui-to-hub lui",
		"skip set-hub-external-name: the Hub has no separate external name",
		"skip set-hub-external-port: the Hub has no separate external port",
		"keep point-tracker-to-hub trk",
		"keep uninstall-old-hub hub",
		"keep start-maestro lui,spare,trk",
		"skip start-listserv: LISTSERV was not stopped (only with the internal database and Hosted LISTSERV Lists)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("plan:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if v := plan.Params["hub_host"]; v != "spare.maestro.lab" {
		t.Errorf("hub_host defaults to %v, want the new server's host name", v)
	}

	// The other way round, the requirements refuse the roles, each with its reason.
	in := rf.Inputs()
	in.Roles["old"], in.Roles["new"] = "spare", "hub"
	_, err = steps.Prepare(rb, inv.Host, in, facts)
	if err == nil || !strings.Contains(err.Error(), "the Administration Hub must be installed here") ||
		!strings.Contains(err.Error(), "the Hub must not be installed on the new server yet") {
		t.Errorf("swapped roles: %v", err)
	}
	// Hosted lists with the internal database keep stop-listserv; a spare that already
	// runs a component gets the Hub added.
	in = rf.Inputs()
	in.Params["hosted_lists"] = "yes"
	in.Params["hub_external_host"] = "hub.example.com"
	in.Roles["new"] = "trk"
	plan, err = steps.Prepare(rb, inv.Host, in, facts)
	if err != nil {
		t.Fatal(err)
	}
	kept := map[string]bool{}
	for _, s := range plan.Steps {
		kept[s.ID] = !s.Skip
	}
	if !kept["stop-listserv"] || kept["install-fresh"] || !kept["install-add"] || !kept["set-hub-external-name"] || kept["set-hub-external-port"] {
		t.Errorf("plan with hosted lists, an external name and trk as the new server: %v", kept)
	}
}
