package tui

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/probe/lab/labtest"
	"github.com/cutover/cutover/probe/sshx"
	"github.com/cutover/cutover/runbooks"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/headless"
	"github.com/cutover/cutover/steps/journal"
	"github.com/cutover/cutover/steps/runner"
)

// The step screen against the practice lab: real SSH on loopback, real journal.

// startRun goes from home to the first question of a new run of move-hub (new = spare).
func startRun(t *testing.T, h *harness) *runPage {
	t.Helper()
	toPlan(t, h)
	h.key("s")
	h.pump("the run to open", wait, func() bool { _, ok := h.top().(*runPage); return ok })
	rp := h.top().(*runPage)
	h.waitView(wait, "Step 5 of 14", "waiting for you")
	return rp
}

// answer performs the current manual step with a command, typing the phrase if asked.
func answer(t *testing.T, h *harness, command, phrase string) {
	t.Helper()
	h.key("c")
	h.typeText(command)
	h.key("enter")
	if phrase != "" {
		h.waitView(wait, "To go ahead, type exactly:")
		h.typeText(phrase)
		h.key("enter")
	}
}

// readJournal folds a journal file.
func readJournal(t *testing.T, path string) *steps.RunState {
	t.Helper()
	j, err := journal.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if j.Broken != nil {
		t.Fatalf("journal %s: %v", path, j.Broken)
	}
	return steps.NewRunState(j.Events)
}

