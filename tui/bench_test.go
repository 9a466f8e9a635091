package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/runbooks"
	"github.com/cutover/cutover/steps"
)

// The cost of one frame: Update for one keystroke plus the View the program draws
// after it. The budget is 16 ms (60 frames a second); see the ms/frame metric.

func frameMetric(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/frame")
}

// BenchmarkHomeKeystroke500Hosts types into the runbook filter and moves the host
// cursor on a home screen of 500 probed hosts.
func BenchmarkHomeKeystroke500Hosts(b *testing.B) {
	inv := syntheticInventory(500)
	cfg := Config{Inventory: inv, Catalog: catalog(b), Dialer: noDialer, ProbeEvery: time.Hour, JournalDir: b.TempDir()}
	for _, bc := range []struct {
		name string
		keys []tea.KeyPressMsg
		prep []tea.KeyPressMsg
	}{
		{"filter", []tea.KeyPressMsg{keyMsg("h"), keyMsg("backspace")}, nil},
		{"host-cursor", []tea.KeyPressMsg{keyMsg("down"), keyMsg("pgdown"), keyMsg("up"), keyMsg("end"), keyMsg("home")}, []tea.KeyPressMsg{keyMsg("tab")}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			a := newApp(cfg, true)
			r := newRoot(a, newHome(a))
			a.probeGen++
			r.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
			r.Update(factsMsg{facts: syntheticFacts(inv), gen: a.probeGen})
			for _, k := range bc.prep {
				r.Update(k)
			}
			r.View()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				r.Update(bc.keys[i%len(bc.keys)])
				_ = r.View()
			}
			frameMetric(b)
		})
	}
}

// BenchmarkStepKeystroke500Hosts10kOutput works the step screen, with the step list
// above the step, on an inventory of 500 probed hosts, while the step's command has
// printed 10,000 lines: it scrolls the output, then also appends one more line per
// frame (a progress message, as a running command sends them), and moves in the step
// list.
func BenchmarkStepKeystroke500Hosts10kOutput(b *testing.B) {
	scroll := []tea.KeyPressMsg{keyMsg("pgup"), keyMsg("pgup"), keyMsg("pgdown"), keyMsg("up"), keyMsg("g"), keyMsg("G")}
	list := []tea.KeyPressMsg{keyMsg("tab"), keyMsg("down"), keyMsg("down"), keyMsg("up"), keyMsg("pgup"), keyMsg("esc")}
	for _, bc := range []struct {
		name   string
		lines  int
		keys   []tea.KeyPressMsg
		stream bool
	}{
		{"scroll", 10_000, scroll, false}, {"scroll+stream", 10_000, scroll, true}, {"step-list", 10_000, list, false},
		// The same screen with 10 lines of output: what the 10,000 lines cost is the
		// difference.
		{"scroll-10-lines", 10, scroll, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r, rp := benchRunPage(b, bc.lines)
			keys := bc.keys
			line := steps.Progress{Step: "install-fresh", Host: "spare", Line: "installing component files... 42%"}
			r.View()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				r.Update(keys[i%len(keys)])
				if bc.stream {
					rp.progress(line)
				}
				_ = r.View()
			}
			frameMetric(b)
		})
	}
}

