package tui

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// panicPage is a page with a bug: any key makes it panic.
type panicPage struct{}

func (panicPage) Init() tea.Cmd { return nil }
func (panicPage) Update(msg tea.Msg) (page, tea.Cmd) {
	if _, ok := msg.(tea.KeyPressMsg); ok {
		panic("a bug in a page")
	}
	return panicPage{}, nil
}
func (panicPage) View(int, int) string      { return "about to panic" }
func (panicPage) Title() string             { return "panic" }
func (panicPage) Help() []key.Binding       { return nil }
func (panicPage) FullHelp() [][]key.Binding { return nil }
func (panicPage) Capture() capture          { return captureNone }

// TestPanicMidRunLeavesAResumableJournal runs the real program loop over a run waiting
// at a manual step; a page panics. The program ends (Bubble Tea restores the terminal),
// the run is stopped and its journal closed, the error says how to resume, and the run
// resumes.
func TestPanicMidRunLeavesAResumableJournal(t *testing.T) {
	h, _ := labHarness(t)
	rp := startRun(t, h)
	h.r.stack = append(h.r.stack, panicPage{})

	in, keys := io.Pipe()
	go func() { _, _ = keys.Write([]byte("x")) }()
	err := runProgram(context.Background(), h.a, h.r, tea.WithInput(in), tea.WithOutput(io.Discard))
	keys.Close()
	if !errors.Is(err, ErrAborted) || !strings.Contains(err.Error(), "cutover resume "+rp.d.journalPath()) {
		t.Fatalf("after a panic: %v", err)
	}
	select {
	case <-rp.d.stopped:
	default:
		t.Fatal("the run was not stopped after the panic")
	}
	st := readJournal(t, rp.d.journalPath())
	if st.Ended || st.Current() == nil || st.Current().ID() != "install-fresh" {
		t.Fatalf("journal after the panic: ended %v, current %v", st.Ended, st.Current())
	}
	if st.Step("install-fresh").ActionPending {
		t.Fatal("an action is left of unknown outcome")
	}
}
