package journal_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
)

var jT0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// jEvents returns n events as the engine records them: a session, a plan, then notes.
func jEvents(n int) []*steps.Event {
	var out []*steps.Event
	for i := 1; i <= n; i++ {
		ev := &steps.Event{Seq: i, Time: jT0.Add(time.Duration(i) * time.Second), Type: steps.EvNote, Message: fmt.Sprintf("note %d", i)}
		switch i {
		case 1:
			ev.Type, ev.Message, ev.Session = steps.EvSession, "", &steps.Session{RunID: "r1", Runbook: "test/j", Roles: map[string]string{"old": "hub"}}
		case 2:
			ev.Type, ev.Message, ev.Plan = steps.EvPlan, "", []steps.PlannedStep{{ID: "a", Title: "A"}}
		}
		out = append(out, ev)
	}
	return out
}

// jWrite creates a journal at a new path in a temporary folder and records events.
func jWrite(t *testing.T, events []*steps.Event) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run.jsonl")
	w, err := journal.Create(path)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	for _, ev := range events {
		if err := w.Record(ev); err != nil {
			t.Fatalf("Record: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return path
}

func jLines(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(data, []byte("\n")) {
		t.Fatalf("the journal does not end with a newline: %q", data)
	}
	return bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
}

func jRewrite(t *testing.T, path string, lines [][]byte, final string) {
	t.Helper()
	data := append(bytes.Join(lines, []byte("\n")), final...)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCreateRefusesAnExistingFile(t *testing.T) {
	path := jWrite(t, jEvents(2))
	before, _ := os.ReadFile(path)
	if _, err := journal.Create(path); err == nil || !errors.Is(err, fs.ErrExist) {
		t.Errorf("Create of an existing journal = %v, want an error that it exists", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("Create changed the existing journal")
	}
}

func TestCreateMakesTheFolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "run.jsonl")
	w, err := journal.Create(path)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	defer w.Close()
	if w.Path() != path {
		t.Errorf("Path() = %q", w.Path())
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("journal file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
}

func TestRecordWritesOneChainedLinePerEvent(t *testing.T) {
	events := jEvents(4)
	path := jWrite(t, events)
	lines := jLines(t, path)
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4", len(lines))
	}
	j, err := journal.Read(path)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if j.Torn || j.Broken != nil || len(j.Events) != 4 || j.Path != path {
		t.Fatalf("journal: torn %v broken %v events %d", j.Torn, j.Broken, len(j.Events))
	}
	for i, ev := range j.Events {
		want := ""
		if i > 0 {
			sum := sha256.Sum256(lines[i-1])
			want = hex.EncodeToString(sum[:])
		}
		if ev.Prev != want {
			t.Errorf("line %d: prev = %q, want the SHA-256 of line %d (%q)", i+1, ev.Prev, i, want)
		}
		if ev.Seq != i+1 || ev.Type != events[i].Type || !ev.Time.Equal(events[i].Time) || ev.Message != events[i].Message {
			t.Errorf("event %d read back as %+v", i+1, ev)
		}
	}
	if j.Events[0].Session == nil || j.Events[0].Session.Roles["old"] != "hub" || j.Events[1].Plan[0].ID != "a" {
		t.Error("session and plan did not survive the round trip")
	}
	if err := journal.Verify(path); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestRecordAfterCloseFails(t *testing.T) {
	w, err := journal.Create(filepath.Join(t.TempDir(), "run.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("a second Close = %v, want nil", err)
	}
	if err := w.Record(jEvents(1)[0]); err == nil {
		t.Error("Record after Close succeeded")
	}
}

func TestConcurrentRecordsKeepTheChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.jsonl")
	w, err := journal.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seq := 0
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				// Sequence numbers and writes must be in the same order: the engine does
				// both from one goroutine; here a lock stands in for it.
				mu.Lock()
				seq++
				err := w.Record(&steps.Event{Seq: seq, Type: steps.EvNote, Message: fmt.Sprintf("g%d-%d", g, i)})
				mu.Unlock()
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	w.Close()
	if err := journal.Verify(path); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestTornLastLine(t *testing.T) {
	path := jWrite(t, jEvents(3))
	data, _ := os.ReadFile(path)
	lines := jLines(t, path)
	// Cut the file in the middle of line 3, as a power cut during the write would.
	cut := len(data) - len(lines[2])/2
	if err := os.Truncate(path, int64(cut)); err != nil {
		t.Fatal(err)
	}
	j, err := journal.Read(path)
	if err != nil {
		t.Fatalf("Read of a torn journal: %v", err)
	}
	if !j.Torn || len(j.Events) != 2 || j.Broken != nil {
		t.Fatalf("torn %v, %d events, broken %v; want torn with 2 events", j.Torn, len(j.Events), j.Broken)
	}

	w, j2, err := journal.Append(path)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if len(j2.Events) != 2 || !j2.Torn {
		t.Errorf("Append returned %d events, torn %v", len(j2.Events), j2.Torn)
	}
	ev := &steps.Event{Seq: 3, Type: steps.EvResume, Message: "resumed"}
	if err := w.Record(ev); err != nil {
		t.Fatal(err)
	}
	w.Close()
	got := jLines(t, path)
	if len(got) != 3 || !bytes.Equal(got[0], lines[0]) || !bytes.Equal(got[1], lines[1]) {
		t.Fatalf("after Append the file is:\n%s", bytes.Join(got, []byte("\n")))
	}
	j, err = journal.Read(path)
	if err != nil || j.Torn || j.Broken != nil || len(j.Events) != 3 || j.Events[2].Type != steps.EvResume {
		t.Fatalf("Read after Append: err %v torn %v broken %v events %d", err, j.Torn, j.Broken, len(j.Events))
	}
}

func TestLastLineWithoutItsNewline(t *testing.T) {
	// The write of the last event reached the disk but its newline did not.
	path := jWrite(t, jEvents(3))
	lines := jLines(t, path)
	jRewrite(t, path, lines, "")
	j, err := journal.Read(path)
	if err != nil || j.Torn || len(j.Events) != 3 {
		t.Fatalf("Read: err %v torn %v events %d; want the 3 events, nothing torn", err, j.Torn, len(j.Events))
	}
	w, _, err := journal.Append(path)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if err := w.Record(&steps.Event{Seq: 4, Type: steps.EvResume}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	j, err = journal.Read(path)
	if err != nil {
		t.Fatalf("Read after Append: %v", err)
	}
	if len(j.Events) != 4 || j.Broken != nil || j.Torn {
		t.Errorf("after Append: %d events, broken %v, torn %v; want 4 whole events", len(j.Events), j.Broken, j.Torn)
	}
}

func TestAppendContinuesTheChain(t *testing.T) {
	path := jWrite(t, jEvents(2))
	w, j, err := journal.Append(path)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if len(j.Events) != 2 {
		t.Fatalf("%d events", len(j.Events))
	}
	for i := 3; i <= 4; i++ {
		if err := w.Record(&steps.Event{Seq: i, Type: steps.EvNote}); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	if err := journal.Verify(path); err != nil {
		t.Errorf("Verify after Append: %v", err)
	}
}

func TestDamagedLines(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(lines [][]byte) ([][]byte, string)
		wantErr string
	}{
		{
			name: "a middle line that is not JSON",
			damage: func(l [][]byte) ([][]byte, string) {
				l[1] = []byte(`{"seq":2,"type":"pl`)
				return l, "\n"
			},
			wantErr: "run.jsonl:2: damaged journal line (not a cutover event)",
		},
		{
			name: "a middle line that is JSON but not an event",
			damage: func(l [][]byte) ([][]byte, string) {
				l[1] = []byte(`{"hello":"world"}`)
				return l, "\n"
			},
			wantErr: "run.jsonl:2: damaged journal line",
		},
		{
			name: "an empty middle line",
			damage: func(l [][]byte) ([][]byte, string) {
				l[2] = nil
				return l, "\n"
			},
			wantErr: "run.jsonl:3: empty line in journal",
		},
		{
			name: "a damaged last line that has its newline",
			damage: func(l [][]byte) ([][]byte, string) {
				l[3] = []byte("garbage")
				return l, "\n"
			},
			wantErr: "run.jsonl:4: damaged journal line",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := jWrite(t, jEvents(4))
			lines, final := tt.damage(jLines(t, path))
			jRewrite(t, path, lines, final)
			_, err := journal.Read(path)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Read = %v, want an error containing %q", err, tt.wantErr)
			}
			if _, _, err := journal.Append(path); err == nil {
				t.Error("Append to a damaged journal succeeded")
			}
		})
	}
}

func TestEditedJournalsShowABrokenChain(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(lines [][]byte) [][]byte
		wantLine int
		wantMsg  string
	}{
		{
			name: "a changed message breaks the chain at the line after it",
			edit: func(l [][]byte) [][]byte {
				l[2] = bytes.Replace(l[2], []byte("note 3"), []byte("note X"), 1)
				return l
			},
			wantLine: 4,
			wantMsg:  "hash chain broken",
		},
		{
			name: "a changed prev breaks the chain at that line",
			edit: func(l [][]byte) [][]byte {
				l[1] = bytes.Replace(l[1], []byte(`"prev":"`), []byte(`"prev":"0`), 1)
				return l
			},
			wantLine: 2,
			wantMsg:  "hash chain broken",
		},
		{
			name:     "a removed line",
			edit:     func(l [][]byte) [][]byte { return append(l[:2], l[3:]...) },
			wantLine: 3,
			wantMsg:  "hash chain broken",
		},
		{
			name: "a line moved to the end",
			edit: func(l [][]byte) [][]byte {
				return [][]byte{l[0], l[1], l[3], l[4], l[2]}
			},
			wantLine: 3,
			wantMsg:  "hash chain broken",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := jWrite(t, jEvents(5))
			jRewrite(t, path, tt.edit(jLines(t, path)), "\n")
			j, err := journal.Read(path)
			if err != nil {
				t.Fatalf("Read: %v (an edited journal must still be readable)", err)
			}
			if j.Broken == nil || j.Broken.Line != tt.wantLine || !strings.Contains(j.Broken.Msg, tt.wantMsg) {
				t.Fatalf("Broken = %+v, want line %d", j.Broken, tt.wantLine)
			}
			err = journal.Verify(path)
			want := fmt.Sprintf("%s:line %d: ", path, tt.wantLine)
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Verify = %v, want an error starting with %q", err, want)
			}
		})
	}
}

func TestSequenceGapIsReported(t *testing.T) {
	events := jEvents(3)
	events[2].Seq = 7
	path := jWrite(t, events)
	j, err := journal.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if j.Broken == nil || j.Broken.Line != 3 || !strings.Contains(j.Broken.Msg, "sequence number 7, expected 3") {
		t.Errorf("Broken = %+v", j.Broken)
	}
}

func TestReadRefusesWhatIsNotAJournal(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content, wantErr string
	}{
		{"an empty file", "", "the journal has no events"},
		{"only a torn line", `{"seq":1,"ty`, "the journal has no events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := journal.Read(path); err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
				t.Errorf("Read = %v, want an error naming %s and containing %q", err, path, tt.wantErr)
			}
		})
	}
	if _, err := journal.Read(filepath.Join(dir, "missing.jsonl")); err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read of a missing file = %v", err)
	}
}