// benchRunPage is the step screen of move-hub at its first manual step, with n lines of
// output, on an inventory of 500 probed hosts, built from a plan and events without
// any host.
func benchRunPage(b testing.TB, n int) (*root, *runPage) {
	b.Helper()
	rb, err := runbooks.Get("maestro/move-hub")
	if err != nil {
		b.Fatal(err)
	}
	inv := syntheticInventory(500)
	facts := map[string]*probe.Facts{}
	all := syntheticFacts(inv)
	for _, f := range all {
		f.OSName = "Debian GNU/Linux 12 (bookworm)"
		facts[f.Name] = f
	}
	in := steps.Inputs{Roles: map[string]string{"old": "hub", "new": "spare", "lui": "lui", "trk": "trk"},
		Params: map[string]string{"database": "internal", "hosted_lists": "false", "hub_host": "spare.example.org"}}
	plan, err := steps.Prepare(rb, inv.Host, in, facts)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	evs := []*steps.Event{
		{Seq: 1, Time: t0, Type: steps.EvSession, Session: &steps.Session{Runbook: rb.ID, Roles: in.Roles, Params: in.Params}},
		{Seq: 2, Time: t0, Type: steps.EvPlan, Plan: plan.Steps},
		{Seq: 3, Time: t0, Type: steps.EvStepEnd, Step: "check-https-apart", Status: string(steps.StepDone)},
		{Seq: 4, Time: t0, Type: steps.EvStepEnd, Step: "preseed-hub-data", Status: string(steps.StepDone)},
		{Seq: 5, Time: t0, Type: steps.EvStepStart, Step: "stop-maestro"},
		{Seq: 6, Time: t0, Type: steps.EvStepEnd, Step: "stop-maestro", Status: string(steps.StepDone)},
		{Seq: 7, Time: t0, Type: steps.EvStepEnd, Step: "stop-listserv", Status: string(steps.StepSkipped)},
		{Seq: 8, Time: t0, Type: steps.EvStepStart, Step: "install-fresh"},
		{Seq: 9, Time: t0, Type: steps.EvCheck, Step: "install-fresh", Check: &steps.CheckResult{Phase: "pre", Index: 0, Status: steps.Pass, Summary: "absent"}},
	}
	cfg := Config{Inventory: inv, Catalog: []*steps.Runbook{rb}, Dialer: noDialer, ProbeEvery: time.Hour, JournalDir: b.TempDir()}
	a := newApp(cfg, true)
	a.setFacts(all)
	rp := newRunPage(a, runSource{rb: rb, in: in})
	rp.d, rp.plan, rp.state = newDriver(), plan, steps.NewRunState(evs)
	a.active = rp.d
	rp.prompt = &steps.Prompt{Step: "install-fresh", Kind: steps.AskConfirm, Manual: true,
		Choices: []steps.DecisionKind{steps.Confirm, steps.Abort}}
	for i := range n {
		rp.progress(steps.Progress{Step: "install-fresh", Host: "spare", Line: fmt.Sprintf("output line %d of the installer", i+1)})
	}
	r := newRoot(a, rp)
	r.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	return r, rp
}

// TestBenchRunPageShowsTheOutput keeps the benchmark honest: its screen is the step
// screen with the step list and the output in view, on 500 probed hosts, and its
// step-list keys move in the list.
func TestBenchRunPageShowsTheOutput(t *testing.T) {
	t.Parallel()
	r, rp := benchRunPage(t, 10_000)
	if len(rp.a.inv.Hosts) != 500 || len(rp.a.facts) != 500 {
		t.Errorf("the bench has %d hosts and facts of %d", len(rp.a.inv.Hosts), len(rp.a.facts))
	}
	v := stripANSI(r.View().Content)
	for _, s := range []string{"✓  3 Shut down LISTSERV Maestro", "skipped", "Step 5 of 14", "5 Install the Hub on the new server", "output · lines", "of 10000",
		"spare: output line 10000 of the installer"} {
		if !strings.Contains(v, s) {
			t.Errorf("bench screen lacks %q:\n%s", s, v)
		}
	}
	r.Update(keyMsg("tab"))
	r.Update(keyMsg("down"))
	if v := stripANSI(r.View().Content); !rp.listFocus || rp.listCur != 5 || !strings.Contains(v, "enter or e shows the step's evidence") {
		t.Errorf("tab and down: list focus %v at %d:\n%s", rp.listFocus, rp.listCur, v)
	}
	r.Update(keyMsg("esc"))
	if rp.listFocus {
		t.Error("esc leaves the focus in the step list")
	}
}

// TestRunEndClosesTheEvidencePage: when the run ends while the evidence page is open,
// the summary takes the place of both.
func TestRunEndClosesTheEvidencePage(t *testing.T) {
	r, rp := benchRunPage(t, 10)
	_, cmd := r.Update(keyMsg("e"))
	r.Update(cmd())
	if _, ok := r.top().(*detailPage); !ok || len(r.stack) != 2 {
		t.Fatalf("e opens %T (%d pages)", r.top(), len(r.stack))
	}
	r.Update(rp.end()())
	if _, ok := r.top().(*summary); !ok || len(r.stack) != 1 {
		t.Fatalf("after the end: %T on top of %d pages, want the summary alone", r.top(), len(r.stack))
	}
}

