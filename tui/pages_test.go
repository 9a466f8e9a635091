package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/lab/labtest"
	"github.com/cutover/cutover/steps"
)

// Update-level tests: key messages in, the page's state and the screen checked.

// wait is how long anything that talks to the lab may take; the lab answers in
// milliseconds, the margin is for -race on a busy machine.
const wait = 60 * time.Second

func TestFirstContactOffersTheLab(t *testing.T) {
	labtest.SkipShort(t)
	t.Chdir(t.TempDir())
	h := newHarness(t, Config{JournalDir: "journals", LabDir: "lab",
		InventorySearched: []string{"./cutover.yaml", "~/.config/cutover/inventory.yaml"}})
	if _, ok := h.top().(*firstContact); !ok {
		t.Fatalf("without an inventory the wizard opens on %T, want the lab offer", h.top())
	}
	h.golden("first_contact")
	h.key("q") // q quits here: no run is open
	h.waitQuit()

	h = newHarness(t, Config{JournalDir: "journals", LabDir: "lab"})
	h.key("x") // not an answer
	if h.a.lab != nil || h.quit {
		t.Fatal("a key other than y or n acted on the lab offer")
	}
	h.key("y")
	h.waitView(wait, "probed at", "spare.maestro.lab")
	if _, ok := h.top().(*home); !ok || h.a.lab == nil || h.a.inv == nil {
		t.Fatalf("after y: page %T, lab %v: want home on the running lab", h.top(), h.a.lab)
	}
	if len(h.r.stack) != 1 {
		t.Errorf("home is not the only page after the lab started: %d pages", len(h.r.stack))
	}
	v := h.view()
	for _, s := range []string{"[practice lab]", "lui", "hub", "trk", "spare", "maestro/move-hub"} {
		if !strings.Contains(v, s) {
			t.Errorf("home lacks %q:\n%s", s, v)
		}
	}

	// n declines and quits.
	h = newHarness(t, Config{JournalDir: "journals", LabDir: "lab2"})
	h.key("n")
	h.waitQuit()
	if h.a.lab != nil {
		t.Fatal("n on the lab offer started a lab")
	}
}