func TestNewPath(t *testing.T) {
	dir := t.TempDir()
	first := journal.NewPath(dir, "maestro/move-hub", jT0)
	if want := filepath.Join(dir, "maestro-move-hub-20240501T100000Z.jsonl"); first != want {
		t.Fatalf("NewPath = %q, want %q", first, want)
	}
	seen := map[string]bool{}
	for i := 0; i < 4; i++ {
		p := journal.NewPath(dir, "maestro/move-hub", jT0)
		if _, err := os.Lstat(p); err == nil {
			t.Fatalf("NewPath returned %q, which exists", p)
		}
		if seen[p] {
			t.Fatalf("NewPath returned %q twice", p)
		}
		seen[p] = true
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if !seen[filepath.Join(dir, "maestro-move-hub-20240501T100000Z-4.jsonl")] {
		t.Errorf("paths = %v, want counters 2, 3, 4", seen)
	}
	t.Run("a dangling symlink counts as taken", func(t *testing.T) {
		d := t.TempDir()
		taken := journal.NewPath(d, "x/y", jT0)
		if err := os.Symlink(filepath.Join(d, "nowhere"), taken); err != nil {
			t.Skip(err)
		}
		if p := journal.NewPath(d, "x/y", jT0); p == taken {
			t.Errorf("NewPath returned the symlink %q", p)
		}
	})
	t.Run("a folder that is a file does not make it loop", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		done := make(chan string, 1)
		go func() { done <- journal.NewPath(file, "x/y", jT0) }()
		select {
		case p := <-done:
			if _, err := journal.Create(p); err == nil {
				t.Errorf("Create(%q) inside a file succeeded", p)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("NewPath does not return when the folder is a file")
		}
	})
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("CUTOVER_JOURNALS", "/j")
	if got := journal.DefaultDir(); got != "/j" {
		t.Errorf("with CUTOVER_JOURNALS: %q", got)
	}
	t.Setenv("CUTOVER_JOURNALS", "")
	t.Setenv("XDG_STATE_HOME", "/state")
	if got := journal.DefaultDir(); got != filepath.Join("/state", "cutover", "journals") {
		t.Errorf("with XDG_STATE_HOME: %q", got)
	}
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/home/op")
	if got := journal.DefaultDir(); got != filepath.Join("/home/op", ".local", "state", "cutover", "journals") {
		t.Errorf("with HOME only: %q", got)
	}
}
