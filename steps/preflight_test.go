package steps_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/steps"
)

// calibratedSteps is a runbook whose first step only checks, whose second changes
// something (a marker file written by a command), and whose third waits for a backup
// log with the site's wording, calibrated by the host's earlier logs.
const calibratedSteps = `  - id: look
    title: Only looks
    gates:
      - file_exists: {role: a, path: logs}
  - id: change
    title: Changes something
    action:
      run: {role: a, command: "touch changed"}
  - id: backup
    title: Back up
    manual: true
    gates:
      - name: The backup log says it completed
        newest_file:
          role: a
          path: logs/backup-*.log
          newer_than: step_start
          contains: ['{{ params.word }}']
          calibrate: {because: no vendor document gives the backup log's wording}
`

func writeLog(t *testing.T, lh *localHosts, name, content string, age time.Duration) {
	t.Helper()
	p := filepath.Join(lh.root, "h1", "logs", name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-age)
	if err := os.Chtimes(p, at, at); err != nil {
		t.Fatal(err)
	}
}

func changed(lh *localHosts) bool {
	_, err := os.Stat(filepath.Join(lh.root, "h1", "changed"))
	return err == nil
}

// TestPreflightStopsBeforeTheFirstChange: the site's logs never say what the gate looks
// for, so the run stops in front of the first step that changes something, with the
// lines the logs do hold; nothing has changed; a retry looks again, and once the wording
// is there (or the operator overrides with a reason) the run goes on.
func TestPreflightStopsBeforeTheFirstChange(t *testing.T) {
	lh := newLocalHosts(t, "h1")
	writeLog(t, lh, "backup-1.log", "backup started\nBackup finished OK\n", 48*time.Hour)
	writeLog(t, lh, "backup-2.log", "backup started\nBackup finished OK\n", 24*time.Hour)
	rb := parseRunbook(t, calibratedSteps)
	rec := &memRec{}
	e := startLocal(t, lh, rb, map[string]string{"password": "hunter2", "word": "(?i)backup completed"}, rec, nil)

	p := untilPrompt(t, e)
	if p == nil || p.Step != "change" || p.On != steps.OnPreflight || p.Kind != steps.AskCheckFailed {
		t.Fatalf("prompt %+v, want the preflight to stop in front of step change", p)
	}
	if changed(lh) {
		t.Fatal("the first change was made although the preflight failed")
	}
	if st := e.State().Step("look"); st.Status != steps.StepDone {
		t.Errorf("a step that only checks runs before the preflight: %s", st.Status)
	}
	if p.Allows(steps.Skip) || !p.Allows(steps.Override) || !p.Allows(steps.Retry) {
		t.Errorf("choices %v", p.Choices)
	}
	f := p.Failed[0]
	if !strings.Contains(f.Summary, "/(?i)backup completed/ never seen on h1") ||
		!strings.Contains(strings.Join(f.Evidence, "\n"), "backup-2.log line 2: Backup finished OK") {
		t.Errorf("failed preflight: %s\n%s", f.Summary, strings.Join(f.Evidence, "\n"))
	}
	var pre *steps.Event
	for _, ev := range rec.events {
		if ev.Type == steps.EvPreflight {
			pre = ev
		}
	}
	if pre == nil || len(pre.Preflight.Items) != 1 || pre.Preflight.Items[0].Step != "backup" || pre.Preflight.Items[0].Read != 2 {
		t.Fatalf("journaled preflight: %+v", pre)
	}
	var b strings.Builder
	if err := pre.Preflight.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Preflight: 1 gate's wording checked against the hosts' own history: 1 not seen there",
		"FAIL  backup, gate 1: The backup log says it completed", "| backup-2.log line 2: Backup finished OK",
		"assumes: no vendor document gives the backup log's wording"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}

	// The site's software starts writing the wording: a retry looks again and passes.
	writeLog(t, lh, "backup-3.log", "Backup completed\n", time.Hour)
	if err := e.Decide(steps.Decision{Kind: steps.Retry}); err != nil {
		t.Fatal(err)
	}
	p = untilPrompt(t, e)
	if p == nil || p.Step != "backup" || p.Kind != steps.AskConfirm {
		t.Fatalf("after the retry: %+v", p)
	}
	if !changed(lh) {
		t.Error("the run did not go on after the preflight passed")
	}
	rep := e.State().Preflight
	if it := rep.Items[0]; it.Seen != 1 || it.Read != 3 || !strings.HasSuffix(it.Newest, "backup-3.log") || !strings.Contains(it.Result.Summary, "seen in 1 of 3 earlier logs on h1 (newest backup-3.log") {
		t.Errorf("passing preflight: %+v %s", it, it.Result.Summary)
	}
}

