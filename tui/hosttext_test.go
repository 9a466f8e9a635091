package tui

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/steps"
)

// Text a host sends, a journal holds or an error carries never acts on the operator's
// terminal: every page is fed payloads that would clear the screen, add a link, write
// the clipboard, move the cursor with C1 controls, reverse the text and overwrite the
// line, and its view must hold none of them raw, only the wizard's own styling, with
// the payload shown as visible escapes.

// evil is what a hostile host could send: ED (clear the screen), an OSC 8 link, an OSC
// 52 clipboard write, the C1 controls NEL and CSI, a right-to-left override, and a
// carriage return that would overwrite the line with a forged one.
const evil = "\x1b[2J\x1b]8;;https://evil.example/\x07ln\x1b]8;;\x07\x1b]52;c;ZXZpbA==\x07\u0085\u009b31m\u202e\rOK"

var sgr = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// rawControls lists what in s is neither text nor the wizard's styling (SGR): control
// characters other than the line break, C1 controls, bytes that are not UTF-8, and
// the characters that reorder or break lines as shown.
func rawControls(s string) []string {
	var found []string
	s = sgr.ReplaceAllString(s, "")
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1,
			r < 0x20 && r != '\n', r == 0x7f, r >= 0x80 && r <= 0x9f,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c,
			r == 0x2028, r == 0x2029:
			lo, hi := max(i-12, 0), min(i+size+12, len(s))
			found = append(found, strings.ToValidUTF8(s[lo:hi], "?"))
		}
		i += size
	}
	return found
}

// checkShown asserts that view holds no raw control and shows the payload as visible
// escapes, so it was sanitised where it was drawn, not merely cut off.
func checkShown(t *testing.T, where, view string) {
	t.Helper()
	if raw := rawControls(view); len(raw) > 0 {
		t.Errorf("%s: raw control characters reach the screen, around %q", where, raw)
	}
	if !strings.Contains(ansiStripSGR(view), `\x1b[2J`) {
		t.Errorf("%s: the payload is not shown as visible escapes:\n%s", where, view)
	}
}

func ansiStripSGR(s string) string { return sgr.ReplaceAllString(s, "") }

// frameOf draws p as the wizard does, in the root's frame at 80x24, and checks the
// page's own view (sanitised where drawn) and the frame (checked as a whole).
func frameOf(t *testing.T, a *app, p page, where string) {
	t.Helper()
	checkShown(t, where, p.View(80, 22))
	r := newRoot(a, p)
	r.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	if raw := rawControls(r.View().Content); len(raw) > 0 {
		t.Errorf("%s: raw control characters in the frame, around %q", where, raw)
	}
}

func TestScreenSafeKeepsStylingAndShowsTheRest(t *testing.T) {
	a := newApp(Config{}, true)
	styled := a.st.Pass.Render("✓ passed") + " " + a.st.Title.Render("heading")
	if got := screenSafe(styled + "\nplain"); got != styled+"\nplain" {
		t.Errorf("styling changed: %q", got)
	}
	link := "see \x1b]8;id=1;https://example.org\x07the manual\x1b]8;;\x07 (https://example.org)"
	if got := screenSafe(link); got != "see the manual (https://example.org)" {
		t.Errorf("a Markdown link: %q", got)
	}
	for _, payload := range []string{evil, "\x9b2J", "\u009b2J", "a\rb", "\x1b]52;c;ZXZpbA==\x1b\\", "\x1b]8;;x\x1b[2J\x07",
		"\u202eevil", "\x1bP+q\x1b\\", "\x7f", "\x1b[2J" + a.st.Fail.Render("x")} {
		got := screenSafe(styled + payload + "\n" + payload)
		if raw := rawControls(got); len(raw) > 0 {
			t.Errorf("screenSafe(%q) leaves %q", payload, raw)
		}
		if !strings.HasPrefix(got, styled) {
			t.Errorf("screenSafe(%q) lost the styling: %q", payload, got)
		}
	}
}

// TestHostTextOnHomeIsShownSafely: host names, what a host says it is called, its
// components, its warnings and the error of one that does not answer.
func TestHostTextOnHomeIsShownSafely(t *testing.T) {
	inv := &inventory.Inventory{File: "inventory.yaml"}
	var facts []*probe.Facts
	for i, name := range []string{"a" + evil, "b" + evil} {
		inv.Hosts = append(inv.Hosts, &probe.Host{Name: name, Address: "192.0.2.1", Port: 22})
		f := &probe.Facts{Name: name, Reachable: i == 0, Hostname: evil, Components: []string{evil}, Warnings: []string{evil}}
		if i == 1 {
			f.Error = evil
		}
		facts = append(facts, f)
	}
	h := newHarness(t, Config{Inventory: inv, Dialer: noDialer})
	h.giveFacts(facts)
	frameOf(t, h.a, h.top(), "home")
	h.key("tab") // the host list: the selected host's warnings
	frameOf(t, h.a, h.top(), "home, host list")
	hp := h.top().(*home)
	hp.filter = evil
	hp.refilter()
	checkShown(t, "home, a filter that matches nothing", hp.View(80, 22))
}

