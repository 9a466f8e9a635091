package steps_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
)

// TestShortSecretKeepsTheJournalWhole: a secret of one letter, found in nearly every
// string, is removed from every piece of text and from none of the fields the fold and
// resume rely on, so the run ends, the journal reads back as the same run, and a
// resume from any point goes on. (Redacting the JSON text as a whole turned "type" into
// "[secret]ype" and looped forever.)
func TestShortSecretKeepsTheJournalWhole(t *testing.T) {
	lh := newLocalHosts(t, "h1")
	rb := parseRunbook(t, `  - id: store-it
    title: Store it
    action:
      run: {role: a, command: "echo set {{ params.password }} > stored.txt; echo done"}
    gates:
      - file_exists: {role: a, path: stored.txt}
  - id: check-it
    title: Check it
    gates:
      - command: {role: a, run: "cat stored.txt", output_contains: ['set']}
`)
	path := filepath.Join(t.TempDir(), "run.jsonl")
	w, err := journal.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	e := startLocal(t, lh, rb, map[string]string{"password": "e"}, w, nil)
	if p := untilPrompt(t, e); p != nil || !e.Finished() {
		t.Fatalf("the run did not finish: %+v", p)
	}
	w.Close()
	j, err := journal.Read(path)
	if err != nil || j.Broken != nil {
		t.Fatalf("journal: %v %v", err, j.Broken)
	}
	st := steps.NewRunState(j.Events)
	if st.Outcome != steps.RunDone || st.Step("store-it").Status != steps.StepDone {
		t.Fatalf("the journal reads as outcome %q", st.Outcome)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data := string(raw)
	if !strings.Contains(data, "[secret]") || strings.Contains(data, `"[secret]ype"`) {
		t.Errorf("redaction should touch text only")
	}
	for _, ev := range j.Events {
		if ev.Type == steps.EvActionResult && strings.Contains(strings.ReplaceAll(strings.Join(ev.Action.Output, " "), "[secret]", ""), "e") {
			t.Errorf("the secret is left in the output: %q", ev.Action.Output)
		}
	}
	// Resume from a prefix: the session's inputs are intact.
	for n := 3; n < len(j.Events); n += 3 {
		if _, err := steps.Resume(j.Events[:n], rb, lh.lookup, &memRec{}, steps.Options{Pool: lh.pool, Secrets: map[string]string{"password": "e"}}); err != nil {
			t.Fatalf("resume after %d events: %v", n, err)
		}
	}
}