func TestRunMoveHubByKeys(t *testing.T) {
	t.Chdir(t.TempDir())
	l := serveLab(t)
	inv, err := inventory.Load(l.Inventory())
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Config{Inventory: inv, JournalDir: "journals"})
	h.waitView(wait, "probed at")
	h.typeText("hub")
	h.golden("home")
	h.key("backspace", "backspace", "backspace")
	s := openMoveHub(t, h)
	h.key("enter") // the hosts for new; hub is greyed, with the reason under the list
	cursorTo(t, h, s, "hub")
	h.golden("setup_roles")
	h.key("esc")
	bindMoveHub(t, h, s, "spare")
	h.key("n")
	h.golden("setup_params")
	for range len(s.rb.Params) - 1 {
		h.key("tab")
	}
	h.key("enter")
	h.pump("the plan review with the values read from the hosts", wait, func() bool { p, ok := h.top().(*planPage); return ok && p.pv != nil })
	h.golden("plan_review")
	h.key("s")
	h.waitView(wait, "Step 5 of 14", "waiting for you")
	rp := h.top().(*runPage)
	h.golden("step_manual")
	if strings.Contains(h.view(), "practice lab") {
		t.Errorf("a lab hint outside the practice lab:\n%s", h.view())
	}

	// Quitting mid-run asks first; n stays.
	h.key("q")
	if !h.r.asking {
		t.Fatal("q during a run does not ask")
	}
	h.golden("quit_confirm")
	h.key("n")
	if h.r.asking || h.quit {
		t.Fatal("n does not keep the run")
	}
	// enter on a manual step confirms it; its gates then fail (nothing was installed),
	// and the step screen says so: retry, override or abort.
	h.key("enter")
	h.waitView(wait, "✗ blocked", "The Hub is now installed on the new server")
	if rp.prompt == nil || rp.prompt.Kind != steps.AskCheckFailed {
		t.Fatalf("prompt after confirming an undone step: %+v", rp.prompt)
	}
	// Do it now, on the host, as the operator would, and check again.
	runOn(t, l, "spare", "maestro-setup install --components hub")
	h.key("r")
	h.waitView(wait, "Step 12 of 14", "waiting for you")

	// Late in the run the account of what was done is long (the pre-seeded copy says how
	// its data travels); the question still fits the screen whole, keys and all.
	h.key("q")
	h.checkFrame(80, 24)
	words := strings.Join(strings.Fields(h.view()), " ")
	for _, s := range []string{"11 of 14 steps finished", "Nothing is undone: the hosts stay as they are now.",
		"cutover resume journals/", "y quit n stay", "╚"} {
		if !strings.Contains(words, s) {
			t.Errorf("the quit question late in the run lacks %q:\n%s", s, h.view())
		}
	}
	h.golden("quit_confirm_late")
	h.key("n")

	// The step that cannot be undone: a wrong phrase is refused, the right one goes.
	answer(t, h, "old: maestro-setup remove hub", "UNINSTALL HUB ON HUB")
	h.waitView(wait, "to confirm, type exactly: UNINSTALL HUB ON hub")
	if rp.state.Step("uninstall-old-hub").Confirmed {
		t.Fatal("a wrong phrase confirmed the step")
	}
	answer(t, h, "old: maestro-setup remove hub", "UNINSTALL HUB ON hub")
	h.pump("the summary", wait, func() bool { _, ok := h.top().(*summary); return ok })
	h.waitView(wait, "The run is done")
	// The transfer replaced the fresh Hub's files: kept aside, with the command that
	// removes them once the move is confirmed.
	h.waitView(wait, "The copies kept aside what they replaced (3 items)", "hub.ini.cutover-", "remove them with: cutover cleanup")
	h.golden("summary")

	// The run has ended: quitting no longer asks.
	if h.a.running() {
		t.Fatal("the run still counts as running after its end")
	}
	jpath := rp.d.journalPath()
	h.key("x")
	h.waitView(wait, "Checklist written to")
	md := strings.TrimSuffix(jpath, ".jsonl") + ".md"
	data, err := os.ReadFile(md)
	if err != nil {
		t.Fatalf("the checklist is not next to the journal: %v", err)
	}
	if !strings.Contains(string(data), "- [x]") {
		t.Errorf("the checklist has no ticked step:\n%s", data)
	}

	st := readJournal(t, jpath)
	if !st.Ended || st.Outcome != steps.RunDone {
		t.Fatalf("journal: ended %v outcome %q", st.Ended, st.Outcome)
	}
	want := map[string]steps.StepStatus{"check-https-apart": "done", "preseed-hub-data": "done",
		"stop-maestro": "done", "stop-listserv": "skipped", "install-fresh": "done", "install-add": "skipped",
		"transfer-hub-data": "done", "point-lui-to-hub": "done", "set-hub-external-name": "skipped",
		"set-hub-external-port": "skipped", "point-tracker-to-hub": "done", "uninstall-old-hub": "done", "start-maestro": "done",
		"start-listserv": "skipped"}
	for id, status := range want {
		if got := st.Step(id).Status; got != status {
			t.Errorf("step %s: %s, want %s", id, got, status)
		}
	}
	for _, d := range st.Step("uninstall-old-hub").Decisions {
		if d.Kind == steps.Confirm && (d.Via != "tty" || d.Phrase != "UNINSTALL HUB ON hub") {
			t.Errorf("the confirmation was recorded as %+v", d)
		}
	}
	h.key("esc")
	if _, ok := h.top().(*home); !ok || len(h.r.stack) != 1 || h.a.active != nil {
		t.Fatalf("esc from the summary: %T, %d pages", h.top(), len(h.r.stack))
	}
	h.key("ctrl+c")
	h.waitQuit()
}

// runOn runs a command on a lab host as its operator would, over SSH.
func runOn(t *testing.T, l *lab.Lab, host, cmd string) {
	t.Helper()
	inv, err := inventory.Load(l.Inventory())
	if err != nil {
		t.Fatal(err)
	}
	tr, err := (&sshx.Dialer{NoAgent: true}).Dial(context.Background(), inv.Host(host))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	var out strings.Builder
	code, err := tr.Run(context.Background(), cmd, &out, &out)
	if err != nil || code != 0 {
		t.Fatalf("%s on %s: exit %d, %v\n%s", cmd, host, code, err, out.String())
	}
}

