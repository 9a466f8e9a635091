package steps_test

import (
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