func TestFirstContactReportsALabThatDoesNotStart(t *testing.T) {
	dir := t.TempDir()
	// A folder that holds something else is refused by the lab.
	if err := os.WriteFile(filepath.Join(dir, "precious.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Config{LabDir: dir})
	h.key("y")
	h.waitView(wait, "The lab did not start")
	if _, ok := h.top().(*firstContact); !ok {
		t.Fatalf("page %T after a failed lab start", h.top())
	}
	h.key("n")
	h.waitQuit()
}

// syntheticInventory is an inventory of n hosts that are never dialled: the tests feed
// facts as the probe would.
func syntheticInventory(n int) *inventory.Inventory {
	inv := &inventory.Inventory{File: "inventory.yaml"}
	for i := range n {
		inv.Hosts = append(inv.Hosts, &probe.Host{Name: hostName(i), Address: "192.0.2.1", Port: 22})
	}
	return inv
}

func hostName(i int) string {
	names := []string{"lui", "hub", "trk", "spare"}
	if i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("host%03d", i)
}

// noDialer reaches nothing: the tests that use it deliver facts themselves.
var noDialer = probe.DialerFunc(func(context.Context, *probe.Host) (probe.Transport, error) {
	return nil, errors.New("this test has no network")
})

// giveFacts delivers facts as a newer probe round than any in flight, so the real
// (failing) probe the page started is overtaken and ignored.
func (h *harness) giveFacts(fs []*probe.Facts) {
	h.a.probeGen++
	h.send(factsMsg{facts: fs, gen: h.a.probeGen})
	h.settle()
}

func syntheticFacts(inv *inventory.Inventory) []*probe.Facts {
	var out []*probe.Facts
	for i, h := range inv.Hosts {
		f := &probe.Facts{Name: h.Name, Reachable: true, Hostname: h.Name + ".example.org", OS: "linux",
			Components: []string{[]string{"lui", "hub", "trk", ""}[i%4]}, ClockOffset: time.Duration(i%7) * time.Millisecond}
		if f.Components[0] == "" {
			f.Components = nil
		}
		if i == 2 {
			f.Warnings = []string{"RegistryHubHost in trk/tracker.ini names spare.example.org, but no Administration Hub was found there"}
		}
		if i == 5 {
			f.Reachable, f.Error = false, "dial tcp 192.0.2.1:22: connect: connection refused"
		}
		out = append(out, f)
	}
	return out
}

// syntheticHome is the home page on n hosts, with facts delivered as a probe would.
func syntheticHome(t testing.TB, n int) *harness {
	inv := syntheticInventory(n)
	h := newHarness(t.(*testing.T), Config{Inventory: inv, Dialer: noDialer})
	h.giveFacts(syntheticFacts(inv))
	return h
}

func TestHomeFiltersRunbooksAndShowsHosts(t *testing.T) {
	t.Parallel()
	h := syntheticHome(t, 6)
	hp := h.top().(*home)
	h.golden("home_warnings")
	v := h.view()
	for _, s := range []string{"Hosts (6)", "lui.example.org", "✗ host005", "unreachable", "⚠ trk: RegistryHubHost in trk/tracker.ini names spare.example.org",
		"Runbooks (2 of 2)", "maestro/move-hub", "communigate/failover"} {
		if !strings.Contains(v, s) {
			t.Errorf("home lacks %q:\n%s", s, v)
		}
	}
	// Letters filter; q is a letter here, not quit.
	h.typeText("hubq")
	if h.quit || hp.filter != "hubq" {
		t.Fatalf("typing: filter %q, quit %v", hp.filter, h.quit)
	}
	if !strings.Contains(h.view(), "no runbook matches") {
		t.Errorf("a filter that matches nothing says nothing:\n%s", h.view())
	}
	h.key("backspace")
	if hp.filter != "hub" || len(hp.matches) != 1 {
		t.Fatalf("after backspace: filter %q, %d matches", hp.filter, len(hp.matches))
	}
	// Matched characters are highlighted: the Match style wraps them in the raw frame.
	raw := h.r.View().Content
	if !strings.Contains(raw, h.a.st.Match.Render("h")) {
		t.Errorf("the matched letters are not highlighted:\n%q", raw)
	}
	// The filter matches title and system too.
	h.key("esc")
	h.typeText("communigate pro")
	if len(hp.matches) != 1 || hp.matches[0].Str != runbookLine(h.a.catalog[0]) {
		t.Errorf("filter on the system: %d matches", len(hp.matches))
	}
	h.key("esc")
	if hp.filter != "" {
		t.Errorf("esc leaves the filter %q", hp.filter)
	}
	// ? shows every key even while letters filter.
	h.key("?")
	if !h.r.fullHelp || !strings.Contains(h.view(), "ctrl+r probe again") {
		t.Errorf("? does not show the full help:\n%s", h.view())
	}
	h.key("?")

	// tab moves to the hosts: arrows move, the host's warning shows, q quits.
	h.key("tab")
	if !hp.focusHosts || h.top().Capture() != captureNone {
		t.Fatal("tab does not move to the host list")
	}
	h.key("down", "down")
	if hp.hostCur != 2 || !strings.Contains(h.view(), "⚠ trk: RegistryHubHost") {
		t.Errorf("host cursor %d; the selected host's warning:\n%s", hp.hostCur, h.view())
	}
	h.key("G")
	if hp.hostCur != 5 {
		t.Errorf("G: cursor %d, want the last host", hp.hostCur)
	}
	h.key("q") // with the host list focused and no run: quits
	h.waitQuit()
}

func TestHomeScrollsManyHosts(t *testing.T) {
	t.Parallel()
	h := syntheticHome(t, 500)
	hp := h.top().(*home)
	h.key("tab", "pgdown", "pgdown")
	if hp.hostCur == 0 || hp.hostTop == 0 {
		t.Fatalf("pgdn does not move through 500 hosts: cursor %d top %d", hp.hostCur, hp.hostTop)
	}
	v := h.view()
	if !strings.Contains(v, "> ") || !strings.Contains(v, "of 500 hosts") {
		t.Errorf("the host window does not show where it is:\n%s", v)
	}
	h.checkFrame(80, 24)
	h.key("end")
	if !strings.Contains(h.view(), hostName(499)) {
		t.Errorf("end does not show the last host:\n%s", h.view())
	}
}

func TestHomeProbesAgainInTheBackground(t *testing.T) {
	l := serveLab(t)
	inv, err := inventory.Load(l.Inventory())
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Config{Inventory: inv, ProbeEvery: 50 * time.Millisecond})
	h.waitView(wait, "probed at")
	first := h.a.probeGen
	h.pump("a second background probe", wait, func() bool { return h.a.probeGen > first && !h.a.probing })
	if f := h.a.facts["hub"]; f == nil || !f.Reachable || !f.Has("hub") {
		t.Errorf("facts of hub after the probes: %+v", f)
	}
	// ctrl+r probes at once.
	gen := h.a.probeGen
	h.key("ctrl+r")
	if h.a.probeGen != gen+1 || !h.a.probing || !strings.Contains(h.view(), "probing") {
		t.Errorf("ctrl+r does not start a probe:\n%s", h.view())
	}
}

// openMoveHub opens the setup of maestro/move-hub from home.
func openMoveHub(t *testing.T, h *harness) *setup {
	t.Helper()
	h.typeText("hub")
	h.key("enter")
	h.pump("the setup page", wait, func() bool { _, ok := h.top().(*setup); return ok })
	return h.top().(*setup)
}

// cursorTo moves the host list's cursor to host name, by keys.
func cursorTo(t *testing.T, h *harness, s *setup, name string) {
	t.Helper()
	for range len(s.cands) {
		if s.cands[s.hostCur].h.Name == name {
			return
		}
		h.key("down")
	}
	for range len(s.cands) {
		if s.cands[s.hostCur].h.Name == name {
			return
		}
		h.key("up")
	}
	t.Fatalf("host %s is not in the list:\n%s", name, h.view())
}

// bindRole binds role to host name through the host list, by keys.
func bindRole(t *testing.T, h *harness, s *setup, role, name string) {
	t.Helper()
	for s.roleCur > 0 {
		h.key("up")
	}
	for s.rb.Roles[s.roleCur].ID != role {
		h.key("down")
	}
	h.key("enter")
	cursorTo(t, h, s, name)
	h.key("enter")
	if got := s.bound[role]; got == nil || got.Name != name {
		t.Fatalf("%s is bound to %v, want %s:\n%s", role, got, name, h.view())
	}
}

// bindMoveHub binds the roles of move-hub that cutover leaves to the operator: new to
// name, lui and trk to their hosts (old is bound by itself: only hub has the Hub, and
// no other role could want it).
func bindMoveHub(t *testing.T, h *harness, s *setup, name string) {
	t.Helper()
	bindRole(t, h, s, "new", name)
	bindRole(t, h, s, "lui", "lui")
	bindRole(t, h, s, "trk", "trk")
}

func TestSetupOffersFittingHostsAndGreysTheOthers(t *testing.T) {
	h, _ := labHarness(t)
	s := openMoveHub(t, h)
	// Only hub has the Hub, and no other role could want it: old is bound by cutover and
	// says so. lui and trk have one fitting host each, but new could be either of them:
	// they are the operator's choice, like new.
	if s.bound["old"] == nil || s.bound["old"].Name != "hub" || !s.auto["old"] {
		t.Errorf("old is bound to %v (auto %v), want hub, by cutover", s.bound["old"], s.auto["old"])
	}
	for _, role := range []string{"new", "lui", "trk"} {
		if s.bound[role] != nil {
			t.Errorf("role %s was bound to %s by itself", role, s.bound[role].Name)
		}
	}
	if s.rb.Roles[s.roleCur].ID != "new" {
		t.Fatalf("cursor on %s: want the first unbound role, new", s.rb.Roles[s.roleCur].ID)
	}
	if v := h.view(); !strings.Contains(v, "hub ✓ auto") {
		t.Errorf("the automatic binding is not marked:\n%s", v)
	}
	// n refuses while a role has no host.
	h.key("n")
	if s.stage != stageRoles || !strings.Contains(h.view(), "bind every role first: new has no host") {
		t.Fatalf("n with new unbound:\n%s", h.view())
	}
	h.key("enter")
	if !s.choosing {
		t.Fatal("enter does not open the host list")
	}
	// hub is greyed (it has the Hub), with the reason; the fitting hosts come first.
	last := s.cands[len(s.cands)-1]
	if last.h.Name != "hub" || len(last.why) == 0 || !strings.Contains(last.why[0], "must not be installed") {
		t.Fatalf("hub for new: %+v", last)
	}
	cursorTo(t, h, s, "hub")
	v := h.view()
	if !strings.Contains(v, "✗ hub") || !strings.Contains(v, "hub cannot be new: the Hub must not be installed on the new server yet") {
		t.Errorf("the greyed host and its full reason:\n%s", v)
	}
	h.key("enter") // refused
	if s.bound["new"] != nil || !strings.Contains(h.view(), "hub cannot be new") {
		t.Fatalf("an unfit host was bound, or the refusal is not said:\n%s", h.view())
	}
	cursorTo(t, h, s, "spare")
	h.key("enter")
	if s.bound["new"] == nil || s.bound["new"].Name != "spare" || s.choosing {
		t.Fatalf("binding spare: %v", s.bound["new"])
	}
	bindRole(t, h, s, "lui", "lui")
	bindRole(t, h, s, "trk", "trk")
	h.key("n")
	if s.stage != stageParams || s.form == nil || h.top().Capture() != captureText {
		t.Fatalf("n with every role bound: stage %v", s.stage)
	}
	// The form is filled from the runbook's defaults, computed from the facts.
	if v := *s.values["hub_host"]; v != "spare.maestro.lab" {
		t.Errorf("hub_host default %q, want the new host's name", v)
	}
	// esc goes back to the roles, keeping them.
	h.key("esc")
	if s.stage != stageRoles || s.bound["new"].Name != "spare" {
		t.Fatal("esc in the form does not go back to the roles with the bindings kept")
	}
}

func TestSetupFormValidatesAndScrolls(t *testing.T) {
	h, _ := labHarness(t)
	s := openMoveHub(t, h)
	bindMoveHub(t, h, s, "spare")
	h.key("n")
	// The form has a field per parameter, in the runbook's order; tab moves one on.
	hubHost := slices.IndexFunc(s.rb.Params, func(p *steps.Param) bool { return p.ID == "hub_host" })
	if hubHost < 0 {
		t.Fatal("move-hub has no hub_host parameter")
	}
	// q and ? are letters in a form; ctrl+c is the way out.
	for range hubHost {
		h.key("tab") // to the host name field
	}
	h.key("ctrl+u") // clear it? (not bound in huh inputs: harmless)
	for range 30 {
		h.key("backspace")
	}
	h.typeText("not a host?q")
	if h.quit || h.r.fullHelp {
		t.Fatal("q or ? in a text field acted as a global key")
	}
	h.key("enter") // invalid: stays on the field, with the error
	if !strings.Contains(h.view(), "not a host?q") {
		t.Fatalf("the typed value is not shown:\n%s", h.view())
	}
	h.settle()
	if s.stage != stageParams {
		t.Fatal("an invalid host name was accepted")
	}
	for range 12 {
		h.key("backspace")
	}
	h.typeText("spare.maestro.lab")
	// The fields scroll within the screen, the help bar stays, down to the last field.
	for range len(s.rb.Params) - 1 - hubHost {
		h.key("tab")
		h.checkFrame(80, 24)
		lines := strings.Split(h.view(), "\n")
		if !strings.Contains(lines[len(lines)-1], "quit") {
			t.Fatalf("the help bar was pushed off:\n%s", h.view())
		}
	}
	h.key("enter") // on the last field: the plan review
	h.pump("the plan review", wait, func() bool { _, ok := h.top().(*planPage); return ok })
	pl := h.top().(*planPage)
	if pl.in.Params["hub_host"] != "spare.maestro.lab" || pl.in.Roles["new"] != "spare" {
		t.Errorf("plan inputs %+v", pl.in)
	}
}

// presetRunbook is a small runbook with presets, for the preset stage.
const presetRunbook = `id: test/presets
title: A runbook with presets
system: Test
source: a test
roles:
  - id: box
    title: Any host
params:
  - id: name
    title: A name
    type: string
    default: plain
  - id: port
    title: A port
    type: port
    default: "8080"
presets:
  - id: example-1
    title: The first worked example
    params: {name: example, port: "9090"}
steps:
  - id: look
    title: Look at the box
    manual: true
    text: Look.
`

// oneHostSetup opens the setup of the runbook in rbYAML on one synthetic host, probed,
// with run file rf (nil for none), as `cutover run` does.
func oneHostSetup(t *testing.T, rbYAML string, rf *steps.RunFile) (*harness, *setup) {
	t.Helper()
	rb, err := steps.Parse("test.yaml", []byte(rbYAML))
	if err != nil {
		t.Fatal(err)
	}
	inv := syntheticInventory(1)
	h := newHarness(t, Config{Inventory: inv, Catalog: []*steps.Runbook{rb}, Runbook: rb.ID, RunFile: rf, Dialer: noDialer})
	h.giveFacts(syntheticFacts(inv))
	s, ok := h.top().(*setup)
	if !ok {
		t.Fatalf("Config.Runbook opens %T, want its setup", h.top())
	}
	return h, s
}

func TestSetupPresetsFillTheForm(t *testing.T) {
	t.Parallel()
	h, s := oneHostSetup(t, presetRunbook, nil)
	if s.bound["box"] == nil {
		t.Fatal("the only host was not bound to the only role")
	}
	h.key("n")
	if s.stage != stagePreset || !strings.Contains(h.view(), "example-1: The first worked example") {
		t.Fatalf("no preset choice:\n%s", h.view())
	}
	h.key("down", "enter")
	if s.preset != "example-1" || *s.values["name"] != "example" || *s.values["port"] != "9090" {
		t.Errorf("preset not applied: preset %q name %q port %q", s.preset, *s.values["name"], *s.values["port"])
	}
}

func TestSetupSavesARunFile(t *testing.T) {
	h, l := labHarness(t)
	s := openMoveHub(t, h)
	bindMoveHub(t, h, s, "spare")
	h.key("ctrl+s")
	if !s.saving || h.top().Capture() != captureText {
		t.Fatal("ctrl+s does not ask where to save")
	}
	path := filepath.Join(t.TempDir(), "runs", "mine.yaml")
	s.savePath.SetValue("")
	h.typeText(path)
	h.key("enter")
	h.waitView(wait, "saved "+path)
	rf, err := steps.LoadRunFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if rf.Runbook != "maestro/move-hub" || rf.Roles["new"] != "spare" || rf.Roles["old"] != "hub" {
		t.Errorf("run file: %+v", rf)
	}
	if abs, _ := filepath.Abs(l.Inventory()); rf.Inventory != abs {
		t.Errorf("run file inventory %q, want %q", rf.Inventory, abs)
	}
}

func TestPlanReviewRunsNothing(t *testing.T) {
	h, _ := labHarness(t)
	toPlan(t, h)
	v := h.view()
	for _, s := range []string{"Nothing has run", "1. Keep HTTPS away from the Tracker's server", "on hub, lui, trk",
		"The Hub is in its folder on the old server: hub:hub/hub.ini"} {
		if !strings.Contains(v, s) {
			t.Errorf("plan review lacks %q:\n%s", s, v)
		}
	}
	// Scrolling shows the rest; no key but s starts anything.
	h.key("pgdown")
	v = h.view()
	for _, s := range []string{"2. Copy the Hub's settings and registries to the new server ahead of the outage", "on hub, spare",
		"3. Shut down LISTSERV Maestro on every server", "on hub, lui, spare, trk"} {
		if !strings.Contains(v, s) {
			t.Errorf("plan review, a page down, lacks %q:\n%s", s, v)
		}
	}
	for _, k := range []string{"pgdown", "down", "up", "g", "G", "enter", "y", "c"} {
		h.key(k)
	}
	for _, s := range []string{"13. Start Maestro and read the startup logs", "14. Start every LISTSERV instance again"} {
		if !strings.Contains(h.view(), s) {
			t.Errorf("the end of the plan is out of reach (%q):\n%s", s, h.view())
		}
	}
	if h.a.active != nil {
		t.Fatal("a run was opened before s")
	}
	if m, _ := filepath.Glob(filepath.Join(h.a.cfg.JournalDir, "*")); len(m) > 0 {
		t.Fatalf("journals exist before the run started: %v", m)
	}
	h.key("esc")
	if _, ok := h.top().(*setup); !ok {
		t.Fatalf("esc from the plan goes to %T, want the setup", h.top())
	}
}

// toPlan goes from home to the plan review of move-hub on the lab (new = spare).
func toPlan(t *testing.T, h *harness) *planPage {
	t.Helper()
	s := openMoveHub(t, h)
	bindMoveHub(t, h, s, "spare")
	h.key("n")
	for range len(s.rb.Params) - 1 {
		h.key("tab")
	}
	h.key("enter")
	h.pump("the plan review", wait, func() bool { _, ok := h.top().(*planPage); return ok })
	return h.top().(*planPage)
}

func TestResizeReflowsEveryPage(t *testing.T) {
	h, _ := labHarness(t)
	sizes := [][2]int{{80, 24}, {120, 40}, {60, 20}, {200, 60}, {80, 24}}
	check := func(name string) {
		t.Helper()
		for _, sz := range sizes {
			h.resize(sz[0], sz[1])
			h.checkFrame(sz[0], sz[1])
			if t.Failed() {
				t.Fatalf("page %s at %dx%d", name, sz[0], sz[1])
			}
		}
	}
	check("home")
	s := openMoveHub(t, h)
	check("setup")
	h.key("enter")
	check("setup host list")
	h.key("esc")
	bindMoveHub(t, h, s, "spare")
	h.key("n")
	check("form")
	h.key("esc")
	toPlanFromSetup(t, h)
	check("plan")
	h.key("s")
	h.waitView(wait, "waiting for you")
	check("step")
	h.key("e")
	check("evidence")
	h.key("esc", "q")
	check("quit question")
	// Too small: says so instead of drawing a broken screen.
	h.resize(30, 8)
	if !strings.Contains(h.view(), "40x10") {
		t.Errorf("a tiny terminal:\n%s", h.view())
	}
}

func toPlanFromSetup(t *testing.T, h *harness) {
	t.Helper()
	s := h.top().(*setup)
	h.key("n")
	for range len(s.rb.Params) - 1 {
		h.key("tab")
	}
	h.key("enter")
	h.pump("the plan review", wait, func() bool { _, ok := h.top().(*planPage); return ok })
}

// Keys in the help bar: every page lists the keys that act on it.
func TestHelpBarListsTheKeysThatWork(t *testing.T) {
	t.Parallel()
	h := syntheticHome(t, 4)
	want := func(keys ...string) {
		t.Helper()
		lines := strings.Split(h.view(), "\n")
		bar := strings.Join(lines[len(lines)-3:], " ")
		for _, k := range keys {
			if !strings.Contains(bar, k) {
				t.Errorf("the help bar lacks %q:\n%s", k, bar)
			}
		}
	}
	want("type filter", "↑ up", "↓ down", "enter open runbook", "esc clear filter", "tab to hosts", "? all keys", "ctrl+c quit")
	h.key("tab")
	want("↑/k up", "↓/j down", "tab to runbooks", "ctrl+r probe again", "q quit")
	h.key("?")
	want("pgup page up", "g top", "G bottom", "? fewer keys")
}

// TestKeysPressedTwiceOpenOnePage: keys that arrive together (key repeat, a nervous
// operator) act once. Two enters on home open one setup; two s on the plan review start
// one run, with one journal.
func TestKeysPressedTwiceOpenOnePage(t *testing.T) {
	h, _ := labHarness(t)
	h.typeText("hub")
	h.burst("enter", "enter")
	h.pump("the setup page", wait, func() bool { _, ok := h.top().(*setup); return ok })
	h.settle()
	if len(h.r.stack) != 2 {
		t.Fatalf("two enters opened %d pages", len(h.r.stack)-1)
	}
	s := h.top().(*setup)
	bindMoveHub(t, h, s, "spare")
	toPlanFromSetup(t, h)
	h.burst("s", "s")
	h.waitView(wait, "Step 5 of 14", "waiting for you")
	h.settle()
	if m, _ := filepath.Glob(filepath.Join(h.a.cfg.JournalDir, "*.jsonl")); len(m) != 1 {
		t.Fatalf("two s started %d runs: %v", len(m), m)
	}
}

// TestQuitWhileTheRunOpens: s on the plan review opens the run (probing its hosts,
// which here never answer); quitting then asks, stops the opening, and leaves no run.
func TestQuitWhileTheRunOpens(t *testing.T) {
	t.Parallel()
	inv := syntheticInventory(4)
	hang := probe.DialerFunc(func(ctx context.Context, _ *probe.Host) (probe.Transport, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	h := newHarness(t, Config{Inventory: inv, Dialer: hang})
	h.giveFacts(syntheticFacts(inv))
	s := openMoveHub(t, h)
	bindMoveHub(t, h, s, "spare")
	toPlanFromSetup(t, h)
	h.key("s")
	h.waitView(wait, "probing the role hosts")
	if !h.a.running() || !h.a.opening() {
		t.Fatal("the opening run does not count as running")
	}
	h.key("q")
	if !h.r.asking || !strings.Contains(h.view(), "being opened") {
		t.Fatalf("q while the run opens:\n%s", h.view())
	}
	h.key("y")
	h.pump("the quit", wait, func() bool { return h.quit })
	if m, _ := filepath.Glob(filepath.Join(h.a.cfg.JournalDir, "*.jsonl")); len(m) != 0 {
		t.Fatalf("quitting while opening left journals: %v", m)
	}
}

// TestWrapNeverBreaksAWordAtAHyphen: text is folded at spaces only, so a flag, a
// command name or a path with dashes is never split over two lines ("-" at the end of
// one, "i FILE" on the next), in the wizard's own text and in a step's Markdown.
func TestWrapNeverBreaksAWordAtAHyphen(t *testing.T) {
	endsBroken := func(s string) string {
		for _, l := range strings.Split(stripANSI(s), "\n") {
			if l = strings.TrimRight(l, " "); strings.HasSuffix(l, "-") && strings.Trim(l, "- ") != "" {
				return l
			}
		}
		return ""
	}
	for w := 12; w <= 80; w++ {
		s := wrap("cutover found no inventory (it looked for /home/a-long-user-name/.config/cutover/inventory.yaml). Give one with -i FILE.", w)
		if l := endsBroken(s); l != "" {
			t.Fatalf("at width %d a line ends in a hyphen: %q\n%s", w, l, s)
		}
		if strings.Contains(s, keptHyphen) || !strings.Contains(s, "-i") || !strings.Contains(s, "a-long-user-name") {
			t.Fatalf("at width %d the hyphens did not come back:\n%s", w, s)
		}
	}
	var c mdCache
	md := "Run `maestro-setup install --components hub` on the spare-server-01 host.\n\n- a list item with lab-power\n\n---\n"
	for w := 24; w <= 80; w += 4 {
		out := c.render("x", md, w, true)
		if l := endsBroken(out); l != "" {
			t.Fatalf("at width %d a Markdown line ends in a hyphen: %q\n%s", w, l, out)
		}
		if plain := stripANSI(out); strings.Contains(out, keptHyphen) || !strings.Contains(plain, "• a list item") || !strings.Contains(plain, "lab-power") {
			t.Fatalf("at width %d the Markdown lost its hyphens or its list:\n%s", w, stripANSI(out))
		}
	}
}