func TestRunFailedGateShowsEvidenceAndTakesAnOverride(t *testing.T) {
	t.Chdir(t.TempDir())
	l := serveLab(t, "startup-db-error")
	inv, err := inventory.Load(l.Inventory())
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Config{Inventory: inv, JournalDir: "journals"})
	h.waitView(wait, "probed at")
	rp := startRun(t, h)
	answer(t, h, "new: maestro-setup install --components hub", "")
	h.waitView(wait, "Step 12 of 14", "waiting for you")
	answer(t, h, "old: maestro-setup remove hub", "UNINSTALL HUB ON hub")
	h.waitView(wait, "Step 13 of 14", "✗ blocked", "check(s) failed")
	if rp.prompt.Kind != steps.AskCheckFailed || rp.prompt.Allows(steps.Accept) {
		t.Fatalf("prompt: %+v", rp.prompt)
	}
	v := h.view()
	for _, s := range []string{"✗ gate The new Hub started cleanly", "│ ", "r to check again", "o overrides", "r retry checks", "o override (reason)", "e evidence", "a abort run"} {
		if !strings.Contains(v, s) {
			t.Errorf("failed-gate screen lacks %q:\n%s", s, v)
		}
	}
	h.golden("step_gate_failed")

	// The evidence in full, then back.
	h.key("e")
	ev, ok := h.top().(*detailPage)
	if !ok {
		t.Fatalf("e opens %T", h.top())
	}
	full := strings.Join(ev.lines(1000), "\n") // wide: no evidence line is wrapped
	for _, r := range rp.prompt.Failed {
		for _, e := range r.Evidence {
			if !strings.Contains(full, sanitize(e)) {
				t.Errorf("the evidence page lacks %q", e)
			}
		}
	}
	h.golden("evidence")
	h.key("G")
	h.key("esc")
	if h.top() != page(rp) {
		t.Fatalf("esc from the evidence goes to %T", h.top())
	}

	// Retry: the log still has the errors, so the gate fails again.
	h.key("r")
	h.waitView(wait, "✗ blocked")
	checks := len(rp.state.Step("start-maestro").History)

	// An override has a prompt of its own that says what it accepts, and needs a reason
	// in words; a stray word is refused.
	h.key("o")
	if h.top().Capture() != captureText {
		t.Fatal("o does not ask for a reason")
	}
	v = strings.Join(strings.Fields(h.view()), " ")
	for _, s := range []string{"Override step 13, «Start Maestro and read the startup logs»: it counts as done although",
		"the gate «The new Hub started cleanly» failed", "marked OVERRIDDEN in every export"} {
		if !strings.Contains(v, s) {
			t.Errorf("the override prompt lacks %q:\n%s", s, h.view())
		}
	}
	h.typeText("no")
	h.key("enter")
	if !strings.Contains(h.view(), "Say why in a few words") || rp.inputFor != inputOverride {
		t.Fatalf("a one-word reason was taken:\n%s", h.view())
	}
	// Stray typing: a reason and enter, then anything but y: nothing is recorded.
	h.key("esc")
	h.key("o")
	h.typeText("restart the lab now")
	h.key("enter", "x")
	if rp.busy || rp.confirm != inputNone || !strings.Contains(h.view(), "The override was not recorded") {
		t.Fatalf("stray typing after the reason:\n%s", h.view())
	}
	if st := readJournal(t, rp.d.journalPath()); len(st.Step("start-maestro").Overrides) > 0 {
		t.Fatal("stray typing recorded an override")
	}
	h.key("o")
	h.typeText("lab fault: the table errors are simulated; checked by hand")
	h.key("enter")
	if !strings.Contains(h.view(), "y records the override") {
		t.Fatalf("the override is not confirmed first:\n%s", h.view())
	}
	h.key("y")
	h.pump("the summary", wait, func() bool { _, ok := h.top().(*summary); return ok })
	h.waitView(wait, "1 overridden", "OVERRIDDEN")
	st := readJournal(t, rp.d.journalPath())
	ss := st.Step("start-maestro")
	if ss.Status != steps.StepOverridden || !strings.Contains(ss.Reason, "checked by hand") || len(ss.History) < checks {
		t.Fatalf("start-maestro: %s %q", ss.Status, ss.Reason)
	}
	h.key("x")
	h.waitView(wait, "Checklist written to")
	md, _ := os.ReadFile(strings.TrimSuffix(rp.d.journalPath(), ".jsonl") + ".md")
	if !strings.Contains(strings.ToUpper(string(md)), "OVERRIDDEN") {
		t.Errorf("the export does not mark the override:\n%s", md)
	}
}

