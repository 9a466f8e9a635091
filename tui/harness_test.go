package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/steps/golden"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/cutover/cutover/probe/inventory"
	"github.com/cutover/cutover/probe/lab"
	"github.com/cutover/cutover/probe/lab/labtest"
	"github.com/cutover/cutover/probe/sshx"
	"github.com/cutover/cutover/runbooks"
	"github.com/cutover/cutover/steps"
	"github.com/cutover/cutover/steps/journal"
)

// goldenDir is resolved before any test changes the working folder.
var goldenDir, _ = filepath.Abs(filepath.Join("..", "testdata", "tui"))

// harness drives the wizard as Bubble Tea would: one goroutine (the test's) calls
// Update and View; every command runs in a goroutine of its own and its message comes
// back through msgs. Batches are expanded and sequences run in order, as the program
// does. Spinner ticks and cursor blinks are dropped, so views are stable.
type harness struct {
	t    *testing.T
	a    *app
	r    *root
	msgs chan tea.Msg
	quit bool
	// wg counts commands still running, so the test can wait for them at the end.
	wg sync.WaitGroup
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	if cfg.ProbeEvery == 0 {
		cfg.ProbeEvery = time.Hour // no background probing in tests unless asked for
	}
	if cfg.Catalog == nil {
		cfg.Catalog = catalog(t)
	}
	if cfg.JournalDir == "" {
		cfg.JournalDir = filepath.Join(t.TempDir(), "journals")
	}
	dirs := journal.FoldersFor(cfg.JournalDir, cfg.LabDir)
	cfg.LabDir, cfg.RunsDir = dirs.Lab, dirs.Runs
	if cfg.Dialer == nil {
		cfg.Dialer = &sshx.Dialer{NoAgent: true}
	}
	if cfg.StartLab == nil && cfg.Inventory == nil {
		cfg.StartLab = testStartLab(cfg.LabDir)
		if sc, err := runbooks.Scenario("maestro", time.Now()); err == nil {
			cfg.LabOffer = sc.Title
		}
	}
	a := newApp(cfg, true)
	h := &harness{t: t, a: a, msgs: make(chan tea.Msg, 1024)}
	h.r = newRoot(a, firstPage(a))
	t.Cleanup(h.close)
	h.dispatch(h.r.Init())
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	return h
}

// close stops a run the test left open (the journal is closed and connections dropped)
// and the in-process lab, if one was started.
func (h *harness) close() {
	if d := h.a.active; d != nil {
		d.stop()
	}
	h.a.close()
}

// catalog is what the tests offer: move-hub, and a second runbook so the filter has
// something to leave out. A fixed list keeps the screens stable as runbooks are added.
func catalog(t testing.TB) []*steps.Runbook {
	t.Helper()
	hub, err := runbooks.Get("maestro/move-hub")
	if err != nil {
		t.Fatal(err)
	}
	other, err := steps.Parse("other.yaml", []byte(otherRunbook))
	if err != nil {
		t.Fatal(err)
	}
	return []*steps.Runbook{other, hub}
}

const otherRunbook = `id: communigate/failover
title: Fail over a CommuniGate Pro cluster to its standby
system: CommuniGate Pro
source: a test
roles:
  - id: primary
    title: The active server
steps:
  - id: look
    title: Look at the primary
    manual: true
    text: Look.
`

// dispatch runs a command the way the program does: in a goroutine. A command that
// answers at once (opening a page, quitting) has its message handled before dispatch
// returns, so a test can look at the result of a key without waiting; one that waits
// (I/O, an engine call) delivers through msgs, for pump.
func (h *harness) dispatch(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	done := make(chan tea.Msg, 1)
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		done <- cmd()
	}()
	select {
	case msg := <-done:
		h.deliverNow(msg)
	case <-time.After(5 * time.Millisecond):
		go func() { h.deliver(<-done) }()
	}
}

// deliverNow handles a message at once, in the test's goroutine.
func (h *harness) deliverNow(msg tea.Msg) {
	switch m := msg.(type) {
	case nil, spinner.TickMsg:
		return
	case tea.BatchMsg:
		for _, c := range m {
			h.dispatch(c)
		}
		return
	}
	if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Name() == "sequenceMsg" {
		go h.deliver(msg) // its commands may wait: run them in order, elsewhere
		return
	}
	if strings.Contains(reflect.TypeOf(msg).PkgPath(), "bubbles/v2/cursor") {
		return
	}
	h.send(msg)
}