// TestHostTextInTheSetupIsShownSafely: the role list, a role's candidate hosts (name,
// host name, a down host's error, why one cannot be chosen), the notice of a refused
// choice, the account of a host, and the problems the plan reports.
func TestHostTextInTheSetupIsShownSafely(t *testing.T) {
	t.Parallel()
	rb, err := steps.Parse("binding.yaml", []byte(bindingRunbook))
	if err != nil {
		t.Fatal(err)
	}
	inv := &inventory.Inventory{File: "inventory.yaml"}
	comps := []string{"down", "app", "db"}
	var facts []*probe.Facts
	for i, c := range comps {
		name := string(rune('a'+i)) + evil
		inv.Hosts = append(inv.Hosts, &probe.Host{Name: name, Address: "192.0.2.1", Port: 22})
		f := &probe.Facts{Name: name, Reachable: c != "down", Hostname: evil, Components: []string{c}}
		if c == "down" {
			f.Error, f.Components = evil, nil
		}
		facts = append(facts, f)
	}
	h := newHarness(t, Config{Inventory: inv, Catalog: []*steps.Runbook{rb}, Runbook: rb.ID, Dialer: noDialer})
	h.giveFacts(facts)
	s := h.top().(*setup)
	frameOf(t, h.a, s, "setup, roles")
	h.key("enter") // the primary's hosts: the down host first with its error
	frameOf(t, h.a, s, "setup, the primary's hosts")
	for s.cands[s.hostCur].fit.OK() {
		h.key("down")
	}
	h.key("enter") // a host that cannot be the primary: refused, with the reason
	if s.notice == "" {
		t.Fatalf("no notice for a refused host:\n%s", h.view())
	}
	frameOf(t, h.a, s, "setup, a refused host")
	h.key("esc")
	s.problems = problemLines(&steps.InputError{Problems: []string{evil}})
	frameOf(t, h.a, s, "setup, the plan's problems")
	s.problems = problemLines(errors.New(evil))
	frameOf(t, h.a, s, "setup, an error")
	if err := validator(&steps.Param{ID: "p", Type: steps.TypePath})("rel" + evil); err != nil {
		checkShown(t, "a parameter's validation message", err.Error())
	}
}

// evilRun is a step screen whose journal was written by a hostile host (or forged):
// every text in it carries the payload. Step one is done; step two has a failed
// pre-check and a failed action.
func evilRun(t *testing.T) (*app, *runPage) {
	t.Helper()
	rb, err := steps.Parse("evil.yaml", []byte(`id: test/evil
title: Three steps
system: Test
source: a test
roles:
  - id: box
    title: Any host
steps:
  - id: one
    title: One
    manual: true
    text: Do one.
  - id: two
    title: Two
    manual: true
    text: Do two.
  - id: three
    title: Three
    manual: true
    text: Do three.
`))
	if err != nil {
		t.Fatal(err)
	}
	inv := &inventory.Inventory{File: "inventory.yaml", Hosts: []*probe.Host{{Name: "box", Address: "192.0.2.1", Port: 22}}}
	facts := map[string]*probe.Facts{"box": {Name: "box", Reachable: true}}
	in := steps.Inputs{Roles: map[string]string{"box": "box"}}
	plan, err := steps.Prepare(rb, inv.Host, in, facts)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	act := func() *steps.ActionRecord {
		return &steps.ActionRecord{Kind: "command", Summary: evil, Commands: []string{evil}, Answer: true}
	}
	done := act()
	done.OK, done.Output, done.Changes = true, []string{evil, "second line"}, []string{evil}
	failed := act()
	failed.Error, failed.Output = evil, []string{evil}
	check := &steps.CheckResult{Phase: steps.PhasePre, Index: 0, Name: evil, Status: steps.Fail, Summary: evil, Evidence: []string{evil}, At: t0}
	evs := []*steps.Event{
		{Type: steps.EvSession, Session: &steps.Session{Runbook: rb.ID, Roles: map[string]string{"box": "box" + evil}, Operator: evil}},
		{Type: steps.EvPlan, Plan: []steps.PlannedStep{{ID: "one", Title: "One " + evil, Hosts: []string{evil}},
			{ID: "two", Title: "Two " + evil, Hosts: []string{"box"}}, {ID: "three", Title: "Three " + evil}}},
		{Type: steps.EvStepStart, Step: "one"},
		{Type: steps.EvActionStart, Step: "one", Action: act()},
		{Type: steps.EvActionResult, Step: "one", Action: done},
		{Type: steps.EvDecision, Step: "one", Decision: &steps.Decision{Kind: steps.Confirm, On: steps.OnConfirm, Reason: evil, By: evil, Via: evil,
			Run: &steps.AnswerRun{Role: evil, Command: evil}}},
		steps.StepEnd("one", steps.StepDone, evil),
		{Type: steps.EvStepStart, Step: "two"},
		{Type: steps.EvCheck, Step: "two", Check: check},
		{Type: steps.EvActionStart, Step: "two", Action: act()},
		{Type: steps.EvActionResult, Step: "two", Action: failed},
	}
	for i, ev := range evs {
		ev.Seq, ev.Time = i+1, t0
	}
	cfg := Config{Inventory: inv, Catalog: []*steps.Runbook{rb}, Dialer: noDialer, ProbeEvery: time.Hour, JournalDir: t.TempDir()}
	a := newApp(cfg, true)
	rp := newRunPage(a, runSource{rb: rb, in: in})
	rp.d, rp.plan, rp.state = newDriver(), plan, steps.NewRunState(evs)
	rp.d.opened = true
	a.active = rp.d
	rp.prompt = &steps.Prompt{Step: "two", Kind: steps.AskActionFailed, Manual: true, Phrase: evil, Failed: []*steps.CheckResult{check},
		Choices: []steps.DecisionKind{steps.Confirm, steps.Retry, steps.Override, steps.Abort}}
	return a, rp
}

