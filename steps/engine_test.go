package steps_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/probe"
	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/probe/lab/labtest"
	"github.com/cutover/cutover/probe/local"
	"github.com/cutover/cutover/probe/sshx"
	"github.com/cutover/cutover/runbooks"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/export"
	"github.com/cutover/cutover/steps/headless"
	"github.com/cutover/cutover/steps/journal"
	"github.com/cutover/cutover/steps/runner"
)

// ---------------------------------------------------------------------------------
// Decisions and secrets, on local hosts (folders of a temporary directory).

type localHosts struct {
	root  string
	hosts map[string]*probe.Host
	pool  *probe.Pool
}

func newLocalHosts(t *testing.T, names ...string) *localHosts {
	t.Helper()
	lh := &localHosts{root: t.TempDir(), hosts: map[string]*probe.Host{}}
	for _, n := range names {
		dir := filepath.Join(lh.root, n)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		lh.hosts[n] = &probe.Host{Name: n, Address: "local", InstallDir: dir}
	}
	lh.pool = probe.NewPool(probe.DialerFunc(func(_ context.Context, h *probe.Host) (probe.Transport, error) {
		return &local.Transport{Dir: h.InstallDir}, nil
	}))
	t.Cleanup(func() { lh.pool.Close() })
	return lh
}

func (lh *localHosts) lookup(name string) *probe.Host { return lh.hosts[name] }

func parseRunbook(t *testing.T, stepsYAML string) *steps.Runbook {
	t.Helper()
	src := `id: test/engine
title: Engine test
system: Test
source: the tests
roles:
  - {id: a, title: the host}
params:
  - {id: password, title: Password, type: string, secret: true}
  - {id: word, title: Word, type: string, default: hello}
steps:
` + stepsYAML
	rb, err := steps.Parse("engine.yaml", []byte(src))
	if err != nil {
		t.Fatalf("runbook: %v", err)
	}
	return rb
}

func startLocal(t *testing.T, lh *localHosts, rb *steps.Runbook, params map[string]string, rec steps.Recorder, obs steps.Observer) *steps.Engine {
	t.Helper()
	plan, err := steps.Prepare(rb, lh.lookup, steps.Inputs{Roles: map[string]string{"a": "h1"}, Params: params}, nil)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	e, err := steps.Start(plan, rec, steps.Options{Pool: lh.pool, Observer: obs, Operator: "tester@test"})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return e
}

type memRec struct{ events []*steps.Event }

func (m *memRec) Record(ev *steps.Event) error {
	// Round-trip through JSON, as the journal does, so nothing shares memory.
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	cp := &steps.Event{}
	if err := json.Unmarshal(b, cp); err != nil {
		return err
	}
	m.events = append(m.events, cp)
	return nil
}

// untilPrompt advances until the engine asks something or the run ends.
func untilPrompt(t *testing.T, e *steps.Engine) *steps.Prompt {
	t.Helper()
	for i := 0; i < 500; i++ {
		if e.Finished() {
			return nil
		}
		if p := e.Prompt(); p != nil {
			return p
		}
		if err := e.Advance(context.Background()); err != nil {
			t.Fatalf("Advance: %v", err)
		}
	}
	t.Fatal("the run does not stop")
	return nil
}

func wantPrompt(t *testing.T, p *steps.Prompt, step string, kind steps.PromptKind) {
	t.Helper()
	if p == nil {
		t.Fatalf("no prompt, want %s at step %s", kind, step)
	}
	if p.Step != step || p.Kind != kind {
		t.Fatalf("prompt %s at %s (choices %v), want %s at %s", p.Kind, p.Step, p.Choices, kind, step)
	}
}

func wantRefused(t *testing.T, e *steps.Engine, d steps.Decision, msg string) {
	t.Helper()
	before := e.State().LastSeq
	err := e.Decide(d)
	if err == nil || !strings.Contains(err.Error(), msg) {
		t.Errorf("Decide(%+v) = %v, want a refusal saying %q", d, err, msg)
	}
	if e.State().LastSeq != before {
		t.Errorf("a refused decision was recorded")
	}
}

func mustDecide(t *testing.T, e *steps.Engine, d steps.Decision) {
	t.Helper()
	if err := e.Decide(d); err != nil {
		t.Fatalf("Decide(%+v): %v", d, err)
	}
}