// deliver expands batches and sequences and passes everything else to the model
// through msgs. It runs in command goroutines, never in the test's.
func (h *harness) deliver(msg tea.Msg) {
	switch m := msg.(type) {
	case nil:
		return
	case tea.BatchMsg:
		// Not dispatch: this runs outside the test's goroutine and must not touch the
		// model; every message goes through msgs.
		for _, c := range m {
			if c != nil {
				h.wg.Add(1)
				go func() {
					defer h.wg.Done()
					h.deliver(c())
				}()
			}
		}
		return
	case spinner.TickMsg:
		return // frozen spinner: stable views
	}
	if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Name() == "sequenceMsg" {
		// tea.Sequence: run in order, each message delivered before the next runs.
		for i := range v.Len() {
			c, _ := v.Index(i).Interface().(tea.Cmd)
			if c != nil {
				h.deliver(c())
			}
		}
		return
	}
	if strings.Contains(reflect.TypeOf(msg).PkgPath(), "bubbles/v2/cursor") {
		return // cursor blinks
	}
	h.msgs <- msg
}

// send gives one message to the model and runs the command it returns.
func (h *harness) send(msg tea.Msg) {
	h.t.Helper()
	if _, ok := msg.(tea.QuitMsg); ok {
		h.quit = true
		return
	}
	_, cmd := h.r.Update(msg)
	h.dispatch(cmd)
	h.r.View() // the program draws after every update; pages size themselves there
}

// pump feeds messages to the model until cond holds or the deadline passes.
func (h *harness) pump(what string, timeout time.Duration, cond func() bool) {
	h.t.Helper()
	deadline := time.After(timeout)
	for !cond() {
		select {
		case msg := <-h.msgs:
			h.send(msg)
		case <-deadline:
			h.t.Fatalf("timed out after %s waiting for %s; the screen:\n%s", timeout, what, h.view())
		}
	}
}

// settle feeds messages until none has come for a short while: for commands that
// finish at once (opening a page), not for I/O.
func (h *harness) settle() {
	h.t.Helper()
	for {
		select {
		case msg := <-h.msgs:
			h.send(msg)
		case <-time.After(30 * time.Millisecond):
			return
		}
	}
}

// waitView waits until the screen shows every one of texts.
func (h *harness) waitView(timeout time.Duration, texts ...string) {
	h.t.Helper()
	h.pump(fmt.Sprintf("the screen to show %q", texts), timeout, func() bool {
		v := h.view()
		for _, s := range texts {
			if !strings.Contains(v, s) {
				return false
			}
		}
		return true
	})
}

// waitWords waits until the screen shows every one of texts with the screen's line
// breaks and padding read as single spaces: for prose a page wraps at its width.
func (h *harness) waitWords(timeout time.Duration, texts ...string) {
	h.t.Helper()
	h.pump(fmt.Sprintf("the screen to show the words %q", texts), timeout, func() bool {
		v := strings.Join(strings.Fields(h.view()), " ")
		for _, s := range texts {
			if !strings.Contains(v, s) {
				return false
			}
		}
		return true
	})
}

// burst presses keys as they come in one read from the terminal: every key is handled
// before any command they started has answered.
func (h *harness) burst(names ...string) {
	h.t.Helper()
	var cmds []tea.Cmd
	for _, n := range names {
		_, cmd := h.r.Update(keyMsg(n))
		cmds = append(cmds, cmd)
	}
	for _, c := range cmds {
		if c != nil {
			go func() { h.deliver(c()) }()
		}
	}
	h.settle()
}

// waitQuit waits for the program to be told to quit.
func (h *harness) waitQuit() {
	h.t.Helper()
	h.pump("the program to quit", wait, func() bool { return h.quit })
}

// key presses one key, given as Bubble Tea names it ("enter", "ctrl+c", "a"), and
// lets instant commands settle.
func (h *harness) key(names ...string) {
	h.t.Helper()
	for _, n := range names {
		h.send(keyMsg(n))
		h.settle()
	}
}

