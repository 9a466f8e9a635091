package journal_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
)

// fuzzJournal is a small valid journal, written as the Writer writes it.
func fuzzJournal(f *testing.F) []byte {
	f.Helper()
	path := filepath.Join(f.TempDir(), "seed.jsonl")
	w, err := journal.Create(path)
	if err != nil {
		f.Fatal(err)
	}
	evs := append(jEvents(2),
		&steps.Event{Seq: 3, Type: steps.EvStepStart, Step: "a"},
		&steps.Event{Seq: 4, Type: steps.EvCheck, Step: "a", Check: &steps.CheckResult{Phase: "gate", Index: 0, Status: steps.Fail, Evidence: []string{"x"}}},
		&steps.Event{Seq: 5, Type: steps.EvActionStart, Step: "a", Action: &steps.ActionRecord{Kind: "run"}},
		&steps.Event{Seq: 6, Type: steps.EvDecision, Step: "a", Decision: &steps.Decision{Kind: steps.Override, On: steps.OnUnknown, Reason: "seen"}},
		&steps.Event{Seq: 7, Type: steps.EvStepEnd, Step: "a", Status: string(steps.StepOverridden)},
		&steps.Event{Seq: 8, Type: steps.EvRunEnd, Status: string(steps.RunDone)},
	)
	for _, ev := range evs {
		if err := w.Record(ev); err != nil {
			f.Fatal(err)
		}
	}
	w.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return data
}

func addJournalSeeds(f *testing.F) {
	good := fuzzJournal(f)
	f.Add(good)
	f.Add(good[:len(good)-1])  // the last newline lost
	f.Add(good[:len(good)-20]) // a torn last line
	f.Add(bytes.Replace(good, []byte("\n"), []byte("\r\n"), -1))
	f.Add([]byte(`{"seq":1,"type":"check","step":"a","check":{"phase":"pre","index":3}}` + "\n"))
	f.Add([]byte(`{"seq":1,"type":"decision","step":"a","decision":{"kind":"accept"}}` + "\n"))
	f.Add([]byte("\n\n"))
	f.Add([]byte(`{"seq":1,"type":"session","session":{"facts":{"h":{"clock_offset_ms":1e300}}}}` + "\n"))
	f.Add([]byte{})
}

// FuzzRead: the reader never panics on any bytes, and a journal it accepts can be folded
// into a run state (resume and export do exactly that) without panicking either.
func FuzzRead(f *testing.F) {
	addJournalSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := journal.Parse("fuzz.jsonl", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.jsonl") {
				t.Fatalf("error does not name the journal: %v", err)
			}
			return
		}
		if len(j.Events) == 0 {
			t.Fatal("a journal without events was accepted")
		}
		for _, ev := range j.Events {
			if ev == nil || ev.Type == "" {
				t.Fatalf("an event without a type was accepted: %+v", ev)
			}
		}
		if j.Broken != nil && j.Broken.Line < 1 {
			t.Fatalf("broken at line %d", j.Broken.Line)
		}
		rs := steps.NewRunState(j.Events)
		rs.Current()
		for _, s := range rs.Steps {
			s.Finished()
		}
	})
}

// FuzzAppendAfterRead: whatever journal the reader accepts, Append leaves it so that a
// new event reads back after the old ones, and the lines before it are untouched.
func FuzzAppendAfterRead(f *testing.F) {
	addJournalSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		old, err := journal.Parse("x", data)
		if err != nil {
			return
		}
		path := filepath.Join(t.TempDir(), "j.jsonl")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		w, _, err := journal.Append(path)
		if err != nil {
			t.Fatalf("Append of a readable journal: %v", err)
		}
		ev := &steps.Event{Seq: len(old.Events) + 1, Type: steps.EvResume, Message: "fuzz"}
		if err := w.Record(ev); err != nil {
			t.Fatal(err)
		}
		w.Close()
		j, err := journal.Read(path)
		if err != nil {
			t.Fatalf("Read after Append: %v", err)
		}
		if len(j.Events) != len(old.Events)+1 || j.Torn {
			t.Fatalf("%d events (torn %v) after appending one to %d", len(j.Events), j.Torn, len(old.Events))
		}
		last, _ := json.Marshal(j.Events[len(j.Events)-1])
		want, _ := json.Marshal(ev)
		if !bytes.Equal(last, want) {
			t.Fatalf("the appended event reads back as %s, want %s", last, want)
		}
		if (old.Broken == nil) != (j.Broken == nil) {
			t.Fatalf("appending changed the chain: before %v, after %v", old.Broken, j.Broken)
		}
	})
}