func TestDecisions(t *testing.T) {
	lh := newLocalHosts(t, "h1")
	rb := parseRunbook(t, `  - id: irreversible
    title: Delete the old copy
    manual: true
    phrase: "DELETE {{ params.word }} ON {{ roles.a.host }}"
  - id: optional
    title: Optional chore
    manual: true
    optional: true
  - id: required
    title: Required chore
    manual: true
  - id: ask-first
    title: Ask before acting
    confirm: true
    action:
      run: {role: a, command: "echo done > acted.txt"}
  - id: gate-fails
    title: A gate that fails
    gates:
      - name: the marker exists
        file_exists: {role: a, path: never.txt}
  - id: action-fails
    title: An action that fails
    action:
      run: {role: a, command: "echo attempt >> attempts.txt; exit 1"}
  - id: last
    title: Never reached
    manual: true
`)
	rec := &memRec{}
	e := startLocal(t, lh, rb, map[string]string{"password": "pw"}, rec, nil)

	// A step that cannot be undone is confirmed only with its exact phrase.
	p := untilPrompt(t, e)
	wantPrompt(t, p, "irreversible", steps.AskConfirm)
	if p.Phrase != "DELETE hello ON h1" {
		t.Errorf("phrase %q, want it rendered", p.Phrase)
	}
	wantRefused(t, e, steps.Decision{Kind: steps.Confirm}, "type exactly: DELETE hello ON h1")
	wantRefused(t, e, steps.Decision{Kind: steps.Confirm, Phrase: "delete hello on h1"}, "type exactly")
	wantRefused(t, e, steps.Decision{Kind: steps.Skip, Reason: "not today"}, "skip is not possible here")
	mustDecide(t, e, steps.Decision{Kind: steps.Confirm, Phrase: " DELETE hello ON h1 "})

	// An optional step may be skipped, with a reason.
	p = untilPrompt(t, e)
	wantPrompt(t, p, "optional", steps.AskConfirm)
	if !p.Allows(steps.Skip) || !p.Optional {
		t.Errorf("optional step: choices %v", p.Choices)
	}
	wantRefused(t, e, steps.Decision{Kind: steps.Skip}, "skip needs a reason")
	wantRefused(t, e, steps.Decision{Kind: steps.Skip, Reason: " no "}, "skip needs a reason")
	mustDecide(t, e, steps.Decision{Kind: steps.Skip, Reason: "done last week by hand"})

	// A required manual step cannot be skipped.
	p = untilPrompt(t, e)
	wantPrompt(t, p, "required", steps.AskConfirm)
	if p.Allows(steps.Skip) {
		t.Errorf("a required step offers skip: %v", p.Choices)
	}
	wantRefused(t, e, steps.Decision{Kind: steps.Skip, Reason: "do not want to"}, "not possible")
	wantRefused(t, e, steps.Decision{Kind: steps.Accept}, "not possible")
	mustDecide(t, e, steps.Decision{Kind: steps.Confirm})

	// confirm: true asks before the action runs; only a manual step takes a command.
	p = untilPrompt(t, e)
	wantPrompt(t, p, "ask-first", steps.AskConfirm)
	if _, err := os.Stat(filepath.Join(lh.root, "h1", "acted.txt")); !os.IsNotExist(err) {
		t.Fatal("the action ran before it was confirmed")
	}
	wantRefused(t, e, steps.Decision{Kind: steps.Confirm, Run: &steps.AnswerRun{Role: "a", Command: "true"}}, "only a manual step")
	wantRefused(t, e, steps.Decision{Kind: steps.Confirm, Run: &steps.AnswerRun{Role: "zz", Command: "true"}}, `unknown role "zz"`)
	mustDecide(t, e, steps.Decision{Kind: steps.Confirm})

	// A failed gate: override needs a reason and marks the step overridden.
	p = untilPrompt(t, e)
	wantPrompt(t, p, "gate-fails", steps.AskCheckFailed)
	if _, err := os.Stat(filepath.Join(lh.root, "h1", "acted.txt")); err != nil {
		t.Errorf("the confirmed action did not run: %v", err)
	}
	if len(p.Failed) != 1 || p.Failed[0].Name != "the marker exists" {
		t.Errorf("failed checks %+v", p.Failed)
	}
	wantRefused(t, e, steps.Decision{Kind: steps.Override}, "override needs a reason")
	wantRefused(t, e, steps.Decision{Kind: steps.Override, Reason: "  "}, "override needs a reason")
	wantRefused(t, e, steps.Decision{Kind: steps.Skip, Reason: "whatever"}, "not possible")
	// Retry runs the gate again (it still fails).
	mustDecide(t, e, steps.Decision{Kind: steps.Retry})
	p = untilPrompt(t, e)
	wantPrompt(t, p, "gate-fails", steps.AskCheckFailed)
	mustDecide(t, e, steps.Decision{Kind: steps.Override, Reason: "checked the marker by hand"})

	// A failed action: retry runs it again; override accepts the failure.
	p = untilPrompt(t, e)
	wantPrompt(t, p, "action-fails", steps.AskActionFailed)
	if p.Action == nil || p.Action.OK || !strings.Contains(p.Action.Error, "exit code 1") {
		t.Errorf("prompt action %+v", p.Action)
	}
	mustDecide(t, e, steps.Decision{Kind: steps.Retry})
	p = untilPrompt(t, e)
	wantPrompt(t, p, "action-fails", steps.AskActionFailed)
	b, _ := os.ReadFile(filepath.Join(lh.root, "h1", "attempts.txt"))
	if got := strings.Count(string(b), "attempt"); got != 2 {
		t.Errorf("the action ran %d times, want 2 (once, then once more on retry)", got)
	}
	mustDecide(t, e, steps.Decision{Kind: steps.Override, Reason: "the failure is expected in this test"})

	// Abort ends the run.
	p = untilPrompt(t, e)
	wantPrompt(t, p, "last", steps.AskConfirm)
	mustDecide(t, e, steps.Decision{Kind: steps.Abort, Reason: "change window closed"})
	if !e.Finished() {
		t.Fatal("abort did not end the run")
	}
	if err := e.Advance(context.Background()); !errors.Is(err, steps.ErrFinished) {
		t.Errorf("Advance after abort = %v, want ErrFinished", err)
	}
	if err := e.Decide(steps.Decision{Kind: steps.Confirm}); err == nil {
		t.Error("a decision after the end was accepted")
	}

	st := e.State()
	type ending struct {
		status steps.StepStatus
		reason string
	}
	wantSteps := map[string]ending{
		"irreversible": {steps.StepDone, ""},
		"optional":     {steps.StepSkipped, "done last week by hand"},
		"required":     {steps.StepDone, ""},
		"ask-first":    {steps.StepDone, ""},
		"gate-fails":   {steps.StepOverridden, "checked the marker by hand"},
		"action-fails": {steps.StepOverridden, "the failure is expected in this test"},
		"last":         {steps.StepAborted, "change window closed"},
	}
	for id, w := range wantSteps {
		ss := st.Step(id)
		if ss.Status != w.status || ss.Reason != w.reason {
			t.Errorf("step %s: %s %q, want %s %q", id, ss.Status, ss.Reason, w.status, w.reason)
		}
	}
	if st.Outcome != steps.RunAborted || !strings.Contains(st.Message, "aborted at step last: change window closed") {
		t.Errorf("run outcome %s %q", st.Outcome, st.Message)
	}
	if _, ok := st.Step("gate-fails").Overrides["gate/0"]; !ok {
		t.Errorf("overrides %v lack gate/0", st.Step("gate-fails").Overrides)
	}
	if got := st.Step("action-fails").ActionRuns; got != 2 {
		t.Errorf("action runs %d, want 2", got)
	}

	// The journal's fold gives the same state as the live engine.
	folded := steps.NewRunState(rec.events)
	for _, ss := range st.Steps {
		f := folded.Step(ss.ID())
		if f.Status != ss.Status || f.Reason != ss.Reason || len(f.Decisions) != len(ss.Decisions) {
			t.Errorf("step %s: the journal says %s %q (%d decisions), the engine %s %q (%d)", ss.ID(), f.Status, f.Reason, len(f.Decisions), ss.Status, ss.Reason, len(ss.Decisions))
		}
	}
	var decided []string
	for _, ev := range rec.events {
		if ev.Type == steps.EvDecision {
			decided = append(decided, ev.Step+":"+string(ev.Decision.Kind)+"/"+string(ev.Decision.On))
			if ev.Decision.By != "tester@test" {
				t.Errorf("decision by %q", ev.Decision.By)
			}
		}
	}
	want := []string{"irreversible:confirm/confirm", "optional:skip/confirm", "required:confirm/confirm", "ask-first:confirm/confirm",
		"gate-fails:retry/gates", "gate-fails:override/gates", "action-fails:retry/action", "action-fails:override/action", "last:abort/confirm"}
	if !slices.Equal(decided, want) {
		t.Errorf("recorded decisions\n%q\nwant\n%q", decided, want)
	}
}