// typeText types text into whatever has focus.
func (h *harness) typeText(s string) {
	h.t.Helper()
	for _, r := range s {
		h.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	h.settle()
}

func keyMsg(name string) tea.KeyPressMsg {
	special := map[string]rune{
		"enter": tea.KeyEnter, "esc": tea.KeyEscape, "tab": tea.KeyTab, "up": tea.KeyUp, "down": tea.KeyDown,
		"left": tea.KeyLeft, "right": tea.KeyRight, "pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown,
		"home": tea.KeyHome, "end": tea.KeyEnd, "backspace": tea.KeyBackspace, "space": tea.KeySpace,
	}
	if name == "shift+tab" {
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	}
	if c, ok := special[name]; ok {
		return tea.KeyPressMsg{Code: c}
	}
	if rest, ok := strings.CutPrefix(name, "ctrl+"); ok {
		return tea.KeyPressMsg{Code: []rune(rest)[0], Mod: tea.ModCtrl}
	}
	r := []rune(name)
	if len(r) != 1 {
		panic("keyMsg: unknown key " + name)
	}
	if r[0] >= 'A' && r[0] <= 'Z' {
		return tea.KeyPressMsg{Code: r[0] + 'a' - 'A', ShiftedCode: r[0], Text: name, Mod: tea.ModShift}
	}
	return tea.KeyPressMsg{Code: r[0], Text: name}
}

// view is the screen as plain text.
func (h *harness) view() string { return ansi.Strip(h.r.View().Content) }

// resize changes the terminal size.
func (h *harness) resize(w, ht int) { h.send(tea.WindowSizeMsg{Width: w, Height: ht}) }

// top is the page on top.
func (h *harness) top() page { return h.r.top() }

// checkFrame asserts the frame invariants: exactly the terminal's height, no line wider
// than its width, and the help bar on the last line.
func (h *harness) checkFrame(w, ht int) {
	h.t.Helper()
	lines := strings.Split(h.r.View().Content, "\n")
	if len(lines) != ht {
		h.t.Errorf("the frame has %d lines, want %d:\n%s", len(lines), ht, h.view())
	}
	for i, l := range lines {
		if lw := ansi.StringWidth(l); lw > w {
			h.t.Errorf("line %d is %d cells wide, more than %d: %q", i+1, lw, w, ansi.Strip(l))
		}
	}
}

// labHarness starts the maestro lab in process (with faults) and the wizard on its
// inventory, and waits for the first probe.
func labHarness(t *testing.T, faults ...string) (*harness, *lab.Lab) {
	t.Helper()
	l := serveLab(t, faults...)
	inv, err := inventory.Load(l.Inventory())
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Config{Inventory: inv})
	h.waitView(30*time.Second, "probed at")
	return h, l
}

// testStartLab starts the maestro lab in dir as the command line's StartLab does, with
// the lab's run files.
func testStartLab(dir string) func() (*Lab, error) {
	return func() (*Lab, error) {
		sc, err := runbooks.Scenario("maestro", time.Now())
		if err != nil {
			return nil, err
		}
		l, err := lab.Setup(dir, sc, lab.Options{})
		if err != nil {
			return nil, err
		}
		go func() { _ = l.Serve(context.Background()) }()
		inv, err := inventory.Load(l.Inventory())
		if err != nil {
			_ = l.Close()
			return nil, err
		}
		runs := map[string]*steps.RunFile{}
		for _, r := range sc.Runs {
			if rf, err := steps.LoadRunFile(l.RunFile(r.Runbook)); err == nil {
				runs[r.Runbook] = rf
			}
		}
		return &Lab{Inventory: inv, Scenario: sc.Title, Runs: runs, Close: l.Close}, nil
	}
}

func serveLab(t *testing.T, faults ...string) *lab.Lab {
	t.Helper()
	sc, err := runbooks.Scenario("maestro", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return labtest.Serve(t, sc, lab.Options{Faults: faults})
}

// golden compares the screen with testdata/tui/NAME.golden (rewritten with -update).
// Volatile text (times, temporary paths, ports, clock offsets) is normalised first.
func (h *harness) golden(name string) {
	h.t.Helper()
	h.checkFrame(80, 24)
	got := normalize(h.view()) + "\n"
	golden.Check(h.t, filepath.Join(goldenDir, name+".golden"), got)
}

var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`probed at \d\d:\d\d:\d\d`), "probed at HH:MM:SS"},
	{regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`), "YYYY-MM-DD HH:MM:SS"},
	{regexp.MustCompile(`\d{8}T\d{6}Z-[0-9a-f]{6}\b`), "RUNID"},
	{regexp.MustCompile(`\d{8}T\d{6}Z(-\d+)?`), "YYYYMMDDTHHMMSSZ"},
	{regexp.MustCompile(`\b20\d{6}\b`), "YYYYMMDD"},
	{regexp.MustCompile(`clock [+-]\d+ms`), "clock +0ms"},
	{regexp.MustCompile(`127\.0\.0\.1:\d+`), "127.0.0.1:PORT"},
	{regexp.MustCompile(`\b\d+(\.\d+)?(ms|s)\b`), "Ns"},
	{regexp.MustCompile(`\b(in|after) \d+m\d+s\b`), "$1 Ns"},
	{regexp.MustCompile(`by [^\s;]+@[^\s;]+`), "by USER@HOST"},
	{regexp.MustCompile(regexp.QuoteMeta(os.TempDir()) + `/\S*`), "<tmp>"},
	{regexp.MustCompile(` +\n`), "\n"},
}

func normalize(s string) string {
	for _, v := range volatile {
		s = v.re.ReplaceAllString(s, v.with)
	}
	return s
}

func stripANSI(s string) string { return ansi.Strip(s) }
