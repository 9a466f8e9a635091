package steps

import "testing"

// TestReplayedOverrideAnswersOnlyWhatItAnswered: an override recorded for failed
// pre-checks must not pass the step's failed gates in a replay, while an override in a
// run file (no recorded target) answers any failure of its step.
func TestReplayedOverrideAnswersOnlyWhatItAnswered(t *testing.T) {
	failed := func(on DecisionOn) *Prompt {
		return &Prompt{Step: "s1", Kind: AskCheckFailed, On: on, Choices: []DecisionKind{Retry, Override, Abort}}
	}
	replayed := &Answerer{Via: "replay", Answers: map[string]*Answer{
		"s1": {Override: "replayed from the recording: disk nearly full", OverrideOn: []DecisionOn{OnPre}},
	}}
	if d, ok := replayed.Decide(failed(OnGates)); ok {
		t.Errorf("a recorded pre-check override answered a failed gate: %+v", d)
	}
	if d, ok := replayed.Decide(failed(OnPre)); !ok || d.Kind != Override {
		t.Errorf("the recorded pre-check override did not answer failed pre-checks: %+v, %v", d, ok)
	}
	runFile := &Answerer{Via: "runfile", Answers: map[string]*Answer{"s1": {Override: "known noise"}}}
	if d, ok := runFile.Decide(failed(OnGates)); !ok || d.Kind != Override {
		t.Errorf("a run file's override did not answer a failed gate: %+v, %v", d, ok)
	}
}

// TestRedactLongestSecretFirst: of two secrets where one begins the other, the longer
// is replaced whole.
func TestRedactLongestSecretFirst(t *testing.T) {
	got := redactText("token=Winter2024!x9 pin=Winter", []string{"Winter", "Winter2024!x9"})
	if want := "token=[secret] pin=[secret]"; got != want {
		t.Errorf("redactText = %q, want %q", got, want)
	}
}

// TestSkipAnswersAnyQuestionOfAnOptionalStep: a recorded or written skip of an optional
// step answers its failed pre-checks too, not only its confirmation; a step that is not
// optional is never skipped.
func TestSkipAnswersAnyQuestionOfAnOptionalStep(t *testing.T) {
	optional := &Prompt{Step: "s1", Kind: AskCheckFailed, On: OnPre, Optional: true, Choices: []DecisionKind{Retry, Override, Skip, Abort}}
	a := &Answerer{Via: "replay", Answers: map[string]*Answer{"s1": {Skip: "no external database here"}}}
	if d, ok := a.Decide(optional); !ok || d.Kind != Skip || d.Reason != "no external database here" {
		t.Errorf("a skip did not answer the failed pre-checks of an optional step: %+v, %v", d, ok)
	}
	required := &Prompt{Step: "s2", Kind: AskCheckFailed, On: OnPre, Choices: []DecisionKind{Retry, Override, Abort}}
	a = &Answerer{Via: "replay", Answers: map[string]*Answer{"s2": {Skip: "whatever"}}}
	if d, ok := a.Decide(required); ok {
		t.Errorf("a step that cannot be skipped was answered: %+v", d)
	}
}