func TestOverridePreCheck(t *testing.T) {
	lh := newLocalHosts(t, "h1")
	rb := parseRunbook(t, `  - id: s
    title: needs a file first
    pre:
      - file_exists: {role: a, path: prerequisite}
    action:
      run: {role: a, command: "touch ran"}
`)
	e := startLocal(t, lh, rb, map[string]string{"password": "pw"}, &memRec{}, nil)
	p := untilPrompt(t, e)
	wantPrompt(t, p, "s", steps.AskCheckFailed)
	if p.On != steps.OnPre {
		t.Errorf("prompt answers %q, want pre", p.On)
	}
	if _, err := os.Stat(filepath.Join(lh.root, "h1", "ran")); !os.IsNotExist(err) {
		t.Fatal("the action ran although its pre-check failed")
	}
	mustDecide(t, e, steps.Decision{Kind: steps.Override, Reason: "the prerequisite is elsewhere"})
	if p := untilPrompt(t, e); p != nil || !e.Finished() {
		t.Fatalf("run did not finish: %+v", p)
	}
	if ss := e.State().Step("s"); ss.Status != steps.StepOverridden {
		t.Errorf("step status %s", ss.Status)
	}
	if _, err := os.Stat(filepath.Join(lh.root, "h1", "ran")); err != nil {
		t.Error("the action did not run after the override")
	}
}

