package steps_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/steps"
)

// TestAnswerCommandWithASecretIsRefused: an answer command is journaled as typed (a
// resume or replay runs it again), so one that holds a secret parameter's value is
// refused rather than written down.
func TestAnswerCommandWithASecretIsRefused(t *testing.T) {
	lh := newLocalHosts(t, "h1")
	rb := parseRunbook(t, `  - id: by-hand
    title: Do it by hand
    manual: true
    text: Put the password where the service reads it.
    gates:
      - file_exists: {role: a, path: done.txt}
`)
	rec := &memRec{}
	e := startLocal(t, lh, rb, map[string]string{"password": "hunter22"}, rec, nil)
	p := untilPrompt(t, e)
	if p == nil || p.Kind != steps.AskConfirm || !p.Checked {
		t.Fatalf("want the confirmation of a checked manual step, got %+v", p)
	}
	err := e.Decide(steps.Decision{Kind: steps.Confirm, Run: &steps.AnswerRun{Role: "a", Command: "echo hunter22 > secret.txt; touch done.txt"}})
	if err == nil || !strings.Contains(err.Error(), "secret") {
		t.Fatalf("an answer command with a secret in it: %v, want a refusal", err)
	}
	if err := e.Decide(steps.Decision{Kind: steps.Confirm, Run: &steps.AnswerRun{Role: "a", Command: "touch done.txt"}}); err != nil {
		t.Fatalf("an answer command without a secret: %v", err)
	}
	if p := untilPrompt(t, e); p != nil || !e.Finished() {
		t.Fatalf("the run did not finish: %+v", p)
	}
	for _, ev := range rec.events {
		if ev.Decision != nil && ev.Decision.Run != nil && strings.Contains(ev.Decision.Run.Command, "hunter22") {
			t.Errorf("the secret reached the journal: %+v", ev.Decision.Run)
		}
	}
}

// TestPromptSaysWhetherAConfirmationIsChecked: a manual step whose gates are all
// conditioned off on these hosts is not checked, so a replay does not answer it alone.
func TestPromptSaysWhetherAConfirmationIsChecked(t *testing.T) {
	lh := newLocalHosts(t, "h1")
	rb := parseRunbook(t, `  - id: by-hand
    title: Do it by hand
    manual: true
    text: Something only an operator can see.
    gates:
      - name: only for another word
        when: params.word == "other"
        file_exists: {role: a, path: done.txt}
`)
	e := startLocal(t, lh, rb, map[string]string{"password": "pw-1"}, &memRec{}, nil)
	p := untilPrompt(t, e)
	if p == nil || p.Kind != steps.AskConfirm || p.Checked {
		t.Fatalf("want an unchecked confirmation, got %+v", p)
	}
	a := &steps.Answerer{Via: "replay", Answers: map[string]*steps.Answer{"by-hand": {Confirm: true, NeedsCheck: true}}}
	if d, ok := a.Decide(p); ok {
		t.Errorf("a replayed confirmation answered a step nothing checks: %+v", d)
	}
}

// TestFailedAnswerCommandCanBeTriedAgain: when the command that was to perform a manual
// step fails, the operator may give another command, or do the step by hand and
// confirm it; either way the step's gates decide, and the journal folds the same.
func TestFailedAnswerCommandCanBeTriedAgain(t *testing.T) {
	for _, again := range []*steps.AnswerRun{{Role: "a", Command: "touch done.txt"}, nil} {
		name := "by hand"
		if again != nil {
			name = "another command"
		}
		t.Run(name, func(t *testing.T) {
			lh := newLocalHosts(t, "h1")
			rb := parseRunbook(t, `  - id: by-hand
    title: Do it by hand
    manual: true
    text: Make the file.
    gates:
      - file_exists: {role: a, path: done.txt}
`)
			rec := &memRec{}
			e := startLocal(t, lh, rb, map[string]string{"password": "pw-1"}, rec, nil)
			untilPrompt(t, e)
			if err := e.Decide(steps.Decision{Kind: steps.Confirm, Run: &steps.AnswerRun{Role: "a", Command: "exit 3"}}); err != nil {
				t.Fatal(err)
			}
			p := untilPrompt(t, e)
			if p == nil || p.Kind != steps.AskActionFailed || !p.Allows(steps.Confirm) || !p.Manual {
				t.Fatalf("after the failed command: %+v, want an action failure that takes a confirmation", p)
			}
			if again == nil {
				// Done by hand meanwhile.
				if err := os.WriteFile(filepath.Join(lh.hosts["h1"].InstallDir, "done.txt"), []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := e.Decide(steps.Decision{Kind: steps.Confirm, Run: again}); err != nil {
				t.Fatal(err)
			}
			if p := untilPrompt(t, e); p != nil || !e.Finished() {
				t.Fatalf("the run did not finish: %+v", p)
			}
			if st := steps.NewRunState(rec.events); st.Outcome != steps.RunDone || st.Step("by-hand").Status != steps.StepDone {
				t.Errorf("the journal folds to %q, step %q", st.Outcome, st.Step("by-hand").Status)
			}
		})
	}
}