func TestPreflightOverrideIsJournaled(t *testing.T) {
	lh := newLocalHosts(t, "h1")
	writeLog(t, lh, "backup-1.log", "Backup finished OK\n", 24*time.Hour)
	rb := parseRunbook(t, calibratedSteps)
	rec := &memRec{}
	e := startLocal(t, lh, rb, map[string]string{"password": "hunter2", "word": "completed"}, rec, nil)
	if p := untilPrompt(t, e); p == nil || p.On != steps.OnPreflight {
		t.Fatalf("prompt %+v", p)
	}
	if err := e.Decide(steps.Decision{Kind: steps.Override, Reason: ""}); err == nil {
		t.Error("an override without a reason was accepted")
	}
	if err := e.Decide(steps.Decision{Kind: steps.Override, Reason: "the vendor confirmed the new wording by phone"}); err != nil {
		t.Fatal(err)
	}
	if p := untilPrompt(t, e); p == nil || p.Step != "backup" {
		t.Fatalf("after the override: %+v", p)
	}
	st := steps.NewRunState(rec.events)
	if st.PreflightOverride != "the vendor confirmed the new wording by phone" || len(st.PreflightFailed()) != 0 {
		t.Errorf("override not folded: %q", st.PreflightOverride)
	}
}

// TestPreflightRunsAgainOnResumeWhileNothingChanged: a run stopped by its preflight is
// resumed after the history changed: the preflight looks again. Once something changed,
// a resume does not ask again.
func TestPreflightRunsAgainOnResumeWhileNothingChanged(t *testing.T) {
	lh := newLocalHosts(t, "h1")
	writeLog(t, lh, "backup-1.log", "Backup finished OK\n", 24*time.Hour)
	rb := parseRunbook(t, calibratedSteps)
	rec := &memRec{}
	e := startLocal(t, lh, rb, map[string]string{"password": "hunter2", "word": "Backup finished"}, rec, nil)
	if p := untilPrompt(t, e); p == nil || p.Step != "backup" {
		t.Fatalf("prompt %+v", p)
	}
	// Resuming after something changed keeps the recorded preflight.
	e2, err := steps.Resume(rec.events, rb, lh.lookup, rec, steps.Options{Pool: lh.pool, Operator: "tester@test", Secrets: map[string]string{"password": "hunter2"}})
	if err != nil {
		t.Fatal(err)
	}
	if e2.State().Preflight == nil {
		t.Error("a resume after the first change forgot the preflight")
	}

	// A run whose preflight failed, resumed when nothing changed: it runs again.
	lh2 := newLocalHosts(t, "h1")
	writeLog(t, lh2, "backup-1.log", "Backup finished OK\n", 24*time.Hour)
	rec2 := &memRec{}
	e3 := startLocal(t, lh2, rb, map[string]string{"password": "hunter2", "word": "completed"}, rec2, nil)
	if p := untilPrompt(t, e3); p == nil || p.On != steps.OnPreflight {
		t.Fatalf("prompt %+v", p)
	}
	writeLog(t, lh2, "backup-2.log", "Backup completed\n", time.Hour)
	e4, err := steps.Resume(rec2.events, rb, lh2.lookup, rec2, steps.Options{Pool: lh2.pool, Operator: "tester@test", Secrets: map[string]string{"password": "hunter2"}})
	if err != nil {
		t.Fatal(err)
	}
	if e4.State().Preflight != nil {
		t.Fatal("the resume kept the failed preflight")
	}
	if p := untilPrompt(t, e4); p == nil || p.Step != "backup" || !changed(lh2) {
		t.Fatalf("after the resume: %+v", p)
	}
	n := 0
	for _, ev := range rec2.events {
		if ev.Type == steps.EvPreflight {
			n++
		}
		if ev.Type == steps.EvResume && !strings.Contains(ev.Message, "the preflight looks at the hosts' history again") {
			t.Errorf("the resume does not say the preflight runs again: %s", ev.Message)
		}
	}
	if n != 2 {
		t.Errorf("%d preflights journaled, want 2", n)
	}
}

// TestPreflightOfTheWizardsPlanScreen: Preflight reports the same as the engine, before
// any run, and changes nothing.
func TestPreflightOfTheWizardsPlanScreen(t *testing.T) {
	lh := newLocalHosts(t, "h1")
	writeLog(t, lh, "backup-1.log", "Backup finished OK\n", 24*time.Hour)
	rb := parseRunbook(t, calibratedSteps)
	plan, err := steps.Prepare(rb, lh.lookup, steps.Inputs{Roles: map[string]string{"a": "h1"}, Params: map[string]string{"password": "hunter2", "word": "finished OK"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := steps.Preflight(t.Context(), plan, lh.pool)
	if len(rep.Items) != 1 || len(rep.Failed()) != 0 || rep.Items[0].Seen != 1 {
		t.Errorf("report %+v", rep)
	}
	if changed(lh) {
		t.Error("the preflight changed something")
	}
}