// TestHostTextOnTheStepScreenIsShownSafely: the step list's titles, the action's
// summary, commands and error, the recorded output, the checks and their evidence, a
// waiting gate's last answer, the question, the override and abort prompts, an error
// of the engine, the lab's hint, a question the wizard has no words for, and the quit
// question's account of the hosts.
func TestHostTextOnTheStepScreenIsShownSafely(t *testing.T) {
	a, rp := evilRun(t)
	frameOf(t, a, rp, "step screen, a failed action and pre-check")

	rp.Update(keyMsg("o"))
	rp.input.SetValue("because " + evil)
	rp.Update(keyMsg("enter"))
	if rp.confirm != inputOverride {
		t.Fatalf("the override's reason was not taken:\n%s", rp.View(80, 22))
	}
	frameOf(t, a, rp, "step screen, the override's confirmation")
	rp.Update(keyMsg("n"))

	rp.Update(keyMsg("a"))
	rp.input.SetValue("because " + evil)
	rp.Update(keyMsg("enter"))
	frameOf(t, a, rp, "step screen, the abort's confirmation")
	rp.Update(keyMsg("n"))

	rp.prompt.Kind = steps.PromptKind(evil)
	frameOf(t, a, rp, "step screen, a question without words of its own")

	rp.prompt.Kind = steps.AskConfirm
	rp.a.lab = &Lab{Runs: map[string]*steps.RunFile{"test/evil": {Runbook: "test/evil",
		Answers: map[string]*steps.Answer{"two": {Run: &steps.AnswerRun{Role: "box", Command: evil}}}}}}
	frameOf(t, a, rp, "step screen, the lab's hint")
	rp.a.lab = nil

	rp.Update(decidedMsg{d: rp.d, err: errors.New(evil), seq: rp.state.LastSeq})
	if rp.notice == "" {
		t.Fatal("the engine's error is not shown")
	}
	frameOf(t, a, rp, "step screen, an error of the engine")
	rp.notice, rp.stalled = "", false

	rp.busy, rp.prompt = true, nil
	rp.waiting[steps.WaitKey("two", steps.PhaseGate, 0)] = waitState{at: a.now(),
		p: steps.Progress{Step: "two", Phase: steps.PhaseGate, Gate: 0, Remaining: time.Minute, Attempt: 2, Last: &steps.CheckResult{Summary: evil}}}
	rp.desc["two"] = &steps.Description{Gates: []string{evil}}
	frameOf(t, a, rp, "step screen, a waiting gate")

	rp.busy, rp.state.Steps[1].Status = false, steps.StepStatus(evil)
	frameOf(t, a, rp, "step screen, a step status the journal made up")

	// The quit question says what state the hosts are in, from the journal's words.
	r := newRoot(a, rp)
	r.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	r.asking = true
	if raw := rawControls(r.View().Content); len(raw) > 0 {
		t.Errorf("the quit question: raw control characters around %q", raw)
	}
	if !strings.Contains(r.modal(22), `\x1b[2J`) {
		t.Errorf("the quit question does not show the payload as escapes:\n%s", r.modal(22))
	}

	bad := newRunPage(a, runSource{})
	bad.err = errors.New(evil)
	frameOf(t, a, bad, "step screen, a run that did not start")
}