// TestRunAbortAsksFirst: an abort asks for a reason, says in what state the hosts are
// left, and is recorded only by y right after the reason.
func TestRunAbortAsksFirst(t *testing.T) {
	h, _ := labHarness(t)
	rp := startRun(t, h)
	h.key("a")
	v := strings.Join(strings.Fields(h.view()), " ")
	for _, s := range []string{"cannot be resumed", "4 of 14 steps finished (pre-seed 3 paths from hub to staging names on spare",
		"; stop maestro on lui, hub, trk, spare), 1 of them skipped",
		"Step 5, «Install the Hub on the new server (fresh installation)»: nothing of it has been done yet",
		"Not started: 9", "Nothing is undone: the hosts stay as they are now"} {
		if rp.inputFor != inputAbort || !strings.Contains(v, s) {
			t.Errorf("the abort question lacks %q:\n%s", s, h.view())
		}
	}
	h.key("esc")
	if rp.inputFor != inputNone || rp.state.Ended {
		t.Fatal("esc did not cancel the abort")
	}
	h.key("a")
	h.typeText("wrong new host")
	h.key("enter", "n")
	if rp.state.Ended || rp.busy {
		t.Fatal("n after the reason aborted the run")
	}
	h.key("a")
	h.typeText("wrong new host")
	h.key("enter", "y")
	h.pump("the summary", wait, func() bool { _, ok := h.top().(*summary); return ok })
	h.waitWords(wait, "The run ended: aborted", "wrong new host", "Nothing is undone")
	if st := readJournal(t, rp.d.journalPath()); st.Outcome != steps.RunAborted {
		t.Fatalf("outcome %q", st.Outcome)
	}
}