// capture is an Observer that keeps everything it is shown, as a screen would.
type capture struct{ bytes.Buffer }

func (c *capture) Event(ev *steps.Event) {
	b, _ := json.Marshal(ev)
	c.Write(b)
	c.WriteByte('\n')
}

func (c *capture) Progress(p steps.Progress) {
	fmt.Fprintf(&c.Buffer, "%s %s %v\n", p.Line, p.Host, p.Last)
}

// TestSecretsNeverReachTheJournal plants a canary secret that commands echo, checks
// quote and an INI edit writes, and greps every byte the run recorded or showed.
func TestSecretsNeverReachTheJournal(t *testing.T) {
	const canary = `Canary-7f3e<&>x` // < & > are escaped in JSON: both forms are looked for
	lh := newLocalHosts(t, "h1")
	if err := os.WriteFile(filepath.Join(lh.root, "h1", "app.ini"), []byte("User=admin\nPassword=old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rb := parseRunbook(t, `  - id: use-it
    title: Use the password
    action:
      run: {role: a, command: "echo logging in with {{ params.password }}; echo {{ params.password }} > used.txt"}
  - id: store-it
    title: Store the password
    action:
      ini: {role: a, file: app.ini, set: {Password: "{{ params.password }}"}}
    gates:
      - ini: {role: a, file: app.ini, key: Password, equals: "{{ params.password }}"}
      - newest_file: {role: a, path: used.txt, contains: ['Canary']}
      - command: {role: a, run: "echo the secret is {{ params.password }}; exit 1"}
`)
	dir := t.TempDir()
	path := filepath.Join(dir, "run.jsonl")
	w, err := journal.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	screen := &capture{}
	printed := &bytes.Buffer{}
	obs := multiObserver{screen, &headless.Printer{W: printed, Verbose: true}}
	e := startLocal(t, lh, rb, map[string]string{"password": canary}, w, obs)
	p := untilPrompt(t, e)
	wantPrompt(t, p, "store-it", steps.AskCheckFailed)
	mustDecide(t, e, steps.Decision{Kind: steps.Override, Reason: "the command echoes " + canary + " on purpose"})
	if p := untilPrompt(t, e); p != nil || !e.Finished() {
		t.Fatalf("run did not finish: %+v", p)
	}
	w.Close()

	// The secret did its work on the host...
	used, _ := os.ReadFile(filepath.Join(lh.root, "h1", "used.txt"))
	ini, _ := os.ReadFile(filepath.Join(lh.root, "h1", "app.ini"))
	if !strings.Contains(string(used), canary) || !strings.Contains(string(ini), "Password="+canary) {
		t.Fatalf("the actions did not receive the secret: used.txt %q, app.ini %q", used, ini)
	}
	// ...and never reached the journal, the screen or an export.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	plan, st, err := steps.Restore(j.Events, rb, lh.lookup, steps.Options{Secrets: map[string]string{"password": canary}})
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if err := export.Journal(&md, j, plan, st); err != nil {
		t.Fatal(err)
	}
	escaped, _ := json.Marshal(canary)
	for name, b := range map[string][]byte{"journal": data, "observer": screen.Bytes(), "headless output": printed.Bytes(), "export": md.Bytes()} {
		for _, needle := range []string{canary, strings.Trim(string(escaped), `"`), "Canary-7f3e"} {
			if bytes.Contains(b, []byte(needle)) {
				i := bytes.Index(b, []byte(needle))
				t.Errorf("%s contains the secret (%q) near %q", name, needle, b[max(0, i-80):min(len(b), i+40)])
			}
		}
	}
	if !bytes.Contains(data, []byte("[secret]")) {
		t.Error("the journal shows no [secret] placeholder: the test did not exercise redaction")
	}
	if !slices.Contains(j.Events[0].Session.Secret, "password") {
		t.Errorf("the session does not list the secret parameter: %+v", j.Events[0].Session)
	}
	if _, ok := j.Events[0].Session.Params["password"]; ok {
		t.Error("the session records the secret parameter's value")
	}

	// Resuming needs the secret again.
	_, _, err = steps.Restore(j.Events, rb, lh.lookup, steps.Options{})
	var ie *steps.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "parameter password is secret") {
		t.Errorf("Restore without the secret: %v", err)
	}
}