// TestHostTextInTheEvidenceIsShownSafely: the evidence page of a finished step and of
// the current one, with the journal's decisions.
func TestHostTextInTheEvidenceIsShownSafely(t *testing.T) {
	a, rp := evilRun(t)
	for _, id := range []string{"one", "two"} {
		dp := newDetailPage(rp, id)
		frameOf(t, a, dp, "evidence of step "+id)
		whole := strings.Join(dp.lines(80), "\n")
		if raw := rawControls(whole); len(raw) > 0 {
			t.Errorf("evidence of step %s: raw control characters around %q", id, raw)
		}
	}
	rp.output["two"] = newScrollView(true)
	rp.output["two"].AppendOutput(evil, "\t"+evil)
	checkShown(t, "live output", strings.Join(newDetailPage(rp, "two").lines(80), "\n"))
}

// TestHostTextInThePlanTheResumeOfferAndTheSummaryIsShownSafely: step titles, their
// hosts and skip reasons, the roles' hosts (one down); the resume offer's operator,
// hosts and step; the summary's message, reasons and titles.
func TestHostTextInThePlanTheResumeOfferAndTheSummaryIsShownSafely(t *testing.T) {
	a, rp := evilRun(t)
	plan := *rp.plan
	plan.Steps = append([]steps.PlannedStep(nil), plan.Steps...)
	plan.Steps[0].Title, plan.Steps[0].Hosts = evil, []string{evil}
	plan.Steps[1].Skip, plan.Steps[1].Reason = true, evil
	down := &probe.Host{Name: "box" + evil}
	plan.Roles = map[string]*probe.Host{"box": down}
	plan.Facts = map[string]*probe.Facts{down.Name: {Name: down.Name, Error: evil}}
	pp := &planPage{a: a, plan: &plan, sv: newScrollView(false)}
	frameOf(t, a, pp, "plan review")

	rp.state.Steps[1].ActionRuns = 1
	frameOf(t, a, newResumeOffer(a, rp.plan.Runbook, "/journals/"+evil, rp.state), "resume offer")

	rp.state.Outcome, rp.state.Message = steps.RunStatus(evil), evil
	rp.state.Steps[1].Reason, rp.state.Steps[1].Status = evil, steps.StepOverridden
	sum := newSummary(a, rp.d, rp.plan, rp.state)
	sum.Update(exportedMsg{err: errors.New(evil)})
	frameOf(t, a, sum, "summary")
}

// TestLabErrorOnTheFirstScreenIsShownSafely: the error of a lab that did not start.
func TestLabErrorOnTheFirstScreenIsShownSafely(t *testing.T) {
	a := newApp(Config{InventorySearched: []string{"/x/" + evil}}, true)
	p := newFirstContact(a)
	p.Update(labFailedMsg{errors.New(evil)})
	frameOf(t, a, p, "first screen")
}

// The frame check passes the wizard's own screens unchanged: the parameter form (text
// fields with their cursor, a choice), the step screen with its Markdown text and a text
// field open, the evidence page. Whatever it escapes there would be a stray "\x1b" on
// the operator's screen.
func TestScreenSafeLeavesTheWizardsOwnScreensAlone(t *testing.T) {
	t.Parallel()
	own := func(where, frame string) {
		t.Helper()
		if strings.Contains(frame, `\x1b`) || strings.Contains(frame, `\u00`) || len(rawControls(frame)) > 0 {
			t.Errorf("%s: the frame check changed the wizard's own screen:\n%s", where, frame)
		}
	}
	h, _ := oneHostSetup(t, presetRunbook, nil)
	h.key("n", "down", "enter")
	own("the parameter form", h.r.View().Content)
	h.key("tab")
	own("the parameter form, second field", h.r.View().Content)
	h.key("ctrl+s")
	own("the run file's name", h.r.View().Content)

	r, _ := benchRunPage(t, 100)
	own("the step screen", r.View().Content)
	r.Update(keyMsg("c"))
	own("the step screen, the command field", r.View().Content)
	r.Update(keyMsg("esc"))
	_, cmd := r.Update(keyMsg("e"))
	r.Update(cmd())
	own("the evidence page", r.View().Content)
}