// TestQuitMidRunLeavesAResumableJournal quits while an action is in flight: the quit
// waits for it, its result is recorded, and runner.Resume (what `cutover resume` does)
// continues the run to its end.
func TestQuitMidRunLeavesAResumableJournal(t *testing.T) {
	h, l := labHarness(t)
	rp := startRun(t, h)
	// Perform the step with a command that takes a moment, and quit while it runs.
	h.key("c")
	h.typeText("new: sleep 1; maestro-setup install --components hub")
	h.key("enter")
	h.pump("the command to start", wait, func() bool { return rp.state.Step("install-fresh").ActionPending })
	// q is a letter nowhere here: it asks. ctrl+c answers yes.
	h.key("q")
	if !h.r.asking {
		t.Fatal("q during an action does not ask")
	}
	h.key("ctrl+c")
	if h.r.stopping == "" || !strings.Contains(h.view(), "stopping the run at a safe point") {
		t.Fatalf("quitting does not say it is stopping safely:\n%s", h.view())
	}
	h.pump("the quit", wait, func() bool { return h.quit })
	jpath := rp.d.journalPath()
	st := readJournal(t, jpath)
	ss := st.Step("install-fresh")
	if st.Ended || ss.ActionPending || !ss.ActionDone || !ss.Action.OK {
		t.Fatalf("after quitting mid-action: ended %v, pending %v, done %v, action %+v", st.Ended, ss.ActionPending, ss.ActionDone, ss.Action)
	}

	// Resume headless with the lab's answers, as cutover resume --headless does.
	rf, err := steps.LoadRunFile(filepath.Join(l.Dir(), "runs", "maestro-move-hub.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	inv, _ := inventory.Load(l.Inventory())
	rb, _ := runbooks.Get("maestro/move-hub")
	cfg := &runner.Config{Inventory: inv, Dialer: &sshx.Dialer{NoAgent: true}}
	run, err := cfg.Resume(context.Background(), jpath, rb, runner.ResumeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	res := headless.Drive(context.Background(), run.Engine, &steps.Answerer{Answers: rf.Answers, Via: "runfile"}, jpath)
	if res.Code != 0 {
		t.Fatalf("resume: %+v", res)
	}
	if st := readJournal(t, jpath); st.Outcome != steps.RunDone || st.Step("install-fresh").ActionRuns != 1 {
		t.Fatalf("after the resume: outcome %q, install ran %d times", st.Outcome, st.Step("install-fresh").ActionRuns)
	}
}

func TestQuitKeysInATextField(t *testing.T) {
	h, _ := labHarness(t)
	startRun(t, h)
	h.key("c")
	h.typeText("q?")
	if h.quit || h.r.asking || h.r.fullHelp {
		t.Fatal("q or ? in a text field acted as a global key")
	}
	if !strings.Contains(h.view(), "› q?") {
		t.Fatalf("the field did not take q and ?:\n%s", h.view())
	}
	h.key("ctrl+c")
	if !h.r.asking {
		t.Fatal("ctrl+c in a text field does not ask")
	}
	h.key("n", "esc")
	if h.top().Capture() != captureNone {
		t.Fatal("esc does not leave the text field")
	}
}

// TestResumeShowsOutcomeUnknown cuts a finished journal just after an action started,
// as a dropped console would leave it, and resumes it from home: the resume offer says
// the outcome is unknown, the gates are checked first, and the operator decides.
func TestResumeShowsOutcomeUnknown(t *testing.T) {
	t.Chdir(t.TempDir())
	l := serveLab(t)
	inv, err := inventory.Load(l.Inventory())
	if err != nil {
		t.Fatal(err)
	}
	jdir := "journals"
	jpath := headlessRun(t, l, inv, jdir)
	cutAfter(t, jpath, func(ev *steps.Event) bool {
		return ev.Type == steps.EvActionStart && ev.Step == "point-tracker-to-hub"
	})

	// On another inventory (another site, another lab) the run is not offered.
	other := &inventory.Inventory{File: filepath.Join(t.TempDir(), "inventory.yaml"), Hosts: inv.Hosts}
	h := newHarness(t, Config{Inventory: other, JournalDir: jdir, Dialer: noDialer})
	h.typeText("hub")
	h.key("enter")
	h.pump("the setup", wait, func() bool { _, ok := h.top().(*setup); return ok })

	h = newHarness(t, Config{Inventory: inv, JournalDir: jdir})
	h.waitView(wait, "probed at")
	h.typeText("hub")
	h.key("enter")
	h.pump("the resume offer", wait, func() bool { _, ok := h.top().(*resumeOffer); return ok })
	h.waitView(wait, "outcome is unknown", "It stopped at step 11", "It has worked on hub, lui, spare, trk (steps 2, 3, 5, 7, 8, 11)")
	h.golden("resume_offer")
	h.key("r")
	h.pump("the run to open", wait, func() bool { _, ok := h.top().(*runPage); return ok })
	rp := h.top().(*runPage)
	h.waitView(wait, "? outcome unknown", "Every gate passes now")
	// The gate was checked before the question, and passed (the edit did happen).
	ss := rp.state.Step("point-tracker-to-hub")
	if !ss.ActionPending || ss.Gates[0] == nil || !ss.Gates[0].OK() {
		t.Fatalf("before deciding: pending %v, gate %+v", ss.ActionPending, ss.Gates[0])
	}
	if !rp.prompt.Allows(steps.Accept) || !rp.prompt.Allows(steps.Rerun) {
		t.Fatalf("choices %v", rp.prompt.Choices)
	}
	h.golden("step_unknown")
	h.key("y")
	h.waitView(wait, "Step 12 of 14")
	st := readJournal(t, jpath)
	if s := st.Step("point-tracker-to-hub"); s.Status != steps.StepDone || s.ActionRuns != 1 {
		t.Fatalf("after accepting: %s, ran %d times", s.Status, s.ActionRuns)
	}
}

// headlessRun runs move-hub to its end with the lab's run file, headless, and returns
// its journal.
func headlessRun(t *testing.T, l *lab.Lab, inv *inventory.Inventory, jdir string) string {
	t.Helper()
	rf, err := steps.LoadRunFile(filepath.Join(l.Dir(), "runs", "maestro-move-hub.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	rb, err := runbooks.Get(rf.Runbook)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &runner.Config{Inventory: inv, Dialer: &sshx.Dialer{NoAgent: true}, JournalDir: jdir}
	run, err := cfg.Start(context.Background(), rb, rf.Inputs(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	res := headless.Drive(context.Background(), run.Engine, &steps.Answerer{Answers: rf.Answers, Via: "runfile"}, run.Journal.Path())
	if res.Code != 0 {
		t.Fatalf("headless run: %+v", res)
	}
	return run.Journal.Path()
}

// cutAfter keeps the journal's lines up to the first event that stop accepts.
func cutAfter(t *testing.T, path string, stop func(*steps.Event) bool) {
	t.Helper()
	j, err := journal.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	n := -1
	for i, ev := range j.Events {
		if stop(ev) {
			n = i + 1
			break
		}
	}
	if n < 0 {
		t.Fatal("the journal has no such event")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var keep strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for i := 0; i < n && sc.Scan(); i++ {
		keep.WriteString(sc.Text() + "\n")
	}
	f.Close()
	if err := os.WriteFile(path, []byte(keep.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestStepOutputScrolls streams 10,000 lines of a command's output into the step
// screen, which keeps following the newest line, and scrolls them with the keys. The
// command then fails, so the step stays on screen asking what to do.
func TestStepOutputScrolls(t *testing.T) {
	h, _ := labHarness(t)
	rp := startRun(t, h)
	answer(t, h, "new: seq 1 10000; exit 3", "")
	h.waitView(wait, "The command failed", "output · lines")
	sv := rp.output["install-fresh"]
	if sv == nil || sv.Len() != 10000 {
		t.Fatalf("output lines: %v", sv)
	}
	v := h.view()
	if !strings.Contains(v, "spare: 10000") || !strings.Contains(v, "of 10000, following") {
		t.Fatalf("the step screen does not follow the output:\n%s", v)
	}
	h.key("pgup")
	v = h.view()
	if strings.Contains(v, "spare: 10000") || strings.Contains(v, "following") || !strings.Contains(v, "pgup/pgdn") {
		t.Errorf("pgup does not scroll the output:\n%s", v)
	}
	h.key("g")
	if v := h.view(); !strings.Contains(v, "spare: 1\n") || !strings.Contains(v, "lines 1-") {
		t.Errorf("g does not go to the first line:\n%s", v)
	}
	h.key("pgdown")
	if v := h.view(); strings.Contains(v, "spare: 1\n") {
		t.Errorf("pgdn does not scroll down:\n%s", v)
	}
	h.key("G")
	if v := h.view(); !strings.Contains(v, "spare: 10000") || !strings.Contains(v, "following") {
		t.Errorf("G does not return to the end:\n%s", v)
	}
	if rp.prompt.Kind != steps.AskActionFailed || !rp.prompt.Allows(steps.Retry) {
		t.Fatalf("prompt %+v", rp.prompt)
	}
	h.checkFrame(80, 24)
	// The evidence page holds every line too.
	h.key("e")
	if n := strings.Count(strings.Join(h.top().(*detailPage).lines(80), "\n"), "spare: "); n < 10000 {
		t.Errorf("the evidence page has %d output lines", n)
	}
}

// TestCopyShowsProgress makes the Hub's account registry big once the pre-seed has run,
// so the copy step in the window has that much to send and takes a moment, and watches
// the step screen draw its progress bar.
func TestCopyShowsProgress(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and copies 128 MB")
	}
	h, l := labHarness(t)
	rp := startRun(t, h) // past the pre-seed: the big file changed since, as new data would
	big := filepath.Join(l.HostRoot("hub"), "opt", "maestro", "hub", "accountreg", "big.dat")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(128 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	answer(t, h, "new: maestro-setup install --components hub", "")
	var frame string
	h.pump("the copy's progress bar", wait, func() bool {
		v := h.view()
		if strings.Contains(v, "% ") && strings.Contains(v, "MB/s") && strings.Contains(v, "left") {
			frame = v
			return true
		}
		return rp.state.Step("transfer-hub-data").ActionDone
	})
	if frame == "" {
		t.Fatal("the copy ended without a frame showing its progress")
	}
	if !strings.Contains(frame, "of 134.") || !strings.Contains(frame, "Step 7 of 14") {
		t.Errorf("progress frame:\n%s", frame)
	}
	t.Logf("progress frame:\n%s", frame)
}

// TestCopyBarRendersRateAndTimeLeft checks the bar itself with fixed numbers.
func TestCopyBarRendersRateAndTimeLeft(t *testing.T) {
	h := syntheticHome(t, 1)
	rp := newRunPage(h.a, runSource{})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	got := rp.copyBar(copyState{done: 50e6, total: 200e6, start: t0, at: t0.Add(5 * time.Second)}, 80)
	for _, s := range []string{"25%", "50.0 MB of 200.0 MB", "10.0 MB/s", "15s left"} {
		if !strings.Contains(got, s) {
			t.Errorf("bar %q lacks %q", got, s)
		}
	}
	if w := len([]rune(stripANSI(got))); w > 80 {
		t.Errorf("bar is %d cells wide", w)
	}
}

// TestOutputHeadingCountsLines: the output's heading names one line in the singular
// (a direct copy reports a single line).
func TestOutputHeadingCountsLines(t *testing.T) {
	sv := newScrollView(true)
	sv.AppendOutput("hub: direct from hub to spare")
	sv.View(80, 5)
	if got := sv.Position(); got != "1 line" {
		t.Errorf("one line of output is headed %q", got)
	}
	sv.AppendOutput("hub: done")
	if got := sv.Position(); got != "2 lines" {
		t.Errorf("two lines of output are headed %q", got)
	}
}

func TestMarkdownIsCached(t *testing.T) {
	var c mdCache
	out := c.render("x", "Some **bold** text and a list:\n\n- one\n- two\n", 60, true)
	if !strings.Contains(stripANSI(out), "one") || strings.Contains(stripANSI(out), "**") {
		t.Errorf("markdown not rendered: %q", out)
	}
	// A second render of the same step at the same width is the cached string.
	if again := c.render("x", "ignored", 60, true); again != out {
		t.Error("the markdown cache missed")
	}
	if other := c.render("x", "ignored", 70, true); other == out {
		t.Error("a new width did not render again")
	}
}

// TestFailedCommandIsTriedAgainWithC: a manual step whose command failed takes another
// command with c (the failed one is there to edit), and the gates decide.
func TestFailedCommandIsTriedAgainWithC(t *testing.T) {
	h, _ := labHarness(t)
	rp := startRun(t, h)
	answer(t, h, "new: maestro-setup instal --components hub", "") // a typo: the lab's installer refuses it
	h.waitView(wait, "The command failed", "c another command", "enter done by hand")
	h.key("c")
	if rp.input.Value() != "new: maestro-setup instal --components hub" {
		t.Fatalf("the command field holds %q, want the failed command to edit", rp.input.Value())
	}
	rp.input.SetValue("")
	h.typeText("new: maestro-setup install --components hub")
	h.key("enter")
	h.waitView(wait, "Step 12 of 14", "waiting for you")
	ss := readJournal(t, rp.d.journalPath()).Step("install-fresh")
	if ss.Status != steps.StepDone || ss.Answer == nil || ss.Answer.Command != "maestro-setup install --components hub" || ss.ActionRuns != 2 {
		t.Fatalf("install-fresh: %s, answer %+v, %d runs", ss.Status, ss.Answer, ss.ActionRuns)
	}
}

// TestUnknownPromptKindIsShownGenerically: a question of a kind this wizard has no words
// for (one a newer engine raises) is shown with its failures and its answers, and the
// keys of those answers work; nothing panics.
func TestUnknownPromptKindIsShownGenerically(t *testing.T) {
	r, rp := benchRunPage(t, 0)
	rp.prompt = &steps.Prompt{Step: "install-fresh", Kind: "target_unexpected", On: "action",
		Failed:  []*steps.CheckResult{{Phase: "pre", Name: "the target is what the runbook expects", Status: steps.Fail, Summary: "spare:hub is a link"}},
		Choices: []steps.DecisionKind{steps.Retry, steps.Override, steps.Abort}}
	v := strings.Join(strings.Fields(stripANSI(r.View().Content)), " ")
	for _, want := range []string{"? decide", "cutover needs a decision on this step (target_unexpected)",
		"the target is what the runbook expects: spare:hub is a link", "Answers: r retry, o override, a abort",
		"r retry checks", "o override (reason)", "a abort run"} {
		if !strings.Contains(v, want) {
			t.Errorf("the generic question lacks %q:\n%s", want, stripANSI(r.View().Content))
		}
	}
	if r.Update(keyMsg("o")); rp.inputFor != inputOverride {
		t.Errorf("o on the generic question: input %v", rp.inputFor)
	}
	if v := stripANSI(r.View().Content); !strings.Contains(strings.Join(strings.Fields(v), " "), "the pre-check «the target is what the runbook expects» failed") {
		t.Errorf("the override prompt does not say what it accepts:\n%s", v)
	}
}

// TestPracticeLabShowsItsStandIns: in the practice lab, the setup says how the lab's
// run binds the roles and fills in the lab's values; a manual step shows the command
// that performs it in the lab, marked as the lab's stand-in for the real vendor action,
// and c starts from it. Outside the lab there is no such hint.
func TestPracticeLabShowsItsStandIns(t *testing.T) {
	labtest.SkipShort(t)
	t.Chdir(t.TempDir())
	h := newHarness(t, Config{JournalDir: "journals", LabDir: "lab"})
	h.key("y")
	h.waitView(wait, "probed at", "spare.maestro.lab")
	s := openMoveHub(t, h)
	h.waitView(wait, "practice lab: its run binds old=hub new=spare lui=lui trk=trk")
	bindMoveHub(t, h, s, "spare")
	h.key("n")
	h.waitView(wait, "the practice lab's values filled in")
	for range len(s.rb.Params) - 1 {
		h.key("tab")
	}
	h.key("enter")
	h.pump("the plan review", wait, func() bool { _, ok := h.top().(*planPage); return ok })
	h.key("s")
	h.waitView(wait, "Step 5 of 14", "waiting for you")
	v := strings.Join(strings.Fields(h.view()), " ")
	if !strings.Contains(v, "practice lab: new: maestro-setup install --components hub performs this step here, "+
		"with the lab's simulated tools standing in for the real vendor action") {
		t.Errorf("no lab hint at the manual step:\n%s", h.view())
	}
	h.checkFrame(80, 24)
	rp := h.top().(*runPage)
	h.key("c")
	if rp.input.Value() != "new: maestro-setup install --components hub" {
		t.Errorf("c starts from %q, want the lab's command", rp.input.Value())
	}
}