type multiObserver []steps.Observer

func (m multiObserver) Event(ev *steps.Event) {
	for _, o := range m {
		o.Event(ev)
	}
}

func (m multiObserver) Progress(p steps.Progress) {
	for _, o := range m {
		o.Progress(p)
	}
}

// ---------------------------------------------------------------------------------
// Resume, on the practice lab over real SSH.

type maestroLab struct {
	lab *lab.Lab
	inv *inventory.Inventory
	rf  *steps.RunFile
	rb  *steps.Runbook
	cfg *runner.Config
}

func startMaestroLab(t *testing.T, faults ...string) *maestroLab {
	t.Helper()
	sc, err := runbooks.Scenario("maestro", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	l := labtest.Serve(t, sc, lab.Options{Faults: faults})
	inv, err := inventory.Load(l.Inventory())
	if err != nil {
		t.Fatal(err)
	}
	rf, err := steps.LoadRunFile(l.RunFile("maestro/move-hub"))
	if err != nil {
		t.Fatal(err)
	}
	rb, err := runbooks.Get(rf.Runbook)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &runner.Config{Inventory: inv, Dialer: &sshx.Dialer{NoAgent: true}, JournalDir: t.TempDir()}
	return &maestroLab{lab: l, inv: inv, rf: rf, rb: rb, cfg: cfg}
}

func (m *maestroLab) answerer() *steps.Answerer {
	return &steps.Answerer{Answers: m.rf.Answers, Via: "runfile"}
}

var errNoAnswer = errors.New("nobody answers the prompt")

// transition makes the engine do exactly one thing: decide the open prompt from the
// answers, or advance.
func transition(ctx context.Context, e *steps.Engine, a *steps.Answerer) error {
	if p := e.Prompt(); p != nil {
		d, ok := a.Decide(p)
		if !ok {
			return fmt.Errorf("%w: %s at %s", errNoAnswer, p.Kind, p.Step)
		}
		return e.Decide(d)
	}
	return e.Advance(ctx)
}

// runTransitions starts a run and makes n transitions (all of them when n < 0); it
// returns the run, still open, and how many transitions it made.
func (m *maestroLab) runTransitions(t *testing.T, n int, stop func(*steps.Engine) bool) (*runner.Run, int) {
	t.Helper()
	ctx := context.Background()
	run, err := m.cfg.Start(ctx, m.rb, m.rf.Inputs(), "")
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	a := m.answerer()
	done := 0
	for (n < 0 || done < n) && !run.Engine.Finished() {
		if stop != nil && stop(run.Engine) {
			break
		}
		if err := transition(ctx, run.Engine, a); err != nil {
			run.Close()
			t.Fatalf("transition %d: %v", done+1, err)
		}
		done++
	}
	return run, done
}

// resumeAndDrive resumes the run in path and drives it with answers until it stops.
func (m *maestroLab) resumeAndDrive(t *testing.T, path string, answers map[string]*steps.Answer) (headless.Result, *steps.Engine) {
	t.Helper()
	run, err := m.cfg.Resume(context.Background(), path, m.rb, runner.ResumeOptions{})
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	defer run.Close()
	res := headless.Drive(context.Background(), run.Engine, &steps.Answerer{Answers: answers, Via: "runfile"}, path)
	return res, run.Engine
}

var backupName = regexp.MustCompile(`\.cutover-[0-9]{8}T[0-9]{6}Z-[0-9a-f]+(-replaced)?(/|$)`)

// finalTree hashes every file under each host's opt/maestro, leaving out logs and
// naming INI backups and what copies kept aside without their run id, which
// legitimately differ between runs.
func (m *maestroLab) finalTree(t *testing.T) string {
	t.Helper()
	tree, err := m.lab.InstallTree([]string{"lui", "hub", "trk", "spare"}, func(rel string) string {
		return backupName.ReplaceAllString(rel, ".cutover-RUN$1$2")
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// actionCommands counts the commands of actions that change state (service starts and
// stops, the simulated installer) in the lab's audit log, per host.
func (m *maestroLab) actionCommands(t *testing.T) map[string]int {
	t.Helper()
	entries, err := m.lab.Audit()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range entries {
		if e.Kind != "exec" || e.Error != "" {
			continue
		}
		if strings.HasPrefix(e.Command, "maestroctl start") || strings.HasPrefix(e.Command, "maestroctl stop") || strings.HasPrefix(e.Command, "maestro-setup") {
			out[e.Host+": "+e.Command]++
		}
	}
	return out
}

// wantOnce is every state-changing command of a move-hub run, each exactly once.
var wantOnce = map[string]int{
	"lui: maestroctl stop": 1, "hub: maestroctl stop": 1, "trk: maestroctl stop": 1, "spare: maestroctl stop": 1,
	"spare: maestro-setup install --components hub": 1,
	"hub: maestro-setup remove hub":                 1,
	"spare: maestroctl start":                       1, "lui: maestroctl start": 1, "trk: maestroctl start": 1,
}

func checkCommandsOnce(t *testing.T, m *maestroLab) {
	t.Helper()
	got := m.actionCommands(t)
	if fmt.Sprint(got) != fmt.Sprint(wantOnce) {
		t.Errorf("state-changing commands in the lab's audit log:\n  %v\nwant each once:\n  %v", got, wantOnce)
	}
}

// checkEnded demands a run that ended done, every step done or skipped.
func checkEnded(t *testing.T, e *steps.Engine) {
	t.Helper()
	st := e.State()
	if !st.Ended || st.Outcome != steps.RunDone {
		t.Fatalf("run ended=%v outcome %q: %s", st.Ended, st.Outcome, st.Message)
	}
	for _, ss := range st.Steps {
		if ss.Status != steps.StepDone && ss.Status != steps.StepSkipped {
			t.Errorf("step %s is %s", ss.ID(), ss.Status)
		}
	}
}

// checkDone is checkEnded, and no action started twice according to the journal.
func checkDone(t *testing.T, e *steps.Engine) {
	t.Helper()
	checkEnded(t, e)
	for _, ss := range e.State().Steps {
		if ss.ActionRuns > 1 {
			t.Errorf("step %s: its action started %d times", ss.ID(), ss.ActionRuns)
		}
	}
}

// reference runs move-hub uninterrupted once and returns the final tree and the
// number of transitions it took.
func reference(t *testing.T) (string, int) {
	t.Helper()
	m := startMaestroLab(t)
	run, n := m.runTransitions(t, -1, nil)
	defer run.Close()
	checkDone(t, run.Engine)
	checkCommandsOnce(t, m)
	return m.finalTree(t), n
}

// TestResumeAtEveryTransition interrupts a lab run of move-hub after each transition in
// turn, resumes it from the journal and drives it to the end: the hosts must end as an
// uninterrupted run leaves them, and no action may run twice.
func TestResumeAtEveryTransition(t *testing.T) {
	want, total := reference(t)
	if total < 30 {
		t.Fatalf("an uninterrupted run took only %d transitions", total)
	}
	ns := make([]int, 0, total)
	for n := 0; n < total; n++ {
		ns = append(ns, n)
	}
	if testing.Short() {
		// A sample that covers every kind of transition early, mid-run and at the end.
		ns = []int{0, 1, 3, 7, total / 2, total - 5, total - 1}
	}
	for _, n := range ns {
		t.Run(fmt.Sprintf("after-%02d", n), func(t *testing.T) {
			t.Parallel()
			m := startMaestroLab(t)
			run, done := m.runTransitions(t, n, nil)
			path := run.Journal.Path()
			if done != n {
				t.Fatalf("made %d transitions, want %d", done, n)
			}
			if err := run.Close(); err != nil {
				t.Fatal(err)
			}
			res, e := m.resumeAndDrive(t, path, m.rf.Answers)
			if res.Code != headless.ExitDone {
				t.Fatalf("resumed run: code %d: %s", res.Code, res.Message)
			}
			checkDone(t, e)
			if got := m.finalTree(t); got != want {
				t.Errorf("hosts after the resumed run differ from an uninterrupted run:\n%s", diffLines(want, got))
			}
			checkCommandsOnce(t, m)
			if err := journal.Verify(path); err != nil {
				t.Errorf("journal: %v", err)
			}
			if e.State().Resumes != 1 {
				t.Errorf("resumes %d, want 1", e.State().Resumes)
			}
		})
	}
}

func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}

// journalLines reads a journal's lines.
func journalLines(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
}

// truncateAfter cuts the journal after the first line that matches.
func truncateAfter(t *testing.T, path string, match func(*steps.Event) bool) {
	t.Helper()
	lines := journalLines(t, path)
	var keep []byte
	for _, l := range lines {
		keep = append(keep, l...)
		ev := &steps.Event{}
		if err := json.Unmarshal(bytes.TrimSpace(l), ev); err != nil {
			t.Fatal(err)
		}
		if match(ev) {
			if !bytes.HasSuffix(keep, []byte("\n")) {
				keep = append(keep, '\n')
			}
			if err := os.WriteFile(path, keep, 0o600); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatal("no journal line matches")
}

func withAnswer(answers map[string]*steps.Answer, step string, change func(*steps.Answer)) map[string]*steps.Answer {
	out := map[string]*steps.Answer{}
	for k, v := range answers {
		cp := *v
		out[k] = &cp
	}
	a := out[step]
	if a == nil {
		a = &steps.Answer{}
		out[step] = a
	}
	change(a)
	return out
}

// TestResumeAfterCrashMidAction: the process died after journaling an action's start
// and after the action happened. Resume must not run it again by itself: it checks the
// gates and asks; accept completes the run without running the action again.
func TestResumeAfterCrashMidAction(t *testing.T) {
	const step = "uninstall-old-hub"
	m := startMaestroLab(t)
	run, _ := m.runTransitions(t, -1, func(e *steps.Engine) bool {
		ss := e.State().Step(step)
		return ss != nil && ss.ActionDone
	})
	path := run.Journal.Path()
	run.Close()
	truncateAfter(t, path, func(ev *steps.Event) bool { return ev.Type == steps.EvActionStart && ev.Step == step })
	if _, err := os.Stat(filepath.Join(m.lab.HostRoot("hub"), "opt", "maestro", "hub")); !os.IsNotExist(err) {
		t.Fatal("the action did not happen before the crash")
	}

	res, e := m.resumeAndDrive(t, path, m.rf.Answers)
	if res.Code != headless.ExitNeedsOp || res.Prompt == nil || res.Prompt.Kind != steps.AskUnknown || res.Prompt.Step != step {
		t.Fatalf("resume after a crash mid-action: code %d, prompt %+v: %s", res.Code, res.Prompt, res.Message)
	}
	if len(res.Prompt.Gates) != 1 || res.Prompt.Gates[0].Status != steps.Pass {
		t.Errorf("the prompt should carry the gate results, checked first: %+v", res.Prompt.Gates)
	}
	if !res.Prompt.Allows(steps.Accept) || !res.Prompt.Allows(steps.Rerun) {
		t.Errorf("choices %v: with the gates passing, accept and rerun are offered", res.Prompt.Choices)
	}
	if !strings.Contains(res.Message, "outcome is unknown") {
		t.Errorf("message %q", res.Message)
	}
	if got := m.actionCommands(t)["hub: maestro-setup remove hub"]; got != 1 {
		t.Fatalf("the uninstaller ran %d times before the operator decided", got)
	}
	if e.Finished() {
		t.Fatal("the run ended without the operator deciding")
	}

	res, e = m.resumeAndDrive(t, path, withAnswer(m.rf.Answers, step, func(a *steps.Answer) { a.Unknown = "accept" }))
	if res.Code != headless.ExitDone {
		t.Fatalf("accept: code %d: %s", res.Code, res.Message)
	}
	checkDone(t, e)
	checkCommandsOnce(t, m)
	if e.State().Resumes != 2 {
		t.Errorf("resumes %d, want 2", e.State().Resumes)
	}
}

// TestResumeAfterCrashBeforeAction: the start was journaled but the action never ran.
// Its gates fail, so accept is refused; rerun performs it once.
func TestResumeAfterCrashBeforeAction(t *testing.T) {
	const step = "uninstall-old-hub"
	m := startMaestroLab(t)
	run, _ := m.runTransitions(t, -1, func(e *steps.Engine) bool {
		ss := e.State().Step(step)
		return ss != nil && ss.Confirmed
	})
	path := run.Journal.Path()
	run.Close()
	// Journal the action's start, as the engine does just before acting, and "crash".
	w, j, err := journal.Append(path)
	if err != nil {
		t.Fatal(err)
	}
	start := &steps.Event{Seq: len(j.Events) + 1, Time: time.Now(), Type: steps.EvActionStart, Step: step,
		Action: &steps.ActionRecord{Kind: "run", Answer: true, Hosts: []string{"hub"}, Commands: []string{"maestro-setup remove hub"},
			Summary: "perform the manual step with a command on hub"}}
	if err := w.Record(start); err != nil {
		t.Fatal(err)
	}
	w.Close()

	res, _ := m.resumeAndDrive(t, path, withAnswer(m.rf.Answers, step, func(a *steps.Answer) { a.Unknown = "accept" }))
	if res.Code != headless.ExitNeedsOp || res.Prompt == nil || res.Prompt.Kind != steps.AskUnknown {
		t.Fatalf("code %d prompt %+v: %s", res.Code, res.Prompt, res.Message)
	}
	if res.Prompt.Allows(steps.Accept) {
		t.Errorf("accept is offered although the gate fails: %v", res.Prompt.Choices)
	}
	if len(res.Prompt.Failed) != 1 || !strings.Contains(res.Prompt.Failed[0].Summary, "still exists") {
		t.Errorf("failed gates %+v", res.Prompt.Failed)
	}
	if got := m.actionCommands(t)["hub: maestro-setup remove hub"]; got != 0 {
		t.Fatalf("the uninstaller ran %d times without the operator deciding", got)
	}

	// Directly on the engine: accept is refused, rerun performs the action.
	run, err = m.cfg.Resume(context.Background(), path, m.rb, runner.ResumeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	e := run.Engine
	wantRefused(t, e, steps.Decision{Kind: steps.Accept}, "accept is not possible here")
	mustDecide(t, e, steps.Decision{Kind: steps.Rerun})
	res = headless.Drive(context.Background(), e, m.answerer(), path)
	if res.Code != headless.ExitDone {
		t.Fatalf("rerun: code %d: %s", res.Code, res.Message)
	}
	checkEnded(t, e)
	checkCommandsOnce(t, m)
	// Two starts are journaled (the one that never ran, and the rerun); the audit log
	// above proves the uninstaller ran once.
	if got := e.State().Step(step).ActionRuns; got != 2 {
		t.Errorf("action starts recorded: %d, want 2", got)
	}
}

// TestResumeTornLastLine: a power cut left half a line at the end of the journal.
func TestResumeTornLastLine(t *testing.T) {
	want, _ := reference(t)
	m := startMaestroLab(t)
	run, _ := m.runTransitions(t, 20, nil)
	path := run.Journal.Path()
	run.Close()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"seq":999,"time":"2024-01-01T00:00:00Z","type":"check","step":"poi`)
	f.Close()
	if j, err := journal.Read(path); err != nil || !j.Torn {
		t.Fatalf("the torn journal reads as %v, %v", j, err)
	}
	res, e := m.resumeAndDrive(t, path, m.rf.Answers)
	if res.Code != headless.ExitDone {
		t.Fatalf("code %d: %s", res.Code, res.Message)
	}
	checkDone(t, e)
	checkCommandsOnce(t, m)
	if got := m.finalTree(t); got != want {
		t.Errorf("final tree differs:\n%s", diffLines(want, got))
	}
	j, err := journal.Read(path)
	if err != nil || j.Torn || j.Broken != nil {
		t.Errorf("the resumed journal: torn=%v broken=%v err=%v", j != nil && j.Torn, j != nil && j.Broken != nil, err)
	}
}

// TestResumeChangedRunbook: a runbook that changed since the run was recorded is
// refused unless allowed; allowed, a recorded step the runbook no longer has is an
// error that names it (not a crash), and a changed text is fine.
func TestResumeChangedRunbook(t *testing.T) {
	lh := newLocalHosts(t, "h1")
	const two = `  - id: first
    title: First
    manual: true
  - id: second
    title: Second
    manual: true
`
	rb := parseRunbook(t, two)
	rec := &memRec{}
	e := startLocal(t, lh, rb, map[string]string{"password": "pw"}, rec, nil)
	wantPrompt(t, untilPrompt(t, e), "first", steps.AskConfirm)

	changed := parseRunbook(t, strings.Replace(two, "title: Second", "title: Second, reworded", 1))
	_, err := steps.Resume(rec.events, changed, lh.lookup, &memRec{}, steps.Options{Secrets: map[string]string{"password": "pw"}})
	var ie *steps.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "changed since this run was recorded") {
		t.Errorf("resume with a changed runbook: %v", err)
	}
	e2, err := steps.Resume(rec.events, changed, lh.lookup, &memRec{}, steps.Options{Secrets: map[string]string{"password": "pw"}, AllowChanged: true})
	if err != nil {
		t.Fatalf("allowed: %v", err)
	}
	wantPrompt(t, untilPrompt(t, e2), "first", steps.AskConfirm)

	fewer := parseRunbook(t, `  - id: first
    title: First
    manual: true
`)
	var e3 *steps.Engine
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Errorf("resume with a runbook that lost a recorded step panicked: %v", p)
			}
		}()
		e3, err = steps.Resume(rec.events, fewer, lh.lookup, &memRec{}, steps.Options{Secrets: map[string]string{"password": "pw"}, AllowChanged: true})
		if err == nil {
			mustDecide(t, e3, steps.Decision{Kind: steps.Confirm})
			untilPrompt(t, e3)
		}
	}()
	if err == nil || !strings.Contains(err.Error(), "second") {
		t.Errorf("a recorded step missing from the runbook: %v, want an error naming it", err)
	}
}
