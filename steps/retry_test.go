package steps_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cutover/cutover/steps"
)

// manualSteps is a manual step behind a pre-check (a maintenance flag the operator
// must set first) whose gate checks the work.
const manualSteps = `  - id: swap-disk
    title: Swap the disk
    manual: true
    pre:
      - name: the maintenance flag is set
        file_exists: {role: a, path: maintenance}
    gates:
      - name: the new disk is mounted
        file_exists: {role: a, path: new-disk}
`

// TestResumeLooksAgainAtAFailedPreCheck: a manual step stopped by a failed pre-check
// is checked again when the run is resumed: once the operator has fixed the cause, the
// step asks for its confirmation; unfixed, it stops again on fresh evidence.
func TestResumeLooksAgainAtAFailedPreCheck(t *testing.T) {
	lh := newLocalHosts(t, "h1")
	rb := parseRunbook(t, manualSteps)
	rec := &memRec{}
	e := startLocal(t, lh, rb, map[string]string{"password": "pw"}, rec, nil)
	wantPrompt(t, untilPrompt(t, e), "swap-disk", steps.AskCheckFailed)
	opts := steps.Options{Pool: lh.pool, Secrets: map[string]string{"password": "pw"}}

	// Not fixed: the resume looks again, records the new result and stops again.
	rec2 := &memRec{}
	e2, err := steps.Resume(rec.events, rb, lh.lookup, rec2, opts)
	if err != nil {
		t.Fatal(err)
	}
	p := untilPrompt(t, e2)
	wantPrompt(t, p, "swap-disk", steps.AskCheckFailed)
	if ev := rec2.events[0]; ev.Type != steps.EvResume || ev.Step != "swap-disk" {
		t.Fatalf("the resume does not name the step it looks at again: %+v", ev)
	}
	if n := countChecks(rec2.events, steps.PhasePre); n != 1 {
		t.Fatalf("the resume made %d pre-check results, want 1", n)
	}

	// Fixed: the step now asks to be done, and its gate decides.
	if err := writeFile(filepath.Join(lh.root, "h1", "maintenance")); err != nil {
		t.Fatal(err)
	}
	all := append(append([]*steps.Event{}, rec.events...), rec2.events...)
	rec3 := &memRec{}
	e3, err := steps.Resume(all, rb, lh.lookup, rec3, opts)
	if err != nil {
		t.Fatal(err)
	}
	wantPrompt(t, untilPrompt(t, e3), "swap-disk", steps.AskConfirm)
	writeFile(filepath.Join(lh.root, "h1", "new-disk"))
	mustDecide(t, e3, steps.Decision{Kind: steps.Confirm})
	if p := untilPrompt(t, e3); p != nil || !e3.Finished() || e3.State().Step("swap-disk").Status != steps.StepDone {
		t.Fatalf("the run did not finish: %+v", p)
	}
	// The whole journal folds to the same end.
	all = append(all, rec3.events...)
	if st := steps.NewRunState(all); st.Outcome != steps.RunDone {
		t.Errorf("the journal folds to %q", st.Outcome)
	}
}

// TestDecideRetryLooksAgain: a failed gate (and a failed pre-check) is looked at again
// once when the answers say retry (what --decide STEP=retry gives); a retry that fails
// again stops the run rather than loop.
func TestDecideRetryLooksAgain(t *testing.T) {
	lh := newLocalHosts(t, "h1")
	rb := parseRunbook(t, manualSteps)
	writeFile(filepath.Join(lh.root, "h1", "maintenance"))
	e := startLocal(t, lh, rb, map[string]string{"password": "pw"}, &memRec{}, nil)
	ans := &steps.Answerer{Via: "flag", Answers: map[string]*steps.Answer{"swap-disk": {Confirm: true}}}
	p := answerAll(t, e, ans)
	wantPrompt(t, p, "swap-disk", steps.AskCheckFailed)
	if p.On != steps.OnGates {
		t.Fatalf("stopped on %s, want the gates", p.On)
	}
	// Retry without the fix: one more look, then it stops.
	ans.Answers["swap-disk"].Retry = true
	p = answerAll(t, e, ans)
	wantPrompt(t, p, "swap-disk", steps.AskCheckFailed)
	if n := len(e.State().Step("swap-disk").History); n != 3 {
		t.Fatalf("%d check results, want 3 (pre, gate, the retried gate)", n)
	}
	// With the fix, a fresh answerer (a new resume) retries and the gate passes.
	if err := os.WriteFile(filepath.Join(lh.root, "h1", "new-disk"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ans = &steps.Answerer{Via: "flag", Answers: map[string]*steps.Answer{"swap-disk": {Retry: true}}}
	if p := answerAll(t, e, ans); p != nil || !e.Finished() {
		t.Fatalf("the run did not finish: %+v", p)
	}
	last := e.State().Step("swap-disk").Decisions
	if d := last[len(last)-1]; d.Kind != steps.Retry || d.Via != "flag" {
		t.Errorf("last decision %+v, want a retry via flag", d)
	}
}

// answerAll advances e, answering prompts from a, until a prompt has no answer or
// the run ends; it returns that prompt (nil at the end).
func answerAll(t *testing.T, e *steps.Engine, a *steps.Answerer) *steps.Prompt {
	t.Helper()
	for {
		p := untilPrompt(t, e)
		if p == nil {
			return nil
		}
		d, ok := a.Decide(p)
		if !ok {
			return p
		}
		mustDecide(t, e, d)
	}
}

func countChecks(events []*steps.Event, phase steps.Phase) int {
	n := 0
	for _, ev := range events {
		if ev.Type == steps.EvCheck && ev.Check.Phase == phase {
			n++
		}
	}
	return n
}
