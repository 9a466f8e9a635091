package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cutover/cutover/probe/inventory"
)

// planText makes a plan's output independent of where and when the lab runs: the lab's
// folder, dates in log names, times and ages in check summaries.
func planText(l *testLab, s string) string {
	s = strings.ReplaceAll(s, l.Dir(), "$LAB")
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d)?(\.\d+)?(Z|[+-]\d\d:?\d\d)?`),
		regexp.MustCompile(`\b20\d{6}\b`),
		regexp.MustCompile(`\b\d+(\.\d+)?(ms|µs|s|m|h)( ago| old)?\b`),
	} {
		s = re.ReplaceAllString(s, "<t>")
	}
	return s
}

// planChangesNothing runs cutover plan ARGS against the lab, with a lock file of another
// run nowhere in sight, and demands that every file of the lab is the same afterwards,
// byte for byte and to the nanosecond, and that the lab's audit log shows no file
// written and none of the inventory's service commands run. It returns the result.
func planChangesNothing(t *testing.T, l *testLab, args ...string) result {
	t.Helper()
	before := fileState(t, l.Dir(), "audit.jsonl")
	audit, err := l.Audit()
	if err != nil {
		t.Fatal(err)
	}
	r := cutover(t, append([]string{"plan"}, args...)...)
	if after := fileState(t, l.Dir(), "audit.jsonl"); after != before {
		t.Errorf("cutover plan changed the lab's files:\n%s", diffLines(before, after))
	}
	forbidden := serviceCommands(t, l)
	entries, err := l.Audit()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries[len(audit):] {
		switch e.Kind {
		case "exec":
			for _, f := range forbidden {
				if f != "" && strings.Contains(e.Command, f) {
					t.Errorf("cutover plan ran %q on %s (a service command)", e.Command, e.Host)
				}
			}
		default:
			t.Errorf("cutover plan operated on a file: %+v", e)
		}
	}
	return r
}

// TestPlanMoveHub: cutover plan on the lab's move of the Hub shows every change with the
// values read now, golden; changes nothing and takes no lock; --json carries the same.
func TestPlanMoveHub(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a lab run")
	}
	l := startLab(t)
	r := planChangesNothing(t, l, "--from", l.runFile())
	wantCode(t, r, 0,
		"lui:"+l.file("lui", "lui/lui.ini")+": RegistryHubHost hub.maestro.lab -> spare.maestro.lab",
		"lui: maestro running -> stopped",
		"The run could start")
	golden(t, "plan/move-hub.txt", planText(l, r.stdout))
	if m, _ := filepath.Glob(filepath.Join(l.Dir(), "hosts", "*", "**", ".cutover-lock*")); len(m) > 0 {
		t.Errorf("plan left locks: %v", m)
	}

	r = planChangesNothing(t, l, "--from", l.runFile(), "--json")
	wantCode(t, r, 0)
	var pv struct {
		Runbook string `json:"runbook"`
		Steps   []struct {
			ID      string `json:"id"`
			Skip    bool   `json:"skip"`
			Changes []struct {
				Kind, Host, Target, Op, Key, Old, New, Replaces, Now string
				Files                                                int
				Bytes                                                int64
			} `json:"changes"`
		} `json:"steps"`
		Blockers []string `json:"blockers"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &pv); err != nil {
		t.Fatalf("--json: %v\n%s", err, r.stdout)
	}
	found := map[string]bool{}
	for _, s := range pv.Steps {
		for _, c := range s.Changes {
			switch {
			case c.Kind == "ini" && c.Key == "RegistryHubHost" && c.Old == "hub.maestro.lab" && c.New == "spare.maestro.lab" && c.Op == "set":
				found[s.ID] = true
			case c.Kind == "copy" && c.Files > 0 && c.Bytes > 0 && c.Replaces != "":
				found["copy"] = true
			case c.Kind == "service" && c.Now == "running" && c.Op == "stop":
				found["service"] = true
			}
		}
	}
	for _, k := range []string{"point-lui-to-hub", "point-tracker-to-hub", "copy", "service"} {
		if !found[k] {
			t.Errorf("--json lacks the %s change: %s", k, r.stdout)
		}
	}
	if len(pv.Blockers) != 0 {
		t.Errorf("blockers %v", pv.Blockers)
	}

	// An export with the inventory names the probed values, not placeholders, and ends
	// with the back-out plan.
	r = cutover(t, append([]string{"export", "maestro/move-hub", "-i", l.Inventory()}, roleArgs...)...)
	wantCode(t, r, 0, "installer for its operating system (Debian GNU/Linux 12 (bookworm))", "## Back-out",
		"automatic: spare, lui, trk: bring maestro back to the state it was in before", "Rollback stops here")
	if strings.Contains(r.stdout, "<new.") || strings.Contains(r.stdout, "<old.") {
		t.Errorf("the export with an inventory still shows placeholders:\n%s", r.stdout)
	}
}

// TestPlanFailover: the plan of a failover with the primary down, golden; it changes
// nothing on the hosts that answer.
func TestPlanFailover(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a lab run")
	}
	l := startScenario(t, "maestro-ha", "primary-down")
	r := planChangesNothing(t, l, "--from", filepath.Join(l.Dir(), "runs", "maestro-failover.yaml"))
	wantCode(t, r, 0, "The run could start")
	golden(t, "plan/failover.txt", planText(l, r.stdout))
}

// TestPlanRefuses: a plan whose hosts break a requirement exits 1 and says which; bad
// input exits 2 before any host is touched.
func TestPlanRefuses(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a lab run")
	}
	l := startLab(t)
	r := planChangesNothing(t, l, "--from", l.runFile(), "--role", "new=hub")
	wantCode(t, r, 1, "UNMET requirement: role new on hub", "the run could not start: requirement: role new on hub")
	r = cutover(t, "plan", "--from", l.runFile(), "--set", "nosuch=1")
	wantCode(t, r, 2, "unknown parameter \"nosuch\"")
}

// serviceCommands lists the start and stop commands of every service of the lab's
// inventory: what a command that changes nothing must never run.
func serviceCommands(t *testing.T, l *testLab) []string {
	t.Helper()
	inv, err := inventory.Load(l.Inventory())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, h := range inv.Hosts {
		for _, s := range h.Services {
			out = append(out, s.Start, s.Stop)
		}
	}
	return out
}