// TestWaitingGateShowsACountdown: a gate that waits shows the time left, counting
// down between polls, its attempt and its last result.
func TestWaitingGateShowsACountdown(t *testing.T) {
	r, rp := benchRunPage(t, 0)
	now := time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC)
	rp.a.now = func() time.Time { return now }
	rp.prompt, rp.busy = nil, true
	rp.progress(steps.Progress{Step: "install-fresh", Phase: "gate", Gate: 0, Attempt: 2, Remaining: 2 * time.Minute,
		Last: &steps.CheckResult{Status: steps.Fail, Summary: "spare:hub/hub.ini is missing"}})
	v := stripANSI(r.View().Content)
	if !strings.Contains(v, "waiting: 2m0s left, attempt 2: spare:hub/hub.ini is missing") || !strings.Contains(v, "working") {
		t.Fatalf("waiting gate:\n%s", v)
	}
	now = now.Add(5 * time.Second)
	if v := stripANSI(r.View().Content); !strings.Contains(v, "waiting: 1m55s left") {
		t.Fatalf("the countdown does not run between polls:\n%s", v)
	}
}

// TestStepListShowsEveryStepAndOpensAny: the step list above the step shows the steps
// around the current one with their states; tab gives it the keys, and any step, a
// finished one too, opens with its evidence.
func TestStepListShowsEveryStepAndOpensAny(t *testing.T) {
	r, rp := benchRunPage(t, 0)
	v := stripANSI(r.View().Content)
	for _, want := range []string{"✓  3 Shut down LISTSERV Maestro on every server", "done",
		"-  4 Shut down every LISTSERV instance", "skipped", "●  5 Install the Hub", "● waiting for you",
		"·  6 Add the Hub", "── Step 5 of 14 ", "tab step list"} {
		if !strings.Contains(v, want) {
			t.Errorf("the step screen lacks %q:\n%s", want, v)
		}
	}
	press := func(names ...string) {
		for _, n := range names {
			if _, cmd := r.Update(keyMsg(n)); cmd != nil {
				r.Update(cmd())
			}
		}
	}
	press("tab")
	if !rp.listFocus || rp.listCur != 4 || rp.Capture() != captureNone {
		t.Fatalf("tab: focus %v, cursor %d", rp.listFocus, rp.listCur)
	}
	press("up", "up", "up", "up", "up") // stops at the first step
	if rp.listCur != 0 {
		t.Fatalf("cursor %d after five ups from step 5", rp.listCur)
	}
	press("down", "down")
	v = stripANSI(r.View().Content)
	if !strings.Contains(v, "enter or e shows the step's evidence") || !strings.Contains(v, "enter/e the step's evidence") {
		t.Errorf("the focused list does not say what it does:\n%s", v)
	}
	press("enter")
	d, ok := r.top().(*detailPage)
	if !ok || d.id != "stop-maestro" {
		t.Fatalf("enter on step 3 opens %T (%+v)", r.top(), d)
	}
	if v := stripANSI(r.View().Content); !strings.Contains(v, "Shut down LISTSERV Maestro on every server (stop-maestro): done") {
		t.Errorf("the first step's evidence page:\n%s", v)
	}
	press("esc", "esc")
	if r.top() != rp || rp.listFocus {
		t.Fatalf("esc twice: top %T, focus %v: want the step with its keys", r.top(), rp.listFocus)
	}
	// With the keys back, the step's own answers work again: c opens the command field.
	press("c")
	if rp.inputFor != inputCommand {
		t.Errorf("c after leaving the list: input %v", rp.inputFor)
	}
}

// TestManyChecksLeaveTheQuestionOnScreen: when a step's checks do not fit, the passed
// and unchecked ones are counted on one line, and the question, with its keys, stays.
func TestManyChecksLeaveTheQuestionOnScreen(t *testing.T) {
	r, _ := benchRunPage(t, 0)
	r.Update(tea.WindowSizeMsg{Width: 80, Height: 15})
	v := stripANSI(r.View().Content)
	for _, want := range []string{"more checks (", "e shows them all", "Manual step: do it as described", "enter done: check it"} {
		if !strings.Contains(v, want) {
			t.Errorf("a short screen lacks %q:\n%s", want, v)
		}
	}
	if lines := strings.Split(r.View().Content, "\n"); len(lines) != 15 {
		t.Errorf("the frame has %d lines, want 15", len(lines))
	}
}
